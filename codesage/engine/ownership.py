"""Interview ownership: a Redis lease per interview, so that one node at a time runs its actor.

The lease is a key `SET NX PX ttl` whose value names the holding node and a token unique to
this acquisition; it is renewed and released only by compare-and-set scripts, so a stale holder
can never extend or delete a newer holder's lease. The journal's `(interview_id, seq)` key stays
the last line of defence when a lease cannot fence (Redis unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from codesage.engine.commands import InterviewError

log = logging.getLogger(__name__)

# Extend our own lease; re-take it when it vanished (expired, or Redis lost it); 0 when another
# node holds it.
_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_REPLACE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_ACQUIRE_ATTEMPTS = 3


@dataclass(frozen=True)
class NodeIdentity:
    """A node as other nodes and clients know it: a unique id and a URL that reaches it."""

    node_id: str
    public_url: str

    @classmethod
    def for_address(cls, host: str, port: int, url: str | None = None) -> NodeIdentity:
        """`<hostname>:<port>`: unique while one process binds a port (pod names in Kubernetes)."""
        shown = "localhost" if host in {"0.0.0.0", "127.0.0.1", "::"} else host
        return cls(f"{socket.gethostname()}:{port}", url or f"http://{shown}:{port}")

    @classmethod
    def ephemeral(cls) -> NodeIdentity:
        """A unique id and no public URL (a node built in-process, as in tests)."""
        return cls(f"{socket.gethostname()}-{uuid.uuid4().hex[:12]}", "")


class OwnedElsewhereError(InterviewError):
    """Another node runs the interview; clients reconnect at `owner.public_url`."""

    def __init__(self, owner: NodeIdentity):
        super().__init__(
            "owned_elsewhere",
            f"This interview is live on node {owner.node_id}; "
            f"reconnect at {owner.public_url or 'that node'}.",
            409,
        )
        self.owner = owner


class RenewOutcome(enum.Enum):
    """What one renewal found."""

    RENEWED = "renewed"
    LOST = "lost"
    UNREACHABLE = "unreachable"


class InterviewLease:
    """One acquisition of one interview's lease by this node."""

    def __init__(self, leases: InterviewLeases, interview_id: uuid.UUID, value: str):
        self._leases = leases
        self.interview_id = interview_id
        self.value = value

    async def renew(self) -> RenewOutcome:
        """Extend the lease by a full TTL (re-taking it if it vanished)."""
        return await self._leases.renew(self)

    async def release(self) -> None:
        """Give the lease up; if Redis cannot be reached it expires after its TTL instead."""
        await self._leases.release(self)


