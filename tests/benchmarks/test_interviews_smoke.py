"""Smoke test of the load harness: two spoken interviews of one answer each, end to end.

It runs `benchmarks/interviews.py` as a user would, against its own embedded node (a temporary
data folder with embedded Postgres and Redis), and checks only that it completes and that the
report has every figure; the numbers themselves are for benchmarks/README.md, not for CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "interviews": None,
    "turns": None,
    "response_latency_ms": ("p50", "p95", "max"),
    "turn_gap_ms": ("p50", "p95"),
    "caption_partial_lag_ms": ("p50", "p95"),
    "final_lag_ms": ("p50", "p95"),
    "wer": None,
    "cpu_percent": None,
    "rss_mb_base": None,
    "rss_mb_per_interview": None,
    "event_loop_lag_ms": ("p95",),
    "lost_final_segments": None,
}


def test_two_spoken_interviews_complete_and_report_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "interviews.py")]
    command += ["--interviews", "2", "--answers-per-interview", "1", "--no-warmup"]
    command += ["--no-offline-wer", "--json", str(out)]
    run = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "interviews started" in run.stderr, "progress goes to stderr"
    report = json.loads(out.read_text())
    for key, fields in KEYS.items():
        assert key in report, key
        for name in fields or ():
            assert name in report[key], f"{key}.{name}"
    assert report["interviews"] == 2
