"""The REST API of a live node: every route, every authorisation rule and every error shape."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
import pytest
import socketio
from aiohttp.test_utils import TestClient

from codesage.engine.commands import Answer, ObserverAction
from codesage.engine.event_log import candidate_event_types
from codesage.node import Node
from codesage.signaling.api_models import Interview, Report, Scores, TemplateDetail
from codesage.signaling.auth import JwtTokens, Role
from codesage.signaling.rest import RestApi, RestDependencies
from tests.conftest import TEST_JWT_SECRET
from tests.engine.interview_script import new_interview, start, strong_answer, template_of

API = "/api/v1"
STAFF = (Role.INTERVIEWER, Role.RECRUITER, Role.ADMIN)
MANAGERS = (Role.RECRUITER, Role.ADMIN)
ANY = (*STAFF, Role.CANDIDATE)

# Every route of RestApi.routes(), with the roles it lets in (the candidate only into their own
# interview). `test_the_route_table_is_the_one_the_app_serves` keeps this list complete.
ROUTES: list[tuple[str, str, tuple[Role, ...]]] = [
    ("GET", "/templates", STAFF),
    ("POST", "/templates", MANAGERS),
    ("GET", "/templates/{template_id}", STAFF),
    ("POST", "/interviews", MANAGERS),
    ("GET", "/interviews", STAFF),
    ("GET", "/interviews/{interview_id}", ANY),
    ("POST", "/interviews/{interview_id}/join-link", MANAGERS),
    ("GET", "/interviews/{interview_id}/events", ANY),
    ("GET", "/interviews/{interview_id}/scores", STAFF),  # candidate: practice mode only
    ("GET", "/interviews/{interview_id}/report", STAFF),
    ("POST", "/interviews/{interview_id}/end", STAFF),
    ("POST", "/interviews/{interview_id}/cancel", MANAGERS),
]

XSS = "<script>alert('owned')</script>"


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
async def api(node: Node, aiohttp_client: Any) -> TestClient[Any, Any]:
    """An HTTP client of the node's app on a real port."""
    client: TestClient[Any, Any] = await aiohttp_client(node.app)
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff_token(node: Node, role: Role) -> str:
    return node.tokens.issue(role, ttl_seconds=600)


def candidate_token(node: Node, interview_id: uuid.UUID) -> str:
    return node.tokens.issue(Role.CANDIDATE, interview_id=str(interview_id), ttl_seconds=600)


def token_for(node: Node, role: Role, interview_id: uuid.UUID) -> str:
    if role is Role.CANDIDATE:
        return candidate_token(node, interview_id)
    return staff_token(node, role)


def assert_error(body: Any, code: str | None = None) -> None:
    """The one error shape: `{"error": {"code": str, "message": str}}`, nothing else."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, body
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"], body
    if code is not None:
        assert error["code"] == code, body


async def request(
    api: TestClient[Any, Any],
    method: str,
    path: str,
    token: str | None = None,
    *,
    status: int,
    code: str | None = None,
    **kwargs: Any,
) -> Any:
    """Send a request, check its status (and error shape when it fails); return the JSON body."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers.update(bearer(token))
    response = await api.request(method, path, headers=headers, **kwargs)
    assert response.status == status, (method, path, response.status, await response.text())
    if response.content_type != "application/json":
        return await response.text()
    body = await response.json()
    if status >= 400:
        assert_error(body, code)
    return body


def filled(path: str, template_id: uuid.UUID, interview_id: uuid.UUID) -> str:
    return API + path.format(template_id=template_id, interview_id=interview_id)


def valid_body(method: str, path: str, template_body: dict[str, Any]) -> Any:
    """A body the route would accept, so that a refusal is about the caller, not the body."""
    if method != "POST":
        return None
    if path == "/templates":
        return {**template_body, "slug": "refusal-check"}
    if path == "/interviews":
        return {"template_id": "00000000-0000-0000-0000-000000000000", "mode": "real"}
    return {}


async def shipped_template(
    node: Node, slug: str = "dsa-screen"
) -> tuple[uuid.UUID, dict[str, Any]]:
    record = await node.templates.latest(slug)
    assert record is not None
    return record.id, dict(record.body)


