"""Smoke test of the failover benchmark: one spoken interview, its owner SIGKILLed mid-answer.

It runs `benchmarks/failover.py` as a user would, with both nodes on a fresh database of the
test Postgres and on the test Redis, speaking only the shortest answer (one answer before the
kill, the cut one, then the cut one again on the new owner), and checks that it completes
(exit code 0: the interview resumed at the same prompt, nothing lost or duplicated) and that
the report has every key with the right type; the timings are for docs/performance.md, not
for CI. About a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
SECONDS = (int, float)


@pytest.fixture
def report_path(tmp_path: Path) -> Iterator[Path]:
    """Where the report goes; the nodes' live-state keys of its interviews are deleted after."""
    out = tmp_path / "failover.json"
    yield out
    if out.exists():
        client = redis.Redis.from_url(TEST_REDIS_URL)
        try:
            for row in json.loads(out.read_text())["kill_at"]["interviews"]:
                keys = list(client.scan_iter(match=f"codesage:interview:{row['interview_id']}:*"))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


def test_one_interview_survives_a_killed_owner_and_the_report_is_complete(
    report_path: Path, database_url: str
) -> None:
    out = report_path
    command = [sys.executable, str(ROOT / "benchmarks" / "failover.py")]
    # The re-spoken answer is the one full turn on the new owner: --answers-after 0 skips
    # another one (the same code path) and saves about 40 s.
    command += ["--interviews", "1", "--shortest", "--answers-after", "0", "--think-s", "0.2"]
    command += ["--json", str(out)]
    command += ["--database-url", database_url, "--redis-url", TEST_REDIS_URL]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=420)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "SIGKILL node A" in run.stderr, "progress goes to stderr"

    report = json.loads(out.read_text())
    assert report["interviews"] == 1
    assert set(report["resume_s"]) == {"p50", "max"}
    assert all(isinstance(v, SECONDS) for v in report["resume_s"].values())
    for key in ("lost_final_segments", "duplicated_events", "resumed"):
        assert type(report[key]) is int, key
    kill = report["kill_at"]
    assert isinstance(kill["pid"], int) and isinstance(kill["time"], str)
    [row] = kill["interviews"]
    assert isinstance(row["prompt_id"], str) and isinstance(row["offset_s"], SECONDS)
    assert type(row["mid_answer"]) is bool
    assert isinstance(report["commit"], str)
    assert isinstance(report["machine"], dict) and isinstance(report["machine"]["cores"], int)
