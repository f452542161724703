"""Outbound webhooks end to end: real Postgres, a real HTTP receiver, the spec's reference library.

The receiver verifies every request with `standardwebhooks` (the Standard Webhooks reference
implementation), so a signature that only agrees with our own code would fail here.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from codesage.agents.scoring_pool import ScoringPool
from codesage.agents.template import InterviewTemplate
from codesage.engine.commands import ObserverAction
from codesage.engine.event_log import EventSink, InterviewEventLog
from codesage.engine.loader import InterviewActorLoader
from codesage.engine.supervisor import ActorSupervisor
from codesage.engine.template_catalog import seed_templates
from codesage.engine.webhooks import (
    DeliveryOutcome,
    DispatcherSettings,
    WebhookDispatcher,
    WebhookOutbox,
    WebhookSigner,
    backoff_delay,
    webhook_events_for,
)
from codesage.signaling.auth import JwtTokens, Role
from codesage.signaling.errors import json_errors
from codesage.signaling.openapi import add_routes, openapi_document
from codesage.signaling.webhook_routes import WebhookApi, WebhookDependencies
from codesage.storage.connections import Storage
from codesage.storage.database import create_pool
from codesage.storage.interviews import InterviewRecord, InterviewRepository
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.templates import TemplateRepository
from codesage.storage.webhooks import ClaimedDelivery, WebhookRepository
from tests.conftest import TEST_JWT_SECRET
from tests.engine.interview_script import answer, current_prompt, start, strong_answer

WAIT_S = 20.0
ALL_TYPES = [
    "interview.scheduled",
    "interview.started",
    "interview.completed",
    "interview.cancelled",
    "report.ready",
]
# Tiny backoff so that retries take milliseconds, not minutes.
FAST = DispatcherSettings(
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    request_timeout_s=5.0,
    lease_s=30.0,
    poll_interval_s=0.5,
    batch_size=5,
)


@dataclass
class Received:
    """One request the receiver accepted."""

    webhook_id: str
    path: str
    body: bytes
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass
class Receiver:
    """A webhook endpoint: verifies with the reference library and records what it accepts."""

    secrets: dict[str, str] = field(default_factory=dict)  # path → secret
    accepted: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    refused: int = 0
    down_status: int | None = None  # answer every request with this status while set
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        async with self.changed:
            try:
                if self.down_status is not None:
                    self.refused += 1
                    return web.Response(status=self.down_status)
                try:
                    payload = Webhook(self.secrets[request.path]).verify(body, headers)
                except WebhookVerificationError as exc:
                    self.rejected.append(str(exc))
                    return web.Response(status=400)
                self.accepted.append(
                    Received(headers["webhook-id"], request.path, body, headers, payload)
                )
                return web.Response(status=204)
            finally:
                self.changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S), self.changed:
            await self.changed.wait_for(predicate)

    def types_by_interview(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for item in self.accepted:
            interview = item.payload["data"]["interview_id"]
            found.setdefault(interview, []).append(item.payload["type"])
        return found


@pytest.fixture
async def receiver(aiohttp_server: Any) -> AsyncIterator[tuple[Receiver, TestServer]]:
    hub = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", hub.handle)
    server: TestServer = await aiohttp_server(app)
    yield hub, server


@pytest.fixture
def webhooks(storage: Storage) -> WebhookRepository:
    return WebhookRepository(storage.pool)


async def subscribe(
    webhooks: WebhookRepository,
    receiver: tuple[Receiver, TestServer],
    name: str = "hook",
    types: list[str] | None = None,
) -> uuid.UUID:
    hub, server = receiver
    secret = WebhookSigner.generate_secret()
    hub.secrets[f"/{name}"] = secret
    subscription = await webhooks.create_subscription(
        str(server.make_url(f"/{name}")), secret, types or ALL_TYPES
    )
    return subscription.id


class Outcomes:
    """Every attempt outcome a dispatcher recorded, to await instead of polling the database."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, DeliveryOutcome]] = []
        self._changed = asyncio.Event()

    def __call__(self, claim: ClaimedDelivery, outcome: DeliveryOutcome) -> None:
        self.seen.append((str(claim.delivery.id), outcome))
        self._changed.set()

    def count(self, outcome: DeliveryOutcome) -> int:
        return sum(1 for _, o in self.seen if o == outcome)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def outcomes() -> Outcomes:
    return Outcomes()


