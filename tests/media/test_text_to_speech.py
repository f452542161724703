"""Piper text-to-speech: sentence splitting, streaming by sentence, cache and pre-synthesis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pytest

from codesage.agents.text_to_speech import PiperTextToSpeech, split_sentences

QUESTION = (
    "Tell me about a time you had to debug a production issue under pressure, "
    "and what you learned from it."
)


@pytest.fixture(scope="module")
def piper() -> PiperTextToSpeech:
    return PiperTextToSpeech.load(cache_size=16)


@dataclass
class _FakeChunk:
    audio_float_array: np.ndarray[Any, np.dtype[np.float32]]


class _CountingVoice:
    """Stands in for PiperVoice: 0.1 s of tone per call, counting calls per text."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.config = type("Config", (), {"sample_rate": 22_050})()
        self.calls: dict[str, int] = {}
        self.entered = threading.Event()
        self._gate = gate

    def synthesize(self, text: str) -> Iterator[_FakeChunk]:
        self.calls[text] = self.calls.get(text, 0) + 1
        self.entered.set()
        if self._gate is not None:
            self._gate.wait(timeout=5)
        yield _FakeChunk(np.full(2205, 0.5, dtype=np.float32))


def test_sentences_split_at_ends_but_not_at_abbreviations() -> None:
    text = "Hello there. Dr. Smith said e.g. this works! Does it? Yes"
    assert split_sentences(text) == [
        "Hello there.",
        "Dr. Smith said e.g. this works!",
        "Does it?",
        "Yes",
    ]


def test_a_long_first_sentence_is_cut_at_its_first_clause() -> None:
    assert split_sentences(QUESTION, first_clause_words=10) == [
        "Tell me about a time you had to debug a production issue under pressure,",
        "and what you learned from it.",
    ]
    assert split_sentences("Thanks, that helps. Next one.", first_clause_words=10) == [
        "Thanks, that helps.",
        "Next one.",
    ]


def test_piper_streams_one_chunk_per_sentence_faster_than_real_time(
    piper: PiperTextToSpeech,
) -> None:
    started = time.perf_counter()
    chunks = []
    first_chunk_at = None
    for chunk in piper.synthesize_sentences(QUESTION + " Take your time."):
        first_chunk_at = first_chunk_at or time.perf_counter() - started
        chunks.append(chunk)
    elapsed = time.perf_counter() - started

    assert [chunk.sentence_index for chunk in chunks] == [0, 1, 2]
    assert chunks[2].text == "Take your time."
    assert all(chunk.sample_rate == 22_050 and chunk.pcm.dtype == np.int16 for chunk in chunks)
    assert all(np.abs(chunk.pcm).max() > 1000 for chunk in chunks)
    audio_seconds = sum(len(chunk.pcm) for chunk in chunks) / 22_050
    assert first_chunk_at is not None and first_chunk_at < elapsed
    assert elapsed / audio_seconds < 1.0  # real-time factor; ~0.07 on an idle core


def test_presynthesized_text_starts_at_once(piper: PiperTextToSpeech) -> None:
    text = "Could you walk me through your approach once more?"
    piper.presynthesize(text)
    assert text in piper.cached_sentences()

    started = time.perf_counter()
    first = next(iter(piper.synthesize_sentences(text)))
    assert time.perf_counter() - started < 0.02
    assert len(first.pcm) > 0


def test_cache_keeps_the_most_recently_used_sentences() -> None:
    voice = _CountingVoice()
    tts = PiperTextToSpeech(cast(Any, voice), cache_size=2)
    for text in ("One.", "Two.", "One.", "Three."):
        list(tts.synthesize_sentences(text))
    assert tts.cached_sentences() == ["One.", "Three."]
    assert voice.calls == {"One.": 1, "Two.": 1, "Three.": 1}


def test_presynthesizing_an_opening_leaves_the_rest_for_later() -> None:
    voice = _CountingVoice()
    tts = PiperTextToSpeech(cast(Any, voice))
    tts.presynthesize("Tell me about a project. What was hard?", opening_only=True)
    assert voice.calls == {"Tell me about a project.": 1}
    tts.presynthesize("Tell me about a project. What was hard?")
    assert voice.calls == {"Tell me about a project.": 1, "What was hard?": 1}


def test_a_sentence_in_synthesis_is_waited_for_not_synthesized_twice() -> None:
    gate = threading.Event()
    voice = _CountingVoice(gate)
    tts = PiperTextToSpeech(cast(Any, voice))
    warm = threading.Thread(target=tts.presynthesize, args=("Next question.",))
    warm.start()
    assert voice.entered.wait(timeout=5)
    speak = threading.Thread(target=lambda: list(tts.synthesize_sentences("Next question.")))
    speak.start()
    gate.set()
    warm.join(timeout=5)
    speak.join(timeout=5)
    assert voice.calls == {"Next question.": 1}
