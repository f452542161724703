"""The agent's voice: an outgoing WebRTC audio track, spoken sentence by sentence.

The track sends nothing while the agent is silent: `recv()` waits until there is speech, so
neither the network's Opus encoder nor the relay works on silence (it was 50 frames/s per
interview). Across such a gap, `pts` jumps with the wall clock, and so do the RTP timestamps
(aiortc keeps the encoder's packet timestamps, which follow the frames' `pts`), as with Opus
DTX: the browser plays the next words at the right moment. Three details matter here.
aiortc's Opus encoder holds back 312 samples (6.5 ms) of look-ahead, and some receivers only
release a packet once later ones have arrived (aiortc's own jitter buffer waits for four), so
each talkspurt ends with `HANGOVER_FRAMES` of silence that push the last words out now rather
than with the next talkspurt (one frame for the encoder, four for such a receiver, and one
so that what such a receiver plays last is silence). And the encoder stamps a packet with the
timestamp of the frame *before* it, so the first packet after a gap still carries the old
timeline: a silent lead-in frame goes first after a gap, so that packet holds only silence
and the speech starts in the next one, on the new timeline.
A recorder that needs continuous audio fills the gaps itself (see `peer.SilenceFilledAudio`).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from math import gcd

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from scipy.signal import resample_poly

from codesage.agents.text_to_speech import SpeechChunk, TextToSpeech

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960
"""20 ms at 48 kHz: what aiortc's Opus encoder packs into one RTP packet."""
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# Behind the wall clock by more than this, skip ahead instead of bursting frames to catch up.
_MAX_LAG_SECONDS = 0.1
HANGOVER_FRAMES = 6
"""Silent frames sent after speech before the track goes quiet (see the module notes)."""

FirstFrameCallback = Callable[[str], None]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlayedUtterance:
    """What the candidate actually heard of one utterance.

    `text_played` holds the sentences played in full plus, for a cut sentence, its words in
    proportion to the share of its audio that was played (an estimate: piper gives no word
    timings). Played means handed to the sender; the browser's jitter buffer adds ~50-100 ms.
    """

    utterance_id: str
    text_played: str
    seconds_played: float
    complete: bool
    first_audio_seconds: float | None = None
    """From `say()` to the first frame with its audio leaving; None if none left."""


@dataclass
class _Sentence:
    text: str
    start: int
    end: int


@dataclass
class _Utterance:
    utterance_id: str
    text: str
    requested_at: float
    result: asyncio.Future[PlayedUtterance]
    pending: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, np.int16))
    sentences: list[_Sentence] = field(default_factory=list)
    synthesized: int = 0
    played: int = 0
    synthesis_done: bool = False
    synthesis_failed: bool = False
    first_audio_seconds: float | None = None
    synthesis: asyncio.Task[None] | None = None

    def append(self, text: str, pcm: npt.NDArray[np.int16]) -> None:
        self.sentences.append(_Sentence(text, self.synthesized, self.synthesized + len(pcm)))
        self.synthesized += len(pcm)
        self.pending = np.concatenate([self.pending, pcm])

    def take(self, count: int) -> npt.NDArray[np.int16]:
        samples, self.pending = self.pending[:count], self.pending[count:]
        self.played += len(samples)
        return samples

    def text_played(self) -> str:
        parts: list[str] = []
        for sentence in self.sentences:
            if self.played >= sentence.end:
                parts.append(sentence.text)
                continue
            if self.played > sentence.start:
                words = sentence.text.split()
                share = (self.played - sentence.start) / (sentence.end - sentence.start)
                parts.extend(words[: int(len(words) * share)])
            break
        return " ".join(parts)


def resample_to_48k(pcm: npt.NDArray[np.int16], sample_rate: int) -> npt.NDArray[np.int16]:
    """Polyphase resampling of mono int16 audio to 48 kHz."""
    if sample_rate == SAMPLE_RATE or len(pcm) == 0:
        return pcm.astype(np.int16, copy=False)
    divisor = gcd(SAMPLE_RATE, sample_rate)
    resampled: npt.NDArray[np.float64] = resample_poly(
        pcm.astype(np.float32), SAMPLE_RATE // divisor, sample_rate // divisor
    )
    return np.clip(resampled, -32768, 32767).astype(np.int16)


