"""Live state and the event stream on the real test Redis."""

from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from codesage.storage.connections import Storage
from codesage.storage.live_state import StreamEvent


async def test_events_after_returns_exactly_the_missing_ones_in_order(storage: Storage) -> None:
    for seq in range(1, 6):
        await storage.live.append_event("iv-1", StreamEvent(seq, "answer", {"n": seq}))
    missing = await storage.live.events_after("iv-1", 2)
    assert [(e.seq, e.payload["n"]) for e in missing] == [(3, 3), (4, 4), (5, 5)]
    assert await storage.live.events_after("iv-1", 5) == []
    assert await storage.live.events_after("other", 0) == []


async def test_stream_refuses_a_sequence_number_that_does_not_grow(storage: Storage) -> None:
    await storage.live.append_event("iv-2", StreamEvent(3, "answer", {}))
    with pytest.raises(ResponseError):
        await storage.live.append_event("iv-2", StreamEvent(3, "duplicate", {}))


async def test_state_hash_merges_fields(storage: Storage) -> None:
    await storage.live.set_state("iv-3", {"state": "questioning", "question": "q1"})
    await storage.live.set_state("iv-3", {"question": "q2"})
    assert await storage.live.get_state("iv-3") == {"state": "questioning", "question": "q2"}
    await storage.live.delete_interview("iv-3")
    assert await storage.live.get_state("iv-3") == {}


async def test_health_reports_both_servers_up(storage: Storage) -> None:
    assert await storage.health() == {"postgres": True, "redis": True}
