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


class BenchmarkRun:
    """`benchmarks/<script>` started as a user would run it, with `--json out`; `result`
    waits for it. Several can run at once: the smoke runs mostly wait on real-time audio."""

    def __init__(self, script: str, arguments: list[str], out: Path) -> None:
        self.out = out
        self._stderr = out.with_suffix(".stderr")
        command = [
            sys.executable,
            str(ROOT / "benchmarks" / script),
            *arguments,
            "--json",
            str(out),
        ]
        with self._stderr.open("w") as stderr:
            self._process = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr
            )

    def result(self, timeout: float = 300) -> tuple[str, dict[str, Any]]:
        """Its stderr and report; fails the test with the tail of stderr on a non-zero exit."""
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            raise
        stderr = self._stderr.read_text()
        assert code == 0, stderr[-3000:]
        return stderr, json.loads(self.out.read_text())

    def stop(self) -> None:
        """Kill it if it still runs (a failed test must not leave a node behind)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def assert_complete(report: dict[str, Any], keys: ReportKeys) -> None:
    """Every key is in the report, with every field named for it."""
    for key, fields in keys.items():
        assert key in report, key
        for name in fields or ():
            assert name in report[key], f"{key}.{name}"