def expired_token(role: Role, interview_id: str | None = None) -> str:
    """Signed with the node's secret, but by a clock two hours behind: expired an hour ago."""
    past = JwtTokens(TEST_JWT_SECRET, clock=lambda: datetime.now(UTC) - timedelta(hours=2))
    return past.issue(role, interview_id=interview_id, ttl_seconds=3600)


def bad_tokens(interview_id: uuid.UUID) -> Iterator[tuple[str, str, str]]:
    """(what, Authorization header, expected code) for every way a token can be wrong."""
    forged = JwtTokens("another-secret-" + "y" * 40).issue(Role.ADMIN, ttl_seconds=600)
    unsigned = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "admin", "exp": 4_000_000_000},
        key=None,
        algorithm="none",
    )
    yield "malformed", "Bearer not.a.jwt", "invalid_token"
    yield "garbage", "Bearer abc", "invalid_token"
    yield "forged", f"Bearer {forged}", "invalid_token"
    yield "alg none", f"Bearer {unsigned}", "invalid_token"
    yield "expired", f"Bearer {expired_token(Role.ADMIN)}", "expired_token"
    expired_candidate = expired_token(Role.CANDIDATE, str(interview_id))
    yield "expired candidate", f"Bearer {expired_candidate}", "expired_token"
    yield "basic scheme", "Basic dXNlcjpwYXNz", "invalid_token"
    yield "empty bearer", "Bearer ", "missing_token"


async def scored_interview(node: Node, mode: str) -> uuid.UUID:
    """An interview with one answered and scored question, an observer note and a pause."""
    interview_id = await new_interview(node, "dsa-screen", mode=mode)
    template = await template_of(node, "dsa-screen")
    prompt = (await start(node, interview_id))["prompt"]
    text = strong_answer(template, prompt)
    await node.supervisor.ask(interview_id, Answer(prompt["prompt_id"], text))
    await node.supervisor.ask(
        interview_id, ObserverAction("note", str(uuid.uuid4()), "<b>note</b>")
    )
    await node.supervisor.ask(interview_id, ObserverAction("pause", str(uuid.uuid4())))
    await node.supervisor.ask(interview_id, ObserverAction("resume", str(uuid.uuid4())))
    return interview_id


# --- the route table and OpenAPI -----------------------------------------------------------


def app_api_routes(node: Node) -> set[tuple[str, str]]:
    routes = set()
    for route in node.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/") and route.method != "HEAD":
            routes.add((route.method, path))
    return routes


def test_the_route_table_is_the_one_the_app_serves(node: Node) -> None:
    # `routes()` only lists bound handlers: it needs no dependencies.
    documented = RestApi(cast(RestDependencies, None)).routes()
    expected = {(method, API + path) for method, path, _ in ROUTES}
    assert {(r.method, r.path) for r in documented} == expected
    assert expected <= app_api_routes(node)


async def test_openapi_document_matches_the_routes_and_resolves(
    node: Node, api: TestClient[Any, Any]
) -> None:
    document = await request(api, "GET", "/openapi.json", status=200)
    assert document["openapi"].startswith("3.1")
    served = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert served == app_api_routes(node)
    schemas = document["components"]["schemas"]

    def refs(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "$ref":
                    yield item
                else:
                    yield from refs(item)
        elif isinstance(value, list):
            for item in value:
                yield from refs(item)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses, (method, path)
            for status, response in responses.items():
                content = response.get("content", {})
                assert content, (method, path, status)
                if int(status) >= 400:
                    assert content["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorResponse"
                    }
            operation_refs = list(refs(operation))
            assert operation_refs, (method, path)
            for ref in operation_refs:
                assert ref.startswith("#/components/schemas/"), ref
                assert ref.removeprefix("#/components/schemas/") in schemas, ref
            if "{" in path:
                names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
                assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}
            if "requestBody" in operation:
                # Any body can be too large or of the wrong type.
                assert {"400", "413", "415", "422"} <= set(responses), (method, path)
            if operation.get("security"):
                assert "401" in responses, (method, path)
    for ref in refs(document["components"]):
        if ref.startswith("#/components/schemas/"):
            assert ref.removeprefix("#/components/schemas/") in schemas, ref


