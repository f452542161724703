"""InterviewSession: prompt flow, follow-ups, hints, ad-hoc questions and checkpoints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from codesage.agents.adaptive import StopReason
from codesage.agents.answer_score import AnswerScore, EvidenceSpan
from codesage.agents.hints import HintsNotAllowed
from codesage.agents.interviewer import InterviewClosed, InterviewSession, Prompt
from codesage.agents.template import InterviewTemplate, Rubric

CACHE, EVICTION = "Mentions a cache", "Chooses an eviction policy"


def make_question(question_id: str, competency: str, difficulty: int) -> dict[str, Any]:
    return {
        "id": question_id,
        "text": f"Tell me about {question_id.replace('-', ' ')}.",
        "competency": competency,
        "difficulty": difficulty,
        "follow_ups": [f"What would you change in {question_id}?"],
        "hints": [
            {"text": f"{question_id}: think about speed.", "strength": 1},
            {"text": f"{question_id}: caches evict.", "strength": 2, "indicator": EVICTION},
            {"text": f"{question_id}: use LRU.", "strength": 3, "indicator": EVICTION},
        ],
        "rubric": {"reference_answer": "A full answer.", "key_indicators": [CACHE, EVICTION]},
    }


def make_template(**settings: Any) -> InterviewTemplate:
    questions = [make_question(f"design-{d}", "design", d) for d in (1, 3, 5)]
    questions += [make_question(f"coding-{d}", "coding", d) for d in (2, 3, 4)]
    return InterviewTemplate.model_validate(
        {
            "slug": "session-test",
            "title": "Session test",
            "role": "Backend engineer",
            "kind": "technical",
            "competencies": [
                {"id": "design", "name": "System design", "weight": 2.0},
                {"id": "coding", "name": "Coding"},
            ],
            "questions": questions,
            "max_questions_per_competency": 2,
            "time_budget_minutes": 20,
            **settings,
        }
    )


def make_score(
    level: int | None, missing: Sequence[str] = (), confidence: float = 0.9
) -> AnswerScore:
    return AnswerScore(
        level=level,
        score=None if level is None else (level - 1) / 4,
        confidence=confidence,
        insufficient_evidence=level is None,
        evidence=() if level is None else (EvidenceSpan(0, 12, CACHE, 0.61),),
        matched_indicators=tuple(i for i in (CACHE, EVICTION) if i not in missing),
        missing_indicators=tuple(missing),
        reason="too short" if level is None else None,
        details={"cosine": 0.5},
    )


STRONG = make_score(5)
VAGUE = make_score(2, missing=[EVICTION])


def answer(session: InterviewSession, prompt: Prompt, score: AnswerScore) -> None:
    assert prompt.question_id is not None
    session.record_score(prompt.question_id, score, is_follow_up=prompt.kind == "follow_up")


def run_to_end(session: InterviewSession, score: AnswerScore) -> list[Prompt]:
    prompts: list[Prompt] = []
    while (prompt := session.next_prompt(60.0 * len(prompts))) is not None:
        prompts.append(prompt)
        if prompt.kind != "closing":
            answer(session, prompt, score)
    return prompts


def test_a_real_interview_runs_from_first_question_to_closing() -> None:
    session = InterviewSession(make_template(), "real")

    prompts = run_to_end(session, STRONG)

    kinds = [p.kind for p in prompts]
    assert kinds == ["question"] * 4 + ["closing"]
    assert len({p.question_id for p in prompts[:-1]}) == 4
    assert session.closed and session.next_prompt(0.0) is None
    summary = session.summary()
    assert summary.stop_reason is StopReason.ALL_COMPETENCIES_STOPPED
    assert [c.questions_asked for c in summary.competencies] == [2, 2]
    assert summary.overall_theta is not None and summary.overall_theta > 1.0
    assert json.loads(json.dumps(summary.to_dict()))["stop_reason"] == "all_competencies_stopped"


def test_vague_answers_get_follow_ups_up_to_the_limit() -> None:
    session = InterviewSession(make_template(max_follow_ups_per_question=2), "real")

    question = session.next_prompt(0.0)
    assert question is not None and question.question_id is not None
    answer(session, question, VAGUE)
    first = session.next_prompt(30.0)
    assert first == Prompt("follow_up", question.question_id, question_probe(question))
    answer(session, first, VAGUE)
    second = session.next_prompt(60.0)
    assert second == Prompt(
        "follow_up", question.question_id, "Could you say more about an eviction policy?"
    )
    answer(session, second, VAGUE)
    after = session.next_prompt(90.0)

    assert after is not None and after.kind == "question"
    assert after.question_id != question.question_id
    outcome = session.summary().questions[0]
    assert outcome.follow_ups == (first.text, second.text)


def question_probe(prompt: Prompt) -> str:
    return f"What would you change in {prompt.question_id}?"


def test_strong_answers_get_no_follow_up() -> None:
    session = InterviewSession(make_template(), "real")

    first = session.next_prompt(0.0)
    assert first is not None
    answer(session, first, STRONG)
    second = session.next_prompt(30.0)

    assert second is not None and second.kind == "question"


def test_the_follow_up_score_replaces_the_original_one() -> None:
    session = InterviewSession(make_template(), "real")
    question = session.next_prompt(0.0)
    assert question is not None
    answer(session, question, make_score(None))
    assert session.summary().competencies[0].estimate.theta == pytest.approx(0.0, abs=1e-9)

    follow_up = session.next_prompt(30.0)
    assert follow_up is not None and follow_up.kind == "follow_up"
    answer(session, follow_up, STRONG)

    summary = session.summary()
    assert summary.questions[0].score == STRONG
    assert summary.competencies[0].estimate.theta > 0.5
    assert summary.competencies[0].insufficient_answers == 0


def test_the_pending_prompt_is_repeated_until_its_score_arrives() -> None:
    session = InterviewSession(make_template(), "real")

    first = session.next_prompt(0.0)

    assert session.next_prompt(10.0) == first
    assert session.awaiting == first


def test_scores_must_belong_to_the_pending_prompt() -> None:
    session = InterviewSession(make_template(), "real")
    first = session.next_prompt(0.0)
    assert first is not None and first.question_id is not None

    with pytest.raises(ValueError, match="awaited"):
        session.record_score("coding-4", STRONG)
    with pytest.raises(ValueError, match="is_follow_up"):
        session.record_score(first.question_id, STRONG, is_follow_up=True)


def test_the_time_budget_closes_the_interview_even_with_a_follow_up_due() -> None:
    session = InterviewSession(make_template(), "real")
    first = session.next_prompt(0.0)
    assert first is not None
    answer(session, first, VAGUE)

    closing = session.next_prompt(20 * 60.0)

    assert closing is not None and closing.kind == "closing"
    assert session.summary().stop_reason is StopReason.TIME_BUDGET


def test_hints_never_appear_in_a_real_interview() -> None:
    session = InterviewSession(make_template(), "real")
    first = session.next_prompt(0.0)
    assert first is not None and first.question_id is not None

    with pytest.raises(HintsNotAllowed):
        session.request_hint(first.question_id)
    answer(session, first, VAGUE)
    with pytest.raises(HintsNotAllowed):
        session.request_hint(first.question_id)
    assert all(not q.hints for q in session.summary().questions)


def test_practice_hints_follow_the_missing_indicators_and_are_recorded() -> None:
    session = InterviewSession(make_template(), "practice")
    first = session.next_prompt(0.0)
    assert first is not None and first.question_id is not None
    qid = first.question_id

    before_answer = session.request_hint(qid)
    answer(session, first, VAGUE)
    aimed = session.request_hint(qid)
    stronger = session.request_hint(qid)
    none_left = session.request_hint(qid)

    assert before_answer is not None and before_answer.text == f"{qid}: think about speed."
    assert aimed is not None and (aimed.text, aimed.indicator) == (
        f"{qid}: caches evict.",
        EVICTION,
    )
    assert stronger is not None and stronger.strength == 3
    assert none_left is None
    outcome = session.summary().questions[0]
    assert outcome.score == VAGUE
    assert [h.strength for h in outcome.hints] == [1, 2, 3]
    with pytest.raises(ValueError, match="not been asked"):
        session.request_hint("coding-4" if qid != "coding-4" else "design-1")


def test_an_unscored_ad_hoc_question_is_asked_next_and_awaits_nothing() -> None:
    session = InterviewSession(make_template(), "real")
    first = session.next_prompt(0.0)
    assert first is not None
    answer(session, first, VAGUE)

    ad_hoc_id = session.inject_question("  How do you like to receive feedback?  ")
    ad_hoc = session.next_prompt(30.0)
    after = session.next_prompt(60.0)

    assert ad_hoc == Prompt("question", ad_hoc_id, "How do you like to receive feedback?")
    # The human's question took the moment: the earlier answer is not probed afterwards.
    assert after is not None and after.kind == "question" and after.question_id != ad_hoc_id
    outcomes = {q.question_id: q for q in session.summary().questions}
    assert outcomes[ad_hoc_id].competency_id is None
    assert outcomes[ad_hoc_id].score is None


def test_a_scored_ad_hoc_question_is_kept_out_of_the_ability_estimates() -> None:
    session = InterviewSession(make_template(), "real")
    rubric = Rubric(reference_answer="Owns the rollback.", key_indicators=["Rolls back"])
    ad_hoc_id = session.inject_question("Tell me about an outage you caused.", rubric)

    prompt = session.next_prompt(0.0)
    assert prompt is not None and prompt.question_id == ad_hoc_id
    assert session.awaiting == prompt
    session.record_score(ad_hoc_id, STRONG)

    summary = session.summary()
    assert summary.questions[0].score == STRONG
    assert summary.overall_theta is None
    assert all(c.questions_asked == 0 for c in summary.competencies)


def test_nothing_can_be_injected_after_the_closing() -> None:
    session = InterviewSession(make_template(), "real")
    with pytest.raises(ValueError):
        session.inject_question("   ")
    run_to_end(session, STRONG)

    with pytest.raises(InterviewClosed):
        session.inject_question("One more thing?")


def scripted_score(prompt: Prompt, step: int) -> AnswerScore:
    """A deterministic mix of strong, vague and empty answers."""
    return (STRONG, VAGUE, make_score(None), make_score(3, [CACHE], 0.4))[step % 4]


def test_a_restored_session_makes_the_same_choices_to_the_end() -> None:
    template = make_template(max_follow_ups_per_question=2, max_questions_per_competency=3)
    session = InterviewSession(template, "practice", priority_skills=["Python"])
    session.inject_question("What brings you here?")

    step = 0
    while True:
        restored = InterviewSession.from_dict(template, json.loads(json.dumps(session.to_dict())))
        assert restored.to_dict() == session.to_dict()
        prompt = session.next_prompt(45.0 * step)
        assert restored.next_prompt(45.0 * step) == prompt
        if prompt is None:
            break
        if prompt.kind != "closing" and prompt.question_id in template_ids(template):
            session.request_hint(prompt.question_id)
            restored.request_hint(prompt.question_id)
        if session.awaiting is not None:
            answer(session, prompt, scripted_score(prompt, step))
            answer(restored, prompt, scripted_score(prompt, step))
        assert restored.to_dict() == session.to_dict()
        session = restored
        step += 1

    summary = session.summary()
    assert summary.closed
    assert any(q.follow_ups for q in summary.questions)
    assert any(q.hints for q in summary.questions)


def template_ids(template: InterviewTemplate) -> set[str]:
    return {q.id for q in template.questions}


def test_a_checkpoint_taken_while_a_prompt_is_pending_re_asks_it() -> None:
    template = make_template()
    session = InterviewSession(template, "real")
    pending = session.next_prompt(0.0)

    restored = InterviewSession.from_dict(template, json.loads(json.dumps(session.to_dict())))

    assert restored.next_prompt(5.0) == pending


def test_state_for_another_template_is_refused() -> None:
    session = InterviewSession(make_template(), "real")
    other = make_template().model_copy(update={"slug": "other-template"})

    with pytest.raises(ValueError, match="template"):
        InterviewSession.from_dict(other, session.to_dict())
    with pytest.raises(ValueError, match="version"):
        InterviewSession.from_dict(make_template(), {**session.to_dict(), "version": 99})
