"""The bias audit end to end: journaled interviews on real Postgres, uploads and reports."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from codesage.agents.template import InterviewTemplate
from codesage.engine.bias_audit_report import BiasAuditReports
from codesage.engine.template_catalog import seed_templates
from codesage.node import Node
from codesage.signaling.audit_routes import AuditApi, AuditDependencies
from codesage.signaling.auth import JwtTokens, Role
from codesage.signaling.errors import json_errors
from codesage.signaling.openapi import add_routes, openapi_document
from codesage.storage.connections import Storage
from codesage.storage.demographics import DemographicsRepository
from codesage.storage.interviews import InterviewRecord, InterviewRepository
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.templates import TemplateRepository
from tests.conftest import TEST_JWT_SECRET

HIGH, LOW = 0.75, 0.25
START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
SLUG = "backend-python"


@dataclass
class Audit:
    """A client of an app serving only the audit routes, the pool behind it and tokens."""

    client: TestClient[Any, Any]
    pool: asyncpg.Pool
    tokens: JwtTokens
    template_id: uuid.UUID
    template: InterviewTemplate

    def auth(self, role: Role = Role.RECRUITER) -> dict[str, str]:
        interview = str(uuid.uuid4()) if role is Role.CANDIDATE else None
        return {"Authorization": f"Bearer {self.tokens.issue(role, interview_id=interview)}"}


def audit_app(pool: asyncpg.Pool, tokens: JwtTokens) -> web.Application:
    """How app.py would serve the routes, built here so that the test wires nothing shared."""
    templates = TemplateRepository(pool)
    demographics = DemographicsRepository(pool)
    app = web.Application(middlewares=[json_errors])
    deps = AuditDependencies(tokens, demographics, BiasAuditReports(demographics, templates))
    add_routes(app, AuditApi(deps).routes())
    return app


async def open_audit(pool: asyncpg.Pool, tokens: JwtTokens, client: AiohttpClient) -> Audit:
    """Seed the shipped templates and serve the audit routes on `pool`."""
    records = {r.slug: r for r in await seed_templates(TemplateRepository(pool))}
    template = InterviewTemplate.model_validate(records[SLUG].body)
    return Audit(await client(audit_app(pool, tokens)), pool, tokens, records[SLUG].id, template)


@pytest.fixture
async def audit(storage: Storage, aiohttp_client: AiohttpClient) -> AsyncIterator[Audit]:
    yield await open_audit(storage.pool, JwtTokens(TEST_JWT_SECRET), aiohttp_client)


async def record_interview(
    audit: Audit, score: float | None, *, ended: int = 0, mode: str = "real"
) -> InterviewRecord:
    """A completed interview answering one question per competency, every answer at `score`.

    Written through the journal, so events, turns and scores agree as in a real interview;
    None scores every answer as insufficient evidence.
    """
    record = await InterviewRepository(audit.pool).create(audit.template_id, mode)
    steps: list[tuple[str, dict[str, Any]]] = []
    for competency in audit.template.competencies:
        question = next(q for q in audit.template.questions if q.competency == competency.id)
        prompt_id = str(uuid.uuid4())
        answer_text = "An answer about " + question.id
        steps += [
            ("prompt", {"prompt_id": prompt_id, "kind": "question",
                        "question_id": question.id, "text": question.text}),
            ("answer_final", {"prompt_id": prompt_id, "text": answer_text}),
            ("score", {"prompt_id": prompt_id, "question_id": question.id,
                       "question_text": question.text, "competency": competency.id,
                       "answer_text": answer_text,
                       "level": None if score is None else 1 + round(4 * score),
                       "score": score, "confidence": 0.9,
                       "insufficient_evidence": score is None, "reason": "synthetic",
                       "evidence": [], "matched_indicators": [], "missing_indicators": []}),
        ]  # fmt: skip
    steps.append(("ended", {"reason": "completed"}))
    # One second apart, the last (which stamps ended_at) `ended` minutes after START.
    end = START + timedelta(minutes=ended)
    events = [
        InterviewEvent(record.id, seq, kind, payload, end - timedelta(seconds=len(steps) - seq))
        for seq, (kind, payload) in enumerate(steps, start=1)
    ]
    await InterviewJournal(audit.pool).commit(record.id, events, state="done", checkpoint={})
    return record


def by_category(body: dict[str, Any], dimension: str) -> dict[str, dict[str, Any]]:
    [found] = [d for d in body["dimensions"] if d["dimension"] == dimension]
    return {c["category"]: c for c in found["categories"]}


# Ten candidates with demographics, two without (unknown), so that 6 of 12 score HIGH and the
# median is 0.5. Sex: male 3/5 = 0.6, female 2/5 = 0.4 → 0.667. Race: white 3/6 = asian 2/4.
# Intersections: male/white 2/3 is highest; female/white 1/3 → 0.5; the rest 1/2 → 0.75.
PEOPLE = [
    ("male", "white", HIGH), ("male", "white", HIGH), ("male", "white", LOW),
    ("male", "asian", HIGH), ("male", "asian", LOW),
    ("female", "white", HIGH), ("female", "white", LOW), ("female", "white", LOW),
    ("female", "asian", HIGH), ("female", "asian", LOW),
]  # fmt: skip


async def populate(audit: Audit) -> list[InterviewRecord]:
    """PEOPLE's interviews uploaded half as JSON and half as CSV, plus the uncounted ones."""
    records = [
        await record_interview(audit, score, ended=i) for i, (_, _, score) in enumerate(PEOPLE)
    ]
    await record_interview(audit, HIGH, ended=20)  # no demographics: unknown
    await record_interview(audit, LOW, ended=21)  # no demographics: unknown
    insufficient = await record_interview(audit, None, ended=22)
    practice = await record_interview(audit, LOW, ended=23, mode="practice")
    rows = [
        {"candidate_id": str(r.candidate_id), "sex": sex, "race_ethnicity": race}
        for r, (sex, race, _) in zip(records, PEOPLE, strict=True)
    ]
    rows += [
        {"candidate_id": str(r.candidate_id), "sex": "female", "race_ethnicity": "white"}
        for r in (insufficient, practice)
    ]
    stored = await audit.client.post("/api/v1/demographics", json=rows[:6], headers=audit.auth())
    assert stored.status == 200, await stored.text()
    assert await stored.json() == {"received": 6, "created": 6, "updated": 0}
    # The CSV spells categories as people write them; columns in another order.
    lines = ["Sex,Candidate_ID,race_ethnicity"]
    lines += [
        f"{r['sex'].title()},{r['candidate_id']},{r['race_ethnicity'].upper()}" for r in rows[6:]
    ]
    stored = await audit.client.post(
        "/api/v1/demographics",
        data="\ufeff" + "\r\n".join(lines) + "\r\n",
        headers={**audit.auth(Role.ADMIN), "Content-Type": "text/csv"},
    )
    assert stored.status == 200, await stored.text()
    assert await stored.json() == {"received": 6, "created": 6, "updated": 0}
    return records


