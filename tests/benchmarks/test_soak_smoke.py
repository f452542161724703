"""Smoke test of the soak: one slot of one-answer interviews for 15 s, end to end.

It runs `benchmarks/soak.py` as a user would, against its own embedded node (a temporary data
folder with embedded Postgres and Redis). 15 s holds one interview, which finishes after the
deadline (half a minute started a second one and cost ~25 s more); the test checks only that
the soak completes and that the report has every key and a memory timeline. The figures are
for docs/performance.md, not for CI.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.reports import ReportKeys, assert_complete, run_benchmark

KEYS: ReportKeys = {
    "interviews": None,
    "minutes": None,
    "interviews_completed": None,
    "interviews_failed": None,
    "turns": None,
    "response_latency_ms": ("p50", "p95", "max"),
    "final_to_agent_audio_ms": ("p50", "p95", "max"),
    "turn_gap_ms": ("p50", "p95", "max"),
    "caption_partial_lag_ms": ("p50", "p95", "max"),
    "final_lag_ms": ("p50", "p95", "max"),
    "wer": None,
    "lost_final_segments": None,
    "cpu_percent": None,
    "rss_mb_base": None,
    "rss_mb_per_interview": None,
    "pss_mb_per_interview": None,
    "memory_timeline": None,
    "rss_mb_first_quarter_mean": None,
    "rss_mb_last_quarter_mean": None,
    "rss_mb_slope_per_10min": None,
    "pss_mb_first_quarter_mean": None,
    "pss_mb_last_quarter_mean": None,
    "pss_mb_slope_per_10min": None,
    "node_pss_mb_slope_per_10min": None,
    "event_loop_lag_ms": ("p95", "p99"),
    "stt_queue_wait_ms": ("p50", "p95"),
    "server_turn_stages_ms": ("end_of_turn", "final_transcript", "first_agent_audio"),
    "finals_restored": None,
    "commit": None,
    "machine": None,
    "settings": None,
}


def test_a_short_soak_completes_and_reports_every_figure(tmp_path: Path) -> None:
    arguments = ["--interviews", "1", "--minutes", "0.25", "--sample-s", "2"]
    arguments += ["--answers-per-interview", "1", "--no-warmup", "--no-offline-wer"]
    stderr, report = run_benchmark("soak.py", arguments, tmp_path / "soak.json")
    assert "interviews completed" in stderr, "progress goes to stderr"
    assert_complete(report, KEYS)
    assert report["interviews"] == 1
    # The node's spoken-turn log lines are read, as interviews.py reads them.
    assert isinstance(report["finals_restored"], int)
    assert report["memory_timeline"], "the timeline has samples"
    for sample in report["memory_timeline"]:
        assert set(sample) == {
            "t_s",
            "rss_mb",
            "pss_mb",
            "node_rss_mb",
            "node_pss_mb",
            "completed",
        }
