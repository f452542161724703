"""Load and latency harness: N concurrent spoken interviews against one CODESAGE node.

Usage:
    python benchmarks/interviews.py --interviews N [--audio DIR] [--url URL] --json OUT.json

Without `--url` it starts its own node (`python -m codesage serve` on a temporary data folder,
embedded Postgres and Redis) and stops it at the end. Each interview is a real aiortc client
peer, run in a pool of client processes (one per core by default, interviews spread over
them, several asyncio clients per process). A client joins over Socket.IO, consents, offers
WebRTC, waits until the agent has finished speaking the question (300 ms of quiet after loud
frames on the received track, then a random "thinking" pause; it waits again if the agent goes
on), plays one spoken answer from DIR in real time (with a longer pause inserted at a natural
break inside it), then silence, and records when everything arrives. After
`--answers-per-interview` answers (and the agent's reply to the last one) it hangs up.

DIR holds WAV files and `manifest.csv` with columns `file,transcript`. Without `--audio`, six
plain-English technical answers are synthesized with piper into a temporary folder.

What is measured, and how (every time is a wall-clock time on the client's machine; the
server's `at` times are comparable only when both run on one machine, which is the default):
- response_latency_ms: the end-of-turn decision (the `answer_final` event's `turn_ended_at`,
  server clock) → the first loud frame (peak > 500 of 32767) of the agent's next utterance
  received by the client: what the candidate waits once the node has decided the answer is
  over. It includes whatever of the final Whisper decode had not finished by the decision
  (`speculate_final` starts it in the pause), then scoring, choosing and committing the next
  prompt, text-to-speech, WebRTC send and receive.
- final_to_agent_audio_ms: the same from the `answer_final` event's `at` (committed after the
  final decode): the engine's "answer in → voice out" time alone. Until the eleventh session
  (2026-11-25) reports called this `response_latency_ms`.
- turn_gap_ms: the end of the candidate's speech (known from the audio schedule) → that same
  first loud agent frame. It includes the patient end-of-turn silence (1.6-5 s by design) and
  the final decode: it is what the candidate experiences, not a latency target.
- caption_partial_lag_ms: for each word of the reference transcript, its speech time (the
  end of the word) is tiny.en's word timestamp of the clip, lined up with the reference (see
  `word_times.py`; a word that lines up with none is placed between its timed neighbours,
  and without offline transcripts every word is placed by its position: the k-th of n ends
  at k/n of the spoken duration), shifted by the inserted pause when it lies after it;
  `caption_words_timed` is the share timed by a timestamp. Lag = the arrival of the first
  `answer_partial` that contains the word
  (aligned with difflib on normalized words) − that time. A partial is read as a caption shows
  it: its stable words, then its tentative ones (a wrong tentative word does not align, so it
  does not count). Words that never appear in a partial are left out;
  `caption_partial_coverage` gives the share that did. `caption_stable_lag_ms` is the same
  for the stable words alone (LocalAgreement-2's commitment).
- final_lag_ms: end of speech → `answer_final` received.
- wer: corpus word error rate (jiwer) of the finals against the manifest transcripts, both
  normalized with Whisper's English text normalizer (the copy in transformers, without the
  British-to-American spelling table). Lost finals are left out of it and counted apart.
  `wer_offline` is the same model (tiny.en, stock path) on each whole clip, scored on the
  same turns (a clip played twice counts twice), for comparison; `wer_reference_words` says
  how many words both are measured on, and `transcripts` lists each turn's three texts (and
  `caption_lag_max_ms`, its worst caption lag, to find the turns where captions stalled).
- cpu_percent: CPU time of the server's processes (the node, its children and the embedded
  Postgres) over the interview window / wall time, in percent of one core (200 = two cores).
  `client_cpu_percent` is the same for this harness and its client processes, which share the
  machine.
- rss_mb_base: resident memory of the server's processes just before the interviews start
  (after the warm-up interview unless `--no-warmup`); rss_mb_per_interview = (peak - base) / N,
  sampled every second. `pss_mb_*` are the same with proportional set size (shared pages of
  Postgres counted once).
- event_loop_lag_ms.p95: from the node's `codesage_event_loop_lag_seconds` histogram, the
  bucket deltas between a scrape before and after the interviews (interpolated in the bucket).
- lost_final_segments: answers whose `answer_final` never arrived (or was empty) within
  `--final-timeout-s` of the end of speech. `finals_restored`: finals that stopped early and
  were completed from the stable caption (from the node's log; null with `--url`).

Progress goes to stderr; the JSON report to `--json`.
`python benchmarks/interviews.py plot OUT.png RUN.json...` draws response latency and caption
lag percentiles against N.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import difflib
import json
import math
import multiprocessing
import os
import platform
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/interviews.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.word_times import WordEnd, clip_word_ends, reference_word_ends  # noqa: E402

SAMPLE_RATE = 48_000
FRAME = 960  # 20 ms at 48 kHz
LOUD = 500  # peak of an int16 frame above which the agent's voice is "heard"
AGENT_QUIET_S = 0.3
READY_LINE = "CODESAGE is running"
REQUIRED_KEYS = (
    "interviews",
    "turns",
    "response_latency_ms",
    "turn_gap_ms",
    "caption_partial_lag_ms",
    "final_lag_ms",
    "wer",
    "cpu_percent",
    "rss_mb_base",
    "rss_mb_per_interview",
    "event_loop_lag_ms",
    "lost_final_segments",
)
# Plain-English technical answers of 20-30 words, synthesized when no --audio is given (only
# as many as the run plays). 24 of them (~600 words) so that pooled runs resolve WER to a few
# percent: one wrong word is 0.006 of WER on the first six alone.
DEFAULT_ANSWERS = (
    "I would add an index on the customer id column, check the query plan with explain "
    "analyze, and keep transactions short so that locks are released quickly.",
    "A list keeps items in order and lets you change them, while a tuple is fixed once it "
    "is created, so it can be used as a dictionary key.",
    "First I reproduce the bug with a failing test. Then I read the logs, narrow it down with "
    "a debugger, and fix the smallest piece of code that explains it.",
    "Async code helps when the program waits on the network. One event loop can serve many "
    "slow clients, but heavy computation still needs separate processes.",
    "I would put a cache in front of the service, set a short expiry time, and make sure "
    "every write also removes the stale entry from the cache.",
    "Code review catches mistakes early and spreads knowledge across the team. I keep my "
    "changes small and explain why each change is needed.",
    "An index speeds up reads but slows down writes, because every insert and update has to "
    "change the index as well as the table.",
    "Usually I start with the slowest endpoint in the dashboard, profile one request, and "
    "only then decide whether the database or the code is to blame.",
    "A deadlock happens when two transactions each hold a lock the other one needs. The "
    "database picks one of them and rolls it back.",
    "I keep secrets out of the repository. They come from the environment or a vault, and "
    "the logs never print them.",
    "It depends on the traffic. For a few hundred requests a second one server is enough, "
    "but I would still run two behind a load balancer.",
    "Unit tests check one function at a time and run in milliseconds. Integration tests "
    "talk to a real database and catch the mistakes between the parts.",
    "A generator gives one value at a time and remembers where it stopped, so it can walk "
    "through a huge file without loading all of it into memory.",
    "I would put the slow work on a queue and let a pool of workers handle it, so the web "
    "request can answer the user straight away.",
    "Every retry needs a limit and a growing delay, otherwise a short outage turns into a "
    "flood of requests that keeps the service down.",
    "In a code review I look first at what the change is meant to do, then at the tests, "
    "and only then at names and style.",
    "A race condition is when the result depends on which thread runs first. A lock or an "
    "atomic operation makes the order safe.",
    "Our team deployed several times a day. Each change went through the pipeline, and a "
    "feature flag let us turn it off without a rollback.",
    "If the memory keeps growing, I take two heap snapshots a few minutes apart and compare "
    "which objects were created and never freed.",
    "Idempotent means that doing the same request twice has the same effect as doing it "
    "once, which makes retries safe.",
    "I prefer small pull requests. They are reviewed faster, they are easier to revert, and "
    "the history explains why each line changed.",
    "Eventually consistent means that a read right after a write may see old data for a "
    "short time, but every copy agrees in the end.",
    "Before I optimize anything I measure it. Most of the time the slow part is not where I "
    "expected it to be.",
    "On call, I first stop the damage, for example by rolling back, and only afterwards "
    "look for the root cause and write it down.",
)


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerClip:
    """One spoken answer of the manifest."""

    file: str
    transcript: str


def read_manifest(folder: Path) -> list[AnswerClip]:
    """The `file,transcript` rows of `folder/manifest.csv` (files relative to the folder)."""
    path = folder / "manifest.csv"
    if not path.exists():
        raise SystemExit(f"{path}: no manifest.csv (columns file,transcript)")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    clips = []
    for row in rows:
        if not row.get("file") or not row.get("transcript"):
            raise SystemExit(f"{path}: every row needs file and transcript")
        wav = Path(row["file"])
        wav = wav if wav.is_absolute() else folder / wav
        if not wav.exists():
            raise SystemExit(f"{path}: {wav} does not exist")
        clips.append(AnswerClip(str(wav), row["transcript"].strip()))
    if not clips:
        raise SystemExit(f"{path}: no answers")
    return clips


SYNTHESIS_VOICES = ("piper", "flite:slt", "flite:awb", "flite:rms", "flite:kal16")
"""Voices `synthesize_answers` can speak with: the node's own piper voice, and the CMU voices
of flite (Debian's `flite` package), three speakers (a US woman, a Scottish man, a US man)
and a diphone voice, for WER on more than one voice."""


def synthesize_answers(
    folder: Path, texts: Sequence[str] = DEFAULT_ANSWERS, voices: Sequence[str] = ("piper",)
) -> list[AnswerClip]:
    """Speak `texts` into WAV files plus manifest.csv in `folder`, taking `voices` in turn
    (see `SYNTHESIS_VOICES`); a clip spoken by any voice but piper has it in its file name."""
    unknown = sorted(set(voices) - set(SYNTHESIS_VOICES))
    if unknown or not voices:
        raise SystemExit(f"unknown voice {', '.join(unknown)}: choose from {SYNTHESIS_VOICES}")
    if any(v.startswith("flite:") for v in voices) and shutil.which("flite") is None:
        raise SystemExit("flite is not installed: apt-get install flite")
    from scipy.io import wavfile

    speak_piper = _piper_speaker() if "piper" in voices else None
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for index, text in enumerate(texts):
        voice = voices[index % len(voices)]
        if voice == "piper":
            assert speak_piper is not None
            name = f"answer_{index + 1:02d}.wav"
            # A little variety in pace; no generator noise, so runs repeat exactly.
            rate, audio = speak_piper(text, (1.0, 1.1, 1.2)[index % 3])
            wavfile.write(folder / name, rate, audio)
        else:
            name = f"answer_{index + 1:02d}-{voice.replace(':', '-')}.wav"  # see `voice_of`
            speaker = voice.removeprefix("flite:")
            subprocess.run(
                ["flite", "-voice", speaker, "-t", text, "-o", str(folder / name)], check=True
            )
        clips.append(AnswerClip(str(folder / name), text))
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "transcript"])
        for clip in clips:
            writer.writerow([Path(clip.file).name, clip.transcript])
    return clips


_SYNTHESIZED_CLIP = re.compile(r"answer_\d+(?:-(?P<voice>[\w-]+))?\.wav")


def voice_of(clip: str) -> str:
    """The voice `synthesize_answers` spoke a clip with, from its file name ("flite-slt")."""
    named = _SYNTHESIZED_CLIP.fullmatch(clip)
    if named is None:
        return "unknown"
    return named["voice"] or "piper"


def _piper_speaker() -> Callable[[str, float], tuple[int, np.ndarray]]:
    """The node's piper voice as `speak(text, length_scale) -> (rate, int16 audio)`."""
    from piper import PiperVoice
    from piper.config import SynthesisConfig

    from codesage.config.model_files import piper_voice

    model = piper_voice()
    if not model.present:
        raise SystemExit(f"no piper voice: install {model.package} or pass --audio")
    voice = PiperVoice.load(str(model.path))

    def speak(text: str, length_scale: float) -> tuple[int, np.ndarray]:
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=length_scale)
        chunks = list(voice.synthesize(text, config))
        audio = np.concatenate([chunk.audio_int16_array for chunk in chunks])
        return chunks[0].sample_rate, audio

    return speak


