"""Practice-mode hints: graded from nudge to strongest, aimed at what the answer missed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from codesage.agents.template import Hint, Question

InterviewMode = Literal["real", "practice"]


class HintsNotAllowed(Exception):
    """A hint was requested in a real interview, where hints must never appear."""


@dataclass(frozen=True)
class HintGiven:
    """A hint the candidate took, kept for display beside the question's score."""

    question_id: str
    text: str
    strength: int
    indicator: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for checkpoints and reports."""
        return {
            "question_id": self.question_id,
            "text": self.text,
            "strength": self.strength,
            "indicator": self.indicator,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HintGiven:
        """Inverse of `to_dict`."""
        return cls(
            question_id=str(data["question_id"]),
            text=str(data["text"]),
            strength=int(data["strength"]),
            indicator=None if data.get("indicator") is None else str(data["indicator"]),
        )


class HintPolicy:
    """Chooses the next hint for a question; refuses outright in a real interview."""

    def __init__(self, mode: InterviewMode) -> None:
        self._mode: InterviewMode = mode

    @property
    def allowed(self) -> bool:
        """Whether hints may be given at all (practice mode only)."""
        return self._mode == "practice"

    def ensure_allowed(self) -> None:
        """Raise HintsNotAllowed unless this is a practice interview."""
        if not self.allowed:
            raise HintsNotAllowed("hints are only available in practice mode, never in a real one")

    def next_hint(
        self,
        question: Question,
        given: Sequence[HintGiven],
        missing_indicators: Sequence[str] = (),
    ) -> HintGiven | None:
        """The weakest untaken hint for the first missing indicator that has one, else the
        weakest untaken hint overall; None when all were taken. Raises HintsNotAllowed if real.
        """
        self.ensure_allowed()
        taken = {hint.text for hint in given if hint.question_id == question.id}
        # sorted() is stable, so hints of equal strength keep their template order.
        remaining = sorted(
            (hint for hint in question.hints if hint.text not in taken),
            key=lambda hint: hint.strength,
        )
        for indicator in missing_indicators:
            for hint in remaining:
                if hint.indicator == indicator:
                    return _given(question.id, hint)
        return _given(question.id, remaining[0]) if remaining else None


def _given(question_id: str, hint: Hint) -> HintGiven:
    return HintGiven(question_id, hint.text, hint.strength, hint.indicator)
