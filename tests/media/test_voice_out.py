"""The agent's voice track: frames, sentence streaming, barge-in, what was heard, and no
frames at all while the agent is silent (with `pts` following the wall clock across gaps)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from codesage.agents.text_to_speech import PiperTextToSpeech, SpeechChunk, split_sentences
from codesage.media.voice_out import (
    FRAME_SAMPLES,
    HANGOVER_FRAMES,
    SAMPLE_RATE,
    AgentVoiceTrack,
    resample_to_48k,
)

TWO_SENTENCES = "One two three four. Five six seven eight."


class ToneSpeech:
    """Half a second of tone per sentence at 22.05 kHz; records what was pre-synthesized."""

    sample_rate = 22_050

    def __init__(self, seconds_per_sentence: float = 0.5) -> None:
        self.samples = round(seconds_per_sentence * self.sample_rate)
        self.prepared: list[str] = []

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]:
        for index, sentence in enumerate(split_sentences(text)):
            pcm = np.full(self.samples, 8000, dtype=np.int16)
            yield SpeechChunk(index, sentence, pcm, self.sample_rate)

    def presynthesize(self, text: str, *, opening_only: bool = False) -> None:
        self.prepared.append(text)


class GatedSpeech(ToneSpeech):
    """Tone speech whose synthesis only ends once `release` is set (after the audio)."""

    def __init__(self, seconds_per_sentence: float = 0.5) -> None:
        super().__init__(seconds_per_sentence)
        self.release = threading.Event()

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]:
        yield from super().synthesize_sentences(text)
        assert self.release.wait(5)


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _loud(frame: AudioFrame) -> bool:
    return bool(np.abs(frame.to_ndarray()).max() > 100)


async def _frames_until_done(
    track: AgentVoiceTrack, said: asyncio.Task[object]
) -> list[AudioFrame]:
    """Every frame until `said` completes (the track goes quiet after it: no frame is owed)."""
    frames: list[AudioFrame] = []
    async with asyncio.timeout(5):
        while not said.done():
            receiving = asyncio.ensure_future(track.recv())
            await asyncio.wait({receiving, said}, return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                break
            frames.append(receiving.result())
    return frames


async def _stays_pending(task: asyncio.Future[object]) -> bool:
    """True if `task` is still pending after the loop ran everything else that was ready.

    The idle track waits on an event that only `say()` and `stop()` set, so there is no timer
    that could complete it later: many passes of the loop are as good as any wait.
    """
    for _ in range(50):
        await asyncio.sleep(0)
    return not task.done()


def test_resampling_22k_to_48k_keeps_the_duration() -> None:
    out = resample_to_48k(np.full(22_050, 1000, dtype=np.int16), 22_050)
    assert out.dtype == np.int16 and len(out) == 48_000
    assert abs(int(out[24_000]) - 1000) < 5


async def test_frames_are_20_ms_of_48k_mono_s16_with_rising_pts() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    said = asyncio.create_task(track.say("u0", "One two three four."))
    frames = [await asyncio.wait_for(track.recv(), 5) for _ in range(3)]
    assert [frame.pts for frame in frames] == [0, 960, 1920]
    assert all(frame.samples == FRAME_SAMPLES for frame in frames)
    assert {(f.format.name, f.layout.name, f.sample_rate) for f in frames} == {
        ("s16", "mono", SAMPLE_RATE)
    }
    assert all(_loud(frame) for frame in frames)
    track.stop()
    await said


async def test_an_idle_track_sends_nothing_until_there_is_speech() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    waiting = asyncio.ensure_future(track.recv())
    assert await _stays_pending(waiting)
    assert track.frames_sent == 0

    said = asyncio.create_task(track.say("u1", "One two three four."))
    first = await asyncio.wait_for(waiting, 5)  # woken by the audio, not by a timer
    assert _loud(first)
    rest = [await asyncio.wait_for(track.recv(), 5) for _ in range(24 + HANGOVER_FRAMES)]
    # Half a second of speech, the hangover's silent frames, then nothing at all.
    assert [_loud(frame) for frame in [first, *rest]] == [True] * 25 + [False] * HANGOVER_FRAMES
    assert (await said).complete
    waiting = asyncio.ensure_future(track.recv())
    assert await _stays_pending(waiting)
    assert track.frames_sent == 25 + HANGOVER_FRAMES

    track.stop()  # ending the track wakes the waiting reader
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, 5)


async def test_pts_follows_the_wall_clock_across_a_quiet_gap() -> None:
    clock = FakeClock()
    track = AgentVoiceTrack(ToneSpeech(0.1), clock=clock)  # paced: 5 frames per sentence

    async def frame() -> AudioFrame:
        received = await asyncio.wait_for(track.recv(), 5)
        clock.now += FRAME_SAMPLES / SAMPLE_RATE  # the next frame is due now: no sleeping
        return received

    said = asyncio.create_task(track.say("a", "First."))
    first = [await frame() for _ in range(5 + HANGOVER_FRAMES)]
    assert (await said).complete
    assert [f.pts for f in first] == [i * FRAME_SAMPLES for i in range(5 + HANGOVER_FRAMES)]
    assert [_loud(f) for f in first] == [True] * 5 + [False] * HANGOVER_FRAMES

    waiting = asyncio.ensure_future(track.recv())
    clock.now += 3.0  # three quiet seconds: no frame, however far the clock moves
    assert await _stays_pending(waiting)
    assert track.frames_sent == 5 + HANGOVER_FRAMES

    elapsed = clock.now - 100.0
    said = asyncio.create_task(track.say("b", "Second."))
    lead_in = await asyncio.wait_for(waiting, 5)
    speech = await asyncio.wait_for(track.recv(), 5)  # due at once: no pacing wait
    # The speech starts where the wall clock is (within a frame), after one silent frame.
    assert not _loud(lead_in) and _loud(speech)
    assert speech.pts == lead_in.pts + FRAME_SAMPLES
    assert elapsed - 0.02 <= speech.pts / SAMPLE_RATE <= elapsed + 1e-9
    assert speech.pts % FRAME_SAMPLES == 0
    track.stop()
    await said


async def test_say_plays_every_sentence_and_reports_it_complete() -> None:
    first_frames: list[str] = []
    track = AgentVoiceTrack(ToneSpeech(), paced=False, on_first_frame=first_frames.append)
    said = asyncio.create_task(track.say("u1", TWO_SENTENCES))
    frames = await _frames_until_done(track, said)
    played = said.result()

    assert played.complete and played.text_played == TWO_SENTENCES
    assert played.seconds_played == pytest.approx(1.0, abs=0.001)
    assert sum(_loud(frame) for frame in frames) == 50  # 1 s of 20 ms frames
    assert first_frames == ["u1"]
    assert played.first_audio_seconds is not None and played.first_audio_seconds < 1
    assert not track.speaking


async def test_interrupt_silences_the_next_frame_and_keeps_what_was_heard() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    said = asyncio.create_task(track.say("u2", TWO_SENTENCES))
    loud = 0
    while loud < 44:  # 0.88 s: all of sentence one, three quarters of sentence two
        loud += _loud(await asyncio.wait_for(track.recv(), 5))

    played = track.interrupt()

    assert played is not None and not played.complete
    assert played.text_played == "One two three four. Five six seven"
    assert played.seconds_played == pytest.approx(0.88, abs=0.001)
    assert await said == played
    quiet = [await asyncio.wait_for(track.recv(), 5) for _ in range(HANGOVER_FRAMES)]
    assert not any(_loud(frame) for frame in quiet)
    assert await _stays_pending(asyncio.ensure_future(track.recv()))  # then nothing
    assert track.interrupt() is None


async def test_a_new_utterance_cuts_the_one_playing() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    first = asyncio.create_task(track.say("a", TWO_SENTENCES))
    while not _loud(await asyncio.wait_for(track.recv(), 5)):
        pass
    second = asyncio.create_task(track.say("b", "Next."))
    frames = await _frames_until_done(track, second)
    assert not (await first).complete
    assert (await second).complete
    assert sum(_loud(frame) for frame in frames) == 25


async def test_paced_frames_follow_the_wall_clock() -> None:
    track = AgentVoiceTrack(ToneSpeech())
    said = asyncio.create_task(track.say("p", "One two three four."))
    await asyncio.wait_for(track.recv(), 5)
    started = time.monotonic()
    for _ in range(10):
        await track.recv()
    assert 0.17 < time.monotonic() - started < 0.5
    track.stop()
    await said


async def test_an_utterance_ends_when_its_synthesis_ends_after_its_last_frame() -> None:
    speech = GatedSpeech()
    track = AgentVoiceTrack(speech, paced=False)
    said = asyncio.create_task(track.say("g", "One two three four."))
    frames = [await asyncio.wait_for(track.recv(), 5) for _ in range(25 + HANGOVER_FRAMES)]
    assert sum(_loud(frame) for frame in frames) == 25
    assert not said.done() and track.speaking  # the text-to-speech might still add audio

    speech.release.set()  # ...but it has no more: no frame is coming to finish the utterance

    played = await asyncio.wait_for(said, 5)
    assert played.complete and played.seconds_played == pytest.approx(0.5)
    assert not track.speaking


async def test_stop_ends_the_track_and_returns_the_utterance_as_cut() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    said = asyncio.create_task(track.say("u3", TWO_SENTENCES))
    await asyncio.wait_for(track.recv(), 5)
    track.stop()
    assert track.frames_sent == 1
    assert not (await said).complete
    with pytest.raises(MediaStreamError):
        await track.recv()
    with pytest.raises(MediaStreamError):
        await track.say("u4", "Too late.")


async def test_prepare_warms_the_text_to_speech() -> None:
    speech = ToneSpeech()
    await AgentVoiceTrack(speech).prepare("Next question.")
    assert speech.prepared == ["Next question."]


async def test_piper_speech_reaches_the_track_as_48k_frames() -> None:
    track = AgentVoiceTrack(PiperTextToSpeech.load(cache_size=4), paced=False)
    said = asyncio.create_task(track.say("p1", "Hello. Thanks for joining today."))
    frames = await _frames_until_done(track, said)
    played = said.result()
    assert played.complete
    assert sum(frame.samples for frame in frames) >= played.seconds_played * SAMPLE_RATE
    assert sum(_loud(frame) for frame in frames) > 25
