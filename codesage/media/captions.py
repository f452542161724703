"""Live captions for one answer: re-decode the growing utterance, publish only what is stable.

LocalAgreement-2 (as in ufal/whisper_streaming): a word is committed once two successive
decodes agree on it (case and punctuation ignored); committed words are never retracted.
The newest decode's words past the committed ones are published too, as a tentative tail
that the next decode may change: readers see a word one decode sooner (live captions in
meeting tools show such grey text), and only the stable part feeds the end-of-turn logic.
When the candidate pauses, the decode of the audio up to the pause is committed whole (the
speaker stopped, so nothing later can change it), which lets the endpointer see the last
words quickly, and the caption window is sealed there: later partials decode only the audio
after the pause, so they stay short and never have to re-agree with words already shown.
A fluent speaker may not pause for twenty seconds, so once the window is long a breath
between sentences seals it too.
The final is one decode of the whole answer. It may start early, in a pause (see
`speculate_final`): the audio kept stops growing a moment into a pause, so a decode started
then is the very decode the end of the turn would run, and the end of the turn only waits for
what is left of it. Speech before the end of the turn throws that decode away. Whisper now and
then ends a decode at a pause inside the answer; when the final stops where the stable caption
goes on (see `restore_dropped_tail`), the caption's words complete it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Protocol

import numpy as np

from codesage.agents.speech_to_text import (
    SAMPLE_RATE,
    AudioArray,
    Transcript,
    TranscriptSegment,
    normalise_words,
)
from codesage.media.inference_pool import DecodeKind, PartialShed

log = logging.getLogger(__name__)


class UtteranceTranscriber(Protocol):
    """An async decode of one stream's audio (the shared pool's `for_stream` view)."""

    async def __call__(
        self, audio: AudioArray, *, kind: DecodeKind, prompt: str | None = None
    ) -> Transcript: ...


@dataclass(frozen=True)
class CaptionUpdate:
    """A live caption: `stable` words are never retracted, `tentative` ones may still change."""

    stable: str
    tentative: str = ""


@dataclass(frozen=True)
class CaptionSettings:
    """Timing of live captions, in seconds of audio.

    A partial decode runs after `interval_s` of new voiced audio, or `turnaround_factor`
    times the last partial's turnaround (queue and decode) if that is longer, so a busy pool
    gets fewer requests; and at each pause of `pause_s`. A pause seals the window if it holds
    `seal_after_s`. Once the window holds `breath_window_s`, a gap of `breath_s` counts as a
    pause too: fluent speakers leave only such gaps between sentences, and an unsealed window
    grows until every partial re-decodes seconds of audio. `max_window_s` caps the window.
    """

    interval_s: float = 0.5
    turnaround_factor: float = 2.0
    pause_s: float = 0.3
    pre_roll_s: float = 0.2
    seal_after_s: float = 1.0
    breath_s: float = 0.15
    breath_window_s: float = 4.0
    max_window_s: float = 24.0


class _GrowingAudio:
    """Append-only audio with amortised O(1) appends and cheap slices (no re-joining)."""

    def __init__(self) -> None:
        self._data: AudioArray = np.zeros(SAMPLE_RATE * 10, np.float32)
        self.length = 0

    def append(self, samples: AudioArray) -> None:
        needed = self.length + len(samples)
        if needed > len(self._data):
            grown = np.zeros(max(needed, 2 * len(self._data)), np.float32)
            grown[: self.length] = self._data[: self.length]
            self._data = grown
        self._data[self.length : needed] = samples
        self.length = needed

    def slice(self, start: int, end: int) -> AudioArray:
        """A copy, so that a decode in a worker thread never sees later writes."""
        return self._data[start : min(end, self.length)].copy()


@dataclass(frozen=True)
class _Gap:
    """A pause in the audio kept: partials decode to `end`; the next window opens at `seal_at`."""

    end: int
    seal_at: int


@dataclass(frozen=True)
class _Speculation:
    """A final decode started ahead of the end of the turn, of the first `length` samples."""

    length: int
    task: asyncio.Task[Transcript]


def _retrieve(task: asyncio.Task[Transcript]) -> None:
    # A discarded decode may fail unseen; reading its outcome keeps asyncio from logging it.
    if not task.cancelled():
        task.exception()


class _Word:
    __slots__ = ("display", "key")

    def __init__(self, display: str) -> None:
        self.display = display
        self.key = " ".join(normalise_words(display))


def _words(text: str) -> list[_Word]:
    return [word for word in (_Word(token) for token in text.split()) if word.key]


_REALIGN_WORDS = 8
"""How many of the last committed words a decode that heard the last ones otherwise is lined
up by."""


def _tail(committed: list[_Word], hypothesis: list[_Word]) -> list[_Word] | None:
    """The hypothesis words after the committed ones, or None when they do not line up.

    Whisper flips words between decodes ("built"/"build", a leading "and") and adds or drops
    words at the window's start, so a hypothesis is not lined up by the whole prefix, which
    would stall the captions. In order: by the last two committed words within two positions
    of where they should be; by a run of two or more among the last few committed words
    ending at most two before the end ("in one" heard as "and when"), as many words on; by
    the last committed word (or the one before it) alone within two positions. A lone word
    comes last because a common one ("a", "the") also matches an earlier use of it.
    """
    count = len(committed)
    if count == 0:
        return hypothesis
    keys = [word.key for word in hypothesis]
    if count >= 2:
        for end in _near(count, len(keys), back=2):
            if keys[end - 2 : end] == [committed[-2].key, committed[-1].key]:
                return hypothesis[end:]
    recent = [word.key for word in committed[-_REALIGN_WORDS:]]
    matcher = SequenceMatcher(None, recent, keys, autojunk=False)
    for block in reversed(matcher.get_matching_blocks()):
        unmatched = len(recent) - (block.a + block.size)
        if block.size >= 2 and unmatched <= 2:
            end = block.b + block.size + unmatched
            return hypothesis[end:] if end <= len(hypothesis) else None
    for back in range(1, min(count, 2) + 1):
        for end in _near(count, len(keys), back=back):
            if keys[end - back] == committed[-back].key:
                return hypothesis[end:]
    return None


def _near(count: int, length: int, *, back: int) -> list[int]:
    """Where the committed words could end in a hypothesis of `length` words: within two
    positions of `count`, nearest first, leaving room for `back` words before."""
    return [count + shift for shift in (0, 1, -1, 2, -2) if back <= count + shift <= length]


MIN_DROPPED_WORDS = 3
"""Fewer caption words past the final's end are left out: a flipped or filler word, not a drop."""