@pytest.fixture
async def dispatcher(
    webhooks: WebhookRepository, outcomes: Outcomes
) -> AsyncIterator[WebhookDispatcher]:
    running = WebhookDispatcher(webhooks, FAST, rng=random.Random(7), on_outcome=outcomes)
    running.start()
    yield running
    await running.stop()


@dataclass
class Engine:
    """What tests/engine/interview_script.py needs of a node, with the outbox as a sink."""

    templates: TemplateRepository
    interviews: InterviewRepository
    supervisor: ActorSupervisor


class FanOut:
    """Passes each event to every sink (the node composes the outbox with its SocketHub)."""

    def __init__(self, *sinks: EventSink):
        self._sinks = sinks

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        for sink in self._sinks:
            await sink.publish(interview_id, mode, event)


@pytest.fixture
async def engine(
    storage: Storage, webhooks: WebhookRepository, dispatcher: WebhookDispatcher, rubric_scorer: Any
) -> AsyncIterator[tuple[Engine, WebhookOutbox]]:
    templates = TemplateRepository(storage.pool)
    interviews = InterviewRepository(storage.pool)
    await seed_templates(templates)
    outbox = WebhookOutbox(webhooks, interviews, dispatcher.wake)
    journal = InterviewJournal(storage.pool, commit_hooks=[outbox.enqueue_committed])
    event_log = InterviewEventLog(journal, storage.live, FanOut(outbox))
    scoring = ScoringPool(rubric_scorer, max_workers=2)
    supervisor = ActorSupervisor(InterviewActorLoader(interviews, templates, event_log, scoring))
    yield Engine(templates, interviews, supervisor), outbox
    await supervisor.stop_all()
    scoring.close()


async def schedule(engine: Engine, outbox: WebhookOutbox) -> InterviewRecord:
    template = await engine.templates.latest("backend-python")
    assert template is not None
    record = await engine.interviews.create(template.id, "real")
    await outbox.interview_scheduled(record)
    return record


# --- signing ----------------------------------------------------------------------------


def test_our_signature_is_the_reference_librarys() -> None:
    secret = WebhookSigner.generate_secret()
    assert secret.startswith("whsec_")
    body = b'{"type":"interview.started","data":{"x":"\xc3\xa9"}}'
    now = int(datetime.now(UTC).timestamp())
    ours = WebhookSigner(secret).sign("msg_1", now, body)
    reference = Webhook(secret).sign("msg_1", datetime.fromtimestamp(now, UTC), body.decode())
    assert ours == reference
    headers = WebhookSigner(secret).headers("msg_1", now, body)
    assert Webhook(secret).verify(body, headers)["type"] == "interview.started"


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, 1.0, 30.0, rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(30.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays), "jittered"


def _event(
    seq: int, event_type: str, payload: dict[str, Any], interview_id: uuid.UUID | None = None
) -> InterviewEvent:
    return InterviewEvent(
        interview_id or uuid.uuid4(), seq, event_type, payload, InterviewEvent.now()
    )


def test_interview_events_map_to_webhook_types() -> None:
    def types(event_type: str, payload: dict[str, Any]) -> list[str]:
        return [t for t, _ in webhook_events_for(_event(1, event_type, payload))]

    assert types("state_changed", {"state": "questioning", "previous": "consent"}) == [
        "interview.started"
    ]
    assert types("state_changed", {"state": "questioning", "previous": "follow_up"}) == []
    assert types("state_changed", {"state": "questioning", "previous": "paused"}) == []
    assert types("ended", {"reason": "completed"}) == ["interview.completed", "report.ready"]
    assert types("ended", {"reason": "ended_by_interviewer"}) == [
        "interview.completed",
        "report.ready",
    ]
    assert types("ended", {"reason": "cancelled"}) == ["interview.cancelled"]
    assert types("ended", {"reason": "consent_declined"}) == ["interview.cancelled"]
    assert types("prompt", {"text": "?"}) == []


