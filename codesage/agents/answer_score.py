"""What scoring one answer yields, and the protocol every answer scorer follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from codesage.agents.template import Rubric


@dataclass(frozen=True)
class EvidenceSpan:
    """A character span `[start, end)` of the answer supporting the score."""

    start: int
    end: int
    indicator: str | None
    """The rubric indicator or anchor this span matched, if any."""
    similarity: float


@dataclass(frozen=True)
class AnswerScore:
    """A level 1–5 and a 0–1 score with confidence and evidence, or insufficient evidence."""

    level: int | None
    score: float | None
    confidence: float
    insufficient_evidence: bool
    evidence: tuple[EvidenceSpan, ...] = ()
    matched_indicators: tuple[str, ...] = ()
    missing_indicators: tuple[str, ...] = ()
    reason: str | None = None
    """Why evidence is insufficient (empty, too short, off-topic, garbled), for humans."""
    details: dict[str, float] = field(default_factory=dict)


class AnswerScorer(Protocol):
    """Scores one answer text against a question's rubric (blocking; run it in an executor)."""

    def score(self, question: str, answer: str, rubric: Rubric) -> AnswerScore: ...
