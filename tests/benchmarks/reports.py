"""Running a benchmark script as a user would, and checking that its report is complete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

ReportKeys = dict[str, tuple[str, ...] | None]
"""Report keys, each with the fields its value must have (None: any value)."""


def run_benchmark(script: str, arguments: list[str], out: Path) -> tuple[str, dict[str, Any]]:
    """Run `benchmarks/<script>` with `arguments` and `--json out`; its stderr and report.

    Fails the test with the tail of stderr when the script exits non-zero.
    """
    command = [sys.executable, str(ROOT / "benchmarks" / script), *arguments, "--json", str(out)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stderr, json.loads(out.read_text())


def assert_complete(report: dict[str, Any], keys: ReportKeys) -> None:
    """Every key is in the report, with every field named for it."""
    for key, fields in keys.items():
        assert key in report, key
        for name in fields or ():
            assert name in report[key], f"{key}.{name}"