# --- authentication and roles --------------------------------------------------------------


async def test_every_route_refuses_missing_bad_forged_and_expired_tokens(
    node: Node, api: TestClient[Any, Any]
) -> None:
    template_id, body = await shipped_template(node)
    interview_id = await new_interview(node, "dsa-screen")
    for method, path, _ in ROUTES:
        url = filled(path, template_id, interview_id)
        payload = valid_body(method, path, body)
        await request(api, method, url, status=401, code="missing_token", json=payload)
        for what, header, code in bad_tokens(interview_id):
            result = await request(
                api, method, url, status=401, code=code, json=payload,
                headers={"Authorization": header},
            )  # fmt: skip
            assert "eyJ" not in result["error"]["message"], what  # never echoes a token
    record = await node.interviews.get(interview_id)
    assert record is not None and record.state == "scheduled", "nothing was done"


async def test_every_route_refuses_the_roles_it_does_not_name(
    node: Node, api: TestClient[Any, Any]
) -> None:
    template_id, body = await shipped_template(node)
    interview_id = await new_interview(node, "dsa-screen")
    refusals = 0
    for method, path, allowed in ROUTES:
        for role in ANY:
            if role in allowed:
                continue
            refusals += 1
            await request(
                api, method, filled(path, template_id, interview_id),
                token_for(node, role, interview_id), status=403, code="forbidden",
                json=valid_body(method, path, body),
            )  # fmt: skip
    assert refusals == 14
    assert await node.templates.latest("refusal-check") is None
    record = await node.interviews.get(interview_id)
    assert record is not None and record.state == "scheduled"


async def test_staff_read_routes_let_every_staff_role_in(
    node: Node, api: TestClient[Any, Any]
) -> None:
    template_id, _ = await shipped_template(node)
    interview_id = await new_interview(node, "dsa-screen")
    for method, path, allowed in ROUTES:
        if method != "GET":
            continue
        for role in allowed:
            url = filled(path, template_id, interview_id)
            await request(api, method, url, token_for(node, role, interview_id), status=200)


async def test_a_candidate_token_opens_only_its_own_interview(
    node: Node, api: TestClient[Any, Any]
) -> None:
    own = await new_interview(node, "dsa-screen")
    other = await new_interview(node, "dsa-screen")
    token = candidate_token(node, own)
    for suffix in ("", "/events", "/scores"):
        await request(
            api, "GET", f"{API}/interviews/{other}{suffix}", token, status=403, code="forbidden"
        )
    mine = await request(api, "GET", f"{API}/interviews/{own}", token, status=200)
    Interview.model_validate(mine)
    assert mine["id"] == str(own) and mine["state"] == "scheduled" and mine["mode"] == "real"
    # Not even an interview that does not exist is revealed to a candidate.
    missing = uuid.uuid4()
    await request(api, "GET", f"{API}/interviews/{missing}", token, status=403, code="forbidden")
    # Staff see 404 for it.
    admin = staff_token(node, Role.ADMIN)
    await request(api, "GET", f"{API}/interviews/{missing}", admin, status=404, code="not_found")
    # A candidate token of an interview that does not exist opens nothing either.
    ghost = candidate_token(node, missing)
    await request(api, "GET", f"{API}/interviews/{own}", ghost, status=403, code="forbidden")


# --- templates -----------------------------------------------------------------------------


