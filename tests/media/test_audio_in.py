"""Candidate audio in: remote 48 kHz frames become 512-sample windows at 16 kHz mono."""

from __future__ import annotations

import asyncio
import fractions

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from codesage.media.audio_in import WINDOW_SAMPLES, CandidateAudioReader


class QueueTrack(MediaStreamTrack):
    """A remote-like audio track fed by the test; None ends it."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.frames: asyncio.Queue[AudioFrame | None] = asyncio.Queue()

    async def recv(self) -> AudioFrame:
        frame = await self.frames.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        return frame


def tone_frames(
    seconds: float, *, layout: str = "stereo", fmt: str = "s16", amplitude: float = 0.5
) -> list[AudioFrame]:
    """Frames of a 440 Hz tone as aiortc's Opus decoder delivers them (48 kHz, 20 ms)."""
    frames = []
    channels = 2 if layout == "stereo" else 1
    for index in range(round(seconds * 50)):
        t = np.arange(index * 960, (index + 1) * 960) / 48_000
        wave = amplitude * np.sin(2 * np.pi * 440 * t)
        if fmt == "s16":
            data = np.repeat((wave * 32767).astype(np.int16), channels).reshape(1, -1)
        else:
            data = np.tile(wave.astype(np.float32), (channels, 1))
        frame = AudioFrame.from_ndarray(data, format=fmt, layout=layout)
        frame.sample_rate, frame.pts = 48_000, index * 960
        frame.time_base = fractions.Fraction(1, 48_000)
        frames.append(frame)
    return frames


class Collector:
    def __init__(self) -> None:
        self.windows: list[npt.NDArray[np.float32]] = []
        self.ended = asyncio.Event()
        self.stalls = 0
        self.stalled = asyncio.Event()

    async def on_window(self, window: npt.NDArray[np.float32]) -> None:
        self.windows.append(window)

    async def on_end(self) -> None:
        self.ended.set()

    async def on_stall(self) -> None:
        self.stalls += 1
        self.stalled.set()

    def audio(self) -> npt.NDArray[np.float32]:
        return np.concatenate(self.windows)


def dominant_hz(audio: npt.NDArray[np.float32], rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[int(np.argmax(spectrum))])


async def test_stereo_s16_becomes_16k_mono_windows_without_gain() -> None:
    track, collected = QueueTrack(), Collector()
    reader = CandidateAudioReader(track, collected.on_window, on_end=collected.on_end)
    reader.start()
    for frame in tone_frames(1.0):
        track.frames.put_nowait(frame)
    track.frames.put_nowait(None)
    await asyncio.wait_for(collected.ended.wait(), 5)

    assert {(w.dtype, len(w)) for w in collected.windows} == {
        (np.dtype(np.float32), WINDOW_SAMPLES)
    }
    audio = collected.audio()
    assert abs(len(audio) - 16_000) <= WINDOW_SAMPLES
    assert abs(dominant_hz(audio[:8192]) - 440) < 5
    # Equal channels averaged: the level stays at 0.5, not +3 dB as with libswresample's mix.
    assert 0.45 < np.abs(audio[1000:15000]).max() < 0.55


async def test_planar_float_mono_is_read_too() -> None:
    track, collected = QueueTrack(), Collector()
    reader = CandidateAudioReader(track, collected.on_window, on_end=collected.on_end)
    reader.start()
    for frame in tone_frames(0.5, layout="mono", fmt="fltp"):
        track.frames.put_nowait(frame)
    track.frames.put_nowait(None)
    await asyncio.wait_for(collected.ended.wait(), 5)
    assert abs(dominant_hz(collected.audio()[:4096]) - 440) < 8


async def test_a_track_ending_mid_answer_keeps_the_audio_so_far() -> None:
    track, collected = QueueTrack(), Collector()
    reader = CandidateAudioReader(track, collected.on_window, on_end=collected.on_end)
    reader.start()
    for frame in tone_frames(0.34):  # 17 frames: not a whole number of windows
        track.frames.put_nowait(frame)
    track.frames.put_nowait(None)
    await asyncio.wait_for(collected.ended.wait(), 5)
    await asyncio.wait_for(reader.ended.wait(), 5)

    # All 0.34 s delivered (5440 samples), the last window zero-padded.
    assert reader.samples_delivered == 11 * WINDOW_SAMPLES
    assert abs(np.count_nonzero(collected.audio()) - 0.34 * 16_000) < 200
    assert np.all(collected.windows[-1][-100:] == 0)


async def test_a_silent_gap_is_reported_once_and_reading_goes_on() -> None:
    track, collected = QueueTrack(), Collector()
    reader = CandidateAudioReader(
        track,
        collected.on_window,
        on_end=collected.on_end,
        on_stall=collected.on_stall,
        stall_timeout=0.05,
    )
    reader.start()
    await asyncio.wait_for(collected.stalled.wait(), 5)
    for frame in tone_frames(0.2):
        track.frames.put_nowait(frame)
    track.frames.put_nowait(None)
    await asyncio.wait_for(collected.ended.wait(), 5)
    assert collected.stalls == 1
    assert len(collected.windows) == 7


async def test_stop_cancels_without_calling_on_end() -> None:
    track, collected = QueueTrack(), Collector()
    reader = CandidateAudioReader(track, collected.on_window, on_end=collected.on_end)
    reader.start()
    await reader.stop()
    assert not collected.ended.is_set()
