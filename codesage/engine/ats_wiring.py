"""Builds the Greenhouse-style connector from settings, with the callables it needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from codesage.engine.ats import AtsError, GreenhouseConnector, GreenhouseSettings, ScorecardSync
from codesage.engine.reports import InterviewReports
from codesage.engine.webhooks import WebhookOutbox
from codesage.storage.interviews import InterviewRecord, InterviewRepository
from codesage.storage.templates import TemplateRepository
from codesage.storage.webhooks import AtsLinkRepository


class JoinTokenIssuer(Protocol):
    """Mints a candidate token for one interview."""

    def __call__(self, interview_id: uuid.UUID, candidate_id: uuid.UUID) -> str: ...


@dataclass
class AtsIntegration:
    """The running connector, its scorecard sync and the HTTP session they share."""

    connector: GreenhouseConnector
    scorecards: ScorecardSync
    http: aiohttp.ClientSession

    async def close(self) -> None:
        """Stop posting scorecards and close the HTTP session."""
        await self.scorecards.stop()
        await self.http.close()


def build_ats_integration(
    settings: GreenhouseSettings,
    *,
    public_url: str,
    links: AtsLinkRepository,
    templates: TemplateRepository,
    interviews: InterviewRepository,
    reports: InterviewReports,
    outbox: WebhookOutbox,
    issue_token: JoinTokenIssuer,
) -> AtsIntegration:
    """Wire the connector to scheduling, join links and scores; start the scorecard sync."""

    async def schedule(slug: str) -> InterviewRecord:
        template = await templates.latest(slug)
        if template is None:
            raise AtsError(f"no interview template {slug!r}")
        record = await interviews.create(template.id, "real")
        await outbox.interview_scheduled(record)
        return record

    async def issue_join_link(interview_id: uuid.UUID) -> str:
        record = await interviews.get(interview_id)
        if record is None:
            raise AtsError(f"no interview {interview_id}")
        token = issue_token(record.id, record.candidate_id)
        return f"{public_url.rstrip('/')}/candidate/?token={token}"

    async def get_scores(interview_id: uuid.UUID) -> dict[str, Any]:
        record = await interviews.get(interview_id)
        if record is None:
            raise AtsError(f"no interview {interview_id}")
        return await reports.scores(record)

    http = aiohttp.ClientSession()
    connector = GreenhouseConnector(
        settings,
        http,
        links,
        schedule=schedule,
        issue_join_link=issue_join_link,
        get_scores=get_scores,
    )
    scorecards = ScorecardSync(connector, links)
    scorecards.start()
    return AtsIntegration(connector, scorecards, http)
