"""When each word of an answer was spoken, for the caption-lag figures of the benchmarks.

tiny.en's word timestamps of the clip are lined up with the reference transcript (difflib on
normalized words); a reference word that lines up with none is placed between its timed
neighbours in proportion to its position. Without timestamps every word is placed so: the
k-th of n words ends at k/n of the spoken duration. That estimate is off by up to a second
in a 20 s answer whose speaker slows down or pauses between sentences; timestamps are off by
about a tenth of one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from codesage.agents.speech_to_text import Transcript


@dataclass(frozen=True)
class WordEnd:
    """A normalized word of a clip and when it ends, in seconds from the start of its speech."""

    word: str
    end_s: float


def clip_word_ends(
    transcript: Transcript, lead_s: float, normalize: Callable[[str], str]
) -> list[WordEnd]:
    """The timed words of a decode made with word timestamps, `lead_s` (the silence before
    the speech, which the benchmark trims) taken off their times."""
    return [
        WordEnd(token, word.end - lead_s)
        for segment in transcript.segments
        for word in segment.words
        for token in normalize(word.text).split()
    ]


@dataclass(frozen=True)
class ReferenceTimes:
    """When each reference word ends (seconds from the start of speech), and how many of them
    were timed by a timestamp rather than placed between others."""

    ends_s: list[float]
    timed: int


def reference_word_ends(
    reference: Sequence[str], speech_s: float, timed: Sequence[WordEnd] | None
) -> ReferenceTimes:
    """The end of each (normalized) reference word in an answer of `speech_s` seconds."""
    count = len(reference)
    known: dict[int, float] = {}
    if timed:
        matcher = difflib.SequenceMatcher(
            None, list(reference), [w.word for w in timed], autojunk=False
        )
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                known[block.a + k] = timed[block.b + k].end_s
    # Anchors: speech starts at 0 (before word 0) and the last word ends at `speech_s`.
    anchors = {-1: 0.0, **({count - 1: speech_s} if count else {}), **known}
    indices = sorted(anchors)
    # Timestamps only ever grow; `maximum.accumulate` guards np.interp against a stray one.
    times = np.maximum.accumulate([anchors[i] for i in indices])
    ends = np.interp(np.arange(count), indices, times)
    return ReferenceTimes([float(t) for t in ends], len(known))
