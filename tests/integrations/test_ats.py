"""The Greenhouse-style connector against a fake Greenhouse HTTP server, on real Postgres."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from codesage.engine.ats import (
    AtsError,
    GreenhouseConnector,
    GreenhouseSettings,
    ScorecardSync,
    rating_for_level,
)
from codesage.engine.reports import InterviewReports
from codesage.engine.template_catalog import seed_templates
from codesage.signaling.auth import JwtTokens, Role
from codesage.signaling.errors import json_errors
from codesage.signaling.openapi import add_routes, openapi_document
from codesage.signaling.webhook_routes import WebhookApi, WebhookDependencies
from codesage.storage.connections import Storage
from codesage.storage.interviews import InterviewRecord, InterviewRepository
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.templates import TemplateRepository
from codesage.storage.webhooks import AtsLinkRepository, WebhookRepository
from tests.conftest import TEST_JWT_SECRET

WAIT_S = 10.0
API_KEY = "harvest-key-123"
USER_ID = "4080"
WEBHOOK_SECRET = "greenhouse-webhook-secret"
JOIN_BASE = "https://codesage.test/candidate/?token="


@dataclass
class FakeGreenhouse:
    """Harvest-style endpoints that check basic auth and On-Behalf-Of and record every write."""

    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    scorecards: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unauthorized: int = 0
    scorecard_failures: int = 0  # answer this many scorecard posts with 500 first
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def _authorized(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
        ok = request.headers.get("Authorization") == expected
        if request.method == "POST":
            ok = ok and request.headers.get("On-Behalf-Of") == USER_ID
        if not ok:
            self.unauthorized += 1
        return ok

    async def get_application(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"message": "Invalid Basic Auth credentials"}, status=401)
        found = self.applications.get(request.match_info["application_id"])
        return web.json_response(found) if found else web.json_response({}, status=404)

    async def post_scorecard(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({}, status=401)
        async with self.changed:
            if self.scorecard_failures:
                self.scorecard_failures -= 1
                return web.json_response({"message": "try later"}, status=500)
            self.scorecards.append((request.match_info["application_id"], await request.json()))
            self.changed.notify_all()
        return web.json_response({"id": len(self.scorecards)}, status=201)

    async def post_note(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({}, status=401)
        async with self.changed:
            self.notes.append((request.match_info["candidate_id"], await request.json()))
            self.changed.notify_all()
        return web.json_response({"id": len(self.notes)}, status=201)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S), self.changed:
            await self.changed.wait_for(predicate)


@pytest.fixture
async def greenhouse(aiohttp_server: Any) -> tuple[FakeGreenhouse, TestServer]:
    fake = FakeGreenhouse()
    app = web.Application()
    app.router.add_get("/v1/applications/{application_id}", fake.get_application)
    app.router.add_post("/v1/applications/{application_id}/scorecards", fake.post_scorecard)
    app.router.add_post("/v1/candidates/{candidate_id}/activity_feed/notes", fake.post_note)
    server: TestServer = await aiohttp_server(app)
    return fake, server


@dataclass
class Wiring:
    """What the node would hand the connector, built here from real storage."""

    connector: GreenhouseConnector
    links: AtsLinkRepository
    interviews: InterviewRepository
    journal: InterviewJournal
    tokens: JwtTokens


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _settings(server: TestServer, api_key: str = API_KEY) -> GreenhouseSettings:
    return GreenhouseSettings(
        base_url=str(server.make_url("/v1")),
        api_key=api_key,
        on_behalf_of=USER_ID,
        webhook_secret=WEBHOOK_SECRET,
        trigger_stage="AI Interview",
        templates_by_job={"777": "behavioural"},
    )


@pytest.fixture
async def wiring(
    storage: Storage, greenhouse: tuple[FakeGreenhouse, TestServer], http: aiohttp.ClientSession
) -> Wiring:
    templates = TemplateRepository(storage.pool)
    interviews = InterviewRepository(storage.pool)
    journal = InterviewJournal(storage.pool)
    links = AtsLinkRepository(storage.pool)
    tokens = JwtTokens(TEST_JWT_SECRET)
    reports = InterviewReports(journal, templates)
    await seed_templates(templates)

    async def schedule(slug: str) -> InterviewRecord:
        template = await templates.latest(slug)
        assert template is not None
        return await interviews.create(template.id, "real")

    async def issue_join_link(interview_id: uuid.UUID) -> str:
        record = await interviews.get(interview_id)
        assert record is not None
        token = tokens.issue(
            Role.CANDIDATE, interview_id=str(record.id), subject=str(record.candidate_id)
        )
        return JOIN_BASE + token

    async def get_scores(interview_id: uuid.UUID) -> dict[str, Any]:
        record = await interviews.get(interview_id)
        assert record is not None
        return await reports.scores(record)

    connector = GreenhouseConnector(
        _settings(greenhouse[1]),
        http,
        links,
        schedule=schedule,
        issue_join_link=issue_join_link,
        get_scores=get_scores,
    )
    return Wiring(connector, links, interviews, journal, tokens)


@pytest.fixture
async def api(aiohttp_client: Any, storage: Storage, wiring: Wiring) -> TestClient[Any, Any]:
    deps = WebhookDependencies(
        wiring.tokens, WebhookRepository(storage.pool), lambda: None, ats=wiring.connector
    )
    app = web.Application(middlewares=[json_errors])
    routes = WebhookApi(deps).routes()
    add_routes(app, routes)
    inbound = openapi_document(routes)["paths"]["/api/v1/ats/webhook"]["post"]
    assert "security" not in inbound, "the ATS authenticates by signature, not by token"
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


def _stage_change(application_id: int, stage: str, job_id: int = 555) -> dict[str, Any]:
    # Greenhouse sends names and contact details; none of it may be stored.
    return {
        "action": "candidate_stage_change",
        "payload": {
            "application": {
                "id": application_id,
                "candidate": {"id": 9001, "first_name": "Ada", "last_name": "Lovelace",
                              "email_addresses": [{"value": "ada@example.org"}]},
                "current_stage": {"id": 12, "name": stage},
                "jobs": [{"id": job_id, "name": "Backend engineer"}],
            }
        },
    }  # fmt: skip


def _signed(body: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Signature": f"sha256 {digest}", "Content-Type": "application/json"}


def test_levels_map_to_greenhouse_rating_words() -> None:
    assert [rating_for_level(x) for x in (1.0, 1.49, 1.5, 2.4, 2.5, 3.3, 3.5, 4.49, 4.5, 5.0)] == [
        "definitely_not", "definitely_not", "no", "no", "mixed", "mixed", "yes", "yes",
        "strong_yes", "strong_yes",
    ]  # fmt: skip
    assert rating_for_level(None) == "no_decision"


async def test_an_application_moved_to_the_stage_schedules_and_posts_the_join_link(
    api: TestClient[Any, Any], wiring: Wiring, greenhouse: tuple[FakeGreenhouse, TestServer]
) -> None:
    fake, _ = greenhouse
    raw, headers = _signed(_stage_change(71980812, "AI Interview"))

    forged = await api.post(
        "/api/v1/ats/webhook", data=raw, headers={**headers, "Signature": "sha256 00"}
    )
    assert forged.status == 401 and (await forged.json())["error"]["code"] == "invalid_signature"
    other_raw, other_headers = _signed(_stage_change(71980812, "Phone Screen"))
    ignored = await api.post("/api/v1/ats/webhook", data=other_raw, headers=other_headers)
    assert (await ignored.json()) == {"scheduled": False, "interview_id": None}

    reply = await api.post("/api/v1/ats/webhook", data=raw, headers=headers)
    assert reply.status == 200
    result = await reply.json()
    assert result["scheduled"] is True
    interview_id = uuid.UUID(result["interview_id"])
    link = await wiring.links.by_application("greenhouse", "71980812")
    assert link is not None and link.interview_id == interview_id
    record = await wiring.interviews.get(interview_id)
    assert record is not None and record.state == "scheduled"
    assert record.template_title == "Backend Engineer (Python)"  # job not mapped: default
    assert await wiring.interviews.candidate_profile(record.candidate_id) == {}

    await fake.wait_until(lambda: len(fake.notes) == 1)
    candidate, note = fake.notes[0]
    assert candidate == "9001" and note["user_id"] == USER_ID
    token = note["body"].split(JOIN_BASE, 1)[1].strip()
    principal = wiring.tokens.verify(token)
    assert principal.role is Role.CANDIDATE and principal.interview_id == str(interview_id)

    # The ATS retries: the same interview, and the link is sent again while not yet used.
    again = await (await api.post("/api/v1/ats/webhook", data=raw, headers=headers)).json()
    assert again == {"scheduled": True, "interview_id": str(interview_id)}
    await fake.wait_until(lambda: len(fake.notes) == 2)
    assert len(await wiring.interviews.list()) == 1
    assert fake.unauthorized == 0


async def test_a_job_maps_to_its_template_and_an_application_can_be_fetched(
    wiring: Wiring, greenhouse: tuple[FakeGreenhouse, TestServer]
) -> None:
    fake, _ = greenhouse
    fake.applications["42"] = {
        "id": 42,
        "candidate_id": 7,
        "current_stage": {"name": "Anything"},
        "jobs": [{"id": 777}],
    }
    scheduled = await wiring.connector.schedule_application("42")
    assert scheduled.created and scheduled.join_url is not None
    record = await wiring.interviews.get(scheduled.interview_id)
    assert record is not None and record.template_title == "Behavioural Interview"
    assert fake.notes[0][0] == "7"
    with pytest.raises(AtsError, match="HTTP 404"):
        await wiring.connector.schedule_application("43")


async def test_a_wrong_api_key_is_refused_by_the_ats(
    wiring: Wiring, greenhouse: tuple[FakeGreenhouse, TestServer], http: aiohttp.ClientSession
) -> None:
    fake, server = greenhouse
    fake.applications["42"] = {"id": 42, "candidate_id": 7, "jobs": []}
    wrong = GreenhouseConnector(
        _settings(server, api_key="nope"),
        http,
        wiring.links,
        schedule=_unused,
        issue_join_link=_unused,
        get_scores=_unused,
    )
    with pytest.raises(AtsError, match="HTTP 401"):
        await wrong.schedule_application("42")
    assert fake.unauthorized == 1


async def _unused(*_: Any) -> Any:
    raise AssertionError("not called")


async def _finish(
    wiring: Wiring, interview_id: uuid.UUID, answers: list[tuple[str, str, float]]
) -> InterviewEvent:
    """Commit answered, scored questions and the end, as the actor would."""
    events: list[InterviewEvent] = []

    def emit(event_type: str, payload: dict[str, Any]) -> None:
        events.append(
            InterviewEvent(interview_id, len(events) + 1, event_type, payload, InterviewEvent.now())
        )

    for number, (question_id, competency, score) in enumerate(answers, start=1):
        prompt_id = str(uuid.uuid4())
        emit(
            "prompt",
            {
                "prompt_id": prompt_id,
                "kind": "question",
                "question_id": question_id,
                "text": "?",
                "competency": competency,
                "number": number,
                "budget": 9,
            },
        )
        emit("answer_final", {"prompt_id": prompt_id, "text": "an answer", "source": "typed"})
        emit(
            "score",
            {
                "prompt_id": prompt_id,
                "question_id": question_id,
                "competency": competency,
                "level": round(1 + 4 * score),
                "score": score,
                "confidence": 0.9,
                "insufficient_evidence": False,
                "evidence": [],
            },
        )
    emit("ended", {"reason": "completed"})
    await wiring.journal.commit(interview_id, events, state="done", checkpoint={})
    return events[-1]


async def test_a_finished_interview_posts_its_scorecard_once_with_rating_words(
    wiring: Wiring, greenhouse: tuple[FakeGreenhouse, TestServer]
) -> None:
    fake, _ = greenhouse
    fake.applications.update(
        {"100": {"id": 100, "candidate_id": 1}, "200": {"id": 200, "candidate_id": 2}}
    )
    scored = await wiring.connector.schedule_application("100")
    unscored = await wiring.connector.schedule_application("200")
    fake.scorecard_failures = 1  # the first post fails and is retried
    sync = ScorecardSync(wiring.connector, wiring.links, poll_interval_s=0.05, retry_base_s=0.01)
    sync.start()
    try:
        ended = await _finish(
            wiring,
            scored.interview_id,
            [
                ("py-mutable-default", "python", 0.95),
                ("py-generators", "python", 0.9),
                ("conc-gil", "concurrency", 0.5),
                ("db-index-basics", "databases", 0.3),
            ],
        )
        no_answers = await _finish(wiring, unscored.interview_id, [])
        await sync.publish(scored.interview_id, "real", ended)
        await sync.publish(unscored.interview_id, "real", no_answers)
        await fake.wait_until(lambda: len(fake.scorecards) == 1)
        # Whatever the background pass has not reached yet is handled now; stop() then lets
        # a pass in flight finish, so every outcome is recorded below.
        await sync.sync_due()
    finally:
        await sync.stop()

    application, card = fake.scorecards[0]
    assert application == "100" and fake.unauthorized == 0
    ratings = {a["name"]: a["rating"] for a in card["attributes"]}
    assert ratings == {
        "Python language and runtime": "strong_yes",  # level 4.7
        "Concurrency and async": "mixed",  # level 3.0
        "Databases and SQL": "no",  # level 2.2
        "API and system design": "no_decision",  # never asked: no evidence
        "Testing, reliability and debugging": "no_decision",
    }
    assert card["overall_recommendation"] == "mixed"  # mean 0.575: level 3.3
    assert card["external_id"] == str(scored.interview_id)

    posted = await wiring.links.by_interview(scored.interview_id)
    skipped = await wiring.links.by_interview(unscored.interview_id)
    assert posted is not None and posted.scorecard_status == "posted"
    assert posted.scorecard_attempts == 2
    assert skipped is not None and skipped.scorecard_status == "skipped"
    async with wiring.links.next_scorecard_due("greenhouse") as owed:
        assert owed is None, "nothing more is owed"