async def test_templates_are_listed_paged_stored_and_read(
    node: Node, api: TestClient[Any, Any]
) -> None:
    admin = staff_token(node, Role.ADMIN)
    interviewer = staff_token(node, Role.INTERVIEWER)
    everything = await request(api, "GET", f"{API}/templates", interviewer, status=200)
    slugs = [t["slug"] for t in everything["items"]]
    assert slugs == ["backend-python", "behavioural", "dsa-screen"]
    assert everything["next_offset"] is None
    first = await request(api, "GET", f"{API}/templates?limit=2", admin, status=200)
    assert [t["slug"] for t in first["items"]] == slugs[:2] and first["next_offset"] == 2
    rest = await request(api, "GET", f"{API}/templates?limit=2&offset=2", admin, status=200)
    assert [t["slug"] for t in rest["items"]] == slugs[2:] and rest["next_offset"] is None
    beyond = await request(api, "GET", f"{API}/templates?offset=50", admin, status=200)
    assert beyond == {"items": [], "next_offset": None}

    _, body = await shipped_template(node)
    new = {**body, "slug": "dsa-copy", "title": "DSA copy"}
    summary = await request(
        api, "POST", f"{API}/templates", staff_token(node, Role.RECRUITER), status=201, json=new
    )
    assert summary["slug"] == "dsa-copy" and summary["version"] == 1
    assert summary["title"] == "DSA copy" and summary["kind"] == body["kind"]
    assert summary["question_count"] == len(body["questions"])
    assert summary["competencies"] == [
        {"id": c["id"], "name": c["name"]} for c in body["competencies"]
    ]
    detail = await request(api, "GET", f"{API}/templates/{summary['id']}", interviewer, status=200)
    TemplateDetail.model_validate(detail)
    assert detail["summary"] == summary and detail["template"]["slug"] == "dsa-copy"
    # Saving a changed body adds a version.
    changed = {**new, "title": "DSA copy, revised"}
    again = await request(api, "POST", f"{API}/templates", admin, status=201, json=changed)
    assert again["version"] == 2 and again["id"] != summary["id"]
    listed = await request(api, "GET", f"{API}/templates", admin, status=200)
    assert [t["title"] for t in listed["items"] if t["slug"] == "dsa-copy"] == ["DSA copy, revised"]


async def test_invalid_templates_are_refused_naming_the_field(
    node: Node, api: TestClient[Any, Any]
) -> None:
    admin = staff_token(node, Role.ADMIN)
    _, body = await shipped_template(node)
    without_title = {k: v for k, v in body.items() if k != "title"}
    refused = await request(
        api, "POST", f"{API}/templates", admin, status=422, code="invalid_template",
        json=without_title,
    )  # fmt: skip
    assert "title" in refused["error"]["message"]
    questions = [dict(q) for q in body["questions"]]
    questions[0]["difficulty"] = 9
    refused = await request(
        api, "POST", f"{API}/templates", admin, status=422, code="invalid_template",
        json={**body, "questions": questions},
    )  # fmt: skip
    assert "questions.0.difficulty" in refused["error"]["message"]
    refused = await request(
        api, "POST", f"{API}/templates", admin, status=422, code="invalid_template",
        json={**body, "slug": "Not A Slug"},
    )  # fmt: skip
    assert "slug" in refused["error"]["message"]
    refused = await request(
        api, "POST", f"{API}/templates", admin, status=422, code="invalid_template",
        json={**body, "max_question_per_competency": 2},  # a typo
    )  # fmt: skip
    assert "max_question_per_competency" in refused["error"]["message"]
    for not_an_object in (b"[]", b'"template"', b"3", b"null"):
        await request(
            api, "POST", f"{API}/templates", admin, status=422, code="invalid_template",
            data=not_an_object, headers={"Content-Type": "application/json"},
        )  # fmt: skip
    assert await node.templates.latest("dsa-screen") is not None
    listed = await request(api, "GET", f"{API}/templates", admin, status=200)
    assert len(listed["items"]) == 3, "nothing invalid was stored"


async def test_unknown_and_malformed_template_ids_are_not_found(
    node: Node, api: TestClient[Any, Any]
) -> None:
    admin = staff_token(node, Role.ADMIN)
    await request(
        api, "GET", f"{API}/templates/{uuid.uuid4()}", admin, status=404, code="not_found"
    )
    for bad in ("not-a-uuid", "123", "%20"):
        await request(api, "GET", f"{API}/templates/{bad}", admin, status=404, code="not_found")


# --- interviews ----------------------------------------------------------------------------


