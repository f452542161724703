"""Silero VAD streaming: speech is found in speech, not in silence or noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from codesage.media.vad import (
    WINDOW_S,
    SileroVadModel,
    VadState,
    VadWindow,
    VoiceActivityDetector,
    speech_spans,
)
from tests.media import join, silence, synthesize, white_noise

SENTENCE = "So the first thing I would do is reproduce the bug on my own machine."


@pytest.fixture(scope="session")
def silero() -> SileroVadModel:
    return SileroVadModel()


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "speech"


def test_speech_is_found_where_it_is_spoken(silero: SileroVadModel, speech_cache: Path) -> None:
    spoken = synthesize(SENTENCE, speech_cache)
    audio = join(silence(1.0), spoken, silence(1.5))
    windows = VoiceActivityDetector(silero).feed(audio)
    voiced = [window for window in windows if window.speech]
    assert voiced, "no speech found in speech"
    speech_end = 1.0 + len(spoken) / 16_000
    assert 0.9 <= voiced[0].start <= 1.4
    assert speech_end - 0.5 <= voiced[-1].end <= speech_end + 0.3
    assert sum(window.end - window.start for window in voiced) > 0.7 * (speech_end - 1.0)
    assert speech_spans(windows) == [pytest.approx((voiced[0].start - 0.2, voiced[-1].end + 0.2))]


@pytest.mark.parametrize(
    "audio",
    [silence(5.0), white_noise(5.0, level=0.01), white_noise(5.0, level=0.1)],
    ids=["silence", "quiet-noise", "loud-noise"],
)
def test_no_speech_in_silence_or_white_noise(
    silero: SileroVadModel, audio: npt.NDArray[np.float32]
) -> None:
    windows = VoiceActivityDetector(silero).feed(audio)
    assert len(windows) == int(5.0 / WINDOW_S)
    assert not any(window.speech for window in windows)
    assert speech_spans(windows) == []


def test_streaming_in_odd_frames_equals_one_batch(
    silero: SileroVadModel, speech_cache: Path
) -> None:
    audio = join(silence(0.3), synthesize(SENTENCE, speech_cache))
    whole = VoiceActivityDetector(silero).feed(audio)
    streaming = VoiceActivityDetector(silero)
    pieces: list[VadWindow] = []
    for start in range(0, len(audio), 333):  # 20.8 ms frames: windows straddle frames
        pieces.extend(streaming.feed(audio[start : start + 333]))
    assert [w.start for w in pieces] == [w.start for w in whole]
    np.testing.assert_allclose(
        [w.probability for w in pieces], [w.probability for w in whole], atol=1e-5
    )
    assert streaming.position_s == pytest.approx(len(whole) * WINDOW_S)


class ScriptedModel:
    """Returns the scripted probabilities in order, one per window."""

    def __init__(self, probabilities: list[float]) -> None:
        self._probabilities = iter(probabilities)

    def initial_state(self) -> VadState:
        return np.zeros((1, 1, 128), np.float32), np.zeros((1, 1, 128), np.float32)

    def run(
        self, windows: npt.NDArray[np.float32], state: VadState
    ) -> tuple[npt.NDArray[np.float32], VadState]:
        assert windows.shape[1] == 576
        return np.array([next(self._probabilities) for _ in windows], np.float32), state


def test_hysteresis_needs_the_start_threshold_to_begin_and_the_stop_one_to_end() -> None:
    script = [0.45, 0.6, 0.4, 0.36, 0.3, 0.45, 0.5]
    detector = VoiceActivityDetector(
        ScriptedModel(script), start_threshold=0.5, stop_threshold=0.35
    )
    decisions = [window.speech for window in detector.feed(np.zeros(512 * 7, np.float32))]
    assert decisions == [False, True, True, True, False, False, True]


def test_speech_spans_join_short_gaps_and_split_long_ones() -> None:
    def window(start: float, speech: bool) -> VadWindow:
        return VadWindow(
            start, start + 0.5, 0.9 if speech else 0.0, speech, np.zeros(0, np.float32)
        )

    pattern = [False, True, True, False, True, False, False, False, True, False, False, False]
    windows = [window(i * 0.5, speech) for i, speech in enumerate(pattern)]
    assert speech_spans(windows, min_silence_s=0.8, pad_s=0.1) == [
        pytest.approx((0.4, 2.6)),
        pytest.approx((3.9, 4.6)),
    ]
    assert len(speech_spans(windows, min_silence_s=0.8, max_span_s=1.0)) == 3
