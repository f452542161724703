"""WebRTC peers: the candidate's (audio in, voice out, recording) and observers' (live relay).

Signalling transport stays outside: callers pass SDP strings and ICE candidate dicts. aiortc
does not trickle its own candidates; they are all in the SDP it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame
from av.frame import Frame
from av.packet import Packet

from codesage.config.settings import IceServer
from codesage.media.audio_in import (
    CandidateAudioReader,
    EndCallback,
    StallCallback,
    WindowCallback,
)
from codesage.media.mono_audio import MonoAudioTrack
from codesage.media.recording import BlobStore, SegmentedRecorder

MAX_SDP_CHARS = 64 * 1024
CLOSE_WAIT_SECONDS = 2.0
"""How long `close()` waits for the audio reader to deliver the last audio."""

ClosedCallback = Callable[[str], None]
TrackCallback = Callable[[MediaStreamTrack], None]

logger = logging.getLogger(__name__)


class SignallingError(Exception):
    """An offer, answer or ICE candidate that cannot be used; the message says why."""


@dataclass(frozen=True)
class RecordingTarget:
    """Where and how a candidate peer records: keys go under `prefix` (say `interviews/<id>`)."""

    store: BlobStore
    prefix: str
    origin: float
    """Wall-clock time (time.time()) of the recording timeline's zero, shared by all tracks."""
    segment_seconds: float = 10.0
    executor: Executor | None = None


