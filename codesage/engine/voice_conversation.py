"""One interview's voice: speaks prompts, listens, captions live and ends turns patiently.

It turns media into actor commands: `PartialAnswer` while the candidate speaks, `Answer` at the
end of the turn, `PromptPlayed` with what the candidate actually heard. The actor stays the only
writer of the interview; this class only asks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from codesage.agents.speech_to_text import AudioArray
from codesage.agents.text_to_speech import TextToSpeech
from codesage.config.metrics import NodeMetrics
from codesage.config.settings import IceServer
from codesage.engine.commands import Answer, Command, InterviewError, PartialAnswer, PromptPlayed
from codesage.media.audio_in import AudioWindow
from codesage.media.captions import CaptionSettings, CaptionUpdate, LiveCaptioner
from codesage.media.endpointing import EndpointDetector, TurnEventKind, TurnTakingSettings
from codesage.media.inference_pool import SpeechInferencePool
from codesage.media.peer import CandidatePeer, ObserverPeer, RecordingTarget
from codesage.media.recording import BlobNotFound, BlobStore
from codesage.media.vad import WINDOW_S, SileroVadModel, VoiceActivityDetector
from codesage.media.voice_out import AgentVoiceTrack, PlayedUtterance
from codesage.storage.journal import InterviewEvent

log = logging.getLogger(__name__)

AskActor = Callable[[Command], Awaitable[Any]]
# Speech must last this long before it stops the agent: a cough or an echo should not.
BARGE_IN_SPEECH_S = 0.16
LEAD_IN_WINDOWS = math.ceil(CaptionSettings().pre_roll_s / WINDOW_S)
"""VAD windows kept before a turn starts: the lead-in of its first word (see LiveCaptioner)."""
WRAP_UP_TEXT = "We are close to the time for this answer. Please take a few seconds to wrap up."


@dataclass(frozen=True)
class VoiceResources:
    """What every voice interview on a node shares: models, pools and where recordings go."""

    text_to_speech: TextToSpeech
    speech_pool: SpeechInferencePool
    vad_model: SileroVadModel
    synthesis_executor: Executor
    ice_servers: Sequence[IceServer] = ()
    recordings: BlobStore | None = None
    turn_taking: TurnTakingSettings = field(default_factory=TurnTakingSettings)
    metrics: NodeMetrics | None = None
    ice_connect_timeout: float = 15.0
    max_live_peers: int | None = None
    """Candidate voice peers the node runs at once; past it candidates type (None: no limit)."""


def recording_prefix(interview_id: uuid.UUID) -> str:
    """Where an interview's recordings live in the blob store."""
    return f"interviews/{interview_id}"


class SpokenTurn:
    """The candidate's spoken answer to one prompt: live captions plus end-of-turn detection."""

    def __init__(self, prompt_id: str, captioner: LiveCaptioner, endpoint: EndpointDetector):
        self.prompt_id = prompt_id
        self.captioner = captioner
        self.endpoint = endpoint
        self.finished = False
        self.last_speech_at: float | None = None
        """Monotonic time of the last voiced window: the end of speech, once the turn ends."""
        self.stages: dict[str, float] = {}
        """Seconds from the end of speech to each stage (see TURN_STAGES)."""

    def mark(self, stage: str) -> None:
        """Note that `stage` is reached now."""
        if self.last_speech_at is not None:
            self.stages[stage] = max(0.0, time.monotonic() - self.last_speech_at)


