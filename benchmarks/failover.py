"""Failover benchmark: the owner of live spoken interviews is killed (SIGKILL) mid-answer.

Usage:
    python benchmarks/failover.py [--interviews N] [--audio DIR] --json OUT.json
    python benchmarks/failover.py --database-url URL --redis-url URL --json OUT.json

It starts two nodes, A and B (`python -m codesage serve`, voice on, one inference thread each,
`CODESAGE_LEASE_TTL_SECONDS=--lease-ttl`), on one Postgres and one Redis: the given ones, else
an embedded Postgres and Redis started in a temporary folder (`codesage.storage.embedded`). N
real interviews are scheduled and first claimed on A (its `/owner` route). Each interview has
two clients in this process:

- a candidate: Socket.IO `/candidate` (join, consent) and a real aiortc peer (`rtc_offer`)
  with a microphone track that plays spoken answers in real time, and a reader of the agent's
  voice (the same pieces as `benchmarks/interviews.py`);
- an observer (an admin token on `/observer`): `watch`es the interview, so that it receives
  the `score` events a real interview's candidate never sees, and writes one private `note`
  before the kill and one after the resume.

Each candidate answers `--answers-before` questions in full (waiting for the agent to finish
each question first), then waits for the agent to finish the next question and starts the
answer to it. Once every candidate is speaking, `--kill-after-s` (4 s) into the answers, node A
gets one SIGKILL: no drain, no lease release. 4 s is mid-speech (answers last 7-10 s and a turn
ends only after 1.6 s or more of silence) and late enough for live captions of the cut answer
to have been committed already (the first comes about 2.5-3 s into the speech).

Each candidate notices its socket drop, closes its peer, asks B's `/owner` until B names itself
(A's lease has expired and B has loaded the interview from its checkpoint and event log),
connects Socket.IO to that URL, joins again with `after_seq` = the last sequence number it saw,
opens a NEW aiortc peer, waits for the agent to say the open question again, re-speaks the
whole answer that was cut, and then answers `--answers-after` more questions. The observer
reconnects to the new owner and watches again. At the end the interviews are ended over REST
and each one's durable event log is read from B
(`GET /api/v1/interviews/{id}/events` as staff).

The report (`--json`):
- resume_s {p50, max}: per interview, the SIGKILL → the moment the candidate's new `join` on
  the new owner was acknowledged with the same open prompt (same `prompt_id`) it was answering.
  It includes the lease expiry (at most `--lease-ttl` after the last renewal), B loading the
  interview, the client's `/owner` polls (every 100 ms) and the reconnection. `resumed` counts
  the interviews that resumed at the same prompt within `--resume-within-s` (5 s);
  `resumed_at_same_prompt` the same without the time limit.
  `voice_resume_s` is the SIGKILL → the first loud frame of the agent's voice on the new peer
  (B says the open question again).
- lost_final_segments: events of type `answer_final`, `score` or `note` that a client (the
  candidate or the observer) received before the kill and that are missing from the durable
  log afterwards, or stored under their seq with another type or payload. `lost_after_resume`
  is the same for the events received after the resume; `received_not_durable` counts every
  received event of any type that the log does not hold as received. `checked_events` says
  how many such events were compared, and how many the durable logs hold in all.
- duplicated_events: in the final durable log, (1) extra rows for a seq; (2) a second
  `answer_final`, `score` or `prompt` for a prompt_id that already has one; (3) a second `note`
  with the same text and author. The actor accepts exactly one answer per prompt (a later one
  is refused as `already_answered`), so a second final for a prompt means the takeover replayed
  a committed answer (`same_payload` in `duplicates`) or accepted a second answer to an
  answered prompt: either breaks the promise. The answer re-spoken after the resume is
  legitimate because the cut one was never committed: the kill lands mid-speech, long before
  the end-of-turn silence, so its prompt is still open on the new owner (the candidate checks
  that; if it were not, the interview would count as not resumed). Not counted:
  `answer_partial` (live captions of both the cut and the re-spoken answer), `prompt_played`
  (the new owner says the open question again: a second, true record of what was heard),
  `state_changed` and `summary`. `seq_gaps` counts sequence numbers missing from 1..last.
- kill_at: the node, its pid, when, and per interview the prompt being answered, how far into
  the answer the kill came (`offset_s`, `mid_answer`) and how many captions had been committed.
- interviews, interviews_failed, errors, problems (non-fatal: e.g. no agent voice heard on the
  new peer), turns (answers completed), commit, machine, settings, elapsed_s.

Exit code: 1 when an interview failed or did not resume at the same prompt within
`--resume-within-s`, or when anything was lost or duplicated or a seq is missing; else 0.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/failover.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.interviews import (  # noqa: E402
    DEFAULT_ANSWERS,
    SAMPLE_RATE,
    AgentEar,
    AnswerClip,
    EmbeddedServer,
    EventStream,
    Microphone,
    PreparedClip,
    end_interviews,
    free_port,
    git_commit,
    http_json,
    load_wav,
    machine,
    percentiles,
    prepare_clip,
    progress,
    read_manifest,
    schedule_interviews,
    synthesize_answers,
)

CANDIDATE_NS = "/candidate"
OBSERVER_NS = "/observer"
KEY_TYPES = ("answer_final", "score", "note")
ONE_PER_PROMPT = ("answer_final", "score", "prompt")
OWNER_POLL_S = 0.1
STEP_TIMEOUT_S = 60.0


# --- the kill -----------------------------------------------------------------------------


class KillSwitch:
    """Kills node A once, `after_s` after every live candidate has started its cut answer."""

    def __init__(self, node: EmbeddedServer, expected: int, after_s: float) -> None:
        self._node = node
        self._expected = expected
        self.after_s = after_s
        self._arrived = 0
        self._all_in = asyncio.Event()
        self.go = asyncio.Event()
        self.killed = asyncio.Event()
        self.killed_at: float | None = None
        self.pid: int | None = None

    def _check(self) -> None:
        if self._arrived >= self._expected:
            self._all_in.set()

    async def ready(self) -> None:
        """A candidate is about to start the answer that the kill will cut: wait for go."""
        self._arrived += 1
        self._check()
        await self.go.wait()

    def leave(self) -> None:
        """A candidate failed before it was ready: do not wait for it."""
        self._expected -= 1
        self._check()

    async def run(self, ready_timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_in.wait(), ready_timeout_s)
        if self._arrived < self._expected:
            progress(f"only {self._arrived}/{self._expected} candidates ready; killing anyway")
        self.go.set()
        await asyncio.sleep(self.after_s)
        process = self._node.process
        assert process is not None
        self.pid = process.pid
        process.kill()  # SIGKILL
        self.killed_at = time.time()
        self.killed.set()
        progress(f"SIGKILL node A (pid {self.pid})")
        await asyncio.to_thread(process.wait)


# --- the clients --------------------------------------------------------------------------


@dataclass
class FailoverSpec:
    """What one interview's clients need."""

    index: int
    interview_id: str
    token: str  # the candidate's
    staff: str  # an admin token for the observer
    owner_url: str  # node A
    standby_url: str  # node B
    before: list[PreparedClip]
    cut: PreparedClip
    after: list[PreparedClip]
    think_s: float
    final_timeout_s: float


