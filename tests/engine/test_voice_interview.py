"""A spoken answer over real WebRTC: captions, end of turn, score, barge-in, recording.

The candidate is an aiortc client peer that plays piper-synthesized speech in real time; the
server runs the whole node (Socket.IO, actor, VAD, Whisper, piper) on the test database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import socketio
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack
from av import AudioFrame
from scipy.signal import resample_poly

from codesage.config.metrics import TURN_STAGES
from codesage.config.settings import Settings
from codesage.media.endpointing import TurnTakingSettings
from codesage.media.recording import LocalFolderBlobStore, recordings_by_track
from codesage.node import Node, build_node, load_voice_resources
from codesage.signaling.auth import Role
from codesage.storage.connections import Storage
from codesage.storage.journal import InterviewJournal
from tests.conftest import TEST_JWT_SECRET, TEST_REDIS_URL
from tests.engine.interview_script import new_interview
from tests.media import join, silence, synthesize, word_error_rate

ANSWER = (
    "I would add an index on the customer id column, check the query plan with explain "
    "analyze, and keep transactions short so that locks are released quickly."
)
WAIT = 30.0


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


# Shorter silences than production, so that the test does not wait 3.5 s per turn.
QUICK_TURNS = TurnTakingSettings(silence_s=1.5, after_unfinished_s=2.5, after_complete_s=1.0)


@pytest.fixture
async def voice_node(
    storage: Storage,
    redis_prefix: str,
    rubric_scorer: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Node]:
    resources = await load_voice_resources(
        stt_model="tiny.en",
        data_dir=tmp_path,
        inference_threads=2,
        # As served: finals on their own two-thread copy of the model, fitted window.
        stt_final_threads=2,
        stt_final_window=Settings().stt_final_window,
        ice_servers=[],
        recordings=LocalFolderBlobStore(tmp_path / "recordings"),
    )
    turn_taking = getattr(request, "param", QUICK_TURNS)
    resources = dataclasses.replace(resources, turn_taking=turn_taking)
    node = await build_node(
        storage,
        redis_url=TEST_REDIS_URL,
        jwt_secret=TEST_JWT_SECRET,
        inference_threads=2,
        web_dist=None,
        scorer=rubric_scorer,
        socket_channel=f"{redis_prefix}socketio",
        voice=resources,
    )
    yield node
    await node.close()
    await resources.speech_pool.aclose()


class SpeakingMicrophone(AudioStreamTrack):
    """Plays 16 kHz audio as 48 kHz mono frames in real time, then silence."""

    def __init__(self, audio: np.ndarray) -> None:
        super().__init__()
        pcm = resample_poly(audio, 3, 1) * 32767
        self._pcm = np.clip(pcm, -32768, 32767).astype(np.int16)
        self._cursor = 0

    async def recv(self) -> AudioFrame:
        tick = await super().recv()  # aiortc's silent track paces us at real time
        chunk = self._pcm[self._cursor : self._cursor + 960]
        self._cursor += 960
        if len(chunk) < 960:
            chunk = np.concatenate([chunk, np.zeros(960 - len(chunk), np.int16)])
        frame = AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48_000
        frame.pts = int(tick.pts or 0) * 6
        frame.time_base = tick.time_base / 6
        return frame


async def _count_loud_frames(track: MediaStreamTrack, loud: list[int]) -> None:
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if np.abs(frame.to_ndarray()).max() > 500:
            loud.append(1)


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for media to arrive (frames are counted by reader tasks), up to WAIT seconds."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.05)


async def _watch_media(
    server: TestServer,
    node: Node,
    interview_id: Any,
    pc: RTCPeerConnection,
    observer: socketio.AsyncClient,
) -> list[int]:
    """An interviewer's receive-only peer: returns the list its loud frames are counted in."""
    await observer.connect(
        str(server.make_url("/")),
        transports=["websocket"],
        namespaces=["/observer"],
        auth={"token": node.tokens.issue(Role.INTERVIEWER)},
    )
    heard: list[int] = []
    pc.on("track", lambda track: asyncio.ensure_future(_count_loud_frames(track, heard)))
    offer = await observer.call(
        "media_watch", {"interview_id": str(interview_id)}, namespace="/observer"
    )
    assert offer["ok"], offer
    await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    reply = await observer.call(
        "media_answer",
        {"media_id": offer["media_id"], "sdp": pc.localDescription.sdp},
        namespace="/observer",
    )
    assert reply["ok"], reply
    return heard


