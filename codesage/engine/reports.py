"""Scores and review reports, rebuilt from the interview's event log."""

from __future__ import annotations

from typing import Any

from codesage.agents.aggregate import combine_answer_scores
from codesage.agents.template import InterviewTemplate
from codesage.storage.interviews import InterviewRecord
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.templates import TemplateRepository

EVENT_PAGE = 5000


class InterviewReports:
    """Builds the API's `Scores` and `Report` from stored events and the template."""

    def __init__(self, journal: InterviewJournal, templates: TemplateRepository):
        self._journal = journal
        self._templates = templates

    async def _events(self, record: InterviewRecord) -> list[InterviewEvent]:
        events: list[InterviewEvent] = []
        while True:
            page = await self._journal.events_after(
                record.id, events[-1].seq if events else 0, EVENT_PAGE
            )
            events.extend(page)
            if len(page) < EVENT_PAGE:
                return events

    async def _template(self, record: InterviewRecord) -> InterviewTemplate:
        stored = await self._templates.get(record.template_id)
        assert stored is not None, "interviews reference their template version"
        return InterviewTemplate.model_validate(stored.body)

    async def scores(self, record: InterviewRecord) -> dict[str, Any]:
        """Per-answer scores with competency and overall combinations."""
        return scores_from_events(await self._template(record), await self._events(record))

    async def report(self, record: InterviewRecord) -> dict[str, Any]:
        """Everything a recruiter reviews: scores, transcript, hints and observer notes."""
        template = await self._template(record)
        events = await self._events(record)
        scores = scores_from_events(template, events)
        return {
            "interview": record.to_json(),
            "template": {"slug": template.slug, "title": template.title, "role": template.role},
            "scores": scores,
            "transcript": transcript_from_events(events),
            "notes": [
                {"seq": e.seq, "text": e.payload["text"], "at": e.at.isoformat()}
                for e in events
                if e.type == "note"
            ],
            "hints": scores["hints"],
        }


def scores_from_events(template: InterviewTemplate, events: list[InterviewEvent]) -> dict[str, Any]:
    """The latest score of each question (a follow-up's replaces the first) and their totals.

    Each answer carries the language model's `second_opinion` ({level, rationale}) or None.
    """
    latest: dict[str, dict[str, Any]] = {}
    opinions: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.type == "score":
            latest[event.payload["question_id"]] = dict(event.payload)
        elif event.type == "second_opinion":
            opinions[event.payload["prompt_id"]] = {
                "level": event.payload["level"],
                "rationale": event.payload["rationale"],
            }
    answers = list(latest.values())
    for answer in answers:
        # Only an opinion on the answer as finally scored (a follow-up's replaces the first).
        answer["second_opinion"] = opinions.get(answer["prompt_id"])
    rubric_levels = {
        q.id: [level.model_dump() for level in q.rubric.levels] for q in template.questions
    }
    for answer in answers:
        answer["rubric_levels"] = rubric_levels.get(answer["question_id"], [])
    combined = combine_answer_scores(template, answers)
    return {
        "answers": answers,
        "competencies": combined["competencies"],
        "overall": combined["overall"],
        "hints": [
            {
                "question_id": e.payload["question_id"],
                "text": e.payload["text"],
                "strength": e.payload["strength"],
            }
            for e in events
            if e.type == "hint"
        ],
    }


def transcript_from_events(events: list[InterviewEvent]) -> list[dict[str, Any]]:
    """Each prompt with the answer given to it, in order."""
    lines: dict[str, dict[str, Any]] = {}
    for event in events:
        payload = event.payload
        if event.type == "prompt":
            lines[payload["prompt_id"]] = {
                "prompt_id": payload["prompt_id"],
                "kind": payload["kind"],
                "question_id": payload.get("question_id"),
                "question_text": payload["text"],
                "answer_text": None,
                "asked_at": event.at.isoformat(),
                "answered_at": None,
            }
        elif event.type == "answer_final" and payload["prompt_id"] in lines:
            line = lines[payload["prompt_id"]]
            line["answer_text"] = payload["text"]
            line["answered_at"] = event.at.isoformat()
    return list(lines.values())