# --- a real interview -------------------------------------------------------------------


async def test_a_real_interview_sends_its_lifecycle_signed_and_without_personal_data(
    engine: tuple[Engine, WebhookOutbox],
    webhooks: WebhookRepository,
    receiver: tuple[Receiver, TestServer],
) -> None:
    hub, _ = receiver
    await subscribe(webhooks, receiver)
    node, outbox = engine
    record = await schedule(node, outbox)
    cancelled = await schedule(node, outbox)
    template = await _template(node)

    # The script helpers only use a node's templates, interviews and supervisor.
    prompt = (await start(node, record.id))["prompt"]  # type: ignore[arg-type]
    while prompt is not None and prompt["kind"] != "closing":
        await answer(node, record.id, prompt, strong_answer(template, prompt))  # type: ignore[arg-type]
        prompt = await current_prompt(node, record.id)  # type: ignore[arg-type]
    await node.supervisor.ask(cancelled.id, ObserverAction("cancel", str(uuid.uuid4())))

    await hub.wait_until(lambda: len(hub.accepted) == 6)
    by_interview = hub.types_by_interview()
    assert by_interview[str(record.id)] == [
        "interview.scheduled",
        "interview.started",
        "interview.completed",
        "report.ready",
    ]
    assert by_interview[str(cancelled.id)] == ["interview.scheduled", "interview.cancelled"]
    assert hub.rejected == []
    for item in hub.accepted:
        assert item.headers["Content-Type"] == "application/json"
        assert set(item.payload) == {"type", "timestamp", "data"}
        data = item.payload["data"]
        assert uuid.UUID(data["candidate_id"]) == (
            record.candidate_id
            if data["interview_id"] == str(record.id)
            else cancelled.candidate_id
        )
        # Identifiers and states only: nothing a person could be recognised by.
        assert set(data) <= {
            "interview_id", "candidate_id", "template", "mode", "state", "reason", "report_path"
        }  # fmt: skip
        datetime.fromisoformat(item.payload["timestamp"])
    report = hub.accepted[[i.payload["type"] for i in hub.accepted].index("report.ready")]
    assert report.payload["data"]["report_path"] == f"/api/v1/interviews/{record.id}/report"


async def _template(node: Engine) -> InterviewTemplate:
    stored = await node.templates.latest("backend-python")
    assert stored is not None
    return InterviewTemplate.model_validate(stored.body)


# --- outages, retries, order --------------------------------------------------------------


async def _commit_lifecycle(
    storage: Storage, outbox: WebhookOutbox, record: InterviewRecord
) -> None:
    """Commit a whole interview's state events as an actor would, then fan them out."""
    await outbox.interview_scheduled(record)
    events = [
        ("state_changed", {"state": "waiting", "previous": "scheduled"}),
        ("state_changed", {"state": "consent", "previous": "waiting"}),
        ("state_changed", {"state": "questioning", "previous": "consent"}),
        ("state_changed", {"state": "follow_up", "previous": "questioning"}),
        ("state_changed", {"state": "questioning", "previous": "follow_up"}),
        ("ended", {"reason": "completed"}),
    ]
    committed = [
        InterviewEvent(record.id, seq, event_type, payload, InterviewEvent.now())
        for seq, (event_type, payload) in enumerate(events, start=1)
    ]
    journal = InterviewJournal(storage.pool, commit_hooks=[outbox.enqueue_committed])
    await journal.commit(record.id, committed, state="done", checkpoint={})
    for event in committed:
        await outbox.publish(record.id, record.mode, event)


LIFECYCLE = ["interview.scheduled", "interview.started", "interview.completed", "report.ready"]