async def test_the_audit_json_has_the_known_rates_and_ratios(audit: Audit) -> None:
    await populate(audit)
    response = await audit.client.get("/api/v1/audit", headers=audit.auth())
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["total"] == 12 and body["median"] == pytest.approx(0.5)
    assert body["excluded_insufficient_evidence"] == 1
    assert body["first_ended_at"] == START.isoformat()
    sexes = by_category(body, "sex")
    assert list(sexes) == ["female", "male", "unknown"]
    assert sexes["male"]["scoring_rate"] == pytest.approx(0.6)
    assert sexes["female"]["impact_ratio"] == pytest.approx(2 / 3)
    assert sexes["female"]["flags"] == ["adverse_impact_flag"]
    assert sexes["unknown"]["count"] == 2 and sexes["unknown"]["impact_ratio"] is None
    races = by_category(body, "race_ethnicity")
    assert races["white"]["impact_ratio"] == races["asian"]["impact_ratio"] == pytest.approx(1.0)
    pairs = by_category(body, "sex_race_ethnicity")
    assert pairs["male / white"]["impact_ratio"] == pytest.approx(1.0)
    assert pairs["female / white"]["impact_ratio"] == pytest.approx(0.5)
    assert pairs["male / asian"]["impact_ratio"] == pytest.approx(0.75)
    assert all(
        pairs[p]["adverse_impact_flag"] for p in pairs if p not in ("male / white", "unknown")
    )


