"""Practice hints: refused in real interviews, graded, aimed at missing indicators."""

from __future__ import annotations

import pytest

from codesage.agents.hints import HintGiven, HintPolicy, HintsNotAllowed
from codesage.agents.template import Question

CACHE, EVICTION = "Uses a cache in front of the database", "Chooses an eviction policy"


def make_question() -> Question:
    # Listed out of strength order on purpose: the policy must grade them itself.
    return Question.model_validate(
        {
            "id": "slow-reads",
            "text": "Reads from the product catalogue are slow. What would you do?",
            "competency": "design",
            "difficulty": 3,
            "rubric": {"reference_answer": "Cache it.", "key_indicators": [CACHE, EVICTION]},
            "hints": [
                {"text": "Caches fill up eventually.", "strength": 2, "indicator": EVICTION},
                {"text": "Where do reads spend their time?", "strength": 1},
                {"text": "Put a cache before the DB.", "strength": 3, "indicator": CACHE},
                {"text": "Could reads skip the database?", "strength": 1, "indicator": CACHE},
                {"text": "Try LRU eviction.", "strength": 3, "indicator": EVICTION},
            ],
        }
    )


def take_all(policy: HintPolicy, question: Question, missing: tuple[str, ...] = ()) -> list[str]:
    given: list[HintGiven] = []
    while (hint := policy.next_hint(question, given, missing)) is not None:
        given.append(hint)
    return [hint.text for hint in given]


def test_hints_are_refused_in_a_real_interview() -> None:
    policy = HintPolicy("real")

    assert not policy.allowed
    with pytest.raises(HintsNotAllowed):
        policy.ensure_allowed()
    with pytest.raises(HintsNotAllowed):
        policy.next_hint(make_question(), [], [CACHE])


def test_practice_hints_go_from_nudge_to_strongest_then_run_out() -> None:
    policy = HintPolicy("practice")
    question = make_question()

    texts = take_all(policy, question)

    strengths = [next(h.strength for h in question.hints if h.text == t) for t in texts]
    assert strengths == sorted(strengths)
    assert texts[:2] == ["Where do reads spend their time?", "Could reads skip the database?"]
    assert len(texts) == len(question.hints)


def test_hints_aim_at_the_first_missing_indicator_weakest_first() -> None:
    policy = HintPolicy("practice")

    texts = take_all(policy, make_question(), (EVICTION, CACHE))

    assert texts == [
        "Caches fill up eventually.",
        "Try LRU eviction.",
        "Could reads skip the database?",
        "Put a cache before the DB.",
        "Where do reads spend their time?",
    ]


def test_hints_for_an_indicator_without_hints_fall_back_to_strength_order() -> None:
    policy = HintPolicy("practice")

    hint = policy.next_hint(make_question(), [], ["Mentions monitoring"])

    assert hint is not None and hint.strength == 1
    assert hint.text == "Where do reads spend their time?"


def test_hints_taken_on_another_question_do_not_count() -> None:
    policy = HintPolicy("practice")
    elsewhere = HintGiven("other-question", "Where do reads spend their time?", 1)

    hint = policy.next_hint(make_question(), [elsewhere])

    assert hint == HintGiven("slow-reads", "Where do reads spend their time?", 1, None)


def test_hint_records_round_trip() -> None:
    hint = HintGiven("slow-reads", "Try LRU eviction.", 3, EVICTION)

    assert HintGiven.from_dict(hint.to_dict()) == hint
