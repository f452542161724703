"""An interview survives its actor: a fresh supervisor rebuilds it from Postgres alone."""

from __future__ import annotations

from typing import Any

from codesage.agents.answer_score import AnswerScore
from codesage.agents.template import Rubric
from codesage.engine.commands import Answer, Consent, InterviewError, Join
from codesage.engine.event_log import InterviewEventLog
from codesage.engine.loader import InterviewActorLoader
from codesage.engine.supervisor import ActorSupervisor
from codesage.node import Node
from codesage.storage.journal import InterviewEvent, InterviewJournal
from tests.engine.interview_script import (
    answer,
    current_prompt,
    new_interview,
    start,
    strong_answer,
    template_of,
)


class EventCollector:
    """A real event sink that keeps what it receives (stands in for the socket hub)."""

    def __init__(self) -> None:
        self.events: list[InterviewEvent] = []

    async def publish(self, interview_id: Any, mode: str, event: InterviewEvent) -> None:
        self.events.append(event)


class FailsOnce:
    """Wraps the real scorer so that its first call raises: a crash mid-answer."""

    def __init__(self, scorer: Any):
        self._scorer = scorer
        self.calls = 0

    def prepare(self, question: str, rubric: Rubric) -> None:
        self._scorer.prepare(question, rubric)

    async def score(self, question: str, answer: str, rubric: Rubric) -> AnswerScore:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("scorer crashed")
        result: AnswerScore = await self._scorer.score(question, answer, rubric)
        return result


def _second_supervisor(node: Node, scorer: Any, sink: EventCollector) -> ActorSupervisor:
    journal = InterviewJournal(node.storage.pool)
    log = InterviewEventLog(journal, node.storage.live, sink)
    return ActorSupervisor(InterviewActorLoader(node.interviews, node.templates, log, scorer))


async def test_a_new_node_continues_at_the_same_question_with_no_event_lost(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    first = (await start(node, interview_id))["prompt"]
    await answer(node, interview_id, first, strong_answer(template, first))
    open_prompt = await current_prompt(node, interview_id)
    assert open_prompt is not None
    before = await InterviewJournal(node.storage.pool).events_after(interview_id)
    await node.supervisor.stop_all()  # the first node goes away

    sink = EventCollector()
    other = _second_supervisor(node, node.scoring, sink)
    try:
        snapshot = await other.ask(interview_id, Join())
        assert snapshot["prompt"]["prompt_id"] == open_prompt["prompt_id"]
        assert snapshot["last_seq"] == before[-1].seq
        await other.ask(
            interview_id,
            Answer(open_prompt["prompt_id"], strong_answer(template, open_prompt)),
        )
    finally:
        await other.stop_all()
    after = await InterviewJournal(node.storage.pool).events_after(interview_id)
    assert [e.seq for e in after] == list(range(1, len(after) + 1))
    assert after[: len(before)] == before
    assert [e.seq for e in sink.events] == [e.seq for e in after[len(before) :]]


async def test_a_crash_while_scoring_resumes_and_scores_the_stored_answer(node: Node) -> None:
    interview_id = await new_interview(node)
    template = await template_of(node)
    await node.supervisor.stop_all()
    flaky = FailsOnce(node.scoring)
    supervisor = _second_supervisor(node, flaky, EventCollector())
    try:
        await supervisor.ask(interview_id, Join())
        prompt = (await supervisor.ask(interview_id, Consent(True)))["prompt"]
        text = strong_answer(template, prompt)
        try:
            await supervisor.ask(interview_id, Answer(prompt["prompt_id"], text))
        except InterviewError as exc:
            assert exc.code == "temporarily_unavailable"
        else:
            raise AssertionError("the first scoring attempt crashes")
        # The supervisor restarted the actor; it scores the stored answer before anything else.
        await supervisor.ask(interview_id, Join())
    finally:
        await supervisor.stop_all()
    events = await InterviewJournal(node.storage.pool).events_after(interview_id)
    finals = [e for e in events if e.type == "answer_final"]
    scores = [e for e in events if e.type == "score"]
    assert [e.payload["text"] for e in finals] == [text]
    assert len(scores) == 1 and scores[0].payload["prompt_id"] == prompt["prompt_id"]
    assert flaky.calls == 2
