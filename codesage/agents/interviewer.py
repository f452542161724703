"""The text-only interviewer brain: what to say next, given the scores so far (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from codesage.agents.adaptive import AdaptiveSelector, CompetencyStatus, StopReason
from codesage.agents.answer_score import AnswerScore, EvidenceSpan
from codesage.agents.followups import FollowUpPlanner, FollowUpWriter
from codesage.agents.hints import HintGiven, HintPolicy, InterviewMode
from codesage.agents.irt import GradedItem
from codesage.agents.template import InterviewTemplate, Question, Rubric

PromptKind = Literal["question", "follow_up", "closing"]
CLOSING_TEXT = "Thank you, that was my last question. We will be in touch about the next steps."
STATE_VERSION = 1


class InterviewClosed(Exception):
    """The interview already ended; nothing more can be asked."""


@dataclass(frozen=True)
class Prompt:
    """What the interviewer says next; `question_id` is None only for the closing."""

    kind: PromptKind
    question_id: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for checkpoints and events."""
        return {"kind": self.kind, "question_id": self.question_id, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prompt:
        """Inverse of `to_dict`."""
        kind = str(data["kind"])
        if kind not in ("question", "follow_up", "closing"):
            raise ValueError(f"unknown prompt kind {kind!r}")
        question_id = data["question_id"]
        return cls(
            cast(PromptKind, kind), None if question_id is None else str(question_id), data["text"]
        )


@dataclass(frozen=True)
class FollowUpRequest:
    """A probe the session is about to write itself, for a drafter that can do better."""

    question: Question
    score: AnswerScore
    asked: tuple[str, ...]


@dataclass(frozen=True)
class AdHocQuestion:
    """A question a human interviewer typed in; scored only when it carries a rubric."""

    id: str
    text: str
    rubric: Rubric | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for checkpoints."""
        rubric = None if self.rubric is None else self.rubric.model_dump(mode="json")
        return {"id": self.id, "text": self.text, "rubric": rubric}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdHocQuestion:
        """Inverse of `to_dict`."""
        rubric = data.get("rubric")
        return cls(
            str(data["id"]),
            str(data["text"]),
            None if rubric is None else Rubric.model_validate(rubric),
        )


@dataclass(frozen=True)
class QuestionOutcome:
    """One asked question's final (cumulative) score with the probes and hints it took."""

    question_id: str
    text: str
    competency_id: str | None
    """None for a human's ad-hoc question, which never feeds the ability estimates."""
    score: AnswerScore | None
    follow_ups: tuple[str, ...]
    hints: tuple[HintGiven, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for reports."""
        return {
            "question_id": self.question_id,
            "text": self.text,
            "competency_id": self.competency_id,
            "score": None if self.score is None else answer_score_to_dict(self.score),
            "follow_ups": list(self.follow_ups),
            "hints": [hint.to_dict() for hint in self.hints],
        }


@dataclass(frozen=True)
class SessionSummary:
    """Per-competency estimates, per-question outcomes and why the interview ended."""

    mode: InterviewMode
    closed: bool
    stop_reason: StopReason | None
    competencies: tuple[CompetencyStatus, ...]
    overall_theta: float | None
    """Competency-weighted mean ability over competencies with at least one level."""
    questions: tuple[QuestionOutcome, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for reports."""
        return {
            "mode": self.mode,
            "closed": self.closed,
            "stop_reason": None if self.stop_reason is None else self.stop_reason.value,
            "competencies": [c.to_dict() for c in self.competencies],
            "overall_theta": self.overall_theta,
            "questions": [q.to_dict() for q in self.questions],
        }


def answer_score_to_dict(score: AnswerScore) -> dict[str, Any]:
    """Plain-JSON form of an AnswerScore, evidence spans included."""
    return {
        "level": score.level,
        "score": score.score,
        "confidence": score.confidence,
        "insufficient_evidence": score.insufficient_evidence,
        "evidence": [
            {"start": e.start, "end": e.end, "indicator": e.indicator, "similarity": e.similarity}
            for e in score.evidence
        ],
        "matched_indicators": list(score.matched_indicators),
        "missing_indicators": list(score.missing_indicators),
        "reason": score.reason,
        "details": dict(score.details),
    }


def answer_score_from_dict(data: Mapping[str, Any]) -> AnswerScore:
    """Inverse of `answer_score_to_dict`."""
    return AnswerScore(
        level=data["level"],
        score=data["score"],
        confidence=data["confidence"],
        insufficient_evidence=data["insufficient_evidence"],
        evidence=tuple(
            EvidenceSpan(e["start"], e["end"], e["indicator"], e["similarity"])
            for e in data["evidence"]
        ),
        matched_indicators=tuple(data["matched_indicators"]),
        missing_indicators=tuple(data["missing_indicators"]),
        reason=data["reason"],
        details=dict(data["details"]),
    )


class InterviewSession:
    """One candidate's interview: adaptive questions, follow-ups, practice hints, ad-hoc asks.

    Call `next_prompt` whenever the interviewer is to speak, after `record_score` for a
    scored prompt; until that score arrives the same prompt is returned again, so a session
    restored after a crash re-asks what was pending. Elapsed time is passed in, never read.
    """

    def __init__(
        self,
        template: InterviewTemplate,
        mode: InterviewMode = "real",
        *,
        priority_skills: Iterable[str] = (),
        items: Mapping[str, GradedItem] | None = None,
        follow_up_writer: FollowUpWriter | None = None,
    ) -> None:
        if mode not in ("real", "practice"):
            raise ValueError(f"mode must be 'real' or 'practice', got {mode!r}")
        self._template = template
        self._mode: InterviewMode = mode
        self._selector = AdaptiveSelector(template, priority_skills=priority_skills, items=items)
        self._follow_up_planner = FollowUpPlanner(
            template.max_follow_ups_per_question, writer=follow_up_writer
        )
        self._hint_policy = HintPolicy(mode)
        self._awaiting: Prompt | None = None
        self._last_prompt: Prompt | None = None
        self._scores: dict[str, AnswerScore] = {}
        self._follow_ups: dict[str, list[str]] = {}
        self._hints: list[HintGiven] = []
        self._ad_hoc: dict[str, AdHocQuestion] = {}
        self._ad_hoc_queue: list[str] = []
        self._asked_order: list[str] = []
        self._stop_reason: StopReason | None = None
        self._closed = False

    @property
    def template(self) -> InterviewTemplate:
        """The interview template this session runs."""
        return self._template

    @property
    def mode(self) -> InterviewMode:
        """Real or practice; only practice allows hints."""
        return self._mode

    @property
    def closed(self) -> bool:
        """Whether the closing prompt has been given."""
        return self._closed

    @property
    def awaiting(self) -> Prompt | None:
        """The prompt whose answer still needs a score, if any."""
        return self._awaiting

    def next_prompt(self, elapsed_s: float, *, written_probe: str | None = None) -> Prompt | None:
        """The next thing to say: pending prompt, ad-hoc question, probe, question or closing.

        `written_probe` is used when a probe is due that the template has no text for (see
        `follow_up_request`). Returns None once the closing has been given.
        """
        if self._closed:
            return None
        if self._awaiting is not None:
            return self._awaiting
        if self._ad_hoc_queue:
            return self._issue_ad_hoc(self._ad_hoc_queue.pop(0))
        stop_reason = self._selector.stop_reason(elapsed_s)
        if stop_reason is not StopReason.TIME_BUDGET:
            follow_up = self._due_follow_up(written_probe)
            if follow_up is not None:
                return self._issue(follow_up, scored=True)
        question = self._selector.choose_next(elapsed_s)
        if question is not None:
            self._selector.mark_asked(question.id)
            self._asked_order.append(question.id)
            return self._issue(Prompt("question", question.id, question.text), scored=True)
        return self._close(stop_reason or StopReason.ALL_COMPETENCIES_STOPPED)

    def follow_up_request(self, elapsed_s: float) -> FollowUpRequest | None:
        """The probe `next_prompt` would have to write itself now, or None if none is due."""
        if self._closed or self._awaiting is not None or self._ad_hoc_queue:
            return None
        if self._selector.stop_reason(elapsed_s) is StopReason.TIME_BUDGET:
            return None
        context = self._probe_context()
        if context is None:
            return None
        question, score, asked = context
        if not self._follow_up_planner.needs_written_probe(question, score, asked):
            return None
        return FollowUpRequest(question, score, tuple(asked))

    def record_score(
        self, question_id: str, score: AnswerScore, is_follow_up: bool = False
    ) -> None:
        """Store the score of the pending prompt's answer.

        After a follow-up, pass the score of the original and follow-up answers together
        (the engine scores their concatenated text); it replaces the question's earlier score.
        """
        awaiting = self._awaiting
        if awaiting is None or awaiting.question_id != question_id:
            pending = None if awaiting is None else awaiting.question_id
            raise ValueError(f"no answer to {question_id!r} is awaited (pending: {pending!r})")
        if is_follow_up != (awaiting.kind == "follow_up"):
            raise ValueError(
                f"is_follow_up={is_follow_up} but the pending prompt is a {awaiting.kind}"
            )
        self._scores[question_id] = score
        if question_id not in self._ad_hoc:
            level = None if score.insufficient_evidence else score.level
            self._selector.record_level(question_id, level)
        self._awaiting = None

    def request_hint(self, question_id: str) -> HintGiven | None:
        """The next practice hint for an asked question (None when none are left).

        Raises HintsNotAllowed in a real interview, whatever the question.
        """
        self._hint_policy.ensure_allowed()
        if question_id not in self._asked_order or question_id in self._ad_hoc:
            raise ValueError(f"question {question_id!r} has not been asked from the template")
        latest = self._scores.get(question_id)
        hint = self._hint_policy.next_hint(
            self._template.question(question_id),
            self._hints,
            () if latest is None else latest.missing_indicators,
        )
        if hint is not None:
            self._hints.append(hint)
        return hint

    def inject_question(self, text: str, rubric: Rubric | None = None) -> str:
        """Queue a human interviewer's question to be asked next; returns its id.

        With a rubric the engine scores its answer (pass it to `record_score`); without
        one it is asked unscored. Ad-hoc scores never feed ability estimates: the question
        has no calibrated item parameters.
        """
        if self._closed:
            raise InterviewClosed("the interview has ended; no more questions can be asked")
        if not text.strip():
            raise ValueError("an ad-hoc question needs text")
        taken = {q.id for q in self._template.questions} | set(self._ad_hoc)
        number = len(self._ad_hoc) + 1
        while f"adhoc-{number}" in taken:
            number += 1
        question = AdHocQuestion(f"adhoc-{number}", text.strip(), rubric)
        self._ad_hoc[question.id] = question
        self._ad_hoc_queue.append(question.id)
        return question.id

    def summary(self) -> SessionSummary:
        """Current estimates and outcomes; valid mid-interview as well as after closing."""
        statuses = tuple(self._selector.statuses())
        weights = {c.id: c.weight for c in self._template.competencies}
        measured = [s for s in statuses if self._has_level(s.competency_id)]
        overall = None
        if measured:
            total = sum(weights[s.competency_id] for s in measured)
            weighted = sum(weights[s.competency_id] * s.estimate.theta for s in measured)
            overall = weighted / total
        return SessionSummary(
            mode=self._mode,
            closed=self._closed,
            stop_reason=self._stop_reason,
            competencies=statuses,
            overall_theta=overall,
            questions=tuple(self._outcome(question_id) for question_id in self._asked_order),
        )

    def _has_level(self, competency_id: str) -> bool:
        return any(
            self._template.question(q).competency == competency_id
            and self._selector.level(q) is not None
            for q in self._asked_order
            if q not in self._ad_hoc
        )

    def _outcome(self, question_id: str) -> QuestionOutcome:
        ad_hoc = self._ad_hoc.get(question_id)
        if ad_hoc is not None:
            text, competency_id = ad_hoc.text, None
        else:
            question = self._template.question(question_id)
            text, competency_id = question.text, question.competency
        return QuestionOutcome(
            question_id=question_id,
            text=text,
            competency_id=competency_id,
            score=self._scores.get(question_id),
            follow_ups=tuple(self._follow_ups.get(question_id, ())),
            hints=tuple(h for h in self._hints if h.question_id == question_id),
        )

    def _probe_context(self) -> tuple[Question, AnswerScore, list[str]] | None:
        last = self._last_prompt
        # Only probe the answer just given: after an ad-hoc question the moment has passed.
        if last is None or last.question_id is None or last.question_id in self._ad_hoc:
            return None
        score = self._scores.get(last.question_id)
        if score is None:
            return None
        question = self._template.question(last.question_id)
        return question, score, self._follow_ups.get(last.question_id, [])

    def _due_follow_up(self, written_probe: str | None) -> Prompt | None:
        context = self._probe_context()
        if context is None:
            return None
        question, score, asked = context
        text = self._follow_up_planner.next_follow_up(question, score, asked, written=written_probe)
        if text is None:
            return None
        self._follow_ups[question.id] = [*asked, text]
        return Prompt("follow_up", question.id, text)

    def _issue_ad_hoc(self, question_id: str) -> Prompt:
        question = self._ad_hoc[question_id]
        self._asked_order.append(question_id)
        return self._issue(
            Prompt("question", question_id, question.text), scored=question.rubric is not None
        )

    def _issue(self, prompt: Prompt, *, scored: bool) -> Prompt:
        self._last_prompt = prompt
        self._awaiting = prompt if scored else None
        return prompt

    def _close(self, reason: StopReason) -> Prompt:
        self._closed = True
        self._stop_reason = reason
        return self._issue(Prompt("closing", None, CLOSING_TEXT), scored=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON state; `from_dict` with the same template rebuilds an identical session."""
        return {
            "version": STATE_VERSION,
            "template_slug": self._template.slug,
            "mode": self._mode,
            "selector": self._selector.to_dict(),
            "awaiting": None if self._awaiting is None else self._awaiting.to_dict(),
            "last_prompt": None if self._last_prompt is None else self._last_prompt.to_dict(),
            "scores": {qid: answer_score_to_dict(s) for qid, s in self._scores.items()},
            "follow_ups": {qid: list(texts) for qid, texts in self._follow_ups.items()},
            "hints": [hint.to_dict() for hint in self._hints],
            "ad_hoc": [question.to_dict() for question in self._ad_hoc.values()],
            "ad_hoc_queue": list(self._ad_hoc_queue),
            "asked_order": list(self._asked_order),
            "stop_reason": None if self._stop_reason is None else self._stop_reason.value,
            "closed": self._closed,
        }

    @classmethod
    def from_dict(
        cls,
        template: InterviewTemplate,
        data: Mapping[str, Any],
        *,
        follow_up_writer: FollowUpWriter | None = None,
    ) -> InterviewSession:
        """Rebuild a session saved by `to_dict`; the template must be the one it ran."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported session state version {data.get('version')!r}")
        if data["template_slug"] != template.slug:
            raise ValueError(
                f"state is for template {data['template_slug']!r}, not {template.slug!r}"
            )
        mode = str(data["mode"])
        if mode not in ("real", "practice"):
            raise ValueError(f"unknown mode {mode!r}")
        session = cls(template, cast(InterviewMode, mode), follow_up_writer=follow_up_writer)
        session._selector = AdaptiveSelector.from_dict(template, data["selector"])
        session._awaiting = None if data["awaiting"] is None else Prompt.from_dict(data["awaiting"])
        last_prompt = data["last_prompt"]
        session._last_prompt = None if last_prompt is None else Prompt.from_dict(last_prompt)
        session._scores = {
            qid: answer_score_from_dict(score) for qid, score in data["scores"].items()
        }
        session._follow_ups = {qid: list(texts) for qid, texts in data["follow_ups"].items()}
        session._hints = [HintGiven.from_dict(hint) for hint in data["hints"]]
        ad_hoc = (AdHocQuestion.from_dict(q) for q in data["ad_hoc"])
        session._ad_hoc = {question.id: question for question in ad_hoc}
        session._ad_hoc_queue = list(data["ad_hoc_queue"])
        session._asked_order = list(data["asked_order"])
        stop_reason = data["stop_reason"]
        session._stop_reason = None if stop_reason is None else StopReason(stop_reason)
        session._closed = bool(data["closed"])
        return session