async def test_deliveries_are_written_with_their_events_or_not_at_all(
    storage: Storage,
    webhooks: WebhookRepository,
    dispatcher: WebhookDispatcher,
    receiver: tuple[Receiver, TestServer],
) -> None:
    subscription = await subscribe(webhooks, receiver, types=["interview.started"])
    interviews = InterviewRepository(storage.pool)
    templates = TemplateRepository(storage.pool)
    await seed_templates(templates)
    template = await templates.latest("backend-python")
    assert template is not None
    outbox = WebhookOutbox(webhooks, interviews, dispatcher.wake)
    started = {"state": "questioning", "previous": "consent"}

    async def node_dies(*_: Any) -> None:
        raise ConnectionResetError("the node died mid-commit")

    failing = InterviewJournal(storage.pool, commit_hooks=[outbox.enqueue_committed, node_dies])
    first = await interviews.create(template.id, "real")
    with pytest.raises(ConnectionResetError):
        await failing.commit(
            first.id, [_event(1, "state_changed", started, first.id)], state="questioning",
            checkpoint={},
        )  # fmt: skip
    assert await failing.events_after(first.id) == []
    assert await webhooks.list_deliveries(subscription) == []

    # No sink is called here: the commit alone queues the delivery, as a node that dies right
    # after committing would have left it.
    journal = InterviewJournal(storage.pool, commit_hooks=[outbox.enqueue_committed])
    await journal.commit(
        first.id, [_event(1, "state_changed", started, first.id)], state="questioning",
        checkpoint={},
    )  # fmt: skip
    (queued,) = await webhooks.list_deliveries(subscription)
    assert queued.event_type == "interview.started"


async def test_a_receiver_that_was_down_gets_everything_once_and_in_order(
    storage: Storage,
    engine: tuple[Engine, WebhookOutbox],
    webhooks: WebhookRepository,
    dispatcher: WebhookDispatcher,
    receiver: tuple[Receiver, TestServer],
) -> None:
    hub, _ = receiver
    subscription = await subscribe(webhooks, receiver)
    node, outbox = engine
    hub.down_status = 503
    records = [await schedule(node, outbox) for _ in range(3)]
    for record in records:
        await _commit_lifecycle(storage, outbox, record)
    # Several retries fail while it is down...
    await hub.wait_until(lambda: hub.refused >= 12)
    async with hub.changed:
        hub.down_status = None
    # ...and once it is back, everything arrives.
    await hub.wait_until(lambda: len(hub.accepted) == 3 * len(LIFECYCLE))
    await dispatcher.stop()

    ids = [item.webhook_id for item in hub.accepted]
    assert len(ids) == len(set(ids)), "each delivery accepted exactly once"
    by_interview = hub.types_by_interview()
    for record in records:
        assert by_interview[str(record.id)] == LIFECYCLE
    log = await webhooks.list_deliveries(subscription, limit=100)
    assert len(log) == 3 * len(LIFECYCLE)
    assert {d.status for d in log} == {"delivered"}
    assert {str(d.id) for d in log} == set(ids)
    assert any(d.attempts > 1 for d in log) and all(d.last_status_code == 204 for d in log)


async def test_a_receiver_that_never_answers_well_fails_after_max_attempts(
    storage: Storage, webhooks: WebhookRepository, receiver: tuple[Receiver, TestServer]
) -> None:
    hub, _ = receiver
    subscription = await subscribe(webhooks, receiver)
    hub.down_status = 500
    interview = uuid.uuid4()
    for event_type in ("interview.started", "interview.completed"):
        await webhooks.enqueue(event_type, {"type": event_type, "data": {}}, interview_id=interview)
    settings = DispatcherSettings(
        backoff_base_s=0.01, backoff_cap_s=0.02, max_attempts=3, poll_interval_s=0.2
    )
    dispatcher = WebhookDispatcher(webhooks, settings)
    dispatcher.start()
    try:
        # Both give up in turn: the second is held back until the first has failed.
        await hub.wait_until(lambda: hub.refused == 6)
    finally:
        await dispatcher.stop()  # lets the last outcome be recorded
    log = await webhooks.list_deliveries(subscription)
    assert [(d.event_type, d.attempts, d.last_status_code) for d in reversed(log)] == [
        ("interview.started", 3, 500),
        ("interview.completed", 3, 500),
    ]
    assert all(d.last_error == "HTTP 500" for d in log)


