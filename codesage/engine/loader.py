"""Builds an interview actor from what storage holds: the row, its template, its checkpoint."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from codesage.agents.interviewer import InterviewSession
from codesage.agents.template import InterviewTemplate
from codesage.config.metrics import NodeMetrics
from codesage.engine.actor import (
    AsyncAnswerScorer,
    InterviewActor,
    InterviewInfo,
    ProbeWriter,
    ScoreListener,
)
from codesage.engine.actor_state import ActorState
from codesage.engine.commands import InterviewError
from codesage.engine.event_log import InterviewEventLog
from codesage.storage.interviews import InterviewRepository
from codesage.storage.templates import TemplateRepository


class InterviewActorLoader:
    """Loads actors for the supervisor: new ones fresh, known ones from their checkpoint."""

    def __init__(
        self,
        interviews: InterviewRepository,
        templates: TemplateRepository,
        event_log: InterviewEventLog,
        scorer: AsyncAnswerScorer,
        clock: Callable[[], float] = time.time,
        *,
        metrics: NodeMetrics | None = None,
        probe_writer: ProbeWriter | None = None,
        score_listener: ScoreListener | None = None,
    ):
        self._metrics = metrics
        self._probe_writer = probe_writer
        self._score_listener = score_listener
        self._interviews = interviews
        self._templates = templates
        self._event_log = event_log
        self._scorer = scorer
        self._clock = clock

    async def __call__(self, interview_id: uuid.UUID) -> InterviewActor:
        """The actor of `interview_id` (InterviewError 404 when there is no such interview)."""
        record = await self._interviews.get(interview_id)
        if record is None:
            raise InterviewError("not_found", "No such interview.", 404)
        template_record = await self._templates.get(record.template_id)
        if template_record is None:
            raise InterviewError("not_found", "The interview's template is missing.", 404)
        template = InterviewTemplate.model_validate(template_record.body)
        checkpoint = await self._interviews.checkpoint(interview_id)
        if checkpoint is not None:
            state = ActorState.from_dict(checkpoint.state)
            assert state.session is not None
            session = InterviewSession.from_dict(template, state.session)
        else:
            profile = await self._interviews.candidate_profile(record.candidate_id)
            skills = [str(s) for s in profile.get("skills", [])]
            session = InterviewSession(
                template,
                "practice" if record.mode == "practice" else "real",
                priority_skills=skills,
            )
            state = ActorState(phase=record.state)
            # Written by the language model when the interview was scheduled; asked first.
            for text in profile.get("generated_questions", []):
                state.resume_question_ids.append(session.inject_question(str(text)))
        info = InterviewInfo(
            id=record.id,
            mode=record.mode,
            template_title=record.template_title,
            window_start=record.window_start,
            window_end=record.window_end,
        )
        return InterviewActor(
            info,
            template,
            session,
            state,
            self._event_log,
            self._scorer,
            self._clock,
            metrics=self._metrics,
            probe_writer=self._probe_writer,
            score_listener=self._score_listener,
        )