@dataclass
class ClientResult:
    """What one interview's clients saw (client wall-clock times)."""

    index: int
    interview_id: str
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    cut_prompt_id: str | None = None
    cut_speech_started: float | None = None
    cut_clip_s: float = 0.0
    partials_before_kill: int = 0
    dropped_at: float | None = None
    owner_polls: int = 0
    rejoined_at: float | None = None
    resumed_prompt_id: str | None = None
    voice_back_at: float | None = None
    turns: int = 0
    notes: list[str] = field(default_factory=list)
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


class CandidateClient:
    """A candidate's connection to whichever node owns the interview: Socket.IO and voice."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.events = EventStream()
        self.dropped = asyncio.Event()
        self.sio: Any = None
        self.peer: Any = None
        self.mic: Any = None
        self.ear: AgentEar | None = None

    def last_seq(self) -> int:
        return max((int(e.get("seq", 0)) for _, e in self.events.items), default=0)

    async def connect(self, url: str) -> None:
        import socketio

        async def on_drop(*_: Any) -> None:
            self.dropped.set()

        self.dropped.clear()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self.events.add, namespace=CANDIDATE_NS)
        self.sio.on("disconnect", on_drop, namespace=CANDIDATE_NS)
        await self.sio.connect(
            url,
            transports=["websocket"],
            namespaces=[CANDIDATE_NS],
            auth={"token": self.token},
            wait_timeout=30,
        )

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(
            event, data, namespace=CANDIDATE_NS, timeout=STEP_TIMEOUT_S
        )
        if not ack.get("ok"):
            raise RuntimeError(f"{event} refused: {ack}")
        return ack

    async def join(self) -> dict[str, Any]:
        """Join after the last event seen; the snapshot (its events are remembered)."""
        ack = await self.call("join", {"after_seq": self.last_seq()})
        for event in ack.get("events", []):
            self.events.add(event)
        snapshot: dict[str, Any] = ack["snapshot"]
        return snapshot

    async def open_voice(self) -> float:
        """A new aiortc peer with a microphone and an ear; the time the offer was answered."""
        from aiortc import RTCPeerConnection, RTCSessionDescription

        self.peer = RTCPeerConnection()
        self.mic = Microphone.create()
        self.ear = AgentEar()
        self.peer.addTrack(self.mic)
        self.peer.on("track", self.ear.attach)
        await self.peer.setLocalDescription(await self.peer.createOffer())
        since = time.time()
        answer = await self.call("rtc_offer", {"sdp": self.peer.localDescription.sdp})
        await self.peer.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return since

    async def close_voice(self) -> None:
        if self.peer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.peer.close(), 10)
        if self.ear is not None and self.ear.task is not None:
            self.ear.task.cancel()
        self.peer = self.mic = self.ear = None

    async def hang_up(self) -> None:
        if self.sio is not None and self.sio.connected:
            with contextlib.suppress(Exception):
                await self.sio.call("rtc_hangup", {}, namespace=CANDIDATE_NS, timeout=5)
        await self.close_voice()
        await self.disconnect()

    async def disconnect(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):
                await self.sio.disconnect()

    async def answer(
        self, prompt: dict[str, Any], clip: PreparedClip, since: float, spec: FailoverSpec
    ) -> tuple[dict[str, Any] | None, float]:
        """Wait for the agent to finish asking, speak `clip`, wait for its `answer_final` and
        the next prompt: (the next prompt or None, when the speech ended)."""
        assert self.ear is not None and self.mic is not None
        await self.ear.wait_done(since, spec.think_s, STEP_TIMEOUT_S)
        _, speech_end = await asyncio.wait_for(
            self.mic.play(clip.pcm), len(clip.pcm) / SAMPLE_RATE + 15
        )
        prompt_id = str(prompt["prompt_id"])
        final = await self.events.wait_for(
            lambda e: e["type"] == "answer_final" and e["payload"].get("prompt_id") == prompt_id,
            0,
            spec.final_timeout_s,
        )
        if final is None:
            raise RuntimeError(f"no answer_final for prompt {prompt_id} (spoken answer lost)")
        following = await self.events.wait_for(
            lambda e: e["type"] == "prompt" and e["payload"].get("prompt_id") != prompt_id,
            final[0],
            STEP_TIMEOUT_S,
        )
        return (None if following is None else following[2]["payload"]), speech_end


class ObserverClient:
    """Staff watching the interview (scores and notes), on whichever node owns it."""

    def __init__(self, token: str, interview_id: str) -> None:
        self.token = token
        self.interview_id = interview_id
        self.events = EventStream()
        self.sio: Any = None

    async def connect_and_watch(self, url: str) -> None:
        import socketio

        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self.events.add, namespace=OBSERVER_NS)
        await self.sio.connect(
            url,
            transports=["websocket"],
            namespaces=[OBSERVER_NS],
            auth={"token": self.token},
            wait_timeout=30,
        )
        after = max((int(e.get("seq", 0)) for _, e in self.events.items), default=0)
        ack = await self.call("watch", {"interview_id": self.interview_id, "after_seq": after})
        for event in ack.get("events", []):
            self.events.add(event)

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(
            event, data, namespace=OBSERVER_NS, timeout=STEP_TIMEOUT_S
        )
        if not ack.get("ok"):
            raise RuntimeError(f"observer {event} refused: {ack}")
        return ack

    async def note(self, text: str) -> None:
        """Write a private note and wait until its event comes back."""
        ack = await self.call(
            "act", {"interview_id": self.interview_id, "action": "note", "text": text}
        )
        seq = int(ack["seq"])
        found = await self.events.wait_for(lambda e: e.get("seq") == seq, 0, STEP_TIMEOUT_S)
        if found is None:
            raise RuntimeError(f"the note (seq {seq}) never came back to its observer")

    async def saw_score(self, prompt_id: str, within: float) -> bool:
        found = await self.events.wait_for(
            lambda e: e["type"] == "score" and e["payload"].get("prompt_id") == prompt_id,
            0,
            within,
        )
        return found is not None

    async def disconnect(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):
                await self.sio.disconnect()


async def poll_owner(
    http: Any, url: str, interview_id: str, token: str, wanted: str, within: float
) -> int:
    """Ask `url` for the interview's owner until it names `wanted`; the number of asks."""
    import aiohttp

    deadline = time.time() + within
    asks = 0
    while True:
        asks += 1
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.get(
                f"{url}/api/v1/interviews/{interview_id}/owner",
                headers={"Authorization": f"Bearer {token}"},
            ) as reply:
                if reply.status == 200 and (await reply.json())["url"] == wanted:
                    return asks
        if time.time() > deadline:
            raise RuntimeError(f"{url} did not name {wanted} as the owner within {within:.0f} s")
        # The dead owner's lease expires in Redis on its own: polling is all a client can do.
        await asyncio.sleep(OWNER_POLL_S)


