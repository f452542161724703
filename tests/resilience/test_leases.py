"""Ownership leases: two nodes on one Postgres and Redis never both run an interview."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from codesage.agents.scoring_pool import ScoringPool
from codesage.engine.commands import InterviewError, Join, ObserverAction
from codesage.engine.event_log import InterviewEventLog
from codesage.engine.loader import InterviewActorLoader
from codesage.engine.ownership import InterviewLeases, NodeIdentity, OwnedElsewhereError
from codesage.engine.supervisor import ActorSupervisor
from codesage.storage.connections import Storage
from codesage.storage.interviews import InterviewRepository
from codesage.storage.journal import InterviewJournal
from codesage.storage.templates import TemplateRepository
from tests.resilience.engine_nodes import (
    EngineNode,
    Recorder,
    answer_well,
    assert_gapless,
    begin,
    engine_node,
    journal_of,
    schedule,
    template_of,
)

NodeFactory = Callable[..., EngineNode]
TTL_S = 1.0


@pytest.fixture
async def make_node(
    seeded: Storage, scoring: ScoringPool, redis_prefix: str
) -> AsyncIterator[NodeFactory]:
    """Builds engine nodes on the test's storage and key prefix; closes them afterwards."""
    made: list[EngineNode] = []

    def make(name: str, ttl_s: float = TTL_S) -> EngineNode:
        node = engine_node(seeded, scoring, name, ttl_s=ttl_s, prefix=redis_prefix)
        made.append(node)
        return node

    yield make
    for node in made:
        await node.close()


