"""REST routes of the bias audit: demographic uploads and the audit report (recruiters, admins).

These are the only routes that touch demographic categories; interviewers score and review, so
they are refused here like candidates.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, RootModel, ValidationError

from codesage.engine.bias_audit_report import AuditScope, BiasAuditReports, render_bias_audit_html
from codesage.signaling.api_models import Strict
from codesage.signaling.auth import Principal, Role, TokenVerifier, request_principal, require_role
from codesage.signaling.errors import ApiError, validation_message
from codesage.signaling.openapi import QueryParam, Route
from codesage.storage.demographics import (
    Demographics,
    DemographicsError,
    DemographicsRepository,
    parse_demographics,
)

AUDITORS = (Role.RECRUITER, Role.ADMIN)
MAX_UPLOAD_ROWS = 10_000
CSV_COLUMNS = ("candidate_id", "sex", "race_ethnicity")
Row = tuple[str, dict[str, str]]
"""Where a row came from ("line 3", "item 0") and its fields."""
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Audit results describe protected groups: no shared cache may keep a copy.
_PRIVATE = {"Cache-Control": "no-store"}
_CSV_ATTACHMENT = 'attachment; filename="bias-audit.csv"'

AUDIT_QUERY = (
    QueryParam("format", {"type": "string", "enum": ["json", "csv", "html"], "default": "json"}),
    QueryParam(
        "ended_from", {"type": "string", "format": "date-time"}, "Interviews ended at or after."
    ),
    QueryParam("ended_before", {"type": "string", "format": "date-time"}, "Ended before."),
    QueryParam("template", {"type": "string"}, "Only interviews of this template slug."),
)


class DemographicsRow(Strict):
    """One candidate's categories (values as in the audit, or their readable names)."""

    candidate_id: str
    sex: str
    race_ethnicity: str


class DemographicsUpload(RootModel[list[DemographicsRow]]):
    """A JSON upload; the same columns can come as text/csv with a header row."""


class DemographicsStored(BaseModel):
    """What an upload stored."""

    received: int
    created: int
    updated: int


class AuditCategory(BaseModel):
    """One category's audit figures."""

    category: str
    count: int
    above_median: int
    share: float
    scoring_rate: float
    impact_ratio: float | None
    small_sample: bool
    adverse_impact_flag: bool
    unknown: bool
    flags: list[str]


class AuditDimension(BaseModel):
    """Every category of sex, race/ethnicity or their intersection."""

    dimension: str
    highest_category: str | None
    categories: list[AuditCategory]


class AuditScopeView(BaseModel):
    """The interviews the audit covers."""

    ended_from: str | None
    ended_before: str | None
    template: str | None


class BiasAudit(BaseModel):
    """The bias audit report (also as text/csv and text/html)."""

    generated_at: str
    scope: AuditScopeView
    first_ended_at: str | None
    last_ended_at: str | None
    excluded_insufficient_evidence: int
    total: int
    median: float | None
    adverse_impact_ratio: float
    small_sample_share: float
    dimensions: list[AuditDimension]


@dataclass(frozen=True)
class AuditDependencies:
    """What the audit routes work with."""

    tokens: TokenVerifier
    demographics: DemographicsRepository
    reports: BiasAuditReports