async def test_interviews_are_scheduled_listed_paged_and_filtered(
    node: Node, api: TestClient[Any, Any]
) -> None:
    recruiter = staff_token(node, Role.RECRUITER)
    template_id, _ = await shipped_template(node)
    created = []
    for mode in ("real", "practice", "real"):
        record = await request(
            api, "POST", f"{API}/interviews", recruiter, status=201,
            json={"template_id": str(template_id), "mode": mode},
        )  # fmt: skip
        Interview.model_validate(record)
        assert record["state"] == "scheduled" and record["mode"] == mode
        assert record["template_id"] == str(template_id) and record["last_seq"] == 0
        created.append(record)
    windowed = await request(
        api, "POST", f"{API}/interviews", recruiter, status=201,
        json={
            "template_id": str(template_id),
            "window_start": "2030-01-01T09:00:00Z",
            "window_end": "2030-01-01T17:00:00+00:00",
        },
    )  # fmt: skip
    assert windowed["mode"] == "real"
    assert datetime.fromisoformat(windowed["window_start"]) == datetime(2030, 1, 1, 9, tzinfo=UTC)
    created.append(windowed)

    interviewer = staff_token(node, Role.INTERVIEWER)
    everything = await request(api, "GET", f"{API}/interviews", interviewer, status=200)
    assert {i["id"] for i in everything["items"]} == {c["id"] for c in created}
    assert everything["next_offset"] is None
    page_one = await request(api, "GET", f"{API}/interviews?limit=3", interviewer, status=200)
    assert len(page_one["items"]) == 3 and page_one["next_offset"] == 3
    page_two = await request(
        api, "GET", f"{API}/interviews?limit=3&offset=3", interviewer, status=200
    )
    assert len(page_two["items"]) == 1 and page_two["next_offset"] is None
    assert {i["id"] for i in page_one["items"] + page_two["items"]} == {c["id"] for c in created}

    await request(api, "POST", f"{API}/interviews/{created[0]['id']}/cancel", recruiter, status=200)
    cancelled = await request(
        api, "GET", f"{API}/interviews?state=cancelled", interviewer, status=200
    )
    assert [i["id"] for i in cancelled["items"]] == [created[0]["id"]]
    scheduled = await request(
        api, "GET", f"{API}/interviews?state=scheduled", interviewer, status=200
    )
    assert len(scheduled["items"]) == 3


async def test_scheduling_refuses_bad_bodies(node: Node, api: TestClient[Any, Any]) -> None:
    admin = staff_token(node, Role.ADMIN)
    template_id, _ = await shipped_template(node)
    url = f"{API}/interviews"
    good = {"template_id": str(template_id), "mode": "real"}
    await request(
        api, "POST", url, admin, status=404, code="not_found",
        json={**good, "template_id": str(uuid.uuid4())},
    )  # fmt: skip
    invalid: list[dict[str, Any]] = [
        {**good, "surprise": 1},  # unknown field
        {**good, "mode": "exam"},
        {**good, "template_id": "not-a-uuid"},
        {**good, "template_id": "-" * 36},  # the right length, but not a UUID
        {**good, "template_id": "g" * 8 + "-0000-0000-0000-" + "0" * 12},
        {"mode": "real"},
        {**good, "window_start": "2030-01-02T00:00:00Z", "window_end": "2030-01-01T00:00:00Z"},
        {**good, "window_start": "2030-01-01T09:00:00"},  # no time zone
        {**good, "resume_text": 5},
    ]
    for body in invalid:
        refused = await request(api, "POST", url, admin, status=422, json=body)
        assert refused["error"]["code"] in ("invalid_request", "invalid_template"), body
    unknown = await request(api, "POST", url, admin, status=422, json={**good, "surprise": 1})
    assert "surprise" in unknown["error"]["message"]
    listed = await request(api, "GET", url, admin, status=200)
    assert listed["items"] == [], "nothing was scheduled"


async def test_unknown_and_malformed_interview_ids_are_not_found(
    node: Node, api: TestClient[Any, Any]
) -> None:
    admin = staff_token(node, Role.ADMIN)
    template_id = uuid.uuid4()
    for method, path, _ in ROUTES:
        if "{interview_id}" not in path:
            continue
        for interview_id in (str(uuid.uuid4()), "nope", "1234"):
            url = API + path.format(interview_id=interview_id, template_id=template_id)
            await request(api, method, url, admin, status=404, code="not_found", json={})


# --- request hygiene -----------------------------------------------------------------------


