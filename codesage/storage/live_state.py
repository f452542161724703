"""Live interview state in Redis: a hash per interview and an ordered event stream."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError


@dataclass(frozen=True)
class StreamEvent:
    """One event of an interview's live stream, with its per-interview sequence number."""

    seq: int
    type: str
    payload: dict[str, Any]


class LiveStateStore:
    """Redis-backed live state; every key is under `prefix` so deployments and tests can share."""

    def __init__(self, redis: Redis, prefix: str = "codesage:", stream_maxlen: int = 10_000):
        self._redis = redis
        self._prefix = prefix
        self._stream_maxlen = stream_maxlen

    def _key(self, interview_id: str, part: str) -> str:
        return f"{self._prefix}interview:{interview_id}:{part}"

    async def ping(self) -> bool:
        """True when Redis answers PING."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def set_state(self, interview_id: str, fields: dict[str, str]) -> None:
        """Merge `fields` into the interview's live-state hash."""
        mapping: dict[str | bytes, str | bytes] = {k: v for k, v in fields.items()}
        await self._redis.hset(self._key(interview_id, "state"), mapping=mapping)  # type: ignore[arg-type]

    async def get_state(self, interview_id: str) -> dict[str, str]:
        """The interview's live-state hash (empty when unknown)."""
        raw = await self._redis.hgetall(self._key(interview_id, "state"))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def append_event(self, interview_id: str, event: StreamEvent) -> None:
        """Append `event` under stream id `<seq>-0`; Redis rejects a seq that does not grow."""
        await self._redis.xadd(
            self._key(interview_id, "events"),
            {"type": event.type, "payload": json.dumps(event.payload)},
            id=f"{event.seq}-0",
            maxlen=self._stream_maxlen,
            approximate=True,
        )

    async def events_after(
        self, interview_id: str, after_seq: int, limit: int = 1000
    ) -> list[StreamEvent]:
        """Events with seq > `after_seq`, in order (at most `limit`)."""
        entries = await self._redis.xrange(
            self._key(interview_id, "events"), min=f"({after_seq}-0", count=limit
        )
        events = []
        for entry_id, fields in entries or []:
            assert entry_id is not None and fields is not None
            values = {_text(k): _text(v) for k, v in fields.items()}
            seq = int(_text(entry_id).split("-", 1)[0])
            events.append(StreamEvent(seq, values["type"], json.loads(values["payload"])))
        return events

    async def delete_interview(self, interview_id: str) -> None:
        """Drop every live key of the interview (after it ended and was made durable)."""
        await self._redis.delete(
            self._key(interview_id, "state"), self._key(interview_id, "events")
        )


def _text(value: bytes | str) -> str:
    # The client may or may not decode responses; accept both.
    return value.decode() if isinstance(value, bytes) else value
