"""Outbound webhooks per the Standard Webhooks spec: signing, the outbox, the dispatcher.

The outbox turns committed interview events into queued deliveries (Postgres); the dispatcher
claims due ones and POSTs them, signed, retrying with exponential backoff and jitter. A
receiver that is down gets everything later, once per delivery id, in order per interview.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import asyncpg

from codesage.storage.interviews import InterviewRecord, InterviewRepository
from codesage.storage.journal import InterviewEvent
from codesage.storage.webhooks import ClaimedDelivery, WebhookRepository

log = logging.getLogger(__name__)

WEBHOOK_EVENT_TYPES = (
    "interview.scheduled",
    "interview.started",
    "interview.completed",
    "interview.cancelled",
    "report.ready",
)
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes
MAX_URL_LENGTH = 2048
MAX_ERROR_CHARS = 500
MIN_WAIT_S = 0.01
# Ends that produce a report; other ends (cancelled, consent declined) do not.
_REPORTED_ENDS = frozenset({"completed", "ended_by_interviewer"})
_STORAGE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

DeliveryOutcome = Literal["delivered", "retrying", "failed", "lease_lost"]
OutcomeListener = Callable[[ClaimedDelivery, DeliveryOutcome], None]


class WebhookUrlError(ValueError):
    """A subscription URL we refuse to send to."""


def validate_webhook_url(url: str) -> str:
    """The URL if it is absolute http(s) with a host; `WebhookUrlError` otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise WebhookUrlError("webhook URLs must use http or https")
    if not parts.hostname:
        raise WebhookUrlError("the webhook URL has no host")
    return url


class WebhookSigner:
    """Signs messages with a `whsec_<base64>` secret as the Standard Webhooks spec defines."""

    def __init__(self, secret: str):
        raw = secret.removeprefix(SECRET_PREFIX)
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        if not key:
            raise ValueError("a webhook secret may not be empty")
        self._key = key

    @staticmethod
    def generate_secret() -> str:
        """A fresh random secret in the spec's `whsec_` form."""
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()

    def sign(self, message_id: str, timestamp: int, body: bytes) -> str:
        """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()

    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The three spec headers for one attempt."""
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.sign(message_id, timestamp, body),
        }


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookOutbox:
    """Queues webhook deliveries for the interview events that map to one.

    `enqueue_committed` is a journal commit hook: deliveries are written in the events' own
    transaction, so a node dying right after a commit cannot lose them. As an `EventSink` it
    only wakes the dispatcher once that transaction is committed. Only identifiers and states
    leave: the candidate is a UUID, never personal data.
    """

    def __init__(
        self,
        webhooks: WebhookRepository,
        interviews: InterviewRepository,
        on_enqueued: Callable[[], None],
    ):
        self._webhooks = webhooks
        self._interviews = interviews
        self._on_enqueued = on_enqueued

    async def enqueue_committed(
        self, connection: asyncpg.Connection, interview_id: uuid.UUID, events: list[InterviewEvent]
    ) -> None:
        """Queue, inside the journal's transaction, the webhooks that `events` imply."""
        mapped = [(event, *webhook) for event in events for webhook in webhook_events_for(event)]
        if not mapped:
            return
        record = await self._interviews.get(interview_id, connection=connection)
        if record is None:
            return
        for event, event_type, extra in mapped:
            await self._enqueue(event_type, record, event.at, extra, connection=connection)

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        """Wake the dispatcher for the deliveries the event's commit queued."""
        if webhook_events_for(event):
            self._on_enqueued()

    async def interview_scheduled(self, record: InterviewRecord) -> None:
        """Queue `interview.scheduled` (call after creating one); failures are logged only.

        The interview exists already: failing the request would invite a duplicate retry.
        """
        try:
            await self._enqueue(
                "interview.scheduled", record, record.created_at, {"state": record.state}
            )
        except _STORAGE_ERRORS as exc:
            log.error(
                "webhook enqueue failed; the event is not sent",
                extra={"interview_id": str(record.id), "error": type(exc).__name__},
            )

    async def _enqueue(
        self,
        event_type: str,
        record: InterviewRecord,
        at: datetime,
        extra: dict[str, Any],
        *,
        connection: asyncpg.Connection | None = None,
    ) -> None:
        payload = {
            "type": event_type,
            "timestamp": at.isoformat(),
            "data": {
                "interview_id": str(record.id),
                "candidate_id": str(record.candidate_id),
                "template": {"id": str(record.template_id), "title": record.template_title},
                "mode": record.mode,
                **extra,
            },
        }
        queued = await self._webhooks.enqueue(
            event_type, payload, interview_id=record.id, connection=connection
        )
        # Inside a transaction the rows are not visible yet: `publish` wakes after the commit.
        if queued and connection is None:
            self._on_enqueued()


def webhook_events_for(event: InterviewEvent) -> list[tuple[str, dict[str, Any]]]:
    """The webhook event types (with their extra data) an interview event maps to, in order."""
    payload = event.payload
    if event.type == "state_changed":
        # Questioning is first entered from consent; later entries are follow-ups and resumes.
        if payload.get("state") == "questioning" and payload.get("previous") == "consent":
            return [("interview.started", {"state": "questioning"})]
        return []
    if event.type != "ended":
        return []
    reason = str(payload.get("reason"))
    if reason in _REPORTED_ENDS:
        ended = {"state": "done", "reason": reason}
        report = {**ended, "report_path": f"/api/v1/interviews/{event.interview_id}/report"}
        return [("interview.completed", ended), ("report.ready", report)]
    # A declined consent ends the interview without a report, as a cancellation does.
    state = "cancelled" if reason == "cancelled" else "done"
    return [("interview.cancelled", {"state": state, "reason": reason})]


