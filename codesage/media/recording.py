"""Crash-tolerant recording: tracks written as short, complete Ogg/Opus or WebM/VP8 segments.

Each segment is a whole playable file put into a `BlobStore` once it is finished, so a killed
server loses at most the segment in progress. A segment's key carries its start offset and
duration, so the manifest is rebuilt from the key list alone, crash or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

from codesage.media.mono_audio import mono_s16

AUDIO_RATE = 48_000
_KEY = re.compile(r"[A-Za-z0-9._/-]{1,1024}")
_SEGMENT_NAME = re.compile(r"(?P<start>\d{10})-(?P<duration>\d{7})-[0-9a-f]{8}\.(?P<ext>ogg|webm)")
_MEDIA_TYPES = {"ogg": "audio/ogg", "webm": "video/webm"}

logger = logging.getLogger(__name__)


class InvalidBlobKey(ValueError):
    """A key that could escape the store or is not in the allowed alphabet."""


class BlobNotFound(KeyError):
    """No blob under this key."""


def validate_key(key: str, *, prefix: bool = False) -> str:
    """`key` if safe: [A-Za-z0-9._/-] only, relative, no empty, `.`-led or `..` segments.

    With `prefix`, an empty string and a trailing `/` are allowed too.
    """
    body = key[:-1] if prefix and key.endswith("/") else key
    if prefix and body == "":
        return key
    if not _KEY.fullmatch(body) or body.startswith("/"):
        raise InvalidBlobKey(f"invalid blob key {key!r}: use [A-Za-z0-9._/-], relative")
    # `.`-led segments also cover `.` and `..`, and keep hidden temporary files unreachable.
    if any(part == "" or part.startswith(".") for part in body.split("/")):
        raise InvalidBlobKey(f"invalid blob key {key!r}: empty, '.' or '..' segment")
    return key


class BlobStore(Protocol):
    """Where recordings live: whole blobs by key."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def read(self, key: str) -> bytes: ...

    async def list_keys(self, prefix: str = "") -> list[str]: ...

    async def delete(self, key: str) -> None: ...


class LocalFolderBlobStore:
    """Blobs as files under `root`; a put is atomic (temporary file, then rename)."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        """The folder holding the blobs."""
        return self._root

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing any earlier blob."""
        await asyncio.to_thread(self._write, self._path(key), data)

    async def read(self, key: str) -> bytes:
        """The blob under `key`; `BlobNotFound` if there is none."""
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def list_keys(self, prefix: str = "") -> list[str]:
        """Keys starting with `prefix`, sorted."""
        validate_key(prefix, prefix=True)
        return await asyncio.to_thread(self._list, prefix)

    async def delete(self, key: str) -> None:
        """Remove the blob under `key`; no error if there is none."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def _path(self, key: str) -> Path:
        path = self._root / validate_key(key)
        # Belt and braces: validation already rules out escaping through `..` or `/`.
        if not path.resolve().is_relative_to(self._root):
            raise InvalidBlobKey(f"invalid blob key {key!r}: outside the store")
        return path

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        try:
            with temporary.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def _list(self, prefix: str) -> list[str]:
        folder = self._root / prefix.rsplit("/", 1)[0] if "/" in prefix else self._root
        if not folder.is_dir():
            return []
        keys = []
        for path in folder.rglob("*"):
            key = path.relative_to(self._root).as_posix()
            if path.is_file() and not path.name.startswith(".") and key.startswith(prefix):
                keys.append(key)
        return sorted(keys)


@dataclass(frozen=True)
class RecordingSegment:
    """One playable file of a recording, placed on the interview's timeline."""

    key: str
    start_seconds: float
    duration_seconds: float
    media_type: str


def segment_key(
    prefix: str, start_seconds: float, duration_seconds: float, run: str, ext: str
) -> str:
    """`<prefix>/<start ms>-<duration ms>-<run>.<ext>`: sortable and self-describing."""
    start_ms, duration_ms = round(start_seconds * 1000), round(duration_seconds * 1000)
    return validate_key(f"{prefix}/{start_ms:010d}-{min(duration_ms, 9_999_999):07d}-{run}.{ext}")


async def recording_manifest(store: BlobStore, prefix: str) -> list[RecordingSegment]:
    """The segments under `prefix` in playback order, from their keys alone."""
    segments = []
    for key in await store.list_keys(prefix.rstrip("/") + "/"):
        match = _SEGMENT_NAME.fullmatch(key.rsplit("/", 1)[-1])
        if match is not None:
            segments.append(
                RecordingSegment(
                    key=key,
                    start_seconds=int(match["start"]) / 1000,
                    duration_seconds=int(match["duration"]) / 1000,
                    media_type=_MEDIA_TYPES[match["ext"]],
                )
            )
    return sorted(segments, key=lambda segment: (segment.start_seconds, segment.key))


