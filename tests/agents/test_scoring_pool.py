"""The scoring pool runs scorers in worker threads, concurrently and with bounded pending work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from codesage.agents.answer_score import AnswerScore
from codesage.agents.scoring import RubricScorer
from codesage.agents.scoring_pool import ScoringPool
from codesage.agents.template import Rubric

RUBRIC = Rubric(reference_answer="Use an idempotency key so that retries do not charge twice.")
WAIT_SECONDS = 10.0  # an upper bound for a hung thread, never reached when the code works


class GatedScorer:
    """A real AnswerScorer whose calls block until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        self.running = 0
        self.most_running = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def score(self, question: str, answer: str, rubric: Rubric) -> AnswerScore:
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.threads.add(threading.current_thread().name)
        self.started.release()
        opened = self.gate.wait(WAIT_SECONDS)
        with self._lock:
            self.running -= 1
        return AnswerScore(
            level=3, score=0.5, confidence=1.0 if opened else 0.0, insufficient_evidence=False
        )

    async def wait_started(self, count: int) -> None:
        """Wait, off the loop, until `count` calls have begun."""
        for _ in range(count):
            assert await asyncio.to_thread(self.started.acquire, True, WAIT_SECONDS)


async def test_the_loop_keeps_running_while_a_score_blocks() -> None:
    scorer = GatedScorer()
    pool = ScoringPool(scorer, max_workers=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    job = asyncio.create_task(pool.score("q", "an answer", RUBRIC))
    await scorer.wait_started(1)
    ticks_when_started = ticks
    for _ in range(50):
        await asyncio.sleep(0)
    assert not job.done()
    assert ticks >= ticks_when_started + 50  # the loop advanced while the score was blocked
    scorer.gate.set()
    result = await job
    assert result.confidence == 1.0
    ticking.cancel()
    await pool.aclose()
    assert all(name.startswith("codesage-scoring") for name in scorer.threads)


async def test_scores_run_in_parallel_up_to_max_workers() -> None:
    scorer = GatedScorer()
    pool = ScoringPool(scorer, max_workers=2, max_pending=4)
    jobs = [asyncio.create_task(pool.score("q", f"answer {i}", RUBRIC)) for i in range(3)]
    await scorer.wait_started(2)
    assert scorer.running == 2
    assert pool.in_flight == 3  # two running, one queued in the executor
    scorer.gate.set()
    await asyncio.gather(*jobs)
    assert scorer.most_running == 2
    assert pool.in_flight == 0
    await pool.aclose()


async def test_callers_beyond_max_pending_wait_instead_of_queueing() -> None:
    scorer = GatedScorer()
    pool = ScoringPool(scorer, max_workers=1, max_pending=2)
    jobs = [asyncio.create_task(pool.score("q", f"answer {i}", RUBRIC)) for i in range(5)]
    await scorer.wait_started(1)
    for _ in range(20):
        await asyncio.sleep(0)
    assert pool.in_flight == 2  # one running, one queued: the other three wait on the semaphore
    scorer.gate.set()
    results = await asyncio.gather(*jobs)
    assert len(results) == 5 and pool.in_flight == 0
    await pool.aclose()


async def test_a_closed_pool_refuses_work() -> None:
    pool = ScoringPool(GatedScorer(), max_workers=1)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.score("q", "an answer", RUBRIC)


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError):
        ScoringPool(GatedScorer(), max_workers=0)
    with pytest.raises(ValueError):
        ScoringPool(GatedScorer(), max_workers=1, max_pending=0)


async def test_the_real_scorer_gives_the_same_result_through_the_pool(
    answer_scorer: RubricScorer,
) -> None:
    answer = "I'd send an idempotency key with every attempt so the server can spot a retry."
    async with ScoringPool(answer_scorer, max_workers=2) as pool:
        pooled = await asyncio.gather(
            *(pool.score("How to retry?", answer, RUBRIC) for _ in range(3))
        )
    direct = answer_scorer.score("How to retry?", answer, RUBRIC)
    assert all(result == direct for result in pooled)


class CountingPreparer(GatedScorer):
    """Records the rubric preparations it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared: list[str] = []

    def prepare(self, question: str, rubric: Rubric) -> None:
        self.prepared.append(question)


async def test_a_rubric_asked_by_many_interviews_is_prepared_once() -> None:
    scorer = CountingPreparer()
    async with ScoringPool(scorer, max_workers=2) as pool:
        for _ in range(4):  # four interviews ask the same question in the same second
            pool.prepare("How do you make payments retry-safe?", RUBRIC)
        pool.prepare("Another question?", RUBRIC)
        other = Rubric(reference_answer="A different rubric for the same words.")
        pool.prepare("How do you make payments retry-safe?", other)
    assert sorted(scorer.prepared) == [
        "Another question?",
        "How do you make payments retry-safe?",
        "How do you make payments retry-safe?",
    ]
