"""The optional language model in live interviews: probes, second opinions, resume questions.

Every call is bounded by a timeout, and every failure falls back to what the engine does without
a model, so a slow or broken endpoint never stalls or ends an interview. Failures are logged
without the answer text (it is the candidate's words).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codesage.agents.answer_score import AnswerScore
from codesage.agents.interviewer import FollowUpRequest
from codesage.agents.llm import LLMError, LLMInterviewAssistant
from codesage.agents.resume import ResumeProfile
from codesage.agents.template import Competency, Question
from codesage.config.metrics import NodeMetrics
from codesage.engine.commands import Command, InterviewError, RecordSecondOpinion

log = logging.getLogger(__name__)

RecordCommand = Callable[[uuid.UUID, Command], Awaitable[Any]]
"""Sends a command to an interview's actor, wherever it runs (the supervisor's `ask`)."""

RECORD_ATTEMPTS = 3


class ModelProbeWriter:
    """Writes follow-up probes with the model; None (the rule-based probe) when it cannot."""

    def __init__(
        self,
        assistant: LLMInterviewAssistant,
        timeout_s: float,
        *,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self._assistant = assistant
        self._timeout_s = timeout_s
        self._metrics = metrics

    async def write(self, request: FollowUpRequest, answer: str) -> str | None:
        """A probe for what `answer` left out, or None within the timeout."""
        # An answer with too little evidence to score misses every key point.
        missing = request.score.missing_indicators or request.question.rubric.key_indicators
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._assistant.generate_follow_up(
                    request.question.text, answer, missing
                )
        except (LLMError, TimeoutError) as exc:
            _count_failure(self._metrics, "follow-up", exc)
            return None


class ModelResumeQuestions:
    """Writes questions about a scrubbed resume profile; none when the model cannot."""

    def __init__(
        self,
        assistant: LLMInterviewAssistant,
        timeout_s: float,
        count: int,
        *,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self._assistant = assistant
        self._timeout_s = timeout_s
        self._count = count
        self._metrics = metrics

    async def write(self, profile: ResumeProfile, competencies: Sequence[Competency]) -> list[str]:
        """Up to the configured number of questions; [] on failure or timeout."""
        if self._count <= 0 or not profile.skills:
            return []
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._assistant.generate_resume_questions(
                    profile, competencies, self._count
                )
        except (LLMError, TimeoutError) as exc:
            _count_failure(self._metrics, "resume questions", exc)
            return []


@dataclass(frozen=True)
class ScoredAnswer:
    """An answer the engine has just scored and committed."""

    interview_id: uuid.UUID
    prompt_id: str
    question: Question
    answer: str
    score: AnswerScore


class SecondOpinionReviewer:
    """Grades each scored answer again with the model, in the background, for reviewers only.

    The opinion is recorded as a `second_opinion` event through the interview's actor. It is
    advisory and best effort: a node that dies while the model is thinking loses it.
    """

    def __init__(
        self,
        assistant: LLMInterviewAssistant,
        timeout_s: float,
        record: RecordCommand,
        *,
        concurrency: int = 2,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self._assistant = assistant
        self._timeout_s = timeout_s
        self._record = record
        self._slots = asyncio.Semaphore(concurrency)
        self._metrics = metrics
        self._tasks: set[asyncio.Task[None]] = set()

    def scored(self, answer: ScoredAnswer) -> None:
        """Start the second opinion of `answer` (returns at once)."""
        if answer.score.insufficient_evidence:
            return  # nothing to grade: the engine already declined to score it
        task = asyncio.create_task(self._review(answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the opinions in progress (tests; a closing node abandons them instead)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Abandon the opinions in progress."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _review(self, answer: ScoredAnswer) -> None:
        async with self._slots:
            try:
                async with asyncio.timeout(self._timeout_s):
                    opinion = await self._assistant.second_opinion_grade(
                        answer.question.text, answer.question.rubric, answer.answer
                    )
            except TimeoutError as exc:
                _count_failure(self._metrics, "second opinion", exc)
                return
        if opinion.level is None:
            log.warning(
                "the language model gave no usable grade",
                extra={"interview_id": str(answer.interview_id)},
            )
            return
        command = RecordSecondOpinion(
            prompt_id=answer.prompt_id,
            question_id=answer.question.id,
            level=opinion.level,
            rationale=opinion.rationale,
        )
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                await self._record(answer.interview_id, command)
                return
            except InterviewError as exc:
                # The actor may be stopping (interview just ended) or moving to another node.
                if exc.status != 503 or attempt == RECORD_ATTEMPTS:
                    log.warning(
                        "second opinion not recorded",
                        extra={
                            "interview_id": str(answer.interview_id),
                            "code": exc.code,
                            "status": exc.status,
                        },
                    )
                    return


def _count_failure(metrics: NodeMetrics | None, what: str, exc: Exception) -> None:
    # The error's detail may quote the model's reply (and so the answer): log its kind only.
    reason = "timed out" if isinstance(exc, TimeoutError) else str(exc).split(": ", 1)[0]
    log.warning("language model %s failed, going on without it: %s", what, reason)
    if metrics is not None:
        metrics.count_error("llm")
