"""Memory per interview, phase by phase: what one live spoken interview holds in a node.

Usage:
    python benchmarks/memory.py --interviews N --json OUT.json [interviews.py options]

interviews.py's `rss_mb_per_interview` is (peak - base) / N over a whole run: it mixes what
each interview holds with what the shared speech pool holds while it decodes, and cannot say
which. Here N interviews (4 by default: the node's voice admission on 2 cores) move through
an interview's phases in lockstep, and the node's memory is read once all N have reached each
phase and the node has settled:

- `joined`: each candidate has joined over Socket.IO and consented (an actor per interview);
- `connected`: each has a WebRTC peer up and has heard the first question spoken;
- `answered`: each has spoken one answer, got its final transcript and heard the next question;
- `hung_up`: each peer is closed (`rtc_hangup`); `left`: each socket is disconnected;
- `ended`: each interview is ended over REST.

Each reading is the median of 5 samples (`--samples`) of the node process's own PSS and RSS,
0.5 s apart, 2 s (`--settle-s`) after the phase was reached; `*_per_interview` is (reading -
the reading before any client joined) / N. `answered` is what a live interview costs; after
`hung_up`, what the node keeps.
The pieces are interviews.py's (embedded node unless `--url`, warm-up, answers, client parts);
its options are accepted. The clients run in this process, so their latency is not measured
here, and N is bounded by this one process: on a slow 2-core box at N = 8 it answered the
node's ICE consent checks too late and the peers were dropped (the error says which phase).
Exit code 1 when a client failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/memory.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.interviews import (  # noqa: E402
    SAMPLE_RATE,
    AgentEar,
    EventStream,
    Microphone,
    _round,
    connect_peer,
    end_interviews,
    git_commit,
    load_wav,
    machine,
    machine_span,
    parse_args,
    prepare_clip,
    prepare_target,
    progress,
    schedule_interviews,
)
from benchmarks.soak import node_memory  # noqa: E402

PHASES = ("joined", "connected", "answered", "hung_up", "left")
SAMPLE_INTERVAL_S = 0.5
QUIET_S = 0.5  # the agent has finished speaking after this long without a loud frame


@dataclass
class PhaseGate:
    """Holds every client at the end of each phase until the node's memory has been read."""

    reached: list[int] = field(default_factory=lambda: [0] * len(PHASES))
    released: list[asyncio.Event] = field(default_factory=lambda: [asyncio.Event() for _ in PHASES])

    async def arrive(self, phase: int) -> None:
        self.reached[phase] += 1
        await self.released[phase].wait()


async def run_client(
    url: str, token: str, pcm: np.ndarray, gate: PhaseGate, timeout_s: float
) -> None:
    """One candidate through the phases: join, connect and listen, answer, hang up, leave."""
    import socketio
    from aiortc import RTCPeerConnection

    events = EventStream()
    client = socketio.AsyncClient(reconnection=False)
    client.on("event", events.add, namespace="/candidate")
    peer = RTCPeerConnection()
    ear = AgentEar()
    try:
        await client.connect(
            url, transports=["websocket"], namespaces=["/candidate"], auth={"token": token}
        )
        for name, body in (("join", {}), ("consent", {"accepted": True})):
            ack = await client.call(name, body, namespace="/candidate", timeout=timeout_s)
            if not ack.get("ok"):
                raise RuntimeError(f"{name} refused: {ack}")
        prompt = (ack.get("snapshot") or {}).get("prompt")
        if prompt is None:
            raise RuntimeError("no first question after consent")
        await gate.arrive(0)

        mic = Microphone.create()
        since = await connect_peer(client, peer, mic, ear)
        if await ear.wait_done(since, QUIET_S, timeout_s) is None:
            raise RuntimeError("the first question was not heard")
        await gate.arrive(1)

        cursor = len(events.items)
        _, speech_end = await mic.play(pcm)
        prompt_id = prompt["prompt_id"]
        final = await events.wait_for(
            lambda e: e["type"] == "answer_final" and e["payload"].get("prompt_id") == prompt_id,
            cursor,
            timeout_s,
        )
        if final is None:
            raise RuntimeError("no final transcript of the answer")
        if await ear.wait_onset_after(speech_end, timeout_s) is None:
            since_final = [e["type"] for _, e in events.items[final[0] + 1 :]]
            raise RuntimeError(
                f"the next question was not heard; events after the final: {since_final}"
            )
        await ear.wait_done(speech_end, QUIET_S, timeout_s)
        await gate.arrive(2)

        await client.call("rtc_hangup", {}, namespace="/candidate", timeout=timeout_s)
        await peer.close()
        await gate.arrive(3)
        await client.disconnect()
        await gate.arrive(4)
    finally:
        await peer.close()
        if ear.task is not None:
            ear.task.cancel()
        with contextlib.suppress(Exception):
            await client.disconnect()


@dataclass(frozen=True)
class MemoryReader:
    """Reads the node process's PSS and RSS in MB once it has settled: `settle_s` after being
    asked, the median of `samples` samples 0.5 s apart (blocking: call it from a thread)."""

    pid: int
    settle_s: float
    samples: int

    def read(self) -> dict[str, float | None]:
        time.sleep(self.settle_s)
        pss, rss = [], []
        for _ in range(self.samples):
            sample_rss, sample_pss = node_memory(self.pid)
            if sample_rss is not None and sample_pss is not None:
                rss.append(sample_rss)
                pss.append(sample_pss)
            time.sleep(SAMPLE_INTERVAL_S)
        return {
            "pss_mb": _round(statistics.median(pss)) if pss else None,
            "rss_mb": _round(statistics.median(rss)) if rss else None,
        }