class AuditApi:
    """`/api/v1/demographics` and `/api/v1/audit`, recruiters and admins only."""

    def __init__(self, deps: AuditDependencies):
        self._d = deps

    def routes(self) -> list[Route]:
        """Both routes with their documentation."""
        roles = "recruiter, admin"
        return [
            Route("POST", "/api/v1/demographics", self.upload_demographics,
                  "Upload candidates' demographic categories (JSON, or text/csv with a header)",
                  roles, DemographicsStored, body=DemographicsUpload,
                  errors=(401, 403, 413, 415)),
            Route("GET", "/api/v1/audit", self.audit,
                  "The bias audit: scoring rates and impact ratios (JSON, CSV or HTML)", roles,
                  BiasAudit, query=AUDIT_QUERY, errors=(401, 403), html=True),
        ]  # fmt: skip

    def _auditor(self, request: web.Request) -> Principal:
        principal = request_principal(request.headers, self._d.tokens)
        require_role(principal, *AUDITORS)
        return principal

    async def upload_demographics(self, request: web.Request) -> web.Response:
        """POST /demographics"""
        self._auditor(request)
        if not request.body_exists:
            raise ApiError(400, "missing_body", "This request needs a JSON or CSV body.")
        if request.content_type == "text/csv":
            rows = _csv_rows(await request.text())
        elif request.content_type == "application/json":
            rows = _json_rows(await _json(request))
        else:
            raise ApiError(415, "unsupported_media_type", "Send application/json or text/csv.")
        if len(rows) > MAX_UPLOAD_ROWS:
            raise ApiError(413, "too_many_rows", f"Upload at most {MAX_UPLOAD_ROWS} rows at once.")
        try:
            counts = await self._d.demographics.upsert(_parsed(rows))
        except DemographicsError as exc:
            raise ApiError(422, "invalid_demographics", str(exc)) from exc
        stored = DemographicsStored(
            received=len(rows), created=counts.created, updated=counts.updated
        )
        return web.json_response(stored.model_dump(), headers=_PRIVATE)

    async def audit(self, request: web.Request) -> web.Response:
        """GET /audit"""
        self._auditor(request)
        output = request.query.get("format", "json")
        if output not in ("json", "csv", "html"):
            raise ApiError(400, "invalid_query", "format must be json, csv or html.")
        template = request.query.get("template") or None
        if template is not None and not _SLUG.match(template):
            raise ApiError(400, "invalid_query", "template must be a template slug.")
        scope = AuditScope(
            ended_from=_time_query(request, "ended_from"),
            ended_before=_time_query(request, "ended_before"),
            template_slug=template,
        )
        report = await self._d.reports.build(scope)
        if output == "csv":
            return web.Response(
                text=report.audit.to_csv(),
                content_type="text/csv",
                headers={**_PRIVATE, "Content-Disposition": _CSV_ATTACHMENT},
            )
        if output == "html":
            return web.Response(
                text=render_bias_audit_html(report), content_type="text/html", headers=_PRIVATE
            )
        return web.json_response(report.to_json(), headers=_PRIVATE)


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from exc


def _json_rows(body: Any) -> list[Row]:
    try:
        upload = DemographicsUpload.model_validate(body)
    except ValidationError as exc:
        raise ApiError(422, "invalid_demographics", validation_message(exc)) from exc
    return [(f"item {index}", row.model_dump()) for index, row in enumerate(upload.root)]


def _csv_rows(text: str) -> list[Row]:
    """Rows of a CSV with exactly the columns candidate_id, sex, race_ethnicity (any order)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        lines = [(reader.line_num, line) for line in reader if any(c.strip() for c in line)]
    except csv.Error as exc:
        raise ApiError(400, "malformed_csv", f"The CSV could not be read: {exc}") from exc
    if not lines:
        raise ApiError(422, "invalid_demographics", "The CSV has no header row.")
    header = [cell.strip().lower() for cell in lines[0][1]]
    # Other columns (a name, an email) are refused rather than ignored: they have no place here.
    if sorted(header) != sorted(CSV_COLUMNS):
        raise ApiError(
            422,
            "invalid_demographics",
            f"The CSV header must be exactly: {', '.join(CSV_COLUMNS)}.",
        )
    rows = []
    for number, line in lines[1:]:
        if len(line) != len(header):
            raise ApiError(
                422, "invalid_demographics", f"line {number}: expected {len(header)} fields"
            )
        rows.append((f"line {number}", dict(zip(header, (c.strip() for c in line), strict=True))))
    return rows


def _parsed(rows: list[Row]) -> list[Demographics]:
    parsed = []
    for label, row in rows:
        try:
            parsed.append(
                parse_demographics(row["candidate_id"], row["sex"], row["race_ethnicity"])
            )
        except DemographicsError as exc:
            raise DemographicsError(f"{label}: {exc}") from exc
    return parsed


def _time_query(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"{name} must be an ISO 8601 date or time.") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