def load_wav(path: str, rate: int) -> np.ndarray:
    """A WAV file as float32 mono at `rate` Hz."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    source_rate, data = wavfile.read(path)
    audio = np.asarray(data)
    if audio.dtype == np.int16:
        audio = audio.astype(np.float32) / 32768.0
    elif audio.dtype == np.int32:
        audio = audio.astype(np.float32) / 2147483648.0
    elif audio.dtype == np.uint8:
        audio = (audio.astype(np.float32) - 128.0) / 128.0
    audio = audio.astype(np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if source_rate != rate:
        divisor = gcd(rate, int(source_rate))
        audio = resample_poly(audio, rate // divisor, int(source_rate) // divisor)
    return np.asarray(audio, np.float32)


@dataclass(frozen=True)
class PreparedClip:
    """An answer ready to play: trimmed to its speech, with a pause inserted at a break."""

    pcm: np.ndarray  # int16 at 48 kHz
    speech_s: float  # spoken duration before the pause was inserted
    pause_at_s: float | None  # where (in the trimmed original) the pause was inserted
    pause_s: float


def _voiced_frames(audio: np.ndarray, rate: int) -> np.ndarray:
    hop = rate // 100  # 10 ms
    frames = len(audio) // hop
    if frames == 0:
        return np.zeros(0, bool)
    rms = np.sqrt(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    reference = float(np.percentile(rms, 95)) if frames else 0.0
    return np.asarray(rms > max(0.003, 0.08 * reference))


def _speech_frames(voiced: np.ndarray) -> tuple[int, int]:
    """The first voiced 10 ms frame and the one after the last (the whole clip if none is)."""
    if not voiced.any():
        return 0, len(voiced)
    return int(np.argmax(voiced)), len(voiced) - int(np.argmax(voiced[::-1]))


def leading_silence_s(audio: np.ndarray) -> float:
    """The silence `prepare_clip` trims from the start of a clip (48 kHz audio), in seconds."""
    return _speech_frames(_voiced_frames(audio, SAMPLE_RATE))[0] / 100


def prepare_clip(audio: np.ndarray, pause_s: float) -> PreparedClip:
    """Trim leading and trailing silence (so the clip's end is the end of speech) and insert
    `pause_s` of silence in the longest inner gap of at least 150 ms (a clause or sentence
    break) that lies in the middle half of the answer."""
    rate = SAMPLE_RATE
    hop = rate // 100
    voiced = _voiced_frames(audio, rate)
    first, last = _speech_frames(voiced)
    audio = audio[first * hop : last * hop]
    voiced = voiced[first:last]
    pause_at = None
    if pause_s > 0 and len(voiced):
        best: tuple[int, int] | None = None
        run_start = None
        for i, flag in enumerate([*voiced.tolist(), True]):
            if not flag and run_start is None:
                run_start = i
            elif flag and run_start is not None:
                length = i - run_start
                middle = (run_start + i) / 2 / len(voiced)
                if length >= 15 and 0.25 <= middle <= 0.75 and (best is None or length > best[1]):
                    best = (run_start, length)
                run_start = None
        if best is not None:
            cut = (best[0] + best[1] // 2) * hop
            pause_at = cut / rate
            audio = np.concatenate(
                [audio[:cut], np.zeros(int(pause_s * rate), np.float32), audio[cut:]]
            )
    speech_s = len(audio) / rate - (pause_s if pause_at is not None else 0.0)
    pcm = np.clip(audio * 32767, -32768, 32767).astype(np.int16)
    return PreparedClip(pcm, speech_s, pause_at, pause_s if pause_at is not None else 0.0)


# --- the client (runs in the pool's processes) --------------------------------------------


def played_answers(
    answers: Sequence[AnswerClip], seed: int, pause_s: tuple[float, float]
) -> tuple[list[PreparedClip], random.Random]:
    """The answers as one interview plays them (its seeded pauses), and its random generator
    for what follows; `pooled_wer.py --played` rebuilds them to transcribe what was played."""
    rng = random.Random(seed)
    clips = [prepare_clip(load_wav(a.file, SAMPLE_RATE), rng.uniform(*pause_s)) for a in answers]
    return clips, rng


def interview_seed(seed: int, index: int) -> int:
    """The seed of interview `index` of a run with `--seed seed`."""
    return seed * 1000 + index


@dataclass
class InterviewSpec:
    """What one client needs: whom to join, what to say, how to pause."""

    index: int
    url: str
    token: str
    answers: list[AnswerClip]
    seed: int
    think_s: tuple[float, float]
    pause_s: tuple[float, float]
    final_timeout_s: float
    prompt_timeout_s: float
    interview_timeout_s: float
    start_at: float


@dataclass
class TurnRecord:
    """Everything one client saw of one spoken answer (client wall-clock times)."""

    interview: int
    turn: int
    prompt_id: str
    prompt_kind: str
    transcript: str
    clip: str
    agent_done_at: float | None = None
    speech_start: float | None = None
    speech_end: float | None = None
    speech_s: float = 0.0
    pause_at_s: float | None = None
    pause_s: float = 0.0
    partials: list[tuple[float, str, str]] = field(default_factory=list)  # at, stable, tentative
    final_text: str | None = None
    final_at: float | None = None  # server clock (the event's `at`)
    turn_ended_at: float | None = None  # server clock (the end-of-turn decision)
    final_received: float | None = None
    next_prompt_received: float | None = None
    next_prompt_kind: str | None = None
    agent_onset: float | None = None  # first loud agent frame after the end of speech
    agent_spoke_during_answer: bool = False
    lost: bool = False


class Microphone:
    """A factory for the client's outgoing audio track (imports aiortc lazily)."""

    @staticmethod
    def create() -> Any:
        from aiortc.mediastreams import AudioStreamTrack
        from av import AudioFrame

        class _Track(AudioStreamTrack):  # type: ignore[misc]
            """Silence until `play` is called; then the clip in real time, then silence."""

            def __init__(self) -> None:
                super().__init__()
                self._clip: np.ndarray | None = None
                self._cursor = 0
                self._started: float | None = None
                self._done: asyncio.Future[tuple[float, float]] | None = None

            def play(self, pcm: np.ndarray) -> asyncio.Future[tuple[float, float]]:
                """Start playing at the next frame; resolves to (speech start, speech end)."""
                self._clip, self._cursor, self._started = pcm, 0, None
                self._done = asyncio.get_running_loop().create_future()
                return self._done

            async def recv(self) -> Any:
                tick = await super().recv()  # aiortc's silent track paces us at real time
                now = time.time()
                chunk = np.zeros(FRAME, np.int16)
                if self._clip is not None:
                    if self._started is None:
                        self._started = now
                    part = self._clip[self._cursor : self._cursor + FRAME]
                    chunk[: len(part)] = part
                    self._cursor += FRAME
                    if self._cursor >= len(self._clip):
                        end = now + len(part) / SAMPLE_RATE
                        if self._done is not None and not self._done.done():
                            self._done.set_result((self._started, end))
                        self._clip = None
                frame = AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = int(tick.pts or 0) * 6
                frame.time_base = Fraction(1, SAMPLE_RATE)
                return frame

        return _Track()


class AgentEar:
    """Reads the agent's voice track and remembers when loud runs start and end."""

    def __init__(self) -> None:
        self.onsets: list[float] = []
        self.last_loud = 0.0
        self.frames = 0
        self.task: asyncio.Task[None] | None = None
        self._onset = asyncio.Event()

    def attach(self, track: Any) -> None:
        self.task = asyncio.ensure_future(self._read(track))

    async def _read(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames += 1
            now = time.time()
            if int(np.abs(frame.to_ndarray()).max()) > LOUD:
                if now - self.last_loud > AGENT_QUIET_S:
                    self.onsets.append(now)
                    self._onset.set()
                self.last_loud = now

    async def wait_done(self, since: float, think_s: float, within: float) -> float | None:
        """Wait until the agent, heard after `since`, has been quiet for 300 ms and then for a
        thinking pause of `think_s` (starting over if it speaks again). None after `within` s."""
        deadline = time.time() + within
        while time.time() < deadline:
            if self.last_loud > since and time.time() - self.last_loud >= AGENT_QUIET_S:
                heard = self.last_loud
                await asyncio.sleep(max(0.0, think_s - AGENT_QUIET_S))
                if self.last_loud == heard:
                    return heard + FRAME / SAMPLE_RATE
                continue
            await asyncio.sleep(0.02)
        return None

    async def wait_onset_after(self, moment: float, within: float) -> float | None:
        """The first loud run starting after `moment`, waiting up to `within` seconds."""
        deadline = time.time() + within
        while (onset := self.onset_after(moment)) is None:
            remaining = deadline - time.time()
            if remaining <= 0:
                return None
            self._onset.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._onset.wait(), remaining)
        return onset

    def onset_after(self, moment: float) -> float | None:
        return next((t for t in self.onsets if t > moment), None)


class EventStream:
    """The candidate's Socket.IO events with their arrival times, deduplicated by seq."""

    def __init__(self) -> None:
        self.items: list[tuple[float, dict[str, Any]]] = []
        self._seen: set[int] = set()
        self._changed = asyncio.Event()

    def add(self, event: dict[str, Any]) -> None:
        seq = event.get("seq")
        if isinstance(seq, int):
            if seq in self._seen:
                return
            self._seen.add(seq)
        self.items.append((time.time(), event))
        self._changed.set()

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], start: int, within: float
    ) -> tuple[int, float, dict[str, Any]] | None:
        """The first matching event at index >= start: (index, arrival, event); None if none
        comes within `within` seconds."""
        deadline = time.time() + within
        index = start
        while True:
            while index < len(self.items):
                arrived, event = self.items[index]
                if match(event):
                    return index, arrived, event
                index += 1
            remaining = deadline - time.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


