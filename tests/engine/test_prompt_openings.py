"""Prompt openings synthesized ahead: which texts, in what order, and failures skipped."""

from __future__ import annotations

from collections.abc import Iterator

from codesage.agents.interviewer import CLOSING_TEXT
from codesage.agents.template import load_templates
from codesage.agents.text_to_speech import SpeechChunk
from codesage.engine.prompt_openings import spoken_prompts, warm_prompt_openings


class RecordingSpeech:
    """Records what it is asked to pre-synthesize; texts in `broken` fail."""

    sample_rate = 22_050

    def __init__(self, broken: frozenset[str] = frozenset()) -> None:
        self.prepared: list[tuple[str, bool]] = []
        self._broken = broken

    def synthesize_sentences(self, text: str) -> Iterator[SpeechChunk]:
        raise AssertionError("warming only pre-synthesizes")

    def presynthesize(self, text: str, *, opening_only: bool = False) -> None:
        if text in self._broken:
            raise RuntimeError("voice failed")
        self.prepared.append((text, opening_only))


def test_every_question_then_the_closing_then_the_probes() -> None:
    templates = load_templates()
    texts = spoken_prompts(templates)
    questions = [q.text for t in templates for q in t.questions]
    probes = {p for t in templates for q in t.questions for p in q.follow_ups}
    assert len(texts) == len(set(texts))
    assert texts[: len(set(questions))] == list(dict.fromkeys(questions))
    assert texts[len(set(questions))] == CLOSING_TEXT
    assert set(texts[len(set(questions)) + 1 :]) == probes


async def test_openings_are_pre_synthesized_up_to_the_limit_and_failures_skipped() -> None:
    speech = RecordingSpeech(broken=frozenset({"Second?"}))
    warmed = await warm_prompt_openings(speech, ["First?", "Second?", "Third?", "Fourth?"], limit=3)
    assert speech.prepared == [("First?", True), ("Third?", True)]
    assert warmed.prompts == 2
