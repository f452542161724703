"""Webhook subscriptions and the durable delivery queue (also the delivery log) in Postgres.

Several nodes share the queue: a dispatcher claims due deliveries with `FOR UPDATE SKIP
LOCKED` and a lease, so no two claim the same one, and a delivery is never claimed while an
earlier one of the same interview and subscription is still pending, so receivers see each
interview's events in order. ATS application links live here too (`AtsLinkRepository`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class WebhookSubscription:
    """Where to send which event types, signed with `secret`."""

    id: uuid.UUID
    url: str
    secret: str
    event_types: tuple[str, ...]
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class WebhookDelivery:
    """One message to one subscription: a row of the queue and of the delivery log."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    interview_id: uuid.UUID | None
    event_type: str
    payload: dict[str, Any]
    seq: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a dispatcher holds under `lease_id`, with where and how to send it."""

    delivery: WebhookDelivery
    url: str
    secret: str
    lease_id: uuid.UUID


# Due, pending, of an active subscription, and no earlier delivery of the same interview to the
# same subscription still pending (deliveries without an interview are not ordered).
_CLAIMABLE = """
    d.status = 'pending' AND s.active
    AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries earlier
        WHERE earlier.subscription_id = d.subscription_id
          AND earlier.interview_id = d.interview_id
          AND earlier.status = 'pending'
          AND earlier.seq < d.seq)
