"""Starts, finds and stops interview actors; restarts a crashed one from its checkpoint.

With leases, an actor runs only on the node holding its interview's lease: the supervisor takes
the lease before loading, keeps it renewed while the actor lives, and releases it once the
actor has stopped and its events are durable. A draining node starts no actor and hands its
live ones over by stopping them and releasing their leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from codesage.config.metrics import NodeMetrics
from codesage.engine.actor import ActorCrashedError, InterviewActor
from codesage.engine.actor_state import FINAL_PHASES
from codesage.engine.commands import Command, InterviewError, Stop
from codesage.engine.interview_locks import InterviewLocks
from codesage.engine.ownership import (
    InterviewLeases,
    LeaseKeeper,
    NodeIdentity,
    OwnedElsewhereError,
)
from codesage.storage.journal import JournalConflictError

log = logging.getLogger(__name__)

ActorLoader = Callable[[uuid.UUID], Awaitable[InterviewActor]]
# Waits up to a timeout for the interview's queued events to reach Postgres; True when they did.
Settle = Callable[[uuid.UUID, float], Awaitable[bool]]


class ActorSupervisor:
    """The node's live actors, one per interview, each loaded on first use."""

    def __init__(
        self,
        load: ActorLoader,
        *,
        leases: InterviewLeases | None = None,
        settle: Settle | None = None,
        settle_timeout_s: float = 10,
        max_restarts: int = 5,
        restart_window_s: float = 60,
        metrics: NodeMetrics | None = None,
    ):
        self._load = load
        self._leases = leases
        self._settle = settle
        self._settle_timeout_s = settle_timeout_s
        self._metrics = metrics
        self._actors: dict[uuid.UUID, InterviewActor] = {}
        self._keepers: dict[uuid.UUID, LeaseKeeper] = {}
        self._locks = InterviewLocks()
        self._restarts: dict[uuid.UUID, list[float]] = {}
        self._max_restarts = max_restarts
        self._restart_window_s = restart_window_s
        self._background: set[asyncio.Task[Any]] = set()
        # Crashed actors' lease hand-backs: a new start and the crash's caller await them.
        self._exits: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._draining = False

    @property
    def draining(self) -> bool:
        """Whether the node is handing its interviews over (it starts no new actor)."""
        return self._draining

    @property
    def identity(self) -> NodeIdentity:
        """This node as clients reach it (a supervisor with leases only)."""
        return self._require_leases().identity

    def live_ids(self) -> list[uuid.UUID]:
        """Interviews with a running actor on this node."""
        return list(self._actors)

    async def actor(self, interview_id: uuid.UUID) -> InterviewActor:
        """The running actor of the interview, loaded from storage if needed."""
        self._refuse_while_draining()
        actor = self._running(interview_id)
        if actor is not None:
            return actor
        async with self._locks.hold(interview_id):
            self._refuse_while_draining()
            actor = self._running(interview_id)
            if actor is None:
                await self._exited(interview_id)
                actor = await self._start(interview_id)
            return actor

    async def claim(self, interview_id: uuid.UUID) -> NodeIdentity:
        """The node that runs the interview; this one, after loading it, when nobody does."""
        leases = self._require_leases()
        here = leases.identity
        if self._running(interview_id) is not None and not self._draining:
            return here
        owner = await leases.owner(interview_id)
        if owner is not None and owner.node_id != here.node_id:
            return owner
        try:
            await self.actor(interview_id)
        except OwnedElsewhereError as exc:
            return exc.owner
        return here

    async def ask(self, interview_id: uuid.UUID, command: Command) -> Any:
        """Send a command to the interview's actor; stop actors of finished interviews."""
        actor = await self.actor(interview_id)
        try:
            result = await actor.ask(command)
        except ActorCrashedError as exc:
            raise await self._crash_error(interview_id, actor) from exc
        if actor.phase in FINAL_PHASES:
            await self.stop(interview_id)
        return result

    async def stop(self, interview_id: uuid.UUID) -> None:
        """Let the actor finish its current command, stop it, and hand its lease back."""
        # Under the load lock: a command arriving meanwhile waits for the lease to be handed
        # back, then loads the interview afresh, instead of finding its own lease still held.
        async with self._locks.hold(interview_id):
            actor = self._actors.pop(interview_id, None)
            keeper = self._keepers.pop(interview_id, None)
            if actor is not None and actor.task is not None and not actor.task.done():
                with contextlib.suppress(ActorCrashedError):
                    await actor.ask(Stop())
                await asyncio.wait({actor.task})
            if keeper is not None:
                await self._hand_back(interview_id, keeper)

    async def drain(self, grace_s: float) -> list[uuid.UUID]:
        """Refuse new work, stop every actor and release its lease within `grace_s`.

        Returns the interviews not handed over in time (their leases expire on their own).
        """
        self._draining = True
        stops = {asyncio.create_task(self.stop(i)): i for i in list(self._actors)}
        if not stops:
            return []
        done, pending = await asyncio.wait(set(stops), timeout=grace_s)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error(
                    "handing an interview over failed",
                    exc_info=task.exception(),
                    extra={"interview_id": str(stops[task])},
                )
        late = [stops[task] for task in pending]
        if late:
            log.warning("drain ended with interviews still live", extra={"count": len(late)})
        return late

    async def stop_all(self) -> None:
        """Stop every actor (node shutdown); their state is already checkpointed."""
        # At once: each may wait for its queued events to reach Postgres before releasing.
        await asyncio.gather(*(self.stop(i) for i in list(self._actors)))
        for task in list(self._background):
            task.cancel()
        if self._exits:
            await asyncio.wait(list(self._exits.values()))

    # --- internals -------------------------------------------------------------------------

    def _require_leases(self) -> InterviewLeases:
        if self._leases is None:
            raise RuntimeError("this supervisor runs without ownership leases")
        return self._leases

    def _refuse_while_draining(self) -> None:
        if self._draining:
            raise InterviewError(
                "draining", "This server is restarting; reconnect to continue.", 503
            )

    def _running(self, interview_id: uuid.UUID) -> InterviewActor | None:
        actor = self._actors.get(interview_id)
        if actor is not None and actor.task is not None and not actor.task.done():
            return actor
        return None

    async def _start(self, interview_id: uuid.UUID) -> InterviewActor:
        lease = await self._leases.acquire(interview_id) if self._leases is not None else None
        try:
            # Events this node still queues for the interview must land before it is reloaded.
            if self._settle is not None and not await self._settle(
                interview_id, self._settle_timeout_s
            ):
                raise _unavailable()
            actor = await self._load(interview_id)
        except BaseException:
            if lease is not None:
                await lease.release()
            raise
        actor.start()
        assert actor.task is not None
        self._actors[interview_id] = actor
        if lease is not None and self._leases is not None:
            keeper = LeaseKeeper(
                lease, self._leases.ttl_s, lambda: self._on_lease_lost(interview_id, actor)
            )
            keeper.start()
            self._keepers[interview_id] = keeper
        actor.task.add_done_callback(lambda task: self._on_exit(interview_id, actor, task))
        return actor

    async def _hand_back(self, interview_id: uuid.UUID, keeper: LeaseKeeper) -> None:
        """Release the lease once the interview's events are durable; renew until then."""
        settled = self._settle is None or await self._settle(interview_id, self._settle_timeout_s)
        await keeper.stop()
        if settled:
            await keeper.lease.release()
        else:
            # Releasing now would let another node load a checkpoint behind our queued events.
            log.error(
                "interview events not yet durable; its lease is left to expire",
                extra={"interview_id": str(interview_id)},
            )

    def _forget_exit(self, interview_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        if self._exits.get(interview_id) is task:
            del self._exits[interview_id]

    async def _exited(self, interview_id: uuid.UUID) -> None:
        exiting = self._exits.get(interview_id)
        if exiting is not None:
            await asyncio.wait({exiting})

    async def _crash_error(self, interview_id: uuid.UUID, actor: InterviewActor) -> InterviewError:
        task = actor.task
        if task is not None:
            await asyncio.wait({task})
        await self._exited(interview_id)
        cause = None if task is None or task.cancelled() else task.exception()
        if not isinstance(cause, JournalConflictError):
            return InterviewError(
                "temporarily_unavailable",
                "The interview hit a problem and is recovering; please try again.",
                503,
            )
        leases = self._leases
        owner = None
        if leases is not None:
            with contextlib.suppress(InterviewError):
                owner = await leases.owner(interview_id)
        if leases is not None and owner is not None and owner.node_id != leases.identity.node_id:
            return OwnedElsewhereError(owner)
        return InterviewError(
            "owned_elsewhere", "Another server took this interview over; please reconnect.", 409
        )

    def _on_lease_lost(self, interview_id: uuid.UUID, actor: InterviewActor) -> None:
        """Another node holds the lease: stop taking commands here and stop the actor."""
        if self._actors.get(interview_id) is actor:
            del self._actors[interview_id]
            self._keepers.pop(interview_id, None)
        self._in_background(self._stop_lost(actor))

    async def _stop_lost(self, actor: InterviewActor) -> None:
        if actor.task is not None and not actor.task.done():
            with contextlib.suppress(ActorCrashedError):
                await actor.ask(Stop())

    def _on_exit(
        self, interview_id: uuid.UUID, actor: InterviewActor, task: asyncio.Task[None]
    ) -> None:
        if task.cancelled() or task.exception() is None:
            return
        keeper = None
        if self._actors.get(interview_id) is actor:
            del self._actors[interview_id]
            keeper = self._keepers.pop(interview_id, None)
        conflict = isinstance(task.exception(), JournalConflictError)
        if conflict:
            log.error(
                "another writer stored this interview's events; stopping here",
                extra={"interview_id": str(interview_id)},
            )
        restart = not conflict and self._may_restart(interview_id)
        exiting = asyncio.get_running_loop().create_task(
            self._hand_back_after_crash(interview_id, keeper)
        )
        self._exits[interview_id] = exiting
        exiting.add_done_callback(lambda task: self._forget_exit(interview_id, task))
        if restart:
            self._in_background(self._restart(interview_id))

    def _may_restart(self, interview_id: uuid.UUID) -> bool:
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
            return False
        self._restarts[interview_id] = [*recent, now]
        return True

    async def _hand_back_after_crash(
        self, interview_id: uuid.UUID, keeper: LeaseKeeper | None
    ) -> None:
        # Before any restart: the restarted actor takes a fresh lease (or finds another owner).
        if keeper is not None:
            await self._hand_back(interview_id, keeper)

    async def _restart(self, interview_id: uuid.UUID) -> None:
        if self._draining:
            return
        log.warning(
            "restarting actor from its checkpoint", extra={"interview_id": str(interview_id)}
        )
        try:
            await self.actor(interview_id)
        except InterviewError as exc:
            log.warning(
                "actor not restarted here",
                extra={"interview_id": str(interview_id), "code": exc.code},
            )
        except Exception:
            log.exception("actor restart failed", extra={"interview_id": str(interview_id)})

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _unavailable() -> InterviewError:
    return InterviewError(
        "temporarily_unavailable",
        "The interview cannot be opened right now; please try again shortly.",
        503,
    )
