"""What callers ask of an interview actor, and the errors it answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ObserverActionName = Literal[
    "pause", "resume", "inject_question", "take_over", "hand_back", "note", "end", "cancel"
]


class InterviewError(Exception):
    """A request the interview refuses; `code` is stable, `message` is for humans."""

    def __init__(self, code: str, message: str, status: int = 409):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Join:
    """The candidate opened (or reopened) the interview."""


@dataclass(frozen=True)
class Consent:
    """The candidate read the AI notice and accepted (or declined)."""

    accepted: bool


@dataclass(frozen=True)
class Answer:
    """The candidate's final answer to a prompt."""

    prompt_id: str
    text: str
    source: Literal["typed", "voice"] = "typed"
    turn_ended_at: datetime | None = None
    """A spoken answer's end-of-turn decision, which comes before its final transcript."""


@dataclass(frozen=True)
class PartialAnswer:
    """The live caption of the answer being spoken: `text` is stable (each extends the
    previous), `tentative` the newest decode's guess at the words after it."""

    prompt_id: str
    text: str
    tentative: str = ""


@dataclass(frozen=True)
class PromptPlayed:
    """What the candidate actually heard of a spoken prompt (cut short by barge-in or not)."""

    prompt_id: str
    text_played: str
    complete: bool
    seconds: float


@dataclass(frozen=True)
class HintRequest:
    """A practice-mode candidate asks for a hint on the current question."""

    prompt_id: str


@dataclass(frozen=True)
class ObserverAction:
    """A human interviewer acts on the interview; `by` is the staff subject UUID."""

    action: ObserverActionName
    by: str
    text: str | None = None


@dataclass(frozen=True)
class RecordSecondOpinion:
    """The optional language model's own rubric level for a scored answer (reviewers only)."""

    prompt_id: str
    question_id: str
    level: int
    rationale: str


@dataclass(frozen=True)
class Stop:
    """Ask the actor to finish its current command and stop (node shutdown)."""


Command = (
    Join
    | Consent
    | Answer
    | PartialAnswer
    | PromptPlayed
    | HintRequest
    | ObserverAction
    | RecordSecondOpinion
    | Stop
)
