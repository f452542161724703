"""Applicant tracking systems: an application schedules an interview, a finished one posts back.

`ApplicantTrackingSystem` is what any ATS connector offers; `GreenhouseConnector` speaks a
Greenhouse Harvest-style API. Connectors get "schedule an interview", "issue a join link" and
"get the scores" as callables, so they need nothing from the web layer. `ScorecardSync`
posts owed scorecards in the background, durably: what it owes is read from `ats_links`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp

from codesage.storage.interviews import InterviewRecord
from codesage.storage.journal import InterviewEvent
from codesage.storage.webhooks import AtsLink, AtsLinkRepository

log = logging.getLogger(__name__)

ScheduleInterview = Callable[[str], Awaitable[InterviewRecord]]
"""Schedule a real interview on the latest version of the template with this slug."""
IssueJoinLink = Callable[[uuid.UUID], Awaitable[str]]
"""An absolute URL the candidate of this interview opens to join."""
GetScores = Callable[[uuid.UUID], Awaitable[dict[str, Any]]]
"""The interview's scores in the API's `Scores` shape."""

ScorecardOutcome = Literal["posted", "skipped"]
RATINGS = ("definitely_not", "no", "mixed", "yes", "strong_yes")
NO_DECISION = "no_decision"
_REPORTED_ENDS = frozenset({"completed", "ended_by_interviewer"})
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class AtsError(Exception):
    """The ATS refused or could not be reached; the message says which call and why."""


@dataclass(frozen=True)
class ScheduledApplication:
    """The interview an application got; `join_url` when a link was sent back this time."""

    application_id: str
    interview_id: uuid.UUID
    created: bool
    join_url: str | None


class ApplicantTrackingSystem(Protocol):
    """What CODESAGE needs from an ATS connector."""

    @property
    def name(self) -> str:
        """Stable id stored in `ats_links.ats`."""
        ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether an inbound webhook really comes from the ATS."""
        ...

    async def receive_webhook(self, body: Mapping[str, Any]) -> ScheduledApplication | None:
        """Act on an inbound webhook; None when it asks for nothing."""
        ...

    async def schedule_application(self, application_id: str) -> ScheduledApplication:
        """Fetch an application from the ATS and schedule its interview."""
        ...

    async def post_scorecard(self, link: AtsLink) -> ScorecardOutcome:
        """Post the finished interview's scorecard; `AtsError` when the ATS fails."""
        ...


def rating_for_level(level: float | None) -> str:
    """A 1–5 rubric level as Greenhouse's rating word (nearest level); no level: no_decision."""
    if level is None:
        return NO_DECISION
    index = min(len(RATINGS) - 1, max(0, int(level + 0.5) - 1))
    return RATINGS[index]


@dataclass(frozen=True)
class GreenhouseSettings:
    """Where the Harvest-style API is and how the connector maps applications."""

    base_url: str
    api_key: str
    on_behalf_of: str
    """The ATS user id that writes are made as (Harvest's `On-Behalf-Of`)."""
    webhook_secret: str
    trigger_stage: str = "AI Interview"
    default_template: str = "backend-python"
    templates_by_job: Mapping[str, str] = field(default_factory=dict)
    request_timeout_s: float = 10.0