async def run_client(spec: FailoverSpec, switch: KillSwitch, http: Any) -> ClientResult:
    """One interview: answer, get cut by the kill, resume on the new owner, answer on."""
    result = ClientResult(spec.index, spec.interview_id, cut_clip_s=spec.cut.speech_s)
    candidate = CandidateClient(spec.token)
    observer = ObserverClient(spec.staff, spec.interview_id)
    ready = False
    tag = f"interview {spec.index}"
    try:
        await candidate.connect(spec.owner_url)
        await candidate.join()
        await observer.connect_and_watch(spec.owner_url)
        prompt = (await candidate.call("consent", {"accepted": True}))["snapshot"]["prompt"]
        if prompt is None:
            raise RuntimeError("no first prompt after consent")
        since = await candidate.open_voice()
        for clip in spec.before:
            answered = str(prompt["prompt_id"])
            following, since = await candidate.answer(prompt, clip, since, spec)
            result.turns += 1
            if not await observer.saw_score(answered, STEP_TIMEOUT_S):
                result.problems.append(f"the observer saw no score for prompt {answered}")
            if following is None or following.get("kind") == "closing":
                raise RuntimeError("the interview closed before the answer to be cut")
            prompt = following
            progress(f"{tag}: answer {result.turns} done on A")
        note = f"failover benchmark: note before the kill ({spec.interview_id})"
        await observer.note(note)
        result.notes.append(note)

        # The answer the kill cuts: start it with the others, once the agent has asked.
        assert candidate.ear is not None and candidate.mic is not None
        await candidate.ear.wait_done(since, spec.think_s, STEP_TIMEOUT_S)
        result.cut_prompt_id = str(prompt["prompt_id"])
        ready = True
        await switch.ready()
        result.cut_speech_started = time.time()
        candidate.mic.play(spec.cut.pcm)
        await asyncio.wait_for(
            candidate.dropped.wait(), switch.after_s + spec.cut.speech_s + STEP_TIMEOUT_S
        )
        result.dropped_at = time.time()
        await switch.killed.wait()
        assert switch.killed_at is not None
        result.partials_before_kill = sum(
            1
            for arrived, e in candidate.events.items
            if e["type"] == "answer_partial"
            and e["payload"].get("prompt_id") == result.cut_prompt_id
            and arrived <= switch.killed_at
        )
        await candidate.close_voice()
        await candidate.disconnect()
        await observer.disconnect()

        # Resume: the new owner, the same prompt, a new peer.
        result.owner_polls = await poll_owner(
            http,
            spec.standby_url,
            spec.interview_id,
            spec.token,
            spec.standby_url,
            STEP_TIMEOUT_S,
        )
        await candidate.connect(spec.standby_url)
        snapshot = await candidate.join()
        result.rejoined_at = time.time()
        prompt = snapshot.get("prompt")
        result.resumed_prompt_id = None if prompt is None else str(prompt["prompt_id"])
        resume_s = result.rejoined_at - switch.killed_at
        progress(f"{tag}: resumed on B in {resume_s:.2f} s ({result.owner_polls} owner asks)")
        if result.resumed_prompt_id != result.cut_prompt_id:
            raise RuntimeError(
                f"resumed at prompt {result.resumed_prompt_id}, not at the cut "
                f"{result.cut_prompt_id}"
            )
        assert prompt is not None
        await observer.connect_and_watch(spec.standby_url)
        since = await candidate.open_voice()
        assert candidate.ear is not None
        onset = await candidate.ear.wait_onset_after(since, STEP_TIMEOUT_S)
        result.voice_back_at = onset
        if onset is None:
            result.problems.append("no agent voice on the new peer")

        # Say the cut answer again, whole, then go on.
        for clip in [spec.cut, *spec.after]:
            answered = str(prompt["prompt_id"])
            following, since = await candidate.answer(prompt, clip, since, spec)
            result.turns += 1
            if not await observer.saw_score(answered, STEP_TIMEOUT_S):
                result.problems.append(f"the observer saw no score for prompt {answered}")
            progress(f"{tag}: answer {result.turns} done on B")
            if following is None or following.get("kind") == "closing":
                break
            prompt = following
        note = f"failover benchmark: note after the resume ({spec.interview_id})"
        await observer.note(note)
        result.notes.append(note)
    except Exception as exc:  # reported in the JSON; the other interviews go on
        result.error = f"{type(exc).__name__}: {exc}"
        progress(f"{tag}: {result.error}")
        if not ready:
            switch.leave()
    finally:
        await candidate.hang_up()
        await observer.disconnect()
    result.received = merge_received(candidate.events, observer.events)
    return result