class InterviewLeases:
    """This node's view of interview leases in Redis: acquire, look up the owner."""

    def __init__(
        self,
        redis: Redis,
        identity: NodeIdentity,
        *,
        ttl_s: float = 10.0,
        prefix: str = "codesage:",
    ):
        self._redis = redis
        self.identity = identity
        self.ttl_s = ttl_s
        self._prefix = prefix
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._replace = redis.register_script(_REPLACE)
        # Tokens this object holds now: a lease under our node id with another token is a
        # previous incarnation of this node (a restart), which we may take over at once.
        self._held: dict[uuid.UUID, str] = {}

    def _key(self, interview_id: uuid.UUID) -> str:
        return f"{self._prefix}interview:{interview_id}:owner"

    async def acquire(self, interview_id: uuid.UUID) -> InterviewLease:
        """Take the lease; `OwnedElsewhereError` when another node holds it."""
        value = json.dumps(
            {
                "node_id": self.identity.node_id,
                "url": self.identity.public_url,
                "token": uuid.uuid4().hex,
            }
        )
        key = self._key(interview_id)
        try:
            for _ in range(_ACQUIRE_ATTEMPTS):
                if await self._redis.set(key, value, nx=True, px=self._ttl_ms()):
                    return self._hold(interview_id, value)
                current = await self._redis.get(key)
                if current is None:
                    continue  # it expired between the two calls: try again
                holder = _text(current)
                owner = _owner(holder)
                if owner.node_id == self.identity.node_id and interview_id not in self._held:
                    if await self._replace(keys=[key], args=[holder, value, self._ttl_ms()]):
                        log.info(
                            "took over the lease of this node's previous run",
                            extra={"interview_id": str(interview_id)},
                        )
                        return self._hold(interview_id, value)
                    continue
                raise OwnedElsewhereError(owner)
        except (RedisError, OSError) as exc:
            raise _redis_unavailable() from exc
        raise InterviewError(
            "temporarily_unavailable", "The interview changed hands; please try again.", 503
        )

    async def owner(self, interview_id: uuid.UUID) -> NodeIdentity | None:
        """The node holding the lease, or None when nobody does."""
        try:
            current = await self._redis.get(self._key(interview_id))
        except (RedisError, OSError) as exc:
            raise _redis_unavailable() from exc
        return None if current is None else _owner(_text(current))

    async def renew(self, lease: InterviewLease) -> RenewOutcome:
        """Extend `lease` by a full TTL, re-taking it if it vanished; LOST if another holds it."""
        key = self._key(lease.interview_id)
        try:
            result = await self._renew(keys=[key], args=[lease.value, self._ttl_ms()])
        except (RedisError, OSError):
            return RenewOutcome.UNREACHABLE
        if int(result) == 0:
            self._forget(lease)
            return RenewOutcome.LOST
        return RenewOutcome.RENEWED

    async def release(self, lease: InterviewLease) -> None:
        """Delete `lease` if it is still the one in Redis; else leave the key alone."""
        self._forget(lease)
        try:
            await self._release(keys=[self._key(lease.interview_id)], args=[lease.value])
        except (RedisError, OSError) as exc:
            log.warning(
                "lease release failed; it expires on its own",
                extra={"interview_id": str(lease.interview_id), "error": type(exc).__name__},
            )

    def _forget(self, lease: InterviewLease) -> None:
        if self._held.get(lease.interview_id) == lease.value:
            del self._held[lease.interview_id]

    def _hold(self, interview_id: uuid.UUID, value: str) -> InterviewLease:
        self._held[interview_id] = value
        return InterviewLease(self, interview_id, value)

    def _ttl_ms(self) -> int:
        return max(1, round(self.ttl_s * 1000))


class LeaseKeeper:
    """Renews a lease every TTL/3 while its actor lives; calls `on_lost` once if it is lost.

    While Redis cannot be reached the actor keeps running: no other node can take the lease
    from a Redis nobody reaches, and a second writer would be refused by the journal.
    """

    def __init__(self, lease: InterviewLease, ttl_s: float, on_lost: Callable[[], None]):
        self.lease = lease
        self._interval_s = ttl_s / 3
        self._on_lost = on_lost
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin renewing."""
        self._task = asyncio.create_task(
            self._renew_forever(), name=f"lease-{self.lease.interview_id}"
        )

    async def stop(self) -> None:
        """Stop renewing (the lease stays until released or expired)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _renew_forever(self) -> None:
        unreachable = False
        while True:
            await asyncio.sleep(self._interval_s)  # the renewal period, not a wait for a state
            outcome = await self.lease.renew()
            extra = {"interview_id": str(self.lease.interview_id)}
            if outcome is RenewOutcome.LOST:
                log.warning("interview lease lost to another node; stopping its actor", extra=extra)
                self._on_lost()
                return
            if outcome is RenewOutcome.UNREACHABLE and not unreachable:
                log.warning("cannot renew the interview lease: Redis unreachable", extra=extra)
            unreachable = outcome is RenewOutcome.UNREACHABLE


def _redis_unavailable() -> InterviewError:
    return InterviewError(
        "temporarily_unavailable",
        "The interview cannot be opened right now; please try again shortly.",
        503,
    )


def _owner(value: str) -> NodeIdentity:
    data = json.loads(value)
    return NodeIdentity(str(data["node_id"]), str(data.get("url", "")))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
