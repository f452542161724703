"""The acceptance test of a spoken interview, in real browsers against a real server.

The candidate's Chromium gets a fake microphone that plays a piper-synthesised answer (2 s of
silence, the answer, then 10 s of silence so that the server's patient end-of-turn ends it;
Chromium loops the file). The interviewer's console sees the live caption, then the final
voice answer and its score; the candidate gets the next question. The server recorded the
agent's voice and the candidate's audio, and the review page plays them back.
"""

from __future__ import annotations

import re
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import numpy as np
from playwright.async_api import Browser, Page, async_playwright, expect

from codesage.signaling.auth import Role
from tests.e2e.conftest import CHROMIUM_ARGS, RunningServer
from tests.e2e.test_typed_interview import (
    UI_TIMEOUT_MS,
    WAITING_FOR_QUESTION,
    Api,
    _new_page,
    _next_question,
    _normalise,
    _screenshots,
)
from tests.media import join, silence, synthesize

VOICE_TIMEOUT_MS = 30_000  # the peer connects within 20 s of the offer
FINAL_TIMEOUT_MS = 60_000  # a whole spoken turn, its transcription and score, under load
SPOKEN_ANSWER = (
    "I would use a connection pool and async handlers, keep each request short, "
    "and add caching in front of the slow database queries."
)
WAV_RATE = 16_000


def _write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit PCM mono WAV at 16 kHz."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(WAV_RATE)
        out.writeframes(pcm.tobytes())


@asynccontextmanager
async def _browsers(chromium_path: str, wav: Path) -> AsyncIterator[tuple[Browser, Browser]]:
    """The staff browser, and the candidate's with a fake microphone playing `wav`."""
    async with async_playwright() as playwright:
        staff = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            candidate = await playwright.chromium.launch(
                executable_path=chromium_path,
                headless=True,
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={wav}",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            try:
                yield staff, candidate
            finally:
                await candidate.close()
        finally:
            await staff.close()


async def test_voice_interview_watched_and_reviewed(
    live_server: RunningServer, chromium_path: str, tmp_path: Path
) -> None:
    tokens = live_server.tokens
    admin = tokens.issue(Role.ADMIN)
    interviewer = tokens.issue(Role.INTERVIEWER)
    recruiter = tokens.issue(Role.RECRUITER)
    base = live_server.base_url

    speech = synthesize(SPOKEN_ANSWER, tmp_path / "speech")
    wav = tmp_path / "answer.wav"
    _write_wav(wav, join(silence(2.0), speech, silence(10.0)))

    async with aiohttp.ClientSession() as http:
        api = Api(http, base, admin)
        templates = (await api.get("/templates?limit=100"))["items"]
        summary = next((t for t in templates if t["slug"] == "backend-python"), None)
        assert summary is not None, f"backend-python is not seeded: {templates}"
        interview = await api.post("/interviews", {"template_id": summary["id"], "mode": "real"})
        interview_id = interview["id"]
        link = await api.post(f"/interviews/{interview_id}/join-link", {})

    async with _browsers(chromium_path, wav) as (staff, candidate_browser):
        pages: dict[str, Page] = {}
        try:
            await _run_scenario(
                staff,
                candidate_browser,
                pages,
                live_server,
                link["url"],
                interview_id,
                admin,
                interviewer,
                recruiter,
            )
        except Exception as exc:
            shots = await _screenshots(pages, tmp_path)
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\nscreenshots: {', '.join(shots)}\n"
                f"server log:\n{live_server.log_tail(60)}"
            ) from exc