class GreenhouseConnector:
    """Greenhouse-style: stage change → interview + join link note; done → scorecard."""

    name = "greenhouse"

    def __init__(
        self,
        settings: GreenhouseSettings,
        http: aiohttp.ClientSession,
        links: AtsLinkRepository,
        *,
        schedule: ScheduleInterview,
        issue_join_link: IssueJoinLink,
        get_scores: GetScores,
    ):
        self._settings = settings
        self._http = http
        self._links = links
        self._schedule = schedule
        self._issue_join_link = issue_join_link
        self._get_scores = get_scores

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Greenhouse signs with `Signature: sha256 <hex HMAC-SHA256 of the body>`."""
        lowered = {key.lower(): value for key, value in headers.items()}
        scheme, _, given = lowered.get("signature", "").partition(" ")
        if scheme != "sha256" or not given:
            return False
        key = self._settings.webhook_secret.encode()
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given.strip())

    async def receive_webhook(self, body: Mapping[str, Any]) -> ScheduledApplication | None:
        """Schedule on "candidate_stage_change" into the trigger stage; ignore the rest."""
        if body.get("action") != "candidate_stage_change":
            return None
        application = _mapping(_mapping(body.get("payload")).get("application"))
        stage = str(_mapping(application.get("current_stage")).get("name", ""))
        if stage.strip().lower() != self._settings.trigger_stage.strip().lower():
            return None
        return await self._schedule_for(application)

    async def schedule_application(self, application_id: str) -> ScheduledApplication:
        """GET the application, then schedule its interview whatever its stage."""
        application_id = _external_id(application_id, "application")
        application = await self._request("GET", f"/applications/{application_id}")
        if not isinstance(application, dict):
            raise AtsError(f"application {application_id}: unexpected reply")
        return await self._schedule_for(application)

    async def post_scorecard(self, link: AtsLink) -> ScorecardOutcome:
        """POST the competency ratings to the application's scorecards."""
        scores = await self._get_scores(link.interview_id)
        if scores.get("overall") is None:
            return "skipped"  # nothing was scored: no evidence to rate
        await self._request(
            "POST", f"/applications/{link.application_id}/scorecards", scorecard_body(link, scores)
        )
        return "posted"

    async def _schedule_for(self, application: Mapping[str, Any]) -> ScheduledApplication:
        application_id = _external_id(application.get("id"), "application")
        candidate_id = _candidate_id(application)
        existing = await self._links.by_application(self.name, application_id)
        if existing is not None:
            # A retried webhook: send the link again only if it may not have arrived.
            return await self._resend_link(existing, candidate_id)
        record = await self._schedule(self._template_for(application))
        link = await self._links.link(self.name, application_id, record.id)
        if link.interview_id != record.id:
            # Another request scheduled it first; ours stays unused in `scheduled`.
            return ScheduledApplication(application_id, link.interview_id, False, None)
        join_url = await self._issue_join_link(record.id)
        await self._post_join_note(candidate_id, join_url)
        return ScheduledApplication(application_id, record.id, True, join_url)

    async def _resend_link(self, link: AtsLink, candidate_id: str) -> ScheduledApplication:
        if link.interview_state != "scheduled":
            return ScheduledApplication(link.application_id, link.interview_id, False, None)
        join_url = await self._issue_join_link(link.interview_id)
        await self._post_join_note(candidate_id, join_url)
        return ScheduledApplication(link.application_id, link.interview_id, False, join_url)

    def _template_for(self, application: Mapping[str, Any]) -> str:
        jobs = application.get("jobs")
        for job in jobs if isinstance(jobs, list) else []:
            slug = self._settings.templates_by_job.get(str(_mapping(job).get("id")))
            if slug:
                return slug
        return self._settings.default_template

    async def _post_join_note(self, candidate_id: str, join_url: str) -> None:
        await self._request(
            "POST",
            f"/candidates/{candidate_id}/activity_feed/notes",
            {
                "user_id": self._settings.on_behalf_of,
                "body": f"CODESAGE AI interview scheduled. Candidate join link: {join_url}",
                "visibility": "private",
            },
        )

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self._settings.base_url.rstrip("/") + path
        try:
            async with self._http.request(
                method,
                url,
                json=body,
                # Harvest: the API key is the basic-auth user name, the password is empty.
                auth=aiohttp.BasicAuth(self._settings.api_key, ""),
                headers={"On-Behalf-Of": self._settings.on_behalf_of},
                timeout=aiohttp.ClientTimeout(total=self._settings.request_timeout_s),
                allow_redirects=False,
            ) as response:
                if response.status >= 300:
                    raise AtsError(f"{method} {path}: HTTP {response.status}")
                if response.content_type == "application/json":
                    return await response.json()
                return None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AtsError(f"{method} {path}: {type(exc).__name__}") from exc


