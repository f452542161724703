"""A candidate's browser survives the death of the node that runs its interview.

Two real `python -m codesage serve` nodes (A and B) share one fresh database and one Redis of
the test's own; both serve the built web app. A owns the interview; the candidate page is
opened from B's origin, so it asks B's `/owner`, is sent to A and opens its socket there. The
candidate answers the first question and types a draft for the second; then A is killed with
SIGKILL (no drain, no lease release). The page must show the calm "Reconnecting…" banner, and
once A's lease runs out it must find B by itself, with the same question and the draft still
in the answer box, and sending the draft must work. The journal must hold exactly one final
answer per answered prompt.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import ConsoleMessage, Page, WebSocket, async_playwright, expect

from codesage.signaling.auth import JwtTokens, Role
from tests.conftest import TEST_JWT_SECRET
from tests.e2e.conftest import CHROMIUM_ARGS
from tests.resilience.serve_process import ServeProcess, serve_env, start_serve

LEASE_TTL_S = 2.0
UI_TIMEOUT_MS = 20_000
SCORE_TIMEOUT_MS = 45_000  # the first answer may wait for the embedding model
# A dead owner's lease lives at most one TTL; the app's backoff (0.5, 1, 2, 4 s) adds a wait.
RECOVER_TIMEOUT_MS = int((LEASE_TTL_S + 13) * 1000)
BANNER_TIMEOUT_MS = 5_000  # a killed process's sockets are closed by the kernel at once
HTTP_TIMEOUT_S = 10
WAITING_FOR_QUESTION = "The first question is on its way…"
FIRST_ANSWER = (
    "I would measure before changing anything: profile the slow path with py-spy or cProfile, "
    "find the hot spot, fix it, and confirm the gain with a benchmark."
)
DRAFT = (
    "Draft typed before the failover: I would keep the change small, add a regression test "
    "and watch the latency metrics after the deploy."
)


@pytest.fixture
def nodes(
    tmp_path: Path, database_url: str, redis_url: str, web_dist: Path
) -> Iterator[list[ServeProcess]]:
    """Nodes A and B serving the built web app, on one database and one Redis; killed after."""
    env = serve_env(
        database_url, redis_url, lease_ttl_seconds=str(LEASE_TTL_S), web_dir=str(web_dist)
    )
    started: list[ServeProcess] = []
    try:
        for name in ("a", "b"):
            started.append(start_serve(name, tmp_path, env))
        yield started
    finally:
        for node in started:
            node.kill()


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Rest:
    """Just the REST calls the test needs, on one node."""

    def __init__(self, http: aiohttp.ClientSession, node: ServeProcess, token: str) -> None:
        self._http = http
        self._base = f"{node.url}/api/v1"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str) -> Any:
        async with self._http.get(self._base + path, headers=self._headers) as reply:
            assert reply.status == 200, f"GET {path}: {reply.status} {await reply.text()}"
            return await reply.json()

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self._http.post(self._base + path, json=body, headers=self._headers) as reply:
            assert reply.status == 201, f"POST {path}: {reply.status} {await reply.text()}"
            return await reply.json()

    async def events(self, interview_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self.get(f"/interviews/{interview_id}/events"))[
            "items"
        ]
        return items


class Diagnostics:
    """What the page logged and where its sockets went, for assertions and failure reports."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.sockets: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("websocket", self._on_websocket)

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def _on_websocket(self, socket: WebSocket) -> None:
        self.sockets.append(socket.url)

    def socket_hosts(self) -> list[str]:
        return [_host(url) for url in self.sockets]


def _log_tail(node: ServeProcess, lines: int = 30) -> str:
    if not node.log.exists():
        return "(no log)"
    return "\n".join(node.log.read_text(errors="replace").splitlines()[-lines:])


async def test_candidate_browser_survives_the_owner_node_being_killed(
    nodes: list[ServeProcess], chromium_path: str, tmp_path: Path
) -> None:
    a, b = nodes
    await asyncio.gather(*(asyncio.to_thread(node.wait_until_serving) for node in nodes))
    staff = JwtTokens(TEST_JWT_SECRET).issue(Role.ADMIN)
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        api = Rest(http, b, staff)
        templates = (await api.get("/templates?limit=100"))["items"]
        template = next((t for t in templates if t["slug"] == "backend-python"), None)
        assert template is not None, f"backend-python is not seeded: {templates}"
        interview_id: str = (
            await api.post("/interviews", {"template_id": template["id"], "mode": "real"})
        )["id"]
        link = await api.post(f"/interviews/{interview_id}/join-link", {})
        # Asking A with the candidate's token makes A claim the interview.
        owner = await Rest(http, a, link["token"]).get(f"/interviews/{interview_id}/owner")
        assert owner["url"] == a.url, owner

        diagnostics = Diagnostics()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
                page.set_default_timeout(UI_TIMEOUT_MS)
                diagnostics.attach(page)
                try:
                    await _run_scenario(page, diagnostics, api, a, b, link["url"], interview_id)
                except Exception as exc:
                    shot = tmp_path / "failure-candidate.png"
                    try:
                        await page.screenshot(path=str(shot), full_page=True)
                    except Exception as shot_error:  # must not hide the real failure
                        shot = Path(f"(no screenshot: {shot_error})")
                    console = "\n".join(diagnostics.console[-40:])
                    raise AssertionError(
                        f"{type(exc).__name__}: {exc}\nscreenshot: {shot}\n"
                        f"sockets opened: {diagnostics.sockets}\n"
                        f"browser console:\n{console}\n"
                        f"node A log:\n{_log_tail(a)}\nnode B log:\n{_log_tail(b)}"
                    ) from exc
            finally:
                await browser.close()


