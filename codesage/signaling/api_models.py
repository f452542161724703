"""Pydantic models of what crosses the REST and Socket.IO boundary (also the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_TEXT = 20_000
# A hyphenated UUID; looser patterns let strings through that `uuid.UUID` then rejects.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Strict(BaseModel):
    """Unknown fields are refused, so that a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """The error detail."""

    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every error reply."""

    error: ErrorBody


class CompetencySummary(BaseModel):
    """A competency of a template."""

    id: str
    name: str


class TemplateSummary(BaseModel):
    """A stored template version."""

    id: str
    slug: str
    version: int
    title: str
    role: str
    kind: str
    question_count: int
    competencies: list[CompetencySummary]


class TemplatePage(BaseModel):
    """A page of templates."""

    items: list[TemplateSummary]
    next_offset: int | None


class TemplateDetail(BaseModel):
    """A template with its full body."""

    summary: TemplateSummary
    template: dict[str, Any]


class Interview(BaseModel):
    """An interview as the API shows it (the candidate only as a UUID)."""

    id: str
    template_id: str
    template_title: str
    candidate_id: str
    mode: Literal["real", "practice"]
    state: str
    window_start: str | None
    window_end: str | None
    created_at: str
    started_at: str | None
    ended_at: str | None
    last_seq: int


class InterviewPage(BaseModel):
    """A page of interviews."""

    items: list[Interview]
    next_offset: int | None


class CreateInterview(Strict):
    """Schedule an interview."""

    template_id: str = Field(pattern=UUID_PATTERN)
    mode: Literal["real", "practice"] = "real"
    window_start: datetime | None = None
    window_end: datetime | None = None
    resume_text: str | None = Field(default=None, max_length=200_000)

    @model_validator(mode="after")
    def _window_in_order(self) -> CreateInterview:
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        for value in (self.window_start, self.window_end):
            if value is not None and value.tzinfo is None:
                raise ValueError("window times need a time zone, e.g. 2026-12-01T09:00:00Z")
        return self


class JoinLinkRequest(Strict):
    """Issue a candidate join link."""

    ttl_seconds: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)


class JoinLink(BaseModel):
    """A candidate join link."""

    token: str
    url: str
    expires_at: str


class Event(BaseModel):
    """One interview event."""

    seq: int
    type: str
    at: str
    payload: dict[str, Any]


class EventPage(BaseModel):
    """Events after a sequence number."""

    items: list[Event]
    last_seq: int


class Scores(BaseModel):
    """Answer scores with competency and overall combinations."""

    answers: list[dict[str, Any]]
    competencies: list[dict[str, Any]]
    overall: dict[str, Any] | None
    hints: list[dict[str, Any]]


class Report(BaseModel):
    """Everything a recruiter reviews."""

    interview: Interview
    template: dict[str, Any]
    scores: Scores
    transcript: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    hints: list[dict[str, Any]]


# --- Socket.IO messages ------------------------------------------------------------------


class JoinMessage(Strict):
    """Candidate joins; `after_seq` is the last event seen before a reconnect."""

    after_seq: int = Field(default=0, ge=0)


class ConsentMessage(Strict):
    """Candidate's answer to the AI notice."""

    accepted: bool


class DraftMessage(Strict):
    """The typed answer so far."""

    prompt_id: str = Field(max_length=64)
    text: str = Field(max_length=MAX_TEXT)


class AnswerMessage(Strict):
    """A final typed answer."""

    prompt_id: str = Field(max_length=64)
    text: str = Field(max_length=MAX_TEXT)


class HintMessage(Strict):
    """A practice hint request."""

    prompt_id: str = Field(max_length=64)


class RtcOfferMessage(Strict):
    """The browser's WebRTC offer."""

    sdp: str = Field(min_length=1, max_length=60_000)


class RtcIceMessage(Strict):
    """A trickled ICE candidate, as the browser's RTCIceCandidate.toJSON() gives it."""

    candidate: dict[str, Any]


class EndTurnMessage(Strict):
    """ "I'm done": end the spoken answer to this prompt now."""

    prompt_id: str = Field(max_length=64)


class MediaWatchMessage(Strict):
    """An observer asks for the interview's live audio and video."""

    interview_id: str = Field(pattern=UUID_PATTERN)


class MediaAnswerMessage(Strict):
    """The observer browser's answer to the server's media offer."""

    media_id: str = Field(max_length=64)
    sdp: str = Field(min_length=1, max_length=60_000)


class EmptyMessage(Strict):
    """A message without fields."""


class WatchMessage(Strict):
    """Observer starts watching an interview."""

    interview_id: str = Field(pattern=UUID_PATTERN)
    after_seq: int = Field(default=0, ge=0)


class UnwatchMessage(Strict):
    """Observer stops watching."""

    interview_id: str = Field(pattern=UUID_PATTERN)


class ActMessage(Strict):
    """An observer action."""

    interview_id: str = Field(pattern=UUID_PATTERN)
    action: Literal["pause", "resume", "inject_question", "take_over", "hand_back", "note", "end"]
    text: str | None = Field(default=None, max_length=4000)
