"""Streaming voice activity detection with the Silero VAD model shipped inside faster-whisper."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from codesage.agents.speech_to_text import SAMPLE_RATE, AudioArray

WINDOW_SAMPLES = 512
"""Silero's window at 16 kHz (32 ms)."""
CONTEXT_SAMPLES = 64
"""Tail of the previous window that the v6 model sees in front of each new window."""
WINDOW_S = WINDOW_SAMPLES / SAMPLE_RATE

VadState = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]


def bundled_silero_path() -> Path:
    """`silero_vad_v6.onnx` from faster-whisper's assets folder."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SpeechProbabilityModel(Protocol):
    """Scores windows of 64 context + 512 new samples, carrying the recurrent state along."""

    def initial_state(self) -> VadState: ...

    def run(
        self, windows: npt.NDArray[np.float32], state: VadState
    ) -> tuple[npt.NDArray[np.float32], VadState]: ...


class SileroVadModel:
    """The Silero v6 ONNX session: load once per process, share across streams.

    Inputs: `input` [n, 576] float32 (n consecutive windows, each with its 64-sample context),
    `h` and `c` [1, 1, 128] LSTM state; outputs one speech probability per window and the new
    state. The model runs the n windows in order, so one call equals n single-window calls.
    """

    def __init__(self, path: Path | None = None) -> None:
        # onnxruntime ships no type information; imported by name so mypy needs no override.
        ort: Any = importlib.import_module("onnxruntime")
        options = ort.SessionOptions()
        # Many streams share a small box: one thread per run, parallelism across streams.
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session: Any = ort.InferenceSession(
            str(path if path is not None else bundled_silero_path()),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )

    def initial_state(self) -> VadState:
        """The LSTM state at the start of a stream."""
        return np.zeros((1, 1, 128), np.float32), np.zeros((1, 1, 128), np.float32)

    def run(
        self, windows: npt.NDArray[np.float32], state: VadState
    ) -> tuple[npt.NDArray[np.float32], VadState]:
        """Speech probability of each row of `windows` and the state after the last one."""
        probabilities, h, c = self._session.run(
            None, {"input": windows, "h": state[0], "c": state[1]}
        )
        return np.asarray(probabilities, np.float32).reshape(-1), (h, c)


@dataclass(frozen=True)
class VadWindow:
    """One 32 ms window: its place in the stream's audio time, score, decision and samples."""

    start: float
    end: float
    probability: float
    speech: bool
    samples: AudioArray


class VoiceActivityDetector:
    """Per-stream VAD: feed 16 kHz mono float32 audio of any length, get decided windows.

    Hysteresis: speech starts when a window scores at least `start_threshold` and stops only
    when one scores below `stop_threshold`, so a soft syllable does not split a word.
    """

    def __init__(
        self,
        model: SpeechProbabilityModel,
        *,
        start_threshold: float = 0.5,
        stop_threshold: float = 0.35,
    ) -> None:
        if not 0.0 <= stop_threshold <= start_threshold <= 1.0:
            raise ValueError("need 0 <= stop_threshold <= start_threshold <= 1")
        self._model = model
        self._start_threshold = start_threshold
        self._stop_threshold = stop_threshold
        self._state = model.initial_state()
        self._context = np.zeros(CONTEXT_SAMPLES, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._windows_done = 0
        self._speaking = False

    @property
    def speaking(self) -> bool:
        """The current decision (after the last complete window)."""
        return self._speaking

    @property
    def position_s(self) -> float:
        """Audio time of the end of the last decided window."""
        return self._windows_done * WINDOW_S

    def reset(self) -> None:
        """Forget the stream so far (state, partial window, clock)."""
        self._state = self._model.initial_state()
        self._context = np.zeros(CONTEXT_SAMPLES, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._windows_done = 0
        self._speaking = False

    def feed(self, samples: AudioArray) -> list[VadWindow]:
        """Add audio; returns the windows it completed (a remainder waits for more audio).

        Blocking model inference (~0.1-1 ms per window): call it from an executor when
        feeding large buffers.
        """
        audio = np.concatenate([self._pending, np.asarray(samples, np.float32).reshape(-1)])
        count = len(audio) // WINDOW_SAMPLES
        self._pending = audio[count * WINDOW_SAMPLES :]
        if count == 0:
            return []
        windows = audio[: count * WINDOW_SAMPLES].reshape(count, WINDOW_SAMPLES)
        contexts = np.empty((count, CONTEXT_SAMPLES), np.float32)
        contexts[0] = self._context
        contexts[1:] = windows[:-1, -CONTEXT_SAMPLES:]
        self._context = windows[-1, -CONTEXT_SAMPLES:].copy()
        probabilities, self._state = self._model.run(
            np.concatenate([contexts, windows], axis=1), self._state
        )
        decided = []
        for index in range(count):
            probability = float(probabilities[index])
            if self._speaking:
                self._speaking = probability >= self._stop_threshold
            else:
                self._speaking = probability >= self._start_threshold
            start = (self._windows_done + index) * WINDOW_S
            decided.append(
                VadWindow(start, start + WINDOW_S, probability, self._speaking, windows[index])
            )
        self._windows_done += count
        return decided


def speech_spans(
    windows: list[VadWindow],
    *,
    min_silence_s: float = 0.8,
    pad_s: float = 0.2,
    max_span_s: float = 28.0,
) -> list[tuple[float, float]]:
    """Utterances as (start, end) seconds: speech runs joined across gaps under `min_silence_s`.

    Each span is padded by `pad_s` on both sides (clipped to the audio) and cut at `max_span_s`
    so it fits one Whisper window.
    """
    spans: list[list[float]] = []
    for window in windows:
        if not window.speech:
            continue
        joins = spans and window.start - spans[-1][1] < min_silence_s
        if joins and window.end - spans[-1][0] <= max_span_s:
            spans[-1][1] = window.end
            continue
        spans.append([window.start, window.end])
    total = windows[-1].end if windows else 0.0
    padded: list[tuple[float, float]] = []
    for start, end in spans:
        lower = max(0.0, start - pad_s, padded[-1][1] if padded else 0.0)
        padded.append((lower, min(total, end + pad_s)))
    return padded
