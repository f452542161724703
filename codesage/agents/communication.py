"""Communication metrics of an answer (pace, filler words, pauses); never emotion or affect."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

COMMUNICATION_LABEL = "communication metrics (not affect)"

# Hesitation sounds are fillers wherever they occur.
HESITATIONS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "ah"})
# "you know" and "I mean" fill a gap unless they introduce a clause ("you know that…").
_YOU_KNOW_I_MEAN = re.compile(r"\b(?:you know|i mean)\b(?!\s+(?:that|what|how|why|if)\b)")
# "like" is a filler when set off by commas ("it was, like, slow"), not in "I like Python".
_LIKE = re.compile(r"(?:,\s*like\b|\blike\s*,)")
# "kind of" hedges after a verb or pronoun; after "a"/"the"/"this" it names a kind of thing.
_HEDGE = re.compile(
    r"(?<!\ba )(?<!\bthe )(?<!\bthis )(?<!\bthat )(?<!\bwhat )(?<!\bsome )(?<!\bany )"
    r"(?<!\bone )(?<!\beach )(?<!\bsame )\b(?:kind|sort) of\b"
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class CommunicationMetrics:
    """Pace, filler words and pauses of one answer; reported, not scored unless a rubric says so."""

    word_count: int
    words_per_minute: float | None
    """None when the speaking time is unknown (a typed answer)."""
    filler_count: int
    filler_rate: float | None
    """Fillers per 100 words; None for an empty answer."""
    fillers: Mapping[str, int]
    pause_count: int
    longest_pause_seconds: float | None
    mean_pause_seconds: float | None
    label: str = field(default=COMMUNICATION_LABEL)


def measure_communication(
    text: str, speech_seconds: float | None, pauses: Sequence[float] | None
) -> CommunicationMetrics:
    """Measure pace from the words and speaking time, count fillers, summarise the pauses."""
    lowered = " ".join(text.lower().split())
    words = _WORD.findall(lowered)
    fillers = _count_fillers(lowered, words)
    filler_count = sum(fillers.values())
    pause_list = list(pauses or [])
    if any(pause < 0 for pause in pause_list):
        raise ValueError(f"pause lengths cannot be negative: {pause_list}")
    pace = None
    if speech_seconds is not None and speech_seconds > 0:
        pace = round(len(words) * 60.0 / speech_seconds, 1)
    return CommunicationMetrics(
        word_count=len(words),
        words_per_minute=pace,
        filler_count=filler_count,
        filler_rate=round(100.0 * filler_count / len(words), 2) if words else None,
        fillers=dict(fillers),
        pause_count=len(pause_list),
        longest_pause_seconds=max(pause_list) if pause_list else None,
        mean_pause_seconds=round(sum(pause_list) / len(pause_list), 3) if pause_list else None,
    )


def _count_fillers(lowered: str, words: Sequence[str]) -> Counter[str]:
    counts: Counter[str] = Counter(word for word in words if word in HESITATIONS)
    counts.update(match.group() for match in _YOU_KNOW_I_MEAN.finditer(lowered))
    counts.update("like" for _ in _LIKE.finditer(lowered))
    counts.update(match.group() for match in _HEDGE.finditer(lowered))
    return counts
