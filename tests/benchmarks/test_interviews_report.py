"""interviews.py's accuracy figures: the offline WER is scored on the turns the live one is."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from benchmarks.interviews import TurnRecord, summarize

REFERENCES = {
    "a.wav": "a list keeps items in order",  # 6 words
    "b.wav": "a tuple is fixed once it is created",  # 8 words
}
OFFLINE = {"a.wav": "the list keeps items in order", "b.wav": "a tuple is fixed once it is created"}


def turn(clip: str, final: str, *, lost: bool = False) -> dict[str, Any]:
    record = TurnRecord(0, 1, "p1", "question", REFERENCES[clip], clip, speech_end=1.0)
    record.final_text, record.lost = final, lost
    return asdict(record)


def test_the_offline_wer_counts_each_played_turn_and_leaves_out_the_lost_ones() -> None:
    turns = [
        turn("a.wav", "a list keeps items in order"),
        turn("a.wav", "a list keeps items in order"),  # clip a played twice
        turn("b.wav", REFERENCES["b.wav"], lost=True),  # typed by the harness
    ]
    report = summarize([{"turns": turns, "error": None}], 1, offline=OFFLINE, with_transcripts=True)
    assert report["wer_reference_words"] == 12
    assert report["wer"] == 0
    # Offline gets "a" wrong in clip a, once per play; clip b is not scored (its final was lost).
    assert report["wer_offline"] == pytest.approx(2 / 12, abs=1e-4)
    lost = report["transcripts"][2]
    assert lost["lost"] and lost["final"] is None and lost["offline"] == OFFLINE["b.wav"]
