"""A whole typed interview through the engine, on real Postgres, Redis and the real scorer."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from codesage.engine.commands import (
    Answer,
    HintRequest,
    InterviewError,
    ObserverAction,
    PartialAnswer,
)
from codesage.node import Node
from codesage.storage.journal import InterviewEvent, InterviewJournal
from tests.engine.interview_script import (
    VAGUE_ANSWER,
    answer,
    current_prompt,
    new_interview,
    start,
    strong_answer,
    template_of,
)


async def test_a_complete_interview_is_logged_in_order_and_scored(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    snapshot = await start(node, interview_id)
    prompt = snapshot["prompt"]
    assert snapshot["state"] == "questioning" and prompt["kind"] == "question"
    answered = 0
    while prompt is not None and prompt["kind"] != "closing":
        await answer(node, interview_id, prompt, strong_answer(template, prompt))
        answered += 1
        assert answered < 40, "the interview must end"
        prompt = await current_prompt(node, interview_id)

    journal_events = await _events(node, interview_id)
    seqs = [e.seq for e in journal_events]
    assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers have no gaps"
    types = [e.type for e in journal_events]
    assert types[-1] == "ended" and journal_events[-1].payload["reason"] == "completed"
    scores = [e for e in journal_events if e.type == "score"]
    assert len(scores) == answered
    # Strong answers score well: reference answers should rarely fall below level 3.
    levels = [e.payload["level"] for e in scores if not e.payload["insufficient_evidence"]]
    assert levels and sum(level >= 3 for level in levels) / len(levels) >= 0.8
    record = await node.interviews.get(interview_id)
    assert record is not None and record.state == "done" and record.ended_at is not None
    stored_scores = await node.storage.pool.fetchval(
        "SELECT count(*) FROM scores WHERE interview_id = $1", interview_id
    )
    assert stored_scores == answered
    turns = await node.storage.pool.fetch(
        "SELECT answer_text FROM turns WHERE interview_id = $1 ORDER BY ordinal", interview_id
    )
    assert len(turns) == answered and all(t["answer_text"] for t in turns)


async def _events(node: Node, interview_id: uuid.UUID) -> list[InterviewEvent]:
    return await InterviewJournal(node.storage.pool).events_after(interview_id, 0, 10_000)


async def test_a_vague_answer_gets_a_follow_up(node: Node) -> None:
    interview_id = await new_interview(node)
    snapshot = await start(node, interview_id)
    first = snapshot["prompt"]
    await answer(node, interview_id, first, VAGUE_ANSWER)
    follow_up = await current_prompt(node, interview_id)
    assert follow_up is not None
    assert follow_up["kind"] == "follow_up"
    assert follow_up["question_id"] == first["question_id"]


async def test_answers_to_stale_or_answered_prompts_are_refused(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    prompt = (await start(node, interview_id))["prompt"]
    with pytest.raises(InterviewError) as stale:
        await node.supervisor.ask(interview_id, Answer("not-the-prompt", "text"))
    assert stale.value.code == "stale_prompt"
    await answer(node, interview_id, prompt, strong_answer(template, prompt))
    with pytest.raises(InterviewError) as again:
        await answer(node, interview_id, prompt, "second answer")
    assert again.value.code in ("already_answered", "stale_prompt")


async def test_live_captions_are_logged_with_their_tentative_words(node: Node) -> None:
    interview_id = await new_interview(node)
    prompt_id = (await start(node, interview_id))["prompt"]["prompt_id"]
    await node.supervisor.ask(interview_id, PartialAnswer(prompt_id, "", "I would"))
    await node.supervisor.ask(interview_id, PartialAnswer(prompt_id, "I would", "add a"))
    await node.supervisor.ask(interview_id, PartialAnswer(prompt_id, "I would add a cache"))
    await node.supervisor.ask(interview_id, PartialAnswer(prompt_id, " ", " "))  # nothing
    partials = [e.payload for e in await _events(node, interview_id) if e.type == "answer_partial"]
    assert partials == [
        {"prompt_id": prompt_id, "text": "", "tentative": "I would"},
        {"prompt_id": prompt_id, "text": "I would", "tentative": "add a"},
        {"prompt_id": prompt_id, "text": "I would add a cache"},
    ]


async def test_hints_never_appear_in_a_real_interview(node: Node) -> None:
    interview_id = await new_interview(node, mode="real")
    prompt = (await start(node, interview_id))["prompt"]
    with pytest.raises(InterviewError) as refused:
        await node.supervisor.ask(interview_id, HintRequest(prompt["prompt_id"]))
    assert refused.value.code == "hints_not_allowed"
    events = await _events(node, interview_id)
    assert not [e for e in events if e.type == "hint"]


async def test_practice_hints_are_graded_and_recorded(node: Node) -> None:
    interview_id = await new_interview(node, mode="practice")
    prompt = (await start(node, interview_id))["prompt"]
    first = await node.supervisor.ask(interview_id, HintRequest(prompt["prompt_id"]))
    second = await node.supervisor.ask(interview_id, HintRequest(prompt["prompt_id"]))
    assert first["hint"]["strength"] <= second["hint"]["strength"]
    assert first["hint"]["text"] != second["hint"]["text"]
    events = await _events(node, interview_id)
    assert [e.payload["text"] for e in events if e.type == "hint"] == [
        first["hint"]["text"],
        second["hint"]["text"],
    ]


async def test_pause_refuses_answers_until_resumed(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    prompt = (await start(node, interview_id))["prompt"]
    await node.supervisor.ask(interview_id, ObserverAction("pause", "staff"))
    with pytest.raises(InterviewError) as paused:
        await answer(node, interview_id, prompt, strong_answer(template, prompt))
    assert paused.value.code == "paused"
    await node.supervisor.ask(interview_id, ObserverAction("resume", "staff"))
    await answer(node, interview_id, prompt, strong_answer(template, prompt))


async def test_injected_question_is_asked_after_the_current_answer(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    prompt = (await start(node, interview_id))["prompt"]
    await node.supervisor.ask(
        interview_id, ObserverAction("inject_question", "staff", "Tell me about your last project.")
    )
    await answer(node, interview_id, prompt, strong_answer(template, prompt))
    injected = await current_prompt(node, interview_id)
    assert injected is not None
    assert injected["kind"] == "injected"
    assert injected["text"] == "Tell me about your last project."


async def test_take_over_asks_at_once_and_hand_back_resumes_the_plan(node: Node) -> None:
    interview_id = await new_interview(node)
    ai_prompt = (await start(node, interview_id))["prompt"]
    await node.supervisor.ask(interview_id, ObserverAction("take_over", "staff"))
    await node.supervisor.ask(
        interview_id, ObserverAction("inject_question", "staff", "Why this role?")
    )
    human = await current_prompt(node, interview_id)
    assert human is not None and human["kind"] == "injected"
    await answer(node, interview_id, human, "Because I enjoy backend work with Python.")
    still_human = await current_prompt(node, interview_id)
    assert still_human is not None and still_human["prompt_id"] == human["prompt_id"]
    await node.supervisor.ask(interview_id, ObserverAction("hand_back", "staff"))
    back = await current_prompt(node, interview_id)
    assert back is not None and back["question_id"] == ai_prompt["question_id"]


async def test_end_closes_the_interview_and_later_answers_are_refused(node: Node) -> None:
    interview_id = await new_interview(node)
    prompt = (await start(node, interview_id))["prompt"]
    await node.supervisor.ask(interview_id, ObserverAction("note", "staff", "Clear speaker."))
    await node.supervisor.ask(interview_id, ObserverAction("end", "staff"))
    with pytest.raises(InterviewError) as ended:
        await answer(node, interview_id, prompt, "late answer")
    assert ended.value.code == "interview_ended"
    events = await _events(node, interview_id)
    assert events[-1].type == "ended"
    assert events[-1].payload["reason"] == "ended_by_interviewer"
    assert [e.payload["text"] for e in events if e.type == "note"] == ["Clear speaker."]


async def test_a_caller_that_gives_up_does_not_crash_the_actor(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    prompt = (await start(node, interview_id))["prompt"]
    actor = await node.supervisor.actor(interview_id)
    task = actor.task
    waiting = asyncio.create_task(
        answer(node, interview_id, prompt, strong_answer(template, prompt))
    )
    await asyncio.sleep(0)  # let the command reach the mailbox
    waiting.cancel()
    # The actor still handles the answer; the next command is served by the same actor.
    following = await asyncio.wait_for(current_prompt(node, interview_id), 30)
    assert following is not None and following["prompt_id"] != prompt["prompt_id"]
    assert (await node.supervisor.actor(interview_id)).task is task
