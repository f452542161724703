"""Helpers that drive an interview through the supervisor as a candidate would."""

from __future__ import annotations

import uuid
from typing import Any

from codesage.agents.template import InterviewTemplate
from codesage.engine.commands import Answer, Consent, Join
from codesage.node import Node

VAGUE_ANSWER = "Hmm, I am not really sure. It depends, I guess."


async def new_interview(node: Node, slug: str = "backend-python", mode: str = "real") -> uuid.UUID:
    """Schedule an interview on a shipped template."""
    template = await node.templates.latest(slug)
    assert template is not None
    record = await node.interviews.create(template.id, mode)
    return record.id


async def template_of(node: Node, slug: str = "backend-python") -> InterviewTemplate:
    """The shipped template as stored."""
    record = await node.templates.latest(slug)
    assert record is not None
    return InterviewTemplate.model_validate(record.body)


async def start(node: Node, interview_id: uuid.UUID) -> dict[str, Any]:
    """Join and consent; returns the snapshot with the first prompt."""
    await node.supervisor.ask(interview_id, Join())
    snapshot: dict[str, Any] = await node.supervisor.ask(interview_id, Consent(True))
    return snapshot


def strong_answer(template: InterviewTemplate, prompt: dict[str, Any]) -> str:
    """The question's reference answer (what a strong candidate would say)."""
    question = template.question(prompt["question_id"])
    assert question.rubric.reference_answer is not None
    return question.rubric.reference_answer


async def answer(node: Node, interview_id: uuid.UUID, prompt: dict[str, Any], text: str) -> None:
    """Answer `prompt` with `text`."""
    await node.supervisor.ask(interview_id, Answer(prompt["prompt_id"], text))


async def current_prompt(node: Node, interview_id: uuid.UUID) -> dict[str, Any] | None:
    """The prompt the candidate sees now (None once the interview is over)."""
    snapshot: dict[str, Any] = await node.supervisor.ask(interview_id, Join())
    if snapshot["state"] in ("done", "cancelled"):
        return None
    prompt: dict[str, Any] | None = snapshot["prompt"]
    return prompt
