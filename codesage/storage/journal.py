"""The durable interview journal: ordered events, their table projections and the checkpoint.

Each commit is one transaction, so the events, the turns and scores derived from them and the
actor checkpoint never disagree, whatever dies in between.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from codesage.storage.interviews import FINAL_STATES

# The first state in which questions are asked; its first commit stamps `started_at`.
_STARTED_STATES = ("questioning", "follow_up", "human_takeover")


class JournalConflictError(Exception):
    """An event's sequence number is already taken: another writer owns this interview."""


@dataclass(frozen=True)
class InterviewEvent:
    """One event of an interview, numbered from 1 without gaps."""

    interview_id: uuid.UUID
    seq: int
    type: str
    payload: dict[str, Any]
    at: datetime

    def to_json(self) -> dict[str, Any]:
        """The API's `Event` shape."""
        return {
            "seq": self.seq,
            "type": self.type,
            "at": self.at.isoformat(),
            "payload": self.payload,
        }

    @staticmethod
    def now() -> datetime:
        """The timestamp for a new event."""
        return datetime.now(UTC)


CommitHook = Callable[[asyncpg.Connection, uuid.UUID, "list[InterviewEvent]"], Awaitable[None]]
"""More writes that must land with the events or not at all (e.g. webhook deliveries)."""


class InterviewJournal:
    """Appends events with their projections and checkpoint; reads events back in order."""

    def __init__(self, pool: asyncpg.Pool, *, commit_hooks: Sequence[CommitHook] = ()):
        self._pool = pool
        self._commit_hooks = tuple(commit_hooks)

    async def commit(
        self,
        interview_id: uuid.UUID,
        events: list[InterviewEvent],
        *,
        state: str,
        checkpoint: dict[str, Any],
    ) -> None:
        """Store `events` (consecutive seqs), their projections, the new state and checkpoint."""
        if not events:
            return
        async with self._pool.acquire() as connection, connection.transaction():
            for event in events:
                try:
                    await connection.execute(
                        "INSERT INTO interview_events (interview_id, seq, type, payload, "
                        "created_at) VALUES ($1, $2, $3, $4, $5)",
                        interview_id,
                        event.seq,
                        event.type,
                        event.payload,
                        event.at,
                    )
                except asyncpg.UniqueViolationError as exc:
                    raise JournalConflictError(
                        f"interview {interview_id}: event {event.seq} already stored"
                    ) from exc
                await _project(connection, event)
            await connection.execute(
                "UPDATE interviews SET state = $2, checkpoint = $3, checkpoint_seq = $4, "
                "started_at = CASE WHEN started_at IS NULL AND $2 = ANY($5::text[]) "
                "  THEN $6 ELSE started_at END, "
                "ended_at = CASE WHEN $2 = ANY($7::text[]) THEN coalesce(ended_at, $6) "
                "  ELSE ended_at END "
                "WHERE id = $1",
                interview_id,
                state,
                checkpoint,
                events[-1].seq,
                list(_STARTED_STATES),
                events[-1].at,
                list(FINAL_STATES),
            )
            for hook in self._commit_hooks:
                await hook(connection, interview_id, events)

    async def events_after(
        self,
        interview_id: uuid.UUID,
        after_seq: int = 0,
        limit: int = 1000,
        types: tuple[str, ...] | None = None,
    ) -> list[InterviewEvent]:
        """Events with seq > `after_seq` in order, optionally only of `types`."""
        rows = await self._pool.fetch(
            "SELECT * FROM interview_events WHERE interview_id = $1 AND seq > $2 "
            "AND ($4::text[] IS NULL OR type = ANY($4::text[])) ORDER BY seq LIMIT $3",
            interview_id,
            after_seq,
            limit,
            list(types) if types else None,
        )
        return [
            InterviewEvent(r["interview_id"], r["seq"], r["type"], r["payload"], r["created_at"])
            for r in rows
        ]

    async def last_seq(self, interview_id: uuid.UUID) -> int:
        """The highest stored sequence number (0 when none)."""
        value = await self._pool.fetchval(
            "SELECT coalesce(max(seq), 0) FROM interview_events WHERE interview_id = $1",
            interview_id,
        )
        return int(value)


async def _project(connection: asyncpg.Connection, event: InterviewEvent) -> None:
    """Keep `turns` and `scores` in step with the events they derive from."""
    payload = event.payload
    if event.type == "prompt" and payload.get("kind") != "closing":
        await connection.execute(
            "INSERT INTO turns (id, interview_id, ordinal, kind, question_id, question_text, "
            "asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            uuid.UUID(payload["prompt_id"]),
            event.interview_id,
            event.seq,
            payload["kind"],
            payload.get("question_id"),
            payload["text"],
            event.at,
        )
    elif event.type == "answer_final":
        await connection.execute(
            "UPDATE turns SET answer_text = $3, answered_at = $4 "
            "WHERE id = $1 AND interview_id = $2",
            uuid.UUID(payload["prompt_id"]),
            event.interview_id,
            payload["text"],
            event.at,
        )
    elif event.type == "score":
        await connection.execute(
            "INSERT INTO scores (id, interview_id, turn_id, competency, level, score, "
            "confidence, insufficient_evidence, evidence, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            uuid.uuid4(),
            event.interview_id,
            uuid.UUID(payload["prompt_id"]),
            payload["competency"],
            payload.get("level"),
            payload.get("score"),
            payload["confidence"],
            payload["insufficient_evidence"],
            payload.get("evidence", []),
            event.at,
        )
