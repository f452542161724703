"""interviews.py's accuracy figures: the offline WER is scored on the turns the live one is."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from benchmarks.interviews import (
    AnswerClip,
    TurnRecord,
    clips_from,
    load_wav,
    main,
    offline_transcripts,
    read_manifest,
    spoken_turn_log,
    summarize,
    synthesize_answers,
    voice_of,
)

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


def test_response_latency_runs_from_the_end_of_turn_decision_not_from_the_final() -> None:
    record = TurnRecord(0, 1, "p1", "question", REFERENCES["a.wav"], "a.wav", speech_end=1.0)
    record.final_text = REFERENCES["a.wav"]
    # Decided 1.6 s after the speech; the final decode took 1.5 s more; the agent spoke 0.3 s on.
    record.turn_ended_at, record.final_at, record.agent_onset = 2.6, 4.1, 4.4
    report = summarize([{"turns": [asdict(record)], "error": None}], 1)
    assert report["response_latency_ms"]["p50"] == pytest.approx(1800)
    assert report["final_to_agent_audio_ms"]["p50"] == pytest.approx(300)
    assert report["turn_gap_ms"]["p50"] == pytest.approx(3400)


def test_the_node_log_gives_each_turn_its_stages_and_whether_its_final_was_restored(
    tmp_path: Path,
) -> None:
    lines = [
        {"ts": "2026-11-24T10:00:00Z", "msg": "spoken turn", "end_of_turn_s": 0.5},  # before
        {"ts": "2026-11-24T10:00:05Z", "msg": "caption not recorded"},
        {
            "ts": "2026-11-24T10:00:06Z",
            "msg": "spoken turn",
            "end_of_turn_s": 0.4,
            "first_agent_audio_s": 0.9,
            "final_restored_words": 6,
            "final_speculative": True,
            "final_decodes_ahead": 2,
        },
        {"ts": "2026-11-24T10:00:09Z", "msg": "spoken turn", "end_of_turn_s": 0.3},
    ]
    log = tmp_path / "node.log"
    log.write_text("\n".join(json.dumps(line) for line in lines) + '\nnot json, "spoken turn"\n')
    since = 1_795_514_402.0  # 2026-11-24T10:00:02Z
    assert spoken_turn_log(log, since) == [
        {
            "end_of_turn": 0.4,
            "first_agent_audio": 0.9,
            "final_restored_words": 6.0,
            "final_speculative": 1.0,
            "final_decodes_ahead": 2.0,
        },
        {
            "end_of_turn": 0.3,
            "final_restored_words": 0.0,
            "final_speculative": 0.0,
            "final_decodes_ahead": 0.0,
        },
    ]


def test_the_offline_texts_come_with_the_speed_of_the_machine_that_made_them(
    tmp_path: Path,
) -> None:
    text = "I keep secrets out of the repository. They come from the environment or a vault."
    clips = synthesize_answers(tmp_path / "answers", [text])
    offline = offline_transcripts(clips, tmp_path)
    assert "secrets out of the repository" in offline.texts[Path(clips[0].file).name].lower()
    assert offline.decode_rtf > 0  # seconds of decode per second of audio, measured


def test_synthesize_speaks_a_file_of_answers_into_a_folder_that_audio_accepts(
    tmp_path: Path,
) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("A stack is last in, first out.\n\nA queue is first in, first out.\n")
    assert main(["synthesize", str(tmp_path / "clips"), str(answers)]) == 0

    clips = read_manifest(tmp_path / "clips")  # what --audio reads
    assert [clip.transcript for clip in clips] == [
        "A stack is last in, first out.",
        "A queue is first in, first out.",
    ]
    assert all(len(load_wav(clip.file, 16_000)) > 16_000 for clip in clips)  # over 1 s of speech


@pytest.mark.skipif(
    shutil.which("flite") is None, reason="needs Debian's flite (`make test` installs it)"
)
def test_synthesize_takes_the_voices_in_turn_and_names_each_clip_by_its_voice(
    tmp_path: Path,
) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("An index speeds up reads.\nA lock serializes writers.\nTests catch it.\n")
    voices = "piper,flite:slt"
    assert main(["synthesize", str(tmp_path / "clips"), str(answers), "--voices", voices]) == 0

    clips = read_manifest(tmp_path / "clips")
    assert [Path(clip.file).name for clip in clips] == [
        "answer_01.wav",
        "answer_02-flite-slt.wav",
        "answer_03.wav",
    ]
    assert [voice_of(Path(c.file).name) for c in clips] == ["piper", "flite-slt", "piper"]
    offline = offline_transcripts(clips[1:2], tmp_path)  # flite's voice is understood
    assert "lock" in offline.texts["answer_02-flite-slt.wav"].lower()


def test_synthesize_refuses_a_voice_it_does_not_know(tmp_path: Path) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("A queue is first in, first out.\n")
    with pytest.raises(SystemExit, match="unknown voice espeak"):
        main(["synthesize", str(tmp_path / "clips"), str(answers), "--voices", "espeak"])
    assert not (tmp_path / "clips").exists()


def test_runs_play_clips_in_order_from_the_first_answer_wrapping_around() -> None:
    clips = [AnswerClip(f"{name}.wav", name) for name in "abcde"]
    # Interview 1 of a run with --first-answer 3 and 2 answers each plays clips 5 and 6.
    assert [c.transcript for c in clips_from(clips, 3 + 1 * 2, 2)] == ["a", "b"]
    assert clips_from(clips, 0, 0) == []
