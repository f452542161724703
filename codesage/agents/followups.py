"""Follow-up probes: when an answer deserves one, and what to ask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from codesage.agents.answer_score import AnswerScore
from codesage.agents.template import Question

# Indicators are often written as what the candidate does ("Mentions idempotency keys",
# "Chooses an eviction policy"); dropping that leading verb leaves a topic the probe can name.
_LEADING_VERBS = frozenset(
    {
        "acknowledges",
        "applies",
        "asks",
        "chooses",
        "compares",
        "considers",
        "covers",
        "defines",
        "demonstrates",
        "describes",
        "discusses",
        "distinguishes",
        "explains",
        "gives",
        "handles",
        "identifies",
        "justifies",
        "lists",
        "measures",
        "mentions",
        "names",
        "notes",
        "proposes",
        "provides",
        "quantifies",
        "recognises",
        "recognizes",
        "references",
        "shows",
        "states",
        "suggests",
        "uses",
        "weighs",
    }
)
GENERIC_PROBE = "Could you walk me through a concrete example of that?"


class FollowUpWriter(Protocol):
    """Writes a probe for an answer when the template's own follow-ups are used up."""

    def write(self, question: Question, score: AnswerScore, asked: Sequence[str]) -> str | None:
        """A new probe not among `asked`, or None if there is nothing worth asking."""
        ...


def indicator_topic(indicator: str) -> str:
    """The indicator as a noun phrase: reporting verb dropped, lower-cased, no final stop."""
    words = indicator.strip().rstrip(".!?;:").split()
    if len(words) > 1 and words[0].lower() in _LEADING_VERBS:
        words = words[1:]
    if words and not (len(words[0]) > 1 and words[0].isupper()):
        # Keep acronyms such as "SQL" intact; only sentence-case words are lowered.
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


def probe_for_indicator(indicator: str) -> str:
    """The rule-based probe text built from one missing key indicator."""
    return f"Could you say more about {indicator_topic(indicator)}?"


class RuleBasedFollowUpWriter:
    """Default writer: asks about the first missing indicator not yet probed, else a generic."""

    def write(self, question: Question, score: AnswerScore, asked: Sequence[str]) -> str | None:
        """A probe from the first unprobed missing indicator, else the generic probe once."""
        already = set(asked)
        for indicator in score.missing_indicators:
            probe = probe_for_indicator(indicator)
            if probe not in already:
                return probe
        return None if GENERIC_PROBE in already else GENERIC_PROBE


@dataclass(frozen=True)
class FollowUpRules:
    """When an answer counts as vague or partial enough to probe."""

    max_vague_level: int = 3
    """Answers at or below this level with missing key indicators get a probe."""
    min_confidence: float = 0.5
    """Scores less confident than this get a probe whatever their level."""


def answer_is_vague(score: AnswerScore, rules: FollowUpRules | None = None) -> bool:
    """True for insufficient evidence, low confidence, or a partial answer missing indicators."""
    rules = rules or FollowUpRules()
    # Every kind of insufficient evidence (too short, empty, off-topic, garbled) is better
    # resolved by asking again than by moving on with no evidence at all.
    if score.insufficient_evidence or score.level is None:
        return True
    if score.confidence < rules.min_confidence:
        return True
    return score.level <= rules.max_vague_level and bool(score.missing_indicators)


class FollowUpPlanner:
    """Decides whether to probe an answer and picks the probe text.

    The engine scores a follow-up answer together with the original one (it passes the
    concatenated answer text to the scorer), so every score given here is the question's
    latest cumulative score, and a question gets at most `max_per_question` probes.
    """

    def __init__(
        self,
        max_per_question: int,
        *,
        writer: FollowUpWriter | None = None,
        rules: FollowUpRules | None = None,
    ) -> None:
        self._max_per_question = max_per_question
        self._writer: FollowUpWriter = writer or RuleBasedFollowUpWriter()
        self._rules = rules or FollowUpRules()

    def next_follow_up(
        self,
        question: Question,
        score: AnswerScore,
        asked: Sequence[str],
        *,
        written: str | None = None,
    ) -> str | None:
        """The probe to ask after this (cumulative) score, given probes already `asked`.

        The template's own probes come first; then `written` (a probe drafted elsewhere, for
        instance by a language model), then the writer's.
        """
        if not self._wants_probe(score, asked):
            return None
        unused = [text for text in question.follow_ups if text not in asked]
        if unused:
            return unused[0]
        if written and written.strip() and written.strip() not in asked:
            return written.strip()
        probe = self._writer.write(question, score, asked)
        return probe if probe and probe not in asked else None

    def needs_written_probe(
        self, question: Question, score: AnswerScore, asked: Sequence[str]
    ) -> bool:
        """Whether the next probe has to be written because the template's are used up."""
        unused = [text for text in question.follow_ups if text not in asked]
        return self._wants_probe(score, asked) and not unused

    def _wants_probe(self, score: AnswerScore, asked: Sequence[str]) -> bool:
        return len(asked) < self._max_per_question and answer_is_vague(score, self._rules)