async def recordings_by_track(store: BlobStore, prefix: str) -> dict[str, list[RecordingSegment]]:
    """Each track folder under `prefix` (candidate-audio, agent-voice, …) with its segments."""
    root = prefix.rstrip("/") + "/"
    tracks = {key[len(root) :].split("/", 1)[0] for key in await store.list_keys(root)}
    found = {track: await recording_manifest(store, root + track) for track in sorted(tracks)}
    return {track: segments for track, segments in found.items() if segments}


class _Segment(Protocol):
    extension: str

    @property
    def duration_seconds(self) -> float: ...

    def accepts(self, frame: AudioFrame | VideoFrame, media_time: float) -> bool: ...

    def add(self, frame: AudioFrame | VideoFrame, media_time: float) -> None: ...

    def finish(self) -> bytes: ...


class _OpusSegment:
    extension = "ogg"

    def __init__(self, max_seconds: float, bit_rate: int) -> None:
        self._max_samples = round(max_seconds * AUDIO_RATE)
        self._buffer = io.BytesIO()
        self._container: OutputContainer = av.open(self._buffer, mode="w", format="ogg")
        self._stream: AudioStream = self._container.add_stream(
            "libopus", rate=AUDIO_RATE, layout="mono"
        )
        self._stream.bit_rate = bit_rate
        self._samples = 0

    @property
    def duration_seconds(self) -> float:
        return self._samples / AUDIO_RATE

    def accepts(self, frame: AudioFrame | VideoFrame, media_time: float) -> bool:
        return self._samples < self._max_samples

    def add(self, frame: AudioFrame | VideoFrame, media_time: float) -> None:
        assert isinstance(frame, AudioFrame)
        mono = AudioFrame.from_ndarray(mono_s16(frame).reshape(1, -1), format="s16", layout="mono")
        mono.sample_rate = frame.sample_rate
        # Audio time is the sample count: contiguous, whatever the sender's timestamps do.
        mono.pts = round(self._samples * frame.sample_rate / AUDIO_RATE)
        mono.time_base = Fraction(1, frame.sample_rate)
        self._samples += round(frame.samples * AUDIO_RATE / frame.sample_rate)
        for packet in self._stream.encode(mono):
            self._container.mux(packet)

    def finish(self) -> bytes:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._buffer.getvalue()