async def _retry_until(attempt: Callable[[], Awaitable[Any]], deadline_s: float) -> Any:
    """Call `attempt` until it stops raising OwnedElsewhereError; fail after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return await attempt()
        except OwnedElsewhereError:
            if time.monotonic() > deadline:
                raise
        # The owner is another process whose lease expires in Redis: nothing to await but time.
        await asyncio.sleep(0.05)


async def test_only_one_node_owns_an_interview_and_the_other_learns_which(
    seeded: Storage, make_node: NodeFactory
) -> None:
    a, b = make_node("a"), make_node("b")
    interview_id = await schedule(seeded)
    await begin(a.supervisor, interview_id)
    with pytest.raises(OwnedElsewhereError) as refused:
        await b.supervisor.ask(interview_id, Join())
    assert refused.value.code == "owned_elsewhere" and refused.value.status == 409
    assert refused.value.owner == a.identity
    assert await b.leases.owner(interview_id) == a.identity
    assert b.supervisor.live_ids() == []


async def test_when_the_owner_stops_the_other_continues_at_the_same_question(
    seeded: Storage, make_node: NodeFactory
) -> None:
    a, b = make_node("a"), make_node("b")
    interview_id = await schedule(seeded)
    template = await template_of(seeded)
    first = await begin(a.supervisor, interview_id)
    open_prompt = await answer_well(a.supervisor, interview_id, template, first)
    before = await journal_of(seeded, interview_id)
    await a.close()  # a rolling restart: its lease is released at once

    snapshot = await b.supervisor.ask(interview_id, Join())
    assert snapshot["prompt"]["prompt_id"] == open_prompt["prompt_id"]
    assert snapshot["last_seq"] == before[-1].seq
    await answer_well(b.supervisor, interview_id, template, open_prompt)

    after = await journal_of(seeded, interview_id)
    assert_gapless(after)
    assert after[: len(before)] == before
    assert [e.seq for e in a.recorder.events + b.recorder.events] == [e.seq for e in after]
    answers = [e.payload["prompt_id"] for e in after if e.type == "answer_final"]
    assert answers == [first["prompt_id"], open_prompt["prompt_id"]]


async def test_an_expired_lease_is_taken_over_after_its_ttl(
    seeded: Storage, make_node: NodeFactory, redis_prefix: str
) -> None:
    a, b = make_node("a"), make_node("b")
    interview_id = await schedule(seeded)
    template = await template_of(seeded)
    open_prompt = await begin(a.supervisor, interview_id)
    await a.close()
    # A node that took the interview and died: its lease is never renewed nor released.
    dead = NodeIdentity("node-dead", "http://dead.test")
    dead_leases = InterviewLeases(seeded.redis, dead, ttl_s=TTL_S, prefix=redis_prefix)
    await dead_leases.acquire(interview_id)
    died_at = time.monotonic()
    with pytest.raises(OwnedElsewhereError) as refused:
        await b.supervisor.ask(interview_id, Join())
    assert refused.value.owner == dead

    snapshot = await _retry_until(lambda: b.supervisor.ask(interview_id, Join()), 5 * TTL_S)
    took_over_after = time.monotonic() - died_at
    assert took_over_after <= TTL_S + 0.5
    assert snapshot["prompt"]["prompt_id"] == open_prompt["prompt_id"]
    await answer_well(b.supervisor, interview_id, template, open_prompt)
    assert_gapless(await journal_of(seeded, interview_id))
    assert await b.leases.owner(interview_id) == b.identity


async def test_a_lost_lease_stops_the_actor(
    seeded: Storage, make_node: NodeFactory, redis_prefix: str
) -> None:
    a = make_node("a")
    interview_id = await schedule(seeded)
    await begin(a.supervisor, interview_id)
    actor = await a.supervisor.actor(interview_id)
    assert actor.task is not None
    thief = {"node_id": "node-thief", "url": "http://thief.test", "token": "t"}
    key = f"{redis_prefix}interview:{interview_id}:owner"
    await seeded.redis.set(key, json.dumps(thief), px=60_000)

    await asyncio.wait_for(actor.task, 3 * TTL_S)  # the next renewal finds the lease gone
    assert a.supervisor.live_ids() == []
    with pytest.raises(OwnedElsewhereError) as refused:
        await a.supervisor.ask(interview_id, Join())
    assert refused.value.owner.node_id == "node-thief"


async def test_a_second_writer_stops_the_owner_which_releases_its_lease(
    seeded: Storage, make_node: NodeFactory, scoring: ScoringPool
) -> None:
    a = make_node("a")
    interview_id = await schedule(seeded)
    template = await template_of(seeded)
    prompt = await begin(a.supervisor, interview_id)
    # A node without leases (an old version mid-rollout) writes to the same interview.
    journal = InterviewJournal(seeded.pool)
    legacy = ActorSupervisor(
        InterviewActorLoader(
            InterviewRepository(seeded.pool),
            TemplateRepository(seeded.pool),
            InterviewEventLog(journal, seeded.live, Recorder()),
            scoring,
        )
    )
    try:
        await legacy.ask(interview_id, ObserverAction("note", str(uuid.uuid4()), "Clear."))
        with pytest.raises(InterviewError) as refused:
            await answer_well(a.supervisor, interview_id, template, prompt)
    finally:
        await legacy.stop_all()
    assert refused.value.code == "owned_elsewhere"
    assert a.supervisor.live_ids() == []
    assert await a.leases.owner(interview_id) is None
    events = await journal_of(seeded, interview_id)
    assert_gapless(events)
    assert [e.type for e in events].count("note") == 1


async def test_a_restarted_node_takes_its_previous_lease_back_at_once(
    seeded: Storage, make_node: NodeFactory, redis_prefix: str
) -> None:
    interview_id = await schedule(seeded)
    first_run = make_node("a")
    await begin(first_run.supervisor, interview_id)
    lease_key = f"{redis_prefix}interview:{interview_id}:owner"
    held = await seeded.redis.get(lease_key)
    assert held is not None
    await first_run.close()
    # It died instead of stopping: its lease would stay in Redis, unrenewed, for a whole TTL.
    await seeded.redis.set(lease_key, held, px=60_000)

    second_run = make_node("a")
    snapshot = await second_run.supervisor.ask(interview_id, Join())
    assert snapshot["state"] == "questioning"
    assert await second_run.leases.owner(interview_id) == second_run.identity
