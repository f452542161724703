"""Live captions: LocalAgreement-2 partials only grow; the final decodes the whole answer."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from codesage.agents.speech_to_text import AudioArray, Transcript, TranscriptSegment
from codesage.media.captions import (
    CaptionSettings,
    CaptionUpdate,
    LiveCaptioner,
    restore_dropped_tail,
)
from codesage.media.endpointing import EndpointDetector, TurnEventKind
from codesage.media.inference_pool import DecodeKind, PartialShed, SpeechInferencePool
from codesage.media.vad import SileroVadModel, VoiceActivityDetector
from tests.media import join, listen, silence, synthesize, whisper_tiny, word_error_rate

ANSWER = (
    "I prefer writing tests before I change old code, because they tell me what the code "
    "really does today."
)
SECOND = 16_000


class ScriptedTranscriber:
    """Answers partial decodes from a script; records the audio length of each call."""

    def __init__(self, partials: list[str | None], final: str = "final text") -> None:
        self._partials = iter(partials)
        self._final = final
        self.calls: list[tuple[DecodeKind, int]] = []

    async def __call__(
        self, audio: AudioArray, *, kind: DecodeKind, prompt: str | None = None
    ) -> Transcript:
        self.calls.append((kind, len(audio)))
        text = self._final if kind is DecodeKind.FINAL else next(self._partials)
        if text is None:
            raise PartialShed("shed in the script")
        return Transcript((TranscriptSegment(0.0, len(audio) / SECOND, text),), 1.0, "en")


def speech(seconds: float) -> AudioArray:
    return np.full(int(seconds * SECOND), 0.1, np.float32)


def quiet(seconds: float) -> AudioArray:
    return np.zeros(int(seconds * SECOND), np.float32)


async def feed(captioner: LiveCaptioner, audio: AudioArray, *, speaking: bool) -> None:
    for start in range(0, len(audio), 512):
        captioner.add_audio(audio[start : start + 512], speech=speaking)
        await captioner.idle()


async def test_words_are_committed_when_two_decodes_agree_and_never_retracted() -> None:
    script = [
        "So the",
        "So the first thing",
        "so, the first thing I'd",  # case and punctuation do not matter
        "So the first thing I would do",  # "I'd" vs "I" disagree: nothing new
        "Sue the first thing I would do is",  # an early flip does not stall captions
    ]
    published: list[CaptionUpdate] = []
    transcriber = ScriptedTranscriber(script)
    captioner = LiveCaptioner(
        transcriber, settings=CaptionSettings(interval_s=1.0), on_partial=published.append
    )
    await feed(captioner, speech(5.2), speaking=True)
    assert [kind for kind, _ in transcriber.calls] == [DecodeKind.PARTIAL] * 5
    # Each decode's unagreed words are shown at once as tentative, a decode before they
    # become stable; a flipped word ("I'd" → "I would") is replaced, never committed.
    assert published == [
        CaptionUpdate("", "So the"),
        CaptionUpdate("So the", "first thing"),
        CaptionUpdate("So the first thing", "I'd"),
        CaptionUpdate("So the first thing", "I would do"),
        CaptionUpdate("So the first thing I would do", "is"),
    ]
    assert captioner.partial == "So the first thing I would do"
    assert captioner.tentative == "is"
    final = await captioner.finish()
    assert final.text == "final text"
    assert transcriber.calls[-1] == (DecodeKind.FINAL, len(captioner.audio()))


async def test_captions_go_on_when_a_decode_hears_the_last_committed_words_otherwise() -> None:
    script = [
        "We broke it after a change in one",
        "We broke it after a change in one team",
        "We broke it after a change and when team format broke",  # "in one" → "and when"
        "We broke it after a change and when team format broke three",
    ]
    transcriber = ScriptedTranscriber(script)
    captioner = LiveCaptioner(transcriber, settings=CaptionSettings(interval_s=1.0))
    await feed(captioner, speech(3.2), speaking=True)
    # The third decode is lined up by "a change", two words on: "team" agrees with the
    # second decode, and what follows it is shown.
    assert captioner.partial == "We broke it after a change in one team"
    assert captioner.tentative == "format broke"
    await feed(captioner, speech(1.0), speaking=True)
    # The committed words stand; later decodes agree on what follows them.
    assert captioner.partial == "We broke it after a change in one team format broke"
    assert captioner.tentative == "three"


async def test_a_decode_that_hears_more_of_the_start_does_not_repeat_the_caption() -> None:
    script = [
        "the most was a leaked excess key in a public",
        "the most was a leaked excess key in a public-ri-pos-t-t-t",
        # This decode hears the words before the window's first: everything moves six on,
        # and the earlier "a" sits one position past where the last committed "a" should.
        "Security wise, the incident that taught me the most was a leaked excess key in a "
        "public repository.",
        "Security wise, the incident that taught me the most was a leaked excess key in a "
        "public repository. It was",
    ]
    captioner = LiveCaptioner(ScriptedTranscriber(script), settings=CaptionSettings(interval_s=1.0))
    await feed(captioner, speech(4.2), speaking=True)
    assert captioner.partial == "the most was a leaked excess key in a public repository."
    assert captioner.tentative == "It was"


async def test_the_lead_in_opens_the_final_the_early_decode_and_the_first_partials() -> None:
    transcriber = ScriptedTranscriber(["So the", "So the first"])
    settings = CaptionSettings(interval_s=1.0, pause_s=0.3, pre_roll_s=0.2)
    lead_in = np.full(SECOND, 0.01, np.float32)  # a second before the first voiced window
    captioner = LiveCaptioner(transcriber, settings=settings, lead_in=lead_in)
    await feed(captioner, speech(2.0), speaking=True)
    partials = [length for kind, length in transcriber.calls if kind is DecodeKind.PARTIAL]
    # Whisper takes a window that opens on speech for no speech: the first window's partials
    # open on the lead-in's last 0.2 s, as the final does.
    lead = int(0.2 * SECOND)
    assert partials == pytest.approx([lead + SECOND], abs=512)  # in 32 ms windows

    await feed(captioner, quiet(0.4), speaking=False)
    assert captioner.speculate_final()
    await captioner.finish()
    assert captioner.final_speculative
    voiced = int(2.3 * SECOND)  # the speech and 0.3 s of the pause
    assert transcriber.calls[-1] == (DecodeKind.FINAL, int(0.2 * SECOND) + voiced)
    audio = captioner.audio()
    assert np.all(audio[: int(0.2 * SECOND)] == np.float32(0.01))  # the lead-in's last 0.2 s


def heard(text: str) -> Transcript:
    """A final of 9 s of audio whose words (if any) end at 4 s."""
    segments = (TranscriptSegment(0.0, 4.0, text),) if text else ()
    return Transcript(segments, 9.0, "en")


CAPTION = "Each change went through the pipeline, and a feature flag let us turn it off."


@pytest.mark.parametrize(
    ("final", "expected", "restored"),
    [
        # Whisper ended the decode at a pause: the caption's words past its end are kept.
        (
            "Each change went through the pipeline and a feature",
            "Each change went through the pipeline and a feature flag let us turn it off.",
            6,
        ),
        # Its last word heard otherwise ("fled" for "flag") is not repeated from the caption.
        (
            "each change went through the pipeline and a feature fled",
            "each change went through the pipeline and a feature fled let us turn it off.",
            5,
        ),
        # Nothing kept at all, while the caption shows the answer.
        ("", CAPTION, 15),
        # The final reached the end, with its own wording and a word the caption lacked.
        (
            "So each change went through a pipeline and a feature flag let us turn it off.",
            "So each change went through a pipeline and a feature flag let us turn it off.",
            0,
        ),
        # Two words short: a dropped filler or a flip, not a decode that stopped.
        (
            "Each change went through the pipeline, and a feature flag let us turn",
            "Each change went through the pipeline, and a feature flag let us turn",
            0,
        ),
        # Diverges at its end: the final decoded more audio, so it stands.
        (
            "Each change went through the pipeline, and then we shipped it on Friday",
            "Each change went through the pipeline, and then we shipped it on Friday",
            0,
        ),
    ],
)
def test_a_final_that_stopped_early_is_completed_from_the_stable_caption(
    final: str, expected: str, restored: int
) -> None:
    completed, count = restore_dropped_tail(heard(final), CAPTION)
    assert completed.text == expected and count == restored
    if restored:
        assert completed.segments[-1].start == (4.0 if final else 0.0)
        assert completed.segments[-1].end == 9.0


def test_a_caption_tail_that_loops_is_not_added_to_the_final() -> None:
    final = heard("We roll it back")
    looping = "We roll it back roll back roll back roll back"
    assert restore_dropped_tail(final, looping) == (final, 0)


def test_a_caption_that_repeats_the_answer_is_not_added_to_the_final() -> None:
    # A live run: a partial decode looped the whole answer into the caption, and the final,
    # which had it once, got it twice.
    final = heard("I think a good manager removes obstacles and then gets out of the way.")
    said = "I think a good manager remove substicles and then gets out of the way."
    assert restore_dropped_tail(final, f"{said} {said}") == (final, 0)
    misheard_again = "I think the good manager removes obstacles and then gets out of that way."
    assert restore_dropped_tail(final, f"{said} {misheard_again}") == (final, 0)


@pytest.mark.parametrize(
    "tail",
    ["in the map", "and I stop there", "the value is a duplicate", "it is a duplicate then"],
)
def test_a_dropped_tail_that_shares_a_few_words_with_the_final_is_restored(tail: str) -> None:
    said = "I keep the items in a set, and if the value is already in the set and it is found"
    completed, count = restore_dropped_tail(heard(said), f"{said} {tail}")
    assert (completed.text, count) == (f"{said} {tail}", len(tail.split()))


async def test_the_final_keeps_the_caption_words_a_decode_that_stopped_early_dropped() -> None:
    script = ["We ship", "We ship daily and a", *["We ship daily and a flag turns it off"] * 2]
    transcriber = ScriptedTranscriber(script, final="We ship daily, and a")
    captioner = LiveCaptioner(transcriber, settings=CaptionSettings(interval_s=1.0, pause_s=0.3))
    await feed(captioner, speech(3.2), speaking=True)
    await feed(captioner, quiet(0.5), speaking=False)
    assert captioner.partial == "We ship daily and a flag turns it off"
    final = await captioner.finish()
    assert final.text == "We ship daily, and a flag turns it off"
    assert captioner.restored_words == 4


async def test_a_pause_commits_the_whole_decode_and_long_windows_are_sealed() -> None:
    script = ["We used", "We used Redis", "We used Redis with a short expiry.", "It worked"]
    transcriber = ScriptedTranscriber(script)
    settings = CaptionSettings(interval_s=1.0, pause_s=0.3, seal_after_s=2.0)
    captioner = LiveCaptioner(transcriber, settings=settings)
    await feed(captioner, speech(2.5), speaking=True)
    assert captioner.partial == "We used"
    await feed(captioner, quiet(2.0), speaking=False)
    assert captioner.partial == "We used Redis with a short expiry."
    assert captioner.tentative == ""  # a pause commits the whole decode
    # Only 0.3 s of the pause is kept, and the next window starts after the pause.
    assert captioner.voiced_s == pytest.approx(2.8, abs=0.04)
    await feed(captioner, speech(1.0), speaking=True)
    assert transcriber.calls[-1][1] < 1.3 * SECOND
    assert captioner.partial == "We used Redis with a short expiry."
    # 0.2 s of pre-roll from the pause was kept in front of the resumed speech.
    assert captioner.voiced_s == pytest.approx(2.8 + 0.2 + 1.0, abs=0.04)


async def test_a_breath_in_a_long_window_seals_it_and_the_next_opens_on_the_breath() -> None:
    script = ["We used", "We used Redis", "We used Redis with a short expiry.", "It worked"]
    transcriber = ScriptedTranscriber(script)
    settings = CaptionSettings(interval_s=1.0, breath_s=0.1, breath_window_s=2.0)
    captioner = LiveCaptioner(transcriber, settings=settings)
    breath = quiet(4 * 0.032)  # four VAD windows: shorter than a pause (0.3 s)
    await feed(captioner, speech(1.5), speaking=True)
    await feed(captioner, breath, speaking=False)
    # A breath in a window shorter than `breath_window_s` is only a gap between words.
    assert len(transcriber.calls) == 1
    await feed(captioner, speech(0.9), speaking=True)
    assert captioner.partial == "We used"
    await feed(captioner, breath, speaking=False)
    # Now the window holds 2.5 s: the breath is decoded to and the decode committed whole.
    assert transcriber.calls[-1][1] == len(captioner.audio())
    assert captioner.partial == "We used Redis with a short expiry."
    await feed(captioner, speech(1.0), speaking=True)
    # The next window opens on the breath's silence, not mid-word (Whisper hears no speech).
    assert transcriber.calls[-1][1] == pytest.approx(len(breath) + SECOND, abs=512)
    assert captioner.partial == "We used Redis with a short expiry."
    assert captioner.tentative == "It worked"


class GatedTranscriber(ScriptedTranscriber):
    """Partial decodes wait until `gate` is set, as in a busy pool."""

    def __init__(self, partials: list[str | None]) -> None:
        super().__init__(partials)
        self.gate = asyncio.Event()

    async def __call__(
        self, audio: AudioArray, *, kind: DecodeKind, prompt: str | None = None
    ) -> Transcript:
        await self.gate.wait()
        return await super().__call__(audio, kind=kind, prompt=prompt)


async def test_a_pause_reached_while_a_decode_runs_is_decoded_to_when_it_is_back() -> None:
    transcriber = GatedTranscriber(["We used", "We used Redis.", "It worked"])
    settings = CaptionSettings(interval_s=1.0, pause_s=0.3, seal_after_s=1.0)
    captioner = LiveCaptioner(transcriber, settings=settings)
    for part, speaking in ((speech(1.0), True), (quiet(0.4), False), (speech(0.5), True)):
        for start in range(0, len(part), 512):
            captioner.add_audio(part[start : start + 512], speech=speaking)
    # The first decode (1 s) was still running through the pause and the speech after it.
    transcriber.gate.set()
    await captioner.idle()
    lengths = [length for _, length in transcriber.calls]
    pause_end = int(1.3 * SECOND)  # the speech and the 0.3 s of the pause that are kept
    assert lengths == pytest.approx([SECOND, pause_end], abs=512)  # in 32 ms windows
    assert captioner.partial == "We used Redis."  # committed whole, as at any pause
    await feed(captioner, speech(0.6), speaking=True)
    # Sealed at the pause: the next decode is of the second of audio kept after it, not of
    # all 2.3 s since the start.
    assert transcriber.calls[-1][1] == pytest.approx(SECOND, abs=512)
    assert captioner.partial == "We used Redis." and captioner.tentative == "It worked"


async def test_shed_partials_are_skipped_and_silence_alone_decodes_nothing() -> None:
    transcriber = ScriptedTranscriber([None, "Hello there", "Hello there friend"])
    captioner = LiveCaptioner(transcriber, settings=CaptionSettings(interval_s=1.0))
    await feed(captioner, quiet(5.0), speaking=False)
    assert transcriber.calls == []
    await feed(captioner, speech(3.1), speaking=True)
    assert captioner.partial == "Hello there"
    captioner.close()
    with pytest.raises(RuntimeError, match="finished"):
        captioner.add_audio(speech(0.1), speech=True)


class SlowTranscriber(ScriptedTranscriber):
    """Each partial decode takes `seconds` of wall time, as in a busy pool."""

    def __init__(self, seconds: float) -> None:
        super().__init__(["so the answer"] * 100)
        self._seconds = seconds

    async def __call__(
        self, audio: AudioArray, *, kind: DecodeKind, prompt: str | None = None
    ) -> Transcript:
        await asyncio.sleep(self._seconds)
        return await super().__call__(audio, kind=kind, prompt=prompt)


async def test_a_slow_pool_gets_fewer_partial_requests() -> None:
    settings = CaptionSettings(interval_s=0.5, turnaround_factor=2.0)
    quick = ScriptedTranscriber(["so the answer"] * 100)
    await feed(LiveCaptioner(quick, settings=settings), speech(3.2), speaking=True)
    # A decode every 0.5 s of audio while they come back at once ...
    assert len(quick.calls) == 6
    slow = SlowTranscriber(0.5)
    await feed(LiveCaptioner(slow, settings=settings), speech(3.2), speaking=True)
    # ... and every 2 x 0.5 s once each takes half a second: at 0.5, 1.5 and 2.5 s.
    assert [length / SECOND for _, length in slow.calls] == pytest.approx(
        [0.5, 1.5, 2.5],
        abs=0.1,  # audio comes in 32 ms windows
    )


class LengthTranscriber(ScriptedTranscriber):
    """Partials say "so the answer"; a final's text is the length of its audio, and the audio
    of each final is kept. `hold` keeps finals from completing until it is set."""

    def __init__(self) -> None:
        super().__init__(["so the answer"] * 100)
        self.finals: list[AudioArray] = []
        self.hold = asyncio.Event()
        self.hold.set()

    async def __call__(
        self, audio: AudioArray, *, kind: DecodeKind, prompt: str | None = None
    ) -> Transcript:
        transcript = await super().__call__(audio, kind=kind, prompt=prompt)
        if kind is not DecodeKind.FINAL:
            return transcript
        self.finals.append(audio.copy())
        await self.hold.wait()
        return Transcript((TranscriptSegment(0.0, 1.0, f"{len(audio)} samples"),), 1.0, "en")


async def test_a_final_started_in_a_pause_is_the_final_and_runs_once() -> None:
    transcriber = LengthTranscriber()
    captioner = LiveCaptioner(transcriber, settings=CaptionSettings(pause_s=0.3))
    assert not captioner.speculate_final()  # nothing said yet
    await feed(captioner, speech(2.0), speaking=True)
    assert not captioner.speculate_final()  # speaking: the audio still grows
    await feed(captioner, quiet(0.2), speaking=False)
    assert not captioner.speculate_final()  # the pause's first 0.3 s are kept: still growing
    await feed(captioner, quiet(0.2), speaking=False)
    transcriber.hold.clear()
    assert captioner.speculate_final()
    await feed(captioner, quiet(1.0), speaking=False)
    assert captioner.speculate_final()  # the same decode: the audio has not changed
    await asyncio.sleep(0)
    assert len(transcriber.finals) == 1 and captioner.speculations == 1

    finishing = asyncio.ensure_future(captioner.finish())
    await asyncio.sleep(0)
    assert not finishing.done()  # it waits for the decode under way instead of starting one
    transcriber.hold.set()
    final = await finishing

    whole = captioner.audio()
    assert final.text == f"{len(whole)} samples" and captioner.final_speculative
    assert len(transcriber.finals) == 1 and np.array_equal(transcriber.finals[0], whole)
    assert [kind for kind, _ in transcriber.calls].count(DecodeKind.FINAL) == 1


async def test_speech_after_an_early_final_discards_it_and_the_final_has_everything() -> None:
    transcriber = LengthTranscriber()
    captioner = LiveCaptioner(transcriber, settings=CaptionSettings(pause_s=0.3))
    await feed(captioner, speech(2.0), speaking=True)
    await feed(captioner, quiet(0.6), speaking=False)
    transcriber.hold.clear()
    assert captioner.speculate_final()
    await asyncio.sleep(0)
    early = captioner._speculation
    assert early is not None

    await feed(captioner, speech(1.0), speaking=True)  # the candidate goes on

    assert early.task.cancelled() and captioner._speculation is None
    transcriber.hold.set()
    final = await captioner.finish()  # no pause since: decoded now, as without speculation
    whole = captioner.audio()
    assert final.text == f"{len(whole)} samples" and not captioner.final_speculative
    early_audio, final_audio = transcriber.finals
    assert len(early_audio) < len(final_audio) and np.array_equal(final_audio, whole)


async def test_the_early_final_is_the_decode_the_end_of_the_turn_would_make() -> None:
    async def final_audio(speculate: bool) -> AudioArray:
        transcriber = LengthTranscriber()
        captioner = LiveCaptioner(transcriber, settings=CaptionSettings(pause_s=0.3))
        for part in (speech(1.3), quiet(0.5), speech(0.7)):
            await feed(captioner, part, speaking=part.any())
        for _ in range(40):  # 1.3 s of silence, a window at a time, asking at each
            await feed(captioner, quiet(0.032), speaking=False)
            if speculate:
                captioner.speculate_final()
        final = await captioner.finish()
        assert captioner.final_speculative is speculate
        assert len(transcriber.finals) == 1
        assert final.text == f"{len(transcriber.finals[0])} samples"
        return transcriber.finals[0]

    assert np.array_equal(await final_audio(True), await final_audio(False))


async def test_closing_cancels_an_early_final() -> None:
    transcriber = LengthTranscriber()
    transcriber.hold.clear()
    captioner = LiveCaptioner(transcriber, settings=CaptionSettings(pause_s=0.3))
    await feed(captioner, speech(1.0), speaking=True)
    await feed(captioner, quiet(0.5), speaking=False)
    assert captioner.speculate_final()
    early = captioner._speculation
    assert early is not None
    captioner.close()
    await asyncio.sleep(0)
    assert early.task.cancelled() and not captioner.speculate_final()


@pytest.fixture
async def pool() -> AsyncIterator[SpeechInferencePool]:
    async with SpeechInferencePool(whisper_tiny(), workers=2) as shared:
        yield shared


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "speech"


async def test_live_captions_of_a_spoken_answer(
    pool: SpeechInferencePool, speech_cache: Path
) -> None:
    audio = join(silence(0.5), synthesize(ANSWER, speech_cache), silence(2.0))
    published: list[CaptionUpdate] = []
    captioner = LiveCaptioner(pool.for_stream("interview-1"), on_partial=published.append)
    endpointer = EndpointDetector()
    events = await listen(audio, VoiceActivityDetector(SileroVadModel()), endpointer, captioner)
    assert [event.kind for event in events] == [TurnEventKind.SPEECH_STARTED]
    assert len(published) >= 3
    for earlier, later in itertools.pairwise(published):
        assert later.stable.startswith(earlier.stable)
    assert any(update.tentative for update in published)
    assert word_error_rate(ANSWER, published[-1].stable) < 0.35
    final = await captioner.finish()
    assert word_error_rate(ANSWER, final.text) < 0.25
