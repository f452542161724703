"""Mechanical combination of answer scores into competency and overall scores with standard errors.

Scores are on the 0–1 scale of `AnswerScore.score`. A competency's score is the mean of its
scored answers (weighted by confidence when asked), and its standard error pools the answers'
spread with a prior per-answer error so that one answer, or two that happen to agree, never
claim certainty. The overall score weights competencies by the template's weights.
Insufficient-evidence answers are counted but never averaged in as zeros.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codesage.agents.answer_score import AnswerScore
from codesage.agents.template import InterviewTemplate


@dataclass(frozen=True)
class AggregationSettings:
    """How answers are combined."""

    weight_by_confidence: bool = True
    min_answer_weight: float = 0.1
    """Floor on a confidence weight, so a low-confidence answer still counts a little."""
    answer_error: float = 0.2
    """Prior standard deviation of one answer's score around the candidate's true score (0–1
    scale); about the scorer's per-answer error on benchmarks/scoring_eval.py (~0.7 level)."""
    prior_answers: float = 1.0
    """How many answers' worth of weight the prior error carries against the observed spread."""


@dataclass(frozen=True)
class ScoredAnswer:
    """One answer's score, tagged with the question and the competency it measures."""

    question_id: str
    competency: str
    score: AnswerScore


@dataclass(frozen=True)
class CompetencyScore:
    """A competency's combined score, or insufficient evidence when no answer could be scored."""

    competency: str
    weight: float
    score: float | None
    standard_error: float | None
    answers_scored: int
    answers_insufficient: int

    @property
    def insufficient_evidence(self) -> bool:
        """True when no answer for this competency had a score."""
        return self.score is None

    @property
    def level(self) -> float | None:
        """The score on the 1–5 rubric scale."""
        return None if self.score is None else 1 + 4 * self.score


@dataclass(frozen=True)
class InterviewScore:
    """The overall score over the competencies that have evidence, and which ones lack it."""

    score: float | None
    standard_error: float | None
    competencies: tuple[CompetencyScore, ...]
    weight_covered: float
    """Share of the total competency weight that had scored answers (1.0 = all)."""

    @property
    def insufficient_evidence(self) -> bool:
        """True when no competency had a scored answer."""
        return self.score is None

    @property
    def competencies_without_evidence(self) -> tuple[str, ...]:
        """Ids of competencies reported as insufficient evidence."""
        return tuple(c.competency for c in self.competencies if c.insufficient_evidence)


def combine_competency(
    competency: str,
    scores: Sequence[AnswerScore],
    weight: float = 1.0,
    settings: AggregationSettings | None = None,
) -> CompetencyScore:
    """Weighted mean and standard error of one competency's scored answers."""
    settings = settings if settings is not None else AggregationSettings()
    scored = [s for s in scores if not s.insufficient_evidence and s.score is not None]
    insufficient = len(scores) - len(scored)
    if not scored:
        return CompetencyScore(competency, weight, None, None, 0, insufficient)
    values = [s.score for s in scored if s.score is not None]
    weights = [
        max(settings.min_answer_weight, s.confidence) if settings.weight_by_confidence else 1.0
        for s in scored
    ]
    total = sum(weights)
    mean = sum(w * v for w, v in zip(weights, values, strict=True)) / total
    # Kish's effective sample size: unequal weights carry less information than equal ones.
    effective_n = total**2 / sum(w * w for w in weights)
    spread = sum(w * (v - mean) ** 2 for w, v in zip(weights, values, strict=True)) / total
    sample_variance = spread * effective_n / (effective_n - 1) if effective_n > 1 else 0.0
    prior_variance = settings.answer_error**2
    observed = max(0.0, effective_n - 1)
    variance = (settings.prior_answers * prior_variance + observed * sample_variance) / (
        settings.prior_answers + observed
    )
    return CompetencyScore(
        competency=competency,
        weight=weight,
        score=mean,
        standard_error=math.sqrt(variance / effective_n),
        answers_scored=len(scored),
        answers_insufficient=insufficient,
    )


def combine_competencies(competencies: Sequence[CompetencyScore]) -> InterviewScore:
    """Weight competency scores into one; competencies without evidence are left out."""
    with_evidence = [
        c for c in competencies if c.score is not None and c.standard_error is not None
    ]
    all_weight = sum(c.weight for c in competencies)
    if not with_evidence:
        return InterviewScore(None, None, tuple(competencies), 0.0)
    total = sum(c.weight for c in with_evidence)
    score = sum(c.weight * (c.score or 0.0) for c in with_evidence) / total
    # Competencies are measured by different answers, so their errors add independently.
    variance = sum((c.weight / total) ** 2 * (c.standard_error or 0.0) ** 2 for c in with_evidence)
    return InterviewScore(
        score=score,
        standard_error=math.sqrt(variance),
        competencies=tuple(competencies),
        weight_covered=total / all_weight if all_weight > 0 else 0.0,
    )


def score_interview(
    template: InterviewTemplate,
    answers: Sequence[ScoredAnswer],
    settings: AggregationSettings | None = None,
) -> InterviewScore:
    """Every template competency's score (insufficient when unasked or unscored) and the total."""
    known = {c.id for c in template.competencies}
    unknown = sorted({a.competency for a in answers} - known)
    if unknown:
        raise ValueError(f"answers name competencies not in template {template.slug!r}: {unknown}")
    competencies = [
        combine_competency(
            competency.id,
            [a.score for a in answers if a.competency == competency.id],
            competency.weight,
            settings,
        )
        for competency in template.competencies
    ]
    return combine_competencies(competencies)


def combine_answer_scores(
    template: InterviewTemplate,
    answers: Sequence[Mapping[str, Any]],
    settings: AggregationSettings | None = None,
) -> dict[str, Any]:
    """The API's JSON form from `score` event payloads: per-competency rows and the overall.

    Each payload needs `question_id`, `score`, `confidence` and `insufficient_evidence`, and
    `competency` unless the template knows the question. Answers to questions or competencies
    the template does not know are left out and counted in `overall`'s `answers_ignored`.
    """
    known = {c.id for c in template.competencies}
    by_question = {q.id: q.competency for q in template.questions}
    scored: list[ScoredAnswer] = []
    ignored = 0
    for payload in answers:
        competency = payload.get("competency") or by_question.get(str(payload.get("question_id")))
        if competency not in known:
            ignored += 1
            continue
        value = payload.get("score")
        insufficient = bool(payload.get("insufficient_evidence")) or value is None
        score = AnswerScore(
            level=payload.get("level"),
            score=None if insufficient or value is None else float(value),
            confidence=float(payload.get("confidence") or 0.0),
            insufficient_evidence=insufficient,
        )
        scored.append(ScoredAnswer(str(payload.get("question_id")), str(competency), score))
    result = score_interview(template, scored, settings)
    names = {c.id: c.name for c in template.competencies}
    competencies = [
        {
            "id": c.competency,
            "name": names[c.competency],
            "weight": c.weight,
            "score": c.score,
            "level": c.level,
            "standard_error": c.standard_error,
            "answered": c.answers_scored + c.answers_insufficient,
            "scored": c.answers_scored,
            "insufficient_answers": c.answers_insufficient,
            "insufficient": c.insufficient_evidence,
        }
        for c in result.competencies
    ]
    overall = (
        None
        if result.score is None
        else {
            "score": result.score,
            "level": 1 + 4 * result.score,
            "standard_error": result.standard_error,
            "weight_covered": result.weight_covered,
            "competencies_without_evidence": list(result.competencies_without_evidence),
            "answers_ignored": ignored,
        }
    )
    return {"competencies": competencies, "overall": overall}
