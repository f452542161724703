"""One bounded speech-to-text pool shared by every live interview on a node.

Finals (the answer that gets scored) always run before partials (live captions). A stream
keeps at most one queued partial: a newer one supersedes it, because only the latest audio
matters for a caption. A partial that waited longer than `max_partial_wait_s` is shed rather
than run late: under load captions update less often, but they are never wrong. Partials run
on at most `partial_workers` workers (all but one by default), so that a final never waits
for a caption to finish and captions cannot take every core from the media path.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType

from codesage.agents.speech_to_text import AudioArray, SpeechToText, Transcript


class DecodeKind(StrEnum):
    """A live-caption decode or the end-of-turn decode."""

    PARTIAL = "partial"
    FINAL = "final"


class PartialShed(Exception):
    """A partial decode was dropped: superseded by a newer one, or it waited too long."""


WaitObserver = Callable[[DecodeKind, float], None]
"""Called with each job's kind and queue wait in seconds when it starts or is shed."""


@dataclass(eq=False)
class _Job:
    stream_id: str
    kind: DecodeKind
    audio: AudioArray
    prompt: str | None
    max_tokens: int | None
    enqueued: float
    future: asyncio.Future[Transcript] = field(repr=False)


class StreamTranscriber:
    """The pool seen by one stream: `await transcriber(audio, kind=...)`."""

    def __init__(self, pool: SpeechInferencePool, stream_id: str) -> None:
        self._pool = pool
        self._stream_id = stream_id

    async def __call__(
        self, audio: AudioArray, *, kind: DecodeKind, prompt: str | None = None
    ) -> Transcript:
        """Transcribe in the shared pool; `PartialShed` when a partial is dropped."""
        return await self._pool.transcribe(self._stream_id, audio, kind=kind, prompt=prompt)


class SpeechInferencePool:
    """`await pool.transcribe(stream_id, audio, kind=...)` runs a decode in a worker thread.

    At most `workers` decodes run at once (the model must allow that many in parallel:
    faster-whisper's `num_workers`), of which at most `partial_workers` partials; the rest
    wait in two queues scheduled on the event loop.
    `partial_stt` may be a cheaper engine for captions (e.g. the fitted encoder window).
    Use one pool from one event loop.
    """

    def __init__(
        self,
        stt: SpeechToText,
        *,
        workers: int = 2,
        partial_workers: int | None = None,
        partial_stt: SpeechToText | None = None,
        max_partial_wait_s: float = 1.0,
        on_wait: WaitObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._stt = stt
        self._partial_stt = partial_stt if partial_stt is not None else stt
        self._workers = workers
        self._partial_workers = (
            max(1, workers - 1) if partial_workers is None else min(workers, partial_workers)
        )
        if self._partial_workers < 1:
            raise ValueError("partial_workers must be at least 1")
        self._max_partial_wait_s = max_partial_wait_s
        self._on_wait = on_wait
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codesage-stt")
        self._finals: deque[_Job] = deque()
        # Insertion-ordered: the stream that has waited longest for a caption goes first.
        self._partials: dict[str, _Job] = {}
        self._running = 0
        self._running_partials = 0
        self._shed = 0
        self._superseded = 0
        self._closed = False

    @property
    def queue_length(self) -> int:
        """Decodes waiting for a worker."""
        return len(self._finals) + len(self._partials)

    @property
    def running(self) -> int:
        """Decodes running in worker threads."""
        return self._running

    @property
    def shed_count(self) -> int:
        """Partials dropped because they waited longer than `max_partial_wait_s`."""
        return self._shed

    @property
    def superseded_count(self) -> int:
        """Partials replaced by a newer partial of the same stream before they ran."""
        return self._superseded

    def for_stream(self, stream_id: str) -> StreamTranscriber:
        """A transcriber bound to one stream, for a `LiveCaptioner`."""
        return StreamTranscriber(self, stream_id)

    async def transcribe(
        self,
        stream_id: str,
        audio: AudioArray,
        *,
        kind: DecodeKind | str = DecodeKind.PARTIAL,
        prompt: str | None = None,
        max_tokens: int | None = None,
    ) -> Transcript:
        """Queue a decode and wait for it; raises `PartialShed` if a partial is dropped."""
        if self._closed:
            raise RuntimeError("the speech inference pool is closed")
        job = _Job(
            stream_id,
            DecodeKind(kind),
            audio,
            prompt,
            max_tokens,
            self._clock(),
            asyncio.get_running_loop().create_future(),
        )
        if job.kind is DecodeKind.FINAL:
            self._finals.append(job)
        else:
            older = self._partials.pop(stream_id, None)
            if older is not None:
                self._superseded += 1
                _fail(older, PartialShed("superseded by a newer partial"))
            self._partials[stream_id] = job
        self._dispatch()
        try:
            return await job.future
        except asyncio.CancelledError:
            self._withdraw(job)
            raise

    def _withdraw(self, job: _Job) -> None:
        if job.kind is DecodeKind.FINAL:
            if job in self._finals:
                self._finals.remove(job)
        elif self._partials.get(job.stream_id) is job:
            del self._partials[job.stream_id]

    def _next_job(self) -> _Job | None:
        if self._finals:
            return self._finals.popleft()
        while self._partials and self._running_partials < self._partial_workers:
            stream_id = next(iter(self._partials))
            job = self._partials.pop(stream_id)
            waited = self._clock() - job.enqueued
            if waited <= self._max_partial_wait_s:
                return job
            self._shed += 1
            self._observe(job.kind, waited)
            _fail(job, PartialShed(f"waited {waited:.2f} s for a worker"))
        return None

    def _dispatch(self) -> None:
        while self._running < self._workers and not self._closed:
            job = self._next_job()
            if job is None:
                return
            self._observe(job.kind, self._clock() - job.enqueued)
            stt = self._stt if job.kind is DecodeKind.FINAL else self._partial_stt
            run = functools.partial(
                stt.transcribe, job.audio, prompt=job.prompt, max_tokens=job.max_tokens
            )
            self._running += 1
            if job.kind is DecodeKind.PARTIAL:
                self._running_partials += 1
            self._executor.submit(run).add_done_callback(functools.partial(self._thread_done, job))

    def _thread_done(self, job: _Job, finished: ThreadFuture[Transcript]) -> None:
        # Runs in the worker thread: hand the outcome back to the loop that owns the queues.
        job.future.get_loop().call_soon_threadsafe(self._finished, job, finished)

    def _finished(self, job: _Job, finished: ThreadFuture[Transcript]) -> None:
        self._running -= 1
        if job.kind is DecodeKind.PARTIAL:
            self._running_partials -= 1
        if not job.future.done():
            error = finished.exception()
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(finished.result())
        self._dispatch()

    def _observe(self, kind: DecodeKind, waited: float) -> None:
        if self._on_wait is not None:
            self._on_wait(kind, max(0.0, waited))

    async def aclose(self) -> None:
        """Fail queued decodes, then wait (off the loop) for running ones to finish."""
        self._closed = True
        queued = [*self._finals, *self._partials.values()]
        self._finals.clear()
        self._partials.clear()
        for job in queued:
            _fail(job, RuntimeError("the speech inference pool is closed"))
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    async def __aenter__(self) -> SpeechInferencePool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _fail(job: _Job, error: BaseException) -> None:
    if not job.future.done():
        job.future.set_exception(error)
