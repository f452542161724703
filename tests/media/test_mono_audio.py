from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from codesage.media.mono_audio import MonoAudioTrack


class DecodedOpus(MediaStreamTrack):
    """Frames as aiortc's Opus decoder makes them: libopus decoding into FFmpeg's pool."""

    kind = "audio"

    def __init__(self, packets: list[av.Packet]) -> None:
        super().__init__()
        self._decoder = av.CodecContext.create("libopus", "r")
        self._decoder.format, self._decoder.layout = "s16", "stereo"
        self._decoder.sample_rate = 48_000
        self._packets = packets

    async def recv(self) -> AudioFrame:
        if not self._packets:
            raise MediaStreamError
        packet = self._packets.pop(0)
        packet.time_base = Fraction(1, 48_000)
        frames = self._decoder.decode(packet)
        assert len(frames) == 1
        return frames[0]


def opus_packets(left: np.ndarray, right: np.ndarray) -> list[av.Packet]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.format, encoder.layout, encoder.sample_rate = "s16", "stereo", 48_000
    encoder.bit_rate = 128_000
    packets = []
    for start in range(0, len(left), 960):
        interleaved = np.stack([left[start : start + 960], right[start : start + 960]], axis=1)
        frame = AudioFrame.from_ndarray(interleaved.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48_000, start
        packets += encoder.encode(frame)
    return packets


async def test_frames_are_mono_copies_with_the_source_timing_and_a_fraction_of_the_memory() -> None:
    t = np.arange(48_000) / 48_000
    left = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    right = (2000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    track = MonoAudioTrack(DecodedOpus(opus_packets(left, right)))

    frames = [await track.recv() for _ in range(40)]

    for frame in frames:
        assert (frame.layout.name, frame.format.name, frame.sample_rate) == ("mono", "s16", 48_000)
        assert frame.samples == 960 and frame.time_base == Fraction(1, 48_000)
        # 20 ms of mono s16: the decoder's pool buffer (120 ms of stereo) is not kept.
        assert frame.planes[0].buffer_size < 2 * 960 * 2
    assert [f.pts for f in frames[1:]] == [f.pts + 960 for f in frames[:-1]]
    # The mean of both channels: a 440 Hz tone of amplitude (8000 + 2000) / 2.
    audio = np.concatenate([f.to_ndarray().reshape(-1) for f in frames[10:]])
    assert np.abs(audio).max() == pytest.approx(5000, rel=0.1)


async def test_the_end_of_the_source_ends_the_track() -> None:
    silence = np.zeros(960, np.int16)
    track = MonoAudioTrack(DecodedOpus(opus_packets(silence, silence)))

    await track.recv()
    with pytest.raises(MediaStreamError):
        await track.recv()
