"""Pooling live and offline WER over several interviews.py reports (benchmarks/pooled_wer.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.pooled_wer import main, pool

REFERENCE = "a list comprehension builds the whole list at once"  # 9 words


def turn(final: str | None, offline: str | None = REFERENCE) -> dict[str, Any]:
    return {"clip": "answer_01.wav", "reference": REFERENCE, "final": final, "offline": offline}


def report(n: int, *turns: dict[str, Any]) -> dict[str, Any]:
    return {"interviews": n, "transcripts": list(turns)}


def test_errors_are_pooled_per_n_over_runs_and_turns_without_a_final_are_left_out() -> None:
    one_wrong = "a list comprehension builds the whole lot at once"
    offline_one_wrong = turn(REFERENCE, offline=one_wrong)
    pooled = pool(
        [
            report(2, turn(one_wrong), offline_one_wrong, turn(None)),
            report(2, turn("list comprehension builds the whole list at once"), turn(REFERENCE)),
            report(4, turn(one_wrong, offline=one_wrong)),
        ]
    )
    by_n = {p.interviews: p for p in pooled}
    two = by_n[2]
    assert (two.runs, two.turns, two.reference_words) == (2, 4, 36)
    # Live: one substitution and one deletion; offline: one substitution.
    assert two.wer == pytest.approx(2 / 36, abs=1e-4)
    assert two.wer_offline == pytest.approx(1 / 36, abs=1e-4)
    assert two.ratio == 2.0
    assert two.ratio_95 is not None and two.ratio_95[0] <= 2.0 <= two.ratio_95[1]
    assert (by_n[4].wer, by_n[4].ratio) == (by_n[4].wer_offline, 1.0)


def test_no_offline_errors_gives_no_ratio_rather_than_a_division_by_zero() -> None:
    (pooled,) = pool([report(1, turn("a list comprehension builds the list at once"))])
    assert pooled.wer_offline == 0 and pooled.ratio is None and pooled.ratio_95 is None


def test_a_report_without_transcripts_is_refused_with_a_reason(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"interviews": 2, "wer": 0.05}))
    with pytest.raises(SystemExit, match="no transcripts"):
        main([str(old)])


def test_the_command_prints_and_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run.json"
    run.write_text(json.dumps(report(2, turn("a list comprehension builds the list at once"))))
    out = tmp_path / "pooled.json"
    assert main([str(run), "--json", str(out)]) == 0
    assert "live/offline" in capsys.readouterr().out
    assert json.loads(out.read_text())[0]["reference_words"] == 9
