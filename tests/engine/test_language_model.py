"""The optional language model in the live service, against a local fake OpenAI server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpServer

from codesage.config.settings import LanguageModelConfig
from codesage.engine.commands import ObserverAction
from codesage.engine.event_log import candidate_event_types
from codesage.node import Node, build_node
from codesage.signaling.auth import Role
from codesage.storage.connections import Storage
from codesage.storage.journal import InterviewEvent, InterviewJournal
from tests.conftest import TEST_JWT_SECRET, TEST_REDIS_URL
from tests.engine.interview_script import (
    VAGUE_ANSWER,
    answer,
    current_prompt,
    start,
    strong_answer,
    template_of,
)
from tests.fake_openai import FakeOpenAI, start_fake_openai

MODEL_PROBE = "Which numbers would tell you that change worked in production?"
MODEL_GRADE = '{"level": 2, "rationale": "Names the idea but gives no trade-off."}'
RESUME_QUESTIONS = [
    "Tell me about the FastAPI service you moved off the monolith: what went wrong first?",
    "How did you find the slow PostgreSQL queries you tuned?",
]
RESUME = """Zofia Kowalczyk
zofia.kowalczyk@example.pl · +48 601 234 567 · Warsaw
Senior backend engineer, 7 years of experience.
Skills: Python, FastAPI, PostgreSQL, Redis, Docker.
- Moved a Django monolith to FastAPI services.
- Tuned PostgreSQL queries, cutting p95 latency by 40%.
"""


def reply_by_task(messages: list[dict[str, str]]) -> str:
    """Answers like a model would, told apart by the task the system message sets."""
    system = messages[0]["content"]
    if "follow-up question" in system:
        return f"Follow-up: {MODEL_PROBE}"
    if "rating scale" in system:
        return MODEL_GRADE
    if "JSON array" in system:
        return "\n".join(["```json", str(RESUME_QUESTIONS).replace("'", '"'), "```"])
    raise AssertionError(f"unexpected task: {system[:80]}")


@pytest.fixture
async def fake_llm(aiohttp_server: AiohttpServer) -> tuple[FakeOpenAI, str]:
    return await start_fake_openai(aiohttp_server, FakeOpenAI(responder=reply_by_task))


async def node_with_model(
    storage: Storage, redis_prefix: str, scorer: Any, base_url: str, timeout_s: float
) -> Node:
    return await build_node(
        storage,
        redis_url=TEST_REDIS_URL,
        jwt_secret=TEST_JWT_SECRET,
        inference_threads=2,
        web_dist=None,
        scorer=scorer,
        socket_channel=f"{redis_prefix}socketio",
        language_model=LanguageModelConfig(base_url, "fake-model", "key-1", timeout_s, 2),
    )


@pytest.fixture
async def llm_node(
    storage: Storage, redis_prefix: str, rubric_scorer: Any, fake_llm: tuple[FakeOpenAI, str]
) -> AsyncIterator[Node]:
    node = await node_with_model(storage, redis_prefix, rubric_scorer, fake_llm[1], 5.0)
    yield node
    await node.close()


async def interview_without_template_probes(node: Node) -> uuid.UUID:
    """An interview whose questions have no follow-ups of their own, so probes are written."""
    template = await template_of(node)
    questions = [q.model_copy(update={"follow_ups": []}) for q in template.questions]
    body = template.model_copy(update={"slug": "no-probes", "questions": questions})
    saved = await node.templates.save(
        "no-probes", body.title, body.role, body.model_dump(mode="json")
    )
    return (await node.interviews.create(saved.id, "real")).id


async def events(node: Node, interview_id: uuid.UUID) -> list[InterviewEvent]:
    return await InterviewJournal(node.storage.pool).events_after(interview_id, 0, 10_000)


async def test_the_model_writes_the_probe_when_the_template_has_none(
    llm_node: Node, fake_llm: tuple[FakeOpenAI, str]
) -> None:
    interview_id = await interview_without_template_probes(llm_node)
    first = (await start(llm_node, interview_id))["prompt"]
    await answer(llm_node, interview_id, first, VAGUE_ANSWER)
    probe = await current_prompt(llm_node, interview_id)
    assert probe is not None
    assert (probe["kind"], probe["question_id"]) == ("follow_up", first["question_id"])
    assert probe["text"] == MODEL_PROBE
    asked = fake_llm[0].received[0]["messages"][1]["content"]
    assert first["text"] in asked and VAGUE_ANSWER in asked
    template = await template_of(llm_node)
    missed = template.question(first["question_id"]).rubric.key_indicators
    assert all(f"- {point}" in asked for point in missed), "it is told what a strong answer has"


async def test_a_stalled_model_falls_back_to_the_rule_based_probe(
    storage: Storage, redis_prefix: str, rubric_scorer: Any, fake_llm: tuple[FakeOpenAI, str]
) -> None:
    fake, url = fake_llm
    fake.stall = asyncio.Event()  # never set
    node = await node_with_model(storage, redis_prefix, rubric_scorer, url, 0.3)
    try:
        interview_id = await interview_without_template_probes(node)
        first = (await start(node, interview_id))["prompt"]
        await answer(node, interview_id, first, VAGUE_ANSWER)
        probe = await current_prompt(node, interview_id)
        assert probe is not None and probe["kind"] == "follow_up"
        assert probe["text"].startswith("Could you"), probe["text"]
        assert fake.received, "the model was asked"
    finally:
        await node.close()


async def test_a_second_opinion_reaches_reviewers_even_after_the_interview_ends(
    llm_node: Node, aiohttp_client: Any
) -> None:
    template = await template_of(llm_node)
    record = await llm_node.interviews.create(
        (await llm_node.templates.latest("backend-python")).id,  # type: ignore[union-attr]
        "practice",
    )
    first = (await start(llm_node, record.id))["prompt"]
    await answer(llm_node, record.id, first, strong_answer(template, first))
    # Ended at once: the opinion arrives after the actor has stopped.
    await llm_node.supervisor.ask(record.id, ObserverAction("end", str(uuid.uuid4())))
    assert llm_node.language_model is not None
    await llm_node.language_model.second_opinions.settle()

    logged = await events(llm_node, record.id)
    opinions = [e.payload for e in logged if e.type == "second_opinion"]
    assert opinions == [
        {
            "prompt_id": first["prompt_id"],
            "question_id": first["question_id"],
            "level": 2,
            "rationale": "Names the idea but gives no trade-off.",
        }
    ]
    assert "second_opinion" not in candidate_event_types("practice")

    client: TestClient[Any, Any] = await aiohttp_client(llm_node.app)
    token = llm_node.tokens.issue(Role.RECRUITER, subject=str(uuid.uuid4()))
    reply = await client.get(
        f"/api/v1/interviews/{record.id}/report", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status == 200, await reply.text()
    (scored,) = (await reply.json())["scores"]["answers"]
    assert scored["second_opinion"] == {"level": 2, "rationale": opinions[0]["rationale"]}
    assert scored["level"] is not None, "the engine's own level stays the score"


async def test_resume_questions_are_asked_first_unscored_and_see_no_personal_data(
    llm_node: Node, fake_llm: tuple[FakeOpenAI, str], aiohttp_client: Any
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(llm_node.app)
    template = await llm_node.templates.latest("backend-python")
    assert template is not None
    token = llm_node.tokens.issue(Role.ADMIN, subject=str(uuid.uuid4()))
    reply = await client.post(
        "/api/v1/interviews",
        json={"template_id": str(template.id), "mode": "real", "resume_text": RESUME},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status == 201, await reply.text()
    interview_id = uuid.UUID((await reply.json())["id"])

    sent = fake_llm[0].sent_text()
    for personal in ("Zofia", "Kowalczyk", "example.pl", "601 234 567", "Warsaw"):
        assert personal not in sent
    assert "fastapi" in sent.lower()

    first = (await start(llm_node, interview_id))["prompt"]
    assert (first["kind"], first["text"], first["competency"]) == (
        "resume",
        RESUME_QUESTIONS[0],
        None,
    )
    await answer(llm_node, interview_id, first, "We split it service by service over a year.")
    second = await current_prompt(llm_node, interview_id)
    assert second is not None
    assert (second["kind"], second["text"]) == ("resume", RESUME_QUESTIONS[1])
    await answer(llm_node, interview_id, second, "With pg_stat_statements and EXPLAIN.")
    third = await current_prompt(llm_node, interview_id)
    assert third is not None and third["kind"] == "question"
    assert not [e for e in await events(llm_node, interview_id) if e.type == "score"]
