"""Starts, finds and stops interview actors; restarts a crashed one from its checkpoint."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from codesage.config.metrics import NodeMetrics
from codesage.engine.actor import ActorCrashedError, InterviewActor
from codesage.engine.actor_state import FINAL_PHASES
from codesage.engine.commands import Command, InterviewError, Stop

log = logging.getLogger(__name__)

ActorLoader = Callable[[uuid.UUID], Awaitable[InterviewActor]]


class ActorSupervisor:
    """The node's live actors, one per interview, each loaded on first use."""

    def __init__(
        self,
        load: ActorLoader,
        *,
        max_restarts: int = 5,
        restart_window_s: float = 60,
        metrics: NodeMetrics | None = None,
    ):
        self._load = load
        self._metrics = metrics
        self._actors: dict[uuid.UUID, InterviewActor] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._restarts: dict[uuid.UUID, list[float]] = {}
        self._max_restarts = max_restarts
        self._restart_window_s = restart_window_s
        self._background: set[asyncio.Task[Any]] = set()

    def live_ids(self) -> list[uuid.UUID]:
        """Interviews with a running actor on this node."""
        return list(self._actors)

    async def actor(self, interview_id: uuid.UUID) -> InterviewActor:
        """The running actor of the interview, loaded from storage if needed."""
        actor = self._actors.get(interview_id)
        if actor is not None and actor.task is not None and not actor.task.done():
            return actor
        lock = self._locks.setdefault(interview_id, asyncio.Lock())
        async with lock:
            actor = self._actors.get(interview_id)
            if actor is None or actor.task is None or actor.task.done():
                actor = await self._load(interview_id)
                actor.start()
                assert actor.task is not None
                actor.task.add_done_callback(lambda task: self._on_exit(interview_id, task))
                self._actors[interview_id] = actor
            return actor

    async def ask(self, interview_id: uuid.UUID, command: Command) -> Any:
        """Send a command to the interview's actor; stop actors of finished interviews."""
        actor = await self.actor(interview_id)
        try:
            result = await actor.ask(command)
        except ActorCrashedError as exc:
            raise InterviewError(
                "temporarily_unavailable",
                "The interview hit a problem and is recovering; please try again.",
                503,
            ) from exc
        if actor.phase in FINAL_PHASES:
            await self.stop(interview_id)
        return result

    async def stop(self, interview_id: uuid.UUID) -> None:
        """Let the actor finish its current command, then stop it."""
        actor = self._actors.pop(interview_id, None)
        if actor is not None and actor.task is not None and not actor.task.done():
            await actor.ask(Stop())
            await actor.task

    async def stop_all(self) -> None:
        """Stop every actor (node shutdown); their state is already checkpointed."""
        for interview_id in list(self._actors):
            await self.stop(interview_id)
        for task in list(self._background):
            task.cancel()

    def _on_exit(self, interview_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if self._actors.get(interview_id) is not None and self._actors[interview_id].task is task:
            del self._actors[interview_id]
        now = time.monotonic()
        recent = [
            t for t in self._restarts.get(interview_id, []) if now - t < self._restart_window_s
        ]
        if len(recent) >= self._max_restarts:
            if self._metrics is not None:
                self._metrics.count_error("actor_restart_limit")
            log.error(
                "actor keeps crashing; not restarting", extra={"interview_id": str(interview_id)}
            )
            return
        self._restarts[interview_id] = [*recent, now]
        restart = asyncio.get_running_loop().create_task(self._restart(interview_id))
        self._background.add(restart)
        restart.add_done_callback(self._background.discard)

    async def _restart(self, interview_id: uuid.UUID) -> None:
        log.warning(
            "restarting actor from its checkpoint", extra={"interview_id": str(interview_id)}
        )
        try:
            await self.actor(interview_id)
        except Exception:
            log.exception("actor restart failed", extra={"interview_id": str(interview_id)})