def _server_time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


_progress_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop


def _report(kind: str, index: int, detail: str = "") -> None:
    if _progress_queue is not None:
        _progress_queue.put((kind, index, detail))


async def connect_peer(client: Any, peer: Any, mic: Any, ear: AgentEar) -> float:
    """Send `mic` and hear the agent through `ear` over `peer`, offered to the node over the
    candidate's Socket.IO `client`; the time the offer was made."""
    from aiortc import RTCSessionDescription

    peer.addTrack(mic)
    peer.on("track", ear.attach)
    await peer.setLocalDescription(await peer.createOffer())
    since = time.time()
    answer = await client.call(
        "rtc_offer", {"sdp": peer.localDescription.sdp}, namespace="/candidate", timeout=60
    )
    if not answer.get("ok"):
        raise RuntimeError(f"rtc_offer refused: {answer}")
    await peer.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    return since


async def run_interview(spec: InterviewSpec) -> dict[str, Any]:
    """One candidate: join, consent, offer WebRTC, answer by voice, record what arrives."""
    import socketio
    from aiortc import RTCPeerConnection

    clips, rng = played_answers(spec.answers, spec.seed, spec.pause_s)
    await asyncio.sleep(max(0.0, spec.start_at - time.time()))
    _report("started", spec.index)
    events = EventStream()
    client = socketio.AsyncClient(reconnection=False)
    client.on("event", events.add, namespace="/candidate")
    peer = RTCPeerConnection()
    ear = AgentEar()
    mic = Microphone.create()
    turns: list[TurnRecord] = []
    error: str | None = None
    try:
        await client.connect(
            spec.url,
            transports=["websocket"],
            namespaces=["/candidate"],
            auth={"token": spec.token},
            wait_timeout=30,
        )
        joined = await client.call("join", {}, namespace="/candidate", timeout=30)
        if not joined.get("ok"):
            raise RuntimeError(f"join refused: {joined}")
        for event in joined.get("events", []):
            events.add(event)
        ack = await client.call("consent", {"accepted": True}, namespace="/candidate", timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"consent refused: {ack}")
        prompt = (ack.get("snapshot") or {}).get("prompt")
        if prompt is None:
            found = await events.wait_for(lambda e: e["type"] == "prompt", 0, 30)
            if found is None:
                raise RuntimeError("no first prompt")
            prompt = found[2]["payload"]
        since = await connect_peer(client, peer, mic, ear)
        cursor = len(events.items)
        deadline = time.time() + spec.interview_timeout_s
        for number, clip in enumerate(clips):
            if prompt is None or prompt.get("kind") == "closing" or time.time() > deadline:
                break
            record = TurnRecord(
                spec.index,
                number + 1,
                str(prompt["prompt_id"]),
                str(prompt.get("kind")),
                spec.answers[number].transcript,
                Path(spec.answers[number].file).name,
                speech_s=clip.speech_s,
                pause_at_s=clip.pause_at_s,
                pause_s=clip.pause_s,
            )
            turns.append(record)
            record.agent_done_at = await ear.wait_done(
                since, rng.uniform(*spec.think_s), spec.prompt_timeout_s
            )
            if peer.connectionState in ("failed", "closed"):
                raise RuntimeError(f"the peer connection is {peer.connectionState}")
            try:
                record.speech_start, record.speech_end = await asyncio.wait_for(
                    mic.play(clip.pcm), len(clip.pcm) / SAMPLE_RATE + 15
                )
            except TimeoutError:
                raise RuntimeError(
                    f"the microphone track stopped (peer {peer.connectionState})"
                ) from None
            prompt_id = record.prompt_id
            found = await events.wait_for(
                lambda e, p=prompt_id: (
                    e["type"] == "answer_final" and e["payload"].get("prompt_id") == p
                ),
                cursor,
                max(0.0, record.speech_end + spec.final_timeout_s - time.time()),
            )
            if found is None:
                # Lost: say "I'm done", then type the answer so that the interview goes on.
                record.lost = True
                with contextlib.suppress(Exception):
                    await client.call(
                        "end_turn", {"prompt_id": prompt_id}, namespace="/candidate", timeout=10
                    )
                found = await events.wait_for(
                    lambda e, p=prompt_id: (
                        e["type"] == "answer_final" and e["payload"].get("prompt_id") == p
                    ),
                    cursor,
                    5,
                )
                if found is None:
                    await client.call(
                        "answer",
                        {"prompt_id": prompt_id, "text": record.transcript},
                        namespace="/candidate",
                        timeout=30,
                    )
            if found is not None:
                _, arrived, event = found
                record.final_received = arrived
                record.final_at = _server_time(event["at"])
                ended = event["payload"].get("turn_ended_at")
                record.turn_ended_at = None if ended is None else _server_time(str(ended))
                record.final_text = str(event["payload"].get("text", ""))
                record.lost = record.lost or not record.final_text.strip()
            for arrived, event in events.items[cursor:]:
                if event["type"] == "answer_partial" and event["payload"].get("prompt_id") == (
                    prompt_id
                ):
                    payload = event["payload"]
                    record.partials.append(
                        (arrived, str(payload.get("text", "")), str(payload.get("tentative", "")))
                    )
            following = await events.wait_for(
                lambda e, p=prompt_id: e["type"] == "prompt" and e["payload"].get("prompt_id") != p,
                cursor,
                spec.prompt_timeout_s,
            )
            if following is None:
                prompt = None
            else:
                cursor = following[0] + 1
                record.next_prompt_received = following[1]
                prompt = following[2]["payload"]
                record.next_prompt_kind = str(prompt.get("kind"))
            since = record.speech_end
            # Wait for the agent's reply to start (the last answer's reply included).
            await ear.wait_onset_after(record.speech_end, spec.prompt_timeout_s)
            _report("turn", spec.index, f"{record.turn}")
    except Exception as exc:  # reported in the JSON; the other interviews go on
        error = f"{type(exc).__name__}: {exc}"
        _report("error", spec.index, error)
    finally:
        with contextlib.suppress(Exception):
            await client.call("rtc_hangup", {}, namespace="/candidate", timeout=5)
        await peer.close()
        if ear.task is not None:
            ear.task.cancel()
        with contextlib.suppress(Exception):
            await client.disconnect()
    for record in turns:
        if record.speech_end is not None:
            record.agent_onset = ear.onset_after(record.speech_end)
            record.agent_spoke_during_answer = any(
                record.speech_start is not None and record.speech_start < t < record.speech_end
                for t in ear.onsets
            )
    _report("done", spec.index, error or "")
    return {
        "index": spec.index,
        "error": error,
        "agent_frames": ear.frames,
        "turns": [asdict(t) for t in turns],
    }


