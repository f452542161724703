"""Mechanical combination of answer scores: means, standard errors, weights, missing evidence."""

from __future__ import annotations

import math
from typing import Any

import pytest

from codesage.agents.aggregate import (
    AggregationSettings,
    ScoredAnswer,
    combine_answer_scores,
    combine_competencies,
    combine_competency,
    score_interview,
)
from codesage.agents.answer_score import AnswerScore
from codesage.agents.template import InterviewTemplate

EQUAL = AggregationSettings(weight_by_confidence=False, answer_error=0.2, prior_answers=1.0)


def scored(value: float, confidence: float = 1.0) -> AnswerScore:
    return AnswerScore(
        level=math.floor(1 + 4 * value + 0.5),
        score=value,
        confidence=confidence,
        insufficient_evidence=False,
    )


def insufficient(reason: str = "off-topic") -> AnswerScore:
    return AnswerScore(
        level=None, score=None, confidence=0.9, insufficient_evidence=True, reason=reason
    )


def test_one_answer_carries_the_prior_error() -> None:
    result = combine_competency("design", [scored(0.75)], settings=EQUAL)
    assert result.score == pytest.approx(0.75)
    assert result.level == pytest.approx(4.0)
    assert result.standard_error == pytest.approx(0.2)


def test_standard_error_pools_the_spread_with_the_prior() -> None:
    result = combine_competency("design", [scored(0.25), scored(0.75), scored(1.0)], settings=EQUAL)
    assert result.score == pytest.approx(2.0 / 3.0)
    sample_variance = ((0.25 - 2 / 3) ** 2 + (0.75 - 2 / 3) ** 2 + (1.0 - 2 / 3) ** 2) / 2
    pooled = (1.0 * 0.2**2 + 2 * sample_variance) / 3
    assert result.standard_error == pytest.approx(math.sqrt(pooled / 3))


def test_agreeing_answers_still_have_an_error() -> None:
    result = combine_competency("design", [scored(0.5)] * 4, settings=EQUAL)
    # Spread 0 pooled with the prior over 1 + 3 answers' worth of weight.
    assert result.standard_error == pytest.approx(math.sqrt((0.2**2 / 4) / 4))
    assert result.standard_error is not None and result.standard_error > 0


def test_more_answers_shrink_the_error() -> None:
    values = [0.25, 0.5, 0.75]
    few = combine_competency("design", [scored(v) for v in values], settings=EQUAL)
    many = combine_competency("design", [scored(v) for v in values * 4], settings=EQUAL)
    assert many.standard_error is not None and few.standard_error is not None
    assert many.standard_error < few.standard_error


def test_confidence_weights_the_mean() -> None:
    settings = AggregationSettings(weight_by_confidence=True, min_answer_weight=0.1)
    result = combine_competency("design", [scored(1.0, 0.9), scored(0.0, 0.3)], settings=settings)
    assert result.score == pytest.approx(0.9 / 1.2)
    floor = combine_competency("design", [scored(1.0, 0.9), scored(0.0, 0.0)], settings=settings)
    assert floor.score == pytest.approx(0.9 / 1.0)


def test_insufficient_answers_are_counted_not_averaged() -> None:
    result = combine_competency("design", [scored(0.75), insufficient(), insufficient("empty")])
    assert result.score == pytest.approx(0.75)
    assert result.answers_scored == 1
    assert result.answers_insufficient == 2


def test_a_competency_without_scored_answers_is_insufficient_not_zero() -> None:
    result = combine_competency("design", [insufficient(), insufficient()])
    assert result.insufficient_evidence
    assert result.score is None and result.standard_error is None and result.level is None
    assert result.answers_insufficient == 2


