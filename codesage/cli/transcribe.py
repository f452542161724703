"""`codesage transcribe FILE`: transcribe an audio file the way a live interview is transcribed.

The file (any format PyAV reads) is decoded to 16 kHz mono, split into utterances by the same
Silero VAD, and each utterance is decoded by the configured Whisper model with the same
hallucination filtering. Prints the text, or with --json one object with the segments and
their times in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from codesage.agents.speech_to_text import (
    SAMPLE_RATE,
    AudioArray,
    ModelUnavailable,
    SpeechToText,
    TranscriptSegment,
    WhisperModelName,
)
from codesage.config import SettingsError, load_settings


class UnreadableAudio(Exception):
    """The file cannot be opened or holds no decodable audio; the message says why."""


def register(subparsers: Any) -> None:
    """Add the `transcribe` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "transcribe",
        help="transcribe an audio file with the live speech pipeline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="audio or video file")
    parser.add_argument("--json", action="store_true", help="print segments with times as JSON")
    parser.add_argument(
        "--model",
        choices=("tiny.en", "base"),
        default=None,
        help="Whisper model (default: CODESAGE_STT_MODEL, else tiny.en)",
    )
    parser.set_defaults(run=run)


def read_audio(path: Path) -> AudioArray:
    """The file's first audio stream as float32 mono at 16 kHz."""
    import av

    try:
        container = av.open(str(path))
    except (OSError, av.FFmpegError) as exc:
        raise UnreadableAudio(getattr(exc, "strerror", None) or str(exc)) from exc
    with container:
        if not container.streams.audio:
            raise UnreadableAudio("no audio stream")
        layout = container.streams.audio[0].layout
        channels = max(1, len(layout.channels))
        # Resampled with its own layout and averaged here: libswresample's downmix to mono
        # adds 3 dB and can clip loud speech (as in media.audio_in).
        resampler = av.AudioResampler(format="flt", layout=layout.name, rate=SAMPLE_RATE)
        chunks: list[AudioArray] = []
        try:
            for frame in container.decode(audio=0):
                for converted in resampler.resample(frame):
                    chunks.append(converted.to_ndarray().reshape(-1, channels).mean(axis=1))
            for converted in resampler.resample(None):
                chunks.append(converted.to_ndarray().reshape(-1, channels).mean(axis=1))
        except av.FFmpegError as exc:
            raise UnreadableAudio(str(exc)) from exc
    if not chunks:
        return np.zeros(0, np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def transcribe_audio(audio: AudioArray, stt: SpeechToText) -> list[TranscriptSegment]:
    """VAD-split `audio` and transcribe each utterance; segment times are in the whole file."""
    from codesage.media.vad import SileroVadModel, VoiceActivityDetector, speech_spans

    detector = VoiceActivityDetector(SileroVadModel())
    windows = detector.feed(audio)
    segments: list[TranscriptSegment] = []
    for start, end in speech_spans(windows):
        clip = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        for segment in stt.transcribe(clip).segments:
            segments.append(
                TranscriptSegment(
                    start=round(start + segment.start, 3),
                    end=round(min(end, start + segment.end), 3),
                    text=segment.text,
                    words=segment.words,
                    avg_logprob=segment.avg_logprob,
                    no_speech_prob=segment.no_speech_prob,
                    compression_ratio=segment.compression_ratio,
                )
            )
    return segments


def _as_json(path: Path, model: str, duration: float, segments: list[TranscriptSegment]) -> str:
    return json.dumps(
        {
            "file": str(path),
            "model": model,
            "duration": round(duration, 3),
            "text": " ".join(segment.text for segment in segments),
            "segments": [
                {"start": segment.start, "end": segment.end, "text": segment.text}
                for segment in segments
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def run(args: argparse.Namespace) -> int:
    """Transcribe the file; exit 2 when it cannot be read or the model is not installed."""
    path: Path = args.file
    if not path.is_file():
        print(f"codesage transcribe: cannot read {path}: no such file", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"codesage transcribe: {exc}", file=sys.stderr)
        return 2
    model: WhisperModelName = args.model or settings.stt_model
    try:
        audio = read_audio(path)
    except UnreadableAudio as exc:
        print(f"codesage transcribe: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    from codesage.agents.speech_to_text import WhisperSpeechToText

    try:
        # base is multilingual: let it detect the language instead of forcing English.
        stt = WhisperSpeechToText.load(
            model, settings.data_dir, language="en" if model == "tiny.en" else None
        )
    except ModelUnavailable as exc:
        print(f"codesage transcribe: {exc}", file=sys.stderr)
        return 2
    segments = transcribe_audio(audio, stt)
    if args.json:
        print(_as_json(path, model, len(audio) / SAMPLE_RATE, segments))
    else:
        print(" ".join(segment.text for segment in segments))
    return 0
