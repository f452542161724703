"""The bias audit report: stored scores combined as the review report does, audited, rendered.

Each candidate's latest completed real interview counts once, with the overall score a
recruiter sees in its review report; interviews without one (insufficient evidence) are
left out and counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from codesage.agents.aggregate import combine_answer_scores
from codesage.agents.bias_audit import (
    INTERSECTION,
    INTERSECTION_SEPARATOR,
    RACE_ETHNICITY,
    SEX,
    AuditRecord,
    AuditSettings,
    BiasAuditResult,
    CategoryResult,
    DimensionResult,
    run_bias_audit,
)
from codesage.agents.template import InterviewTemplate
from codesage.storage.demographics import AuditAnswerRow, DemographicsRepository
from codesage.storage.templates import TemplateRepository

Clock = Callable[[], datetime]

DIMENSION_TITLES = {
    SEX: "Sex",
    RACE_ETHNICITY: "Race/ethnicity",
    INTERSECTION: "Intersectional categories (sex and race/ethnicity)",
}
CATEGORY_LABELS = {
    "female": "Female",
    "male": "Male",
    "hispanic_or_latino": "Hispanic or Latino",
    "white": "White",
    "black_or_african_american": "Black or African American",
    "native_hawaiian_or_pacific_islander": "Native Hawaiian or Pacific Islander",
    "asian": "Asian",
    "american_indian_or_alaska_native": "American Indian or Alaska Native",
    "two_or_more_races": "Two or more races",
    "unknown": "Unknown",
    "declined": "Declined to state",
}


@dataclass(frozen=True)
class AuditScope:
    """Which interviews the audit covers: ended in [ended_from, ended_before), of a template."""

    ended_from: datetime | None = None
    ended_before: datetime | None = None
    template_slug: str | None = None


@dataclass(frozen=True)
class BiasAuditReport:
    """The audit result with what it covers and what it had to leave out."""

    audit: BiasAuditResult
    scope: AuditScope
    generated_at: datetime
    excluded_insufficient_evidence: int
    first_ended_at: datetime | None
    last_ended_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "scope": {
                "ended_from": _iso(self.scope.ended_from),
                "ended_before": _iso(self.scope.ended_before),
                "template": self.scope.template_slug,
            },
            "first_ended_at": _iso(self.first_ended_at),
            "last_ended_at": _iso(self.last_ended_at),
            "excluded_insufficient_evidence": self.excluded_insufficient_evidence,
            **self.audit.to_json(),
        }


class BiasAuditReports:
    """Builds the audit from stored demographics and scores."""

    def __init__(
        self,
        demographics: DemographicsRepository,
        templates: TemplateRepository,
        *,
        settings: AuditSettings | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ):
        self._demographics = demographics
        self._templates = templates
        self._settings = settings
        self._clock = clock

    async def build(self, scope: AuditScope) -> BiasAuditReport:
        """Audit the interviews in `scope`."""
        rows = await self._demographics.audit_rows(
            ended_from=scope.ended_from,
            ended_before=scope.ended_before,
            template_slug=scope.template_slug,
        )
        templates: dict[uuid.UUID, InterviewTemplate] = {}
        records: list[AuditRecord] = []
        for row in rows:
            if row.template_id not in templates:
                templates[row.template_id] = await self._template(row.template_id)
            score = overall_score(templates[row.template_id], row.answers)
            if score is not None:
                records.append(AuditRecord(score, row.sex, row.race_ethnicity))
        ended = [row.ended_at for row in rows]
        return BiasAuditReport(
            audit=run_bias_audit(records, self._settings),
            scope=scope,
            generated_at=self._clock(),
            excluded_insufficient_evidence=len(rows) - len(records),
            first_ended_at=min(ended, default=None),
            last_ended_at=max(ended, default=None),
        )

    async def _template(self, template_id: uuid.UUID) -> InterviewTemplate:
        stored = await self._templates.get(template_id)
        assert stored is not None, "interviews reference their template version"
        return InterviewTemplate.model_validate(stored.body)


def overall_score(template: InterviewTemplate, answers: Sequence[AuditAnswerRow]) -> float | None:
    """The review report's overall score: each question's latest score, combined mechanically."""
    latest = {answer.question_key: answer for answer in answers}
    combined = combine_answer_scores(
        template,
        [
            {
                "question_id": a.question_key,
                "competency": a.competency,
                "level": a.level,
                "score": a.score,
                "confidence": a.confidence,
                "insufficient_evidence": a.insufficient_evidence,
            }
            for a in latest.values()
        ],
    )
    overall = combined["overall"]
    return None if overall is None else float(overall["score"])


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;
line-height:1.45} table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
caption{text-align:left;font-weight:600;padding:.3rem 0} td,th{border:1px solid #888;
padding:.3rem .5rem;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.adverse{background:#fde2e1} tr.small{background:#fff4cc} tr.unknown{color:#444}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem} dt{font-weight:600}
dd{margin:0} @media print{tr.adverse,tr.small{background:none}}
"""


