from __future__ import annotations

import asyncio
import uuid

import pytest

from codesage.engine.interview_locks import InterviewLocks


async def test_work_on_one_interview_is_serialised_and_the_lock_then_forgotten() -> None:
    locks, order = InterviewLocks(), []
    interview = uuid.uuid4()
    first_inside = asyncio.Event()

    async def work(name: str, entered: asyncio.Event | None = None) -> None:
        async with locks.hold(interview):
            order.append(f"{name} in")
            if entered is not None:
                entered.set()
            await asyncio.sleep(0)  # a chance for the other to barge in, were it not locked
            order.append(f"{name} out")

    first = asyncio.create_task(work("a", first_inside))
    await first_inside.wait()
    await asyncio.gather(first, work("b"))

    assert order == ["a in", "a out", "b in", "b out"]
    assert len(locks) == 0


async def test_other_interviews_are_not_held_up() -> None:
    locks = InterviewLocks()
    one, other = uuid.uuid4(), uuid.uuid4()
    async with locks.hold(one):
        async with asyncio.timeout(1):
            async with locks.hold(other):
                assert len(locks) == 2
    assert len(locks) == 0


async def test_a_waiter_cancelled_leaves_the_lock_to_the_others() -> None:
    locks = InterviewLocks()
    interview = uuid.uuid4()
    async with locks.hold(interview):
        waiter = asyncio.create_task(locks.hold(interview).__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert len(locks) == 1  # still held here
    assert len(locks) == 0
    async with asyncio.timeout(1), locks.hold(interview):
        assert len(locks) == 1
