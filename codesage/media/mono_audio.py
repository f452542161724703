"""The candidate's decoded audio as compact mono frames, before anything queues it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame


def mono_s16(frame: AudioFrame) -> npt.NDArray[np.int16]:
    """The frame's samples as one int16 channel, the mean of its channels.

    Our own mean: libswresample's stereo-to-mono mix adds 3 dB and clips loud speech, and a
    browser's mono microphone arrives as two equal channels.
    """
    data: npt.NDArray[np.generic] = frame.to_ndarray()
    channels = len(frame.layout.channels)
    samples = data.reshape(channels, -1) if frame.format.is_planar else data.reshape(-1, channels).T
    mono: npt.NDArray[np.float32] = samples.astype(np.float32).mean(axis=0)
    if np.issubdtype(data.dtype, np.floating):
        mono *= 32767.0
    return np.clip(mono, -32768, 32767).astype(np.int16)


class MonoAudioTrack(MediaStreamTrack):
    """A remote audio track whose frames are copied to mono s16 frames of their own.

    aiortc's Opus decoder hands out frames that hold a 120 ms buffer of its pool (23 KB for
    20 ms of stereo audio) for as long as any reader keeps the frame queued; a copy holds
    1.9 KB. Timestamps and rate are kept.
    """

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self._source = source

    async def recv(self) -> AudioFrame:
        """The source's next audio frame, as a mono copy."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            frame = await self._source.recv()
            if isinstance(frame, AudioFrame):
                break
        copy = AudioFrame.from_ndarray(mono_s16(frame).reshape(1, -1), format="s16", layout="mono")
        copy.sample_rate = frame.sample_rate
        copy.pts = frame.pts
        copy.time_base = frame.time_base
        return copy