def test_overall_uses_competency_weights_and_skips_missing_ones() -> None:
    heavy = combine_competency("design", [scored(1.0)], weight=3.0, settings=EQUAL)
    light = combine_competency("testing", [scored(0.0)], weight=1.0, settings=EQUAL)
    missing = combine_competency("python", [insufficient()], weight=2.0, settings=EQUAL)
    overall = combine_competencies([heavy, light, missing])
    assert overall.score == pytest.approx(0.75)
    assert overall.standard_error == pytest.approx(math.sqrt((0.75 * 0.2) ** 2 + (0.25 * 0.2) ** 2))
    assert overall.weight_covered == pytest.approx(4.0 / 6.0)
    assert overall.competencies_without_evidence == ("python",)


def test_overall_without_any_evidence_is_insufficient() -> None:
    overall = combine_competencies([combine_competency("design", [insufficient()])])
    assert overall.insufficient_evidence
    assert overall.score is None and overall.standard_error is None


TEMPLATE = InterviewTemplate.model_validate(
    {
        "slug": "aggregate-test",
        "title": "Aggregate test",
        "role": "Engineer",
        "kind": "technical",
        "competencies": [
            {"id": "design", "name": "Design", "weight": 2.0},
            {"id": "testing", "name": "Testing", "weight": 1.0},
            {"id": "python", "name": "Python", "weight": 1.0},
        ],
        "questions": [
            {
                "id": f"q-{competency}",
                "text": f"A {competency} question?",
                "competency": competency,
                "difficulty": 2,
                "rubric": {"reference_answer": "A reference answer."},
            }
            for competency in ("design", "testing", "python")
        ],
    }
)


def test_interview_reports_every_template_competency() -> None:
    answers = [
        ScoredAnswer("q-design", "design", scored(0.5)),
        ScoredAnswer("q-testing", "testing", insufficient()),
    ]
    result = score_interview(TEMPLATE, answers, EQUAL)
    by_id = {c.competency: c for c in result.competencies}
    assert list(by_id) == ["design", "testing", "python"]
    assert by_id["design"].score == pytest.approx(0.5)
    assert by_id["testing"].insufficient_evidence and by_id["testing"].answers_insufficient == 1
    assert by_id["python"].insufficient_evidence and by_id["python"].answers_scored == 0
    assert result.score == pytest.approx(0.5)
    assert result.weight_covered == pytest.approx(0.5)


def test_answers_for_unknown_competencies_are_rejected() -> None:
    with pytest.raises(ValueError, match="not in template"):
        score_interview(TEMPLATE, [ScoredAnswer("q-x", "cooking", scored(0.5))])


def test_api_form_from_score_event_payloads() -> None:
    payloads: list[dict[str, Any]] = [
        {"question_id": "q-design", "competency": "design", "score": 1.0, "level": 5,
         "confidence": 1.0, "insufficient_evidence": False},
        # No competency in the payload: taken from the template's question.
        {"question_id": "q-testing", "score": 0.25, "level": 2, "confidence": 1.0,
         "insufficient_evidence": False},
        {"question_id": "q-python", "competency": "python", "score": None, "level": None,
         "confidence": 0.9, "insufficient_evidence": True},
        {"question_id": "gone", "competency": "retired", "score": 0.5, "level": 3,
         "confidence": 1.0, "insufficient_evidence": False},
    ]  # fmt: skip
    result = combine_answer_scores(TEMPLATE, payloads, EQUAL)
    rows = {row["id"]: row for row in result["competencies"]}
    assert rows["design"]["score"] == pytest.approx(1.0) and rows["design"]["name"] == "Design"
    assert rows["testing"]["level"] == pytest.approx(2.0)
    assert rows["python"]["insufficient"] is True and rows["python"]["score"] is None
    assert rows["python"]["answered"] == 1 and rows["python"]["scored"] == 0
    overall = result["overall"]
    assert overall["score"] == pytest.approx((2 * 1.0 + 1 * 0.25) / 3)
    assert overall["competencies_without_evidence"] == ["python"]
    assert overall["answers_ignored"] == 1


def test_api_form_without_evidence_has_no_overall() -> None:
    assert combine_answer_scores(TEMPLATE, [])["overall"] is None