async def test_a_spoken_answer_is_captioned_transcribed_scored_and_recorded(
    voice_node: Node, speech_cache: Path, aiohttp_server: Any, tmp_path: Path
) -> None:
    interview_id = await new_interview(voice_node)
    server: TestServer = await aiohttp_server(voice_node.app)
    token = voice_node.tokens.issue(Role.CANDIDATE, interview_id=str(interview_id))
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("event", events.put_nowait, namespace="/candidate")
    await client.connect(
        str(server.make_url("/")),
        transports=["websocket"],
        namespaces=["/candidate"],
        auth={"token": token},
    )
    peer = RTCPeerConnection()
    observer_pc = RTCPeerConnection()
    observer = socketio.AsyncClient()
    loud: list[int] = []
    readers: list[asyncio.Task[None]] = []
    try:
        await client.call("join", {}, namespace="/candidate")
        ack = await client.call("consent", {"accepted": True}, namespace="/candidate")
        prompt = ack["snapshot"]["prompt"]
        # Speak after a second, while the agent is still asking: a barge-in.
        spoken = join(silence(1.0), synthesize(ANSWER, speech_cache), silence(30.0))
        peer.addTrack(SpeakingMicrophone(spoken))
        peer.on("track", lambda track: readers.append(
            asyncio.create_task(_count_loud_frames(track, loud))
        ))  # fmt: skip
        await peer.setLocalDescription(await peer.createOffer())
        answer = await client.call(
            "rtc_offer", {"sdp": peer.localDescription.sdp}, namespace="/candidate", timeout=WAIT
        )
        assert answer["ok"], answer
        await peer.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        observer_heard = await _watch_media(server, voice_node, interview_id, observer_pc, observer)

        partials: list[str] = []
        final = None
        while final is None:
            event = await asyncio.wait_for(events.get(), WAIT)
            if event["type"] == "answer_partial":
                partials.append(event["payload"]["text"])
            elif event["type"] == "answer_final":
                final, final_at = event["payload"], event["at"]
        assert final["source"] == "voice" and final["prompt_id"] == prompt["prompt_id"]
        # The turn ended (the decision) before the final transcript was committed.
        assert datetime.fromisoformat(final["turn_ended_at"]) <= datetime.fromisoformat(final_at)
        assert word_error_rate(ANSWER, final["text"]) < 0.35, final["text"]
        assert partials, "live captions came before the final"
        assert all(b.startswith(a) for a, b in itertools.pairwise(partials))
        next_prompt = None
        while next_prompt is None:
            event = await asyncio.wait_for(events.get(), WAIT)
            if event["type"] == "prompt":
                next_prompt = event["payload"]
        assert next_prompt["prompt_id"] != prompt["prompt_id"]
        assert loud, "the candidate heard the agent's voice"
        heard_before = len(loud)
        await _until(lambda: len(loud) > heard_before + 5, "the next question was spoken")
        assert observer_heard, "the observer received the live audio through the relay"
    finally:
        await observer_pc.close()
        await observer.disconnect()
        await peer.close()
        for reader in readers:
            reader.cancel()
        await client.disconnect()

    stored = await InterviewJournal(voice_node.storage.pool).events_after(interview_id)
    played = [e.payload for e in stored if e.type == "prompt_played"]
    first = next(p for p in played if p["prompt_id"] == prompt["prompt_id"])
    assert first["complete"] is False, "the candidate spoke over the question"
    assert len(first["text_played"]) < len(prompt["text"])
    for stage in TURN_STAGES:
        count = voice_node.metrics.registry.get_sample_value(
            "codesage_turn_latency_seconds_count", {"stage": stage}
        )
        assert count == 1, f"turn latency stage {stage} was measured once"
    scores = [e.payload for e in stored if e.type == "score"]
    assert scores and scores[0]["answer_text"] == final["text"]
    assert voice_node.voice is not None
    await voice_node.voice.close_all()
    # The voice node records under tmp_path/recordings (see the fixture).
    store = LocalFolderBlobStore(tmp_path / "recordings")
    tracks = await recordings_by_track(store, f"interviews/{interview_id}")
    assert tracks.get("candidate-audio")


@pytest.mark.parametrize(
    "voice_node",
    [TurnTakingSettings(max_answer_s=6.0, wrap_up_lead_s=3.0, silence_s=3.5)],
    indirect=True,
)
async def test_a_long_answer_hears_a_wrap_up_and_ends_at_the_limit(
    voice_node: Node, speech_cache: Path, aiohttp_server: Any
) -> None:
    interview_id = await new_interview(voice_node)
    server: TestServer = await aiohttp_server(voice_node.app)
    token = voice_node.tokens.issue(Role.CANDIDATE, interview_id=str(interview_id))
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("event", events.put_nowait, namespace="/candidate")
    await client.connect(
        str(server.make_url("/")),
        transports=["websocket"],
        namespaces=["/candidate"],
        auth={"token": token},
    )
    peer = RTCPeerConnection()
    loud: list[int] = []
    readers: list[asyncio.Task[None]] = []
    try:
        await client.call("join", {}, namespace="/candidate")
        await client.call("consent", {"accepted": True}, namespace="/candidate")
        long_answer = " ".join([ANSWER, ANSWER])  # about 18 s of speech against a 6 s limit
        peer.addTrack(SpeakingMicrophone(join(synthesize(long_answer, speech_cache), silence(30))))
        peer.on("track", lambda track: readers.append(
            asyncio.create_task(_count_loud_frames(track, loud))
        ))  # fmt: skip
        await peer.setLocalDescription(await peer.createOffer())
        answer = await client.call(
            "rtc_offer", {"sdp": peer.localDescription.sdp}, namespace="/candidate", timeout=WAIT
        )
        await peer.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        heard_at_first_caption: int | None = None
        final = None
        while final is None:
            event = await asyncio.wait_for(events.get(), WAIT)
            if event["type"] == "answer_partial" and heard_at_first_caption is None:
                heard_at_first_caption = len(loud)
            elif event["type"] == "answer_final":
                final = event["payload"]
        assert heard_at_first_caption is not None
        # The question was cut by barge-in; what the candidate heard since is the wrap-up.
        assert len(loud) > heard_at_first_caption, "the agent asked the candidate to wrap up"
        assert final["source"] == "voice"
        assert len(final["text"].split()) < len(long_answer.split()), "the limit ended the turn"
    finally:
        await peer.close()
        for reader in readers:
            reader.cancel()
        await client.disconnect()
