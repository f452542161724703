"""WebRTC peers over loopback: audio in, voice out, barge-in, bad input, recording, observers.

The agent's voice sends no RTP while the agent is silent; its RTP timestamps jump the gap.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import (
    AudioStreamTrack,
    MediaStreamError,
    MediaStreamTrack,
    VideoStreamTrack,
)
from av import AudioFrame, VideoFrame

from codesage.agents.text_to_speech import SpeechChunk, split_sentences
from codesage.media.peer import (
    CandidatePeer,
    ObserverPeer,
    RecordingTarget,
    SignallingError,
    SilenceFilledAudio,
)
from codesage.media.recording import (
    LocalFolderBlobStore,
    recording_manifest,
    recordings_by_track,
)
from codesage.media.voice_out import AgentVoiceTrack

QUESTION = "First sentence here. Second sentence here. Third sentence here. Fourth one here."
WAIT = 10.0


class ToneSpeech:
    """Half a second of 300 Hz tone per sentence: deterministic, instant text-to-speech."""

    sample_rate = 22_050
    tone = (8000 * np.sin(2 * np.pi * 300 * np.arange(11_025) / 22_050)).astype(np.int16)

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]:
        for index, sentence in enumerate(split_sentences(text)):
            yield SpeechChunk(index, sentence, self.tone, self.sample_rate)

    def presynthesize(self, text: str) -> None:
        pass


class ToneTrack(AudioStreamTrack):
    """The candidate's microphone: a 440 Hz tone, paced by aiortc's own audio track."""

    async def recv(self) -> AudioFrame:
        tick = await super().recv()  # 8 kHz silence at real-time pace
        start = int(tick.pts or 0) * 6
        t = np.arange(start, start + 960) / 48_000
        wave = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48_000, start, tick.time_base / 6
        return frame


class SmallVideoTrack(VideoStreamTrack):
    """The candidate's camera: small frames so that encoding stays cheap."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame.from_ndarray(np.zeros((120, 160, 3), np.uint8), format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Listener:
    """Reads every audio track a client receives and notes which frames carried sound."""

    def __init__(self) -> None:
        self.loud: list[bool] = []
        self.pts: list[int] = []
        self.frames_by_mid: dict[str, int] = {}
        self.changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def attach(self, pc: RTCPeerConnection) -> None:
        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            mid = next(t.mid for t in pc.getTransceivers() if t.receiver.track is track)
            self._tasks.append(asyncio.create_task(self._read(track, str(mid))))

    async def _read(self, track: MediaStreamTrack, mid: str) -> None:
        try:
            while True:
                frame = await track.recv()
                self.frames_by_mid[mid] = self.frames_by_mid.get(mid, 0) + 1
                if isinstance(frame, AudioFrame) and mid == self.voice_mid:
                    self.loud.append(bool(np.abs(frame.to_ndarray()).max() > 300))
                    self.pts.append(int(frame.pts or 0))
                self.changed.set()
        except MediaStreamError:
            pass

    voice_mid = "0"

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


class Windows:
    def __init__(self) -> None:
        self.windows: list[npt.NDArray[np.float32]] = []
        self.enough = asyncio.Event()
        self.ended = asyncio.Event()
        self.wanted = 30

    async def on_window(self, window: npt.NDArray[np.float32]) -> None:
        self.windows.append(window)
        if len(self.windows) >= self.wanted:
            self.enough.set()

    async def on_end(self) -> None:
        self.ended.set()


@pytest.fixture
async def pcs() -> AsyncIterator[list[RTCPeerConnection | CandidatePeer | ObserverPeer]]:
    opened: list[RTCPeerConnection | CandidatePeer | ObserverPeer] = []
    yield opened
    for pc in reversed(opened):
        await pc.close()


def client_pc(*, audio: bool = True, video: bool = False) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if audio:
        pc.addTrack(ToneTrack())
    if video:
        pc.addTrack(SmallVideoTrack())
    return pc