class VoiceConversation:
    """The voice side of one live interview on its owner node."""

    def __init__(self, interview_id: uuid.UUID, resources: VoiceResources, ask: AskActor):
        self.interview_id = interview_id
        self._resources = resources
        self._ask = ask
        self._voice = AgentVoiceTrack(
            resources.text_to_speech,
            executor=resources.synthesis_executor,
            on_first_frame=self._on_first_agent_audio,
        )
        self._timed_turn: SpokenTurn | None = None
        self._relay = MediaRelay()
        self._peer: CandidatePeer | None = None
        self._vad = VoiceActivityDetector(resources.vad_model)
        self._prompt_id: str | None = None
        self._turn: SpokenTurn | None = None
        # A turn starts at the first window the VAD calls speech, but a soft onset ("a", "I")
        # scores below its threshold: the windows before it open the turn's final decode.
        self._lead_in: deque[AudioArray] = deque(maxlen=LEAD_IN_WINDOWS)
        self._speaking: asyncio.Task[None] | None = None
        self._partials: asyncio.Queue[tuple[str, CaptionUpdate]] = asyncio.Queue()
        self._partial_sender = asyncio.create_task(self._send_partials())
        self._recording_origin = time.time()
        self._speech_run_s = 0.0
        self._aside = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._observers: list[ObserverPeer] = []
        self._closed = False

    @property
    def relay(self) -> MediaRelay:
        """The relay observers subscribe to (decoded once, shared by every observer)."""
        return self._relay

    @property
    def peer(self) -> CandidatePeer | None:
        """The candidate's current peer connection, if any."""
        return self._peer

    @property
    def voice(self) -> AgentVoiceTrack:
        """The agent's outgoing voice track."""
        return self._voice

    async def accept_offer(self, sdp: str) -> str:
        """A new peer for the candidate's offer (replacing any earlier one); the SDP answer."""
        if self._peer is not None:
            await self._peer.close("renegotiated")
        self._forget_audio()
        recording = None
        if self._resources.recordings is not None:
            recording = RecordingTarget(
                store=self._resources.recordings,
                prefix=recording_prefix(self.interview_id),
                origin=await self._timeline_origin(self._resources.recordings),
            )
        self._peer = CandidatePeer(
            ice_servers=self._resources.ice_servers,
            voice=self._voice,
            relay=self._relay,
            on_audio_window=self._on_window,
            on_audio_end=self._on_audio_end,
            on_audio_stall=self._on_audio_end,
            recording=recording,
            ice_connect_timeout=self._resources.ice_connect_timeout,
            on_remote_track=self._on_remote_track,
        )
        return await self._peer.accept_offer(sdp)

    def _on_remote_track(self, track: MediaStreamTrack) -> None:
        # A candidate who reconnects brings new tracks: watchers switch to them.
        self._observers = [o for o in self._observers if not o.closed.is_set()]
        for observer in self._observers:
            observer.attach(track)

    async def observe(self) -> tuple[ObserverPeer, str]:
        """A receive-only peer for a watcher (candidate audio, video and agent voice) and its
        SDP offer; every watcher shares the relay, so none costs another decode."""
        peer = self._peer
        observer = ObserverPeer(
            ice_servers=self._resources.ice_servers,
            relay=self._relay,
            voice=self._voice,
            candidate_audio=None if peer is None else peer.candidate_audio,
            candidate_video=None if peer is None else peer.candidate_video,
            ice_connect_timeout=self._resources.ice_connect_timeout,
        )
        self._observers.append(observer)
        return observer, await observer.create_offer()

    async def _timeline_origin(self, store: BlobStore) -> float:
        """The recording's time zero, kept with it so that any node continues one timeline."""
        key = f"{recording_prefix(self.interview_id)}/timeline.json"
        try:
            return float(json.loads(await store.read(key))["origin"])
        except BlobNotFound:
            await store.put(key, json.dumps({"origin": self._recording_origin}).encode())
            return self._recording_origin

    async def add_ice_candidate(self, candidate: Mapping[str, object]) -> None:
        """Pass a trickled ICE candidate to the current peer."""
        if self._peer is None:
            raise InterviewError("no_peer", "Send an offer before ICE candidates.")
        await self._peer.add_ice_candidate(candidate)

    async def hang_up(self) -> None:
        """Close the peer (socket lost or the candidate switched to typing)."""
        if self._peer is not None:
            await self._peer.close("hang-up")
            self._peer = None

    async def close(self) -> None:
        """End everything: the interview is over or the node is shutting down."""
        self._closed = True
        if self._speaking is not None:
            self._speaking.cancel()
        for task in list(self._tasks):
            task.cancel()
        for observer in self._observers:
            await observer.close("interview-over")
        await self.hang_up()
        self._drop_turn()
        self._voice.stop()
        self._partial_sender.cancel()

    # --- events from the actor -------------------------------------------------------------

    def adopt_prompt(self, prompt: Mapping[str, Any] | None, answered: bool) -> None:
        """Take over the prompt already open when voice starts, and speak it."""
        if prompt is None or answered or prompt.get("kind") == "closing":
            return
        if self._prompt_id == prompt["prompt_id"]:
            return
        self._prompt_id = str(prompt["prompt_id"])
        self._speak(self._prompt_id, str(prompt["text"]))

    async def on_event(self, event: InterviewEvent) -> None:
        """React to a committed event of this interview (prompts are spoken)."""
        payload = event.payload
        if event.type == "prompt":
            self._drop_turn()
            kind = payload.get("kind")
            self._prompt_id = None if kind == "closing" else str(payload["prompt_id"])
            self._speak(str(payload["prompt_id"]), str(payload["text"]))
        elif event.type == "answer_final" and payload.get("source") == "typed":
            if payload.get("prompt_id") == self._prompt_id:
                self._drop_turn()
                self._prompt_id = None
        elif event.type == "ended":
            self._prompt_id = None
            self._drop_turn()

    def _speak(self, prompt_id: str, text: str) -> None:
        if self._speaking is not None and not self._speaking.done():
            self._voice.interrupt()
        self._speaking = asyncio.create_task(self._say(prompt_id, text))

    async def _say(self, prompt_id: str, text: str) -> None:
        try:
            played: PlayedUtterance = await self._voice.say(prompt_id, text)
        except Exception:
            log.exception("speaking failed", extra={"interview_id": str(self.interview_id)})
            return
        try:
            await self._ask(
                PromptPlayed(prompt_id, played.text_played, played.complete, played.seconds_played)
            )
        except InterviewError as exc:
            log.info("prompt_played refused", extra={"code": exc.code})

    async def _say_aside(self, text: str) -> None:
        # Said over the candidate on purpose (a polite wrap-up): barge-in must not cut it.
        self._aside = True
        try:
            await self._voice.say(f"aside-{uuid.uuid4().hex}", text)
        finally:
            self._aside = False

    # --- audio from the candidate ----------------------------------------------------------

    async def _on_window(self, window: AudioWindow) -> None:
        for decided in self._vad.feed(window):
            self._speech_run_s = (
                self._speech_run_s + (decided.end - decided.start) if decided.speech else 0.0
            )
            barge_in = self._speech_run_s >= BARGE_IN_SPEECH_S and not self._aside
            if barge_in and self._voice.speaking:
                self._voice.interrupt()  # barge-in: `_say` records what was heard
            turn = self._current_turn(decided.speech)
            if turn is None:
                self._lead_in.append(decided.samples)
                continue
            if decided.speech:
                turn.last_speech_at = time.monotonic()
            turn.captioner.add_audio(decided.samples, speech=decided.speech)
            for turn_event in turn.endpoint.advance(decided.speech, decided.end - decided.start):
                if turn_event.kind == TurnEventKind.WRAP_UP_DUE:
                    self._spawn(self._say_aside(WRAP_UP_TEXT))
                elif turn_event.kind == TurnEventKind.END_OF_TURN:
                    # The final decode takes a while: the audio (and barge-in) must not wait.
                    self._spawn(self._finish_turn(turn))
            if not decided.speech and turn.endpoint.final_decode_due():
                # The end of the turn may be near: decode the answer so far while waiting for it,
                # so that the end of the turn does not start the final decode but collects it.
                started = turn.captioner.speculations
                turn.captioner.speculate_final()
                if turn.captioner.speculations > started:
                    turn.mark("final_decode_started")

    def _current_turn(self, speech: bool) -> SpokenTurn | None:
        if self._prompt_id is None or self._closed:
            return None
        if self._turn is None or self._turn.prompt_id != self._prompt_id:
            if not speech:
                return None  # a turn starts with speech, not with the silence before it
            lead_in = np.concatenate(self._lead_in) if self._lead_in else None
            self._turn = self._new_turn(self._prompt_id, lead_in)
            self._lead_in.clear()
        return None if self._turn.finished else self._turn

    def _new_turn(self, prompt_id: str, lead_in: AudioArray | None) -> SpokenTurn:
        endpoint = EndpointDetector(self._resources.turn_taking)

        def on_partial(update: CaptionUpdate) -> None:
            endpoint.update_text(update.stable, update.tentative)
            self._partials.put_nowait((prompt_id, update))

        captioner = LiveCaptioner(
            self._resources.speech_pool.for_stream(str(self.interview_id)),
            on_partial=on_partial,
            lead_in=lead_in,
        )
        return SpokenTurn(prompt_id, captioner, endpoint)

    async def end_turn(self, prompt_id: str) -> None:
        """The candidate pressed "I'm done": end the spoken answer now."""
        turn = self._turn
        if turn is None or turn.prompt_id != prompt_id or turn.finished:
            raise InterviewError("no_spoken_answer", "There is no spoken answer to end.")
        await self._finish_turn(turn)

    def _forget_audio(self) -> None:
        # Audio from before a gap (a stalled, ended or replaced track) must neither open the
        # next turn nor count toward a barge-in after it; the VAD's state belongs to it too.
        self._lead_in.clear()
        self._vad.reset()
        self._speech_run_s = 0.0

    async def _on_audio_end(self) -> None:
        self._forget_audio()
        # Mid-answer: keep what was said as the final answer.
        turn = self._turn
        if turn is not None and not turn.finished and turn.endpoint.started:
            await self._finish_turn(turn)

    async def _finish_turn(self, turn: SpokenTurn) -> None:
        if turn.finished:
            return
        turn.finished = True
        turn.mark("end_of_turn")
        ended_at = datetime.now(UTC)
        transcript = await turn.captioner.finish()
        turn.mark("final_transcript")
        if not turn.captioner.final_speculative and "end_of_turn" in turn.stages:
            turn.stages["final_decode_started"] = turn.stages["end_of_turn"]
        text = transcript.text.strip()
        if not text:
            return
        # Set before asking: the next prompt is committed (and may start playing) before the
        # actor's reply reaches us, and its first audio frame closes this turn's timeline.
        self._timed_turn = turn
        try:
            await self._ask(Answer(turn.prompt_id, text, source="voice", turn_ended_at=ended_at))
        except InterviewError as exc:
            self._timed_turn = None
            log.info("spoken answer refused", extra={"code": exc.code})
            return
        turn.mark("score_ready")

    def _on_first_agent_audio(self, utterance_id: str) -> None:
        turn, self._timed_turn = self._timed_turn, None
        if turn is None:
            return
        turn.stages.setdefault("score_ready", turn.stages.get("final_transcript", 0.0))
        turn.mark("first_agent_audio")
        metrics = self._resources.metrics
        if metrics is not None:
            for stage, seconds in turn.stages.items():
                metrics.turn_latency.labels(stage=stage).observe(seconds)
        log.info(
            "spoken turn",
            extra={
                "interview_id": str(self.interview_id),
                **{f"{stage}_s": round(value, 3) for stage, value in turn.stages.items()},
                "final_speculative": turn.captioner.final_speculative,
                "final_decodes_ahead": turn.captioner.speculations,
                "final_restored_words": turn.captioner.restored_words,
            },
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _drop_turn(self) -> None:
        if self._turn is not None and not self._turn.finished:
            self._turn.finished = True
            self._turn.captioner.close()
        self._turn = None

    async def _send_partials(self) -> None:
        while True:
            prompt_id, update = await self._partials.get()
            # Only the newest caption matters: skip ones already overtaken.
            while not self._partials.empty():
                prompt_id, update = self._partials.get_nowait()
            try:
                await self._ask(PartialAnswer(prompt_id, update.stable, update.tentative))
            except InterviewError:
                pass  # the prompt moved on; the caption is stale
            except Exception:
                log.exception(
                    "caption not recorded", extra={"interview_id": str(self.interview_id)}
                )


class VoiceConversations:
    """The node's live voice conversations; also the event sink that routes events to them."""

    def __init__(
        self,
        resources: VoiceResources,
        ask: Callable[[uuid.UUID, Command], Awaitable[Any]],
    ):
        self._resources = resources
        self._ask = ask
        self._conversations: dict[uuid.UUID, VoiceConversation] = {}

    def get(self, interview_id: uuid.UUID) -> VoiceConversation | None:
        """The interview's conversation, if voice was started for it on this node."""
        return self._conversations.get(interview_id)

    @property
    def live_peers(self) -> int:
        """Conversations with a candidate peer now."""
        return sum(1 for c in self._conversations.values() if c.peer is not None)

    def open(self, interview_id: uuid.UUID) -> VoiceConversation:
        """The interview's conversation, created on first use.

        Refused with `voice_at_capacity` when a new peer would pass `max_live_peers`: past the
        node's measured capacity every interview's voice degrades at once (docs/performance.md),
        so one more candidate types instead. A reconnecting peer is never refused.
        """
        conversation = self._conversations.get(interview_id)
        limit = self._resources.max_live_peers
        has_peer = conversation is not None and conversation.peer is not None
        if limit is not None and not has_peer and self.live_peers >= limit:
            log.warning("voice at capacity", extra={"interview_id": str(interview_id)})
            raise InterviewError(
                "voice_at_capacity",
                "Spoken answers are busy on this server right now; please type your answers.",
                503,
            )
        if conversation is None:

            async def ask(command: Command) -> Any:
                return await self._ask(interview_id, command)

            conversation = VoiceConversation(interview_id, self._resources, ask)
            self._conversations[interview_id] = conversation
        return conversation

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        """Pass the event to the interview's conversation; close it when the interview ends."""
        conversation = self._conversations.get(interview_id)
        if conversation is None:
            return
        await conversation.on_event(event)
        if event.type == "ended":
            await self.close(interview_id)

    async def close(self, interview_id: uuid.UUID) -> None:
        """Close one conversation."""
        conversation = self._conversations.pop(interview_id, None)
        if conversation is not None:
            await conversation.close()

    async def close_all(self) -> None:
        """Close every conversation (node shutdown)."""
        for interview_id in list(self._conversations):
            await self.close(interview_id)