async def _watch_loop(lags: list[float], interval: float = 0.1) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        lags.append(max(0.0, loop.time() - due))


def run_clients(specs: list[InterviewSpec]) -> tuple[list[dict[str, Any]], list[float]]:
    """A pool worker: run several clients concurrently on one event loop (whose lag is
    measured too: a starved client delays what it measures)."""

    async def main() -> tuple[list[dict[str, Any]], list[float]]:
        lags: list[float] = []
        watcher = asyncio.ensure_future(_watch_loop(lags))
        results = list(await asyncio.gather(*(run_interview(s) for s in specs)))
        watcher.cancel()
        return results, lags

    return asyncio.run(main())


# --- the server ---------------------------------------------------------------------------


def voice_admission(interviews: int) -> dict[str, str]:
    """Environment for the embedded node so that it admits every benchmark interview's voice.

    The node's default (1 voice peer per core) would make the rest type, and the benchmark is
    there to measure past it; 2N leaves room for a soak slot's next peer while the last one
    closes. An operator's own CODESAGE_MAX_VOICE_INTERVIEWS wins.
    """
    if "CODESAGE_MAX_VOICE_INTERVIEWS" in os.environ:
        return {}
    return {"CODESAGE_MAX_VOICE_INTERVIEWS": str(2 * interviews)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    """`python -m codesage serve` on a temporary data folder (embedded Postgres and Redis).

    `env` is applied over this environment, from which CODESAGE_DATABASE_URL, _REDIS_URL and
    _JWT_SECRET are removed first: it may name shared stores, a secret, a node id..."""

    def __init__(
        self,
        port: int,
        workdir: Path,
        source: Path = ROOT,
        *,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.source = source
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.url = f"http://127.0.0.1:{port}"
        self.env = dict(env or {})
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 180.0) -> None:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
        if self.source != ROOT:  # a scratch copy of the checkout, to measure a change
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(self.source), env.get("PYTHONPATH")])
            )
        for name in ("CODESAGE_DATABASE_URL", "CODESAGE_REDIS_URL", "CODESAGE_JWT_SECRET"):
            env.pop(name, None)
        env.update(self.env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "codesage",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=self.source,
            env=env,
        )
        ready = threading.Event()
        stdout = self.process.stdout
        assert stdout is not None

        def drain() -> None:
            for line in stdout:
                log.write(line)
                log.flush()
                if READY_LINE in line:
                    ready.set()

        threading.Thread(target=drain, daemon=True).start()
        started = time.time()
        while not ready.wait(0.5):
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited; see {self.log_path}")
            if time.time() - started > timeout:
                raise SystemExit(
                    f"the server did not start in {timeout:.0f} s; see {self.log_path}"
                )

    def jwt_secret(self) -> str:
        return self.env.get("CODESAGE_JWT_SECRET") or (
            (self.data_dir / "jwt_secret").read_text().strip()
        )

    def kill(self) -> None:
        """SIGKILL: no drain, no lease release (a crashed node)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def server_processes(pid: int, data_dir: Path | None) -> list[Any]:
    """The node's process, its children, and the embedded Postgres (a daemon of its own)."""
    import psutil

    found: dict[int, Any] = {}
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        found[root.pid] = root
        for child in root.children(recursive=True):
            found[child.pid] = child
    if data_dir is not None:
        marker = str(data_dir / "postgres")
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if marker in " ".join(proc.info["cmdline"] or ()):
                    found[proc.pid] = proc
                    for child in proc.children(recursive=True):
                        found[child.pid] = child
    return list(found.values())


