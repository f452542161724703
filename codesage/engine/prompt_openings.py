"""Pre-synthesized openings of every prompt a node may speak, so that the agent answers at once.

Which question comes next depends on the score of the answer just given, so the next prompt
cannot be synthesized while the candidate speaks. But every prompt is a template question, a
template's follow-up probe or the closing, and the agent's first audio waits only for the
first chunk of its text (the rest is synthesized while that plays). So a node synthesizes
those first chunks once, in the background, into the speech cache: ~0.1-0.2 s of one core
each, one at a time, so that a live interview's synthesis never queues behind them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from codesage.agents.interviewer import CLOSING_TEXT
from codesage.agents.template import InterviewTemplate
from codesage.agents.text_to_speech import TextToSpeech

log = logging.getLogger(__name__)


def spoken_prompts(templates: Iterable[InterviewTemplate]) -> list[str]:
    """Every prompt text the templates can make the agent say, each once: the questions and
    the closing first, then the follow-up probes (asked only after some answers)."""
    texts: dict[str, None] = {}
    probes: dict[str, None] = {}
    for template in templates:
        for question in template.questions:
            texts.setdefault(question.text, None)
            for probe in question.follow_ups:
                probes.setdefault(probe, None)
    return [*texts, CLOSING_TEXT, *probes]


@dataclass(frozen=True)
class OpeningsWarmed:
    """How many prompt openings were synthesized ahead, and how long it took."""

    prompts: int
    seconds: float


async def warm_prompt_openings(
    tts: TextToSpeech, texts: Iterable[str], *, limit: int = 64
) -> OpeningsWarmed:
    """Synthesize the opening of each text (at most `limit`, so that a catalogue of custom
    templates does not flush the speech cache) one after the other, off the event loop."""
    started = time.perf_counter()
    count = 0
    for text in list(texts)[:limit]:
        try:
            await asyncio.to_thread(tts.presynthesize, text, opening_only=True)
        except Exception:
            # A prompt that cannot be pre-synthesized is synthesized when spoken, as before.
            log.warning("pre-synthesizing a prompt failed", exc_info=True)
            continue
        count += 1
    warmed = OpeningsWarmed(count, time.perf_counter() - started)
    log.info(
        "prompt openings pre-synthesized",
        extra={"prompts": warmed.prompts, "seconds": round(warmed.seconds, 1)},
    )
    return warmed
