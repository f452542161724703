"""Communication metrics: pace, filler words and pauses, labelled as not affect."""

from __future__ import annotations

import dataclasses

import pytest

from codesage.agents.communication import (
    COMMUNICATION_LABEL,
    CommunicationMetrics,
    measure_communication,
)


def test_pace_is_words_per_minute_of_speaking_time() -> None:
    metrics = measure_communication("one two three four five six seven eight nine ten", 4.0, None)
    assert metrics.word_count == 10
    assert metrics.words_per_minute == 150.0


def test_fillers_are_counted_only_where_they_fill() -> None:
    text = (
        "Um, so I think, like, we used Python. I like Python. You know, it was kind of slow. "
        "It is a kind of database, uh, and you know that it scales. I mean, erm, yes."
    )
    metrics = measure_communication(text, None, None)
    assert dict(metrics.fillers) == {
        "um": 1,
        "uh": 1,
        "erm": 1,
        "like": 1,
        "you know": 1,
        "i mean": 1,
        "kind of": 1,
    }
    assert metrics.filler_count == 7
    assert metrics.filler_rate == round(100 * 7 / metrics.word_count, 2)


def test_pauses_are_summarised() -> None:
    metrics = measure_communication("It depends on the load.", 2.0, [0.5, 2.0, 1.0])
    assert metrics.pause_count == 3
    assert metrics.longest_pause_seconds == 2.0
    assert metrics.mean_pause_seconds == pytest.approx(1.1667, abs=1e-3)


def test_a_typed_or_empty_answer_has_no_pace_rate_or_pauses() -> None:
    typed = measure_communication("I would add an index.", None, None)
    assert typed.words_per_minute is None
    assert typed.pause_count == 0 and typed.longest_pause_seconds is None
    empty = measure_communication("", 3.0, [])
    assert empty.word_count == 0 and empty.filler_rate is None
    assert empty.words_per_minute == 0.0


def test_negative_pauses_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        measure_communication("Yes.", 1.0, [0.4, -0.1])


def test_metrics_are_labelled_and_hold_nothing_about_affect() -> None:
    metrics = measure_communication("Fine.", 1.0, None)
    assert metrics.label == COMMUNICATION_LABEL == "communication metrics (not affect)"
    names = {f.name for f in dataclasses.fields(CommunicationMetrics)}
    forbidden = ("emotion", "affect", "sentiment", "personality", "confidence", "stress", "mood")
    assert [name for name in names if any(word in name for word in forbidden)] == []