class ResourceSampler:
    """Samples CPU time and memory of the server's and the clients' processes every second."""

    def __init__(self, server_pid: int | None, data_dir: Path | None, interval: float = 1.0):
        self._server_pid = server_pid
        self._data_dir = data_dir
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rss_peak = 0.0
        self.pss_peak = 0.0
        self.cpu_samples: list[float] = []
        self._server_cpu: dict[int, float] = {}
        self._client_cpu: dict[int, float] = {}
        self._started = 0.0
        self._ended = 0.0

    def _server(self) -> list[Any]:
        if self._server_pid is None:
            return []
        return server_processes(self._server_pid, self._data_dir)

    def _clients(self, server_pids: set[int]) -> list[Any]:
        import psutil

        me = psutil.Process()
        procs = [me]
        with contextlib.suppress(psutil.Error):
            procs += [p for p in me.children(recursive=True) if p.pid not in server_pids]
        return procs

    @staticmethod
    def _cpu(procs: list[Any], into: dict[int, float]) -> None:
        import psutil

        for proc in procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                into[proc.pid] = times.user + times.system

    def memory(self) -> tuple[float | None, float | None]:
        """(RSS, PSS) of the server's processes in MB; None without a server pid."""
        import psutil

        procs = self._server()
        if not procs:
            return None, None
        rss = pss = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                info = proc.memory_full_info()
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
        return rss / 2**20, pss / 2**20

    def start(self) -> None:
        server = self._server()
        self._cpu(server, self._server_cpu)
        self._cpu(self._clients({p.pid for p in server}), self._client_cpu)
        self._server_start = dict(self._server_cpu)
        self._client_start = dict(self._client_cpu)
        self._started = time.time()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_total, last_time = sum(self._server_cpu.values()), time.time()
        while not self._stop.wait(self._interval):
            server = self._server()
            self._cpu(server, self._server_cpu)
            self._cpu(self._clients({p.pid for p in server}), self._client_cpu)
            rss, pss = self.memory()
            if rss is not None and pss is not None:
                self.rss_peak = max(self.rss_peak, rss)
                self.pss_peak = max(self.pss_peak, pss)
            total, now = sum(self._server_cpu.values()), time.time()
            self.cpu_samples.append(100 * (total - last_total) / max(1e-6, now - last_time))
            last_total, last_time = total, now

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._ended = time.time()

    def _percent(self, now: dict[int, float], start: dict[int, float]) -> float:
        used = sum(value - start.get(pid, 0.0) for pid, value in now.items())
        return 100 * used / max(1e-6, self._ended - self._started)

    def server_cpu_percent(self) -> float | None:
        return self._percent(self._server_cpu, self._server_start) if self._server_pid else None

    def client_cpu_percent(self) -> float:
        return self._percent(self._client_cpu, self._client_start)


# --- REST and metrics ---------------------------------------------------------------------


