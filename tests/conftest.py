"""Shared fixtures: each test gets its own real Postgres database and Redis key prefix."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis as redis_sync

from codesage.storage.connections import Storage

ADMIN_DATABASE_URL = os.environ.get(
    "CODESAGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_REDIS_URL = os.environ.get("CODESAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh, empty database on the test Postgres, dropped after the test."""
    name = f"codesage_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _with_database(ADMIN_DATABASE_URL, name)
    admin = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own on the test Redis; its keys are deleted afterwards."""
    prefix = f"codesage-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis_sync.Redis.from_url(TEST_REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def storage(database_url: str, redis_prefix: str) -> AsyncIterator[Storage]:
    """Open, migrated storage on the test's own database and key prefix."""
    opened = await Storage.open(database_url, TEST_REDIS_URL, redis_prefix=redis_prefix)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
def rubric_scorer() -> Any:
    """The real embedding scorer, loaded once per test session (a couple of seconds)."""
    from codesage.agents.embeddings import MiniLMEncoder
    from codesage.agents.scoring import RubricScorer
    from codesage.node import use_one_torch_thread_per_job

    use_one_torch_thread_per_job()

    return RubricScorer(MiniLMEncoder())


TEST_JWT_SECRET = "test-secret-" + "x" * 40


@pytest.fixture
async def node(storage: Storage, redis_prefix: str, rubric_scorer: Any) -> AsyncIterator[Any]:
    """A fully wired node (engine, REST, Socket.IO) on the test's own database and prefix."""
    from codesage.node import build_node

    built = await build_node(
        storage,
        redis_url=TEST_REDIS_URL,
        jwt_secret=TEST_JWT_SECRET,
        inference_threads=2,
        web_dist=None,
        scorer=rubric_scorer,
        socket_channel=f"{redis_prefix}socketio",
    )
    yield built
    await built.close()


@pytest.fixture
async def redis_url(tmp_path: Path) -> AsyncIterator[str]:
    """A Redis server of the test's own (embedded): for nodes in other processes to share."""
    from codesage.storage.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis")
    url = await asyncio.to_thread(server.start)
    yield url
    await asyncio.to_thread(server.stop)