class _Vp8Segment:
    extension = "webm"

    def __init__(self, max_seconds: float, bit_rate: int) -> None:
        self._max_seconds = max_seconds
        self._bit_rate = bit_rate
        self._buffer = io.BytesIO()
        self._container: OutputContainer = av.open(self._buffer, mode="w", format="webm")
        self._stream: VideoStream | None = None
        self._first_time = 0.0
        self._last_pts = -1
        self._frame_interval = 1 / 30

    @property
    def duration_seconds(self) -> float:
        return 0.0 if self._last_pts < 0 else self._last_pts / 1000 + self._frame_interval

    def accepts(self, frame: AudioFrame | VideoFrame, media_time: float) -> bool:
        if self._stream is None:
            return True
        assert isinstance(frame, VideoFrame)
        size = (frame.width - frame.width % 2, frame.height - frame.height % 2)
        # A new size needs a new encoder, hence a new segment (browsers adapt resolution).
        same_size = size == (self._stream.width, self._stream.height)
        return same_size and media_time - self._first_time < self._max_seconds

    def add(self, frame: AudioFrame | VideoFrame, media_time: float) -> None:
        assert isinstance(frame, VideoFrame)
        width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
        if self._stream is None:
            self._stream = self._open_stream(width, height)
            self._first_time = media_time
        # A copy of our own: the relay shares this frame with other readers, and encoding
        # rewrites a frame's timestamps.
        converted = frame.reformat(width=width, height=height, format="yuv420p")
        copy = VideoFrame.from_ndarray(converted.to_ndarray(), format="yuv420p")
        pts = max(round((media_time - self._first_time) * 1000), self._last_pts + 1)
        if self._last_pts >= 0:
            self._frame_interval = min(max((pts - self._last_pts) / 1000, 0.001), 1.0)
        copy.pts, copy.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self._stream.encode(copy):
            self._container.mux(packet)

    def finish(self) -> bytes:
        if self._stream is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        self._container.close()
        return self._buffer.getvalue()

    def _open_stream(self, width: int, height: int) -> VideoStream:
        # One thread: libvpx's default threading cost 20x the CPU for the same frames here.
        options = {"deadline": "realtime", "cpu-used": "8", "threads": "1", "lag-in-frames": "0"}
        stream: VideoStream = self._container.add_stream("libvpx", rate=30, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = self._bit_rate
        stream.codec_context.time_base = Fraction(1, 1000)
        return stream


@dataclass(frozen=True)
class _FinishedSegment:
    start_seconds: float
    duration_seconds: float
    extension: str
    data: bytes


_END = None


class SegmentedRecorder:
    """Records one track into `<prefix>/…` segments of about `segment_seconds` each.

    Frames are read on the loop and encoded in `executor`. A recorder that falls behind drops
    frames (counted in `frames_dropped`) instead of holding an unbounded backlog.
    """

    def __init__(
        self,
        track: MediaStreamTrack,
        store: BlobStore,
        prefix: str,
        *,
        origin: float | None = None,
        segment_seconds: float = 10.0,
        executor: Executor | None = None,
        audio_bit_rate: int = 32_000,
        video_bit_rate: int = 500_000,
        max_pending_frames: int | None = None,
        on_segment: Callable[[RecordingSegment], None] | None = None,
    ) -> None:
        if track.kind not in ("audio", "video"):
            raise ValueError(f"cannot record a {track.kind} track")
        self._track = track
        self._store = store
        self._prefix = validate_key(prefix.rstrip("/"))
        self._origin = origin
        self._segment_seconds = segment_seconds
        self._executor = executor
        self._on_segment = on_segment
        self._bit_rate = audio_bit_rate if track.kind == "audio" else video_bit_rate
        pending = max_pending_frames or (500 if track.kind == "audio" else 60)
        self._frames: asyncio.Queue[tuple[AudioFrame | VideoFrame, float] | None] = asyncio.Queue(
            maxsize=pending
        )
        self._run = uuid.uuid4().hex[:8]
        self._segment: _Segment | None = None
        self._next_start: float | None = None
        self._keys: list[str] = []
        self._frames_dropped = 0
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    @property
    def keys(self) -> list[str]:
        """Keys of the segments stored so far."""
        return list(self._keys)

    @property
    def frames_dropped(self) -> int:
        """Frames skipped because encoding fell behind."""
        return self._frames_dropped

    def start(self) -> None:
        """Start reading and encoding in tasks of their own."""
        if self._reader is None:
            if self._origin is None:
                self._origin = time.time()
            self._reader = asyncio.create_task(self._read(), name=f"record-read-{self._prefix}")
            self._writer = asyncio.create_task(self._write(), name=f"record-write-{self._prefix}")

    async def stop(self) -> None:
        """Stop reading, finish the segment in progress and store it."""
        if self._reader is None or self._writer is None:
            return
        if not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            await self._frames.put(_END)
        await self._writer

    async def wait_finished(self) -> None:
        """Until the track has ended and the last segment is stored."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _read(self) -> None:
        while True:
            try:
                frame = await self._track.recv()
            except MediaStreamError:
                break
            if not isinstance(frame, AudioFrame | VideoFrame):
                continue
            if self._next_start is None:
                assert self._origin is not None
                self._next_start = max(time.time() - self._origin, 0.0)
            # Timestamps are read now: another reader of a shared frame may rewrite them.
            media_time = frame.time if frame.time is not None else time.monotonic()
            try:
                self._frames.put_nowait((frame, media_time))
            except asyncio.QueueFull:
                self._frames_dropped += 1
        await self._frames.put(_END)

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        ended = False
        while not ended:
            batch = [await self._frames.get()]
            while not self._frames.empty():
                batch.append(self._frames.get_nowait())
            ended = _END in batch
            frames = [item for item in batch if item is not None]
            try:
                finished = await loop.run_in_executor(self._executor, self._encode, frames, ended)
            except Exception:
                # A broken segment must not stop the recording: drop it, start a fresh one.
                logger.exception("recording %s: encoding failed", self._prefix)
                self._segment = None
                continue
            for segment in finished:
                await self._store_segment(segment)

    def _encode(
        self, frames: list[tuple[AudioFrame | VideoFrame, float]], ended: bool
    ) -> list[_FinishedSegment]:
        finished = []
        for frame, media_time in frames:
            if self._segment is not None and not self._segment.accepts(frame, media_time):
                finished.append(self._close_segment())
            if self._segment is None:
                self._segment = self._open_segment()
            self._segment.add(frame, media_time)
        if ended and self._segment is not None:
            finished.append(self._close_segment())
        return finished

    def _open_segment(self) -> _Segment:
        if self._track.kind == "audio":
            return _OpusSegment(self._segment_seconds, self._bit_rate)
        return _Vp8Segment(self._segment_seconds, self._bit_rate)

    def _close_segment(self) -> _FinishedSegment:
        assert self._segment is not None and self._next_start is not None
        segment, self._segment = self._segment, None
        start, duration = self._next_start, segment.duration_seconds
        self._next_start = start + duration
        return _FinishedSegment(start, duration, segment.extension, segment.finish())

    async def _store_segment(self, segment: _FinishedSegment) -> None:
        if segment.duration_seconds <= 0:
            return
        key = segment_key(
            self._prefix,
            segment.start_seconds,
            segment.duration_seconds,
            self._run,
            segment.extension,
        )
        try:
            await self._store.put(key, segment.data)
        except Exception:
            logger.exception("recording %s: storing %s failed", self._prefix, key)
            return
        self._keys.append(key)
        if self._on_segment is not None:
            media_type = _MEDIA_TYPES[segment.extension]
            self._on_segment(
                RecordingSegment(key, segment.start_seconds, segment.duration_seconds, media_type)
            )