@dataclass(frozen=True)
class DispatcherSettings:
    """How the dispatcher sends and retries."""

    request_timeout_s: float = 10.0
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 3600.0
    max_attempts: int = 24  # with the defaults, 7 to 14 hours of retrying
    batch_size: int = 20
    poll_interval_s: float = 5.0
    """Also how soon a delivery enqueued on another node is noticed."""
    lease_s: float = 60.0
    """How long a claim lasts; must outlive a request so no other node re-sends it meanwhile."""

    def __post_init__(self) -> None:
        if self.lease_s <= self.request_timeout_s:
            raise ValueError("lease_s must be longer than request_timeout_s")
        if self.max_attempts < 1 or self.batch_size < 1:
            raise ValueError("max_attempts and batch_size must be at least 1")


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Seconds before retry number `attempt` (1-based): capped exponential, half jittered."""
    ceiling = min(cap_s, base_s * 2.0 ** (attempt - 1))
    # "Equal jitter": spread retries of many deliveries apart yet keep the delay growing.
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class WebhookDispatcher:
    """A background task that sends due deliveries; safe to run on several nodes at once."""

    def __init__(
        self,
        webhooks: WebhookRepository,
        settings: DispatcherSettings | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        on_outcome: OutcomeListener | None = None,
    ):
        """`on_outcome` hears each recorded attempt (for metrics, and for tests to await)."""
        self._webhooks = webhooks
        self._on_outcome = on_outcome
        self._settings = settings or DispatcherSettings()
        self._session = session
        self._owns_session = session is None
        self._rng = rng or random.Random()
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New deliveries are due: look now instead of at the next timer tick."""
        self._wake.set()

    def start(self) -> None:
        """Start sending in the background."""
        if self._task is not None:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish the batch in flight (bounded by the request timeout), then stop."""
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            # On timeout wait_for cancels it; unfinished claims run out their lease.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, self._settings.request_timeout_s + 5)
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver_due(self) -> int:
        """Claim one batch of due deliveries and send it; how many were claimed."""
        claims = await self._webhooks.claim_due(self._settings.batch_size, self._settings.lease_s)
        if claims:
            await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before looking, so an enqueue during the batch triggers another look.
            self._wake.clear()
            try:
                if await self.deliver_due():
                    continue
                wait = await self._webhooks.seconds_until_next_due()
            except _STORAGE_ERRORS as exc:
                log.warning("webhook dispatch failed", extra={"error": type(exc).__name__})
                wait = None
            except Exception:
                # Keep dispatching: what was claimed runs out its lease and is sent again.
                log.exception("webhook dispatch failed")
                wait = None
            poll = self._settings.poll_interval_s
            # Due now but nothing claimed means another node holds it: look again shortly.
            timeout = poll if wait is None else min(poll, max(wait, MIN_WAIT_S))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _deliver(self, claim: ClaimedDelivery) -> None:
        delivery = claim.delivery
        status: int | None = None
        try:
            status = await self._post(claim)
            error = f"HTTP {status}"
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        try:
            if status is not None and 200 <= status < 300:
                kept = await self._webhooks.mark_delivered(claim, status)
                self._report(claim, "delivered" if kept else "lease_lost")
                return
            retry_in: float | None = None
            if delivery.attempts < self._settings.max_attempts:
                retry_in = backoff_delay(
                    delivery.attempts,
                    self._settings.backoff_base_s,
                    self._settings.backoff_cap_s,
                    self._rng,
                )
            else:
                log.warning(
                    "webhook delivery gave up",
                    extra={"delivery_id": str(delivery.id), "attempts": delivery.attempts},
                )
            kept = await self._webhooks.mark_attempt_failed(
                claim, status_code=status, error=error, retry_in_seconds=retry_in
            )
            outcome: DeliveryOutcome = "retrying" if retry_in is not None else "failed"
            self._report(claim, outcome if kept else "lease_lost")
        except _STORAGE_ERRORS as exc:
            # The lease runs out and the delivery is tried again.
            log.warning(
                "webhook outcome not recorded",
                extra={"delivery_id": str(delivery.id), "error": type(exc).__name__},
            )

    def _report(self, claim: ClaimedDelivery, outcome: DeliveryOutcome) -> None:
        if self._on_outcome is not None:
            self._on_outcome(claim, outcome)

    async def _post(self, claim: ClaimedDelivery) -> int:
        assert self._session is not None, "start() the dispatcher first"
        body = encode_payload(claim.delivery.payload)
        headers = WebhookSigner(claim.secret).headers(
            str(claim.delivery.id), int(self._clock()), body
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = "codesage-webhooks"
        async with self._session.post(
            claim.url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self._settings.request_timeout_s),
            # A redirect could point anywhere; the subscription's URL is the only target.
            allow_redirects=False,
        ) as response:
            return response.status