async def test_the_audit_as_csv_and_html(audit: Audit) -> None:
    await populate(audit)
    response = await audit.client.get("/api/v1/audit?format=csv", headers=audit.auth(Role.ADMIN))
    assert response.status == 200 and response.content_type == "text/csv"
    assert "bias-audit.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    female = next(r for r in rows if (r["dimension"], r["category"]) == ("sex", "female"))
    assert (female["scoring_rate"], female["impact_ratio"]) == ("0.4000", "0.6667")
    assert female["flags"] == "adverse_impact_flag"

    response = await audit.client.get("/api/v1/audit?format=html", headers=audit.auth())
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert page.startswith("<!doctype html><html lang='en'>") and "<script" not in page
    assert "four-fifths rule" in page and "Excluded for insufficient evidence</dt><dd>1<" in page
    female_row = re.search(r"<tr class='adverse'><th scope='row'>Female</th>.*?</tr>", page)
    assert female_row is not None and "Adverse impact" in female_row[0]
    assert "Female × White" in page and "2030-03-01 09:00 UTC" in page


async def test_the_scope_narrows_the_audit(audit: Audit) -> None:
    await populate(audit)
    auth = audit.auth()
    later = await audit.client.get("/api/v1/audit?ended_from=2030-03-01T09:20:00Z", headers=auth)
    body = await later.json()
    assert body["total"] == 2 and body["excluded_insufficient_evidence"] == 1
    assert body["scope"]["ended_from"] == "2030-03-01T09:20:00+00:00"
    other = await audit.client.get("/api/v1/audit?template=dsa-screen", headers=auth)
    assert (await other.json())["total"] == 0
    bad = await audit.client.get("/api/v1/audit?ended_before=yesterday", headers=auth)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_query"
    assert (await audit.client.get("/api/v1/audit?format=pdf", headers=auth)).status == 400


@pytest.mark.parametrize("role", [Role.INTERVIEWER, Role.CANDIDATE])
async def test_scorers_and_candidates_are_refused(audit: Audit, role: Role) -> None:
    record = await record_interview(audit, HIGH)
    row = {"candidate_id": str(record.candidate_id), "sex": "female", "race_ethnicity": "white"}
    upload = await audit.client.post("/api/v1/demographics", json=[row], headers=audit.auth(role))
    assert upload.status == 403 and (await upload.json())["error"]["code"] == "forbidden"
    for output in ("json", "csv", "html"):
        report = await audit.client.get(f"/api/v1/audit?format={output}", headers=audit.auth(role))
        assert report.status == 403
    stored = await audit.pool.fetchval("SELECT count(*) FROM candidate_demographics")
    assert stored == 0


async def test_no_token_is_401(audit: Audit) -> None:
    assert (await audit.client.get("/api/v1/audit")).status == 401
    assert (await audit.client.post("/api/v1/demographics", json=[])).status == 401


async def test_an_upload_is_validated_whole_and_replaces_earlier_categories(audit: Audit) -> None:
    first, second = await record_interview(audit, HIGH), await record_interview(audit, LOW)
    url, auth = "/api/v1/demographics", audit.auth()

    def row(record: InterviewRecord, sex: str = "female", race: str = "asian") -> dict[str, str]:
        return {"candidate_id": str(record.candidate_id), "sex": sex, "race_ethnicity": race}

    bad_value = await audit.client.post(url, json=[row(first), row(second, "f")], headers=auth)
    assert bad_value.status == 422
    assert (await bad_value.json())["error"]["message"].startswith("item 1: sex 'f' is not one")
    stranger = {**row(first), "candidate_id": str(uuid.uuid4())}
    unknown = await audit.client.post(url, json=[row(second), stranger], headers=auth)
    assert unknown.status == 422 and "no such candidates" in await unknown.text()
    twice = await audit.client.post(url, json=[row(first), row(first)], headers=auth)
    assert twice.status == 422 and "more than once" in await twice.text()
    extra = await audit.client.post(url, json=[{**row(first), "name": "Ada"}], headers=auth)
    assert extra.status == 422
    assert await audit.pool.fetchval("SELECT count(*) FROM candidate_demographics") == 0

    assert (await audit.client.post(url, json=[row(first)], headers=auth)).status == 200
    again = await audit.client.post(
        url, json=[row(first, "declined", "Two or more races"), row(second)], headers=auth
    )
    assert await again.json() == {"received": 2, "created": 1, "updated": 1}
    stored = await audit.pool.fetchrow(
        "SELECT sex, race_ethnicity FROM candidate_demographics WHERE candidate_id = $1",
        first.candidate_id,
    )
    assert dict(stored) == {"sex": "declined", "race_ethnicity": "two_or_more_races"}


