"""Ending a spoken turn: the final decode starts in the pause before the end of the turn.

The conversation runs with fakes for the models (a loudness VAD, a scripted speech-to-text
whose final decodes are counted and can be held) and the shared inference pool; the audio is
fed window by window, as the candidate's audio reader does, so the audio clock is exact.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from aiortc import RTCPeerConnection

from codesage.agents.speech_to_text import AudioArray, Transcript, TranscriptSegment
from codesage.agents.text_to_speech import SpeechChunk, split_sentences
from codesage.engine.commands import Answer, Command, InterviewError
from codesage.engine.voice_conversation import (
    VoiceConversation,
    VoiceConversations,
    VoiceResources,
)
from codesage.media.captions import CaptionSettings
from codesage.media.endpointing import TurnTakingSettings
from codesage.media.inference_pool import SpeechInferencePool
from codesage.media.vad import CONTEXT_SAMPLES, WINDOW_SAMPLES, VadState

PROMPT = {"prompt_id": "p1", "text": "How would you speed up a slow query?", "kind": "question"}
# The end of the turn after 1.5 s of silence; the final decode is due after 0.6 s of it.
TURNS = TurnTakingSettings(silence_s=1.5, after_unfinished_s=2.5, after_complete_s=1.0)
WAIT = 10.0


class LoudnessVad:
    """Silero's interface: a window is speech when it is loud."""

    def initial_state(self) -> VadState:
        return np.zeros((1, 1, 128), np.float32), np.zeros((1, 1, 128), np.float32)

    def run(
        self, windows: npt.NDArray[np.float32], state: VadState
    ) -> tuple[npt.NDArray[np.float32], VadState]:
        loudness = np.sqrt(np.mean(windows[:, CONTEXT_SAMPLES:] ** 2, axis=1))
        return (loudness > 0.01).astype(np.float32), state


class FinalDecodes:
    """The pool's final engine: keeps each final's audio; `release` cleared holds them."""

    def __init__(self) -> None:
        self.audio: list[AudioArray] = []
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.release.set()

    def transcribe(
        self, audio: AudioArray, *, prompt: str | None = None, max_tokens: int | None = None
    ) -> Transcript:
        self.audio.append(audio.copy())
        self.started.release()
        assert self.release.wait(WAIT)
        return _transcript(f"an answer of {len(audio)} samples")


class PartialDecodes:
    def transcribe(
        self, audio: AudioArray, *, prompt: str | None = None, max_tokens: int | None = None
    ) -> Transcript:
        return _transcript("so the answer")


class ToneSpeech:
    sample_rate = 22_050

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]:
        for index, sentence in enumerate(split_sentences(text)):
            yield SpeechChunk(index, sentence, np.full(11_025, 4000, np.int16), self.sample_rate)

    def presynthesize(self, text: str, *, opening_only: bool = False) -> None:
        pass


def _transcript(text: str) -> Transcript:
    return Transcript((TranscriptSegment(0.0, 1.0, text),), 1.0, "en")