def restore_dropped_tail(final: Transcript, caption: str) -> tuple[Transcript, int]:
    """The final with the stable caption's words past its end, if it stopped early; and how many.

    The final counts as stopped early when its last words (all but at most the very last)
    line up with the caption and the caption goes on for `MIN_DROPPED_WORDS` or more. A
    final that diverges from the caption at its end is kept as it is: which is right is
    unknown, and the final decoded more audio. So is one whose missing tail repeats itself
    (fewer than half its words distinct) or repeats the final (see `_repeats`): that is a
    partial decode's loop, not speech.
    """
    said = _words(caption)
    heard = _words(final.text)
    matcher = SequenceMatcher(None, [w.key for w in said], [w.key for w in heard], autojunk=False)
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    if not heard:
        resume_at = 0
    elif blocks and blocks[-1].size >= 2 and blocks[-1].b + blocks[-1].size >= len(heard) - 1:
        last = blocks[-1]
        # A last final word that differs from the caption's is that word heard otherwise.
        resume_at = last.a + last.size + (len(heard) - (last.b + last.size))
    else:
        return final, 0
    dropped = said[resume_at:]
    if len(dropped) < MIN_DROPPED_WORDS or 2 * len({w.key for w in dropped}) < len(dropped):
        return final, 0
    if _repeats(dropped, heard):
        return final, 0
    start = final.segments[-1].end if final.segments else 0.0
    tail = TranscriptSegment(start, final.duration, " ".join(word.display for word in dropped))
    return replace(final, segments=(*final.segments, tail)), len(dropped)


