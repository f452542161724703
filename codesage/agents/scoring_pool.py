"""Runs blocking answer scoring off the event loop, in a bounded thread pool shared by sessions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from codesage.agents.answer_score import AnswerScore, AnswerScorer
from codesage.agents.template import Rubric
from codesage.config.metrics import NodeMetrics

log = logging.getLogger(__name__)

PREPARED_RUBRICS_KEPT = 512
"""Rubrics remembered as prepared (the encoder's cache holds their vectors)."""


class ScoringPool:
    """`await pool.score(...)` scores in a worker thread; at most `max_pending` jobs are submitted.

    Torch releases the GIL during inference, so threads give real parallelism. Callers beyond
    `max_pending` wait on a semaphore instead of piling work into the executor's queue.
    """

    def __init__(
        self,
        scorer: AnswerScorer,
        *,
        max_workers: int = 2,
        max_pending: int | None = None,
        metrics: NodeMetrics | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        pending = max_pending if max_pending is not None else 4 * max_workers
        if pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._scorer = scorer
        self._metrics = metrics
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="codesage-scoring"
        )
        self._slots = asyncio.Semaphore(pending)
        self._max_pending = pending
        self._in_flight = 0
        self._closed = False
        self._prepared: OrderedDict[tuple[str, str], None] = OrderedDict()

    @property
    def in_flight(self) -> int:
        """Jobs submitted to the executor and not yet finished (running or queued)."""
        return self._in_flight

    @property
    def max_pending(self) -> int:
        """Most jobs submitted at once."""
        return self._max_pending

    def prepare(self, question: str, rubric: Rubric) -> None:
        """Embed a rubric in the background when its question is asked (if the scorer can).

        A cold rubric added ~0.7 s to the first answer scored against it; the candidate takes
        longer than that to answer, so the work is hidden.
        """
        prepare = getattr(self._scorer, "prepare", None)
        if prepare is None or self._closed:
            return
        # Interviews on one template ask the same questions, often in the same second: embed a
        # rubric once, not once per interview ahead of their answers' scores in the queue.
        key = (question, rubric.model_dump_json())
        if key in self._prepared:
            self._prepared.move_to_end(key)
            return
        self._prepared[key] = None
        if len(self._prepared) > PREPARED_RUBRICS_KEPT:
            self._prepared.popitem(last=False)
        future = self._executor.submit(prepare, question, rubric)
        future.add_done_callback(_log_failure)

    async def score(self, question: str, answer: str, rubric: Rubric) -> AnswerScore:
        """Score one answer in a worker thread; waits for a free slot first."""
        if self._closed:
            raise RuntimeError("the scoring pool is closed")
        queued = time.perf_counter()
        async with self._slots:
            if self._closed:
                raise RuntimeError("the scoring pool is closed")
            loop = asyncio.get_running_loop()
            self._in_flight += 1
            try:
                return await loop.run_in_executor(
                    self._executor, self._timed_score, queued, question, answer, rubric
                )
            finally:
                self._in_flight -= 1

    def _timed_score(
        self, queued: float, question: str, answer: str, rubric: Rubric
    ) -> AnswerScore:
        # Runs in the worker thread: the wait covers the semaphore and the executor's queue.
        started = time.perf_counter()
        try:
            return self._scorer.score(question, answer, rubric)
        finally:
            if self._metrics is not None:
                self._metrics.scoring_queue_wait.observe(started - queued)
                self._metrics.scoring_seconds.observe(time.perf_counter() - started)

    def close(self) -> None:
        """Stop accepting work and drop queued jobs; running ones finish in their threads."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        """Stop accepting work and wait, off the loop, for running jobs to finish."""
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> ScoringPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("rubric preparation failed", exc_info=future.exception())