async def _run_scenario(
    page: Page,
    diagnostics: Diagnostics,
    api: Rest,
    a: ServeProcess,
    b: ServeProcess,
    join_url: str,
    interview_id: str,
) -> None:
    question = page.get_by_test_id("question-text")
    answer_input = page.get_by_test_id("answer-input")
    banner = page.get_by_test_id("reconnecting")
    link_error = page.get_by_test_id("link-error")

    # --- The page comes from B; B's /owner names A, so the socket goes to A -----------------
    await page.goto(b.url + join_url)
    await expect(
        page.get_by_role("heading", name="You will be interviewed by an AI")
    ).to_be_visible()
    assert diagnostics.socket_hosts() == [_host(a.url)], "the first socket must go to owner A"
    await page.get_by_test_id("consent-checkbox").check()
    await page.get_by_test_id("consent-button").click()
    # A typed-only server: no device check, straight to the first question.
    await expect(question).to_be_visible()
    await expect(question).not_to_have_text(WAITING_FOR_QUESTION)
    first_question = _normalise(await question.inner_text())

    await expect(answer_input).to_be_enabled()
    await answer_input.fill(FIRST_ANSWER)
    await page.get_by_test_id("submit-answer").click()
    await expect(question).not_to_have_text(first_question, timeout=SCORE_TIMEOUT_MS)
    second_question = _normalise(await question.inner_text())

    await expect(answer_input).to_be_enabled()
    await answer_input.fill(DRAFT)
    # The draft reaches the server (debounced) and is not submitted.
    await expect(page.get_by_test_id("draft-status")).to_have_text("Draft saved")
    before = await api.events(interview_id)
    prompts = [e["payload"] for e in before if e["type"] == "prompt"]
    assert [_normalise(p["text"]) for p in prompts] == [first_question, second_question]
    first_id, second_id = (p["prompt_id"] for p in prompts)
    assert diagnostics.socket_hosts() == [_host(a.url)], "no reconnect before the kill"

    # --- SIGKILL the owner: the page reconnects calmly, not an error screen ------------------
    a.process.kill()
    await asyncio.to_thread(a.process.wait)
    killed = time.monotonic()
    await expect(banner).to_be_visible(timeout=BANNER_TIMEOUT_MS)
    await expect(banner).to_have_attribute("role", "status")
    await expect(banner).to_contain_text("Reconnecting")
    await expect(link_error).to_have_count(0)
    await expect(question).to_have_text(second_question)
    await expect(answer_input).to_have_value(DRAFT)

    # --- The lease runs out; the page finds B by itself, same question, draft kept -----------
    await expect(banner).to_be_hidden(timeout=RECOVER_TIMEOUT_MS)
    recovered_s = time.monotonic() - killed
    await expect(link_error).to_have_count(0)
    await expect(question).to_have_text(second_question)
    await expect(answer_input).to_have_value(DRAFT)
    await expect(answer_input).to_be_enabled()
    hosts = diagnostics.socket_hosts()
    assert hosts[0] == _host(a.url) and hosts[-1] == _host(b.url), hosts
    assert page.url.startswith(b.url), page.url

    await page.get_by_test_id("submit-answer").click()
    moved_on = page.get_by_test_id("ending").or_(
        page.get_by_test_id("question-text").filter(has_not_text=second_question)
    )
    await expect(moved_on).to_be_visible(timeout=SCORE_TIMEOUT_MS)

    # --- The journal, read on B: one final answer per prompt, nothing lost or duplicated ------
    events = await api.events(interview_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    finals = [
        (e["payload"]["prompt_id"], e["payload"]["text"])
        for e in events
        if e["type"] == "answer_final"
    ]
    assert finals == [(first_id, FIRST_ANSWER), (second_id, DRAFT)], finals
    asked = Counter(e["payload"]["prompt_id"] for e in events if e["type"] == "prompt")
    assert asked[first_id] == 1 and asked[second_id] == 1, asked
    print(f"browser failover: reconnected to B {recovered_s:.2f} s after SIGKILL of A")
