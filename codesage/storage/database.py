"""The asyncpg pool and the versioned SQL migrations applied at start."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same on every node so that they queue on it.
MIGRATION_LOCK_ID = 0x_C0DE_5A6E
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class DatabaseError(Exception):
    """Postgres is unreachable or refused a setup step; the message says what and where."""


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file from `codesage/storage/migrations`."""

    version: int
    name: str
    sql: str


def shipped_migrations() -> list[Migration]:
    """The migrations packaged with codesage, in version order."""
    found = []
    for entry in resources.files("codesage.storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise DatabaseError(f"two migrations share a version: {versions}")
    return found


async def _init_connection(connection: asyncpg.Connection) -> None:
    # jsonb columns come back as Python objects, not strings.
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool on `dsn`; raise `DatabaseError` (without the password) if it fails."""
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=_init_connection, timeout=10
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseError(f"cannot connect to Postgres at {redact_dsn(dsn)}: {exc}") from exc
    return pool


async def apply_migrations(
    pool: asyncpg.Pool, migrations: list[Migration] | None = None
) -> list[int]:
    """Apply every migration not yet applied, under an advisory lock; return the new versions."""
    pending_source = shipped_migrations() if migrations is None else migrations
    applied_now: list[int] = []
    async with pool.acquire() as connection, connection.transaction():
        # A transaction-scoped lock: two nodes starting at once apply each migration once,
        # and the lock is released even if this node dies mid-way.
        await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_ID)
        await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        rows = await connection.fetch("SELECT version FROM schema_migrations")
        done = {row["version"] for row in rows}
        for migration in pending_source:
            if migration.version in done:
                continue
            log.info("applying migration", extra={"migration": migration.version})
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied_now.append(migration.version)
    return applied_now


async def applied_versions(pool: asyncpg.Pool) -> list[int]:
    """Versions recorded in `schema_migrations`, ascending."""
    rows = await pool.fetch("SELECT version FROM schema_migrations ORDER BY version")
    return [row["version"] for row in rows]


async def ping(pool: asyncpg.Pool) -> bool:
    """True when Postgres answers a trivial query within two seconds."""
    try:
        value: Any = await pool.fetchval("SELECT 1", timeout=2)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return False
    return bool(value == 1)


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced by `***`, safe for logs and error messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