def per_interview(
    reading: dict[str, float | None], base: dict[str, float | None], n: int
) -> dict[str, float | None]:
    """The reading with each figure's growth over `base`, per interview."""
    figures = dict(reading)
    for name in ("pss_mb", "rss_mb"):
        value, before = reading[name], base[name]
        figures[f"{name}_per_interview"] = (
            None if value is None or before is None else _round((value - before) / n)
        )
    return figures


async def run_phases(
    url: str, tokens: list[str], pcm: np.ndarray, reader: MemoryReader, timeout_s: float
) -> tuple[dict[str, dict[str, float | None]], dict[str, float | None]]:
    """Move every client through the phases; the node's memory before and at each phase."""
    base = await asyncio.to_thread(reader.read)
    gate = PhaseGate()
    clients = [asyncio.ensure_future(run_client(url, t, pcm, gate, timeout_s)) for t in tokens]
    readings: dict[str, dict[str, float | None]] = {}
    try:
        for index, phase in enumerate(PHASES):
            while gate.reached[index] < len(tokens):
                failed = next((c for c in clients if c.done() and c.exception()), None)
                if failed is not None:
                    raise RuntimeError(f"a client failed before {phase}: {failed.exception()}")
                await asyncio.sleep(0.1)
            readings[phase] = per_interview(await asyncio.to_thread(reader.read), base, len(tokens))
            progress(f"{phase}: {readings[phase]}")
            gate.released[index].set()
        await asyncio.gather(*clients)
    finally:
        for client in clients:
            client.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
    return readings, base


def parse_memory_args(argv: list[str]) -> tuple[argparse.Namespace, argparse.Namespace]:
    """Its own options, and interviews.py's (--interviews 4 and --no-offline-wer by default)."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        allow_abbrev=False,  # the rest goes to interviews.py's parser: no prefix guessing here
        epilog="Every option of benchmarks/interviews.py is accepted too (see its --help).",
    )
    parser.add_argument(
        "--settle-s", type=float, default=2.0, help="wait before each reading (default 2)"
    )
    parser.add_argument(
        "--samples", type=int, default=5, help="samples per reading, 0.5 s apart (default 5)"
    )
    own, rest = parser.parse_known_args(argv)
    if own.settle_s < 0 or own.samples < 1:
        parser.error("--settle-s must be >= 0 and --samples >= 1")
    defaults = ["--no-offline-wer"]
    if not any(a == "--interviews" or a.startswith("--interviews=") for a in rest):
        defaults += ["--interviews", "4"]
    return own, parse_args([*defaults, *rest])


def main(argv: list[str] | None = None) -> int:
    """Run the phases and write the report; 1 when a client failed."""
    own, args = parse_memory_args(sys.argv[1:] if argv is None else list(argv))
    host = machine()
    workdir = Path(tempfile.mkdtemp(prefix="codesage-memory-"))
    workdir.chmod(0o755)  # as root, the embedded Postgres runs as its own user and needs a path
    target = None
    try:
        target = prepare_target(args, workdir)
        if target.server_pid is None:
            raise SystemExit(
                "memory.py needs the node's process: use the embedded node or --server-pid"
            )
        reader = MemoryReader(target.server_pid, own.settle_s, own.samples)
        clip = target.clips[0]
        pcm = prepare_clip(load_wav(clip.file, SAMPLE_RATE), pause_s=0.5).pcm
        scheduled = schedule_interviews(target.url, target.admin, args.interviews, args.template)
        progress(f"{args.interviews} interviews through {', '.join(PHASES)}, ended")
        error = None
        try:
            readings, base = asyncio.run(
                run_phases(
                    target.url,
                    [token for _, token in scheduled],
                    pcm,
                    reader,
                    args.prompt_timeout_s,
                )
            )
        except RuntimeError as exc:
            error, readings, base = str(exc), {}, {}
        end_interviews(target.url, target.admin, [i for i, _ in scheduled])
        if not error:
            readings["ended"] = per_interview(reader.read(), base, args.interviews)
            progress(f"ended: {readings['ended']}")
        report = {
            "interviews": args.interviews,
            "error": error,
            "base": base,
            "phases": readings,
            "live_pss_mb_per_interview": readings.get("answered", {}).get("pss_mb_per_interview"),
            "kept_pss_mb_per_interview": readings.get("ended", {}).get("pss_mb_per_interview"),
            "commit": git_commit(),
            "machine": machine_span(host),
            "settings": {
                "answer_s": round(len(pcm) / SAMPLE_RATE, 2),
                "settle_s": own.settle_s,
                "samples": own.samples,
                "server": args.url or f"embedded, from {args.server_source.resolve()}",
                "template": args.template,
                "warmup": args.warmup,
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        progress(
            f"live interview: {report['live_pss_mb_per_interview']} MB PSS each; kept after the "
            f"end: {report['kept_pss_mb_per_interview']} MB each -> {args.json}"
        )
        return 1 if error else 0
    finally:
        if target is not None and target.server is not None:
            target.server.stop()
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