def merge_received(*streams: EventStream) -> list[tuple[float, dict[str, Any]]]:
    """Every numbered event the clients received, once per seq (its first arrival)."""
    first: dict[int, tuple[float, dict[str, Any]]] = {}
    for stream in streams:
        for arrived, event in stream.items:
            seq = event.get("seq")
            if isinstance(seq, int) and (seq not in first or arrived < first[seq][0]):
                plain: dict[str, Any] = {
                    k: event[k] for k in ("seq", "type", "payload", "at") if k in event
                }
                first[seq] = (arrived, plain)
    return [first[seq] for seq in sorted(first)]


async def run_clients(
    specs: list[FailoverSpec], node_a: EmbeddedServer, kill_after_s: float
) -> tuple[list[ClientResult], KillSwitch]:
    import aiohttp

    switch = KillSwitch(node_a, len(specs), kill_after_s)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        killer = asyncio.ensure_future(switch.run(ready_timeout_s=240))
        results = list(await asyncio.gather(*(run_client(s, switch, http) for s in specs)))
        if not killer.done():  # every client failed before the kill
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer
    return results, switch


# --- analysis -----------------------------------------------------------------------------


def durable_log(url: str, admin: str, interview_id: str) -> list[dict[str, Any]]:
    """Every stored event of the interview, in seq order, over REST."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = http_json(
            "GET", f"{url}/api/v1/interviews/{interview_id}/events?after={after}&limit=5000", admin
        )
        events += page["items"]
        if not page["items"]:
            return events
        after = int(page["last_seq"])


def lost_events(
    received: Sequence[tuple[float, dict[str, Any]]],
    stored: Sequence[dict[str, Any]],
    keep: Callable[[float], bool],
    types: Sequence[str] | None = KEY_TYPES,
) -> list[dict[str, Any]]:
    """Received events (arrival passing `keep`, of `types` or any) that the log does not hold
    under their seq with the same type and payload."""
    by_seq = {int(e["seq"]): e for e in stored}
    lost = []
    for arrived, event in received:
        if not keep(arrived) or (types is not None and event["type"] not in types):
            continue
        held = by_seq.get(int(event["seq"]))
        if held is None or (held["type"], held["payload"]) != (event["type"], event["payload"]):
            lost.append(
                {"seq": event["seq"], "type": event["type"], "stored": None if held else "absent"}
            )
    return lost


def duplicates(stored: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The durable log's duplicated events (see the module docstring)."""
    found: list[dict[str, Any]] = []
    seqs = Counter(int(e["seq"]) for e in stored)
    found += [{"kind": "seq", "seq": s, "rows": n} for s, n in seqs.items() if n > 1]
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for event in stored:
        payload = event["payload"]
        if event["type"] in ONE_PER_PROMPT:
            key = (event["type"], str(payload.get("prompt_id")))
        elif event["type"] == "note":
            key = ("note", json.dumps([payload.get("text"), payload.get("by")]))
        else:
            continue
        if key in first:
            found.append(
                {
                    "kind": event["type"],
                    "seq": event["seq"],
                    "first_seq": first[key]["seq"],
                    "prompt_id": payload.get("prompt_id"),
                    "same_payload": payload == first[key]["payload"],
                }
            )
        else:
            first[key] = event
    return found


