"""`GET /interviews/{id}/owner` on a wired node, and draining: readiness, refusals, hand-over."""

from __future__ import annotations

import uuid
from typing import Any

from codesage.engine.commands import InterviewError, Join, ObserverAction
from codesage.engine.ownership import InterviewLeases, NodeIdentity
from codesage.node import Node
from codesage.signaling.auth import Role
from tests.resilience.engine_nodes import begin


def _bearer(node: Node, role: Role, interview_id: uuid.UUID | None = None) -> dict[str, str]:
    interview = None if interview_id is None else str(interview_id)
    token = node.tokens.issue(role, interview_id=interview)
    return {"Authorization": f"Bearer {token}"}


async def _schedule(node: Node) -> uuid.UUID:
    template = await node.templates.latest("backend-python")
    assert template is not None
    return (await node.interviews.create(template.id, "real")).id


async def test_owner_claims_an_unowned_interview_for_its_candidate(
    node: Node, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(node.app)
    interview_id = await _schedule(node)
    reply = await client.get(
        f"/api/v1/interviews/{interview_id}/owner",
        headers=_bearer(node, Role.CANDIDATE, interview_id),
    )
    assert reply.status == 200
    here = node.supervisor.identity
    assert await reply.json() == {"node_id": here.node_id, "url": here.public_url}
    assert node.supervisor.live_ids() == [interview_id]  # claimed: its lease is ours

    other = await _schedule(node)
    refused = await client.get(
        f"/api/v1/interviews/{other}/owner", headers=_bearer(node, Role.CANDIDATE, interview_id)
    )
    assert refused.status == 403
    unknown = await client.get(
        f"/api/v1/interviews/{uuid.uuid4()}/owner", headers=_bearer(node, Role.ADMIN)
    )
    assert unknown.status == 404
    anonymous = await client.get(f"/api/v1/interviews/{interview_id}/owner")
    assert anonymous.status == 401
    document = await (await client.get("/openapi.json")).json()
    assert "get" in document["paths"]["/api/v1/interviews/{interview_id}/owner"]


async def test_owner_names_the_node_that_holds_the_lease(node: Node, aiohttp_client: Any) -> None:
    client = await aiohttp_client(node.app)
    interview_id = await _schedule(node)
    elsewhere = NodeIdentity("node-elsewhere", "http://elsewhere.test:8080")
    lease = await InterviewLeases(node.storage.redis, elsewhere, ttl_s=30).acquire(interview_id)
    try:
        reply = await client.get(
            f"/api/v1/interviews/{interview_id}/owner", headers=_bearer(node, Role.INTERVIEWER)
        )
        assert reply.status == 200
        assert await reply.json() == {"node_id": elsewhere.node_id, "url": elsewhere.public_url}
        assert node.supervisor.live_ids() == []
        ended = await client.post(
            f"/api/v1/interviews/{interview_id}/end", headers=_bearer(node, Role.ADMIN)
        )
        assert ended.status == 409
        assert (await ended.json())["error"]["code"] == "owned_elsewhere"
    finally:
        await lease.release()


async def test_a_finished_interview_is_served_by_whichever_node_is_asked(
    node: Node, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(node.app)
    interview_id = await _schedule(node)
    await begin(node.supervisor, interview_id)
    await node.supervisor.ask(interview_id, ObserverAction("end", str(uuid.uuid4())))
    assert node.supervisor.live_ids() == []
    reply = await client.get(
        f"/api/v1/interviews/{interview_id}/owner", headers=_bearer(node, Role.RECRUITER)
    )
    assert (await reply.json())["node_id"] == node.supervisor.identity.node_id
    assert node.supervisor.live_ids() == []


async def test_draining_turns_readiness_off_refuses_new_work_and_releases_leases(
    node: Node, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(node.app)
    live = await _schedule(node)
    await begin(node.supervisor, live)
    assert (await client.get("/readyz")).status == 200
    leases = InterviewLeases(node.storage.redis, NodeIdentity("node-b", "http://b.test"))
    assert await leases.owner(live) == node.supervisor.identity

    assert await node.supervisor.drain(5) == []
    ready = await client.get("/readyz")
    assert ready.status == 503 and (await ready.json())["status"] == "draining"
    assert (await client.get("/healthz")).status == 200
    assert node.supervisor.live_ids() == []
    assert await leases.owner(live) is None  # handed over: any node may load it now
    for interview_id in (live, await _schedule(node)):
        try:
            await node.supervisor.ask(interview_id, Join())
        except InterviewError as exc:
            assert (exc.code, exc.status) == ("draining", 503)
        else:
            raise AssertionError("a draining node starts no actor")
    refused = await client.get(
        f"/api/v1/interviews/{live}/owner", headers=_bearer(node, Role.CANDIDATE, live)
    )
    assert refused.status == 503
    assert (await refused.json())["error"]["code"] == "draining"