async def test_tampering_is_rejected_by_the_reference_library(
    webhooks: WebhookRepository,
    dispatcher: WebhookDispatcher,
    receiver: tuple[Receiver, TestServer],
) -> None:
    hub, _ = receiver
    await subscribe(webhooks, receiver)
    await webhooks.enqueue(
        "interview.started", {"type": "interview.started", "data": {}}, interview_id=None
    )
    dispatcher.wake()
    await hub.wait_until(lambda: len(hub.accepted) == 1)
    sent = hub.accepted[0]
    reference = Webhook(hub.secrets["/hook"])
    assert reference.verify(sent.body, sent.headers) == sent.payload
    with pytest.raises(WebhookVerificationError):
        reference.verify(sent.body.replace(b"started", b"stopped"), sent.headers)
    with pytest.raises(WebhookVerificationError):
        reference.verify(sent.body, {**sent.headers, "webhook-id": str(uuid.uuid4())})
    with pytest.raises(WebhookVerificationError):
        later = str(int(sent.headers["webhook-timestamp"]) + 1)
        reference.verify(sent.body, {**sent.headers, "webhook-timestamp": later})
    with pytest.raises(WebhookVerificationError):
        Webhook(WebhookSigner.generate_secret()).verify(sent.body, sent.headers)


async def test_two_dispatchers_on_one_database_never_deliver_twice(
    database_url: str, storage: Storage, receiver: tuple[Receiver, TestServer]
) -> None:
    hub, _ = receiver
    pools = [await create_pool(database_url), await create_pool(database_url)]
    repositories = [WebhookRepository(pool) for pool in pools]
    await subscribe(repositories[0], receiver, "a")
    await subscribe(repositories[0], receiver, "b")
    interviews = [uuid.uuid4() for _ in range(12)]
    for interview in interviews:
        for event_type in LIFECYCLE:
            payload = {"type": event_type, "data": {"interview_id": str(interview)}}
            await repositories[0].enqueue(event_type, payload, interview_id=interview)
    heard = [Outcomes(), Outcomes()]
    nodes = [
        WebhookDispatcher(repository, FAST, rng=random.Random(n), on_outcome=heard[n])
        for n, repository in enumerate(repositories)
    ]
    for node in nodes:
        node.start()
        node.wake()
    try:
        await hub.wait_until(lambda: len(hub.accepted) == 2 * len(interviews) * len(LIFECYCLE))
    finally:
        for node in nodes:
            await node.stop()
        for pool in pools:
            await pool.close()
    ids = [item.webhook_id for item in hub.accepted]
    assert len(ids) == len(set(ids)), "no delivery sent twice"
    delivered = [h.count("delivered") for h in heard]
    assert sum(delivered) == len(ids) and all(delivered), "both nodes shared the work"
    for path in ("/a", "/b"):
        order: dict[str, list[str]] = {}
        for item in hub.accepted:
            if item.path == path:
                interview = item.payload["data"]["interview_id"]
                order.setdefault(interview, []).append(item.payload["type"])
        assert order == {str(i): LIFECYCLE for i in interviews}, "in order per interview"


# --- the REST API -------------------------------------------------------------------------


@pytest.fixture
def tokens() -> JwtTokens:
    return JwtTokens(TEST_JWT_SECRET)


@pytest.fixture
async def api(
    aiohttp_client: Any,
    webhooks: WebhookRepository,
    dispatcher: WebhookDispatcher,
    tokens: JwtTokens,
) -> TestClient[Any, Any]:
    app = web.Application(middlewares=[json_errors])
    routes = WebhookApi(WebhookDependencies(tokens, webhooks, dispatcher.wake)).routes()
    add_routes(app, routes)
    openapi_document(routes)  # the route table documents itself without errors
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