class Interview:
    """One voice conversation with the prompt open, and the commands it asked the actor."""

    def __init__(self, conversation: VoiceConversation, finals: FinalDecodes) -> None:
        self.conversation = conversation
        self.finals = finals
        self.asked: list[Command] = []
        self.answered = asyncio.Event()
        self._clock = 0

    async def ask(self, command: Command) -> Any:
        self.asked.append(command)
        if isinstance(command, Answer):
            self.answered.set()

    async def speak(self, seconds: float) -> None:
        await self._feed(seconds, level=0.3)

    async def pause(self, seconds: float) -> None:
        await self._feed(seconds, level=0.0)

    async def murmur(self, seconds: float) -> None:
        """Sound too soft for the VAD to call speech, like the onset of "a" or "I"."""
        await self._feed(seconds, level=0.005)

    async def _feed(self, seconds: float, level: float) -> None:
        for _ in range(round(seconds * 16_000 / WINDOW_SAMPLES)):
            t = (self._clock + np.arange(WINDOW_SAMPLES)) / 16_000
            self._clock += WINDOW_SAMPLES
            window = (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
            await self.conversation._on_window(window)  # what the audio reader calls
            await asyncio.sleep(0)  # let the caption decodes' tasks run, as live audio does

    async def final_decode_started(self) -> None:
        assert await asyncio.to_thread(self.finals.started.acquire, True, WAIT)

    async def answer(self) -> str:
        await asyncio.wait_for(self.answered.wait(), WAIT)
        answers = [command for command in self.asked if isinstance(command, Answer)]
        assert len(answers) == 1 and answers[0].prompt_id == "p1"
        assert answers[0].source == "voice"
        return answers[0].text


@pytest.fixture
async def open_interview() -> AsyncIterator[Any]:
    opened: list[tuple[VoiceConversation, SpeechInferencePool]] = []
    executor = ThreadPoolExecutor(1)

    async def open_one(turn_taking: TurnTakingSettings = TURNS) -> Interview:
        finals = FinalDecodes()
        pool = SpeechInferencePool(finals, workers=2, partial_stt=PartialDecodes())
        resources = VoiceResources(
            text_to_speech=ToneSpeech(),
            speech_pool=pool,
            vad_model=LoudnessVad(),  # type: ignore[arg-type]
            synthesis_executor=executor,
            turn_taking=turn_taking,
        )
        interview: Interview

        async def ask(command: Command) -> Any:
            return await interview.ask(command)

        conversation = VoiceConversation(uuid.uuid4(), resources, ask)
        interview = Interview(conversation, finals)
        conversation.adopt_prompt(PROMPT, answered=False)
        opened.append((conversation, pool))
        return interview

    yield open_one
    for conversation, pool in opened:
        await conversation.close()
        await pool.aclose()
    executor.shutdown()


async def test_the_end_of_the_turn_takes_the_final_decoded_during_the_pause(
    open_interview: Any,
) -> None:
    interview: Interview = await open_interview()
    await interview.speak(1.2)
    interview.finals.release.clear()  # the final decode will take its time
    await interview.pause(0.8)
    await interview.final_decode_started()  # in the pause, before the end of the turn
    assert not interview.answered.is_set()

    await interview.pause(0.9)  # 1.7 s of silence: the turn ends while that decode runs
    interview.finals.release.set()

    text = await interview.answer()
    assert len(interview.finals.audio) == 1, "the final was decoded once, not twice"
    assert text == f"an answer of {len(interview.finals.audio[0])} samples"
    turn = interview.conversation._turn
    assert turn is not None and turn.captioner.final_speculative
    assert {"end_of_turn", "final_transcript"} <= set(turn.stages)
    # The log says how far ahead of the decision the final's decode started.
    assert turn.stages["final_decode_started"] < turn.stages["end_of_turn"]


async def test_the_final_keeps_the_soft_onset_before_the_first_voiced_window(
    open_interview: Any,
) -> None:
    interview: Interview = await open_interview()
    await interview.pause(1.0)
    await interview.murmur(0.128)  # four windows the VAD calls silence, just before speech
    await interview.speak(1.2)
    await interview.pause(1.7)

    await interview.answer()
    final = interview.finals.audio[-1]
    # The answer's audio opens with the captioner's 0.2 s pre-roll, which ends with the whole
    # murmur, not with the first loud window: a soft first word reaches the final decode.
    pre_roll, murmur = round(CaptionSettings().pre_roll_s * 16_000), 4 * WINDOW_SAMPLES
    assert not np.any(final[: pre_roll - murmur])  # the pause before it
    soft = np.abs(final[pre_roll - murmur : pre_roll]).reshape(4, WINDOW_SAMPLES).max(axis=1)
    assert np.all((soft > 0.003) & (soft < 0.006))
    assert np.max(np.abs(final[pre_roll : pre_roll + WINDOW_SAMPLES])) > 0.2  # then speech


async def test_audio_from_before_the_track_stopped_does_not_open_the_next_answer(
    open_interview: Any,
) -> None:
    interview: Interview = await open_interview()
    await interview.murmur(0.2)
    await interview.conversation._on_audio_end()  # what a stalled or ended track calls
    await interview.speak(1.2)
    await interview.pause(1.7)

    await interview.answer()
    assert np.max(np.abs(interview.finals.audio[-1][:WINDOW_SAMPLES])) > 0.2


async def test_speech_from_before_a_stall_does_not_count_toward_a_barge_in_after_it(
    open_interview: Any,
) -> None:
    interview: Interview = await open_interview()
    voice = interview.conversation.voice
    await interview.pause(0.1)
    assert voice.speaking  # the agent is asking: nobody takes its frames here

    await interview.speak(0.128)  # a cough: shorter than a barge-in's 0.16 s
    assert voice.speaking
    await interview.conversation._on_audio_end()  # the track stalls
    await interview.speak(0.064)  # 0.19 s with the cough, but not one run of speech
    assert voice.speaking, "speech from before the stall cut the agent off"

    await interview.speak(0.128)  # now 0.19 s without a break: a barge-in
    assert not voice.speaking


async def test_speech_after_the_early_decode_discards_it_and_the_final_has_it_all(
    open_interview: Any,
) -> None:
    interview: Interview = await open_interview()
    await interview.speak(1.2)
    await interview.pause(0.8)
    await interview.final_decode_started()
    await interview.speak(0.8)  # a thinking pause, not the end: the candidate goes on
    await interview.pause(1.7)

    text = await interview.answer()
    early, final = interview.finals.audio  # the second one started in the second pause
    assert len(early) < len(final)
    assert text == f"an answer of {len(final)} samples"

    # The same audio without early decodes gives the same final, from the same audio.
    plain: Interview = await open_interview(
        TurnTakingSettings(**{**vars(TURNS), "speculate_lead_s": None})
    )
    await plain.speak(1.2)
    await plain.pause(0.8)
    await plain.speak(0.8)
    await plain.pause(1.7)
    assert await plain.answer() == text
    assert len(plain.finals.audio) == 1 and np.array_equal(plain.finals.audio[0], final)


async def test_i_am_done_and_a_dropped_track_take_the_early_final_too(
    open_interview: Any,
) -> None:
    done: Interview = await open_interview()
    await done.speak(1.2)
    await done.pause(0.8)
    await done.final_decode_started()
    await done.conversation.end_turn("p1")  # "I'm done" in the pause
    text = await done.answer()
    assert (
        len(done.finals.audio) == 1 and text == f"an answer of {len(done.finals.audio[0])} samples"
    )

    dropped: Interview = await open_interview()
    await dropped.speak(1.2)
    await dropped.pause(0.8)
    await dropped.final_decode_started()
    await dropped.conversation._on_audio_end()  # the browser's track ended
    assert await dropped.answer() == text  # the same audio as above
    assert len(dropped.finals.audio) == 1

    speaking: Interview = await open_interview()
    await speaking.speak(1.2)
    await speaking.conversation.end_turn("p1")  # mid-sentence: nothing was decoded early
    text = await speaking.answer()
    assert len(speaking.finals.audio) == 1
    assert text == f"an answer of {len(speaking.finals.audio[0])} samples"
    assert len(speaking.finals.audio[0]) < len(done.finals.audio[0])  # no pause in it yet


async def _browser_offer(peers: list[RTCPeerConnection]) -> str:
    """A candidate's offer: audio out and back, as the browser sends it."""
    peer = RTCPeerConnection()
    peers.append(peer)
    peer.addTransceiver("audio", direction="sendrecv")
    await peer.setLocalDescription(await peer.createOffer())
    return peer.localDescription.sdp


async def test_a_node_at_voice_capacity_asks_the_next_candidate_to_type() -> None:
    executor = ThreadPoolExecutor(1)
    pool = SpeechInferencePool(FinalDecodes(), workers=1, partial_stt=PartialDecodes())
    resources = VoiceResources(
        text_to_speech=ToneSpeech(),
        speech_pool=pool,
        vad_model=LoudnessVad(),  # type: ignore[arg-type]
        synthesis_executor=executor,
        max_live_peers=1,
    )

    async def ask(interview_id: uuid.UUID, command: Command) -> Any:
        return {"accepted": True}

    voices = VoiceConversations(resources, ask)
    first, second = uuid.uuid4(), uuid.uuid4()
    browsers: list[RTCPeerConnection] = []
    try:
        await voices.open(first).accept_offer(await _browser_offer(browsers))
        with pytest.raises(InterviewError) as refused:
            voices.open(second)
        assert (refused.value.code, refused.value.status) == ("voice_at_capacity", 503)

        # The candidate who holds the place reconnects (a new offer): never refused.
        await voices.open(first).accept_offer(await _browser_offer(browsers))
        assert voices.live_peers == 1

        await voices.close(first)  # that interview ended: the place is free
        await voices.open(second).accept_offer(await _browser_offer(browsers))
        assert voices.live_peers == 1
    finally:
        for browser in browsers:
            await browser.close()
        await voices.close_all()
        await pool.aclose()
        executor.shutdown()
