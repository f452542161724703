"""`codesage score` in a subprocess: a JSONL round trip with bad lines reported and skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUBRIC = {
    "key_indicators": ["roll back the deploy first", "tell the team in the incident channel"],
    "levels": [
        {"level": 1, "anchor": "Debugs in production.", "indicators": ["fix the code live"]},
        {"level": 3, "anchor": "Rolls back, then investigates.", "indicators": ["roll back"]},
        {"level": 5, "anchor": "Rolls back, communicates, verifies, writes a postmortem.",
         "indicators": ["blameless postmortem", "update the status page"]},
    ],
}  # fmt: skip
ROLLBACK_ANSWER = (
    "I'd roll back the deploy straight away, tell the team in the incident channel, check that "
    "the error rate drops, and write a blameless postmortem afterwards."
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codesage", "score", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_round_trip_with_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a1", "question": "Errors after a deploy?", "answer": ROLLBACK_ANSWER,
                    "rubric": RUBRIC}),
        "",  # blank lines are ignored, not reported
        "{this is not json",
        json.dumps({"id": 7, "question": "What is an index?", "answer": "",
                    "reference_answer": "A B-tree that finds rows without a full scan."}),
        json.dumps({"id": "no-rubric", "question": "Q?", "answer": "An answer with some words."}),
        json.dumps({"id": "bad-rubric", "question": "Q?", "answer": "Words words words.",
                    "rubric": {"levels": [{"level": 9, "anchor": "x"}]}}),
        json.dumps({"question": "Q?", "answer": "No id here.", "reference_answer": "R."}),
        json.dumps({"id": "a2", "question": "Errors after a deploy?",
                    "answer": "Honestly I'd log in to the server and fix the code live.",
                    "rubric": RUBRIC}),
    ]  # fmt: skip
    source = tmp_path / "answers.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "scored.jsonl"

    completed = run_cli("--in", str(source), "--out", str(out), "--progress-every", "2")

    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["a1", 7, "a2"]
    for line_number in (3, 5, 6, 7):
        assert f"line {line_number}: skipped" in completed.stderr
    assert "line 1:" not in completed.stderr and "line 8:" not in completed.stderr
    assert "progress: 2 lines" in completed.stderr
    assert "done: 7 lines (4 bad)" in completed.stderr and "lines/s" in completed.stderr

    good, empty, weak = rows
    expected_keys = {"id", "score", "level", "insufficient_evidence", "confidence", "evidence",
                     "matched_indicators", "missing_indicators", "reason"}  # fmt: skip
    assert all(expected_keys <= set(row) for row in rows)
    assert good["insufficient_evidence"] is False and good["level"] >= 3
    assert 0.0 <= good["score"] <= 1.0 and 0.0 <= good["confidence"] <= 1.0
    assert good["evidence"], "a strong answer should come with evidence spans"
    for start, end in good["evidence"]:
        assert 0 <= start < end <= len(ROLLBACK_ANSWER)
        assert ROLLBACK_ANSWER[start:end].strip()
    assert "roll back the deploy first" in good["matched_indicators"]
    assert empty["insufficient_evidence"] is True
    assert empty["score"] is None and empty["level"] is None and empty["reason"] == "empty answer"
    assert weak["level"] is not None and weak["level"] < good["level"]


def test_unreadable_input_exits_non_zero(tmp_path: Path) -> None:
    completed = run_cli("--in", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"))
    assert completed.returncode == 2
    assert "cannot read" in completed.stderr
    assert not (tmp_path / "o").exists()
