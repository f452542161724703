"""Failover with real processes: two `codesage serve` nodes, the owner killed mid-interview."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import socketio
from redis.asyncio import Redis

from codesage.agents.template import InterviewTemplate
from codesage.signaling.auth import JwtTokens, Role
from tests.conftest import TEST_JWT_SECRET
from tests.resilience.serve_process import ServeProcess, serve_env, start_serve

LEASE_TTL_S = 2.0
DRAIN_S = 5.0
RESUME_WITHIN_S = 5.0
TIMEOUT_S = 10


@pytest.fixture
def nodes(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[list[ServeProcess]]:
    """Nodes A and B on one fresh database and one Redis; killed after the test."""
    env = serve_env(
        database_url,
        redis_url,
        lease_ttl_seconds=str(LEASE_TTL_S),
        drain_seconds=str(DRAIN_S),
    )
    started = [start_serve(name, tmp_path, env) for name in ("a", "b")]
    try:
        yield started
    finally:
        for node in started:
            node.kill()


class Candidate:
    """A scripted browser: REST for the owner, Socket.IO for the interview; keeps what it saw."""

    def __init__(self, http: aiohttp.ClientSession, token: str, interview_id: str):
        self._http = http
        self._token = token
        self._interview_id = interview_id
        self.seen: dict[int, dict[str, Any]] = {}
        self.sent: list[tuple[str, str]] = []
        self._sio: socketio.AsyncClient | None = None
        self.dropped = asyncio.Event()

    async def owner(self, node_url: str) -> dict[str, str]:
        async with self._http.get(
            f"{node_url}/api/v1/interviews/{self._interview_id}/owner",
            headers={"Authorization": f"Bearer {self._token}"},
        ) as reply:
            assert reply.status == 200, await reply.text()
            body: dict[str, str] = await reply.json()
            return body

    async def connect(self, url: str) -> None:
        self._sio = socketio.AsyncClient(reconnection=False)
        self.dropped.clear()
        self._sio.on("event", self._remember, namespace="/candidate")
        self._sio.on("disconnect", self._dropped, namespace="/candidate")
        await self._sio.connect(
            url,
            transports=["websocket"],
            namespaces=["/candidate"],
            auth={"token": self._token},
            wait_timeout=TIMEOUT_S,
        )

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self._sio is not None
        ack: dict[str, Any] = await self._sio.call(
            event, data, namespace="/candidate", timeout=TIMEOUT_S
        )
        assert ack["ok"] is True, (event, ack)
        return ack

    async def join(self) -> dict[str, Any]:
        """Join after the last event seen; remember the events the ack carries."""
        ack = await self.call("join", {"after_seq": max(self.seen, default=0)})
        for event in ack["events"]:
            await self._remember(event)
        snapshot: dict[str, Any] = ack["snapshot"]
        return snapshot

    async def answer(self, prompt_id: str, text: str) -> None:
        self.sent.append((prompt_id, text))
        ack = await self.call("answer", {"prompt_id": prompt_id, "text": text})
        assert ack["accepted"] is True

    async def close(self) -> None:
        if self._sio is not None and self._sio.connected:
            await self._sio.disconnect()

    async def _dropped(self, *args: Any) -> None:
        self.dropped.set()

    async def _remember(self, event: dict[str, Any]) -> None:
        earlier = self.seen.setdefault(event["seq"], event)
        assert earlier == event, f"seq {event['seq']} arrived twice with different content"


async def _owner_is(candidate: Candidate, asked: str, wanted: str, deadline_s: float) -> float:
    """Ask `asked` for the owner until it names `wanted`; the time it did."""
    deadline = time.monotonic() + deadline_s
    while True:
        owner = await candidate.owner(asked)
        if owner["url"] == wanted:
            return time.monotonic()
        assert time.monotonic() < deadline, f"owner still {owner}"
        # The dead owner's lease expires in Redis, outside this process: poll for it.
        await asyncio.sleep(0.1)


def _reference(template: InterviewTemplate, prompt: dict[str, Any]) -> str:
    text = template.question(prompt["question_id"]).rubric.reference_answer
    assert text is not None
    return text


async def _stored_events(database_url: str, interview_id: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        return list(
            await connection.fetch(
                "SELECT seq, type, payload FROM interview_events WHERE interview_id = $1 "
                "ORDER BY seq",
                uuid.UUID(interview_id),
            )
        )
    finally:
        await connection.close()


async def test_a_killed_owner_hands_the_interview_to_the_other_node(
    nodes: list[ServeProcess], database_url: str, redis_url: str
) -> None:
    a, b = nodes
    await asyncio.gather(*(asyncio.to_thread(n.wait_until_serving) for n in nodes))
    staff = {"Authorization": f"Bearer {JwtTokens(TEST_JWT_SECRET).issue(Role.ADMIN)}"}
    redis = Redis.from_url(redis_url)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
        async with http.get(f"{a.url}/api/v1/templates", headers=staff) as reply:
            summary = next(
                t for t in (await reply.json())["items"] if t["slug"] == "backend-python"
            )
        async with http.get(f"{a.url}/api/v1/templates/{summary['id']}", headers=staff) as reply:
            template = InterviewTemplate.model_validate((await reply.json())["template"])
        async with http.post(
            f"{a.url}/api/v1/interviews", json={"template_id": summary["id"]}, headers=staff
        ) as reply:
            interview_id = (await reply.json())["id"]
        async with http.post(
            f"{a.url}/api/v1/interviews/{interview_id}/join-link", json={}, headers=staff
        ) as reply:
            token = (await reply.json())["token"]

        candidate = Candidate(http, token, interview_id)
        try:
            assert (await candidate.owner(a.url))["url"] == a.url  # A claims it
            await candidate.connect(a.url)
            await candidate.join()
            first = (await candidate.call("consent", {"accepted": True}))["snapshot"]["prompt"]
            await candidate.answer(first["prompt_id"], _reference(template, first))
            open_prompt = (await candidate.join())["prompt"]
            assert open_prompt["prompt_id"] != first["prompt_id"]

            a.process.kill()  # SIGKILL: no drain, no release
            a.process.wait()
            lease_ms = await redis.pttl(f"codesage:interview:{interview_id}:owner")
            assert 0 < lease_ms <= LEASE_TTL_S * 1000
            lease_expires = time.monotonic() + lease_ms / 1000
            await candidate.close()

            await _owner_is(candidate, b.url, b.url, LEASE_TTL_S + RESUME_WITHIN_S)
            await candidate.connect(b.url)
            snapshot = await candidate.join()
            resumed = time.monotonic()
            assert resumed - lease_expires <= RESUME_WITHIN_S
            assert snapshot["prompt"]["prompt_id"] == open_prompt["prompt_id"]
            await candidate.answer(open_prompt["prompt_id"], _reference(template, open_prompt))
            await candidate.join()

            # A rolling update stops B: it drains, hands the interview back and exits cleanly.
            assert await asyncio.to_thread(b.stop, signal.SIGTERM, DRAIN_S + 10) == 0
            await asyncio.wait_for(candidate.dropped.wait(), TIMEOUT_S)
            assert await redis.exists(f"codesage:interview:{interview_id}:owner") == 0
        finally:
            await candidate.close()
    await redis.aclose()

    stored = await _stored_events(database_url, interview_id)
    assert [r["seq"] for r in stored] == list(range(1, len(stored) + 1))
    finals = [
        (r["payload"]["prompt_id"], r["payload"]["text"])
        for r in stored
        if r["type"] == "answer_final"
    ]
    assert finals == candidate.sent
    scored = [r["payload"]["prompt_id"] for r in stored if r["type"] == "score"]
    assert scored == [prompt_id for prompt_id, _ in candidate.sent]
    by_seq = {r["seq"]: r for r in stored}
    for seq, event in candidate.seen.items():
        assert (event["type"], event["payload"]) == (by_seq[seq]["type"], by_seq[seq]["payload"])
