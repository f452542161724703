"""Patient end-of-turn detection for interview answers, clocked by audio time.

Defaults, and why: candidates pause to think, and being cut off is the top complaint about AI
interviewers, so the detector waits for clear evidence. Whisper punctuates what it hears and
often closes an unfinished phrase with a full stop, so a "complete sentence" is weak evidence
on its own; it only shortens the wait once the answer is already substantial.

- `silence_s` 3.5: the wait when the words give no clear signal. Longer than a 3 s thinking
  pause, so a pause alone never ends a turn; a short answer ends 3.5 s after it.
- `after_unfinished_s` 5.0: after a conjunction, filler, article or preposition ("and", "so
  um", "is", "the") or a trailing comma or ellipsis: the candidate is mid-thought.
- `after_complete_s` 1.6: after a sentence end once the answer has `complete_min_words` (30,
  about 10-15 s of speech): a finished, substantial answer should not hang.
- `max_answer_s` 180 with `wrap_up_due` 15 s before: the interviewer can ask politely to wrap up.

The final decode of the answer need not wait for the decision: once the silence is within
`speculate_lead_s` (2 s) of the wait the words call for, and at least `speculate_after_s`
(0.6 s) long, `final_decode_due` says to decode the answer so far ahead of the decision. A
fixed 0.6 s would also decode at every short thinking pause mid-answer, and the next words
throw that decode away; 2 s ahead is more than twice the final decode's time on the boxes
where it was chosen (0.5-0.6 s), but not on a box half as fast (1-2 s for a 20 s answer),
where the decision still waits for the final (docs/performance.md, eleventh session).
For the lead, the words include the caption's tentative tail: the last words of an answer
become stable only once the decode at the pause is back, which on a busy box is after the
0.6 s, and until then a finished answer reads as unfinished and its decode would start late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

UNFINISHED_ENDINGS = frozenset(
    {
        # conjunctions and connectives
        "and", "but", "or", "so", "because", "since", "then", "though", "although", "while",
        "if", "when", "whereas", "unless", "until", "which", "that", "who", "where", "whether",
        # fillers
        "um", "uh", "uhm", "umm", "er", "erm", "ah", "hmm", "mm", "like",
        # words that cannot end a sentence
        "the", "a", "an", "of", "to", "in", "on", "at", "for", "with", "from", "by", "into",
        "is", "are", "was", "were", "be", "would", "will", "could", "should", "can", "my",
        "our", "their", "your", "its", "i", "we", "also", "maybe", "basically", "actually",
    }
)  # fmt: skip
"""Last words after which an answer is almost certainly not finished."""

_WORD = re.compile(r"[a-z']+")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_TRAILING_OPEN = re.compile(r"(\.\.\.|…|,|;|:|-|—)$")


@dataclass(frozen=True)
class TurnTakingSettings:
    """How long silence must last before the candidate's turn ends (seconds of audio)."""

    silence_s: float = 3.5
    after_unfinished_s: float = 5.0
    after_complete_s: float = 1.6
    complete_min_words: int = 30
    max_answer_s: float = 180.0
    wrap_up_lead_s: float = 15.0
    min_speech_s: float = 0.2
    speculate_lead_s: float | None = 2.0
    """Start the final decode this long before the silence would end the turn (None: never)."""
    speculate_after_s: float = 0.6
    """...but not before this much silence."""

    def __post_init__(self) -> None:
        for name in ("silence_s", "after_unfinished_s", "after_complete_s", "max_answer_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not 0 <= self.wrap_up_lead_s < self.max_answer_s:
            raise ValueError("wrap_up_lead_s must be between 0 and max_answer_s")
        if self.speculate_lead_s is not None and self.speculate_lead_s < 0:
            raise ValueError("speculate_lead_s must not be negative")
        if self.speculate_after_s <= 0:
            raise ValueError("speculate_after_s must be positive")


class TextEnding(StrEnum):
    """What the words so far suggest about the answer."""

    UNFINISHED = "unfinished"
    COMPLETE = "complete"
    NEUTRAL = "neutral"


def classify_ending(text: str) -> TextEnding:
    """Whether a transcript ends mid-phrase, at a sentence end, or neither."""
    stripped = text.strip()
    if not stripped:
        return TextEnding.NEUTRAL
    if _TRAILING_OPEN.search(stripped):
        return TextEnding.UNFINISHED
    words = _WORD.findall(stripped.lower())
    # Checked before the full stop: Whisper often writes "I would do is." at a pause.
    if words and words[-1].strip("'") in UNFINISHED_ENDINGS:
        return TextEnding.UNFINISHED
    if _SENTENCE_END.search(stripped):
        return TextEnding.COMPLETE
    return TextEnding.NEUTRAL


def _reading(text: str) -> tuple[TextEnding, int]:
    return classify_ending(text), len(_WORD.findall(text.lower()))


class TurnEventKind(StrEnum):
    """What the detector announces."""

    SPEECH_STARTED = "speech_started"
    WRAP_UP_DUE = "wrap_up_due"
    END_OF_TURN = "end_of_turn"


class EndReason(StrEnum):
    """Why a turn ended."""

    SILENCE = "silence"
    COMPLETE_ANSWER = "complete_answer"
    MAX_LENGTH = "max_length"


@dataclass(frozen=True)
class TurnEvent:
    """An announcement at a point of the stream's audio time."""

    kind: TurnEventKind
    at_s: float
    reason: EndReason | None = None


class EndpointDetector:
    """Turns VAD decisions and the live partial transcript into turn events, for one turn.

    Feed every VAD window with `advance` (in order) and the latest stable partial text with
    `update_text`. Nothing depends on the wall clock, so tests replay audio time exactly.
    """

    def __init__(self, settings: TurnTakingSettings | None = None) -> None:
        self._settings = settings if settings is not None else TurnTakingSettings()
        self._clock = 0.0
        self.reset()

    def reset(self) -> None:
        """Start listening for a new turn (the audio clock keeps running)."""
        self._text = ""
        self._ending = TextEnding.NEUTRAL
        self._word_count = 0
        self._shown = (TextEnding.NEUTRAL, 0)
        self._speech_run_s = 0.0
        self._speech_run_start: float | None = None
        self._started_at: float | None = None
        self._silence_s = 0.0
        self._wrap_up_sent = False
        self._ended = False

    @property
    def clock_s(self) -> float:
        """Audio time consumed so far."""
        return self._clock

    @property
    def text(self) -> str:
        """The transcript last given to `update_text`."""
        return self._text

    @property
    def started(self) -> bool:
        """True once the candidate has started answering."""
        return self._started_at is not None

    @property
    def ended(self) -> bool:
        """True once `end_of_turn` has been announced."""
        return self._ended

    @property
    def silence_s(self) -> float:
        """Seconds of silence since the candidate last spoke (0 while speaking or not started)."""
        return self._silence_s

    def final_decode_due(self) -> bool:
        """True while the candidate is silent and the turn may end soon enough that the final
        decode of the answer so far should start now (see `speculate_lead_s`)."""
        lead = self._settings.speculate_lead_s
        if lead is None or self._started_at is None or self._ended or self._silence_s <= 0:
            return False
        needed = min(self.silence_needed_s(), self._silence_rule(*self._shown)[0])
        start_at = max(self._settings.speculate_after_s, needed - lead)
        return self._silence_s >= start_at

    def update_text(self, text: str, tentative: str = "") -> None:
        """The latest stable transcript of the answer so far, and the caption's tentative
        words after it (they only bring the final decode forward, never the decision)."""
        self._text = text
        self._ending, self._word_count = _reading(text)
        self._shown = (
            _reading(f"{text} {tentative}") if tentative else (self._ending, self._word_count)
        )

    def silence_needed_s(self) -> float:
        """How much trailing silence would end the turn, given the words so far."""
        return self._silence_rule(self._ending, self._word_count)[0]

    def _silence_rule(self, ending: TextEnding, word_count: int) -> tuple[float, EndReason]:
        settings = self._settings
        if ending is TextEnding.UNFINISHED:
            return settings.after_unfinished_s, EndReason.SILENCE
        if ending is TextEnding.COMPLETE and word_count >= settings.complete_min_words:
            return settings.after_complete_s, EndReason.COMPLETE_ANSWER
        return settings.silence_s, EndReason.SILENCE

    def advance(self, speech: bool, duration_s: float) -> list[TurnEvent]:
        """Consume `duration_s` of audio that the VAD judged speech or silence."""
        start = self._clock
        self._clock = start + duration_s
        if self._ended:
            return []
        events: list[TurnEvent] = []
        if speech:
            self._silence_s = 0.0
            if self._speech_run_start is None:
                self._speech_run_start = start
            self._speech_run_s += duration_s
            if self._started_at is None and self._speech_run_s >= self._settings.min_speech_s:
                self._started_at = self._speech_run_start
                events.append(TurnEvent(TurnEventKind.SPEECH_STARTED, self._started_at))
        else:
            self._speech_run_start = None
            self._speech_run_s = 0.0
            if self._started_at is not None:
                self._silence_s += duration_s
        if self._started_at is None:
            return events
        events.extend(self._check_limits())
        return events

    def _check_limits(self) -> list[TurnEvent]:
        assert self._started_at is not None
        settings = self._settings
        answered_s = self._clock - self._started_at
        events: list[TurnEvent] = []
        if not self._wrap_up_sent and answered_s >= settings.max_answer_s - settings.wrap_up_lead_s:
            self._wrap_up_sent = True
            events.append(TurnEvent(TurnEventKind.WRAP_UP_DUE, self._clock))
        if answered_s >= settings.max_answer_s:
            return [*events, self._end(EndReason.MAX_LENGTH)]
        needed, reason = self._silence_rule(self._ending, self._word_count)
        if self._silence_s > 0 and self._silence_s >= needed:
            events.append(self._end(reason))
        return events

    def _end(self, reason: EndReason) -> TurnEvent:
        self._ended = True
        return TurnEvent(TurnEventKind.END_OF_TURN, self._clock, reason)
