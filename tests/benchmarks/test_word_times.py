"""The caption-lag figures time each word by tiny.en's word timestamps of the played clip."""

from __future__ import annotations

import wave
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from benchmarks.interviews import (
    AnswerClip,
    TurnRecord,
    english_normalizer,
    load_wav,
    offline_transcripts,
    summarize,
    synthesize_answers,
)
from benchmarks.word_times import WordEnd, reference_word_ends

REFERENCE = ["we", "keep", "secrets", "in", "a", "vault"]


def test_without_timestamps_the_words_are_spread_evenly_over_the_answer() -> None:
    times = reference_word_ends(REFERENCE, 6.0, None)
    assert times.ends_s == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert times.timed == 0


def test_timed_words_keep_their_times_and_a_misheard_one_sits_between_its_neighbours() -> None:
    # A slow start and a quick end: "secrets" was heard as "secret".
    heard = [WordEnd("keep", 2.0), WordEnd("secret", 2.6), WordEnd("in", 3.0)]
    heard += [WordEnd("a", 3.2), WordEnd("vault", 3.6)]
    times = reference_word_ends(REFERENCE, 4.0, heard)
    # "we" (untimed, first) lies between the start of speech and "keep".
    assert times.ends_s == pytest.approx([1.0, 2.0, 2.5, 3.0, 3.2, 3.6])
    assert times.timed == 4


def turn(partials: list[tuple[float, str, str]]) -> dict[str, object]:
    record = TurnRecord(0, 1, "p1", "question", "We keep secrets in a vault.", "a.wav")
    record.speech_start, record.speech_end, record.speech_s = 100.0, 104.0, 4.0
    record.partials = partials
    return asdict(record)


def test_the_caption_lag_of_a_word_is_counted_from_its_timestamp() -> None:
    said = [0.4, 0.8, 1.6, 2.0, 2.2, 3.9]
    timed = {"a.wav": [WordEnd(w, t) for w, t in zip(REFERENCE, said, strict=True)]}
    partials = [(101.0, "", "we keep"), (102.5, "we keep", "secrets in a"), (104.5, "", "vault")]
    results = [{"turns": [turn(partials)], "error": None}]

    report = summarize(results, 1, word_ends=timed, with_transcripts=True)
    # we 600, keep 200, secrets 900, in 500, a 300, vault 600 ms after each was said.
    assert report["caption_partial_lag_ms"] == {"p50": 550.0, "p95": 825.0, "max": 900.0}
    assert report["caption_words_timed"] == 1.0
    assert report["transcripts"][0]["caption_lag_max_ms"] == 900  # which turn lagged most

    even = summarize(results, 1)  # no timestamps: 0.67 s per word
    assert even["caption_partial_lag_ms"]["max"] == pytest.approx(1000 * (102.5 - 102.0), abs=1)
    assert even["caption_words_timed"] == 0.0


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(np.clip(audio * 32767, -32768, 32767).astype(np.int16).tobytes())


def test_word_timestamps_count_from_the_start_of_speech_as_the_harness_plays_it(
    tmp_path: Path,
) -> None:
    text = "A stack is last in, first out, and a queue is first in, first out."
    (clip,) = synthesize_answers(tmp_path / "answers", [text])
    speech = load_wav(clip.file, 16_000)
    # The same speech after a second more of silence: the harness trims it, so must the times.
    later = tmp_path / "later.wav"
    write_wav(later, np.concatenate([np.zeros(16_000, np.float32), speech]))

    offline = offline_transcripts([clip, AnswerClip(str(later), text)], tmp_path)
    first, second = offline.word_ends[Path(clip.file).name], offline.word_ends["later.wav"]
    normalize = english_normalizer()
    assert [w.word for w in first] == normalize(text).split()
    assert [w.word for w in second] == [w.word for w in first]
    assert [w.end_s for w in second] == pytest.approx([w.end_s for w in first], abs=0.1)
    ends = [w.end_s for w in first]
    assert ends == sorted(ends) and 0 < ends[0] < ends[-1]
