"""Adaptive question selection: per-competency GRM ability, most informative next question."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from codesage.agents.irt import (
    AbilityEstimate,
    GradedItem,
    estimate_ability,
    item_from_difficulty,
    item_information,
)
from codesage.agents.template import InterviewTemplate, Question


class StopReason(StrEnum):
    """Why a competency or the whole interview stopped asking questions."""

    TARGET_STANDARD_ERROR = "target_standard_error"
    QUESTION_BUDGET = "question_budget"
    QUESTIONS_EXHAUSTED = "questions_exhausted"
    TIME_BUDGET = "time_budget"
    ALL_COMPETENCIES_STOPPED = "all_competencies_stopped"


@dataclass(frozen=True)
class CompetencyStatus:
    """A competency's current estimate, questions used and, once stopped, why."""

    competency_id: str
    estimate: AbilityEstimate
    questions_asked: int
    insufficient_answers: int
    stop_reason: StopReason | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for reports."""
        return {
            "competency_id": self.competency_id,
            "estimate": self.estimate.to_dict(),
            "questions_asked": self.questions_asked,
            "insufficient_answers": self.insufficient_answers,
            "stop_reason": None if self.stop_reason is None else self.stop_reason.value,
        }


def normalise_skill(skill: str) -> str:
    """Case- and spacing-insensitive form used to match resume skills to question skills."""
    return " ".join(skill.lower().split())


class AdaptiveSelector:
    """Picks each next question by GRM information, balancing competencies by uncertainty.

    The competency with the largest standard error goes first (ties: fewer questions asked,
    then template order), which starts as round-robin and then spends questions where the
    estimate is least certain. Within it, the unasked question with the most information at
    the current estimate wins; questions probing a priority skill get their information
    multiplied by `1 + priority_boost`.
    """

    def __init__(
        self,
        template: InterviewTemplate,
        *,
        priority_skills: Iterable[str] = (),
        items: Mapping[str, GradedItem] | None = None,
        priority_boost: float = 0.1,
    ) -> None:
        self._template = template
        self._priority_skills = tuple(sorted({normalise_skill(s) for s in priority_skills}))
        # GRM information curves are broad (difficulty 3 vs 5 differ by ~12 % at θ = 0), so a
        # 10 % default boost only reorders nearly equally informative questions.
        self._priority_boost = priority_boost
        calibrated = items or {}
        self._items = {
            q.id: calibrated.get(q.id) or item_from_difficulty(q.difficulty, q.discrimination)
            for q in template.questions
        }
        self._asked: list[str] = []
        # None marks an insufficient-evidence answer: asked, scored, but without a level.
        self._levels: dict[str, int | None] = {}

    @property
    def template(self) -> InterviewTemplate:
        """The template whose questions this selector chooses from."""
        return self._template

    @property
    def priority_skills(self) -> tuple[str, ...]:
        """Normalised skills (e.g. from a resume) that boost matching questions."""
        return self._priority_skills

    @property
    def asked(self) -> tuple[str, ...]:
        """Ids of questions asked so far, in order."""
        return tuple(self._asked)

    def item(self, question_id: str) -> GradedItem:
        """The GRM parameters used for this question."""
        return self._items[question_id]

    def level(self, question_id: str) -> int | None:
        """The recorded level (None if unanswered or insufficient evidence)."""
        return self._levels.get(question_id)

    def mark_asked(self, question_id: str) -> None:
        """Record that the question was put to the candidate (it counts against budgets)."""
        self._template.question(question_id)
        if question_id in self._asked:
            raise ValueError(f"question {question_id!r} was already asked")
        self._asked.append(question_id)

    def record_level(self, question_id: str, level: int | None) -> None:
        """Set the answer's level 1–5, or None for insufficient evidence; a re-score replaces it.

        Insufficient evidence does not move the ability: an empty or garbled transcript says
        nothing about competence (a failed microphone is not a level-1 answer), so scoring it
        as the lowest category would bias estimates against candidates with poor audio. It
        still uses up one of the competency's questions, which keeps the interview finite.
        """
        if question_id not in self._asked:
            raise ValueError(f"question {question_id!r} was not asked")
        if level is not None and not 1 <= level <= 5:
            raise ValueError(f"level must be 1–5 or None, got {level}")
        self._levels[question_id] = level

    def estimate(self, competency_id: str) -> AbilityEstimate:
        """EAP ability and standard error from the competency's answered levels."""
        responses = [
            (self._items[question_id], level)
            for question_id, level in self._levels.items()
            if level is not None and self._competency_of(question_id) == competency_id
        ]
        return estimate_ability(responses)

    def status(self, competency_id: str) -> CompetencyStatus:
        """Estimate, counts and stop reason (None while still open) of one competency."""
        estimate = self.estimate(competency_id)
        asked = [q for q in self._asked if self._competency_of(q) == competency_id]
        insufficient = sum(1 for q in asked if q in self._levels and self._levels[q] is None)
        stop_reason: StopReason | None = None
        if estimate.standard_error <= self._template.target_standard_error:
            stop_reason = StopReason.TARGET_STANDARD_ERROR
        elif len(asked) >= self._template.max_questions_per_competency:
            stop_reason = StopReason.QUESTION_BUDGET
        elif not self._unasked(competency_id):
            stop_reason = StopReason.QUESTIONS_EXHAUSTED
        return CompetencyStatus(competency_id, estimate, len(asked), insufficient, stop_reason)

    def statuses(self) -> list[CompetencyStatus]:
        """`status` of every competency, in template order."""
        return [self.status(c.id) for c in self._template.competencies]

    def stop_reason(self, elapsed_s: float) -> StopReason | None:
        """Why the interview must stop now, or None if another question may be asked."""
        if elapsed_s >= self._template.time_budget_minutes * 60:
            return StopReason.TIME_BUDGET
        if all(s.stop_reason is not None for s in self.statuses()):
            return StopReason.ALL_COMPETENCIES_STOPPED
        return None

    def choose_next(self, elapsed_s: float) -> Question | None:
        """The next question to ask, or None when the interview should stop (no side effects)."""
        if self.stop_reason(elapsed_s) is not None:
            return None
        order = {c.id: index for index, c in enumerate(self._template.competencies)}
        open_statuses = [s for s in self.statuses() if s.stop_reason is None]
        chosen = min(
            open_statuses,
            key=lambda s: (-s.estimate.standard_error, s.questions_asked, order[s.competency_id]),
        )
        theta = chosen.estimate.theta
        candidates = self._unasked(chosen.competency_id)
        # max() keeps the first of equal scores, so ties fall back to template order.
        return max(candidates, key=lambda q: self._selection_score(q, theta))

    def _selection_score(self, question: Question, theta: float) -> float:
        information = item_information(self._items[question.id], theta)
        if self._matches_priority(question):
            return information * (1.0 + self._priority_boost)
        return information

    def _matches_priority(self, question: Question) -> bool:
        wanted = set(self._priority_skills)
        return any(normalise_skill(skill) in wanted for skill in question.skills)

    def _unasked(self, competency_id: str) -> list[Question]:
        asked = set(self._asked)
        return [
            q
            for q in self._template.questions
            if q.competency == competency_id and q.id not in asked
        ]

    def _competency_of(self, question_id: str) -> str:
        return self._template.question(question_id).competency

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON state; item parameters are included so a restore uses the same ones."""
        return {
            "priority_skills": list(self._priority_skills),
            "priority_boost": self._priority_boost,
            "items": {question_id: item.to_dict() for question_id, item in self._items.items()},
            "asked": list(self._asked),
            "levels": dict(self._levels),
        }

    @classmethod
    def from_dict(cls, template: InterviewTemplate, data: Mapping[str, Any]) -> AdaptiveSelector:
        """Rebuild a selector saved by `to_dict` for the same template."""
        items = {
            question_id: GradedItem.from_dict(item) for question_id, item in data["items"].items()
        }
        selector = cls(
            template,
            priority_skills=data["priority_skills"],
            items=items,
            priority_boost=float(data["priority_boost"]),
        )
        for question_id in data["asked"]:
            selector.mark_asked(question_id)
        for question_id, level in data["levels"].items():
            selector.record_level(question_id, None if level is None else int(level))
        return selector