async def test_malformed_uploads_are_refused_with_clear_errors(audit: Audit) -> None:
    record = await record_interview(audit, HIGH)
    url, auth = "/api/v1/demographics", audit.auth()

    async def post_csv(text: str) -> tuple[int, dict[str, Any]]:
        response = await audit.client.post(
            url, data=text, headers={**auth, "Content-Type": "text/csv"}
        )
        return response.status, await response.json()

    status, body = await post_csv(f"candidate_id,sex,race_ethnicity,name\n{record.candidate_id},"
                                  "female,white,Ada\n")  # fmt: skip
    assert status == 422 and "header must be exactly" in body["error"]["message"]
    status, body = await post_csv(f"candidate_id,sex,race_ethnicity\n\n{record.candidate_id},x,y\n")
    assert status == 422 and body["error"]["message"].startswith("line 3: sex 'x'")
    status, body = await post_csv("")
    assert status == 400 and body["error"]["code"] == "missing_body"
    status, body = await post_csv("candidate_id,sex,race_ethnicity\r\n")
    assert (status, body) == (200, {"received": 0, "created": 0, "updated": 0})
    plain = await audit.client.post(url, data="hi", headers={**auth, "Content-Type": "text/plain"})
    assert plain.status == 415
    broken = await audit.client.post(
        url, data="[{", headers={**auth, "Content-Type": "application/json"}
    )
    assert broken.status == 400 and (await broken.json())["error"]["code"] == "malformed_json"
    not_a_list = await audit.client.post(url, json={"candidate_id": "x"}, headers=auth)
    assert not_a_list.status == 422


async def test_the_review_report_never_shows_demographics(
    node: Node, aiohttp_client: AiohttpClient
) -> None:
    audit = await open_audit(node.storage.pool, node.tokens, aiohttp_client)
    record = await record_interview(audit, HIGH)
    row = {
        "candidate_id": str(record.candidate_id),
        "sex": "female",
        "race_ethnicity": "hispanic_or_latino",
    }
    stored = await audit.client.post("/api/v1/demographics", json=[row], headers=audit.auth())
    assert stored.status == 200
    rest = await aiohttp_client(node.app)
    base = f"/api/v1/interviews/{record.id}"
    for path in (f"{base}/report", f"{base}/report?format=html", base, f"{base}/scores",
                 f"{base}/events", "/api/v1/interviews"):  # fmt: skip
        response = await rest.get(path, headers=audit.auth())
        assert response.status == 200, path
        text = (await response.text()).lower()
        assert str(record.candidate_id) in text or "an answer about" in text, path
        for word in ("female", "hispanic", "latino", "ethnicity", "demographic", "gender"):
            assert word not in text, (path, word)
        assert not re.search(r"\bsex\b", text), path
        if response.content_type == "application/json":
            assert "race_ethnicity" not in json.dumps(await response.json())


async def test_both_routes_are_in_the_openapi_document(storage: Storage) -> None:
    demographics = DemographicsRepository(storage.pool)
    reports = BiasAuditReports(demographics, TemplateRepository(storage.pool))
    deps = AuditDependencies(JwtTokens(TEST_JWT_SECRET), demographics, reports)
    paths = openapi_document(AuditApi(deps).routes())["paths"]
    upload, report = paths["/api/v1/demographics"]["post"], paths["/api/v1/audit"]["get"]
    assert upload["description"] == report["description"] == "Allowed: recruiter, admin."
    assert "text/html" in report["responses"]["200"]["content"]
    assert {p["name"] for p in report["parameters"]} >= {"format", "ended_from", "template"}