async def offer_of(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def connect(peer: CandidatePeer, client: RTCPeerConnection) -> None:
    answer = await peer.accept_offer(await offer_of(client))
    await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.wait_for(peer.connected.wait(), WAIT)


def candidate_peer(
    voice: AgentVoiceTrack, windows: Windows, **options: object
) -> tuple[CandidatePeer, MediaRelay]:
    relay = MediaRelay()
    peer = CandidatePeer(
        ice_servers=[],
        voice=voice,
        relay=relay,
        on_audio_window=windows.on_window,
        on_audio_end=windows.on_end,
        **options,  # type: ignore[arg-type]
    )
    return peer, relay


def dominant_hz(audio: npt.NDArray[np.float32]) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1 / 16_000)[int(np.argmax(spectrum))])


def decodes(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(container.streams[0]))


async def test_the_server_receives_the_candidate_audio_at_16k(pcs: list) -> None:
    windows = Windows()
    peer, _ = candidate_peer(AgentVoiceTrack(ToneSpeech()), windows)
    client = client_pc()
    pcs += [client, peer]
    await connect(peer, client)
    await asyncio.wait_for(windows.enough.wait(), WAIT)

    audio = np.concatenate(windows.windows)
    assert {len(window) for window in windows.windows} == {512}
    assert abs(dominant_hz(audio[-8192:]) - 440) < 5


async def test_the_client_hears_the_voice_and_barge_in_cuts_it_within_300_ms(
    pcs: list,
) -> None:
    voice = AgentVoiceTrack(ToneSpeech())
    peer, _ = candidate_peer(voice, Windows())
    client, listener = client_pc(), Listener()
    listener.attach(client)
    pcs += [client, peer]
    await connect(peer, client)

    said = asyncio.create_task(voice.say("q1", QUESTION))
    await listener.until(lambda: sum(listener.loud) >= 20)
    heard_before_cut = len(listener.loud)
    played = voice.interrupt()

    assert played is not None and not played.complete
    assert 0 < len(played.text_played) < len(QUESTION)
    assert QUESTION.startswith(played.text_played.rsplit(" ", 1)[0])
    assert await said == played

    def quiet_again() -> bool:
        # The hangover's silent frames come last: nothing is sent after them.
        tail = listener.loud[heard_before_cut:]
        return bool(tail) and not tail[-1]

    await listener.until(quiet_again)
    loud_after_cut = sum(listener.loud[heard_before_cut:])
    assert loud_after_cut <= 15  # 15 frames of 20 ms: 300 ms of audio time


async def until_quiet_and_heard(voice: AgentVoiceTrack, listener: Listener) -> None:
    """Until the voice has sent its hangover and the client got it (aiortc's receiver holds
    its last four packets back until later ones come)."""
    await listener.until(lambda: voice.quiet and len(listener.loud) >= voice.frames_sent - 4)


async def packets_sent(pc: RTCPeerConnection) -> int:
    sender = next(s for s in pc.getSenders() if s.track is not None and s.track.kind == "audio")
    stats = await sender.getStats()
    return sum(s.packetsSent for s in stats.values() if getattr(s, "type", "") == "outbound-rtp")