def seconds(values: Sequence[float]) -> dict[str, float | None]:
    """p50 and max of `values` in seconds (percentiles() works in ms with one decimal)."""
    in_ms = percentiles([1000 * v for v in values], "p50", "max")
    return {k: None if v is None else round(v / 1000, 3) for k, v in in_ms.items()}


def summarize(
    results: list[ClientResult],
    logs: dict[str, list[dict[str, Any]]],
    switch: KillSwitch,
    resume_within_s: float,
) -> dict[str, Any]:
    killed_at = switch.killed_at
    resume: list[float] = []
    voice: list[float] = []
    kill_rows = []
    lost_before: list[dict[str, Any]] = []
    lost_after: list[dict[str, Any]] = []
    not_durable = 0
    dupes: list[dict[str, Any]] = []
    gaps = 0
    resumed = 0
    for r in results:
        stored = logs.get(r.interview_id, [])
        same = r.resumed_prompt_id is not None and r.resumed_prompt_id == r.cut_prompt_id
        if killed_at is not None and r.rejoined_at is not None and same:
            resume.append(r.rejoined_at - killed_at)
            resumed += resume[-1] <= resume_within_s
        if killed_at is not None and r.voice_back_at is not None:
            voice.append(r.voice_back_at - killed_at)
        offset = None
        if killed_at is not None and r.cut_speech_started is not None:
            offset = round(killed_at - r.cut_speech_started, 3)
        kill_rows.append(
            {
                "interview": r.index,
                "interview_id": r.interview_id,
                "prompt_id": r.cut_prompt_id,
                "offset_s": offset,
                "clip_s": round(r.cut_clip_s, 3),
                "mid_answer": offset is not None and 0 < offset < r.cut_clip_s,
                "partials_before_kill": r.partials_before_kill,
            }
        )
        if killed_at is not None:
            lost_before += [
                {"interview": r.index, **x}
                for x in lost_events(r.received, stored, lambda t: t <= killed_at)
            ]
            lost_after += [
                {"interview": r.index, **x}
                for x in lost_events(r.received, stored, lambda t: t > killed_at)
            ]
        not_durable += len(lost_events(r.received, stored, lambda t: True, None))
        dupes += [{"interview": r.index, **d} for d in duplicates(stored)]
        seqs = {int(e["seq"]) for e in stored}
        gaps += len(set(range(1, max(seqs, default=0) + 1)) - seqs)
    failed = [r for r in results if r.error]
    return {
        "interviews": len(results),
        "resume_s": seconds(resume),
        "resumed": resumed,
        "resumed_at_same_prompt": len(resume),
        "voice_resume_s": seconds(voice),
        "lost_final_segments": len(lost_before),
        "lost_after_resume": len(lost_after),
        "lost": lost_before + lost_after,
        "received_not_durable": not_durable,
        "duplicated_events": len(dupes),
        "duplicates": dupes,
        "seq_gaps": gaps,
        "checked_events": {
            "received_before_kill": sum(
                1
                for r in results
                for t, e in r.received
                if killed_at is not None and t <= killed_at and e["type"] in KEY_TYPES
            ),
            "received_after_kill": sum(
                1
                for r in results
                for t, e in r.received
                if killed_at is not None and t > killed_at and e["type"] in KEY_TYPES
            ),
            "durable": sum(len(v) for v in logs.values()),
        },
        "kill_at": {
            "node": "a",
            "pid": switch.pid,
            "time": None
            if killed_at is None
            else datetime.fromtimestamp(killed_at, UTC).isoformat(timespec="milliseconds"),
            "interviews": kill_rows,
        },
        "turns": sum(r.turns for r in results),
        "interviews_failed": len(failed),
        "errors": [f"interview {r.index}: {r.error}" for r in failed],
        "problems": [f"interview {r.index}: {p}" for r in results for p in r.problems],
    }


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interviews", type=int, default=3, help="concurrent interviews N")
    parser.add_argument("--json", type=Path, required=True, help="where to write the report")
    parser.add_argument("--database-url", help="shared Postgres (default: an embedded one)")
    parser.add_argument("--redis-url", help="shared Redis (default: an embedded one)")
    parser.add_argument("--audio", type=Path, help="folder of WAV files and manifest.csv")
    parser.add_argument(
        "--shortest",
        action="store_true",
        help="speak only the shortest answer long enough to be cut at --kill-after-s "
        "(synthesizes just that one): a quick smoke run",
    )
    parser.add_argument(
        "--lease-ttl", type=float, default=4.0, help="lease TTL of the nodes (s); 4 = the default"
    )
    parser.add_argument(
        "--kill-after-s", type=float, default=4.0, help="SIGKILL this far into the answers"
    )
    parser.add_argument(
        "--answers-before", type=int, default=1, help="full answers before the cut one"
    )
    parser.add_argument(
        "--answers-after", type=int, default=1, help="answers after the re-spoken one"
    )
    parser.add_argument("--resume-within-s", type=float, default=5.0)
    parser.add_argument("--think-s", type=float, default=0.5, help="pause before each answer")
    parser.add_argument("--final-timeout-s", type=float, default=30.0)
    parser.add_argument("--template", default="backend-python")
    parser.add_argument(
        "--server-source",
        type=Path,
        default=ROOT,
        help="run both nodes from this checkout (e.g. a clean copy of a commit)",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.interviews < 1 or args.answers_before < 1 or args.answers_after < 0:
        parser.error("need --interviews >= 1, --answers-before >= 1, --answers-after >= 0")
    return args


def load_clips(args: argparse.Namespace, workdir: Path) -> list[tuple[AnswerClip, PreparedClip]]:
    if args.audio:
        clips = read_manifest(args.audio)
    elif args.shortest:
        return [shortest_long_enough(args, workdir)]
    else:
        progress(f"synthesizing {len(DEFAULT_ANSWERS)} answers with piper")
        clips = synthesize_answers(workdir / "answers", DEFAULT_ANSWERS)
    prepared = [(c, prepare_clip(load_wav(c.file, SAMPLE_RATE), 0.0)) for c in clips]
    if args.shortest:
        prepared = [min(prepared, key=lambda p: p[1].speech_s)]
    return prepared


def shortest_long_enough(
    args: argparse.Namespace, workdir: Path
) -> tuple[AnswerClip, PreparedClip]:
    """The shortest default answer whose speech outlasts the kill point (synthesized one by one,
    shortest text first, so that a smoke run synthesizes one or two)."""
    for index, text in enumerate(sorted(DEFAULT_ANSWERS, key=len)):
        progress(f"synthesizing answer {index + 1} with piper")
        (clip,) = synthesize_answers(workdir / f"answer-{index}", [text])
        prepared = prepare_clip(load_wav(clip.file, SAMPLE_RATE), 0.0)
        if prepared.speech_s >= args.kill_after_s + 1.5:
            return clip, prepared
    raise SystemExit(f"no answer is longer than --kill-after-s + 1.5 s ({args.kill_after_s})")


def build_specs(
    args: argparse.Namespace,
    scheduled: list[tuple[str, str]],
    clips: list[tuple[AnswerClip, PreparedClip]],
    admin: str,
    a: EmbeddedServer,
    b: EmbeddedServer,
) -> list[FailoverSpec]:
    long_enough = [p for _, p in clips if p.speech_s >= args.kill_after_s + 1.5]
    if not long_enough:
        raise SystemExit(f"no answer is longer than --kill-after-s + 1.5 s ({args.kill_after_s})")
    specs = []
    k = args.answers_before + args.answers_after + 1
    for index, (interview_id, token) in enumerate(scheduled):
        order = [clips[(index * k + j) % len(clips)][1] for j in range(k)]
        cut = order[args.answers_before]
        if cut.speech_s < args.kill_after_s + 1.5:
            cut = long_enough[index % len(long_enough)]
        specs.append(
            FailoverSpec(
                index=index,
                interview_id=interview_id,
                token=token,
                staff=admin,
                owner_url=a.url,
                standby_url=b.url,
                before=order[: args.answers_before],
                cut=cut,
                after=order[args.answers_before + 1 :],
                think_s=args.think_s,
                final_timeout_s=args.final_timeout_s,
            )
        )
    return specs


def start_stores(
    args: argparse.Namespace, workdir: Path, stack: contextlib.ExitStack
) -> tuple[str, str]:
    """The Postgres and Redis URLs: given, or embedded ones started in `workdir`."""
    from codesage.storage.embedded import EmbeddedPostgres, EmbeddedRedis

    database_url, redis_url = args.database_url, args.redis_url
    if database_url is None:
        postgres = EmbeddedPostgres(workdir / "postgres")
        progress("starting an embedded Postgres")
        database_url = postgres.start()
        stack.callback(postgres.stop)
    if redis_url is None:
        redis = EmbeddedRedis(workdir / "redis")
        progress("starting an embedded Redis")
        redis_url = redis.start()
        stack.callback(redis.stop)
    return database_url, redis_url


def start_nodes(
    args: argparse.Namespace, workdir: Path, stores: tuple[str, str], secret: str
) -> list[EmbeddedServer]:
    """Nodes A and B on the shared stores, started side by side (migrations take a lock)."""
    database_url, redis_url = stores
    nodes = []
    for name in ("a", "b"):
        port = free_port()
        env = {
            "CODESAGE_DATABASE_URL": database_url,
            "CODESAGE_REDIS_URL": redis_url,
            "CODESAGE_JWT_SECRET": secret,
            "CODESAGE_VOICE_ENABLED": "true",
            "CODESAGE_INFERENCE_THREADS": "1",
            "CODESAGE_NODE_URL": f"http://127.0.0.1:{port}",
            "CODESAGE_NODE_ID": f"node-{name}",
            "CODESAGE_LEASE_TTL_SECONDS": str(args.lease_ttl),
            "CODESAGE_DRAIN_SECONDS": "5",
        }
        node = EmbeddedServer(port, workdir / name, args.server_source.resolve(), env=env)
        progress(f"starting node {name.upper()} on {node.url} (log: {node.log_path})")
        nodes.append(node)
    return nodes


def stop_nodes(nodes: Sequence[EmbeddedServer]) -> None:
    """SIGTERM what still runs (B drains in at most 5 s); SIGKILL what does not stop."""
    for node in nodes:
        with contextlib.suppress(Exception):
            node.stop()
        with contextlib.suppress(Exception):
            node.kill()


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    given = [url for url in (args.database_url, args.redis_url) if url]
    if args.audio:
        audio = str(args.audio)
    else:
        audio = (
            "piper (the shortest answer long enough)"
            if args.shortest
            else f"piper ({len(DEFAULT_ANSWERS)} answers)"
        )
    return {
        "stores": {0: "embedded", 1: "mixed", 2: "given"}[len(given)],
        "lease_ttl_s": args.lease_ttl,
        "kill_after_s": args.kill_after_s,
        "answers_before": args.answers_before,
        "answers_after": args.answers_after,
        "resume_within_s": args.resume_within_s,
        "audio": audio,
        "template": args.template,
        "server_source": str(args.server_source.resolve()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.time()
    host = machine()
    workdir = Path(tempfile.mkdtemp(prefix="codesage-failover-"))
    workdir.chmod(0o755)  # as root, the embedded Postgres runs as its own user and needs a path
    try:
        with contextlib.ExitStack() as stack:
            clips = load_clips(args, workdir)
            stores = start_stores(args, workdir, stack)
            secret = secrets.token_urlsafe(48)
            nodes = start_nodes(args, workdir, stores, secret)
            stack.callback(stop_nodes, nodes)
            with ThreadPoolExecutor(2) as pool:
                for started in [pool.submit(n.start) for n in nodes]:
                    started.result()
            a, b = nodes
            from codesage.signaling.auth import JwtTokens, Role

            admin = JwtTokens(secret).issue(Role.ADMIN)
            scheduled = schedule_interviews(a.url, admin, args.interviews, args.template)
            for interview_id, _ in scheduled:  # A claims them all
                owner = http_json("GET", f"{a.url}/api/v1/interviews/{interview_id}/owner", admin)
                if owner["url"] != a.url:
                    raise SystemExit(f"interview {interview_id} is owned by {owner}, not A")
            specs = build_specs(args, scheduled, clips, admin, a, b)
            progress(
                f"running {args.interviews} interviews on A; "
                f"SIGKILL {args.kill_after_s} s into an answer"
            )
            results, switch = asyncio.run(run_clients(specs, a, args.kill_after_s))
            ids = [interview_id for interview_id, _ in scheduled]
            end_interviews(b.url, admin, ids)
            logs = {i: durable_log(b.url, admin, i) for i in ids}
        report = summarize(results, logs, switch, args.resume_within_s)
        report.update(
            {
                "elapsed_s": round(time.time() - began, 1),
                "commit": git_commit(),
                "machine": {
                    **{k: v for k, v in host.items() if k != "load_average"},
                    "load_average_at_start": host["load_average"],
                    "load_average_at_end": machine()["load_average"],
                },
                "settings": run_settings(args),
            }
        )
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        progress(
            f"done in {report['elapsed_s']:.0f} s: resume p50/max {report['resume_s']['p50']}/"
            f"{report['resume_s']['max']} s, resumed {report['resumed']}/{args.interviews}, "
            f"lost {report['lost_final_segments']}, duplicated {report['duplicated_events']} "
            f"-> {args.json}"
        )
        broken = (
            report["interviews_failed"]
            or report["resumed"] < args.interviews
            or report["lost_final_segments"]
            or report["lost_after_resume"]
            or report["duplicated_events"]
            or report["seq_gaps"]
        )
        return 1 if broken else 0
    finally:
        if args.keep_data:
            progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