def scorecard_body(link: AtsLink, scores: Mapping[str, Any]) -> dict[str, Any]:
    """A Greenhouse-style scorecard: overall recommendation and one rating per competency."""
    overall = scores.get("overall") or {}
    attributes = []
    for competency in scores.get("competencies", []):
        level = None if competency.get("insufficient") else competency.get("level")
        note = "not enough evidence"
        if level is not None:
            note = f"level {level:.1f} of 5 from {competency.get('scored', 0)} scored answers"
        attributes.append(
            {"name": competency["name"], "type": "Skills", "rating": rating_for_level(level),
             "note": note}
        )  # fmt: skip
    return {
        "external_id": str(link.interview_id),
        "interview": "CODESAGE AI interview",
        "overall_recommendation": rating_for_level(overall.get("level")),
        "attributes": attributes,
        "notes": f"Scored by CODESAGE; report: /api/v1/interviews/{link.interview_id}/report",
    }


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else empty: inbound payloads are not trusted."""
    return value if isinstance(value, dict) else {}


def _candidate_id(application: Mapping[str, Any]) -> str:
    # Webhooks nest the candidate; Harvest's GET /applications/{id} gives `candidate_id`.
    candidate = application.get("candidate")
    value = candidate.get("id") if isinstance(candidate, dict) else application.get("candidate_id")
    return _external_id(value, "candidate")


def _external_id(value: Any, what: str) -> str:
    # Ids go into request paths: only plain tokens, never "../" or a query.
    text = "" if value is None else str(value).strip()
    if not _EXTERNAL_ID.fullmatch(text):
        raise AtsError(f"the {what} id is missing or malformed")
    return text


class ScorecardSync:
    """Posts the scorecards an ATS is owed, in the background; an `EventSink` to wake it.

    What is owed lives in `ats_links`, so nothing is lost when a node dies: any node's sync
    posts it later. A failed post is retried with capped exponential backoff.
    """

    def __init__(
        self,
        ats: ApplicantTrackingSystem,
        links: AtsLinkRepository,
        *,
        poll_interval_s: float = 30.0,
        retry_base_s: float = 30.0,
        retry_cap_s: float = 3600.0,
    ):
        self._ats = ats
        self._links = links
        self._poll_interval_s = poll_interval_s
        self._retry_base_s = retry_base_s
        self._retry_cap_s = retry_cap_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        """Wake up when an interview ends with a report."""
        if event.type == "ended" and event.payload.get("reason") in _REPORTED_ENDS:
            self._wake.set()

    def start(self) -> None:
        """Start posting in the background (also catches up on what was owed at start)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Let the post in flight finish, then stop."""
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, 30)

    async def sync_due(self) -> int:
        """Post every scorecard due now; how many were posted or skipped."""
        handled = 0
        while not self._stopping:
            async with self._links.next_scorecard_due(self._ats.name) as claim:
                if claim is None:
                    return handled
                try:
                    outcome = await self._ats.post_scorecard(claim.link)
                except AtsError as exc:
                    attempt = claim.link.scorecard_attempts + 1
                    delay = min(self._retry_cap_s, self._retry_base_s * 2 ** (attempt - 1))
                    log.warning(
                        "scorecard not posted",
                        extra={"interview_id": str(claim.link.interview_id), "error": str(exc)},
                    )
                    await claim.failed(str(exc), delay)
                    continue
                if outcome == "posted":
                    await claim.posted()
                else:
                    await claim.skipped("no scored answers")
                handled += 1
        return handled

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.sync_due()
            except Exception:
                # Keep syncing: the link stays owed and is tried again on the next tick.
                log.exception("scorecard sync failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
