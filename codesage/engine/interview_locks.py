"""One asyncio lock per interview, for as long as anyone holds or awaits it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator


class InterviewLocks:
    """Serialises work on one interview; a lock nobody holds or awaits is forgotten, so a node
    that has run many interviews keeps no lock for each."""

    def __init__(self) -> None:
        self._locks: dict[uuid.UUID, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, interview_id: uuid.UUID) -> AsyncIterator[None]:
        """Hold the interview's lock for the body of the `async with`."""
        lock, users = self._locks.get(interview_id, (asyncio.Lock(), 0))
        self._locks[interview_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            # Counted, not `lock.locked()`: a waiter still needs this very lock object.
            users = self._locks[interview_id][1] - 1
            if users:
                self._locks[interview_id] = (lock, users)
            else:
                del self._locks[interview_id]
