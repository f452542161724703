"""Event payloads for scores and live summaries (the API's AnswerScoreView and summary)."""

from __future__ import annotations

from typing import Any

from codesage.agents.aggregate import combine_answer_scores
from codesage.agents.answer_score import AnswerScore
from codesage.agents.interviewer import SessionSummary
from codesage.agents.template import InterviewTemplate, Question


def score_payload(
    prompt_id: str, question: Question, answer_text: str, score: AnswerScore
) -> dict[str, Any]:
    """The `score` event: the level with its evidence spans into `answer_text`."""
    return {
        "prompt_id": prompt_id,
        "question_id": question.id,
        "question_text": question.text,
        "competency": question.competency,
        "answer_text": answer_text,
        "level": score.level,
        "score": score.score,
        "confidence": score.confidence,
        "insufficient_evidence": score.insufficient_evidence,
        "reason": score.reason,
        "evidence": [
            {"start": span.start, "end": span.end, "indicator": span.indicator}
            for span in score.evidence
        ],
        "matched_indicators": list(score.matched_indicators),
        "missing_indicators": list(score.missing_indicators),
    }


def summary_payload(template: InterviewTemplate, summary: SessionSummary) -> dict[str, Any]:
    """The `summary` event: `Scores` without answers, plus the adaptive ability estimates."""
    answers = [
        {
            "question_id": outcome.question_id,
            "competency": outcome.competency_id,
            "level": outcome.score.level,
            "score": outcome.score.score,
            "confidence": outcome.score.confidence,
            "insufficient_evidence": outcome.score.insufficient_evidence,
        }
        for outcome in summary.questions
        if outcome.score is not None and outcome.competency_id is not None
    ]
    combined = combine_answer_scores(template, answers)
    adaptive = {status.competency_id: status for status in summary.competencies}
    for row in combined["competencies"]:
        status = adaptive.get(row["id"])
        if status is not None:
            row["theta"] = status.estimate.theta
            row["theta_standard_error"] = status.estimate.standard_error
            row["questions_asked"] = status.questions_asked
            row["stopped"] = None if status.stop_reason is None else status.stop_reason.value
    return {**combined, "overall_theta": summary.overall_theta}
