"""Redis and Postgres outages mid-interview: answers are accepted and nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codesage.agents.scoring_pool import ScoringPool
from codesage.engine.commands import Join
from codesage.engine.template_catalog import seed_templates
from codesage.storage.connections import Storage
from codesage.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from codesage.storage.templates import TemplateRepository
from tests.conftest import TEST_REDIS_URL
from tests.resilience.engine_nodes import (
    EngineNode,
    answer_well,
    assert_gapless,
    begin,
    engine_node,
    journal_of,
    schedule,
    template_of,
)

NOTICE_TIMEOUT_S = 10


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[EmbeddedRedis]:
    """A real Redis of the test's own, which the test may stop and start again."""
    server = EmbeddedRedis(tmp_path / "redis")
    await asyncio.to_thread(server.start)
    yield server
    await asyncio.to_thread(server.stop)


@pytest.fixture
async def postgres_server(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A real Postgres of the test's own and its URL; the test may stop and start it again."""
    server = EmbeddedPostgres(tmp_path / "postgres")
    url = await asyncio.to_thread(server.start)
    yield server, url
    await asyncio.to_thread(server.stop)


async def _open(database_url: str, redis_url: str, prefix: str = "codesage:") -> Storage:
    storage = await Storage.open(database_url, redis_url, redis_prefix=prefix)
    await seed_templates(TemplateRepository(storage.pool))
    return storage


async def test_a_redis_outage_loses_no_event_and_clients_are_told(
    database_url: str, redis_server: EmbeddedRedis, scoring: ScoringPool
) -> None:
    storage = await _open(database_url, f"unix://{redis_server.socket_path}")
    node: EngineNode | None = None
    try:
        node = engine_node(storage, scoring, "a")
        interview_id = await schedule(storage)
        template = await template_of(storage)
        prompt = await begin(node.supervisor, interview_id)
        prompt = await answer_well(node.supervisor, interview_id, template, prompt)

        await asyncio.to_thread(redis_server.stop)
        answered = []
        for _ in range(2):
            answered.append(prompt["prompt_id"])
            prompt = await answer_well(node.supervisor, interview_id, template, prompt)
        await node.recorder.notice_received("redis", True, NOTICE_TIMEOUT_S)
        stored = await journal_of(storage, interview_id)
        finals = [e.payload["prompt_id"] for e in stored if e.type == "answer_final"]
        assert finals[-2:] == answered  # committed to Postgres during the outage

        await asyncio.to_thread(redis_server.start)  # same folder: its data comes back
        await node.recorder.notice_received("redis", False, NOTICE_TIMEOUT_S)
        await node.event_log.mirrored(interview_id)
        journal = await journal_of(storage, interview_id)
        stream = await storage.live.events_after(str(interview_id), 0, 10_000)
        assert_gapless(journal)
        assert [(e.seq, e.type, e.payload) for e in stream] == [
            (e.seq, e.type, e.payload) for e in journal
        ]
        assert (await storage.live.get_state(str(interview_id)))["state"] == "questioning"
        degraded = [n for n in node.recorder.notices if n["component"] == "redis"]
        assert degraded == [
            {"degraded": True, "component": "redis"},
            {"degraded": False, "component": "redis"},
        ]
    finally:
        if node is not None:
            await node.close()
        await storage.close()


async def test_a_postgres_outage_does_not_fail_the_candidate_and_loses_nothing(
    postgres_server: tuple[EmbeddedPostgres, str], scoring: ScoringPool, redis_prefix: str
) -> None:
    server, database_url = postgres_server
    storage = await _open(database_url, TEST_REDIS_URL, redis_prefix)
    node: EngineNode | None = None
    try:
        node = engine_node(storage, scoring, "a", prefix=redis_prefix)
        interview_id = await schedule(storage)
        template = await template_of(storage)
        prompt = await begin(node.supervisor, interview_id)
        prompt = await answer_well(node.supervisor, interview_id, template, prompt)
        before = await journal_of(storage, interview_id)

        await asyncio.to_thread(server.stop)
        during = await answer_well(node.supervisor, interview_id, template, prompt)
        assert during["prompt_id"] != prompt["prompt_id"]  # scored, and the next question is up
        await node.recorder.notice_received("postgres", True, NOTICE_TIMEOUT_S)

        assert await asyncio.to_thread(server.start) == database_url
        await node.recorder.notice_received("postgres", False, NOTICE_TIMEOUT_S)
        journal = await journal_of(storage, interview_id)
        assert_gapless(journal)
        assert journal[: len(before)] == before
        assert [e.seq for e in journal] == [e.seq for e in node.recorder.events]
        assert [(e.type, e.payload) for e in journal] == [
            (e.type, e.payload) for e in node.recorder.events
        ]
        finals = [e.payload["prompt_id"] for e in journal if e.type == "answer_final"]
        assert finals[-1] == prompt["prompt_id"]
        assert [e.type for e in journal].count("score") == len(finals)
        snapshot = await node.supervisor.ask(interview_id, Join())
        assert snapshot["prompt"]["prompt_id"] == during["prompt_id"]
        checkpoint = await storage.pool.fetchval(
            "SELECT checkpoint_seq FROM interviews WHERE id = $1", interview_id
        )
        assert checkpoint == journal[-1].seq
    finally:
        if node is not None:
            await node.close()
        await storage.close()