async def test_bodies_must_be_json_objects_of_reasonable_size(
    node: Node, api: TestClient[Any, Any]
) -> None:
    admin = staff_token(node, Role.ADMIN)
    interview_id = await new_interview(node, "dsa-screen")
    for url in (
        f"{API}/templates",
        f"{API}/interviews",
        f"{API}/interviews/{interview_id}/join-link",
    ):
        await request(
            api, "POST", url, admin, status=400, code="malformed_json", data=b'{"slug": ',
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        await request(
            api, "POST", url, admin, status=400, code="malformed_json", data=b'{"a": "\xff\xfe"}',
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        await request(
            api, "POST", url, admin, status=415, code="unsupported_media_type", data=b"{}",
            headers={"Content-Type": "text/plain"},
        )  # fmt: skip
        await request(
            api, "POST", url, admin, status=413, code="request_too_large",
            data=b'{"x": "' + b"a" * (1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
    for url in (f"{API}/templates", f"{API}/interviews"):
        await request(api, "POST", url, admin, status=400, code="missing_body")
    # The connection is still good after all that.
    await request(api, "GET", f"{API}/templates", admin, status=200)


async def test_bad_query_parameters_are_refused(node: Node, api: TestClient[Any, Any]) -> None:
    admin = staff_token(node, Role.ADMIN)
    interview_id = await new_interview(node, "dsa-screen")
    bad = {
        f"{API}/templates": ("limit=0", "limit=abc", "limit=201", "offset=-1", "offset=x"),
        f"{API}/interviews": ("limit=0", "limit=abc", "limit=1.5", "offset=-1"),
        f"{API}/interviews/{interview_id}/events": ("after=-1", "after=abc", "limit=0", "limit=x"),
    }
    for url, queries in bad.items():
        for query in queries:
            refused = await request(
                api, "GET", f"{url}?{query}", admin, status=400, code="invalid_query"
            )
            assert query.split("=")[0] in refused["error"]["message"]


async def test_query_bounds_are_the_documented_ones(node: Node, api: TestClient[Any, Any]) -> None:
    document = await request(api, "GET", "/openapi.json", status=200)
    admin = staff_token(node, Role.ADMIN)
    template_id, _ = await shipped_template(node)
    interview_id = await new_interview(node, "dsa-screen")
    checked = 0
    for method, path, _ in ROUTES:
        if method != "GET":
            continue
        url = filled(path, template_id, interview_id)
        for parameter in document["paths"][API + path]["get"]["parameters"]:
            schema, name = parameter["schema"], parameter["name"]
            if parameter["in"] != "query" or schema.get("type") != "integer":
                continue
            checked += 1
            low = schema["minimum"]
            await request(api, "GET", f"{url}?{name}={low}", admin, status=200)
            await request(api, "GET", f"{url}?{name}={low - 1}", admin, status=400)
            if "maximum" in schema:
                high = schema["maximum"]
                await request(api, "GET", f"{url}?{name}={high}", admin, status=200)
                await request(
                    api, "GET", f"{url}?{name}={high + 1}", admin, status=400, code="invalid_query"
                )
    assert checked == 6
    report = f"{API}/interviews/{interview_id}/report"
    await request(api, "GET", f"{report}?format=pdf", admin, status=400, code="invalid_query")


async def test_unknown_paths_and_methods_answer_in_the_error_shape(
    node: Node, api: TestClient[Any, Any]
) -> None:
    admin = staff_token(node, Role.ADMIN)
    await request(api, "GET", f"{API}/nothing-here", admin, status=404, code="not_found")
    await request(api, "DELETE", f"{API}/templates", admin, status=405, code="method_not_allowed")
    await request(api, "PUT", f"{API}/interviews", admin, status=405, code="method_not_allowed")


# --- join links ----------------------------------------------------------------------------


async def test_join_link_token_opens_the_interview_and_the_candidate_socket(
    node: Node, api: TestClient[Any, Any]
) -> None:
    interview_id = await new_interview(node, "dsa-screen")
    record = await node.interviews.get(interview_id)
    assert record is not None
    admin = staff_token(node, Role.ADMIN)
    url = f"{API}/interviews/{interview_id}/join-link"
    before = datetime.now(UTC)
    link = await request(api, "POST", url, admin, status=201, json={"ttl_seconds": 600})
    assert set(link) == {"token", "url", "expires_at"}
    assert link["url"] == f"/candidate/?token={link['token']}"
    expires = datetime.fromisoformat(link["expires_at"])
    assert before + timedelta(seconds=590) <= expires <= datetime.now(UTC) + timedelta(seconds=610)
    principal = node.tokens.verify(link["token"])
    assert principal.role is Role.CANDIDATE and principal.interview_id == str(interview_id)
    assert principal.subject == str(record.candidate_id)
    # Defaults to a day; without a body at all too.
    default = await request(api, "POST", url, staff_token(node, Role.RECRUITER), status=201)
    assert datetime.fromisoformat(default["expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    for body in (
        {"ttl_seconds": 10},
        {"ttl_seconds": 8 * 24 * 3600},
        {"ttl": 600},
        {"ttl_seconds": "x"},
    ):
        await request(api, "POST", url, admin, status=422, code="invalid_request", json=body)

    seen = await request(api, "GET", f"{API}/interviews/{interview_id}", link["token"], status=200)
    assert seen["id"] == str(interview_id)
    sio = socketio.AsyncClient(reconnection=False)
    try:
        await sio.connect(
            str(api.make_url("/")), transports=["websocket"], namespaces=["/candidate"],
            auth={"token": link["token"]}, wait_timeout=10,
        )  # fmt: skip
        ack = await sio.call("join", {}, namespace="/candidate", timeout=10)
        assert ack["ok"] is True, ack
        assert ack["snapshot"]["interview_id"] == str(interview_id)
        assert ack["snapshot"]["state"] == "waiting"
    finally:
        await sio.disconnect()

    await request(api, "POST", f"{API}/interviews/{interview_id}/cancel", admin, status=200)
    await request(api, "POST", url, admin, status=409, code="interview_ended", json={})


# --- ending and cancelling -----------------------------------------------------------------


async def test_end_and_cancel_change_state_once(node: Node, api: TestClient[Any, Any]) -> None:
    interviewer = staff_token(node, Role.INTERVIEWER)
    recruiter = staff_token(node, Role.RECRUITER)
    running = await new_interview(node, "dsa-screen")
    await start(node, running)
    ended = await request(api, "POST", f"{API}/interviews/{running}/end", interviewer, status=200)
    Interview.model_validate(ended)
    assert ended["state"] == "done" and ended["ended_at"] is not None and ended["last_seq"] > 0
    await request(
        api, "POST", f"{API}/interviews/{running}/end", interviewer, status=409,
        code="interview_ended",
    )  # fmt: skip
    await request(
        api, "POST", f"{API}/interviews/{running}/cancel", recruiter, status=409,
        code="interview_ended",
    )  # fmt: skip
    events = await request(
        api, "GET", f"{API}/interviews/{running}/events", interviewer, status=200
    )
    assert events["items"][-1]["type"] == "ended"
    assert events["items"][-1]["payload"] == {"reason": "ended_by_interviewer"}

    scheduled = await new_interview(node, "dsa-screen")
    cancelled = await request(
        api, "POST", f"{API}/interviews/{scheduled}/cancel", recruiter, status=200
    )
    assert cancelled["state"] == "cancelled" and cancelled["ended_at"] is not None
    await request(
        api, "POST", f"{API}/interviews/{scheduled}/cancel", recruiter, status=409,
        code="interview_ended",
    )  # fmt: skip
    await request(
        api, "POST", f"{API}/interviews/{scheduled}/end", interviewer, status=409,
        code="interview_ended",
    )  # fmt: skip
    again = await request(api, "GET", f"{API}/interviews/{scheduled}", interviewer, status=200)
    assert again["state"] == "cancelled"


# --- events, scores and reports ------------------------------------------------------------


async def test_candidates_see_only_their_events_and_no_scores_in_a_real_interview(
    node: Node, api: TestClient[Any, Any]
) -> None:
    interview_id = await scored_interview(node, "real")
    url = f"{API}/interviews/{interview_id}"
    admin = staff_token(node, Role.ADMIN)
    candidate = candidate_token(node, interview_id)

    everything = await request(api, "GET", f"{url}/events", admin, status=200)
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == list(range(1, len(seqs) + 1)) and everything["last_seq"] == seqs[-1]
    staff_types = {e["type"] for e in everything["items"]}
    assert {"score", "summary", "note", "observer_action", "answer_final"} <= staff_types

    own = await request(api, "GET", f"{url}/events", candidate, status=200)
    visible = set(candidate_event_types("real"))
    assert own["items"] == [e for e in everything["items"] if e["type"] in visible]
    assert not {e["type"] for e in own["items"]} & {"score", "summary", "note", "observer_action"}
    assert {"state_changed", "prompt", "answer_final"} <= {e["type"] for e in own["items"]}
    assert own["last_seq"] == own["items"][-1]["seq"]

    page = await request(api, "GET", f"{url}/events?after=2&limit=3", admin, status=200)
    assert [e["seq"] for e in page["items"]] == [3, 4, 5] and page["last_seq"] == 5
    tail = await request(api, "GET", f"{url}/events?after={seqs[-1]}", admin, status=200)
    assert tail == {"items": [], "last_seq": seqs[-1]}

    await request(api, "GET", f"{url}/scores", candidate, status=403, code="forbidden")
    scores = await request(api, "GET", f"{url}/scores", admin, status=200)
    Scores.model_validate(scores)
    assert len(scores["answers"]) == 1 and scores["hints"] == []
    answer = scores["answers"][0]
    for key in ("prompt_id", "question_id", "question_text", "competency", "answer_text",
                "level", "score", "confidence", "insufficient_evidence", "reason", "evidence",
                "matched_indicators", "missing_indicators"):  # fmt: skip
        assert key in answer, key
    assert {c["id"] for c in scores["competencies"]} >= {answer["competency"]}
    await request(api, "GET", f"{url}/report", candidate, status=403, code="forbidden")


async def test_a_practice_candidate_sees_scores_and_feedback(
    node: Node, api: TestClient[Any, Any]
) -> None:
    interview_id = await scored_interview(node, "practice")
    url = f"{API}/interviews/{interview_id}"
    candidate = candidate_token(node, interview_id)
    scores = await request(api, "GET", f"{url}/scores", candidate, status=200)
    assert len(scores["answers"]) == 1
    own = await request(api, "GET", f"{url}/events", candidate, status=200)
    types = {e["type"] for e in own["items"]}
    assert {"score", "summary"} <= types and not types & {"note", "observer_action"}


async def test_the_report_is_json_or_escaped_html(node: Node, api: TestClient[Any, Any]) -> None:
    template = await template_of(node, "dsa-screen")
    interview_id = await new_interview(node, "dsa-screen")
    prompt = (await start(node, interview_id))["prompt"]
    answer_text = f"{strong_answer(template, prompt)} {XSS}"
    await node.supervisor.ask(interview_id, Answer(prompt["prompt_id"], answer_text))
    await node.supervisor.ask(interview_id, ObserverAction("note", str(uuid.uuid4()), XSS))
    url = f"{API}/interviews/{interview_id}/report"

    for role in STAFF:
        report = await request(api, "GET", url, staff_token(node, role), status=200)
        Report.model_validate(report)
    assert report["interview"]["id"] == str(interview_id)
    assert report["template"] == {
        "slug": template.slug,
        "title": template.title,
        "role": template.role,
    }
    assert [n["text"] for n in report["notes"]] == [XSS]
    assert report["hints"] == report["scores"]["hints"] == []
    line = report["transcript"][0]
    assert line["prompt_id"] == prompt["prompt_id"] and line["answer_text"] == answer_text
    assert line["question_text"] == prompt["text"] and line["answered_at"] is not None
    assert report["scores"]["answers"][0]["answer_text"] == answer_text
    same = await request(
        api, "GET", f"{url}?format=json", staff_token(node, Role.ADMIN), status=200
    )
    assert same["transcript"] == report["transcript"]

    response = await api.get(
        f"{url}?format=html", headers=bearer(staff_token(node, Role.RECRUITER))
    )
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    assert html.startswith("<!doctype html>")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in html
    assert template.title in html
