"""Numbered interview events: durable in Postgres first, then the Redis stream, then fan-out."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Protocol

from redis.exceptions import RedisError

from codesage.config.metrics import NodeMetrics
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.live_state import LiveStateStore, StreamEvent

log = logging.getLogger(__name__)

# Event types a candidate may see; `score` and `summary` only in practice interviews.
CANDIDATE_EVENT_TYPES = frozenset(
    {"state_changed", "prompt", "answer_final", "answer_partial", "hint", "ended"}
)
PRACTICE_FEEDBACK_TYPES = frozenset({"score", "summary"})


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


class InterviewEventLog:
    """Commits an actor's events with its checkpoint and passes them on."""

    def __init__(
        self,
        journal: InterviewJournal,
        live: LiveStateStore,
        sink: EventSink,
        *,
        metrics: NodeMetrics | None = None,
    ):
        self._journal = journal
        self._live = live
        self._sink = sink
        self._metrics = metrics

    @property
    def journal(self) -> InterviewJournal:
        """The durable journal (for reading events back)."""
        return self._journal

    async def commit(
        self,
        interview_id: uuid.UUID,
        mode: str,
        events: list[InterviewEvent],
        *,
        state: str,
        checkpoint: dict[str, Any],
    ) -> None:
        """Store durably (raises if Postgres fails), then stream and fan out."""
        await self._journal.commit(interview_id, events, state=state, checkpoint=checkpoint)
        if self._metrics is not None:
            for event in events:
                self._metrics.events.labels(type=event.type).inc()
        try:
            for event in events:
                await self._live.append_event(
                    str(interview_id), StreamEvent(event.seq, event.type, event.payload)
                )
            await self._live.set_state(str(interview_id), {"state": state})
        except (RedisError, OSError) as exc:
            if self._metrics is not None:
                self._metrics.count_error("redis")
            # The durable log has it; readers fall back to Postgres for what Redis missed.
            log.warning(
                "live stream append failed",
                extra={"interview_id": str(interview_id), "error": type(exc).__name__},
            )
        for event in events:
            try:
                await self._sink.publish(interview_id, mode, event)
            except Exception as exc:
                # Stored already: a client that missed it gets it on its next join or watch.
                log.warning(
                    "event fan-out failed",
                    extra={"interview_id": str(interview_id), "error": type(exc).__name__},
                )
