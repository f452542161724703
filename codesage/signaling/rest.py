"""REST handlers: templates, interviews, join links, events, scores, reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ValidationError

from codesage.agents.resume import ResumeError
from codesage.agents.template import InterviewTemplate
from codesage.engine.commands import InterviewError, ObserverAction
from codesage.engine.event_log import candidate_event_types
from codesage.engine.report_html import render_report_html
from codesage.engine.reports import InterviewReports
from codesage.engine.supervisor import ActorSupervisor
from codesage.engine.webhooks import WebhookOutbox
from codesage.signaling.api_models import (
    CreateInterview,
    EventPage,
    Interview,
    InterviewPage,
    JoinLink,
    JoinLinkRequest,
    Report,
    Scores,
    TemplateDetail,
    TemplatePage,
    TemplateSummary,
)
from codesage.signaling.auth import (
    STAFF_ROLES,
    JwtTokens,
    Principal,
    Role,
    request_principal,
    require_interview_access,
    require_role,
)
from codesage.signaling.errors import ApiError, validation_message
from codesage.signaling.openapi import QueryParam, Route
from codesage.signaling.query_params import int_query, next_offset, page
from codesage.storage.interviews import (
    FINAL_STATES,
    LIVE_STATES,
    InterviewRecord,
    InterviewRepository,
)
from codesage.storage.journal import InterviewJournal
from codesage.storage.templates import TemplateRecord, TemplateRepository

MANAGERS = (Role.RECRUITER, Role.ADMIN)
INTERVIEW_STATES = frozenset({"scheduled", *LIVE_STATES, *FINAL_STATES})
STATE = QueryParam("state", {"type": "string", "enum": sorted(INTERVIEW_STATES)})
REVIEWERS = (Role.RECRUITER, Role.ADMIN, Role.INTERVIEWER)
FORMAT = QueryParam("format", {"type": "string", "enum": ["json", "html"]})
ENDING_ERRORS = (401, 403, 404, 409)
LIMIT = QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50})
OFFSET = QueryParam("offset", {"type": "integer", "minimum": 0, "default": 0})
EVENTS_LIMIT = QueryParam(
    "limit", {"type": "integer", "minimum": 1, "maximum": 5000, "default": 1000}
)


class CandidateProfiler(Protocol):
    """Turns resume text into a scrubbed profile (skills the template can probe)."""

    async def profile(self, template: InterviewTemplate, resume_text: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RestDependencies:
    """What the REST handlers work with."""

    tokens: JwtTokens
    templates: TemplateRepository
    interviews: InterviewRepository
    journal: InterviewJournal
    supervisor: ActorSupervisor
    reports: InterviewReports
    profiler: CandidateProfiler
    webhook_outbox: WebhookOutbox | None = None


class RestApi:
    """The `/api/v1` handlers, each checking role and interview before anything else."""

    def __init__(self, deps: RestDependencies):
        self._d = deps

    def routes(self) -> list[Route]:
        """Every route with its documentation."""
        base = "/api/v1"
        staff = "interviewer, recruiter, admin"
        return [
            Route("GET", f"{base}/templates", self.list_templates, "List templates", staff,
                  TemplatePage, query=(LIMIT, OFFSET), errors=(401, 403)),
            Route("POST", f"{base}/templates", self.create_template, "Store a template",
                  "recruiter, admin", TemplateSummary, 201, body=InterviewTemplate,
                  errors=(401, 403, 413)),
            Route("GET", f"{base}/templates/{{template_id}}", self.get_template, "Get a template",
                  staff, TemplateDetail),
            Route("POST", f"{base}/interviews", self.create_interview, "Schedule an interview",
                  "recruiter, admin", Interview, 201, body=CreateInterview,
                  errors=(401, 403, 404, 413)),
            Route("GET", f"{base}/interviews", self.list_interviews, "List interviews", staff,
                  InterviewPage, query=(LIMIT, OFFSET, STATE),
                  errors=(401, 403)),
            Route("GET", f"{base}/interviews/{{interview_id}}", self.get_interview,
                  "Get an interview", f"{staff}; its candidate", Interview),
            Route("POST", f"{base}/interviews/{{interview_id}}/join-link", self.join_link,
                  "Issue a candidate join link", "recruiter, admin", JoinLink, 201,
                  body=JoinLinkRequest, errors=(401, 403, 404, 409)),
            Route("GET", f"{base}/interviews/{{interview_id}}/events", self.events,
                  "Events after a sequence number", f"{staff}; its candidate (own events)",
                  EventPage,
                  query=(EVENTS_LIMIT, QueryParam("after", {"type": "integer", "minimum": 0}))),
            Route("GET", f"{base}/interviews/{{interview_id}}/scores", self.scores, "Scores",
                  f"{staff}; its candidate in practice mode", Scores),
            Route("GET", f"{base}/interviews/{{interview_id}}/report", self.report,
                  "The review report (JSON or printable HTML)", "recruiter, admin, interviewer",
                  Report, query=(FORMAT,), html=True),
            Route("POST", f"{base}/interviews/{{interview_id}}/end", self.end, "End an interview",
                  staff, Interview, errors=ENDING_ERRORS),
            Route("POST", f"{base}/interviews/{{interview_id}}/cancel", self.cancel,
                  "Cancel an interview", "recruiter, admin", Interview, errors=ENDING_ERRORS),
        ]  # fmt: skip

    # --- helpers ---------------------------------------------------------------------------

    def _principal(self, request: web.Request) -> Principal:
        return request_principal(request.headers, self._d.tokens)

    def _staff(self, request: web.Request, *roles: Role) -> Principal:
        principal = self._principal(request)
        require_role(principal, *(roles or tuple(STAFF_ROLES)))
        return principal

    async def _interview(self, request: web.Request, principal: Principal) -> InterviewRecord:
        interview_id = _uuid(request.match_info["interview_id"], "interview")
        require_interview_access(principal, str(interview_id))
        record = await self._d.interviews.get(interview_id)
        if record is None:
            raise ApiError(404, "not_found", "No such interview.")
        return record

    # --- templates -------------------------------------------------------------------------

    async def list_templates(self, request: web.Request) -> web.Response:
        """GET /templates"""
        self._staff(request)
        limit, offset = page(request)
        records = await self._d.templates.list_latest(limit, offset)
        items = [_template_summary(r) for r in records]
        return _json({"items": items, "next_offset": next_offset(offset, limit, len(items))})

    async def create_template(self, request: web.Request) -> web.Response:
        """POST /templates"""
        self._staff(request, *MANAGERS)
        body = await _json_body(request)
        try:
            template = InterviewTemplate.model_validate(body)
        except ValidationError as exc:
            raise ApiError(422, "invalid_template", validation_message(exc)) from exc
        record = await self._d.templates.save(
            template.slug, template.title, template.role, template.model_dump(mode="json")
        )
        return _json(_template_summary(record), 201)

    async def get_template(self, request: web.Request) -> web.Response:
        """GET /templates/{id}"""
        self._staff(request)
        record = await self._d.templates.get(_uuid(request.match_info["template_id"], "template"))
        if record is None:
            raise ApiError(404, "not_found", "No such template.")
        return _json({"summary": _template_summary(record), "template": record.body})

    # --- interviews ------------------------------------------------------------------------

    async def create_interview(self, request: web.Request) -> web.Response:
        """POST /interviews"""
        self._staff(request, *MANAGERS)
        body = CreateInterview.model_validate(await _json_body(request))
        template_record = await self._d.templates.get(uuid.UUID(body.template_id))
        if template_record is None:
            raise ApiError(404, "not_found", "No such template.")
        profile: dict[str, Any] = {}
        if body.resume_text:
            template = InterviewTemplate.model_validate(template_record.body)
            try:
                profile = await self._d.profiler.profile(template, body.resume_text)
            except ResumeError as exc:
                raise ApiError(422, "invalid_resume", str(exc)) from exc
        record = await self._d.interviews.create(
            template_record.id,
            body.mode,
            window_start=body.window_start,
            window_end=body.window_end,
            candidate_profile=profile,
        )
        if self._d.webhook_outbox is not None:
            await self._d.webhook_outbox.interview_scheduled(record)
        return _json(record.to_json(), 201)

    async def list_interviews(self, request: web.Request) -> web.Response:
        """GET /interviews"""
        self._staff(request)
        limit, offset = page(request)
        state = request.query.get("state")
        if state is not None and state not in INTERVIEW_STATES:
            raise ApiError(
                400, "invalid_query", f"state must be one of {sorted(INTERVIEW_STATES)}."
            )
        records = await self._d.interviews.list(
            states=(state,) if state else None, limit=limit, offset=offset
        )
        items = [r.to_json() for r in records]
        return _json({"items": items, "next_offset": next_offset(offset, limit, len(items))})

    async def get_interview(self, request: web.Request) -> web.Response:
        """GET /interviews/{id}"""
        record = await self._interview(request, self._principal(request))
        return _json(record.to_json())

    async def join_link(self, request: web.Request) -> web.Response:
        """POST /interviews/{id}/join-link"""
        principal = self._staff(request, *MANAGERS)
        record = await self._interview(request, principal)
        if record.state in FINAL_STATES:
            raise ApiError(409, "interview_ended", "This interview has ended.")
        body = JoinLinkRequest.model_validate(await _json_body(request, default={}))
        ttl = body.ttl_seconds or 24 * 3600
        token = self._d.tokens.issue(
            Role.CANDIDATE,
            interview_id=str(record.id),
            ttl_seconds=ttl,
            subject=str(record.candidate_id),
        )
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        link = {
            "token": token,
            "url": f"/candidate/?token={token}",
            "expires_at": expires.isoformat(),
        }
        return _json(link, 201)

    async def events(self, request: web.Request) -> web.Response:
        """GET /interviews/{id}/events"""
        principal = self._principal(request)
        record = await self._interview(request, principal)
        after = int_query(request, "after", 0, 0, 2**62)
        limit = int_query(request, "limit", 1000, 1, 5000)
        types = candidate_event_types(record.mode) if principal.role == Role.CANDIDATE else None
        events = await self._d.journal.events_after(record.id, after, limit, types=types)
        last = events[-1].seq if events else after
        return _json({"items": [e.to_json() for e in events], "last_seq": last})

    async def scores(self, request: web.Request) -> web.Response:
        """GET /interviews/{id}/scores"""
        principal = self._principal(request)
        record = await self._interview(request, principal)
        if principal.role == Role.CANDIDATE and record.mode != "practice":
            raise ApiError(403, "forbidden", "Scores of a real interview are for the hiring team.")
        return _json(await self._d.reports.scores(record))

    async def report(self, request: web.Request) -> web.StreamResponse:
        """GET /interviews/{id}/report"""
        principal = self._staff(request, *REVIEWERS)
        record = await self._interview(request, principal)
        report_format = request.query.get("format", "json")
        if report_format not in ("json", "html"):
            raise ApiError(400, "invalid_query", "format must be json or html.")
        report = await self._d.reports.report(record)
        if report_format == "html":
            return web.Response(text=render_report_html(report), content_type="text/html")
        return _json(report)

    async def end(self, request: web.Request) -> web.Response:
        """POST /interviews/{id}/end"""
        principal = self._staff(request)
        record = await self._interview(request, principal)
        await self._d.supervisor.ask(record.id, ObserverAction("end", principal.subject))
        return _json(await self._fresh(record.id))

    async def cancel(self, request: web.Request) -> web.Response:
        """POST /interviews/{id}/cancel"""
        principal = self._staff(request, *MANAGERS)
        record = await self._interview(request, principal)
        await self._d.supervisor.ask(record.id, ObserverAction("cancel", principal.subject))
        return _json(await self._fresh(record.id))

    async def _fresh(self, interview_id: uuid.UUID) -> dict[str, Any]:
        record = await self._d.interviews.get(interview_id)
        assert record is not None
        return record.to_json()


def _template_summary(record: TemplateRecord) -> dict[str, Any]:
    body = record.body
    return {
        "id": str(record.id),
        "slug": record.slug,
        "version": record.version,
        "title": record.title,
        "role": record.role,
        "kind": body.get("kind", ""),
        "question_count": len(body.get("questions", [])),
        "competencies": [{"id": c["id"], "name": c["name"]} for c in body.get("competencies", [])],
    }


def _json(body: dict[str, Any] | BaseModel, status: int = 200) -> web.Response:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return web.json_response(data, status=status)


async def _json_body(request: web.Request, default: Any = None) -> Any:
    if not request.body_exists:
        if default is not None:
            return default
        raise ApiError(400, "missing_body", "This request needs a JSON body.")
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        return await request.json()
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from exc


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", f"No such {what}.") from None


__all__ = ["InterviewError", "RestApi", "RestDependencies"]