def render_bias_audit_html(report: BiasAuditReport) -> str:
    """A standalone, printable, script-free page; every value is escaped."""
    audit = report.audit
    threshold = f"{audit.adverse_impact_ratio:.2f}"
    small = f"{100 * audit.small_sample_share:g} %"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Bias audit</title><style>{_STYLE}</style></head><body><main>",
        "<h1>Bias audit of interview scores</h1>",
        "<dl>",
        _term("Generated", _date(report.generated_at)),
        _term(
            "Interviews completed",
            f"{_date(report.first_ended_at)} to {_date(report.last_ended_at)}"
            if report.first_ended_at is not None
            else "none in scope",
        ),
        _term("Scope", _scope(report.scope)),
        _term("Candidates audited", str(audit.total)),
        _term("Excluded for insufficient evidence", str(report.excluded_insufficient_evidence)),
        _term("Median overall score", "—" if audit.median is None else f"{audit.median:.3f}"),
        "</dl>",
        "<h2>Method</h2>",
        "<p>Each candidate counts once, with the overall score of their latest completed "
        "interview (the score shown in the review report). The <strong>scoring rate</strong> "
        "of a category is the share of its candidates whose score is above the median of all "
        "audited candidates; a score equal to the median is not above it. The <strong>impact "
        "ratio</strong> is a category's scoring rate divided by the highest scoring rate among "
        "the categories of the same table.</p>",
        f"<p>Under the <strong>four-fifths rule</strong>, an impact ratio below {threshold} "
        "is flagged as possible adverse impact: a flag calls for review, it is not proof of "
        f"bias. Categories with less than {small} of the data are reported and flagged as a "
        "small sample, but are not used to set the highest rate. Unknown and declined "
        "categories are counted separately and get no impact ratio.</p>",
    ]
    if audit.total == 0:
        parts.append("<p>No completed interviews with an overall score are in scope.</p>")
    for dimension in audit.dimensions:
        parts.append(_table(dimension, threshold))
    parts.append("</main></body></html>")
    return "".join(parts)


def category_label(category: str) -> str:
    """A readable name of a category or an intersection of categories."""
    pieces = category.split(INTERSECTION_SEPARATOR)
    return " × ".join(CATEGORY_LABELS.get(piece, piece) for piece in pieces)


def _table(dimension: DimensionResult, threshold: str) -> str:
    title = DIMENSION_TITLES.get(dimension.dimension, dimension.dimension)
    rows = [
        f"<table><caption>{escape(title)}</caption><thead><tr><th scope='col'>Category</th>"
        "<th scope='col'>Candidates</th><th scope='col'>Share of data</th>"
        "<th scope='col'>Scoring rate</th><th scope='col'>Impact ratio</th>"
        "<th scope='col'>Flags</th></tr></thead><tbody>"
    ]
    if not dimension.categories:
        rows.append("<tr><td colspan='6'>No data.</td></tr>")
    for c in dimension.categories:
        ratio = "—" if c.impact_ratio is None else f"{c.impact_ratio:.3f}"
        rows.append(
            f"<tr class='{_row_class(c)}'><th scope='row'>{escape(category_label(c.category))}"
            f"</th><td class='num'>{c.count}</td><td class='num'>{_percent(c.share)}</td>"
            f"<td class='num'>{_percent(c.scoring_rate)}</td><td class='num'>{ratio}</td>"
            f"<td>{_flags(c, threshold)}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def _row_class(category: CategoryResult) -> str:
    if category.adverse_impact_flag:
        return "adverse"
    if category.small_sample:
        return "small"
    return "unknown" if category.unknown else "ok"


def _flags(category: CategoryResult, threshold: str) -> str:
    # Words as well as colours, so that the flags survive printing and screen readers.
    words = []
    if category.adverse_impact_flag:
        words.append(f"<strong>Adverse impact</strong> (ratio below {threshold})")
    if category.small_sample:
        words.append("Small sample")
    if category.unknown:
        words.append("Unknown category, not compared")
    return "; ".join(words)


def _term(name: str, value: str) -> str:
    return f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>"


def _scope(scope: AuditScope) -> str:
    parts = [f"template {scope.template_slug}" if scope.template_slug else "all templates"]
    if scope.ended_from is not None:
        parts.append(f"ended from {_date(scope.ended_from)}")
    if scope.ended_before is not None:
        parts.append(f"ended before {_date(scope.ended_before)}")
    return ", ".join(parts)


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def _date(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
