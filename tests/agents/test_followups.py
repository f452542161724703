"""Follow-up probes: fire on vague answers only, at most N per question, sensible text."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from codesage.agents.answer_score import AnswerScore
from codesage.agents.followups import (
    GENERIC_PROBE,
    FollowUpPlanner,
    FollowUpRules,
    answer_is_vague,
    indicator_topic,
    probe_for_indicator,
)
from codesage.agents.template import Question

INDICATORS = ["Mentions idempotency keys", "Explains retries with backoff."]


def make_question(follow_ups: Sequence[str] = ()) -> Question:
    return Question.model_validate(
        {
            "id": "payments",
            "text": "How would you make a payment API safe to retry?",
            "competency": "design",
            "difficulty": 3,
            "follow_ups": list(follow_ups),
            "rubric": {"reference_answer": "Idempotency keys.", "key_indicators": INDICATORS},
        }
    )


def make_score(
    level: int | None,
    *,
    missing: Sequence[str] = (),
    confidence: float = 0.9,
    reason: str | None = None,
) -> AnswerScore:
    return AnswerScore(
        level=level,
        score=None if level is None else (level - 1) / 4,
        confidence=confidence,
        insufficient_evidence=level is None,
        matched_indicators=tuple(i for i in INDICATORS if i not in missing),
        missing_indicators=tuple(missing),
        reason=reason,
    )


def test_vague_partial_answers_get_the_template_follow_up() -> None:
    planner = FollowUpPlanner(2)
    question = make_question(["What happens if the client retries?", "And on timeouts?"])

    probe = planner.next_follow_up(question, make_score(2, missing=INDICATORS[:1]), [])

    assert probe == "What happens if the client retries?"


def test_strong_complete_answers_get_no_follow_up() -> None:
    planner = FollowUpPlanner(2)

    assert planner.next_follow_up(make_question(["Why?"]), make_score(5), []) is None
    assert planner.next_follow_up(make_question(["Why?"]), make_score(4), []) is None


def test_a_confident_level_four_with_a_gap_is_not_vague() -> None:
    assert not answer_is_vague(make_score(4, missing=INDICATORS[1:]))
    assert answer_is_vague(make_score(3, missing=INDICATORS[1:]))
    assert not answer_is_vague(make_score(3))


def test_low_confidence_and_insufficient_evidence_are_vague() -> None:
    assert answer_is_vague(make_score(5, confidence=0.2))
    assert answer_is_vague(make_score(None, reason="too short"))
    assert not answer_is_vague(make_score(5, confidence=0.2), FollowUpRules(min_confidence=0.1))


def test_at_most_the_allowed_number_of_follow_ups_per_question() -> None:
    question = make_question(["First probe?", "Second probe?", "Third probe?"])
    vague = make_score(2, missing=INDICATORS)

    asked: list[str] = []
    planner = FollowUpPlanner(2)
    while (probe := planner.next_follow_up(question, vague, asked)) is not None:
        asked.append(probe)

    assert asked == ["First probe?", "Second probe?"]
    assert FollowUpPlanner(0).next_follow_up(question, vague, []) is None


def test_without_template_follow_ups_the_probe_names_the_first_missing_indicator() -> None:
    planner = FollowUpPlanner(3)
    vague = make_score(2, missing=INDICATORS)

    first = planner.next_follow_up(make_question(), vague, [])
    second = planner.next_follow_up(make_question(), vague, [first or ""])

    assert first == "Could you say more about idempotency keys?"
    assert second == "Could you say more about retries with backoff?"


def test_generated_probes_follow_used_up_template_ones() -> None:
    planner = FollowUpPlanner(2)
    vague = make_score(1, missing=INDICATORS[1:])

    probe = planner.next_follow_up(make_question(["Why?"]), vague, ["Why?"])

    assert probe == "Could you say more about retries with backoff?"


def test_generic_probe_when_nothing_specific_is_missing_and_only_once() -> None:
    planner = FollowUpPlanner(3)
    unsure = make_score(4, confidence=0.3)

    assert planner.next_follow_up(make_question(), unsure, []) == GENERIC_PROBE
    assert planner.next_follow_up(make_question(), unsure, [GENERIC_PROBE]) is None


class ScriptedWriter:
    """A FollowUpWriter that always proposes the same probe (stands in for an LLM writer)."""

    def __init__(self, probe: str) -> None:
        self.probe = probe

    def write(self, question: Question, score: AnswerScore, asked: Sequence[str]) -> str | None:
        return self.probe


def test_a_custom_writer_replaces_the_rule_based_probe_but_not_template_ones() -> None:
    planner = FollowUpPlanner(2, writer=ScriptedWriter("Tell me about the database side."))
    vague = make_score(2, missing=INDICATORS)

    assert planner.next_follow_up(make_question(["Why?"]), vague, []) == "Why?"
    assert planner.next_follow_up(make_question(), vague, []) == "Tell me about the database side."
    # A writer repeating an earlier probe must not make the interviewer repeat itself.
    assert (
        planner.next_follow_up(make_question(), vague, ["Tell me about the database side."]) is None
    )


@pytest.mark.parametrize(
    ("indicator", "topic"),
    [
        ("Mentions idempotency keys", "idempotency keys"),
        ("Explains retries with backoff.", "retries with backoff"),
        ("SQL transactions", "SQL transactions"),
        (
            "Trade-offs between consistency and latency",
            "trade-offs between consistency and latency",
        ),
        ("Mentions", "mentions"),
    ],
)
def test_indicator_topics_read_naturally(indicator: str, topic: str) -> None:
    assert indicator_topic(indicator) == topic
    assert probe_for_indicator(indicator) == f"Could you say more about {topic}?"
