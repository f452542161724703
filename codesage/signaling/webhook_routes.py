"""REST for outbound webhooks (subscriptions, delivery log, replay) and the inbound ATS hook."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from codesage.engine.ats import ApplicantTrackingSystem, AtsError
from codesage.engine.webhooks import WebhookSigner, WebhookUrlError, validate_webhook_url
from codesage.signaling.api_models import Strict
from codesage.signaling.auth import Role, TokenVerifier, request_principal, require_role
from codesage.signaling.errors import ApiError
from codesage.signaling.openapi import QueryParam, Route
from codesage.signaling.query_params import next_offset, page
from codesage.storage.webhooks import WebhookDelivery, WebhookRepository, WebhookSubscription

MANAGERS = (Role.RECRUITER, Role.ADMIN)
ROLES = "recruiter, admin"
LIMIT = QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50})
OFFSET = QueryParam("offset", {"type": "integer", "minimum": 0, "default": 0})
STATUS = QueryParam("status", {"type": "string", "enum": ["pending", "delivered", "failed"]})
MAX_INBOUND_BYTES = 256 * 1024

WebhookEventType = Literal[
    "interview.scheduled",
    "interview.started",
    "interview.completed",
    "interview.cancelled",
    "report.ready",
]


class CreateWebhook(Strict):
    """A new subscription."""

    url: str = Field(max_length=2048, description="http(s) URL that receives the POSTs")
    event_types: list[WebhookEventType] = Field(min_length=1)


class WebhookSubscriptionView(BaseModel):
    """A subscription (its secret is shown only when it is created)."""

    id: str
    url: str
    event_types: list[str]
    active: bool
    created_at: str


class CreatedWebhook(WebhookSubscriptionView):
    """The new subscription with its signing secret (`whsec_…`), shown this once."""

    secret: str


class WebhookPage(BaseModel):
    """A page of subscriptions."""

    items: list[WebhookSubscriptionView]
    next_offset: int | None


class WebhookDeliveryView(BaseModel):
    """One delivery: its `id` is the `webhook-id` header."""

    id: str
    subscription_id: str
    interview_id: str | None
    event_type: str
    payload: dict[str, Any]
    seq: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: str
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None


class DeliveryPage(BaseModel):
    """A page of the delivery log, newest first."""

    items: list[WebhookDeliveryView]
    next_offset: int | None


class ReplayRequest(Strict):
    """Send again one delivery, or every delivery created since a time."""

    since: datetime | None = None
    delivery_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReplayRequest:
        if (self.since is None) == (self.delivery_id is None):
            raise ValueError("give exactly one of since and delivery_id")
        if self.since is not None and self.since.tzinfo is None:
            raise ValueError("since needs a timezone")
        return self


class ReplayResult(BaseModel):
    """How many deliveries were queued again."""

    replayed: int


class AtsWebhookResult(BaseModel):
    """What an inbound ATS webhook did."""

    scheduled: bool
    interview_id: str | None


@dataclass(frozen=True)
class WebhookDependencies:
    """What the webhook handlers work with."""

    tokens: TokenVerifier
    webhooks: WebhookRepository
    wake_dispatcher: Callable[[], None]
    ats: ApplicantTrackingSystem | None = None


class WebhookApi:
    """Subscriptions and their delivery log for recruiters and admins; the ATS's inbound hook."""

    def __init__(self, deps: WebhookDependencies):
        self._d = deps

    def routes(self) -> list[Route]:
        """Every route with its documentation."""
        base = "/api/v1/webhooks"
        one = f"{base}/{{subscription_id}}"
        routes = [
            Route("POST", base, self.create_webhook, "Subscribe a URL to webhook events", ROLES,
                  CreatedWebhook, 201, body=CreateWebhook, errors=(401, 403)),
            Route("GET", base, self.list_webhooks, "List webhook subscriptions", ROLES, WebhookPage,
                  query=(LIMIT, OFFSET), errors=(401, 403)),
            Route("DELETE", one, self.deactivate_webhook, "Stop a subscription (its log stays)",
                  ROLES, WebhookSubscriptionView),
            Route("GET", f"{one}/deliveries", self.list_deliveries,
                  "The delivery log, newest first", ROLES, DeliveryPage,
                  query=(LIMIT, OFFSET, STATUS)),
            Route("POST", f"{one}/replay", self.replay_deliveries, "Send deliveries again", ROLES,
                  ReplayResult, body=ReplayRequest, errors=(401, 403, 404, 409)),
        ]  # fmt: skip
        if self._d.ats is not None:
            routes.append(
                Route("POST", "/api/v1/ats/webhook", self.receive_ats_webhook,
                      "Inbound webhook from the applicant tracking system",
                      "the ATS (signed request)", AtsWebhookResult, body=None,
                      errors=(401, 413, 502), public=True)
            )  # fmt: skip
        return routes

    def _manager(self, request: web.Request) -> None:
        principal = request_principal(request.headers, self._d.tokens)
        require_role(principal, *MANAGERS)

    async def _subscription(self, request: web.Request) -> WebhookSubscription:
        subscription_id = _uuid(request.match_info["subscription_id"])
        subscription = await self._d.webhooks.get_subscription(subscription_id)
        if subscription is None:
            raise ApiError(404, "not_found", "No such webhook subscription.")
        return subscription

    async def create_webhook(self, request: web.Request) -> web.Response:
        """POST /webhooks"""
        self._manager(request)
        body = CreateWebhook.model_validate(await _json_body(request))
        try:
            url = validate_webhook_url(body.url)
        except WebhookUrlError as exc:
            raise ApiError(422, "invalid_url", str(exc)) from exc
        secret = WebhookSigner.generate_secret()
        event_types: list[str] = list(dict.fromkeys(body.event_types))
        subscription = await self._d.webhooks.create_subscription(url, secret, event_types)
        created = CreatedWebhook(**_subscription_view(subscription).model_dump(), secret=secret)
        return _json(created, 201)

    async def list_webhooks(self, request: web.Request) -> web.Response:
        """GET /webhooks"""
        self._manager(request)
        limit, offset = page(request)
        found = await self._d.webhooks.list_subscriptions(limit=limit, offset=offset)
        items = [_subscription_view(s) for s in found]
        return _json(WebhookPage(items=items, next_offset=next_offset(offset, limit, len(items))))

    async def deactivate_webhook(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{id}"""
        self._manager(request)
        subscription = await self._subscription(request)
        stopped = await self._d.webhooks.deactivate_subscription(subscription.id)
        if stopped is None:
            raise ApiError(404, "not_found", "No such webhook subscription.")
        return _json(_subscription_view(stopped))

    async def list_deliveries(self, request: web.Request) -> web.Response:
        """GET /webhooks/{id}/deliveries"""
        self._manager(request)
        subscription = await self._subscription(request)
        limit, offset = page(request)
        status = request.query.get("status")
        if status is not None and status not in ("pending", "delivered", "failed"):
            raise ApiError(400, "invalid_query", "status must be pending, delivered or failed.")
        found = await self._d.webhooks.list_deliveries(
            subscription.id, status=status, limit=limit, offset=offset
        )
        items = [_delivery_view(d) for d in found]
        return _json(DeliveryPage(items=items, next_offset=next_offset(offset, limit, len(items))))

    async def replay_deliveries(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/replay"""
        self._manager(request)
        subscription = await self._subscription(request)
        body = ReplayRequest.model_validate(await _json_body(request))
        if not subscription.active:
            raise ApiError(409, "subscription_inactive", "This subscription has been stopped.")
        if body.delivery_id is not None:
            delivery = await self._d.webhooks.get_delivery(body.delivery_id)
            if delivery is None or delivery.subscription_id != subscription.id:
                raise ApiError(404, "not_found", "No such delivery for this subscription.")
        count = await self._d.webhooks.replay(
            subscription.id, delivery_id=body.delivery_id, since=body.since
        )
        if count:
            self._d.wake_dispatcher()
        return _json(ReplayResult(replayed=count))

    async def receive_ats_webhook(self, request: web.Request) -> web.Response:
        """POST /ats/webhook: authenticated by the ATS's signature, not by a token."""
        ats = self._d.ats
        assert ats is not None
        raw = await request.read()  # bounded by the app's client_max_size
        if len(raw) > MAX_INBOUND_BYTES:
            raise ApiError(413, "request_too_large", "The webhook body is too large.")
        if not ats.verify_webhook(raw, dict(request.headers)):
            raise ApiError(401, "invalid_signature", "The webhook signature does not match.")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "malformed_json", "The request body must be a JSON object.")
        try:
            result = await ats.receive_webhook(body)
        except AtsError as exc:
            # The ATS retries on an error reply, and a retry resends the join link.
            raise ApiError(502, "ats_unavailable", str(exc)) from exc
        interview_id = None if result is None else str(result.interview_id)
        return _json(AtsWebhookResult(scheduled=result is not None, interview_id=interview_id))


def _subscription_view(subscription: WebhookSubscription) -> WebhookSubscriptionView:
    return WebhookSubscriptionView(
        id=str(subscription.id),
        url=subscription.url,
        event_types=list(subscription.event_types),
        active=subscription.active,
        created_at=subscription.created_at.isoformat(),
    )


def _delivery_view(delivery: WebhookDelivery) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        id=str(delivery.id),
        subscription_id=str(delivery.subscription_id),
        interview_id=None if delivery.interview_id is None else str(delivery.interview_id),
        event_type=delivery.event_type,
        payload=delivery.payload,
        seq=delivery.seq,
        status=delivery.status,  # type: ignore[arg-type]  # the table's CHECK limits it
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at.isoformat(),
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at.isoformat(),
        delivered_at=None if delivery.delivered_at is None else delivery.delivered_at.isoformat(),
    )


def _json(body: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(body.model_dump(mode="json"), status=status)


async def _json_body(request: web.Request) -> Any:
    if not request.body_exists:
        raise ApiError(400, "missing_body", "This request needs a JSON body.")
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        return await request.json()
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from exc


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", "No such webhook subscription.") from None
