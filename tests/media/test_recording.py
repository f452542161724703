"""Recording: safe blob keys, the local folder store, and playable segments even after a crash."""

from __future__ import annotations

import asyncio
import fractions
import io
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from codesage.media.recording import (
    BlobNotFound,
    InvalidBlobKey,
    LocalFolderBlobStore,
    RecordingSegment,
    SegmentedRecorder,
    recording_manifest,
    validate_key,
)


class QueueTrack(MediaStreamTrack):
    """A remote-like track fed by the test; None ends it."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.frames: asyncio.Queue[AudioFrame | VideoFrame | None] = asyncio.Queue()

    async def recv(self) -> AudioFrame | VideoFrame:
        frame = await self.frames.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        return frame

    def feed(self, frames: list[AudioFrame] | list[VideoFrame]) -> None:
        for frame in frames:
            self.frames.put_nowait(frame)


def audio_frames(seconds: float) -> list[AudioFrame]:
    frames = []
    for index in range(round(seconds * 50)):
        t = np.arange(index * 960, (index + 1) * 960) / 48_000
        wave = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(wave, 2).reshape(1, -1), layout="stereo")
        frame.sample_rate, frame.pts = 48_000, index * 960
        frame.time_base = fractions.Fraction(1, 48_000)
        frames.append(frame)
    return frames


def video_frames(seconds: float, width: int = 160, height: int = 120) -> list[VideoFrame]:
    frames = []
    for index in range(round(seconds * 30)):
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, (index * 4) % width] = 255
        frame = VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90_000)
        frames.append(frame)
    return frames


def decode(data: bytes) -> tuple[int, float]:
    """Frames decoded and seconds of media in one stored segment."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams[0]
        frames = list(container.decode(stream))
    if isinstance(frames[0], AudioFrame):
        return len(frames), sum(frame.samples for frame in frames) / 48_000
    return len(frames), float(frames[-1].time or 0.0)


class SegmentLog:
    def __init__(self, wanted: int) -> None:
        self.segments: list[RecordingSegment] = []
        self.enough = asyncio.Event()
        self._wanted = wanted

    def __call__(self, segment: RecordingSegment) -> None:
        self.segments.append(segment)
        if len(self.segments) >= self._wanted:
            self.enough.set()


@pytest.mark.parametrize(
    "key", ["../x", "/etc/passwd", "a/../../b", "a//b", "", "a/./b", "é", "a\\b"]
)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        validate_key(key)


async def test_the_local_store_puts_reads_lists_and_deletes(tmp_path: Path) -> None:
    store = LocalFolderBlobStore(tmp_path)
    await store.put("interviews/a/voice/1.ogg", b"one")
    await store.put("interviews/a/voice/2.ogg", b"two")
    await store.put("interviews/b/voice/1.ogg", b"other")

    assert await store.read("interviews/a/voice/2.ogg") == b"two"
    assert await store.list_keys("interviews/a/") == [
        "interviews/a/voice/1.ogg",
        "interviews/a/voice/2.ogg",
    ]
    assert len(await store.list_keys()) == 3
    await store.delete("interviews/a/voice/1.ogg")
    with pytest.raises(BlobNotFound):
        await store.read("interviews/a/voice/1.ogg")
    with pytest.raises(InvalidBlobKey):
        await store.put("../escape", b"x")
    with pytest.raises(InvalidBlobKey):
        await store.list_keys("../")
    hidden = await asyncio.to_thread(lambda: list(tmp_path.rglob(".*")))
    assert not hidden  # no temporary files left behind


async def test_audio_is_stored_as_playable_ogg_opus_segments(tmp_path: Path) -> None:
    store = LocalFolderBlobStore(tmp_path)
    track = QueueTrack("audio")
    recorder = SegmentedRecorder(track, store, "iv/candidate-audio", segment_seconds=1.0)
    recorder.start()
    track.feed(audio_frames(2.5))
    track.frames.put_nowait(None)
    await asyncio.wait_for(recorder.wait_finished(), 10)

    manifest = await recording_manifest(store, "iv/candidate-audio")
    assert [round(s.duration_seconds, 2) for s in manifest] == [1.0, 1.0, 0.5]
    assert [round(s.start_seconds - manifest[0].start_seconds, 2) for s in manifest] == [
        0.0,
        1.0,
        2.0,
    ]
    assert {s.media_type for s in manifest} == {"audio/ogg"}
    for segment in manifest:
        frames, seconds = decode(await store.read(segment.key))
        assert frames > 0 and seconds == pytest.approx(segment.duration_seconds, abs=0.03)


async def test_a_recorder_abandoned_without_stop_leaves_playable_segments(
    tmp_path: Path,
) -> None:
    store = LocalFolderBlobStore(tmp_path)
    track = QueueTrack("audio")
    stored = SegmentLog(wanted=2)
    recorder = SegmentedRecorder(
        track, store, "iv/agent-voice", segment_seconds=1.0, on_segment=stored
    )
    recorder.start()
    track.feed(audio_frames(2.5))
    await asyncio.wait_for(stored.enough.wait(), 10)

    # The "crash": nothing is stopped or flushed; the store alone must be playable.
    keys = await store.list_keys("iv/")
    assert len(keys) == 2
    for key in keys:
        frames, seconds = decode(await store.read(key))
        assert frames > 0 and seconds == pytest.approx(1.0, abs=0.03)

    track.frames.put_nowait(None)  # let the abandoned tasks end with the test
    await asyncio.wait_for(recorder.wait_finished(), 10)


async def test_video_is_stored_as_webm_segments_and_a_new_size_starts_one(
    tmp_path: Path,
) -> None:
    store = LocalFolderBlobStore(tmp_path)
    track = QueueTrack("video")
    recorder = SegmentedRecorder(
        track, store, "iv/candidate-video", segment_seconds=1.0, max_pending_frames=500
    )
    recorder.start()
    track.feed(video_frames(1.5))
    bigger = video_frames(0.5, width=320, height=240)
    for frame in bigger:
        frame.pts = (frame.pts or 0) + 45 * 3000
    track.feed(bigger)
    track.frames.put_nowait(None)
    await asyncio.wait_for(recorder.wait_finished(), 10)

    manifest = await recording_manifest(store, "iv/candidate-video")
    assert [s.media_type for s in manifest] == ["video/webm"] * 3
    sizes = []
    for segment in manifest:
        data = await store.read(segment.key)
        frames, _ = decode(data)
        with av.open(io.BytesIO(data)) as container:
            sizes.append((container.streams.video[0].width, frames))
    assert sizes == [(160, 30), (160, 15), (320, 15)]
    assert recorder.frames_dropped == 0
