"""The serialisable state of an interview actor: what it checkpoints with every commit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# States in which the interview clock runs and answers are accepted.
ACTIVE_PHASES = frozenset({"questioning", "follow_up", "human_takeover"})
FINAL_PHASES = frozenset({"done", "cancelled"})


@dataclass
class CurrentPrompt:
    """The prompt the candidate is answering now."""

    prompt_id: str
    kind: str
    """question, follow_up, injected (by a human), resume (model-written) or closing"""
    question_id: str | None
    text: str
    competency: str | None
    scored: bool
    number: int
    answered: bool = False

    def payload(self, budget: int) -> dict[str, Any]:
        """The `prompt` event payload."""
        return {
            "prompt_id": self.prompt_id,
            "kind": self.kind,
            "question_id": self.question_id,
            "text": self.text,
            "competency": self.competency,
            "number": self.number,
            "budget": budget,
        }


@dataclass
class ActorState:
    """Everything an actor needs to carry on after a restart, besides the template."""

    phase: str = "scheduled"
    resume_phase: str | None = None
    prompt: CurrentPrompt | None = None
    pending_score_text: str | None = None
    """An answer stored but not yet scored: a restarted actor scores it first."""
    answer_texts: dict[str, str] = field(default_factory=dict)
    """Per question, the original answer and its follow-up answers, scored together."""
    injected_ids: list[str] = field(default_factory=list)
    resume_question_ids: list[str] = field(default_factory=list)
    """Questions the language model wrote from the resume: asked first, never scored."""
    number: int = 0
    active_seconds: float = 0.0
    active_since: float | None = None
    last_seq: int = 0
    session: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the checkpoint column."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActorState:
        """Inverse of `to_dict`."""
        values = dict(data)
        prompt = values.pop("prompt", None)
        state = cls(**values)
        state.prompt = None if prompt is None else CurrentPrompt(**prompt)
        return state

    def elapsed(self, now: float) -> float:
        """Seconds spent in active phases (pauses excluded)."""
        running = 0.0 if self.active_since is None else max(0.0, now - self.active_since)
        return self.active_seconds + running
