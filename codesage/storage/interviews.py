"""Interviews and their anonymous candidates in Postgres."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

# States in which an interview has a live actor (or should get one back after a crash).
LIVE_STATES = (
    "waiting",
    "consent",
    "questioning",
    "follow_up",
    "paused",
    "human_takeover",
    "closing",
)
FINAL_STATES = ("done", "cancelled")


@dataclass(frozen=True)
class InterviewRecord:
    """One interview row, with its template's title and its last event's sequence number."""

    id: uuid.UUID
    template_id: uuid.UUID
    template_title: str
    candidate_id: uuid.UUID
    mode: str
    state: str
    window_start: datetime | None
    window_end: datetime | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    last_seq: int

    def to_json(self) -> dict[str, Any]:
        """The API's `Interview` shape."""
        return {
            "id": str(self.id),
            "template_id": str(self.template_id),
            "template_title": self.template_title,
            "candidate_id": str(self.candidate_id),
            "mode": self.mode,
            "state": self.state,
            "window_start": _iso(self.window_start),
            "window_end": _iso(self.window_end),
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "last_seq": self.last_seq,
        }


@dataclass(frozen=True)
class Checkpoint:
    """The actor state saved with the event of sequence number `seq`."""

    seq: int
    state: dict[str, Any]


_SELECT = """
    SELECT i.*, t.title AS template_title
    FROM interviews i JOIN interview_templates t ON t.id = i.template_id
"""


class InterviewRepository:
    """Reads and writes `interviews` and `candidates`."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def create(
        self,
        template_id: uuid.UUID,
        mode: str,
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        candidate_profile: dict[str, Any] | None = None,
    ) -> InterviewRecord:
        """A new scheduled interview for a new anonymous candidate."""
        interview_id, candidate_id = uuid.uuid4(), uuid.uuid4()
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO candidates (id, profile) VALUES ($1, $2)",
                candidate_id,
                candidate_profile or {},
            )
            await connection.execute(
                "INSERT INTO interviews (id, template_id, candidate_id, mode, window_start, "
                "window_end) VALUES ($1, $2, $3, $4, $5, $6)",
                interview_id,
                template_id,
                candidate_id,
                mode,
                window_start,
                window_end,
            )
        record = await self.get(interview_id)
        assert record is not None
        return record

    async def get(
        self, interview_id: uuid.UUID, *, connection: asyncpg.Connection | None = None
    ) -> InterviewRecord | None:
        """The interview, if it exists (read on `connection` inside its transaction, if given)."""
        reader = self._pool if connection is None else connection
        row = await reader.fetchrow(_SELECT + " WHERE i.id = $1", interview_id)
        return None if row is None else _record(row)

    async def list(
        self, *, states: tuple[str, ...] | None = None, limit: int = 50, offset: int = 0
    ) -> list[InterviewRecord]:
        """Interviews, newest first, optionally only in `states`."""
        rows = await self._pool.fetch(
            _SELECT + " WHERE ($1::text[] IS NULL OR i.state = ANY($1::text[])) "
            "ORDER BY i.created_at DESC, i.id LIMIT $2 OFFSET $3",
            list(states) if states else None,
            limit,
            offset,
        )
        return [_record(row) for row in rows]

    async def set_state(self, interview_id: uuid.UUID, state: str) -> None:
        """Change the state outside an actor (cancelling a scheduled interview)."""
        await self._pool.execute(
            "UPDATE interviews SET state = $2, "
            "ended_at = CASE WHEN $2 = ANY($3::text[]) THEN now() ELSE ended_at END "
            "WHERE id = $1",
            interview_id,
            state,
            list(FINAL_STATES),
        )

    async def checkpoint(self, interview_id: uuid.UUID) -> Checkpoint | None:
        """The last saved actor state, if any."""
        row = await self._pool.fetchrow(
            "SELECT checkpoint, checkpoint_seq FROM interviews WHERE id = $1", interview_id
        )
        if row is None or row["checkpoint"] is None:
            return None
        return Checkpoint(seq=row["checkpoint_seq"], state=row["checkpoint"])

    async def candidate_profile(self, candidate_id: uuid.UUID) -> dict[str, Any]:
        """The candidate's scrubbed profile (skills), empty when none."""
        profile = await self._pool.fetchval(
            "SELECT profile FROM candidates WHERE id = $1", candidate_id
        )
        return dict(profile or {})


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _record(row: asyncpg.Record) -> InterviewRecord:
    return InterviewRecord(
        id=row["id"],
        template_id=row["template_id"],
        template_title=row["template_title"],
        candidate_id=row["candidate_id"],
        mode=row["mode"],
        state=row["state"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        last_seq=row["checkpoint_seq"],
    )
