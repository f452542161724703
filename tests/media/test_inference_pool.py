"""The shared speech pool: finals first, newest partial per stream, partials shed under load."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from codesage.agents.speech_to_text import AudioArray, Transcript, TranscriptSegment
from codesage.media.inference_pool import DecodeKind, PartialShed, SpeechInferencePool


class GatedSpeechToText:
    """Transcribes to the audio's first sample as text; every decode waits for `release`."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.order: list[str] = []
        self._lock = threading.Lock()

    def transcribe(
        self, audio: AudioArray, *, prompt: str | None = None, max_tokens: int | None = None
    ) -> Transcript:
        label = f"job{int(audio[0])}"
        with self._lock:
            self.order.append(label)
        self.started.release()
        assert self.release.wait(timeout=10)
        return Transcript((TranscriptSegment(0.0, 1.0, label),), 1.0, "en")


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def labelled(number: int) -> AudioArray:
    return np.full(1600, number, np.float32)


async def started(stt: GatedSpeechToText) -> None:
    """Wait, off the loop, until a decode has entered the model."""
    assert await asyncio.to_thread(stt.started.acquire, timeout=10)


async def test_finals_run_before_queued_partials() -> None:
    stt = GatedSpeechToText()
    async with SpeechInferencePool(stt, workers=1) as pool:
        blocker = asyncio.create_task(pool.transcribe("a", labelled(0), kind="final"))
        await started(stt)
        partial = asyncio.create_task(pool.transcribe("b", labelled(1), kind="partial"))
        final = asyncio.create_task(pool.transcribe("c", labelled(2), kind="final"))
        await asyncio.sleep(0)  # let both tasks queue their jobs
        assert pool.queue_length == 2
        stt.release.set()
        results = await asyncio.gather(blocker, partial, final)
    assert stt.order == ["job0", "job2", "job1"]
    assert [result.text for result in results] == ["job0", "job1", "job2"]


async def test_a_newer_partial_supersedes_the_queued_one_of_its_stream() -> None:
    stt = GatedSpeechToText()
    async with SpeechInferencePool(stt, workers=1) as pool:
        blocker = asyncio.create_task(pool.transcribe("other", labelled(0), kind="final"))
        await started(stt)
        older = asyncio.create_task(pool.transcribe("s1", labelled(1)))
        await asyncio.sleep(0)
        newer = asyncio.create_task(pool.transcribe("s1", labelled(2)))
        await asyncio.sleep(0)
        assert pool.queue_length == 1
        with pytest.raises(PartialShed, match="superseded"):
            await older
        stt.release.set()
        assert (await newer).text == "job2"
        await blocker
        assert pool.superseded_count == 1
    assert stt.order == ["job0", "job2"]


async def test_partials_that_waited_too_long_are_shed_and_waits_are_reported() -> None:
    stt = GatedSpeechToText()
    clock = ManualClock()
    waits: list[tuple[str, float]] = []
    async with SpeechInferencePool(
        stt,
        workers=1,
        max_partial_wait_s=1.0,
        clock=clock,
        on_wait=lambda kind, seconds: waits.append((kind, seconds)),
    ) as pool:
        blocker = asyncio.create_task(pool.transcribe("a", labelled(0), kind=DecodeKind.FINAL))
        await started(stt)
        late = asyncio.create_task(pool.transcribe("b", labelled(1)))
        await asyncio.sleep(0)
        clock.now += 2.5
        fresh = asyncio.create_task(pool.transcribe("c", labelled(2)))
        await asyncio.sleep(0)
        stt.release.set()
        with pytest.raises(PartialShed, match="waited"):
            await late
        assert (await fresh).text == "job2"
        await blocker
        assert pool.shed_count == 1
    assert waits == [("final", 0.0), ("partial", 2.5), ("partial", 0.0)]
    assert stt.order == ["job0", "job2"]


async def test_parallel_workers_and_a_cancelled_caller_leaves_the_queue() -> None:
    stt = GatedSpeechToText()
    async with SpeechInferencePool(stt, workers=2) as pool:
        first = asyncio.create_task(pool.transcribe("a", labelled(0), kind="final"))
        second = asyncio.create_task(pool.transcribe("b", labelled(1), kind="final"))
        await started(stt)
        await started(stt)
        assert pool.running == 2
        queued = asyncio.create_task(pool.transcribe("c", labelled(2), kind="final"))
        await asyncio.sleep(0)
        assert pool.queue_length == 1
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert pool.queue_length == 0
        stt.release.set()
        await asyncio.gather(first, second)
    assert sorted(stt.order) == ["job0", "job1"]


async def test_partials_leave_a_worker_free_for_finals() -> None:
    stt = GatedSpeechToText()
    async with SpeechInferencePool(stt, workers=2) as pool:
        first = asyncio.create_task(pool.transcribe("a", labelled(0)))
        await started(stt)
        second = asyncio.create_task(pool.transcribe("b", labelled(1)))
        await asyncio.sleep(0)
        # One partial runs; the other waits although a worker is idle ...
        assert (pool.running, pool.queue_length) == (1, 1)
        final = asyncio.create_task(pool.transcribe("c", labelled(2), kind="final"))
        await started(stt)
        # ... which a final takes at once.
        assert (pool.running, pool.queue_length) == (2, 1)
        stt.release.set()
        results = await asyncio.gather(first, second, final)
    assert stt.order == ["job0", "job2", "job1"]
    assert [result.text for result in results] == ["job0", "job1", "job2"]


async def test_errors_reach_the_caller_and_a_closed_pool_refuses_work() -> None:
    class Broken:
        def transcribe(
            self, audio: AudioArray, *, prompt: str | None = None, max_tokens: int | None = None
        ) -> Transcript:
            raise ValueError("model exploded")

    pool = SpeechInferencePool(Broken(), workers=1)
    with pytest.raises(ValueError, match="exploded"):
        await pool.transcribe("a", labelled(0), kind="final")
    await pool.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.transcribe("a", labelled(0), kind="final")