def _repeats(tail: list[_Word], final: list[_Word]) -> bool:
    """True when `tail` is mostly a copy of words of `final`: three quarters of its words or
    more line up with them, four or more in a row. An answer's new words may share a few
    ("in the", "it is") with what came before; a loop copies whole stretches."""
    keys = [w.key for w in tail]
    matcher = SequenceMatcher(None, keys, [w.key for w in final], autojunk=False)
    blocks = matcher.get_matching_blocks()
    longest = max((block.size for block in blocks), default=0)
    return longest >= 4 and 4 * sum(block.size for block in blocks) >= 3 * len(keys)


def _common_prefix(first: list[_Word], second: list[_Word]) -> int:
    count = 0
    for a, b in zip(first, second, strict=False):
        if a.key != b.key:
            break
        count += 1
    return count


class LiveCaptioner:
    """Captions one utterance: `add_audio` per VAD window, `partial` grows, `finish` → final.

    Only voiced audio is kept: speech, up to `pause_s` of silence after it, and `pre_roll_s`
    before speech resumes. At most one partial decode is in flight. `lead_in` is the audio just
    before the utterance's first voiced window (its last `pre_roll_s` are kept): the final and
    the partials of the first caption window open on it.
    """

    def __init__(
        self,
        transcribe: UtteranceTranscriber,
        *,
        settings: CaptionSettings | None = None,
        prompt: str | None = None,
        on_partial: Callable[[CaptionUpdate], None] | None = None,
        lead_in: AudioArray | None = None,
    ) -> None:
        self._transcribe = transcribe
        self._settings = settings if settings is not None else CaptionSettings()
        limit = int(self._settings.pre_roll_s * SAMPLE_RATE)
        lead = np.zeros(0, np.float32) if lead_in is None else np.asarray(lead_in, np.float32)
        self._lead_in: AudioArray = lead.reshape(-1)[-limit:] if limit else lead[:0]
        self._prompt = prompt
        self._on_partial = on_partial
        self._audio = _GrowingAudio()
        self._pre_roll: AudioArray = np.zeros(0, np.float32)
        self._heard_speech = False
        self._silence_run = 0
        self._gap: _Gap | None = None
        self._gap_marked = False
        self._window_start = 0
        self._decoded_to = 0
        self._turnaround_s = 0.0
        self._sealed: list[_Word] = []
        self._committed: list[_Word] = []
        self._tentative: list[_Word] = []
        self._previous: list[_Word] | None = None
        self._task: asyncio.Task[None] | None = None
        self._speculation: _Speculation | None = None
        self._speculations = 0
        self._final_speculative = False
        self._restored_words = 0
        self._finished = False

    @property
    def partial(self) -> str:
        """The committed words so far (each partial is a prefix of the next)."""
        return " ".join(word.display for word in (*self._sealed, *self._committed))

    @property
    def tentative(self) -> str:
        """The newest decode's words after the committed ones (the next decode may change them)."""
        return " ".join(word.display for word in self._tentative)

    @property
    def voiced_s(self) -> float:
        """Seconds of voiced audio held."""
        return self._audio.length / SAMPLE_RATE

    @property
    def speculations(self) -> int:
        """Final decodes started ahead of `finish` (see `speculate_final`)."""
        return self._speculations

    @property
    def final_speculative(self) -> bool:
        """True once `finish` has returned a decode started by `speculate_final`."""
        return self._final_speculative

    @property
    def restored_words(self) -> int:
        """Caption words that `finish` added to a final that stopped early (0 if none)."""
        return self._restored_words

    def audio(self) -> AudioArray:
        """The utterance so far as the final decodes it: the lead-in, then the voiced audio."""
        return self._from_lead_in(self._audio.length)

    def _from_lead_in(self, length: int) -> AudioArray:
        return np.concatenate([self._lead_in, self._audio.slice(0, length)])

    def add_audio(self, samples: AudioArray, *, speech: bool) -> None:
        """Add 16 kHz audio the VAD judged speech or silence; may start a partial decode."""
        if self._finished:
            raise RuntimeError("the utterance is finished")
        samples = np.asarray(samples, np.float32).reshape(-1)
        if speech:
            self._heard_speech = True
            self._append(self._pre_roll)
            self._pre_roll = np.zeros(0, np.float32)
            self._append(samples)
            self._silence_run = 0
            self._gap_marked = False
        elif not self._heard_speech:
            self._keep_pre_roll(samples)
        else:
            pause = int(self._settings.pause_s * SAMPLE_RATE)
            kept = max(0, min(len(samples), pause - self._silence_run))
            self._append(samples[:kept])
            self._keep_pre_roll(samples[kept:])
            self._silence_run += len(samples)
            self._mark_gap()
        speculation = self._speculation
        if speculation is not None and speculation.length != self._audio.length:
            self._drop_speculation()  # the candidate spoke again: that decode is out of date
        self._schedule()

    async def idle(self) -> None:
        """Wait until no partial decode is in flight (decodes may chain while audio is due)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    def speculate_final(self) -> bool:
        """Start the final decode of the utterance so far in the background; True if one runs.

        Only in a pause that has stopped the audio from growing (`pause_s` of silence), so the
        decode covers exactly what `finish` would decode if the candidate says nothing more.
        Idempotent while the audio stays the same; new speech discards the decode. At most
        one runs per utterance, as a final (the pool's priority), with the same prompt.
        """
        if self._finished or not self._heard_speech:
            return False
        if self._silence_run < int(self._settings.pause_s * SAMPLE_RATE):
            return False
        length = self._audio.length
        if self._speculation is not None:
            if self._speculation.length == length:
                return True
            self._drop_speculation()
        task = asyncio.get_running_loop().create_task(
            self._transcribe(self._from_lead_in(length), kind=DecodeKind.FINAL, prompt=self._prompt)
        )
        task.add_done_callback(_retrieve)
        self._speculation = _Speculation(length, task)
        self._speculations += 1
        return True

    async def finish(self) -> Transcript:
        """Stop captioning and decode the whole utterance as the final transcript.

        A decode that `speculate_final` started for this same audio is awaited instead. A
        final that stopped early is completed from the stable caption (`restore_dropped_tail`).
        """
        transcript, self._restored_words = restore_dropped_tail(
            await self._decode_final(), self.partial
        )
        if self._restored_words:
            log.warning(
                "final decode stopped early; kept the caption's last words",
                extra={"restored_words": self._restored_words},
            )
        return transcript

    async def _decode_final(self) -> Transcript:
        self._finished = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        speculation, self._speculation = self._speculation, None
        if speculation is not None:
            if speculation.length == self._audio.length:
                try:
                    transcript = await speculation.task
                except Exception:
                    log.warning("speculative final decode failed; decoding again", exc_info=True)
                else:
                    self._final_speculative = True
                    return transcript
            else:
                speculation.task.cancel()
        return await self._transcribe(self.audio(), kind=DecodeKind.FINAL, prompt=self._prompt)

    def close(self) -> None:
        """Stop captioning without a final decode."""
        self._finished = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._drop_speculation()

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            # Queued: it leaves the pool's queue. Running: the worker finishes, nobody reads it.
            self._speculation.task.cancel()
            self._speculation = None

    def _append(self, samples: AudioArray) -> None:
        self._audio.append(samples)

    def _mark_gap(self) -> None:
        # A gap stays marked after speech resumes, so that one reached while a decode was in
        # flight is decoded to once that decode is back; one mark per gap, so its silence is
        # never decoded alone.
        if self._gap_marked:
            return
        end = self._audio.length
        long_window = end - self._window_start >= self._settings.breath_window_s * SAMPLE_RATE
        if self._silence_run >= int(self._settings.pause_s * SAMPLE_RATE):
            self._gap = _Gap(end, end)
        elif long_window and self._silence_run >= int(self._settings.breath_s * SAMPLE_RATE):
            # The next window opens on the breath's silence (all of it is kept): Whisper
            # takes audio that opens mid-word for no speech.
            self._gap = _Gap(end, end - self._silence_run)
        else:
            return
        self._gap_marked = True

    def _keep_pre_roll(self, samples: AudioArray) -> None:
        limit = int(self._settings.pre_roll_s * SAMPLE_RATE)
        if len(samples) and limit:
            self._pre_roll = np.concatenate([self._pre_roll, samples])[-limit:]

    def _schedule(self) -> None:
        if self._task is not None or self._finished or not self._heard_speech:
            return
        end = self._audio.length
        gap = self._gap if self._gap is not None and self._decoded_to < self._gap.end else None
        interval_s = max(
            self._settings.interval_s, self._settings.turnaround_factor * self._turnaround_s
        )
        interval = int(interval_s * SAMPLE_RATE)
        if gap is None and end - self._decoded_to < interval:
            return
        if gap is not None:
            end = gap.end
        self._decoded_to = end
        self._task = asyncio.get_running_loop().create_task(self._decode(end, gap))

    async def _decode(self, end: int, gap: _Gap | None) -> None:
        start = self._window_start
        # Whisper takes audio that opens on speech for no speech: without the lead-in the
        # first window's captions could stay empty until the first pause.
        audio = self._from_lead_in(end) if start == 0 else self._audio.slice(start, end)
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            transcript = await self._transcribe(audio, kind=DecodeKind.PARTIAL, prompt=self._prompt)
        except PartialShed:
            transcript = None
        except Exception:
            # A failed caption must not take the interview down; the final decode still runs.
            log.exception("live caption decode failed")
            transcript = None
        finally:
            self._task = None
            self._turnaround_s = loop.time() - began
        if transcript is not None and not self._finished and start == self._window_start:
            self._agree(_words(transcript.text), end, gap)
        self._schedule()

    def _agree(self, hypothesis: list[_Word], end: int, gap: _Gap | None) -> None:
        new = _tail(self._committed, hypothesis)
        agreed: list[_Word] = []
        if new is not None and gap is not None:
            agreed = new
        elif new is not None and self._previous is not None:
            before = _tail(self._committed, self._previous)
            if before is not None:
                agreed = new[: _common_prefix(before, new)]
        self._committed.extend(agreed)
        self._previous = hypothesis
        shown = self.tentative
        # A decode that does not line up with the committed words shows nothing tentative
        # rather than words that might repeat or contradict them.
        self._tentative = new[len(agreed) :] if new is not None else []
        window_s = (end - self._window_start) / SAMPLE_RATE
        if gap is not None and window_s >= self._settings.seal_after_s:
            self._seal(gap.seal_at)
        elif window_s >= self._settings.max_window_s:
            # No usable pause in a long stretch: drop the uncommitted tail from the caption
            # (the final transcript still has it) rather than decode an ever-longer window.
            self._seal(self._audio.length)
        if (agreed or self.tentative != shown) and self._on_partial is not None:
            self._on_partial(CaptionUpdate(self.partial, self.tentative))

    def _seal(self, at: int) -> None:
        self._sealed.extend(self._committed)
        self._committed = []
        self._tentative = []
        self._previous = None
        self._window_start = at
        self._decoded_to = max(self._decoded_to, at)