async def test_the_voice_sends_nothing_while_the_agent_is_silent(pcs: list) -> None:
    started: list[float] = []
    voice = AgentVoiceTrack(ToneSpeech(), on_first_frame=lambda _: started.append(time.monotonic()))
    peer, _ = candidate_peer(voice, Windows())
    client, listener = client_pc(), Listener()
    listener.attach(client)
    pcs += [client, peer]
    await connect(peer, client)

    async def say_and_hear(utterance_id: str) -> None:
        await voice.say(utterance_id, "One sentence.")
        await until_quiet_and_heard(voice, listener)
        # Every frame made was sent: none was lost in the relay.
        assert await packets_sent(peer.connection) == voice.frames_sent

    async def nothing_sent_for_half_a_second() -> None:
        sent, frames = await packets_sent(peer.connection), voice.frames_sent
        await asyncio.sleep(0.5)  # streaming silence would be 25 packets
        assert await packets_sent(peer.connection) == sent == frames == voice.frames_sent

    await nothing_sent_for_half_a_second()
    assert voice.frames_sent == 0 and not listener.loud
    await say_and_hear("a")
    await nothing_sent_for_half_a_second()
    await asyncio.sleep(0.5)
    first_frames = len(listener.loud)
    await say_and_hear("b")

    assert sum(listener.loud) >= 46 and voice.frames_sent < 80
    # The RTP timestamps (the client's pts) jump the quiet gap as the wall clock did.
    onset_a = listener.pts[listener.loud.index(True)]
    onset_b = listener.pts[listener.loud.index(True, first_frames)]
    assert (onset_b - onset_a) / 48_000 == pytest.approx(started[1] - started[0], abs=0.05)


async def test_the_voice_recording_keeps_the_quiet_gaps_on_its_timeline(
    pcs: list, tmp_path: Path
) -> None:
    started: list[float] = []
    voice = AgentVoiceTrack(ToneSpeech(), on_first_frame=lambda _: started.append(time.monotonic()))
    store = LocalFolderBlobStore(tmp_path)
    origin = time.time()
    target = RecordingTarget(store, "interviews/i3", origin=origin, segment_seconds=1.0)
    peer, _ = candidate_peer(voice, Windows(), recording=target)
    client, listener = client_pc(), Listener()
    listener.attach(client)
    pcs += [client, peer]
    await connect(peer, client)
    await asyncio.sleep(0.3)
    spoken_at = time.time()
    await voice.say("a", "One sentence.")
    await asyncio.sleep(1.6)  # longer than the recorder's wait before it fills silence
    await voice.say("b", "Another one.")
    await until_quiet_and_heard(voice, listener)
    await peer.close()

    segments = await recording_manifest(store, "interviews/i3/agent-voice")
    # The agent's recording starts when it first spoke, and has segments while it was quiet.
    assert segments[0].start_seconds == pytest.approx(spoken_at - origin, abs=0.1)
    assert len(segments) >= 2
    for before, after in itertools.pairwise(segments):
        assert after.start_seconds == pytest.approx(
            before.start_seconds + before.duration_seconds, abs=0.002
        )
    audio = np.concatenate([await decoded(store, segment.key) for segment in segments])
    loud = np.abs(audio) > 0.1
    onset_a = int(np.argmax(loud))
    onset_b = onset_a + 24_000 + int(np.argmax(loud[onset_a + 24_000 + 4800 :])) + 4800
    assert (onset_b - onset_a) / 48_000 == pytest.approx(started[1] - started[0], abs=0.05)


async def decoded(store: LocalFolderBlobStore, key: str) -> npt.NDArray[np.float32]:
    """A mono recording segment's audio, as floats of full scale 1."""
    with av.open(io.BytesIO(await store.read(key))) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(container.streams[0])]
    return np.concatenate(frames).astype(np.float32) if frames else np.zeros(0, np.float32)


