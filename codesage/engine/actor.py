"""One asyncio actor per live interview: the only writer of that interview's state."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from codesage.agents.answer_score import AnswerScore
from codesage.agents.hints import HintsNotAllowed
from codesage.agents.interviewer import FollowUpRequest, InterviewSession, Prompt
from codesage.agents.template import InterviewTemplate, Rubric
from codesage.config.metrics import NodeMetrics
from codesage.engine.actor_state import ACTIVE_PHASES, FINAL_PHASES, ActorState, CurrentPrompt
from codesage.engine.commands import (
    Answer,
    Command,
    Consent,
    HintRequest,
    InterviewError,
    Join,
    ObserverAction,
    PartialAnswer,
    PromptPlayed,
    RecordSecondOpinion,
    Stop,
)
from codesage.engine.event_log import InterviewEventLog
from codesage.engine.language_model import ScoredAnswer
from codesage.engine.score_view import score_payload, summary_payload
from codesage.storage.journal import InterviewEvent

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 20_000
AI_NOTICE = (
    "Your interviewer is an AI. It asks structured questions, listens to (or reads) your "
    "answers and scores each one against a published rubric for the role. A human reviews the "
    "results; nothing is inferred from your face, voice or emotions."
)
SCORING_NOTICE = (
    "Each answer is rated 1 to 5 against the question's rubric, with the parts of your answer "
    "that support the rating. When an answer is too short or off-topic we record 'not enough "
    "evidence' rather than guess. You can type every answer."
)
ENDED_BY_INTERVIEWER_TEXT = "The interviewer has ended the interview. Thank you for your time."


class AsyncAnswerScorer(Protocol):
    """Scores an answer off the event loop (the agents' bounded scoring pool)."""

    async def score(self, question: str, answer: str, rubric: Rubric) -> AnswerScore: ...

    def prepare(self, question: str, rubric: Rubric) -> None:
        """Start embedding the rubric of a question just asked (background, best effort)."""


class ProbeWriter(Protocol):
    """Writes a follow-up probe the template has no text for (None: use the rule-based one)."""

    async def write(self, request: FollowUpRequest, answer: str) -> str | None: ...


class ScoreListener(Protocol):
    """Told of each answer once its score is committed (the optional second opinion)."""

    def scored(self, answer: ScoredAnswer) -> None: ...


class ActorCrashedError(Exception):
    """The actor died on an unexpected error; the supervisor restarts it from its checkpoint."""


@dataclass(frozen=True)
class InterviewInfo:
    """What the actor knows of its interview row."""

    id: uuid.UUID
    mode: str
    template_title: str
    window_start: datetime | None = None
    window_end: datetime | None = None


class InterviewActor:
    """Owns one interview: processes commands one at a time, commits events with checkpoints."""

    def __init__(
        self,
        info: InterviewInfo,
        template: InterviewTemplate,
        session: InterviewSession,
        state: ActorState,
        log_: InterviewEventLog,
        scorer: AsyncAnswerScorer,
        clock: Callable[[], float] = time.time,
        *,
        metrics: NodeMetrics | None = None,
        probe_writer: ProbeWriter | None = None,
        score_listener: ScoreListener | None = None,
    ):
        self.info = info
        self._metrics = metrics
        self._probe_writer = probe_writer
        self._score_listener = score_listener
        self._template = template
        self._session = session
        self._state = state
        self._log = log_
        self._scorer = scorer
        self._clock = clock
        self._pending: list[InterviewEvent] = []
        self._inbox: asyncio.Queue[tuple[Command, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def phase(self) -> str:
        """The interview's current state."""
        return self._state.phase

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The running mailbox task (None before `start`)."""
        return self._task

    def start(self) -> None:
        """Start processing the mailbox."""
        self._task = asyncio.create_task(self._run(), name=f"interview-{self.info.id}")

    async def ask(self, command: Command) -> Any:
        """Send `command` and wait for its result (InterviewError when refused)."""
        if self._task is None or self._task.done():
            raise ActorCrashedError(f"interview {self.info.id}: actor is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._inbox.put((command, future))
        return await future

    def snapshot(self) -> dict[str, Any]:
        """The interview as a (re)joining client needs it."""
        prompt = self._state.prompt
        return {
            "interview_id": str(self.info.id),
            "mode": self.info.mode,
            "state": self._state.phase,
            "template_title": self.info.template_title,
            "prompt": None if prompt is None else prompt.payload(self._budget()),
            "answered": bool(prompt and prompt.answered),
            "last_seq": self._state.last_seq,
            "notice": {"ai": AI_NOTICE, "scoring": SCORING_NOTICE},
        }

    async def _run(self) -> None:
        try:
            await self._resume_pending_score()
        except Exception:
            log.exception("actor failed to resume", extra={"interview_id": str(self.info.id)})
            self._fail_queued()
            raise
        while True:
            command, future = await self._inbox.get()
            if isinstance(command, Stop):
                _settle(future, None)
                # Commands that arrived after Stop would wait forever; their callers retry.
                self._fail_queued()
                return
            seq_before = self._state.last_seq
            try:
                result = await self._handle(command)
            except InterviewError as exc:
                # Refusals are raised before anything is committed: forget what was emitted.
                self._pending.clear()
                self._state.last_seq = seq_before
                _settle(future, error=exc)
                continue
            except Exception as exc:
                log.exception("actor crashed", extra={"interview_id": str(self.info.id)})
                if self._metrics is not None:
                    self._metrics.count_error("actor_crash")
                _settle(future, error=ActorCrashedError(str(exc)))
                self._fail_queued()
                raise
            _settle(future, result)

    def _fail_queued(self) -> None:
        while not self._inbox.empty():
            _, future = self._inbox.get_nowait()
            _settle(future, error=ActorCrashedError("the interview restarted; please retry"))

    async def _handle(self, command: Command) -> Any:
        if isinstance(command, Join):
            return await self._join()
        if isinstance(command, Consent):
            return await self._consent(command.accepted)
        if isinstance(command, Answer):
            return await self._answer(command)
        if isinstance(command, PartialAnswer):
            return await self._partial(command)
        if isinstance(command, PromptPlayed):
            return await self._prompt_played(command)
        if isinstance(command, HintRequest):
            return await self._hint(command.prompt_id)
        if isinstance(command, ObserverAction):
            return await self._observer_action(command)
        if isinstance(command, RecordSecondOpinion):
            return await self._second_opinion(command)
        raise TypeError(f"unknown command {command!r}")

    # --- candidate -------------------------------------------------------------------------

    async def _join(self) -> dict[str, Any]:
        if self._state.phase == "cancelled":
            raise InterviewError("interview_cancelled", "This interview was cancelled.", 410)
        if self._state.phase == "scheduled":
            now = datetime.fromtimestamp(self._clock()).astimezone()
            if self.info.window_start and now < self.info.window_start:
                raise InterviewError(
                    "not_open_yet",
                    f"This interview opens at {self.info.window_start.isoformat()}.",
                    403,
                )
            if self.info.window_end and now > self.info.window_end:
                raise InterviewError(
                    "window_closed", "This interview's time window has passed.", 403
                )
            self._set_phase("waiting")
            await self._commit()
        return self.snapshot()

    async def _consent(self, accepted: bool) -> dict[str, Any]:
        phase = self._state.phase
        if phase != "waiting":
            if phase in FINAL_PHASES:
                raise InterviewError("interview_ended", "This interview has ended.")
            return self.snapshot()  # consent already given: a second tab or a retry
        if not accepted:
            self._set_phase("done")
            self._emit("ended", {"reason": "consent_declined"})
            await self._commit()
            return self.snapshot()
        self._set_phase("consent")
        self._set_phase("questioning")
        self._advance()
        await self._commit()
        return self.snapshot()

    async def _answer(self, command: Answer) -> dict[str, Any]:
        received = time.perf_counter()
        prompt = self._require_answerable(command.prompt_id)
        if len(command.text) > MAX_ANSWER_CHARS:
            raise InterviewError(
                "answer_too_long", f"Answers are limited to {MAX_ANSWER_CHARS} characters.", 413
            )
        text = command.text.strip()
        prompt.answered = True
        final: dict[str, Any] = {
            "prompt_id": prompt.prompt_id,
            "text": text,
            "source": command.source,
        }
        if command.turn_ended_at is not None:
            final["turn_ended_at"] = command.turn_ended_at.isoformat()
        self._emit("answer_final", final)
        if prompt.scored and prompt.question_id is not None:
            earlier = self._state.answer_texts.get(prompt.question_id)
            scored_text = f"{earlier}\n\n{text}" if earlier and prompt.kind == "follow_up" else text
            self._state.answer_texts[prompt.question_id] = scored_text
            self._state.pending_score_text = scored_text
            # Commit the answer before scoring: observers see it at once and a crash during
            # scoring resumes from here instead of losing the answer.
            await self._commit()
            await self._score_pending()
        else:
            if self._state.phase != "human_takeover":
                self._advance()
            await self._commit()
        self._observe_response(received, command.prompt_id)
        return {"accepted": True, "state": self._state.phase}

    def _observe_response(self, received: float, answered_prompt_id: str) -> None:
        """Answer in → next prompt committed; nothing when no new prompt was issued (takeover)."""
        prompt = self._state.prompt
        if (
            self._metrics is not None
            and prompt is not None
            and prompt.prompt_id != answered_prompt_id
        ):
            self._metrics.response_latency.observe(time.perf_counter() - received)

    async def _partial(self, command: PartialAnswer) -> dict[str, Any]:
        prompt = self._require_answerable(command.prompt_id)
        text = command.text.strip()[:MAX_ANSWER_CHARS]
        tentative = command.tentative.strip()[: max(0, MAX_ANSWER_CHARS - len(text))]
        if text or tentative:
            payload = {"prompt_id": prompt.prompt_id, "text": text}
            if tentative:
                payload["tentative"] = tentative
            self._emit("answer_partial", payload)
            await self._commit()
        return {"accepted": True}

    async def _prompt_played(self, command: PromptPlayed) -> dict[str, Any]:
        # Recorded even after the prompt was answered: it is what the candidate heard.
        self._emit(
            "prompt_played",
            {
                "prompt_id": command.prompt_id,
                "text_played": command.text_played,
                "complete": command.complete,
                "seconds": round(command.seconds, 3),
            },
        )
        await self._commit()
        return {"seq": self._state.last_seq}

    def _require_answerable(self, prompt_id: str) -> CurrentPrompt:
        phase = self._state.phase
        if phase in FINAL_PHASES or phase == "closing":
            raise InterviewError("interview_ended", "This interview has ended; answers are closed.")
        if phase == "paused":
            raise InterviewError("paused", "The interviewer paused the interview for a moment.")
        prompt = self._state.prompt
        if phase not in ACTIVE_PHASES or prompt is None:
            raise InterviewError("not_accepting_answers", "No question is open yet.")
        if prompt.prompt_id != prompt_id:
            raise InterviewError("stale_prompt", "That question is no longer the current one.")
        if prompt.answered:
            raise InterviewError("already_answered", "This question has already been answered.")
        return prompt

    async def _score_pending(self) -> None:
        prompt = self._state.prompt
        text = self._state.pending_score_text
        if prompt is None or text is None or prompt.question_id is None:
            return
        question = self._template.question(prompt.question_id)
        score = await self._scorer.score(question.text, text, question.rubric)
        self._emit(
            "score",
            score_payload(prompt.prompt_id, question, text, score),
        )
        self._session.record_score(
            prompt.question_id, score, is_follow_up=prompt.kind == "follow_up"
        )
        self._state.pending_score_text = None
        self._emit("summary", summary_payload(self._template, self._session.summary()))
        if self._state.phase != "human_takeover":
            self._advance(await self._written_probe(text))
        await self._commit()
        if self._score_listener is not None:
            self._score_listener.scored(
                ScoredAnswer(self.info.id, prompt.prompt_id, question, text, score)
            )

    async def _written_probe(self, answer: str) -> str | None:
        """A model-written probe when one is due that the template has no text for."""
        if self._probe_writer is None:
            return None
        request = self._session.follow_up_request(self._state.elapsed(self._clock()))
        if request is None:
            return None
        return await self._probe_writer.write(request, answer)

    async def _resume_pending_score(self) -> None:
        if self._state.pending_score_text is not None:
            log.info("resuming an unscored answer", extra={"interview_id": str(self.info.id)})
            await self._score_pending()

    async def _hint(self, prompt_id: str) -> dict[str, Any]:
        if self.info.mode != "practice":
            raise InterviewError("hints_not_allowed", "Hints are only offered in practice.", 403)
        prompt = self._require_answerable(prompt_id)
        if prompt.question_id is None or prompt.kind in ("injected", "resume"):
            raise InterviewError("no_more_hints", "There are no hints for this question.")
        try:
            hint = self._session.request_hint(prompt.question_id)
        except HintsNotAllowed as exc:
            raise InterviewError("hints_not_allowed", str(exc), 403) from exc
        if hint is None:
            raise InterviewError("no_more_hints", "You have seen every hint for this question.")
        payload = {
            "prompt_id": prompt.prompt_id,
            "question_id": prompt.question_id,
            "text": hint.text,
            "strength": hint.strength,
        }
        self._emit("hint", payload)
        await self._commit()
        return {"hint": {"text": hint.text, "strength": hint.strength}}

    async def _second_opinion(self, command: RecordSecondOpinion) -> dict[str, Any]:
        # Recorded in any phase: the last answer's opinion usually arrives after the end.
        self._emit(
            "second_opinion",
            {
                "prompt_id": command.prompt_id,
                "question_id": command.question_id,
                "level": command.level,
                "rationale": command.rationale,
            },
        )
        await self._commit()
        return {"seq": self._state.last_seq}

    # --- observers -------------------------------------------------------------------------

    async def _observer_action(self, command: ObserverAction) -> dict[str, Any]:
        phase = self._state.phase
        action = command.action
        if action == "note":
            self._emit("note", {"text": _required_text(command.text), "by": command.by})
            await self._commit()
            return {"seq": self._state.last_seq}
        if phase in FINAL_PHASES:
            raise InterviewError("interview_ended", "This interview has ended.")
        self._emit("observer_action", {"action": action, "by": command.by})
        if action == "pause":
            if phase not in ACTIVE_PHASES:
                raise InterviewError("cannot_pause", f"An interview in '{phase}' cannot pause.")
            self._state.resume_phase = phase
            self._set_phase("paused")
        elif action == "resume":
            if phase != "paused":
                raise InterviewError("not_paused", "The interview is not paused.")
            self._set_phase(self._state.resume_phase or "questioning")
            self._state.resume_phase = None
        elif action == "take_over":
            if phase not in ("questioning", "follow_up"):
                raise InterviewError("cannot_take_over", f"Cannot take over in '{phase}'.")
            self._set_phase("human_takeover")
        elif action == "hand_back":
            if phase != "human_takeover":
                raise InterviewError("not_taken_over", "No human has taken over.")
            self._hand_back()
        elif action == "inject_question":
            self._inject(_required_text(command.text))
        elif action == "end":
            self._end_by_interviewer()
        elif action == "cancel":
            self._set_phase("cancelled")
            self._emit("ended", {"reason": "cancelled"})
        await self._commit()
        return {"seq": self._state.last_seq, "state": self._state.phase}

    def _inject(self, text: str) -> None:
        if self._state.phase == "human_takeover":
            # A human asking live: put the question in front of the candidate right away.
            self._issue_prompt("injected", None, text, competency=None, scored=False)
            return
        question_id = self._session.inject_question(text)
        self._state.injected_ids.append(question_id)
        prompt = self._state.prompt
        if prompt is not None and prompt.answered and self._state.phase in ACTIVE_PHASES:
            self._advance()

    def _hand_back(self) -> None:
        self._set_phase("questioning")
        prompt = self._state.prompt
        awaiting = self._session.awaiting
        if prompt is not None and not prompt.answered and prompt.kind != "injected":
            self._set_phase("follow_up" if prompt.kind == "follow_up" else "questioning")
        elif awaiting is not None and (
            prompt is None or prompt.question_id != awaiting.question_id
        ):
            self._issue_from_session(awaiting)  # the AI's question was interrupted: ask again
        else:
            self._advance()

    def _end_by_interviewer(self) -> None:
        self._issue_prompt(
            "closing", None, ENDED_BY_INTERVIEWER_TEXT, competency=None, scored=False
        )
        self._finish("ended_by_interviewer")

    # --- plan ------------------------------------------------------------------------------

    def _advance(self, written_probe: str | None = None) -> None:
        """Put the session's next prompt in front of the candidate, or close."""
        elapsed = self._state.elapsed(self._clock())
        prompt = self._session.next_prompt(elapsed, written_probe=written_probe)
        if prompt is None or prompt.kind == "closing":
            text = prompt.text if prompt else "Thank you, that is the end of the interview."
            self._issue_prompt("closing", None, text, competency=None, scored=False)
            self._finish("completed")
            return
        self._issue_from_session(prompt)

    def _issue_from_session(self, prompt: Prompt) -> None:
        question_id = prompt.question_id
        injected = question_id in self._state.injected_ids
        from_resume = question_id in self._state.resume_question_ids
        from_template = question_id is not None and not (injected or from_resume)
        competency = None
        if question_id is not None and from_template:
            competency = self._template.question(question_id).competency
        kind = "injected" if injected else "resume" if from_resume else prompt.kind
        self._issue_prompt(kind, question_id, prompt.text, competency, scored=from_template)
        if question_id is not None and from_template:
            question = self._template.question(question_id)
            self._scorer.prepare(question.text, question.rubric)
        if self._state.phase in ("questioning", "follow_up"):
            self._set_phase("follow_up" if prompt.kind == "follow_up" else "questioning")

    def _issue_prompt(
        self, kind: str, question_id: str | None, text: str, competency: str | None, scored: bool
    ) -> None:
        if kind in ("question", "injected", "resume"):
            self._state.number += 1
        self._state.prompt = CurrentPrompt(
            prompt_id=str(uuid.uuid4()),
            kind=kind,
            question_id=question_id,
            text=text,
            competency=competency,
            scored=scored,
            number=self._state.number,
        )
        self._emit("prompt", self._state.prompt.payload(self._budget()))

    def _finish(self, reason: str) -> None:
        self._set_phase("closing")
        self._set_phase("done")
        self._emit("ended", {"reason": reason})

    def _budget(self) -> int:
        template = self._template
        per_competency = template.max_questions_per_competency * len(template.competencies)
        return min(per_competency, len(template.questions))

    # --- events ----------------------------------------------------------------------------

    def _set_phase(self, phase: str) -> None:
        previous = self._state.phase
        if phase == previous:
            return
        now = self._clock()
        if previous in ACTIVE_PHASES and phase not in ACTIVE_PHASES:
            self._state.active_seconds = self._state.elapsed(now)
            self._state.active_since = None
        elif previous not in ACTIVE_PHASES and phase in ACTIVE_PHASES:
            self._state.active_since = now
        self._state.phase = phase
        self._emit("state_changed", {"state": phase, "previous": previous})

    def _emit(self, event_type: str, payload: dict[str, Any]) -> None:
        self._state.last_seq += 1
        self._pending.append(
            InterviewEvent(
                self.info.id, self._state.last_seq, event_type, payload, InterviewEvent.now()
            )
        )

    async def _commit(self) -> None:
        if not self._pending:
            return
        events, self._pending = self._pending, []
        self._state.session = self._session.to_dict()
        await self._log.commit(
            self.info.id,
            self.info.mode,
            events,
            state=self._state.phase,
            checkpoint=self._state.to_dict(),
        )


def _settle(
    future: asyncio.Future[Any], result: Any = None, error: BaseException | None = None
) -> None:
    # A caller that gave up (a dropped socket cancels its handler) must not kill the actor.
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _required_text(text: str | None) -> str:
    if text is None or not text.strip():
        raise InterviewError("text_required", "This action needs some text.", 422)
    return text.strip()
