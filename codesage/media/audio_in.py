"""The candidate's audio in: a remote WebRTC track as 16 kHz mono float32 windows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, AudioResampler

TARGET_RATE = 16_000
WINDOW_SAMPLES = 512
"""32 ms at 16 kHz: the window Silero VAD scores."""

AudioWindow = npt.NDArray[np.float32]
WindowCallback = Callable[[AudioWindow], Awaitable[None]]
EndCallback = Callable[[], Awaitable[None]]
StallCallback = Callable[[], Awaitable[None]]


class _MonoResampler:
    """Resamples to 16 kHz keeping the channels, then averages them.

    libswresample's own stereo-to-mono mix adds 3 dB (both channels at 0.707), which clips
    loud speech; a browser's mono microphone arrives as two equal channels.
    """

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._layout: str | None = None
        self._channels = 1
        self._resampler: AudioResampler | None = None

    def resample(self, frame: AudioFrame | None) -> list[npt.NDArray[np.float32]]:
        if frame is not None and frame.layout.name != self._layout:
            # First frame, or the sender changed its layout: start a fresh resampler.
            flushed = self.resample(None) if self._resampler is not None else []
            self._layout = frame.layout.name
            self._channels = len(frame.layout.channels)
            self._resampler = AudioResampler(format="flt", layout=self._layout, rate=self._rate)
            return flushed + self._convert(self._resampler.resample(frame))
        if self._resampler is None:
            return []
        return self._convert(self._resampler.resample(frame))

    def _convert(self, frames: list[AudioFrame]) -> list[npt.NDArray[np.float32]]:
        out: list[npt.NDArray[np.float32]] = []
        for frame in frames:
            interleaved = frame.to_ndarray().reshape(-1, self._channels)
            out.append(interleaved.mean(axis=1, dtype=np.float32))
        return out


class CandidateAudioReader:
    """Reads a remote audio track to its end and hands on 512-sample windows at 16 kHz.

    On the track's end the last partial window is zero-padded and delivered, then `on_end`
    runs, so an answer cut by a dropped track keeps everything heard so far. With
    `stall_timeout` set, `on_stall` runs once per gap without audio (a browser that stops
    its track sends nothing and does not end ours).
    """

    def __init__(
        self,
        track: MediaStreamTrack,
        on_window: WindowCallback,
        *,
        on_end: EndCallback | None = None,
        on_stall: StallCallback | None = None,
        stall_timeout: float | None = None,
        window_samples: int = WINDOW_SAMPLES,
        sample_rate: int = TARGET_RATE,
    ) -> None:
        if track.kind != "audio":
            raise ValueError(f"expected an audio track, got {track.kind}")
        self._track = track
        self._on_window = on_window
        self._on_end = on_end
        self._on_stall = on_stall
        self._stall_timeout = stall_timeout
        self._window_samples = window_samples
        self._sample_rate = sample_rate
        self._resampler = _MonoResampler(sample_rate)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._samples_delivered = 0
        self._task: asyncio.Task[None] | None = None
        self._ended = asyncio.Event()

    @property
    def samples_delivered(self) -> int:
        """16 kHz samples handed to `on_window` so far (padding included)."""
        return self._samples_delivered

    @property
    def seconds_delivered(self) -> float:
        """Audio time handed on so far."""
        return self._samples_delivered / self._sample_rate

    @property
    def ended(self) -> asyncio.Event:
        """Set once the track has ended and `on_end` has run."""
        return self._ended

    def start(self) -> None:
        """Start reading in a task of its own."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"audio-in-{self._track.id}")

    async def stop(self) -> None:
        """Stop reading without calling `on_end` (the owner is tearing down)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        """Read until the track ends, then flush and call `on_end`."""
        stalled = False
        while True:
            try:
                frame = await asyncio.wait_for(self._track.recv(), self._stall_timeout)
            except TimeoutError:
                if not stalled and self._on_stall is not None:
                    await self._on_stall()
                stalled = True
                continue
            except MediaStreamError:
                break
            stalled = False
            if not isinstance(frame, AudioFrame):
                continue
            await self._deliver(self._resampler.resample(frame))
        await self._deliver(self._resampler.resample(None))
        await self._flush()
        if self._on_end is not None:
            await self._on_end()
        self._ended.set()

    async def _deliver(self, pieces: list[npt.NDArray[np.float32]]) -> None:
        if not pieces:
            return
        self._buffer = np.concatenate([self._buffer, *pieces])
        size = self._window_samples
        whole = len(self._buffer) // size * size
        for start in range(0, whole, size):
            await self._emit(self._buffer[start : start + size].copy())
        self._buffer = self._buffer[whole:]

    async def _flush(self) -> None:
        if len(self._buffer):
            window = np.zeros(self._window_samples, dtype=np.float32)
            window[: len(self._buffer)] = self._buffer
            self._buffer = np.zeros(0, dtype=np.float32)
            await self._emit(window)

    async def _emit(self, window: AudioWindow) -> None:
        self._samples_delivered += len(window)
        await self._on_window(window)
