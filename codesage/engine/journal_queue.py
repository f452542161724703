"""Commits journal batches, queueing them in memory, in order, while Postgres is unreachable.

A batch that cannot be stored because Postgres is away waits in this process's memory, and so
does every later batch of that interview, until a background flusher stores them in order. The
actor carries on meanwhile. A crash of the node before the flush loses that queued tail.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from codesage.config.metrics import NodeMetrics
from codesage.engine.live_mirror import DegradedChanged, DegradedSwitch, RetryPolicy
from codesage.storage.journal import InterviewEvent, InterviewJournal, JournalConflictError

log = logging.getLogger(__name__)

# What a lost connection or a stopping server raises; anything else is a real error.
_UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
)


def postgres_unreachable(exc: BaseException) -> bool:
    """Whether `exc` means Postgres could not be reached (worth retrying), not a refusal."""
    return isinstance(exc, _UNREACHABLE_ERRORS)


@dataclass(frozen=True)
class JournalBatch:
    """The events of one actor command with the state and checkpoint they lead to."""

    interview_id: uuid.UUID
    mode: str
    events: list[InterviewEvent]
    state: str
    checkpoint: dict[str, Any]


Stored = Callable[[JournalBatch], Awaitable[None]]


class JournalWriter:
    """Stores batches now when it can, else queues them and stores them when Postgres is back."""

    def __init__(
        self,
        journal: InterviewJournal,
        on_stored: Stored,
        on_degraded: DegradedChanged,
        *,
        retry: RetryPolicy | None = None,
        metrics: NodeMetrics | None = None,
    ):
        self._journal = journal
        self._on_stored = on_stored
        # Flips and their notices in one order: a short blip never says "back" before "down".
        self._switch = DegradedSwitch(
            "postgres",
            on_degraded,
            metrics,
            logger=log,
            down_level=logging.ERROR,
            down_message="Postgres unreachable: queueing interview events in memory",
            up_message="Postgres reachable again: queued interview events stored",
        )
        self._retry = retry or RetryPolicy(attempt_timeout_s=5.0)
        self._metrics = metrics
        self._queues: dict[uuid.UUID, deque[JournalBatch]] = {}
        self._fenced: set[uuid.UUID] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._drained = asyncio.Condition()

    @property
    def degraded(self) -> bool:
        """Whether batches are waiting for Postgres."""
        return self._switch.degraded

    async def commit(self, batch: JournalBatch) -> None:
        """Store the batch, or queue it behind an outage; JournalConflictError when fenced."""
        interview_id = batch.interview_id
        if interview_id in self._fenced:
            self._fenced.discard(interview_id)
            raise JournalConflictError(
                f"interview {interview_id}: another writer stored events this node had queued"
            )
        if self._switch.degraded or interview_id in self._queues:
            self._enqueue(batch)
            return
        try:
            await self._store(batch)
        except Exception as exc:
            if not postgres_unreachable(exc):
                raise
            self._enqueue(batch)
            await self._switch.set(True, exc)
            return
        await self._on_stored(batch)

    async def settle(self, interview_id: uuid.UUID) -> None:
        """Wait until nothing of the interview is queued; a fresh actor may then load it."""
        async with self._drained:
            await self._drained.wait_for(lambda: interview_id not in self._queues)
        self._fenced.discard(interview_id)

    async def close(self) -> None:
        """Stop the flusher; say loudly what a queued tail loses."""
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        for interview_id, queue in self._queues.items():
            log.error(
                "events not stored in Postgres are lost at shutdown",
                extra={
                    "interview_id": str(interview_id),
                    "events": sum(len(b.events) for b in queue),
                },
            )

    async def _store(self, batch: JournalBatch) -> None:
        try:
            await asyncio.wait_for(
                self._journal.commit(
                    batch.interview_id,
                    batch.events,
                    state=batch.state,
                    checkpoint=batch.checkpoint,
                ),
                self._retry.attempt_timeout_s,
            )
        except JournalConflictError:
            # An attempt whose reply was lost may have been stored: then this is not a conflict.
            if not await self._already_stored(batch):
                raise

    async def _already_stored(self, batch: JournalBatch) -> bool:
        if not batch.events:
            return True
        first = batch.events[0]
        stored = await self._journal.events_after(
            batch.interview_id, first.seq - 1, len(batch.events)
        )
        return [_identity(e) for e in stored] == [_identity(e) for e in batch.events]

    def _enqueue(self, batch: JournalBatch) -> None:
        self._queues.setdefault(batch.interview_id, deque()).append(batch)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_until_empty(), name="journal-queue")

    async def _flush_until_empty(self) -> None:
        delay = self._retry.initial_delay_s
        while self._queues:
            try:
                await self._flush_once()
            except Exception as exc:
                if postgres_unreachable(exc):
                    await self._switch.set(True, exc)
                else:
                    log.exception("journal queue flush failed; retrying")
                await asyncio.sleep(delay)  # retry backoff while Postgres is away
                delay = min(delay * 2, self._retry.max_delay_s)
                continue
        await self._switch.set(False)

    async def _flush_once(self) -> None:
        for interview_id in list(self._queues):
            queue = self._queues[interview_id]
            while queue:
                batch = queue[0]
                try:
                    await self._store(batch)
                except Exception as exc:
                    if postgres_unreachable(exc):
                        raise
                    self._fence(interview_id, queue, exc)
                    break
                queue.popleft()
                await self._on_stored(batch)
            del self._queues[interview_id]
            async with self._drained:
                self._drained.notify_all()

    def _fence(self, interview_id: uuid.UUID, queue: deque[JournalBatch], exc: Exception) -> None:
        """Postgres refused a queued batch: drop the tail; the actor's next commit fails."""
        if self._metrics is not None:
            self._metrics.count_error("postgres")
        log.error(
            "queued events refused by Postgres; they are lost and the actor will restart",
            extra={
                "interview_id": str(interview_id),
                "events": sum(len(b.events) for b in queue),
                "error": type(exc).__name__,
            },
        )
        queue.clear()
        self._fenced.add(interview_id)


def _identity(event: InterviewEvent) -> tuple[int, str, Any, Any]:
    return (event.seq, event.type, event.payload, event.at)
