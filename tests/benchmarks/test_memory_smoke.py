"""Smoke test of the phase-by-phase memory benchmark: one interview, end to end.

It runs `benchmarks/memory.py` as a user would, against its own embedded node, and checks
only that every phase was reached and read and that the report has every key; the figures
are for docs/performance.md, not for CI.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.reports import ReportKeys, assert_complete, run_benchmark

READING = ("pss_mb", "rss_mb", "pss_mb_per_interview", "rss_mb_per_interview")
KEYS: ReportKeys = {
    "interviews": None,
    "error": None,
    "base": ("pss_mb", "rss_mb"),
    "phases": ("joined", "connected", "answered", "hung_up", "left", "ended"),
    "live_pss_mb_per_interview": None,
    "kept_pss_mb_per_interview": None,
    "commit": None,
    "machine": None,
    "settings": None,
}


def test_one_interview_goes_through_every_phase_and_each_is_read(tmp_path: Path) -> None:
    arguments = ["--interviews", "1", "--no-warmup", "--settle-s", "0.2", "--samples", "1"]
    stderr, report = run_benchmark("memory.py", arguments, tmp_path / "memory.json")
    assert "live interview:" in stderr, "progress goes to stderr"
    assert_complete(report, KEYS)
    assert report["interviews"] == 1 and report["error"] is None
    for phase, reading in report["phases"].items():
        assert set(reading) == set(READING), phase
        assert reading["pss_mb"] > 0, phase
