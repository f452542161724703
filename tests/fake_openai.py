"""A local server speaking the OpenAI chat-completions API, for tests of the optional LLM."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pytest_aiohttp import AiohttpServer

Responder = Callable[[list[dict[str, str]]], str]
"""Chooses the assistant's reply from the request's messages."""


@dataclass
class FakeOpenAI:
    """What the server was sent, and its replies: queued (status, body) pairs, else `responder`."""

    replies: list[tuple[int, str]] = field(default_factory=list)
    responder: Responder | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    stall: asyncio.Event | None = None

    def answer_with(self, content: str) -> None:
        """Queue one successful reply with `content`."""
        self.replies.append((200, completion(content)))

    def sent_text(self) -> str:
        """Every message text the server has received, joined."""
        return "\n".join(m["content"] for request in self.received for m in request["messages"])


def completion(content: str) -> str:
    """A chat-completion body whose first choice says `content`."""
    message = {"role": "assistant", "content": content}
    return json.dumps({"choices": [{"index": 0, "message": message}]})


FAKE_KEY = web.AppKey("fake", FakeOpenAI)


async def _chat_completions(request: web.Request) -> web.Response:
    fake = request.app[FAKE_KEY]
    body = await request.json()
    fake.received.append(body)
    fake.authorizations.append(request.headers.get("Authorization"))
    if fake.stall is not None:
        await fake.stall.wait()  # never set: the client's timeout must end the call
    if fake.replies:
        status, text = fake.replies.pop(0)
    elif fake.responder is not None:
        status, text = 200, completion(fake.responder(body["messages"]))
    else:
        status, text = 500, '{"error": {"message": "no reply scripted"}}'
    return web.Response(status=status, text=text, content_type="application/json")


async def start_fake_openai(
    aiohttp_server: AiohttpServer, fake: FakeOpenAI | None = None
) -> tuple[FakeOpenAI, str]:
    """Serve `fake` (a new one by default); returns it with its base URL (`…/v1`)."""
    fake = fake or FakeOpenAI()
    app = web.Application()
    app[FAKE_KEY] = fake
    app.router.add_post("/v1/chat/completions", _chat_completions)
    server = await aiohttp_server(app)
    return fake, str(server.make_url("/v1"))
