"""Patient end-of-turn detection: thinking pauses do not end a turn, finished answers do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codesage.media.captions import CaptionSettings, LiveCaptioner
from codesage.media.endpointing import (
    EndpointDetector,
    EndReason,
    TextEnding,
    TurnEvent,
    TurnEventKind,
    TurnTakingSettings,
    classify_ending,
)
from codesage.media.inference_pool import SpeechInferencePool
from codesage.media.vad import SileroVadModel, VoiceActivityDetector
from tests.media import (
    join,
    listen,
    silence,
    synthesize,
    whisper_tiny,
    white_noise,
    word_error_rate,
)

WINDOW = 0.032
LONG_ANSWER = (
    "In my last project I built a caching layer in front of the database. It cut the "
    "response time in half, and we used Redis with a short expiry so that stale data never "
    "lasted long, which the team liked because it was simple to run."
)


def feed(detector: EndpointDetector, speech: bool, seconds: float) -> list[TurnEvent]:
    """Advance by whole 32 ms VAD windows."""
    events: list[TurnEvent] = []
    for _ in range(round(seconds / WINDOW)):
        events.extend(detector.advance(speech, WINDOW))
    return events


def kinds(events: list[TurnEvent]) -> list[TurnEventKind]:
    return [event.kind for event in events]


@pytest.mark.parametrize(
    ("text", "ending"),
    [
        ("", TextEnding.NEUTRAL),
        ("So the first thing I would do is, um", TextEnding.UNFINISHED),
        ("So the first thing I would do is.", TextEnding.UNFINISHED),
        ("and then...", TextEnding.UNFINISHED),
        ("I checked the logs, and", TextEnding.UNFINISHED),
        ("We used a queue, so um.", TextEnding.UNFINISHED),
        ("It was balanced.", TextEnding.COMPLETE),
        ("Did it scale?", TextEnding.COMPLETE),
        ("We used Redis", TextEnding.NEUTRAL),
    ],
)
def test_classify_ending(text: str, ending: TextEnding) -> None:
    assert classify_ending(text) is ending


def test_a_three_second_thinking_pause_after_an_unfinished_phrase_does_not_end_the_turn() -> None:
    detector = EndpointDetector()
    events = feed(detector, True, 3.0)
    assert kinds(events) == [TurnEventKind.SPEECH_STARTED]
    detector.update_text("So the first thing I would do is, um")
    assert feed(detector, False, 3.0) == []
    assert detector.silence_needed_s() > 3.0
    assert feed(detector, True, 2.0) == []
    detector.update_text("So the first thing I would do is, um, reproduce the bug.")
    events = feed(detector, False, 4.0)
    assert kinds(events) == [TurnEventKind.END_OF_TURN]
    assert events[0].reason is EndReason.SILENCE
    assert events[0].at_s == pytest.approx(8.0 + 3.5, abs=WINDOW)


def test_a_three_second_pause_after_a_short_complete_sentence_does_not_end_the_turn() -> None:
    detector = EndpointDetector()
    feed(detector, True, 2.0)
    detector.update_text("First I would check the logs.")
    assert feed(detector, False, 3.0) == []


def test_a_long_complete_answer_followed_by_silence_ends_the_turn_sooner() -> None:
    detector = EndpointDetector()
    feed(detector, True, 15.0)
    detector.update_text(LONG_ANSWER)
    events = feed(detector, False, 3.0)
    assert kinds(events) == [TurnEventKind.END_OF_TURN]
    assert events[0].reason is EndReason.COMPLETE_ANSWER
    assert events[0].at_s == pytest.approx(15.0 + 1.6, abs=WINDOW)
    assert detector.ended
    assert feed(detector, True, 1.0) == []


def test_the_maximum_answer_length_gives_a_wrap_up_then_ends() -> None:
    settings = TurnTakingSettings(max_answer_s=20.0, wrap_up_lead_s=5.0)
    detector = EndpointDetector(settings)
    feed(detector, False, 1.0)
    events = feed(detector, True, 30.0)
    assert kinds(events) == [
        TurnEventKind.SPEECH_STARTED,
        TurnEventKind.WRAP_UP_DUE,
        TurnEventKind.END_OF_TURN,
    ]
    started, wrap_up, end = events
    assert wrap_up.at_s - started.at_s == pytest.approx(15.0, abs=WINDOW)
    assert end.at_s - started.at_s == pytest.approx(20.0, abs=WINDOW)
    assert end.reason is EndReason.MAX_LENGTH


def test_silence_and_clicks_never_start_or_end_a_turn() -> None:
    detector = EndpointDetector()
    assert feed(detector, False, 30.0) == []
    for _ in range(20):
        detector.advance(True, 0.1)  # a click or a cough: shorter than min_speech_s
        assert feed(detector, False, 1.0) == []
    assert not detector.started


def test_reset_listens_for_a_new_turn_on_the_same_clock() -> None:
    detector = EndpointDetector(TurnTakingSettings(silence_s=1.0))
    feed(detector, True, 1.0)
    assert kinds(feed(detector, False, 1.2)) == [TurnEventKind.END_OF_TURN]
    detector.reset()
    events = feed(detector, True, 0.5)
    assert kinds(events) == [TurnEventKind.SPEECH_STARTED]
    assert events[0].at_s == pytest.approx(2.2, abs=WINDOW)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="silence_s"):
        TurnTakingSettings(silence_s=0)
    with pytest.raises(ValueError, match="wrap_up_lead_s"):
        TurnTakingSettings(max_answer_s=10, wrap_up_lead_s=10)
    with pytest.raises(ValueError, match="speculate_lead_s"):
        TurnTakingSettings(speculate_lead_s=-1)
    with pytest.raises(ValueError, match="speculate_after_s"):
        TurnTakingSettings(speculate_after_s=0)


def silence_until_final_decode_due(detector: EndpointDetector, limit_s: float = 10.0) -> float:
    """Seconds of silence fed until `final_decode_due`, which must stay due until the end."""
    fed = 0.0
    while not detector.final_decode_due():
        assert fed < limit_s and not detector.ended
        feed(detector, False, WINDOW)
        fed += WINDOW
    while not detector.ended:
        assert detector.final_decode_due()
        feed(detector, False, WINDOW)
    return fed


@pytest.mark.parametrize(
    ("text", "due_at_s"),
    [
        ("I would add an index", 1.5),  # no clear signal: 3.5 s, so 2 s ahead of it
        ("I would add an index and", 3.0),  # unfinished: 5 s
        (LONG_ANSWER, 0.6),  # long and complete: 1.6 s, but never before 0.6 s
    ],
)
def test_the_final_decode_is_due_a_lead_before_the_silence_would_end_the_turn(
    text: str, due_at_s: float
) -> None:
    detector = EndpointDetector()
    assert not detector.final_decode_due()
    feed(detector, True, 1.0)
    detector.update_text(text)
    assert not detector.final_decode_due()  # speaking
    assert silence_until_final_decode_due(detector) == pytest.approx(due_at_s, abs=WINDOW)
    assert not detector.final_decode_due()  # the turn ended


def test_a_tentative_ending_brings_the_final_decode_forward_but_never_the_decision() -> None:
    # The last words are stable only once the decode at the pause is back; until then the
    # caption shows them as tentative, and the final decode need not wait for them.
    stable, last = LONG_ANSWER.rsplit(" ", 1)
    detector = EndpointDetector()
    feed(detector, True, 1.0)
    detector.update_text(stable, last)
    # "...simple to" reads unfinished: the decision waits 5 s, the decode without the
    # tentative "run." would start 3 s in.
    assert detector.silence_needed_s() == 5.0, "the decision reads the stable words only"
    assert silence_until_final_decode_due(detector) == pytest.approx(0.6, abs=WINDOW)
    assert detector.clock_s == pytest.approx(1.0 + 5.0, abs=WINDOW)

    unsure = EndpointDetector()
    feed(unsure, True, 1.0)
    unsure.update_text(LONG_ANSWER, "and")  # tentatively unfinished: the stable words rule
    assert silence_until_final_decode_due(unsure) == pytest.approx(0.6, abs=WINDOW)


def test_speech_resets_the_final_decode_lead_and_it_can_be_turned_off() -> None:
    detector = EndpointDetector(TurnTakingSettings(silence_s=2.0, speculate_lead_s=1.0))
    feed(detector, True, 1.0)
    feed(detector, False, 1.2)
    assert detector.final_decode_due() and detector.silence_s == pytest.approx(1.2, abs=WINDOW)
    feed(detector, True, 0.3)
    assert not detector.final_decode_due() and detector.silence_s == 0
    assert silence_until_final_decode_due(detector) == pytest.approx(1.0, abs=WINDOW)

    never = EndpointDetector(TurnTakingSettings(speculate_lead_s=None))
    feed(never, True, 1.0)
    for _ in range(200):
        feed(never, False, WINDOW)
        assert not never.final_decode_due()
    assert never.ended
    # Silence or a click before the answer starts never asks for a decode.
    quiet = EndpointDetector()
    feed(quiet, False, 3.0)
    feed(quiet, True, 0.1)
    feed(quiet, False, 3.0)
    assert not quiet.final_decode_due()


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "speech"


@pytest.fixture
async def pool() -> AsyncIterator[SpeechInferencePool]:
    async with SpeechInferencePool(whisper_tiny(), workers=2) as shared:
        yield shared


async def test_a_spoken_answer_with_a_three_second_thinking_pause_is_one_turn(
    pool: SpeechInferencePool, speech_cache: Path
) -> None:
    """The issue's test, end to end: VAD, live captions and the endpointer on real speech."""
    audio = join(
        silence(0.5),
        synthesize("So the first thing I would do is, um,", speech_cache),
        silence(3.0),
        synthesize("reproduce the bug on my own machine.", speech_cache),
        silence(6.0),
    )
    # Decodes at fixed points of the audio: the default cadence also follows the pool's
    # wall-clock turnaround, and tiny.en hears "or produce" in some cuts of this window.
    captioner = LiveCaptioner(
        pool.for_stream("pause"), settings=CaptionSettings(turnaround_factor=0.0)
    )
    endpointer = EndpointDetector()
    events = await listen(audio, VoiceActivityDetector(SileroVadModel()), endpointer, captioner)
    assert kinds(events) == [TurnEventKind.SPEECH_STARTED, TurnEventKind.END_OF_TURN]
    speech_ends = len(audio) / 16_000 - 6.0
    assert events[1].at_s > speech_ends + 1.0  # not during the thinking pause
    assert "reproduce" in captioner.partial.lower()
    final = await captioner.finish()
    assert (
        word_error_rate(
            "so the first thing I would do is um reproduce the bug on my own machine", final.text
        )
        < 0.25
    )


@pytest.mark.parametrize("kind", ["silence", "noise"])
async def test_silence_or_noise_never_starts_a_turn_nor_produces_text(
    pool: SpeechInferencePool, kind: str
) -> None:
    audio = silence(8.0) if kind == "silence" else white_noise(8.0, level=0.08)
    captioner = LiveCaptioner(pool.for_stream(kind))
    events = await listen(
        audio, VoiceActivityDetector(SileroVadModel()), EndpointDetector(), captioner
    )
    assert events == []
    assert captioner.partial == ""
    assert (await captioner.finish()).text == ""
