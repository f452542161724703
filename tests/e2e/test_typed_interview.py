"""The acceptance test of a typed interview, in a real browser against a real server.

A candidate (page A) consents, skips the device check and types answers; an interviewer
(page B) watches the answers and their scores arrive live, injects a question that the
candidate then answers, and ends the interview; a recruiter (page C) opens the report.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, async_playwright, expect

from codesage.signaling.auth import Role
from tests.e2e.conftest import CHROMIUM_ARGS, RunningServer

UI_TIMEOUT_MS = 20_000
SCORE_TIMEOUT_MS = 45_000  # the first answer may wait for the embedding model
WAITING_FOR_QUESTION = "The first question is on its way…"
INJECTED_QUESTION = (
    "Injected by the interviewer: which Python library would you reach for first to "
    "profile a slow endpoint, and why?"
)
INJECTED_ANSWER = (
    "I would start with py-spy because it samples a running process without changing its code, "
    "then use cProfile on a reproduction to see the exact call counts."
)
MAX_PROMPTS_BEFORE_INJECTED = 4


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Api:
    """Just enough of the REST API to schedule an interview."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self._http = http
        self._base = f"{base_url}/api/v1"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str) -> Any:
        async with self._http.get(self._base + path, headers=self._headers) as response:
            assert response.status == 200, f"GET {path}: {response.status} {await response.text()}"
            return await response.json()

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self._http.post(self._base + path, json=body, headers=self._headers) as response:
            assert response.status == 201, f"POST {path}: {response.status} {await response.text()}"
            return await response.json()