"""


class WebhookRepository:
    """Subscriptions, enqueueing, claiming, outcomes, the delivery log and replay."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    # --- subscriptions ---------------------------------------------------------------------

    async def create_subscription(
        self, url: str, secret: str, event_types: list[str]
    ) -> WebhookSubscription:
        """A new active subscription."""
        row = await self._pool.fetchrow(
            "INSERT INTO webhook_subscriptions (id, url, secret, event_types) "
            "VALUES ($1, $2, $3, $4) RETURNING *",
            uuid.uuid4(),
            url,
            secret,
            event_types,
        )
        return _subscription(row)

    async def list_subscriptions(
        self, *, limit: int = 50, offset: int = 0, active_only: bool = False
    ) -> list[WebhookSubscription]:
        """Subscriptions, oldest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM webhook_subscriptions WHERE (active OR NOT $3) "
            "ORDER BY created_at, id LIMIT $1 OFFSET $2",
            limit,
            offset,
            active_only,
        )
        return [_subscription(row) for row in rows]

    async def get_subscription(self, subscription_id: uuid.UUID) -> WebhookSubscription | None:
        """The subscription, if it exists."""
        row = await self._pool.fetchrow(
            "SELECT * FROM webhook_subscriptions WHERE id = $1", subscription_id
        )
        return None if row is None else _subscription(row)

    async def deactivate_subscription(
        self, subscription_id: uuid.UUID
    ) -> WebhookSubscription | None:
        """Stop sending to it (its delivery log stays); None when unknown."""
        row = await self._pool.fetchrow(
            "UPDATE webhook_subscriptions SET active = false WHERE id = $1 RETURNING *",
            subscription_id,
        )
        return None if row is None else _subscription(row)

    # --- the queue -------------------------------------------------------------------------

    async def enqueue(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        interview_id: uuid.UUID | None,
        connection: asyncpg.Connection | None = None,
    ) -> int:
        """Queue one delivery per active subscription to `event_type`; the number queued.

        An interview's event type is queued at most once per subscription, so enqueueing the
        same interview event again (a retried sink call) adds nothing. With `connection`, the
        rows are written in its transaction.
        """
        writer = self._pool if connection is None else connection
        rows = await writer.fetch(
            "INSERT INTO webhook_deliveries (id, subscription_id, interview_id, event_type, "
            "payload) "
            "SELECT gen_random_uuid(), s.id, $1, $2, $3 FROM webhook_subscriptions s "
            "WHERE s.active AND $2 = ANY(s.event_types) ORDER BY s.created_at, s.id "
            "ON CONFLICT DO NOTHING RETURNING id",
            interview_id,
            event_type,
            payload,
        )
        return len(rows)

    async def claim_due(self, limit: int, lease_seconds: float) -> list[ClaimedDelivery]:
        """Take up to `limit` due deliveries for `lease_seconds`, in global order.

        Each claim counts as an attempt. A claim whose dispatcher dies simply runs out: the
        delivery is due again when the lease ends. At most one delivery per interview and
        subscription is in a batch, so a batch can be sent concurrently without reordering.
        """
        lease_id = uuid.uuid4()
        rows = await self._pool.fetch(
            f"""
            WITH due AS (
                SELECT d.id FROM webhook_deliveries d
                JOIN webhook_subscriptions s ON s.id = d.subscription_id
                WHERE d.next_attempt_at <= now() AND {_CLAIMABLE}
                ORDER BY d.seq
                LIMIT $1
                FOR UPDATE OF d SKIP LOCKED
            )
            UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1,
                next_attempt_at = now() + make_interval(secs => $2),
                lease_id = $3
            FROM due, webhook_subscriptions s
            WHERE d.id = due.id AND s.id = d.subscription_id
            RETURNING d.*, s.url AS subscription_url, s.secret AS subscription_secret
            """,
            limit,
            lease_seconds,
            lease_id,
        )
        claims = [
            ClaimedDelivery(
                _delivery(row), row["subscription_url"], row["subscription_secret"], lease_id
            )
            for row in rows
        ]
        claims.sort(key=lambda claim: claim.delivery.seq)
        return claims

    async def seconds_until_next_due(self) -> float | None:
        """How long until a claimable delivery is due (0 when one is now); None when none is."""
        value = await self._pool.fetchval(
            "SELECT extract(epoch FROM min(d.next_attempt_at) - now()) "
            "FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id "
            f"WHERE {_CLAIMABLE}"
        )
        return None if value is None else max(0.0, float(value))

    async def mark_delivered(self, claim: ClaimedDelivery, status_code: int) -> bool:
        """Record success; False when the lease was lost (replayed or re-claimed meanwhile)."""
        result = await self._pool.execute(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), "
            "last_status_code = $3, last_error = NULL, lease_id = NULL "
            "WHERE id = $1 AND lease_id = $2",
            claim.delivery.id,
            claim.lease_id,
            status_code,
        )
        return _updated(result)

    async def mark_attempt_failed(
        self,
        claim: ClaimedDelivery,
        *,
        status_code: int | None,
        error: str,
        retry_in_seconds: float | None,
    ) -> bool:
        """Record a failed attempt: retry after the delay, or give up (`failed`) when None."""
        result = await self._pool.execute(
            "UPDATE webhook_deliveries SET "
            "status = CASE WHEN $5::float8 IS NULL THEN 'failed' ELSE 'pending' END, "
            "next_attempt_at = now() + make_interval(secs => coalesce($5::float8, 0)), "
            "last_status_code = $3, last_error = $4, lease_id = NULL "
            "WHERE id = $1 AND lease_id = $2",
            claim.delivery.id,
            claim.lease_id,
            status_code,
            error,
            retry_in_seconds,
        )
        return _updated(result)

    # --- the delivery log and replay -------------------------------------------------------

    async def list_deliveries(
        self,
        subscription_id: uuid.UUID,
        *,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[WebhookDelivery]:
        """The subscription's deliveries, newest first, optionally only in `status`."""
        rows = await self._pool.fetch(
            "SELECT * FROM webhook_deliveries WHERE subscription_id = $1 "
            "AND ($2::text IS NULL OR status = $2) ORDER BY seq DESC LIMIT $3 OFFSET $4",
            subscription_id,
            status,
            limit,
            offset,
        )
        return [_delivery(row) for row in rows]

    async def get_delivery(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        """The delivery, if it exists."""
        row = await self._pool.fetchrow(
            "SELECT * FROM webhook_deliveries WHERE id = $1", delivery_id
        )
        return None if row is None else _delivery(row)

    async def replay(
        self,
        subscription_id: uuid.UUID,
        *,
        delivery_id: uuid.UUID | None = None,
        since: datetime | None = None,
    ) -> int:
        """Send again (same webhook-id, fresh attempt budget) one delivery or all since a time.

        Returns how many were reset. Pending ones become due now; one in flight loses its lease,
        so its outcome is ignored and it is sent again.
        """
        if (delivery_id is None) == (since is None):
            raise ValueError("replay needs exactly one of delivery_id and since")
        result = await self._pool.execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, "
            "next_attempt_at = now(), delivered_at = NULL, lease_id = NULL "
            "WHERE subscription_id = $1 AND ($2::uuid IS NULL OR id = $2) "
            "AND ($3::timestamptz IS NULL OR created_at >= $3)",
            subscription_id,
            delivery_id,
            since,
        )
        return int(result.split()[-1])


@dataclass(frozen=True)
class AtsLink:
    """An ATS application and the interview scheduled for it."""

    interview_id: uuid.UUID
    ats: str
    application_id: str
    created_at: datetime
    interview_state: str
    scorecard_status: str
    scorecard_attempts: int


