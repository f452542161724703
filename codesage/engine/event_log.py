"""Numbered interview events: durable in Postgres first, then the Redis stream, then fan-out.

Outages do not stop an interview: while Postgres is away, batches wait in memory in order
(`journal_queue`); while Redis is away, stream and state writes do (`live_mirror`). Clients are
told with a `service_notice` (`{degraded, component}`) when either starts and when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Protocol

from codesage.config.metrics import NodeMetrics
from codesage.engine.journal_queue import JournalBatch, JournalWriter
from codesage.engine.live_mirror import LiveMirror, LiveWrite, RetryPolicy
from codesage.storage.interviews import FINAL_STATES
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.live_state import LiveStateStore, StreamEvent

log = logging.getLogger(__name__)

# Event types a candidate may see; `score` and `summary` only in practice interviews.
CANDIDATE_EVENT_TYPES = frozenset(
    {"state_changed", "prompt", "answer_final", "answer_partial", "hint", "ended"}
)
PRACTICE_FEEDBACK_TYPES = frozenset({"score", "summary"})
POSTGRES = "postgres"
REDIS = "redis"


def candidate_may_see(event_type: str, mode: str) -> bool:
    """Whether the interview's candidate may see events of this type."""
    if event_type in CANDIDATE_EVENT_TYPES:
        return True
    return mode == "practice" and event_type in PRACTICE_FEEDBACK_TYPES


def candidate_event_types(mode: str) -> tuple[str, ...]:
    """Every event type the candidate of an interview in `mode` may see."""
    extra = PRACTICE_FEEDBACK_TYPES if mode == "practice" else frozenset()
    return tuple(sorted(CANDIDATE_EVENT_TYPES | extra))


class EventSink(Protocol):
    """Receives every committed event, in order (the web layer fans it out to sockets)."""

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None: ...


class NoticeSink(Protocol):
    """Receives service notices (no sequence number) for an interview's candidate and observers."""

    async def notice(self, interview_id: uuid.UUID, payload: dict[str, Any]) -> None: ...


class InterviewEventLog:
    """Commits an actor's events with its checkpoint and passes them on."""

    def __init__(
        self,
        journal: InterviewJournal,
        live: LiveStateStore,
        sink: EventSink,
        *,
        notices: NoticeSink | None = None,
        metrics: NodeMetrics | None = None,
        postgres_retry: RetryPolicy | None = None,
        redis_retry: RetryPolicy | None = None,
    ):
        self._journal = journal
        self._sink = sink
        self._notices = notices
        self._metrics = metrics
        self._mirror = LiveMirror(
            live, journal, self._redis_changed, retry=redis_retry, metrics=metrics
        )
        self._writer = JournalWriter(
            journal, self._stored, self._postgres_changed, retry=postgres_retry, metrics=metrics
        )
        # Interviews this node writes for and that have not ended: who gets service notices.
        self._watched: set[uuid.UUID] = set()

    @property
    def journal(self) -> InterviewJournal:
        """The durable journal (for reading events back)."""
        return self._journal

    def degraded(self) -> dict[str, bool]:
        """Which stores this node is working around right now."""
        return {POSTGRES: self._writer.degraded, REDIS: self._mirror.degraded}

    async def commit(
        self,
        interview_id: uuid.UUID,
        mode: str,
        events: list[InterviewEvent],
        *,
        state: str,
        checkpoint: dict[str, Any],
    ) -> None:
        """Store durably (queued through a Postgres outage), then stream and fan out.

        Raises JournalConflictError when another writer owns the interview's sequence numbers,
        and any error Postgres answers with other than being unreachable.
        """
        await self._watch(interview_id, state)
        await self._writer.commit(JournalBatch(interview_id, mode, events, state, checkpoint))
        for event in events:
            try:
                await self._sink.publish(interview_id, mode, event)
            except Exception as exc:
                # Stored already: a client that missed it gets it on its next join or watch.
                log.warning(
                    "event fan-out failed",
                    extra={"interview_id": str(interview_id), "error": type(exc).__name__},
                )

    async def settle(self, interview_id: uuid.UUID, timeout_s: float) -> bool:
        """Whether every queued event of the interview reached Postgres within `timeout_s`."""
        try:
            await asyncio.wait_for(self._writer.settle(interview_id), timeout_s)
        except TimeoutError:
            return False
        return True

    async def mirrored(self, interview_id: uuid.UUID) -> None:
        """Wait until the interview's live writes have all reached Redis."""
        await self._mirror.flushed(interview_id)

    async def close(self) -> None:
        """Stop retrying; what is still queued is reported and dropped."""
        await self._writer.close()
        await self._mirror.close()

    async def _stored(self, batch: JournalBatch) -> None:
        """A batch is durable: count it and mirror it to Redis, in order."""
        if self._metrics is not None:
            for event in batch.events:
                self._metrics.events.labels(type=event.type).inc()
        writes = [LiveWrite(event=StreamEvent(e.seq, e.type, e.payload)) for e in batch.events]
        writes.append(LiveWrite(state={"state": batch.state}))
        await self._mirror.write(batch.interview_id, writes)
        if batch.state in FINAL_STATES:
            self._mirror.forget(batch.interview_id)

    async def _watch(self, interview_id: uuid.UUID, state: str) -> None:
        if state in FINAL_STATES:
            self._watched.discard(interview_id)
            return
        if interview_id in self._watched:
            return
        self._watched.add(interview_id)
        # An interview that starts during an outage learns of it like the others did.
        for component, degraded in self.degraded().items():
            if degraded:
                await self._notify(interview_id, component, True)

    async def _postgres_changed(self, degraded: bool) -> None:
        for interview_id in list(self._watched):
            await self._notify(interview_id, POSTGRES, degraded)

    async def _redis_changed(self, degraded: bool) -> None:
        for interview_id in list(self._watched):
            await self._notify(interview_id, REDIS, degraded)

    async def _notify(self, interview_id: uuid.UUID, component: str, degraded: bool) -> None:
        if self._notices is None:
            return
        try:
            await self._notices.notice(interview_id, {"degraded": degraded, "component": component})
        except Exception as exc:
            log.warning(
                "service notice failed",
                extra={"interview_id": str(interview_id), "error": type(exc).__name__},
            )