class QueuedTrack(MediaStreamTrack):
    """A source whose frames the test hands over one by one."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.frames: asyncio.Queue[AudioFrame | None] = asyncio.Queue()

    async def recv(self) -> AudioFrame:
        frame = await self.frames.get()
        if frame is None:
            raise MediaStreamError
        return frame


def tone_frame(pts: int, samples: int = 960) -> AudioFrame:
    frame = AudioFrame.from_ndarray(
        np.full((1, samples), 5000, np.int16), format="s16", layout="mono"
    )
    frame.sample_rate, frame.pts, frame.time_base = 48_000, pts, Fraction(1, 48_000)
    return frame


async def test_silence_fills_the_gaps_of_a_track_that_sends_nothing_while_quiet() -> None:
    source, now = QueuedTrack(), [100.0]
    filled = SilenceFilledAudio(source, fill_after_s=0.01, margin_s=0.2, clock=lambda: now[0])

    async def take() -> tuple[int, int, bool]:
        frame = await asyncio.wait_for(filled.recv(), 5)
        return int(frame.pts or 0), frame.samples, bool(np.abs(frame.to_ndarray()).max() > 0)

    first = tone_frame(48_000)
    source.frames.put_nowait(first)
    assert await take() == (48_000, 960, True)  # the timeline starts with the first frame
    source.frames.put_nowait(tone_frame(48_000 + 4 * 960))  # a gap of three frames
    assert await take() == (48_960, 3 * 960, False)
    assert await take() == (48_000 + 4 * 960, 960, True)

    now[0] += 2.5  # quiet for 2.5 s: after `fill_after_s` the silence so far, less 0.2 s
    end = 48_000 + 5 * 960
    assert await take() == (end, 48_000, False)  # in frames of up to a second
    assert await take() == (end + 48_000, 48_000, False)
    assert await take() == (end + 96_000, 14_400, False)
    end += 110_400  # 2.3 s of silence so far

    source.frames.put_nowait(tone_frame(end - 480))  # overlaps what was filled: trimmed
    assert await take() == (end, 480, True)
    source.frames.put_nowait(None)
    with pytest.raises(MediaStreamError):
        await filled.recv()


async def test_malformed_sdp_and_candidates_are_refused(pcs: list) -> None:
    windows = Windows()
    for bad in ["garbage", "", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio"]:
        peer, _ = candidate_peer(AgentVoiceTrack(ToneSpeech()), windows)
        with pytest.raises(SignallingError, match="malformed SDP offer"):
            await peer.accept_offer(bad)
        assert peer.closed.is_set() and peer.close_reason == "bad-offer"

    video_only = client_pc(audio=False, video=True)
    pcs.append(video_only)
    peer, _ = candidate_peer(AgentVoiceTrack(ToneSpeech()), windows)
    with pytest.raises(SignallingError, match="no audio"):
        await peer.accept_offer(await offer_of(video_only))

    peer, _ = candidate_peer(AgentVoiceTrack(ToneSpeech()), windows)
    client = client_pc()
    pcs += [client, peer]
    await peer.accept_offer(await offer_of(client))
    for candidate in [
        {"candidate": "candidate:garbage", "sdpMid": "0"},
        {"candidate": 42, "sdpMid": "0"},
        {"candidate": "candidate:1 1 udp 1 192.0.2.9 9 typ host"},
    ]:
        with pytest.raises(SignallingError, match="ICE candidate"):
            await peer.add_ice_candidate(candidate)
    await peer.add_ice_candidate({"candidate": "", "sdpMid": "0"})  # end of candidates


async def test_a_client_that_never_completes_ice_is_closed_after_the_timeout(
    pcs: list,
) -> None:
    reasons: list[str] = []
    peer, _ = candidate_peer(
        AgentVoiceTrack(ToneSpeech()), Windows(), ice_connect_timeout=0.5, on_closed=reasons.append
    )
    client = client_pc()
    pcs += [client, peer]
    await peer.accept_offer(await offer_of(client))  # the client never takes the answer

    await asyncio.wait_for(peer.closed.wait(), WAIT)
    assert peer.close_reason == "ice-timeout" and reasons == ["ice-timeout"]
    assert peer.connection.connectionState == "closed"


async def test_a_client_hanging_up_mid_answer_keeps_the_audio_and_the_recording(
    pcs: list, tmp_path: Path
) -> None:
    store = LocalFolderBlobStore(tmp_path)
    windows = Windows()
    target = RecordingTarget(store, "interviews/i1", origin=time.time(), segment_seconds=0.5)
    voice = AgentVoiceTrack(ToneSpeech())
    peer, _ = candidate_peer(voice, windows, recording=target)
    client = client_pc()
    pcs += [client, peer]
    await connect(peer, client)
    await voice.say("q", "A question.")
    await asyncio.wait_for(windows.enough.wait(), WAIT)

    await client.close()  # the track stops mid-answer

    await asyncio.wait_for(windows.ended.wait(), WAIT)
    assert len(windows.windows) >= 30
    await asyncio.wait_for(peer.closed.wait(), WAIT)
    recordings = await recordings_by_track(store, "interviews/i1")
    assert set(recordings) == {"candidate-audio", "agent-voice"}
    for segments in recordings.values():
        for segment in segments:
            assert decodes(await store.read(segment.key)) > 0


async def test_a_track_that_stops_sending_is_reported_as_stalled(pcs: list) -> None:
    windows, stalled = Windows(), asyncio.Event()

    async def on_stall() -> None:
        stalled.set()

    peer, _ = candidate_peer(
        AgentVoiceTrack(ToneSpeech()), windows, on_audio_stall=on_stall, audio_stall_timeout=0.3
    )
    client = client_pc()
    pcs += [client, peer]
    await connect(peer, client)
    await asyncio.wait_for(windows.enough.wait(), WAIT)
    assert not stalled.is_set()

    client.getSenders()[0].replaceTrack(None)  # the browser stopped its microphone

    await asyncio.wait_for(stalled.wait(), WAIT)
    assert len(windows.windows) >= 30 and not peer.closed.is_set()


async def test_closing_on_socket_loss_finishes_the_video_recording(
    pcs: list, tmp_path: Path
) -> None:
    store = LocalFolderBlobStore(tmp_path)
    windows = Windows()
    target = RecordingTarget(store, "interviews/i2", origin=time.time())
    reasons: list[str] = []
    peer, _ = candidate_peer(
        AgentVoiceTrack(ToneSpeech()), windows, recording=target, on_closed=reasons.append
    )
    client = client_pc(video=True)
    pcs += [client, peer]
    await connect(peer, client)
    await asyncio.wait_for(windows.enough.wait(), WAIT)
    assert peer.candidate_video is not None

    await peer.close()

    assert reasons == ["hang-up"] and windows.ended.is_set()
    video = await recording_manifest(store, "interviews/i2/candidate-video")
    assert len(video) == 1 and video[0].media_type == "video/webm"
    assert decodes(await store.read(video[0].key)) > 5


async def test_an_observer_receives_the_candidate_audio_through_the_relay(pcs: list) -> None:
    voice = AgentVoiceTrack(ToneSpeech())
    peer, relay = candidate_peer(voice, Windows())
    client = client_pc()
    pcs += [client, peer]
    await connect(peer, client)
    assert peer.candidate_audio is not None

    observer = ObserverPeer(
        ice_servers=[], relay=relay, voice=voice, candidate_audio=peer.candidate_audio
    )
    watcher, listener = RTCPeerConnection(RTCConfiguration(iceServers=[])), Listener()
    listener.attach(watcher)
    pcs += [watcher, observer]
    await watcher.setRemoteDescription(
        RTCSessionDescription(sdp=await observer.create_offer(), type="offer")
    )
    await watcher.setLocalDescription(await watcher.createAnswer())
    await observer.accept_answer(watcher.localDescription.sdp)

    listener.voice_mid = "0"  # the candidate-audio slot
    await listener.until(lambda: sum(listener.loud) >= 10)
    said = asyncio.create_task(voice.say("q", QUESTION))  # the agent voice sends while it speaks
    await listener.until(lambda: listener.frames_by_mid.get("1", 0) >= 10)
    voice.interrupt()
    await said

    # Frames come from the one decoder of the candidate's track, unbuffered.
    sent = observer.connection.getTransceivers()[0].sender.track
    assert sent._source is peer.candidate_audio and sent._buffered is False
    assert len(peer.connection.getReceivers()) == 1
