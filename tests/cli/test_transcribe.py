"""`codesage transcribe FILE`: the live speech pipeline on a file."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly

from codesage.cli import main
from tests.cli.conftest import CodesageCommand
from tests.media import join, silence, synthesize, white_noise, word_error_rate

FIRST = "So the first thing I would do is reproduce the bug on my own machine."
SECOND = "Then I would write a test that fails before the fix and passes after it."


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "speech"


def write_wav(path: Path, audio: npt.NDArray[np.float32], rate: int, channels: int = 1) -> Path:
    samples = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as sink:
        sink.setnchannels(channels)
        sink.setsampwidth(2)
        sink.setframerate(rate)
        sink.writeframes(np.repeat(samples, channels).tobytes())
    return path


@pytest.fixture
def interview_wav(tmp_path: Path, speech_cache: Path) -> Path:
    """Two answers with a pause and some noise, as a 44.1 kHz stereo WAV."""
    audio = join(
        white_noise(1.0, level=0.003),
        synthesize(FIRST, speech_cache),
        silence(2.0),
        synthesize(SECOND, speech_cache),
        silence(1.0),
    )
    return write_wav(tmp_path / "answer.wav", resample_poly(audio, 441, 160), 44_100, channels=2)


def test_transcribe_prints_the_text(
    interview_wav: Path, codesage_command: CodesageCommand, clean_env: dict[str, str]
) -> None:
    result = subprocess.run(
        codesage_command("transcribe", str(interview_wav)),
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert word_error_rate(f"{FIRST} {SECOND}", result.stdout) < 0.25


def test_transcribe_json_has_segments_with_increasing_times(
    interview_wav: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODESAGE_STT_MODEL", raising=False)
    assert main(["transcribe", str(interview_wav), "--json", "--model", "tiny.en"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "tiny.en"
    segments = report["segments"]
    assert len(segments) == 2
    assert word_error_rate(FIRST, segments[0]["text"]) < 0.25
    assert word_error_rate(SECOND, segments[1]["text"]) < 0.25
    times = [time for segment in segments for time in (segment["start"], segment["end"])]
    assert times == sorted(times) and times[0] >= 0.8
    assert segments[0]["end"] < segments[1]["start"]
    assert times[-1] <= report["duration"]


def test_silence_gives_no_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", join(silence(2.0), white_noise(2.0)), 16_000)
    assert main(["transcribe", str(quiet), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["segments"] == []


@pytest.mark.parametrize("content", [None, b"RIFF this is not audio at all"])
def test_missing_or_unreadable_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None
) -> None:
    path = tmp_path / "answer.wav"
    if content is not None:
        path.write_bytes(content)
    assert main(["transcribe", str(path)]) == 2
    error = capsys.readouterr().err
    assert f"cannot read {path}" in error
