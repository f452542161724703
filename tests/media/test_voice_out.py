"""The agent's voice track: frames, sentence streaming, barge-in and what was heard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from codesage.agents.text_to_speech import PiperTextToSpeech, SpeechChunk, split_sentences
from codesage.media.voice_out import (
    FRAME_SAMPLES,
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

    def presynthesize(self, text: str) -> None:
        self.prepared.append(text)


def _loud(frame: AudioFrame) -> bool:
    return bool(np.abs(frame.to_ndarray()).max() > 100)


async def _frames_until_done(
    track: AgentVoiceTrack, said: asyncio.Task[object]
) -> list[AudioFrame]:
    frames = []
    while not said.done():
        frames.append(await asyncio.wait_for(track.recv(), 5))
    return frames


def test_resampling_22k_to_48k_keeps_the_duration() -> None:
    out = resample_to_48k(np.full(22_050, 1000, dtype=np.int16), 22_050)
    assert out.dtype == np.int16 and len(out) == 48_000
    assert abs(int(out[24_000]) - 1000) < 5


async def test_frames_are_20_ms_of_48k_mono_s16_with_rising_pts() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    frames = [await track.recv() for _ in range(3)]
    assert [frame.pts for frame in frames] == [0, 960, 1920]
    assert all(frame.samples == FRAME_SAMPLES for frame in frames)
    assert {(f.format.name, f.layout.name, f.sample_rate) for f in frames} == {
        ("s16", "mono", SAMPLE_RATE)
    }
    assert not any(_loud(frame) for frame in frames)  # idle: silence


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
    assert not _loud(await track.recv())
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
    await track.recv()
    started = time.monotonic()
    for _ in range(10):
        await track.recv()
    assert 0.17 < time.monotonic() - started < 0.5


async def test_stop_ends_the_track_and_returns_the_utterance_as_cut() -> None:
    track = AgentVoiceTrack(ToneSpeech(), paced=False)
    said = asyncio.create_task(track.say("u3", TWO_SENTENCES))
    await asyncio.wait_for(track.recv(), 5)
    track.stop()
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