async def _run_scenario(
    staff: Browser,
    candidate_browser: Browser,
    pages: dict[str, Page],
    server: RunningServer,
    join_url: str,
    interview_id: str,
    admin_token: str,
    interviewer_token: str,
    recruiter_token: str,
) -> None:
    base = server.base_url

    # --- B: the interviewer watches the interview (before the candidate speaks) -------------
    console = pages["console"] = await _new_page(staff)
    await console.goto(f"{base}/console/interviews/{interview_id}?token={interviewer_token}")
    await expect(console.get_by_test_id("transcript")).to_be_visible()

    # --- A: the candidate consents, checks the microphone and starts speaking ---------------
    candidate = pages["candidate"] = await _new_page(candidate_browser)
    await candidate.goto(base + join_url)
    await candidate.get_by_test_id("consent-checkbox").check()
    await candidate.get_by_test_id("consent-button").click()
    await candidate.get_by_test_id("start-device-check").click()
    await candidate.get_by_test_id("device-continue").click()
    status = candidate.get_by_test_id("voice-status")
    await expect(status).to_have_attribute("data-status", "live", timeout=VOICE_TIMEOUT_MS)
    await expect(candidate.get_by_test_id("agent-audio")).to_be_attached()
    first_question = await _next_question(candidate, WAITING_FOR_QUESTION)

    # --- B sees the live caption, then the final spoken answer and its score ----------------
    await expect(console.get_by_test_id("transcript")).to_contain_text(first_question)
    partial = console.get_by_test_id("transcript-partial").first
    await expect(partial).to_be_visible(timeout=FINAL_TIMEOUT_MS)
    await expect(partial).to_have_text(re.compile(r"\w"), timeout=FINAL_TIMEOUT_MS)
    voiced = console.locator("li[data-prompt-id]").filter(
        has=console.locator('[data-testid="answer-source"][data-source="voice"]')
    )
    await expect(voiced.first).to_be_visible(timeout=FINAL_TIMEOUT_MS)
    answer = voiced.first.get_by_test_id("transcript-answer")
    await expect(answer).to_contain_text(re.compile(r"pool|cach|database", re.I))
    score = voiced.first.get_by_test_id("score-level")
    await expect(score).to_be_visible(timeout=FINAL_TIMEOUT_MS)
    await expect(score).to_have_attribute("data-level", re.compile(r"^[1-5]?$"))

    # --- A gets the next question ------------------------------------------------------------
    await expect(candidate.get_by_test_id("question-text")).not_to_have_text(
        first_question, timeout=FINAL_TIMEOUT_MS
    )
    await expect(candidate.get_by_test_id("question-text")).not_to_have_text(
        WAITING_FOR_QUESTION, timeout=UI_TIMEOUT_MS
    )
    assert _normalise(await candidate.get_by_test_id("question-text").inner_text())

    # --- B watches and listens live through the relay -----------------------------------------
    await console.get_by_test_id("media-watch").click()
    await expect(console.get_by_test_id("live-audio")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(console.get_by_test_id("media-stop")).to_be_visible()

    # --- B ends the interview; A sees the ending ---------------------------------------------
    await console.get_by_test_id("end-button").click()
    await console.get_by_test_id("end-confirm").click()
    await expect(console.get_by_test_id("action-result")).to_contain_text("End interview: done")
    await expect(console.get_by_test_id("watch-state")).to_have_text(re.compile("done", re.I))
    await expect(candidate.get_by_test_id("ending")).to_be_visible(timeout=FINAL_TIMEOUT_MS)

    # --- the server recorded the agent's voice and the candidate's audio --------------------
    tracks: dict[str, list[object]] = {}
    async with aiohttp.ClientSession() as http:
        api = Api(http, base, admin_token)
        # Segments are flushed when the peer closes, which follows the ending.
        for _ in range(60):
            listing = await api.get(f"/interviews/{interview_id}/recordings")
            tracks = {item["track"]: item["segments"] for item in listing["items"]}
            if tracks.get("agent-voice") and tracks.get("candidate-audio"):
                break
            await candidate.wait_for_timeout(500)
    assert tracks.get("agent-voice"), f"no agent-voice recording: {tracks}"
    assert tracks.get("candidate-audio"), f"no candidate-audio recording: {tracks}"

    # --- C: the review page plays the recording with its transcript -------------------------
    review = pages["review"] = await _new_page(staff)
    await review.goto(f"{base}/review/interviews/{interview_id}?token={recruiter_token}")
    await expect(review.get_by_test_id("recording-player")).to_be_visible(timeout=UI_TIMEOUT_MS)
    lines = review.get_by_test_id("transcript-line")
    await expect(lines.first).to_be_visible()
    assert await lines.count() >= 2
    await expect(
        review.locator('[data-testid="transcript-line"][data-speaker="candidate"]').first
    ).to_be_attached()