class SilenceFilledAudio(MediaStreamTrack):
    """An audio track for a recorder: the source's frames with its gaps filled with silence.

    A recording's audio timeline is its sample count, but the agent's voice sends nothing
    while the agent is silent; its `pts` jumps across the gap instead. Here a jump in `pts`
    becomes that much silence before the next frame (a frame that overlaps audio already
    given is trimmed), and after `fill_after_s` without any frame the silence so far, less
    `margin_s`, is given at once (in frames of up to a second), so that segments keep being
    finished while the agent is quiet. The recorder encodes silence this way, in big frames
    off the event loop; the network never does. Frames keep the source's rate and layout.
    """

    kind = "audio"

    def __init__(
        self,
        source: MediaStreamTrack,
        *,
        fill_after_s: float = 1.0,
        margin_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._source = source
        self._fill_after_s = fill_after_s
        self._margin_s = margin_s
        self._clock = clock
        self._next: asyncio.Task[Frame | Packet[Any]] | None = None
        self._ready: deque[AudioFrame] = deque()
        self._end: int | None = None
        """Where the audio given so far ends, in samples on the source's timeline."""
        self._rate = 48_000
        self._layout = "mono"
        self._channels = 1
        self._last_end = 0
        self._last_at = 0.0

    async def recv(self) -> AudioFrame:
        """The next frame: the source's, or silence standing in for a gap."""
        while not self._ready:
            if self.readyState != "live":
                raise MediaStreamError
            frame = await self._source_frame()
            if frame is None:
                self._fill_until_now()
            elif isinstance(frame, AudioFrame):
                self._place(frame)
        return self._ready.popleft()

    def stop(self) -> None:
        super().stop()
        if self._next is not None:
            self._next.cancel()
            self._next = None

    async def _source_frame(self) -> Frame | Packet[Any] | None:
        """The source's next frame, or None after `fill_after_s` without one."""
        waiting = self._next
        if waiting is None:
            waiting = self._next = asyncio.ensure_future(self._source.recv())
        timeout = None if self._end is None else self._fill_after_s
        try:
            done, _ = await asyncio.wait({waiting}, timeout=timeout)
        except asyncio.CancelledError:
            waiting.cancel()  # a relay's recv can be cancelled without losing a frame
            self._next = None
            raise
        if not done:
            return None  # still waiting: the same recv goes on next time
        self._next = None
        if waiting.cancelled():
            raise MediaStreamError  # stopped while waiting
        try:
            return waiting.result()
        except MediaStreamError:
            self.stop()
            raise

    def _place(self, frame: AudioFrame) -> None:
        rate = frame.sample_rate
        start = self._end if self._end is not None else 0
        if frame.pts is not None and frame.time_base is not None:
            start = round(frame.pts * frame.time_base * rate)
        if self._end is None:
            self._end = start  # the recording's timeline starts with the first frame
        self._rate, self._layout = rate, frame.layout.name
        self._channels = len(frame.layout.channels)
        self._silence(start - self._end)
        skip = self._end - start
        self._last_end, self._last_at = start + frame.samples, self._clock()
        if skip >= frame.samples:
            return  # all of it is already on the timeline (filled with silence too early)
        if skip > 0:
            frame = _trimmed(frame, skip)
        self._ready.append(frame)
        self._end = start + skip + frame.samples

    def _fill_until_now(self) -> None:
        if self._end is None:
            return
        elapsed = self._clock() - self._last_at - self._margin_s
        self._silence(self._last_end + round(elapsed * self._rate) - self._end)

    def _silence(self, samples: int) -> None:
        assert self._end is not None
        while samples > 0:
            count = min(samples, self._rate)  # up to a second per frame
            zeros = np.zeros((1, count * self._channels), np.int16)
            frame = AudioFrame.from_ndarray(zeros, format="s16", layout=self._layout)
            frame.sample_rate, frame.pts = self._rate, self._end
            frame.time_base = Fraction(1, self._rate)
            self._ready.append(frame)
            self._end += count
            samples -= count


def _trimmed(frame: AudioFrame, skip: int) -> AudioFrame:
    """`frame` without its first `skip` samples (a new frame: relayed frames are shared)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    kept = data[:, skip:] if frame.format.is_planar else data[:, skip * channels :]
    out = AudioFrame.from_ndarray(kept, format=frame.format.name, layout=frame.layout.name)
    out.sample_rate = frame.sample_rate
    if frame.pts is not None and frame.time_base is not None:
        out.pts = round(frame.pts * frame.time_base * frame.sample_rate) + skip
        out.time_base = Fraction(1, frame.sample_rate)
    return out


def rtc_configuration(ice_servers: Sequence[IceServer]) -> RTCConfiguration:
    """aiortc configuration; an empty list stops aiortc from falling back to Google's STUN."""
    servers = [
        RTCIceServer(urls=server.urls, username=server.username, credential=server.credential)
        for server in ice_servers
    ]
    return RTCConfiguration(iceServers=servers)


def _checked_sdp(sdp: object, what: str) -> str:
    if not isinstance(sdp, str) or not sdp.lstrip().startswith("v=0"):
        raise SignallingError(f"malformed SDP {what}: it must be a string starting with 'v=0'")
    if len(sdp) > MAX_SDP_CHARS:
        raise SignallingError(f"malformed SDP {what}: longer than {MAX_SDP_CHARS} characters")
    return sdp


async def _drain(track: MediaStreamTrack) -> None:
    # A remote track nobody reads grows an unbounded queue inside aiortc.
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()


class _ManagedPeer:
    """An RTCPeerConnection that closes itself on failure, closure or an ICE-connect timeout."""

    def __init__(
        self,
        ice_servers: Sequence[IceServer],
        relay: MediaRelay,
        *,
        ice_connect_timeout: float,
        on_closed: ClosedCallback | None,
    ) -> None:
        self._pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self._relay = relay
        self._ice_connect_timeout = ice_connect_timeout
        self._on_closed = on_closed
        self._connected = asyncio.Event()
        self._closed = asyncio.Event()
        self._close_reason: str | None = None
        self._proxies: list[MediaStreamTrack] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._pc.on("connectionstatechange", self._on_connection_state)

    @property
    def connected(self) -> asyncio.Event:
        """Set once ICE and DTLS are up."""
        return self._connected

    @property
    def closed(self) -> asyncio.Event:
        """Set once the peer is closed and its media released."""
        return self._closed

    @property
    def close_reason(self) -> str | None:
        """Why the peer closed: hang-up, failed, closed, ice-timeout, bad-offer, …"""
        return self._close_reason

    @property
    def connection(self) -> RTCPeerConnection:
        """The underlying aiortc peer connection (for stats)."""
        return self._pc

    async def add_ice_candidate(self, candidate: Mapping[str, object]) -> None:
        """Add a browser's trickled candidate (`RTCIceCandidate.toJSON()`); empty means done."""
        text = candidate.get("candidate")
        if text is None or text == "":
            return  # end of candidates; aiortc needs nothing
        mid, index = candidate.get("sdpMid"), candidate.get("sdpMLineIndex")
        if not isinstance(text, str) or len(text) > 1024:
            raise SignallingError("malformed ICE candidate: 'candidate' must be a short string")
        if not isinstance(mid, str | None) or not isinstance(index, int | None):
            raise SignallingError("malformed ICE candidate: bad 'sdpMid' or 'sdpMLineIndex'")
        if mid is None and index is None:
            raise SignallingError("malformed ICE candidate: needs 'sdpMid' or 'sdpMLineIndex'")
        try:
            ice = candidate_from_sdp(text.removeprefix("candidate:"))
        except (AssertionError, ValueError, IndexError) as exc:
            raise SignallingError(f"malformed ICE candidate {text!r}") from exc
        ice.sdpMid, ice.sdpMLineIndex = mid, index
        try:
            await self._pc.addIceCandidate(ice)
        except Exception as exc:
            raise SignallingError(f"ICE candidate refused: {exc}") from exc

    async def close(self, reason: str = "hang-up") -> None:
        """Close the connection and release media; safe to call more than once."""
        if self._close_reason is not None:
            await self._closed.wait()
            return
        self._close_reason = reason
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        try:
            await self._pc.close()
            await self._release()
        finally:
            for proxy in self._proxies:
                proxy.stop()
            self._closed.set()
            if self._on_closed is not None:
                self._on_closed(reason)

    def _on_connected(self) -> None:
        """Hook: the connection is up."""

    async def _release(self) -> None:
        """Hook: stop what the subclass started, after the connection is closed."""

    def _subscribe(self, track: MediaStreamTrack, *, buffered: bool) -> MediaStreamTrack:
        proxy = self._relay.subscribe(track, buffered=buffered)
        self._proxies.append(proxy)
        return proxy

    def _spawn(self, coroutine: Coroutine[object, object, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _watch_ice(self) -> None:
        self._spawn(self._close_unless_connected(), "peer-ice-timeout")

    async def _close_unless_connected(self) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), self._ice_connect_timeout)
        except TimeoutError:
            logger.info("peer did not connect within %.1f s", self._ice_connect_timeout)
            await self.close("ice-timeout")

    async def _on_connection_state(self) -> None:
        state = self._pc.connectionState
        if state == "connected" and not self._connected.is_set():
            self._connected.set()
            self._on_connected()
        elif state in ("failed", "closed") and self._close_reason is None:
            # Closed from a task of its own: aiortc is inside its state update right now.
            self._spawn(self.close(state), f"peer-close-{state}")


class CandidatePeer(_ManagedPeer):
    """The candidate's browser: audio (+ video) in, the agent's voice out.

    The first remote audio track feeds a `CandidateAudioReader` (`on_audio_stall` runs when
    no audio came for `audio_stall_timeout`: a browser's `track.stop()` ends nothing here);
    remote tracks, and the voice sent, are recorded when a `RecordingTarget` is given (the
    voice sends nothing while the agent is silent: its recording gets that silence from a
    `SilenceFilledAudio`). Every track is read through `relay`, so observers subscribe to what
    is already decoded; the candidate's audio as mono copies (`MonoAudioTrack`), so that what
    readers queue stays small. The voice track and the relay outlive the peer (a reconnect makes a
    new peer over them).
    """

    def __init__(
        self,
        *,
        ice_servers: Sequence[IceServer],
        voice: MediaStreamTrack,
        relay: MediaRelay,
        on_audio_window: WindowCallback,
        on_audio_end: EndCallback | None = None,
        on_audio_stall: StallCallback | None = None,
        audio_stall_timeout: float = 3.0,
        recording: RecordingTarget | None = None,
        ice_connect_timeout: float = 15.0,
        on_remote_track: TrackCallback | None = None,
        on_closed: ClosedCallback | None = None,
    ) -> None:
        super().__init__(
            ice_servers, relay, ice_connect_timeout=ice_connect_timeout, on_closed=on_closed
        )
        self._voice = voice
        self._on_audio_window = on_audio_window
        self._on_audio_end = on_audio_end
        self._on_audio_stall = on_audio_stall
        self._audio_stall_timeout = audio_stall_timeout
        self._recording = recording
        self._on_remote_track = on_remote_track
        self._audio: MediaStreamTrack | None = None
        self._video: MediaStreamTrack | None = None
        self._reader: CandidateAudioReader | None = None
        self._recorders: list[SegmentedRecorder] = []
        self._offered = False
        self._waiting_tracks: list[MediaStreamTrack] = []
        self._pc.on("track", self._on_track)

    @property
    def candidate_audio(self) -> MediaStreamTrack | None:
        """The candidate's microphone track (the relay's source), once it arrived."""
        return self._audio

    @property
    def candidate_video(self) -> MediaStreamTrack | None:
        """The candidate's camera track (the relay's source), once it arrived."""
        return self._video

    @property
    def audio_reader(self) -> CandidateAudioReader | None:
        """The reader of the candidate's audio, once the track arrived."""
        return self._reader

    @property
    def recorders(self) -> list[SegmentedRecorder]:
        """Recorders started by this peer."""
        return list(self._recorders)

    async def accept_offer(self, sdp: str) -> str:
        """The SDP answer to the browser's offer; `SignallingError` (peer closed) if unusable."""
        if self._offered:
            raise SignallingError("this peer already has an offer; make a new peer to renegotiate")
        self._offered = True
        try:
            offer = _checked_sdp(sdp, "offer")
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            if not any(t.kind == "audio" for t in self._pc.getTransceivers()):
                raise SignallingError("malformed SDP offer: it offers no audio")
            # Buffered: the voice is paced, so the queue only holds what arrives while the
            # sender is busy (a frame encoded late plays fine; one overwritten is a gap), and
            # after a quiet gap the silent lead-in and the first words come back to back.
            self._pc.addTrack(self._subscribe(self._voice, buffered=True))
            await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:
            await self.close("bad-offer")
            if isinstance(exc, SignallingError):
                raise
            raise SignallingError(f"malformed SDP offer: {exc}") from exc
        self._watch_ice()
        return self._pc.localDescription.sdp

    def _on_track(self, track: MediaStreamTrack) -> None:
        # aiortc announces remote tracks with the offer; reading one before the connection is
        # up would park a relay task on a track that never ends if ICE never completes.
        if self._connected.is_set():
            self._consume(track)
        else:
            self._waiting_tracks.append(track)

    def _on_connected(self) -> None:
        # The voice sends nothing while the agent is silent; its recording gets the silence.
        self._record(self._voice, "agent-voice", fill_gaps=True)
        tracks, self._waiting_tracks = self._waiting_tracks, []
        for track in tracks:
            self._consume(track)

    def _consume(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._audio is None:
            track = self._audio = MonoAudioTrack(track)
            self._reader = CandidateAudioReader(
                self._subscribe(track, buffered=True),
                self._on_audio_window,
                on_end=self._on_audio_end,
                on_stall=self._on_audio_stall,
                stall_timeout=self._audio_stall_timeout if self._on_audio_stall else None,
            )
            self._reader.start()
            self._record(track, "candidate-audio")
        elif track.kind == "video" and self._video is None:
            self._video = track
            if not self._record(track, "candidate-video"):
                self._spawn(_drain(self._subscribe(track, buffered=False)), "peer-video-drain")
        else:
            self._spawn(_drain(track), f"peer-{track.kind}-drain")
            return
        if self._on_remote_track is not None:
            self._on_remote_track(track)

    def _record(self, track: MediaStreamTrack, name: str, *, fill_gaps: bool = False) -> bool:
        if self._recording is None:
            return False
        target = self._recording
        source = self._subscribe(track, buffered=True)
        if fill_gaps:
            source = SilenceFilledAudio(source)
            self._proxies.append(source)  # stopped with the peer, like the relay's proxies
        recorder = SegmentedRecorder(
            source,
            target.store,
            f"{target.prefix.rstrip('/')}/{name}",
            origin=target.origin,
            segment_seconds=target.segment_seconds,
            executor=target.executor,
        )
        recorder.start()
        self._recorders.append(recorder)
        return True

    async def _release(self) -> None:
        reader = self._reader
        if reader is not None:
            # Closing ended the remote track; let the reader hand on the last audio.
            try:
                await asyncio.wait_for(reader.ended.wait(), CLOSE_WAIT_SECONDS)
            except TimeoutError:
                await reader.stop()
        await asyncio.gather(*(recorder.stop() for recorder in self._recorders))


class ObserverPeer(_ManagedPeer):
    """A watcher's receive-only peer fed from the relay, with no extra decoding.

    The server offers three send-only transceivers in a fixed order: candidate audio, agent
    voice, candidate video. A track that arrives later is attached with `attach()`.
    Subscriptions are unbuffered: a slow observer skips frames instead of lagging behind.
    """

    def __init__(
        self,
        *,
        ice_servers: Sequence[IceServer],
        relay: MediaRelay,
        voice: MediaStreamTrack,
        candidate_audio: MediaStreamTrack | None = None,
        candidate_video: MediaStreamTrack | None = None,
        ice_connect_timeout: float = 15.0,
        on_closed: ClosedCallback | None = None,
    ) -> None:
        super().__init__(
            ice_servers, relay, ice_connect_timeout=ice_connect_timeout, on_closed=on_closed
        )
        self._audio_slot = self._add_slot("audio", candidate_audio)
        self._voice_slot = self._add_slot("audio", voice)
        self._video_slot = self._add_slot("video", candidate_video)
        self._offered = False

    async def create_offer(self) -> str:
        """The SDP offer for the observer's browser."""
        if self._offered:
            raise SignallingError("this observer peer already made its offer")
        self._offered = True
        await self._pc.setLocalDescription(await self._pc.createOffer())
        self._watch_ice()
        return self._pc.localDescription.sdp

    async def accept_answer(self, sdp: str) -> None:
        """Apply the observer's answer; `SignallingError` (peer closed) if unusable."""
        try:
            answer = _checked_sdp(sdp, "answer")
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        except Exception as exc:
            await self.close("bad-answer")
            if isinstance(exc, SignallingError):
                raise
            raise SignallingError(f"malformed SDP answer: {exc}") from exc

    def attach(self, track: MediaStreamTrack) -> None:
        """Send a candidate track that arrived after this peer was made."""
        slot = self._audio_slot if track.kind == "audio" else self._video_slot
        previous = slot.sender.track
        slot.sender.replaceTrack(self._subscribe(track, buffered=False))
        if previous is not None:
            previous.stop()

    def _add_slot(self, kind: str, track: MediaStreamTrack | None) -> RTCRtpTransceiver:
        source = kind if track is None else self._subscribe(track, buffered=False)
        return self._pc.addTransceiver(source, direction="sendonly")
