"""Smoke test of the load harness: two spoken interviews of one answer each, end to end.

It runs `benchmarks/interviews.py` as a user would, against its own embedded node (a temporary
data folder with embedded Postgres and Redis), and checks only that it completes and that the
report has every figure; the numbers themselves are for benchmarks/README.md, not for CI.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.reports import ReportKeys, assert_complete, run_benchmark

KEYS: ReportKeys = {
    "interviews": None,
    "turns": None,
    "response_latency_ms": ("p50", "p95", "max"),
    "final_to_agent_audio_ms": ("p50", "p95", "max"),
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
    arguments = ["--interviews", "2", "--answers-per-interview", "1", "--no-warmup"]
    arguments += ["--no-offline-wer"]
    stderr, report = run_benchmark("interviews.py", arguments, tmp_path / "report.json")
    assert "interviews started" in stderr, "progress goes to stderr"
    assert_complete(report, KEYS)
    assert report["interviews"] == 2
    # Each turn's texts are there to see which words a final got wrong.
    assert len(report["transcripts"]) == report["turns"]
    assert all({"clip", "reference", "final", "offline"} <= set(t) for t in report["transcripts"])