class ScorecardClaim:
    """A finished interview's link, row-locked until the caller records the outcome."""

    def __init__(self, connection: asyncpg.Connection, link: AtsLink):
        self._connection = connection
        self.link = link

    async def posted(self) -> None:
        """The scorecard reached the ATS."""
        await self._connection.execute(
            "UPDATE ats_links SET scorecard_status = 'posted', scorecard_posted_at = now(), "
            "scorecard_attempts = scorecard_attempts + 1, scorecard_error = NULL "
            "WHERE interview_id = $1",
            self.link.interview_id,
        )

    async def skipped(self, reason: str) -> None:
        """Nothing to post (no scored answers); never try again."""
        await self._connection.execute(
            "UPDATE ats_links SET scorecard_status = 'skipped', scorecard_error = $2 "
            "WHERE interview_id = $1",
            self.link.interview_id,
            reason,
        )

    async def failed(self, error: str, retry_in_seconds: float) -> None:
        """Try again after the delay."""
        await self._connection.execute(
            "UPDATE ats_links SET scorecard_attempts = scorecard_attempts + 1, "
            "scorecard_error = $2, scorecard_retry_at = now() + make_interval(secs => $3) "
            "WHERE interview_id = $1",
            self.link.interview_id,
            error,
            retry_in_seconds,
        )


_LINK_SELECT = """
    SELECT l.*, i.state AS interview_state
    FROM ats_links l JOIN interviews i ON i.id = l.interview_id
"""


class AtsLinkRepository:
    """Which interview was scheduled for which ATS application, and its scorecard's fate."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def link(self, ats: str, application_id: str, interview_id: uuid.UUID) -> AtsLink:
        """Record the link; if the application is already linked, the existing link."""
        await self._pool.execute(
            "INSERT INTO ats_links (interview_id, ats, application_id) VALUES ($1, $2, $3) "
            "ON CONFLICT (ats, application_id) DO NOTHING",
            interview_id,
            ats,
            application_id,
        )
        stored = await self.by_application(ats, application_id)
        assert stored is not None, "links are never deleted while their interview exists"
        return stored

    async def by_application(self, ats: str, application_id: str) -> AtsLink | None:
        """The link of an application, if it has one."""
        row = await self._pool.fetchrow(
            _LINK_SELECT + " WHERE l.ats = $1 AND l.application_id = $2", ats, application_id
        )
        return None if row is None else _link(row)

    async def by_interview(self, interview_id: uuid.UUID) -> AtsLink | None:
        """The link of an interview, if it came from an ATS."""
        row = await self._pool.fetchrow(_LINK_SELECT + " WHERE l.interview_id = $1", interview_id)
        return None if row is None else _link(row)

    @asynccontextmanager
    async def next_scorecard_due(self, ats: str) -> AsyncIterator[ScorecardClaim | None]:
        """The oldest finished interview whose scorecard is owed, locked while in the block.

        The row lock (skipped by other nodes) is what keeps two nodes from posting one
        scorecard twice; it is held for one HTTP call, bounded by the connector's timeout.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                _LINK_SELECT + " WHERE l.ats = $1 AND l.scorecard_status = 'pending' "
                "AND i.state = 'done' "
                "AND (l.scorecard_retry_at IS NULL OR l.scorecard_retry_at <= now()) "
                "ORDER BY l.created_at LIMIT 1 FOR UPDATE OF l SKIP LOCKED",
                ats,
            )
            yield None if row is None else ScorecardClaim(connection, _link(row))


def _updated(status: str) -> bool:
    return status.split()[-1] != "0"


def _subscription(row: asyncpg.Record) -> WebhookSubscription:
    return WebhookSubscription(
        id=row["id"],
        url=row["url"],
        secret=row["secret"],
        event_types=tuple(row["event_types"]),
        active=row["active"],
        created_at=row["created_at"],
    )


def _delivery(row: asyncpg.Record) -> WebhookDelivery:
    return WebhookDelivery(
        id=row["id"],
        subscription_id=row["subscription_id"],
        interview_id=row["interview_id"],
        event_type=row["event_type"],
        payload=row["payload"],
        seq=row["seq"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


def _link(row: asyncpg.Record) -> AtsLink:
    return AtsLink(
        interview_id=row["interview_id"],
        ats=row["ats"],
        application_id=row["application_id"],
        created_at=row["created_at"],
        interview_state=row["interview_state"],
        scorecard_status=row["scorecard_status"],
        scorecard_attempts=row["scorecard_attempts"],
    )
