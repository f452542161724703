"""Mirrors durable events and live state into Redis, in order per interview, through outages.

While Redis answers, writes go straight through. When a write fails, it and every later write
of that interview wait in memory, in order, and a background flusher retries with backoff until
Redis answers again. Stream entries are keyed `<seq>-0`, so a retried entry Redis already holds
is recognised and skipped: the stream ends up with each event once, in order.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.exceptions import RedisError, ResponseError

from codesage.config.metrics import NodeMetrics
from codesage.storage.journal import InterviewJournal
from codesage.storage.live_state import LiveStateStore, StreamEvent

log = logging.getLogger(__name__)

DegradedChanged = Callable[[bool], Awaitable[None]]


class DegradedSwitch:
    """Whether a dependency is down; each change is counted, logged and reported exactly once."""

    def __init__(
        self,
        component: str,
        on_change: DegradedChanged,
        metrics: NodeMetrics | None,
        *,
        logger: logging.Logger,
        down_level: int,
        down_message: str,
        up_message: str,
    ):
        self._component = component
        self._on_change = on_change
        self._metrics = metrics
        self._log = logger
        self._down_level = down_level
        self._down_message = down_message
        self._up_message = up_message
        self._degraded = False
        self._lock = asyncio.Lock()

    @property
    def degraded(self) -> bool:
        """True while the dependency is known to be down."""
        return self._degraded

    async def set(self, degraded: bool, cause: BaseException | None = None) -> None:
        """Record the dependency's state; only a change is counted, logged and reported."""
        async with self._lock:
            if degraded == self._degraded:
                return
            self._degraded = degraded
            if degraded:
                if self._metrics is not None:
                    self._metrics.count_error(self._component)
                self._log.log(
                    self._down_level,
                    self._down_message,
                    extra={"error": type(cause).__name__ if cause else None},
                )
            else:
                self._log.info(self._up_message)
            await self._on_change(degraded)


# Redis refuses an XADD whose id is not above the stream's last one.
_ID_NOT_ABOVE_TOP = "equal or smaller"


@dataclass(frozen=True)
class LiveWrite:
    """One write of an interview's live data: a stream entry or a merge into its state hash."""

    event: StreamEvent | None = None
    state: dict[str, str] | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How long one attempt may take and how retries back off during an outage."""

    attempt_timeout_s: float = 1.0
    initial_delay_s: float = 0.1
    max_delay_s: float = 5.0


class LiveMirror:
    """Writes each interview's live data to Redis in order, buffering while Redis is down."""

    def __init__(
        self,
        live: LiveStateStore,
        journal: InterviewJournal,
        on_degraded: DegradedChanged,
        *,
        retry: RetryPolicy | None = None,
        metrics: NodeMetrics | None = None,
    ):
        self._live = live
        self._journal = journal
        # Flips and their notices in one order: a short blip never says "back" before "down".
        self._switch = DegradedSwitch(
            "redis",
            on_degraded,
            metrics,
            logger=log,
            down_level=logging.WARNING,
            down_message="Redis unreachable: buffering live writes",
            up_message="Redis reachable again: live writes flushed",
        )
        self._retry = retry or RetryPolicy()
        self._pending: dict[uuid.UUID, deque[LiveWrite]] = {}
        self._continuous: set[uuid.UUID] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._drained = asyncio.Condition()

    @property
    def degraded(self) -> bool:
        """Whether Redis is unreachable (writes are being buffered)."""
        return self._switch.degraded

    async def write(self, interview_id: uuid.UUID, writes: list[LiveWrite]) -> None:
        """Write now when Redis is healthy and nothing of the interview waits; else buffer."""
        if self._switch.degraded or interview_id in self._pending:
            self._buffer(interview_id, writes)
            return
        for index, item in enumerate(writes):
            try:
                await asyncio.wait_for(
                    self._apply(interview_id, item), self._retry.attempt_timeout_s
                )
            except (RedisError, OSError, TimeoutError) as exc:
                self._buffer(interview_id, writes[index:])
                await self._switch.set(True, exc)
                return

    async def flushed(self, interview_id: uuid.UUID) -> None:
        """Wait until nothing of the interview is buffered."""
        async with self._drained:
            await self._drained.wait_for(lambda: interview_id not in self._pending)

    def forget(self, interview_id: uuid.UUID) -> None:
        """The interview ended: stop remembering that its stream was checked."""
        self._continuous.discard(interview_id)

    async def close(self) -> None:
        """Stop the flusher; whatever is still buffered is dropped (Postgres has the events)."""
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._pending:
            log.warning(
                "live writes dropped at shutdown",
                extra={"interviews": len(self._pending)},
            )

    def _buffer(self, interview_id: uuid.UUID, writes: list[LiveWrite]) -> None:
        self._pending.setdefault(interview_id, deque()).extend(writes)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_until_empty(), name="live-mirror")

    async def _flush_until_empty(self) -> None:
        delay = self._retry.initial_delay_s
        while self._pending:
            try:
                await self._flush_once()
            except (RedisError, OSError, TimeoutError) as exc:
                await self._switch.set(True, exc)
                await asyncio.sleep(delay)  # retry backoff while Redis is away
                delay = min(delay * 2, self._retry.max_delay_s)
                continue
        await self._switch.set(False)

    async def _flush_once(self) -> None:
        for interview_id in list(self._pending):
            queue = self._pending[interview_id]
            while queue:
                await asyncio.wait_for(
                    self._apply(interview_id, queue[0]), self._retry.attempt_timeout_s
                )
                queue.popleft()
            del self._pending[interview_id]
            async with self._drained:
                self._drained.notify_all()

    async def _apply(self, interview_id: uuid.UUID, item: LiveWrite) -> None:
        if item.event is not None:
            await self._append(interview_id, item.event)
        if item.state is not None:
            await self._live.set_state(str(interview_id), item.state)

    async def _append(self, interview_id: uuid.UUID, event: StreamEvent) -> None:
        if interview_id not in self._continuous:
            await self._fill_gap_before(interview_id, event.seq)
        await self._add(interview_id, event)

    async def _add(self, interview_id: uuid.UUID, event: StreamEvent) -> None:
        key = str(interview_id)
        try:
            await self._live.append_event(key, event)
        except ResponseError as exc:
            if _ID_NOT_ABOVE_TOP not in str(exc):
                # Redis answered and refused: retrying cannot help, and Postgres has the event.
                log.error(
                    "live stream refused an event",
                    extra={"interview_id": key, "seq": event.seq, "error": str(exc)},
                )
                return
            if not await self._stored(key, event.seq):
                log.warning(
                    "live stream is past an event it never got; readers use Postgres for it",
                    extra={"interview_id": key, "seq": event.seq},
                )

    async def _fill_gap_before(self, interview_id: uuid.UUID, seq: int) -> None:
        """A node that takes an interview over first adds what a dead owner never streamed."""
        key = str(interview_id)
        if seq > 1 and not await self._stored(key, seq - 1):
            try:
                earlier = await self._journal.events_after(interview_id, 0, seq - 1)
            except Exception as exc:  # Postgres away: try again with the next event
                log.warning(
                    "cannot read the journal to fill the live stream",
                    extra={"interview_id": key, "error": type(exc).__name__},
                )
                return
            for event in earlier:
                await self._add(interview_id, StreamEvent(event.seq, event.type, event.payload))
        self._continuous.add(interview_id)

    async def _stored(self, key: str, seq: int) -> bool:
        found = await self._live.events_after(key, seq - 1, limit=1)
        return bool(found) and found[0].seq == seq