def _next_resampled(chunks: Iterator[SpeechChunk]) -> tuple[str, npt.NDArray[np.int16]] | None:
    chunk = next(chunks, None)
    if chunk is None:
        return None
    return chunk.text, resample_to_48k(chunk.pcm, chunk.sample_rate)


class AgentVoiceTrack(MediaStreamTrack):
    """48 kHz mono 20 ms frames paced in real time; no frames at all while the agent is silent.

    One utterance at a time: `say()` while another plays cuts the earlier one. `interrupt()`
    is barge-in (named so because `MediaStreamTrack.stop()` ends the track for good). Unpaced
    (`paced=False`, for tests and offline rendering) frames come as fast as audio is ready and
    `pts` never jumps. `clock` (monotonic seconds) paces the frames and places them in time.
    """

    kind = "audio"

    def __init__(
        self,
        text_to_speech: TextToSpeech,
        *,
        executor: Executor | None = None,
        on_first_frame: FirstFrameCallback | None = None,
        paced: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._tts = text_to_speech
        self._executor = executor
        self._on_first_frame = on_first_frame
        self._paced = paced
        self._clock = clock
        self._current: _Utterance | None = None
        self._pts = 0
        self._clock_start: float | None = None
        self._hangover = 0
        self._lead_in = False
        self._frames = 0
        self._silence = np.zeros((1, FRAME_SAMPLES), dtype=np.int16)
        self._wake = asyncio.Event()
        """Set when there may be something to send, or the track ended."""

    @property
    def speaking(self) -> bool:
        """True while an utterance is being synthesized or played."""
        return self._current is not None

    @property
    def quiet(self) -> bool:
        """True when nothing is left to send: `recv()` would wait for the next utterance."""
        return not self._has_something_to_send()

    @property
    def frames_sent(self) -> int:
        """Frames returned by `recv()` so far (each one is encoded by every reader)."""
        return self._frames

    async def say(self, utterance_id: str, text: str) -> PlayedUtterance:
        """Speak `text`; returns when it has been played in full or cut by `interrupt()`."""
        if self.readyState != "live":
            raise MediaStreamError("the voice track has ended")
        if self._current is not None:
            self._finish(self._current, complete=False)
        loop = asyncio.get_running_loop()
        utterance = _Utterance(utterance_id, text, self._clock(), loop.create_future())
        self._current = utterance
        utterance.synthesis = asyncio.create_task(self._synthesize(utterance))
        try:
            return await asyncio.shield(utterance.result)
        except asyncio.CancelledError:
            if self._current is utterance:
                self._finish(utterance, complete=False)
            raise

    async def prepare(self, text: str) -> None:
        """Pre-synthesize the likely next utterance so that `say()` starts at once."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._tts.presynthesize, text)

    def interrupt(self) -> PlayedUtterance | None:
        """Barge-in: silence from the next frame on; what was heard, or None if idle."""
        if self._current is None:
            return None
        return self._finish(self._current, complete=False)

    def stop(self) -> None:
        """End the track for good (interview over); a running `say()` returns as cut."""
        if self._current is not None:
            self._finish(self._current, complete=False)
        super().stop()
        self._wake.set()  # a `recv()` waiting for speech ends now

    async def recv(self) -> AudioFrame:
        """The next 20 ms frame, at its real-time moment when paced.

        While there is nothing to say (after the hangover), it waits until `say()` has audio,
        so a new utterance's first frame leaves as soon as it is synthesized. Raises
        `MediaStreamError` once the track has ended, also in the middle of a wait.
        """
        if self.readyState != "live":
            raise MediaStreamError
        suspended = False
        if not self._has_something_to_send():
            await self._wait_for_something_to_send()
            suspended = True
            if self._paced:
                self._resume_after_gap()
        if self._paced:
            suspended = await self._wait_for_frame_time() or suspended
        if not suspended:
            # Frames due at once (the lead-in, catching up) still leave one at a time: a
            # relay's unbuffered reader keeps only the newest frame it has not taken yet.
            await asyncio.sleep(0)
        if self.readyState != "live":
            raise MediaStreamError
        # Chosen after the wait so that an interrupt during it silences this very frame.
        samples = self._next_samples()
        frame = AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = _TIME_BASE
        self._pts += FRAME_SAMPLES
        self._frames += 1
        return frame

    def _has_something_to_send(self) -> bool:
        current = self._current
        return (
            self._lead_in
            or self._hangover > 0
            or (current is not None and len(current.pending) > 0)
        )

    async def _wait_for_something_to_send(self) -> None:
        while not self._has_something_to_send():
            if self.readyState != "live":
                raise MediaStreamError
            self._wake.clear()
            await self._wake.wait()

    def _resume_after_gap(self) -> None:
        """After a wait, move `pts` to the wall clock, less one frame for a silent lead-in."""
        now = self._clock()
        if self._clock_start is None:
            self._clock_start = now - self._pts / SAMPLE_RATE  # the first frame ever
            return
        behind = now - (self._clock_start + self._pts / SAMPLE_RATE)
        missed = int(behind * SAMPLE_RATE) // FRAME_SAMPLES
        if missed >= 1:
            # The lead-in is due 20-40 ms ago and the speech after it 0-20 ms ago: both go now.
            self._pts += (missed - 1) * FRAME_SAMPLES
            self._lead_in = True

    async def _wait_for_frame_time(self) -> bool:
        """Sleep until the next frame is due; True if it slept."""
        now = self._clock()
        if self._clock_start is None:
            self._clock_start = now - self._pts / SAMPLE_RATE
        due = self._clock_start + self._pts / SAMPLE_RATE
        if now - due > _MAX_LAG_SECONDS:
            # A reader that paused must not get a burst of stale frames.
            self._clock_start = now - self._pts / SAMPLE_RATE
        elif due > now:
            await asyncio.sleep(due - now)
            return True
        return False

    def _next_samples(self) -> npt.NDArray[np.int16]:
        if self._lead_in:
            self._lead_in = False
            return self._silence
        utterance = self._current
        if utterance is None or len(utterance.pending) == 0:
            # Hangover (or synthesis behind playback): silence, then nothing until speech.
            self._hangover = max(0, self._hangover - 1)
            return self._silence
        self._hangover = HANGOVER_FRAMES
        samples = utterance.take(FRAME_SAMPLES)
        if utterance.first_audio_seconds is None:
            utterance.first_audio_seconds = self._clock() - utterance.requested_at
            if self._on_first_frame is not None:
                self._on_first_frame(utterance.utterance_id)
        if utterance.synthesis_done and len(utterance.pending) == 0:
            self._finish(utterance, complete=not utterance.synthesis_failed)
        if len(samples) == FRAME_SAMPLES:
            return samples.reshape(1, -1)
        # Synthesis behind playback, or the utterance's last frame: pad with silence.
        padded = self._silence.copy()
        padded[0, : len(samples)] = samples
        return padded

    async def _synthesize(self, utterance: _Utterance) -> None:
        loop = asyncio.get_running_loop()
        chunks = self._tts.synthesize_sentences(utterance.text)
        try:
            while True:
                piece = await loop.run_in_executor(self._executor, _next_resampled, chunks)
                if piece is None:
                    break
                utterance.append(*piece)
                self._wake.set()
        except Exception:
            # The candidate hears what was synthesized; the result says it was cut.
            logger.exception("text-to-speech failed for utterance %s", utterance.utterance_id)
            utterance.synthesis_failed = True
        finally:
            utterance.synthesis_done = True
        if self._current is utterance and len(utterance.pending) == 0:
            # Everything synthesized is played already (or there was nothing: empty text, a
            # failure): no frame is coming that would finish it.
            self._finish(utterance, complete=not utterance.synthesis_failed)

    def _finish(self, utterance: _Utterance, *, complete: bool) -> PlayedUtterance:
        if self._current is utterance:
            self._current = None
            self._wake.set()
        synthesis = utterance.synthesis
        if (
            synthesis is not None
            and not synthesis.done()
            and synthesis is not asyncio.current_task()
        ):
            synthesis.cancel()
        if utterance.result.done():
            return utterance.result.result()
        played = PlayedUtterance(
            utterance_id=utterance.utterance_id,
            text_played=utterance.text if complete else utterance.text_played(),
            seconds_played=utterance.played / SAMPLE_RATE,
            complete=complete,
            first_audio_seconds=utterance.first_audio_seconds,
        )
        utterance.result.set_result(played)
        return played
