"""Per-message checks on Socket.IO: size, schema and rate, each refused with a clear error."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from codesage.engine.commands import InterviewError
from codesage.signaling.auth import AuthError
from codesage.signaling.errors import validation_message

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
ModelT = TypeVar("ModelT", bound=BaseModel)
Ack = dict[str, Any]


def refusal(code: str, message: str) -> Ack:
    """The acknowledgement of a refused message."""
    return {"ok": False, "error": {"code": code, "message": message}}


@dataclass
class TokenBucket:
    """Allows `rate` messages a second on average with bursts up to `burst`."""

    rate: float = 20.0
    burst: float = 40.0
    tokens: float = 40.0
    updated: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class MessageGuard:
    """Validates and rate-limits incoming messages per connection, and maps errors to acks."""

    def __init__(self, rate: float = 20.0, burst: float = 40.0):
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def forget(self, sid: str) -> None:
        """Drop a disconnected connection's bucket."""
        self._buckets.pop(sid, None)

    async def run(
        self,
        sid: str,
        data: Any,
        model: type[ModelT],
        handler: Callable[[ModelT], Awaitable[Ack]],
    ) -> Ack:
        """Check `data`, parse it as `model`, run `handler`; every failure becomes an ack."""
        bucket = self._buckets.setdefault(sid, TokenBucket(self._rate, self._burst, self._burst))
        if not bucket.take():
            return refusal("rate_limited", "Too many messages; slow down.")
        try:
            size = len(json.dumps(data if data is not None else {}))
        except (TypeError, ValueError):
            return refusal("invalid_message", "The message is not JSON.")
        if size > MAX_MESSAGE_BYTES:
            return refusal("too_large", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes.")
        try:
            message = model.model_validate(data if data is not None else {})
        except ValidationError as exc:
            return refusal("invalid_message", validation_message(exc))
        try:
            return await handler(message)
        except InterviewError as exc:
            return refusal(exc.code, exc.message)
        except AuthError as exc:
            return refusal(exc.code, exc.message)
        except Exception:
            log.exception("socket handler failed", extra={"model": model.__name__})
            return refusal("internal_error", "Something went wrong on our side.")
