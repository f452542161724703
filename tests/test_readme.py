"""The README stays true: its configuration table lists every setting."""

from __future__ import annotations

from pathlib import Path

from codesage.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"CODESAGE_{name.upper()}"
        for name in Settings.model_fields
        if f"`CODESAGE_{name.upper()}`" not in text
    ]
    assert missing == []


def test_readme_opens_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    fence = lines.index("```sh")
    assert lines[fence + 1].startswith("make run")
    assert lines[fence + 2].startswith("make test")