def http_json(method: str, url: str, token: str | None, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{method} {url}: {exc.code} {exc.read().decode()[:300]}") from None


def schedule_interviews(url: str, admin: str, count: int, template: str) -> list[tuple[str, str]]:
    """Create `count` real interviews of the template; (interview id, candidate token) each."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = http_json("GET", f"{url}/api/v1/templates?limit=100&offset={offset}", admin)
        items += page["items"]
        offset = page.get("next_offset")
    matching = [t for t in items if t["slug"] == template]
    if not matching:
        raise SystemExit(f"no template {template!r} on the server")
    template_id = max(matching, key=lambda t: t["version"])["id"]
    scheduled = []
    for _ in range(count):
        interview = http_json(
            "POST", f"{url}/api/v1/interviews", admin, {"template_id": template_id, "mode": "real"}
        )
        link = http_json("POST", f"{url}/api/v1/interviews/{interview['id']}/join-link", admin, {})
        scheduled.append((interview["id"], link["token"]))
    return scheduled


def end_interviews(url: str, admin: str, ids: Sequence[str]) -> None:
    for interview_id in ids:
        with contextlib.suppress(SystemExit, OSError):
            http_json("POST", f"{url}/api/v1/interviews/{interview_id}/end", admin, {})


def scrape_histograms(url: str) -> dict[str, dict[float, float]]:
    """Cumulative bucket counts of every histogram on /metrics: {name: {le: count}}; a
    labelled series is named `name{label=value}`."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
            text = response.read().decode()
    except OSError:
        return {}
    histograms: dict[str, dict[float, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "le")
                name = sample.name[: -len("_bucket")] + (f"{{{labels}}}" if labels else "")
                histograms.setdefault(name, {})[float(sample.labels["le"])] = sample.value
    return histograms


def histogram_quantile(
    before: dict[float, float], after: dict[float, float], q: float
) -> float | None:
    """The q-quantile of the observations between two scrapes, as Prometheus interpolates it."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    lower, below = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if math.isinf(bound):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, cumulative
    return lower


# --- analysis -----------------------------------------------------------------------------


def english_normalizer() -> Callable[[str], str]:
    """Whisper's English text normalizer, without its British-to-American spelling table."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return EnglishTextNormalizer({})  # type: ignore[no-any-return]


def percentiles(values: Sequence[float], *which: str) -> dict[str, float | None]:
    """{p50, p95, max, ...} of `values` in milliseconds (rounded), None for no values."""
    out: dict[str, float | None] = {}
    for name in which:
        if not values:
            out[name] = None
        elif name == "max":
            out[name] = round(float(max(values)), 1)
        else:
            out[name] = round(float(np.percentile(values, float(name[1:]))), 1)
    return out


def word_speech_ends(
    turn: dict[str, Any], reference: Sequence[str], timed: Sequence[WordEnd] | None
) -> tuple[list[float], int]:
    """When each reference word ended on the client's clock (see `word_times`), and how many
    were timed by a timestamp; the pause the harness inserted shifts the words after it."""
    times = reference_word_ends(reference, turn["speech_s"], timed)
    ends = []
    for offset in times.ends_s:
        if turn["pause_at_s"] is not None and offset > turn["pause_at_s"]:
            offset += turn["pause_s"]
        ends.append(turn["speech_start"] + offset)
    return ends, times.timed


def caption_lags(
    turn: dict[str, Any],
    normalize: Callable[[str], str],
    timed: Sequence[WordEnd] | None = None,
    *,
    stable_only: bool = False,
) -> tuple[list[float], int, int]:
    """Per reference word first seen in a partial (its stable words, then its tentative ones,
    as a caption shows them; `stable_only`: the stable words alone): its lag in ms; the
    reference length; and how many of its words `timed` (the clip's word timestamps) timed."""
    reference = normalize(turn["transcript"]).split()
    if not reference or turn["speech_start"] is None:
        return [], len(reference), 0
    ends, timed_words = word_speech_ends(turn, reference, timed)
    first_seen: dict[int, float] = {}
    for arrived, stable, tentative in turn["partials"]:
        heard = normalize(stable if stable_only else f"{stable} {tentative}").split()
        matcher = difflib.SequenceMatcher(None, reference, heard, autojunk=False)
        for block in matcher.get_matching_blocks():
            for i in range(block.a, block.a + block.size):
                first_seen.setdefault(i, arrived)
    lags = [1000 * (first_seen[i] - ends[i]) for i in sorted(first_seen)]
    return lags, len(reference), timed_words


def corpus_wer(references: Sequence[str], hypotheses: Sequence[str]) -> float | None:
    import jiwer

    normalize = english_normalizer()
    pairs = [(normalize(r), normalize(h)) for r, h in zip(references, hypotheses, strict=True)]
    pairs = [(r, h) for r, h in pairs if r.strip()]
    if not pairs:
        return None
    return round(float(jiwer.wer([r for r, _ in pairs], [h for _, h in pairs])), 4)


@dataclass(frozen=True)
class OfflineTranscripts:
    """tiny.en's text (stock path, as the server's finals) of each whole clip, by file name,
    and its word timestamps (a second decode, so that they cannot change the text)."""

    texts: dict[str, str]
    # Decode seconds per second of audio, on this machine before the run: boxes of one kind
    # differ several-fold in speed, and only this says which one a report came from.
    decode_rtf: float
    word_ends: dict[str, list[WordEnd]] = field(default_factory=dict)


def offline_transcripts(clips: Sequence[AnswerClip], data_dir: Path) -> OfflineTranscripts:
    """Transcribe each clip offline as the server's finals would (see `OfflineTranscripts`)."""
    from codesage.agents.speech_to_text import WhisperSpeechToText, whisper_model_dir

    stt = WhisperSpeechToText.load("tiny.en", data_dir)
    stt.transcribe(np.zeros(16_000, np.float32))  # the first decode also warms the model up
    timer = WhisperSpeechToText(whisper_model_dir("tiny.en", data_dir), word_timestamps=True)
    normalize = english_normalizer()
    texts, word_ends, decode_s, audio_s = {}, {}, 0.0, 0.0
    for clip in clips:
        name = Path(clip.file).name
        audio = load_wav(clip.file, 16_000)
        started = time.perf_counter()
        texts[name] = stt.transcribe(audio).text
        decode_s += time.perf_counter() - started
        audio_s += len(audio) / 16_000
        lead_s = leading_silence_s(load_wav(clip.file, SAMPLE_RATE))
        word_ends[name] = clip_word_ends(timer.transcribe(audio), lead_s, normalize)
    rtf = round(decode_s / audio_s, 4) if audio_s else 0.0
    return OfflineTranscripts(texts, rtf, word_ends)


def summarize(
    results: list[dict[str, Any]],
    interviews: int,
    client_loop_lags: Sequence[float] = (),
    offline: Mapping[str, str] | None = None,
    *,
    word_ends: Mapping[str, Sequence[WordEnd]] | None = None,
    with_transcripts: bool = False,
) -> dict[str, Any]:
    """The latency, caption and accuracy figures over every turn of every client; `offline`
    (clip name to text) gives `wer_offline` on the same turns, `word_ends` (clip name to its
    word timestamps) the speech time of each word for the caption lags."""
    normalize = english_normalizer()
    turns = [t for r in results for t in r["turns"] if t["speech_end"] is not None]
    response, after_final, gap, final_lag, lags, stable_lags = [], [], [], [], [], []
    words_total = words_seen = words_timed = 0
    worst_lag: list[float | None] = []  # per turn, so that a report names the stalled clips
    for turn in turns:
        if turn["agent_onset"] is not None:
            gap.append(1000 * (turn["agent_onset"] - turn["speech_end"]))
            if turn["turn_ended_at"] is not None:
                response.append(1000 * (turn["agent_onset"] - turn["turn_ended_at"]))
            if turn["final_at"] is not None:
                after_final.append(1000 * (turn["agent_onset"] - turn["final_at"]))
        if turn["final_received"] is not None:
            final_lag.append(1000 * (turn["final_received"] - turn["speech_end"]))
        timed = None if word_ends is None else word_ends.get(turn["clip"])
        word_lags, words, timed_words = caption_lags(turn, normalize, timed)
        lags += word_lags
        worst_lag.append(round(max(word_lags)) if word_lags else None)
        stable_lags += caption_lags(turn, normalize, timed, stable_only=True)[0]
        words_total += words
        words_seen += len(word_lags)
        words_timed += timed_words
    scored = [t for t in turns if not t["lost"] and t["final_text"] is not None]
    references = [t["transcript"] for t in scored]
    hypotheses = [t["final_text"] for t in scored]
    offline_texts = None if offline is None else [offline[t["clip"]] for t in scored]
    report = {
        "interviews": interviews,
        "interviews_failed": sum(1 for r in results if r["error"]),
        "errors": [r["error"] for r in results if r["error"]],
        "client_event_loop_lag_ms": percentiles(
            [1000 * lag for lag in client_loop_lags], "p50", "p95", "max"
        ),
        "turns": len(turns),
        "response_latency_ms": percentiles(response, "p50", "p95", "max"),
        "final_to_agent_audio_ms": percentiles(after_final, "p50", "p95", "max"),
        "turn_gap_ms": percentiles(gap, "p50", "p95", "max"),
        "caption_partial_lag_ms": percentiles(lags, "p50", "p95", "max"),
        "caption_partial_coverage": round(words_seen / words_total, 3) if words_total else None,
        "caption_words_timed": round(words_timed / words_total, 3) if words_total else None,
        "caption_stable_lag_ms": percentiles(stable_lags, "p50", "p95", "max"),
        "final_lag_ms": percentiles(final_lag, "p50", "p95", "max"),
        "wer": corpus_wer(references, hypotheses),
        "wer_offline": None if offline_texts is None else corpus_wer(references, offline_texts),
        "wer_reference_words": sum(len(normalize(r).split()) for r in references),
        "lost_final_segments": sum(1 for t in turns if t["lost"]),
        "turns_without_agent_reply": sum(1 for t in turns if t["agent_onset"] is None),
        "agent_spoke_during_answer": sum(1 for t in turns if t["agent_spoke_during_answer"]),
    }
    if with_transcripts:
        report["transcripts"] = [
            {
                "interview": t["interview"],
                "turn": t["turn"],
                "clip": t["clip"],
                "reference": t["transcript"],
                "final": None if t["lost"] else t["final_text"],  # a lost one was typed
                "lost": t["lost"],
                "offline": None if offline is None else offline[t["clip"]],
                "caption_lag_max_ms": worst,
            }
            for t, worst in zip(turns, worst_lag, strict=True)
        ]
    return report


def spoken_turn_log(log_path: Path, since: float) -> list[dict[str, float]]:
    """The node's "spoken turn" log lines after `since`: seconds from the end of speech (server
    side: the last voiced window) to each stage, and `final_restored_words`, one dict per turn."""
    from codesage.config.metrics import TURN_STAGES

    turns = []
    with contextlib.suppress(OSError):
        for line in log_path.read_text(errors="replace").splitlines():
            if '"spoken turn"' not in line:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                if entry.get("msg") == "spoken turn" and _server_time(entry["ts"]) >= since:
                    turn = {s: float(entry[f"{s}_s"]) for s in TURN_STAGES if f"{s}_s" in entry}
                    turn["final_restored_words"] = float(entry.get("final_restored_words", 0))
                    turn["final_speculative"] = float(bool(entry.get("final_speculative")))
                    turn["final_decodes_ahead"] = float(entry.get("final_decodes_ahead", 0))
                    turns.append(turn)
    return turns


def git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True
        )
        return out.stdout.decode().strip() + ("+dirty" if dirty.stdout.strip() else "")
    return None


def machine() -> dict[str, Any]:
    import psutil

    model = platform.processor()
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        model = found.group(1).strip() if found else model
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- main ---------------------------------------------------------------------------------


class Progress:
    """Counts progress messages from the clients and prints a line for each."""

    def __init__(self, total: int, turns: int, messages: Any) -> None:
        self.total, self.turns_total, self._messages = total, turns, messages
        self.started = self.turns = self.done = self.errors = 0
        self._t0 = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                kind, index, detail = self._messages.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            if kind == "started":
                self.started += 1
            elif kind == "turn":
                self.turns += 1
            elif kind == "done":
                self.done += 1
            elif kind == "error":
                self.errors += 1
                progress(f"  interview {index}: {detail}")
            progress(
                f"[{time.time() - self._t0:6.1f} s] interviews started {self.started}/"
                f"{self.total}, turns {self.turns}/{self.turns_total}, done {self.done}/"
                f"{self.total}" + (f", errors {self.errors}" if self.errors else "")
            )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def clips_from(clips: Sequence[AnswerClip], first: int, count: int) -> list[AnswerClip]:
    """`count` clips in order from `first` on, wrapping around: what the interviews play."""
    return [clips[(first + i) % len(clips)] for i in range(count)]


def run_interviews(
    args: argparse.Namespace, url: str, admin: str, clips: list[AnswerClip], count: int, k: int
) -> tuple[list[dict[str, Any]], list[float]]:
    """Schedule `count` interviews and run them in the client pool; the clients' records and
    the client processes' event-loop lags (seconds, sampled every 100 ms)."""
    scheduled = schedule_interviews(url, admin, count, args.template)
    processes = max(1, min(count, args.client_processes or os.cpu_count() or 1))
    start_at = time.time() + args.start_delay_s
    specs = []
    for index, (_, token) in enumerate(scheduled):
        answers = clips_from(clips, args.first_answer + index * k, k)
        specs.append(
            InterviewSpec(
                index=index,
                url=url,
                token=token,
                answers=answers,
                seed=interview_seed(args.seed, index),
                think_s=(args.think_min_s, args.think_max_s),
                pause_s=(args.pause_min_s, args.pause_max_s),
                final_timeout_s=args.final_timeout_s,
                prompt_timeout_s=args.prompt_timeout_s,
                interview_timeout_s=args.interview_timeout_s,
                start_at=start_at + (args.ramp_s * index / max(1, count - 1) if count > 1 else 0),
            )
        )
    groups = [specs[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    messages = context.Manager().Queue()
    tracker = Progress(count, count * k, messages)
    tracker.start()
    try:
        with ProcessPoolExecutor(
            processes, mp_context=context, initializer=_init_worker, initargs=(messages,)
        ) as pool:
            futures = [pool.submit(run_clients, group) for group in groups]
            outcomes = [future.result() for future in futures]
    finally:
        tracker.stop()
    end_interviews(url, admin, [interview_id for interview_id, _ in scheduled])
    results = sorted((r for found, _ in outcomes for r in found), key=lambda r: r["index"])
    return results, [lag for _, lags in outcomes for lag in lags]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interviews", type=int, required=True, help="concurrent interviews N")
    parser.add_argument("--audio", type=Path, help="folder of WAV files and manifest.csv")
    parser.add_argument("--url", help="a running node (default: start an embedded one)")
    parser.add_argument(
        "--jwt-secret",
        default=os.environ.get("CODESAGE_JWT_SECRET"),
        help="the node's JWT secret with --url (env CODESAGE_JWT_SECRET)",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        help="with --url on this machine: sample that process tree's CPU and RSS",
    )
    parser.add_argument("--json", type=Path, required=True, help="where to write the report")
    parser.add_argument("--answers-per-interview", type=int, default=3)
    parser.add_argument(
        "--first-answer",
        type=int,
        default=0,
        help="interview i plays the answers from first + i x answers-per-interview on, so "
        "that runs at a small N can cover the whole set between them",
    )
    parser.add_argument("--port", type=int, help="port of the embedded node (default: free)")
    parser.add_argument("--template", default="backend-python")
    parser.add_argument(
        "--server-source",
        type=Path,
        default=ROOT,
        help="run the embedded node from this checkout (e.g. a scratch copy)",
    )
    parser.add_argument(
        "--client-processes", type=int, help="client processes (default: one per core, at most N)"
    )
    parser.add_argument(
        "--warmup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run one short interview before measuring (default on)",
    )
    parser.add_argument(
        "--offline-wer",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also transcribe the clips offline for comparison (default on)",
    )
    parser.add_argument("--think-min-s", type=float, default=0.5)
    parser.add_argument("--think-max-s", type=float, default=1.5)
    parser.add_argument(
        "--pause-min-s",
        type=float,
        default=0.4,
        help="extra pause inserted at a break inside each answer (min)",
    )
    parser.add_argument("--pause-max-s", type=float, default=1.0)
    parser.add_argument(
        "--ramp-s",
        type=float,
        default=0.0,
        help="spread the interviews' starts over this many seconds",
    )
    parser.add_argument(
        "--start-delay-s",
        type=float,
        default=5.0,
        help="time for the client processes to start before the first joins",
    )
    parser.add_argument("--final-timeout-s", type=float, default=30.0)
    parser.add_argument("--prompt-timeout-s", type=float, default=40.0)
    parser.add_argument("--interview-timeout-s", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-data", action="store_true", help="keep the embedded data folder")
    parser.add_argument(
        "--include-turns", action="store_true", help="put every turn's raw record in the JSON"
    )
    args = parser.parse_args(argv)
    if args.interviews < 1 or args.answers_per_interview < 1:
        parser.error("--interviews and --answers-per-interview must be at least 1")
    if args.url and not args.jwt_secret:
        parser.error("--url needs --jwt-secret or CODESAGE_JWT_SECRET to mint an admin token")
    return args


def plot(out: Path, reports: Sequence[Path]) -> None:
    """Response latency and caption lag percentiles against N, from several runs' reports."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(
            "the plot needs matplotlib, which the project does not install: pip install matplotlib"
        ) from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = sorted((json.loads(p.read_text()) for p in reports), key=lambda r: r["interviews"])
    n = [r["interviews"] for r in runs]
    figure, (response, captions) = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (
        (
            response,
            "response_latency_ms",
            "response latency",
            (350, 700),
            "end of turn decided → first agent audio (ms)",
        ),
        (
            captions,
            "caption_partial_lag_ms",
            "caption lag",
            (None, 1500),
            "word spoken → first shown in a caption (ms)",
        ),
    )
    for axis, key, name, (p50_target, p95_target), ylabel in panels:
        for which, style in (("p50", "o-"), ("p95", "s-")):
            axis.plot(n, [r[key][which] for r in runs], style, label=f"{name} {which}")
        if p50_target is not None:
            axis.axhline(
                p50_target,
                color="tab:blue",
                linestyle=":",
                linewidth=1,
                label=f"target p50 {p50_target} ms",
            )
        axis.axhline(
            p95_target,
            color="tab:orange",
            linestyle=":",
            linewidth=1,
            label=f"target p95 {p95_target} ms",
        )
        axis.set_xlabel("concurrent spoken interviews (N)")
        axis.set_ylabel(ylabel)
        axis.set_xticks(n)
        # Past capacity latency grows a hundredfold: a log scale keeps the targets readable.
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    commit = runs[-1].get("commit") if runs else None
    machines = [r.get("machine") or {} for r in runs]
    cores = machines[-1].get("cores") if machines else None
    # Boxes of one kind differ several-fold at Whisper: the title says how fast this one was.
    rtfs = [m["stt_decode_rtf"] for m in machines if m.get("stt_decode_rtf")]
    speed = f", Whisper decode {min(rtfs):.3f}-{max(rtfs):.3f} s per s of audio" if rtfs else ""
    figure.suptitle(f"CODESAGE under load ({cores} cores{speed}, commit {commit})")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


@dataclass(frozen=True)
class BenchmarkTarget:
    """The node a benchmark runs against, an admin token for it, and the answers to play."""

    url: str
    admin: str
    clips: list[AnswerClip]
    audio: str  # where the answers came from, as the reports' settings name it
    offline: OfflineTranscripts | None  # None with --no-offline-wer
    server: EmbeddedServer | None  # None with --url
    server_pid: int | None
    data_dir: Path | None

    @property
    def offline_texts(self) -> dict[str, str] | None:
        """The offline text of each clip, by file name (None with --no-offline-wer)."""
        return self.offline.texts if self.offline else None

    @property
    def word_ends(self) -> dict[str, list[WordEnd]] | None:
        """The word timestamps of each clip, by file name (None likewise)."""
        return self.offline.word_ends if self.offline else None

    @property
    def decode_rtf(self) -> float | None:
        """This machine's offline decode seconds per second of audio (None likewise)."""
        return self.offline.decode_rtf if self.offline else None


def prepare_target(
    args: argparse.Namespace, workdir: Path, *, offline_of_all: bool = True
) -> BenchmarkTarget:
    """Read or synthesize the answers, start the embedded node unless `--url` is given (its
    `server` is then set: the caller stops it), mint an admin token and run the warm-up.
    Offline texts are of every clip, or with `offline_of_all=False` of those one run of
    `run_interviews` plays (a folder of 150 answers costs minutes of decoding)."""
    if args.audio:
        clips, audio = read_manifest(args.audio), str(args.audio)
    else:
        progress("synthesizing answers with piper")
        played = args.first_answer + max(1, args.interviews * args.answers_per_interview)
        clips = synthesize_answers(workdir / "answers", DEFAULT_ANSWERS[:played])
        audio = f"piper ({len(clips)} synthesized answers)"
    transcribed = clips
    if not offline_of_all:  # the warm-up plays the first of them
        count = min(len(clips), args.interviews * args.answers_per_interview)
        transcribed = clips_from(clips, args.first_answer, count)
    offline = None
    if args.offline_wer:
        progress(f"transcribing {len(transcribed)} answers offline (the WER reference, word times)")
        offline = offline_transcripts(transcribed, workdir)
    server: EmbeddedServer | None = None
    if args.url:
        url = args.url.rstrip("/")
        secret = args.jwt_secret
        server_pid, data_dir = args.server_pid, None
    else:
        server = EmbeddedServer(
            args.port or free_port(),
            workdir,
            args.server_source.resolve(),
            env=voice_admission(args.interviews),
        )
        progress(f"starting a node on {server.url} (log: {server.log_path})")
        server.start()
        assert server.process is not None
        url, secret = server.url, server.jwt_secret()
        server_pid, data_dir = server.process.pid, server.data_dir
    from codesage.signaling.auth import JwtTokens, Role

    admin = JwtTokens(secret).issue(Role.ADMIN)
    if args.warmup:
        progress("warm-up: one interview, one answer")
        warm, _ = run_interviews(args, url, admin, clips, 1, 1)
        if warm[0]["error"]:
            progress(f"warm-up failed: {warm[0]['error']}")
    return BenchmarkTarget(url, admin, clips, audio, offline, server, server_pid, data_dir)


def node_figures(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    logged: Sequence[Mapping[str, float]] | None,
) -> dict[str, Any]:
    """The node's own figures over a run: from its /metrics histograms scraped `before` and
    `after`, and from its spoken-turn log lines (`logged`, None when the node is not ours)."""
    from codesage.config.metrics import TURN_STAGES

    def hist_ms(name: str, q: float) -> float | None:
        value = histogram_quantile(before.get(name, {}), after.get(name, {}), q)
        return None if value is None else round(1000 * value, 1)

    def p50_p95(name: str) -> dict[str, float | None]:
        return {"p50": hist_ms(name, 0.5), "p95": hist_ms(name, 0.95)}

    def turns_with(field: str) -> int | None:
        """Logged turns whose `field` is not zero; None when the node is not ours."""
        return None if logged is None else sum(1 for t in logged if t[field])

    decision_to_audio = [
        1000 * (t["first_agent_audio"] - t["end_of_turn"])
        for t in logged or ()
        if "first_agent_audio" in t and "end_of_turn" in t
    ]
    return {
        "event_loop_lag_ms": {
            "p95": hist_ms("codesage_event_loop_lag_seconds", 0.95),
            "p99": hist_ms("codesage_event_loop_lag_seconds", 0.99),
        },
        "server_response_latency_ms": p50_p95("codesage_response_latency_seconds"),
        "stt_queue_wait_ms": p50_p95("codesage_stt_queue_wait_seconds"),
        "server_turn_stages_ms": {
            stage: p50_p95(f"codesage_turn_latency_seconds{{stage={stage}}}")
            for stage in TURN_STAGES
        },
        "server_decision_to_agent_audio_ms": percentiles(decision_to_audio, "p50", "p95", "max"),
        "finals_restored": turns_with("final_restored_words"),
        "finals_speculative": turns_with("final_speculative"),
        "final_decodes_ahead": (
            None if logged is None else sum(t["final_decodes_ahead"] for t in logged)
        ),
    }


def run_settings(args: argparse.Namespace, target: BenchmarkTarget) -> dict[str, Any]:
    """The options a report was made with, as far as interviews.py and soak.py share them."""
    return {
        "answers_per_interview": args.answers_per_interview,
        "template": args.template,
        "client_processes": max(
            1, min(args.interviews, args.client_processes or os.cpu_count() or 1)
        ),
        "server": args.url or f"embedded, from {args.server_source.resolve()}",
        "warmup": args.warmup,
        "audio": target.audio,
        "think_s": [args.think_min_s, args.think_max_s],
        "pause_s": [args.pause_min_s, args.pause_max_s],
        "ramp_s": args.ramp_s,
    }


def resource_figures(
    sampler: ResourceSampler, rss_base: float | None, pss_base: float | None, interviews: int
) -> dict[str, float | None]:
    """CPU and memory of the report: the sampler's figures, per interview over `interviews`."""

    def per_interview(peak: float, base: float | None) -> float | None:
        return _round((peak - base) / interviews if base and peak else None)

    return {
        "cpu_percent": _round(sampler.server_cpu_percent()),
        "cpu_percent_peak": _round(max(sampler.cpu_samples, default=None)),
        "client_cpu_percent": _round(sampler.client_cpu_percent()),
        "rss_mb_base": _round(rss_base),
        "rss_mb_peak": _round(sampler.rss_peak or None),
        "rss_mb_per_interview": per_interview(sampler.rss_peak, rss_base),
        "pss_mb_base": _round(pss_base),
        "pss_mb_peak": _round(sampler.pss_peak or None),
        "pss_mb_per_interview": per_interview(sampler.pss_peak, pss_base),
    }


def machine_span(host: dict[str, Any]) -> dict[str, Any]:
    """The machine as `machine()` saw it at the start, with the load average then and now."""
    return {
        **{k: v for k, v in host.items() if k != "load_average"},
        "load_average_at_start": host["load_average"],
        "load_average_at_end": machine()["load_average"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["plot"]:
        if len(argv) < 3:
            raise SystemExit("usage: interviews.py plot OUT.png REPORT.json [REPORT.json ...]")
        plot(Path(argv[1]), [Path(a) for a in argv[2:]])
        return 0
    if argv[:1] == ["synthesize"]:
        parser = argparse.ArgumentParser(
            prog="interviews.py synthesize",
            description="Speak a file of answers (one per line) into OUT_DIR for --audio.",
        )
        parser.add_argument("out_dir", type=Path)
        parser.add_argument("answers", type=Path, help="a text file, one answer per line")
        parser.add_argument(
            "--voices",
            default="piper",
            help=f"comma-separated, taken in turn (default piper): {', '.join(SYNTHESIS_VOICES)}",
        )
        options = parser.parse_args(argv[1:])
        lines = options.answers.read_text().splitlines()
        texts = [line.strip() for line in lines if line.strip()]
        clips = synthesize_answers(options.out_dir, texts, options.voices.split(","))
        progress(f"{len(clips)} answers and manifest.csv in {options.out_dir}: pass it as --audio")
        return 0
    args = parse_args(argv)
    began = time.time()
    host = machine()
    workdir = Path(tempfile.mkdtemp(prefix="codesage-bench-"))
    workdir.chmod(0o755)  # as root, the embedded Postgres runs as its own user and needs a path
    server: EmbeddedServer | None = None
    try:
        target = prepare_target(args, workdir, offline_of_all=False)
        server, url, admin, clips = target.server, target.url, target.admin, target.clips
        sampler = ResourceSampler(target.server_pid, target.data_dir)
        rss_base, pss_base = sampler.memory()
        histograms_before = scrape_histograms(url)
        sampler.start()
        progress(f"running {args.interviews} interviews x {args.answers_per_interview} answers")
        t0 = time.time()
        results, client_lags = run_interviews(
            args, url, admin, clips, args.interviews, args.answers_per_interview
        )
        sampler.stop()
        elapsed = time.time() - t0
        histograms_after = scrape_histograms(url)
        report = summarize(
            results,
            args.interviews,
            client_lags,
            target.offline_texts,
            word_ends=target.word_ends,
            with_transcripts=True,
        )
        logged = spoken_turn_log(server.log_path, t0) if server is not None else None
        report.update(
            {
                **resource_figures(sampler, rss_base, pss_base, args.interviews),
                **node_figures(histograms_before, histograms_after, logged),
                "elapsed_s": round(elapsed, 1),
                "commit": git_commit(),
                "machine": {**machine_span(host), "stt_decode_rtf": target.decode_rtf},
                "settings": {
                    **run_settings(args, target),
                    "first_answer": args.first_answer,
                    "seed": args.seed,
                },
            }
        )
        if args.include_turns:
            report["raw"] = results
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        progress(
            f"done in {time.time() - began:.0f} s: response latency p50/p95 "
            f"{report['response_latency_ms']['p50']}/{report['response_latency_ms']['p95']} ms, "
            f"WER {report['wer']}, lost finals {report['lost_final_segments']} -> {args.json}"
        )
        return 1 if report["interviews_failed"] else 0
    finally:
        if server is not None:
            server.stop()
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            progress(f"kept {workdir}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


if __name__ == "__main__":
    sys.exit(main())