def _auth(tokens: JwtTokens, role: Role = Role.RECRUITER) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.issue(role)}"}


async def test_rest_manages_subscriptions_shows_the_log_and_replays(
    api: TestClient[Any, Any],
    dispatcher: WebhookDispatcher,
    outcomes: Outcomes,
    tokens: JwtTokens,
    webhooks: WebhookRepository,
    receiver: tuple[Receiver, TestServer],
) -> None:
    hub, server = receiver
    staff = _auth(tokens)
    url = str(server.make_url("/rest"))
    refused = await api.post(
        "/api/v1/webhooks", json={"url": "ftp://example.org/x", "event_types": ALL_TYPES},
        headers=staff,
    )  # fmt: skip
    assert refused.status == 422 and (await refused.json())["error"]["code"] == "invalid_url"
    unknown = await api.post(
        "/api/v1/webhooks", json={"url": url, "event_types": ["interview.exploded"]}, headers=staff
    )
    assert unknown.status == 422
    forbidden = await api.get("/api/v1/webhooks", headers=_auth(tokens, Role.INTERVIEWER))
    assert forbidden.status == 403

    created = await api.post(
        "/api/v1/webhooks", json={"url": url, "event_types": ["interview.started"]}, headers=staff
    )
    assert created.status == 201
    subscription = await created.json()
    assert subscription["secret"].startswith("whsec_") and subscription["active"]
    hub.secrets["/rest"] = subscription["secret"]
    listed = await (await api.get("/api/v1/webhooks", headers=staff)).json()
    assert [s["id"] for s in listed["items"]] == [subscription["id"]]
    assert "secret" not in listed["items"][0], "the secret is shown only once"

    interview = uuid.uuid4()
    payload = {"type": "interview.started", "data": {"interview_id": str(interview)}}
    assert await webhooks.enqueue("interview.started", payload, interview_id=interview) == 1
    assert await webhooks.enqueue("interview.completed", payload, interview_id=interview) == 0
    assert await webhooks.enqueue("interview.started", payload, interview_id=interview) == 0
    await webhooks.enqueue("interview.started", payload, interview_id=uuid.uuid4())
    dispatcher.wake()
    await outcomes.wait_until(lambda: outcomes.count("delivered") == 2)

    deliveries = f"/api/v1/webhooks/{subscription['id']}/deliveries"
    page = await (await api.get(f"{deliveries}?limit=1", headers=staff)).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    rest = await (await api.get(f"{deliveries}?offset=1", headers=staff)).json()
    log = page["items"] + rest["items"]
    assert [d["status"] for d in log] == ["delivered", "delivered"]
    assert log[0]["seq"] > log[1]["seq"], "newest first"

    replay = f"/api/v1/webhooks/{subscription['id']}/replay"
    one = await api.post(replay, json={"delivery_id": log[1]["id"]}, headers=staff)
    assert (await one.json()) == {"replayed": 1}
    await hub.wait_until(lambda: len(hub.accepted) == 3)
    assert hub.accepted[2].webhook_id == log[1]["id"], "a replay keeps its webhook-id"
    since = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    every = await api.post(replay, json={"since": since}, headers=staff)
    assert (await every.json()) == {"replayed": 2}
    await hub.wait_until(lambda: len(hub.accepted) == 5)
    both = await api.post(replay, json={"since": since, "delivery_id": log[0]["id"]}, headers=staff)
    assert both.status == 422
    missing = await api.post(replay, json={"delivery_id": str(uuid.uuid4())}, headers=staff)
    assert missing.status == 404

    stopped = await api.delete(f"/api/v1/webhooks/{subscription['id']}", headers=staff)
    assert stopped.status == 200 and (await stopped.json())["active"] is False
    assert await webhooks.enqueue("interview.started", payload, interview_id=uuid.uuid4()) == 0
    inactive = await api.post(replay, json={"since": since}, headers=staff)
    assert inactive.status == 409
    gone = await api.delete(f"/api/v1/webhooks/{uuid.uuid4()}", headers=staff)
    assert gone.status == 404
