"""Pooling live and offline WER over several interviews.py reports (benchmarks/pooled_wer.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.interviews import synthesize_answers
from benchmarks.pooled_wer import main, pool, with_played_offline

REFERENCE = "a list comprehension builds the whole list at once"  # 9 words
ONE_WRONG = "a list comprehension builds the whole lot at once"
TWO_WRONG = "list comprehension builds the whole lot at once"


def turn(
    final: str | None, offline: str = REFERENCE, clip: str = "a.wav", lost: bool = False
) -> dict[str, Any]:
    return {"clip": clip, "reference": REFERENCE, "final": final, "offline": offline, "lost": lost}


def report(n: int, *turns: dict[str, Any]) -> dict[str, Any]:
    return {"interviews": n, "transcripts": list(turns)}


def test_errors_are_pooled_per_n_over_runs_and_lost_finals_are_left_out() -> None:
    pooled = pool(
        [
            # Live two errors where offline has one, in every turn.
            report(2, turn(TWO_WRONG, ONE_WRONG), turn(TWO_WRONG, ONE_WRONG, clip="b.wav")),
            report(2, turn(TWO_WRONG, ONE_WRONG), turn(None, lost=True)),
            # A lost final is typed by the harness: it would count as a perfect one.
            report(2, turn(REFERENCE, ONE_WRONG, lost=True)),
            report(4, turn(ONE_WRONG, ONE_WRONG)),
        ]
    )
    by_n = {p.interviews: p for p in pooled}
    two = by_n[2]
    assert (two.runs, two.turns, two.reference_words) == (3, 3, 27)
    assert two.wer == pytest.approx(6 / 27, abs=1e-4)
    assert two.wer_offline == pytest.approx(3 / 27, abs=1e-4)
    # Every draw of turns gives live / offline = 2.
    assert (two.ratio, two.ratio_95) == (2.0, (2.0, 2.0))
    assert (by_n[4].wer, by_n[4].ratio) == (by_n[4].wer_offline, 1.0)


def test_too_few_offline_errors_give_no_ratio_nor_interval() -> None:
    (pooled,) = pool([report(1, turn(ONE_WRONG)), report(1, turn(REFERENCE, ONE_WRONG))])
    assert pooled.ratio == 1.0
    assert pooled.ratio_95 is None, "a draw of the first turn alone has no offline error"
    (none,) = pool([report(1, turn(ONE_WRONG))])
    assert none.wer_offline == 0 and none.ratio is None and none.ratio_95 is None


@pytest.mark.parametrize(
    ("saved", "reason"),
    [
        ({"interviews": 2, "wer": 0.05}, "no transcripts"),
        (report(2, {**turn(REFERENCE), "offline": None}), "no offline texts"),
    ],
)
def test_a_report_that_cannot_be_pooled_is_refused_with_its_name_and_why(
    tmp_path: Path, saved: dict[str, Any], reason: str
) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps(saved))
    with pytest.raises(SystemExit, match=f"old.json: .*{reason}"):
        main([str(path)])


def test_the_command_prints_and_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run.json"
    run.write_text(json.dumps(report(2, turn(ONE_WRONG))))
    out = tmp_path / "pooled.json"
    assert main([str(run), "--json", str(out)]) == 0
    assert "live/offline" in capsys.readouterr().out
    assert json.loads(out.read_text())[0]["reference_words"] == 9


def test_by_voice_adds_each_voice_of_synthesized_clips_after_the_whole() -> None:
    pooled = pool(
        [
            report(
                2,
                turn(TWO_WRONG, ONE_WRONG, clip="answer_01.wav"),
                turn(ONE_WRONG, ONE_WRONG, clip="answer_02-flite-slt.wav"),
                turn(ONE_WRONG, ONE_WRONG, clip="answer_07-flite-slt.wav"),
            )
        ],
        by_voice=True,
    )
    assert [(p.voice, p.turns, p.ratio) for p in pooled] == [
        (None, 3, round(4 / 3, 2)),
        ("flite-slt", 2, 1.0),
        ("piper", 1, 2.0),
    ]
    assert pool([report(2, turn(ONE_WRONG, clip="answer_01.wav"))])[0].voice is None


def test_played_replaces_the_offline_text_with_that_of_the_audio_each_turn_played(
    tmp_path: Path,
) -> None:
    texts = ["A stack is last in, first out.", "A queue is first in, first out."]
    synthesize_answers(tmp_path / "clips", texts)
    settings = {"answers_per_interview": 1, "first_answer": 0, "seed": 3, "pause_s": [0.5, 0.5]}
    run = {
        "interviews": 2,
        "settings": settings,
        "transcripts": [
            {"interview": i, "turn": 1, "clip": "?", "reference": texts[i], "final": texts[i]}
            for i in (0, 1)
        ],
    }
    (rebuilt,) = with_played_offline([run], tmp_path / "clips")
    # Interview 1 played the second answer (first_answer + index x answers_per_interview).
    assert ["stack" in t["offline"].lower() for t in rebuilt["transcripts"]] == [True, False]
    assert "first in, first out" in rebuilt["transcripts"][1]["offline"].lower()

    # Without a folder, each report's own --audio folder.
    (own,) = with_played_offline(
        [{**run, "settings": {**settings, "audio": str(tmp_path / "clips")}}]
    )
    assert own["transcripts"] == rebuilt["transcripts"]
    with pytest.raises(SystemExit, match="pass --played DIR"):
        with_played_offline([{**run, "settings": {**settings, "audio": "piper (2 synthesized)"}}])

    del settings["seed"]
    with pytest.raises(SystemExit, match="first_answer and seed"):
        with_played_offline([run], tmp_path / "clips")
