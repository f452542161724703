"""Event payloads for scores and live summaries (the API's AnswerScoreView and summary)."""

from __future__ import annotations

from typing import Any

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
    """The `summary` event: the adaptive ability estimate per competency so far."""
    names = {c.id: c.name for c in template.competencies}
    return {
        "competencies": [
            {
                "id": status.competency_id,
                "name": names.get(status.competency_id, status.competency_id),
                "theta": status.estimate.theta,
                "standard_error": status.estimate.standard_error,
                "questions_asked": status.questions_asked,
                "insufficient_answers": status.insufficient_answers,
                "stopped": None if status.stop_reason is None else status.stop_reason.value,
            }
            for status in summary.competencies
        ],
        "overall_theta": summary.overall_theta,
    }
