"""Adaptive selection: informative questions, balanced competencies, stopping rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codesage.agents.adaptive import AdaptiveSelector, StopReason
from codesage.agents.template import InterviewTemplate, Question


def make_question(
    question_id: str,
    competency: str,
    difficulty: int,
    *,
    discrimination: float = 1.5,
    skills: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "id": question_id,
        "text": f"Question {question_id}?",
        "competency": competency,
        "difficulty": difficulty,
        "discrimination": discrimination,
        "skills": list(skills),
        "rubric": {"reference_answer": "A complete answer."},
    }


def make_template(
    questions: list[dict[str, Any]],
    competencies: tuple[str, ...] = ("coding", "design"),
    **settings: Any,
) -> InterviewTemplate:
    return InterviewTemplate.model_validate(
        {
            "slug": "adaptive-test",
            "title": "Adaptive test",
            "role": "Engineer",
            "kind": "technical",
            "competencies": [{"id": c, "name": c.title()} for c in competencies],
            "questions": questions,
            **settings,
        }
    )


def ladder(competency: str, **options: Any) -> list[dict[str, Any]]:
    """One question of each difficulty 1–5 for the competency."""
    return [make_question(f"{competency}-{d}", competency, d, **options) for d in range(1, 6)]


def ask(selector: AdaptiveSelector, level: int | None, elapsed_s: float = 0.0) -> Question:
    question = selector.choose_next(elapsed_s)
    assert question is not None
    selector.mark_asked(question.id)
    selector.record_level(question.id, level)
    return question


def test_first_question_is_the_most_informative_at_the_prior() -> None:
    selector = AdaptiveSelector(make_template(ladder("coding"), competencies=("coding",)))

    first = selector.choose_next(0.0)

    assert first is not None
    assert first.difficulty == 3


def test_strong_answers_lead_to_harder_questions_and_weak_ones_to_easier() -> None:
    template = make_template(ladder("coding"), competencies=("coding",))
    strong, weak = AdaptiveSelector(template), AdaptiveSelector(template)

    ask(strong, 5)
    ask(weak, 1)
    after_strong, after_weak = strong.choose_next(0.0), weak.choose_next(0.0)

    assert after_strong is not None and after_weak is not None
    assert after_strong.difficulty > 3
    assert after_weak.difficulty < 3
    assert strong.estimate("coding").theta > 0 > weak.estimate("coding").theta


def test_competencies_take_turns_while_their_uncertainty_is_equal() -> None:
    template = make_template(ladder("coding") + ladder("design"), max_questions_per_competency=3)
    selector = AdaptiveSelector(template)

    competencies = [ask(selector, 3).competency for _ in range(4)]

    assert competencies == ["coding", "design", "coding", "design"]


def test_the_least_certain_competency_is_asked_first() -> None:
    template = make_template(ladder("coding") + ladder("design"), max_questions_per_competency=4)
    selector = AdaptiveSelector(template)
    selector.mark_asked("coding-3")
    selector.record_level("coding-3", 3)
    selector.mark_asked("design-3")
    # An extreme answer leaves more posterior spread than a central one on the same item.
    selector.record_level("design-3", 5)

    assert selector.estimate("design").standard_error > selector.estimate("coding").standard_error
    chosen = selector.choose_next(0.0)
    assert chosen is not None and chosen.competency == "design"


def test_a_competency_stops_at_the_target_standard_error() -> None:
    template = make_template(
        ladder("coding", discrimination=3.5),
        competencies=("coding",),
        target_standard_error=0.5,
        max_questions_per_competency=5,
    )
    selector = AdaptiveSelector(template)

    asked = 0
    while selector.choose_next(0.0) is not None:
        ask(selector, 3)
        asked += 1

    status = selector.status("coding")
    assert status.stop_reason is StopReason.TARGET_STANDARD_ERROR
    assert status.estimate.standard_error <= 0.5
    assert 1 < asked < 5
    assert selector.stop_reason(0.0) is StopReason.ALL_COMPETENCIES_STOPPED


def test_a_competency_stops_at_its_question_budget() -> None:
    template = make_template(
        ladder("coding") + ladder("design"),
        target_standard_error=0.05,
        max_questions_per_competency=2,
    )
    selector = AdaptiveSelector(template)

    while selector.choose_next(0.0) is not None:
        ask(selector, 4)

    assert [s.questions_asked for s in selector.statuses()] == [2, 2]
    assert {s.stop_reason for s in selector.statuses()} == {StopReason.QUESTION_BUDGET}


def test_a_competency_stops_when_its_questions_run_out() -> None:
    template = make_template(
        [make_question("only", "coding", 3)],
        competencies=("coding",),
        target_standard_error=0.05,
        max_questions_per_competency=4,
    )
    selector = AdaptiveSelector(template)

    ask(selector, 3)

    assert selector.status("coding").stop_reason is StopReason.QUESTIONS_EXHAUSTED
    assert selector.choose_next(0.0) is None


def test_the_interview_stops_when_the_time_budget_is_spent() -> None:
    template = make_template(ladder("coding"), competencies=("coding",), time_budget_minutes=30)
    selector = AdaptiveSelector(template)

    assert selector.choose_next(30 * 60 - 1) is not None
    assert selector.choose_next(30 * 60) is None
    assert selector.stop_reason(30 * 60) is StopReason.TIME_BUDGET


def test_insufficient_evidence_uses_budget_without_moving_the_ability() -> None:
    template = make_template(
        ladder("coding"), competencies=("coding",), max_questions_per_competency=2
    )
    selector = AdaptiveSelector(template)

    ask(selector, None)

    status = selector.status("coding")
    assert status.estimate.theta == pytest.approx(0.0, abs=1e-9)
    assert status.estimate.standard_error == pytest.approx(1.0, abs=1e-3)
    assert (status.questions_asked, status.insufficient_answers) == (1, 1)
    ask(selector, None)
    assert selector.status("coding").stop_reason is StopReason.QUESTION_BUDGET


def test_priority_skills_boost_matching_questions() -> None:
    questions = [
        make_question("general", "coding", 3),
        make_question("sql", "coding", 3, skills=("PostgreSQL", "Data   modelling")),
    ]
    template = make_template(questions, competencies=("coding",))

    plain = AdaptiveSelector(template).choose_next(0.0)
    boosted = AdaptiveSelector(template, priority_skills=["data modelling"]).choose_next(0.0)

    assert plain is not None and plain.id == "general"
    assert boosted is not None and boosted.id == "sql"


def test_a_small_boost_does_not_override_a_much_better_question() -> None:
    questions = [
        make_question("fits", "coding", 3),
        make_question("too-hard", "coding", 5, skills=("rust",)),
    ]
    template = make_template(questions, competencies=("coding",))

    chosen = AdaptiveSelector(template, priority_skills=["Rust"]).choose_next(0.0)

    assert chosen is not None and chosen.id == "fits"


def test_recording_is_checked() -> None:
    selector = AdaptiveSelector(make_template(ladder("coding"), competencies=("coding",)))

    with pytest.raises(ValueError, match="not asked"):
        selector.record_level("coding-1", 3)
    selector.mark_asked("coding-1")
    with pytest.raises(ValueError, match="already asked"):
        selector.mark_asked("coding-1")
    with pytest.raises(ValueError, match="level"):
        selector.record_level("coding-1", 6)
    with pytest.raises(KeyError):
        selector.mark_asked("missing")


def test_state_round_trips_through_json_and_keeps_choosing_the_same() -> None:
    template = make_template(ladder("coding") + ladder("design"), max_questions_per_competency=4)
    selector = AdaptiveSelector(template, priority_skills=["Go"])
    for level in (5, 2, None):
        ask(selector, level)
    selector.mark_asked("design-5")

    restored = AdaptiveSelector.from_dict(template, json.loads(json.dumps(selector.to_dict())))

    assert restored.to_dict() == selector.to_dict()
    for level in (4, 1, 3):
        original_choice, restored_choice = selector.choose_next(0.0), restored.choose_next(0.0)
        assert original_choice is not None and original_choice == restored_choice
        assert selector.estimate(original_choice.competency) == restored.estimate(
            original_choice.competency
        )
        for each in (selector, restored):
            each.mark_asked(original_choice.id)
            each.record_level(original_choice.id, level)
