"""The optional LLM path against a local fake server speaking the OpenAI chat-completions API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from codesage.agents.llm import (
    LLMError,
    LLMInterviewAssistant,
    OpenAICompatibleLLM,
    SecondOpinion,
)
from codesage.agents.pii import PiiScrubber
from codesage.agents.resume import ResumeProfile
from codesage.agents.template import Competency, Rubric, RubricLevel
from tests.fake_openai import FakeOpenAI, start_fake_openai

MODEL = "interview-model-7b"
API_KEY = "test-key-123"


@pytest.fixture
async def fake_server(aiohttp_server: AiohttpServer) -> tuple[FakeOpenAI, str]:
    return await start_fake_openai(aiohttp_server)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


MakeLLM = Callable[..., OpenAICompatibleLLM]


@pytest.fixture
def make_llm(
    fake_server: tuple[FakeOpenAI, str], session: aiohttp.ClientSession
) -> Callable[..., OpenAICompatibleLLM]:
    def make(timeout: float = 5.0) -> OpenAICompatibleLLM:
        return OpenAICompatibleLLM(fake_server[1], MODEL, API_KEY, session, timeout)

    return make


RUBRIC = Rubric(
    levels=[
        RubricLevel(level=1, anchor="Names a tool without explaining it."),
        RubricLevel(level=3, anchor="Explains connection pooling with one trade-off."),
        RubricLevel(level=5, anchor="Sizes the pool from measurements and explains failure modes."),
    ],
    key_indicators=["pool size", "timeouts"],
)


async def test_complete_posts_the_model_and_messages(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.answer_with("Hello there.")
    reply = await make_llm().complete([{"role": "user", "content": "Say hello."}])
    assert reply == "Hello there."
    assert fake.received[0]["model"] == MODEL
    assert fake.received[0]["messages"] == [{"role": "user", "content": "Say hello."}]
    assert fake.authorizations == [f"Bearer {API_KEY}"]


async def test_follow_up_names_the_gap_and_returns_the_question(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.answer_with('Follow-up: "How would you choose the pool size?"\n')
    assistant = LLMInterviewAssistant(make_llm())
    follow_up = await assistant.generate_follow_up(
        "How do you scale Postgres connections?", "We used PgBouncer.", ["pool size", "timeouts"]
    )
    assert follow_up == "How would you choose the pool size?"
    messages = fake.received[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "We used PgBouncer." in messages[1]["content"]
    assert "- pool size" in messages[1]["content"]


async def test_resume_questions_parse_a_fenced_json_list(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.answer_with(
        'Sure! Here they are:\n```json\n["How did you move the monolith to FastAPI?", '
        '"How did you tune PostgreSQL queries?", "How did you mentor juniors?"]\n```'
    )
    profile = ResumeProfile(["python", "fastapi", "postgresql"], 7.0, "senior", ["Led a team."])
    questions = await LLMInterviewAssistant(make_llm()).generate_resume_questions(
        profile, [Competency(id="backend", name="Backend design")], 2
    )
    assert questions == [
        "How did you move the monolith to FastAPI?",
        "How did you tune PostgreSQL queries?",
    ]
    prompt = fake.received[0]["messages"][1]["content"]
    assert "python, fastapi, postgresql" in prompt and "Backend design" in prompt


async def test_resume_questions_fall_back_to_question_lines(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.answer_with("1. How do you test asyncio code?\n2) Why Redis for caching?\nThanks.")
    questions = await LLMInterviewAssistant(make_llm()).generate_resume_questions(
        ResumeProfile(["asyncio", "redis"], None, None, []), [], 5
    )
    assert questions == ["How do you test asyncio code?", "Why Redis for caching?"]


async def test_second_opinion_reads_the_level_and_rationale(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.answer_with('{"level": 4, "rationale": "Sizes the pool from load tests."}')
    opinion = await LLMInterviewAssistant(make_llm()).second_opinion_grade(
        "How do you scale Postgres connections?", RUBRIC, "We measured and sized the pool."
    )
    assert opinion == SecondOpinion(4, "Sizes the pool from load tests.")
    prompt = fake.received[0]["messages"][1]["content"]
    assert "Level 5: Sizes the pool from measurements" in prompt
    assert "<answer>\nWe measured and sized the pool.\n</answer>" in prompt


@pytest.mark.parametrize(
    "content",
    ["I would give it a four, roughly.", '{"level": 9, "rationale": "great"}', "{level: 4"],
)
async def test_second_opinion_without_a_usable_level_is_none(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM, content: str
) -> None:
    fake, _ = fake_server
    fake.answer_with(content)
    opinion = await LLMInterviewAssistant(make_llm()).second_opinion_grade("Q?", RUBRIC, "A.")
    assert opinion.level is None
    assert opinion.rationale


async def test_a_server_error_raises_llm_error(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.replies.append((500, '{"error": {"message": "overloaded"}}'))
    with pytest.raises(LLMError, match="HTTP 500"):
        await make_llm().complete([{"role": "user", "content": "hi"}])


async def test_a_server_error_gives_a_second_opinion_of_none(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.replies.append((500, "boom"))
    opinion = await LLMInterviewAssistant(make_llm()).second_opinion_grade("Q?", RUBRIC, "A.")
    assert opinion.level is None
    assert "HTTP 500" in opinion.rationale


@pytest.mark.parametrize("body", ["not json at all", '{"choices": []}', '{"choices": [{}]}'])
async def test_a_malformed_completion_raises_llm_error(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM, body: str
) -> None:
    fake, _ = fake_server
    fake.replies.append((200, body))
    with pytest.raises(LLMError, match="malformed"):
        await make_llm().complete([{"role": "user", "content": "hi"}])


async def test_a_stalled_server_times_out_as_llm_error(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.stall = asyncio.Event()
    with pytest.raises(LLMError, match=r"within 0\.2 s"):
        await make_llm(timeout=0.2).complete([{"role": "user", "content": "hi"}])


async def test_an_unreachable_server_raises_llm_error(
    aiohttp_server: AiohttpServer, session: aiohttp.ClientSession
) -> None:
    server = await aiohttp_server(web.Application())
    url = str(server.make_url("/v1"))
    await server.close()
    llm = OpenAICompatibleLLM(url, MODEL, None, session, 5.0)
    with pytest.raises(LLMError, match="cannot reach"):
        await llm.complete([{"role": "user", "content": "hi"}])


async def test_answers_are_scrubbed_before_they_leave(
    fake_server: tuple[FakeOpenAI, str], make_llm: MakeLLM
) -> None:
    fake, _ = fake_server
    fake.answer_with('{"level": 3, "rationale": "ok"}')
    assistant = LLMInterviewAssistant(make_llm(), scrubber=PiiScrubber(protected_terms=["Python"]))
    await assistant.second_opinion_grade(
        "Q?", RUBRIC, "I'm Zofia Kowalczyk, mail zofia.k@example.pl; I tuned Python pools."
    )
    sent = fake.sent_text()
    assert "Zofia" not in sent and "Kowalczyk" not in sent and "zofia.k@example.pl" not in sent
    assert "I tuned Python pools." in sent
