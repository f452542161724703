"""Smoke tests of the load harness, the soak and the memory benchmark, run as a user would.

Each script runs against its own embedded node (a temporary data folder with embedded
Postgres and Redis). The three start together, since they mostly wait on real-time audio,
and each test then checks only that its script completed and that its report has every key;
the figures are for docs/performance.md and benchmarks/README.md, not for CI.

- `interviews.py`: two spoken interviews of one answer each.
- `soak.py`: one slot of one-answer interviews for a quarter of a minute, which holds one
  interview (the soak waits for it after the deadline), sampling memory every 2 s.
- `memory.py`: one interview through every phase, each phase's memory read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.benchmarks.reports import BenchmarkRun, ReportKeys, assert_complete

QUICK = ["--no-warmup", "--no-offline-wer"]
SOAK_SPAN = ["--minutes", "0.25", "--sample-s", "2"]

INTERVIEW_KEYS: ReportKeys = {
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
SOAK_KEYS: ReportKeys = {
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
MEMORY_READING = ("pss_mb", "rss_mb", "pss_mb_per_interview", "rss_mb_per_interview")
MEMORY_KEYS: ReportKeys = {
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BenchmarkRun]]:
    folder = tmp_path_factory.mktemp("benchmark-smoke")
    started = {
        "interviews": BenchmarkRun(
            "interviews.py",
            ["--interviews", "2", "--answers-per-interview", "1", *QUICK],
            folder / "interviews.json",
        ),
        "soak": BenchmarkRun(
            "soak.py",
            ["--interviews", "1", "--answers-per-interview", "1", *QUICK, *SOAK_SPAN],
            folder / "soak.json",
        ),
        "memory": BenchmarkRun(
            "memory.py",
            ["--interviews", "1", "--no-warmup", "--settle-s", "0.2", "--samples", "1"],
            folder / "memory.json",
        ),
    }
    yield started
    for run in started.values():
        run.stop()


def test_two_spoken_interviews_complete_and_report_every_figure(
    runs: dict[str, BenchmarkRun],
) -> None:
    stderr, report = runs["interviews"].result()
    assert "interviews started" in stderr, "progress goes to stderr"
    assert_complete(report, INTERVIEW_KEYS)
    assert report["interviews"] == 2
    # Each turn's texts are there to see which words a final got wrong.
    assert len(report["transcripts"]) == report["turns"]
    assert all({"clip", "reference", "final", "offline"} <= set(t) for t in report["transcripts"])


def test_a_short_soak_completes_and_reports_every_figure(runs: dict[str, BenchmarkRun]) -> None:
    stderr, report = runs["soak"].result()
    assert "interviews completed" in stderr, "progress goes to stderr"
    assert_complete(report, SOAK_KEYS)
    assert report["interviews"] == 1 and report["interviews_completed"] >= 1
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


def test_one_interview_goes_through_every_phase_and_each_is_read(
    runs: dict[str, BenchmarkRun],
) -> None:
    stderr, report = runs["memory"].result()
    assert "live interview:" in stderr, "progress goes to stderr"
    assert_complete(report, MEMORY_KEYS)
    assert report["interviews"] == 1 and report["error"] is None
    for phase, reading in report["phases"].items():
        assert set(reading) == set(MEMORY_READING), phase
        assert reading["pss_mb"] > 0, phase