class Answers:
    """The answer to type for each prompt the candidate page shows, from the template body."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.competencies = len(template["competencies"])
        self._questions = {
            _normalise(q["text"]): q["rubric"].get("reference_answer") or q["text"]
            for q in template["questions"]
        }
        self._follow_ups = {
            _normalise(probe): q["rubric"].get("reference_answer") or q["text"]
            for q in template["questions"]
            for probe in q.get("follow_ups", [])
        }

    def is_template_question(self, shown: str) -> bool:
        return _normalise(shown) in self._questions

    def for_prompt(self, shown: str) -> str:
        text = _normalise(shown)
        if text in self._questions:
            return _normalise(self._questions[text])
        if text in self._follow_ups:
            reference = _normalise(self._follow_ups[text])
            return f"To elaborate on my earlier answer: {reference}"
        raise AssertionError(f"the candidate page shows a prompt the template lacks: {shown!r}")


# The answer text as shown, without the screen-reader-only indicator names inside <mark>.
_PROMPT_OF_ANSWER_JS = """
([expected]) => {
  const norm = (s) => s.replace(/\\s+/g, " ").trim();
  for (const el of document.querySelectorAll('[data-testid="transcript-answer"]')) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll(".visually-hidden").forEach((hidden) => hidden.remove());
    if (norm(copy.textContent || "") === expected) {
      const item = el.closest("li[data-prompt-id]");
      return item ? item.getAttribute("data-prompt-id") : null;
    }
  }
  return null;
}
"""


async def _prompt_id_of_answer(page: Page, answer: str) -> str:
    """Waits until the console shows `answer` in its transcript; the prompt id of its item."""
    handle = await page.wait_for_function(
        _PROMPT_OF_ANSWER_JS, arg=[_normalise(answer)], timeout=UI_TIMEOUT_MS
    )
    prompt_id = await handle.json_value()
    assert isinstance(prompt_id, str) and prompt_id
    return prompt_id


async def _answer_current(candidate: Page, text: str) -> None:
    """Types `text` into the answer box and submits it; the form confirms receipt."""
    answer_input = candidate.get_by_test_id("answer-input")
    await expect(answer_input).to_be_enabled(timeout=UI_TIMEOUT_MS)
    await answer_input.fill(text)
    await candidate.get_by_test_id("submit-answer").click()


async def _next_question(candidate: Page, previous: str) -> str:
    """Waits for a question other than `previous` (and than the waiting text); returns it."""
    question = candidate.get_by_test_id("question-text")
    await expect(question).not_to_have_text(previous, timeout=SCORE_TIMEOUT_MS)
    await expect(question).not_to_have_text(WAITING_FOR_QUESTION, timeout=UI_TIMEOUT_MS)
    return _normalise(await question.inner_text())


@asynccontextmanager
async def _browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _new_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    return page


async def _screenshots(pages: dict[str, Page], tmp_path: Path) -> list[str]:
    saved = []
    for name, page in pages.items():
        path = tmp_path / f"failure-{name}.png"
        try:
            await page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # a screenshot must not hide the real failure
            saved.append(f"{name}: no screenshot ({exc})")
        else:
            saved.append(str(path))
    return saved


async def test_typed_interview_watched_and_reviewed(
    live_server: RunningServer, chromium_path: str, tmp_path: Path
) -> None:
    tokens = live_server.tokens
    admin = tokens.issue(Role.ADMIN)
    interviewer = tokens.issue(Role.INTERVIEWER)
    recruiter = tokens.issue(Role.RECRUITER)
    base = live_server.base_url

    async with aiohttp.ClientSession() as http:
        api = Api(http, base, admin)
        templates = (await api.get("/templates?limit=100"))["items"]
        summary = next((t for t in templates if t["slug"] == "backend-python"), None)
        assert summary is not None, f"backend-python is not seeded: {templates}"
        template = (await api.get(f"/templates/{summary['id']}"))["template"]
        interview = await api.post("/interviews", {"template_id": summary["id"], "mode": "real"})
        interview_id = interview["id"]
        link = await api.post(f"/interviews/{interview_id}/join-link", {})
    answers = Answers(template)

    async with _browser(chromium_path) as browser:
        pages: dict[str, Page] = {}
        try:
            await _run_scenario(
                browser, pages, base, link["url"], interview_id, answers, interviewer, recruiter
            )
        except Exception as exc:
            shots = await _screenshots(pages, tmp_path)
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\nscreenshots: {', '.join(shots)}\n"
                f"server log:\n{live_server.log_tail()}"
            ) from exc

    async with aiohttp.ClientSession() as http:
        finished = await Api(http, base, admin).get(f"/interviews/{interview_id}")
    assert finished["state"] == "done", finished


async def _run_scenario(
    browser: Browser,
    pages: dict[str, Page],
    base: str,
    join_url: str,
    interview_id: str,
    answers: Answers,
    interviewer_token: str,
    recruiter_token: str,
) -> None:
    # --- A: the candidate opens the join link, reads the AI notice and consents --------------
    candidate = pages["candidate"] = await _new_page(browser)
    await candidate.goto(base + join_url)
    notice = candidate.get_by_role("heading", name="You will be interviewed by an AI")
    await expect(notice).to_be_visible()
    assert "token=" not in candidate.url, "the join token stays in the address bar"
    await candidate.get_by_test_id("consent-checkbox").check()
    await candidate.get_by_test_id("consent-button").click()
    await candidate.get_by_test_id("skip-device-check").click()
    question = await _next_question(candidate, WAITING_FOR_QUESTION)
    assert answers.is_template_question(question), f"not a template question: {question!r}"

    # --- B: the interviewer opens the live interview from the live list ---------------------
    console = pages["console"] = await _new_page(browser)
    await console.goto(f"{base}/console/?token={interviewer_token}")
    live_item = console.get_by_test_id("live-list").locator(
        f'[data-testid="live-item"][data-interview-id="{interview_id}"]'
    )
    await expect(live_item).to_be_visible()
    await live_item.get_by_role("link").click()
    await expect(console.get_by_test_id("transcript")).to_contain_text(question)

    # --- A answers the first question; B sees the answer, then its score --------------------
    first_answer = answers.for_prompt(question)
    await _answer_current(candidate, first_answer)
    prompt_id = await _prompt_id_of_answer(console, first_answer)
    first_score = console.locator(f'li[data-prompt-id="{prompt_id}"]').get_by_test_id("score-level")
    await expect(first_score).to_be_visible(timeout=SCORE_TIMEOUT_MS)
    await expect(first_score).to_have_attribute("data-level", re.compile(r"^[1-5]$"))
    scored = 1

    # --- B injects a question; A answers the current one, then gets the injected one --------
    await console.get_by_test_id("inject-input").fill(INJECTED_QUESTION)
    await console.get_by_test_id("inject-button").click()
    await expect(console.get_by_test_id("action-result")).to_contain_text("Ask question: done")

    injected = _normalise(INJECTED_QUESTION)
    for _ in range(MAX_PROMPTS_BEFORE_INJECTED):
        question = await _next_question(candidate, question)
        if question == injected:
            break
        answer = answers.for_prompt(question)
        await _answer_current(candidate, answer)
        prompt_id = await _prompt_id_of_answer(console, answer)
        score = console.locator(f'li[data-prompt-id="{prompt_id}"]').get_by_test_id("score-level")
        await expect(score).to_be_visible(timeout=SCORE_TIMEOUT_MS)
        scored += 1
    else:
        raise AssertionError(
            f"the injected question did not come within {MAX_PROMPTS_BEFORE_INJECTED} prompts"
        )
    await expect(candidate.get_by_test_id("question-text")).to_have_text(INJECTED_QUESTION)
    await _answer_current(candidate, INJECTED_ANSWER)
    await _prompt_id_of_answer(console, INJECTED_ANSWER)

    # --- B ends the interview; A sees the ending ---------------------------------------------
    await console.get_by_test_id("end-button").click()
    await console.get_by_test_id("end-confirm").click()
    await expect(console.get_by_test_id("action-result")).to_contain_text("End interview: done")
    await expect(console.get_by_test_id("watch-state")).to_have_text(re.compile("done", re.I))
    ending = candidate.get_by_test_id("ending")
    await expect(ending).to_be_visible()
    await expect(ending).to_contain_text("the interview is over")

    # --- C: the recruiter finds the finished interview and opens its report -----------------
    review = pages["review"] = await _new_page(browser)
    await review.goto(f"{base}/review/?token={recruiter_token}")
    item = review.get_by_test_id("interview-list").locator(
        f'[data-testid="interview-item"][data-interview-id="{interview_id}"]'
    )
    await expect(item).to_be_visible()
    await item.get_by_role("link").click()
    overall = review.get_by_test_id("overall-score")
    await expect(overall).to_be_visible()
    await expect(overall).to_contain_text(re.compile(r"Overall:\s*-?\d+\.\d\d\s*±\s*\d+\.\d\d"))
    await expect(review.get_by_test_id("competency-score")).to_have_count(answers.competencies)
    await expect(review.get_by_test_id("competency-score").first).to_be_visible()
    # Every typed answer to an AI question has its level; the injected one is not scored.
    levelled = review.locator('[data-testid="answer-score"][data-level]:not([data-level=""])')
    await expect(levelled).to_have_count(scored)
    injected_row = review.locator("article.report-answer").filter(has_text=INJECTED_QUESTION)
    await expect(injected_row).to_contain_text(INJECTED_ANSWER)
    await expect(injected_row.get_by_test_id("answer-score")).to_have_text("Not scored.")
    await expect(review.get_by_test_id("export-json")).to_be_visible()
