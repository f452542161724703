"""Interview templates in Postgres, versioned: saving a changed body adds a version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class TemplateRecord:
    """A stored template version; `body` is the validated template as JSON."""

    id: uuid.UUID
    slug: str
    version: int
    title: str
    role: str
    body: dict[str, Any]
    created_at: datetime


class TemplateRepository:
    """Reads and writes `interview_templates`."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def save(self, slug: str, title: str, role: str, body: dict[str, Any]) -> TemplateRecord:
        """Store `body` as the newest version of `slug`, unless it equals the newest already."""
        async with self._pool.acquire() as connection, connection.transaction():
            # Serialise saves of one slug so that two nodes seeding at once agree on versions.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", slug)
            latest = await connection.fetchrow(
                "SELECT * FROM interview_templates WHERE slug = $1 ORDER BY version DESC LIMIT 1",
                slug,
            )
            if latest is not None and latest["body"] == body:
                return _record(latest)
            version = 1 if latest is None else latest["version"] + 1
            row = await connection.fetchrow(
                "INSERT INTO interview_templates (id, slug, version, title, role, body) "
                "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                uuid.uuid4(),
                slug,
                version,
                title,
                role,
                body,
            )
            return _record(row)

    async def get(self, template_id: uuid.UUID) -> TemplateRecord | None:
        """The template version with this id, if any."""
        row = await self._pool.fetchrow(
            "SELECT * FROM interview_templates WHERE id = $1", template_id
        )
        return None if row is None else _record(row)

    async def latest(self, slug: str) -> TemplateRecord | None:
        """The newest version of `slug`, if any."""
        row = await self._pool.fetchrow(
            "SELECT * FROM interview_templates WHERE slug = $1 ORDER BY version DESC LIMIT 1",
            slug,
        )
        return None if row is None else _record(row)

    async def list_latest(self, limit: int = 100, offset: int = 0) -> list[TemplateRecord]:
        """The newest version of every template, by slug."""
        rows = await self._pool.fetch(
            "SELECT DISTINCT ON (slug) * FROM interview_templates "
            "ORDER BY slug, version DESC LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [_record(row) for row in rows]


def _record(row: asyncpg.Record) -> TemplateRecord:
    return TemplateRecord(
        id=row["id"],
        slug=row["slug"],
        version=row["version"],
        title=row["title"],
        role=row["role"],
        body=row["body"],
        created_at=row["created_at"],
    )
