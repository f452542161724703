"""Soak: N spoken interviews kept running against one CODESAGE node for M minutes.

Usage:
    python benchmarks/soak.py --interviews N --minutes M --json OUT.json [interviews.py options]

It answers the issue's "memory per interview <= 25 MB and flat over a 20-minute soak". The
pieces are those of `benchmarks/interviews.py` (its options are accepted too): the same
embedded node (unless `--url`), warm-up interview, answers (piper or `--audio`), client
(`run_interview`: Socket.IO, a real aiortc peer speaking in real time), resource sampler and
summary. What differs is the schedule:

- N slots, spread over the client processes (one per core by default). Each slot loops:
  schedule one new interview over REST, run it (`--answers-per-interview` answers), end it
  over REST so the node can release it as in real use, and start the next at once, until the
  deadline (`--minutes` after the soak starts). An interview in flight at the deadline
  finishes (bounded by its own timeouts). So N interviews are always live and the slots drift
  apart instead of starting and ending together in waves.
- The node's memory (RSS and PSS of its processes: the node, its children and the embedded
  Postgres) is sampled every second, as interviews.py does; every `--sample-s` seconds the
  latest sample and the number of interviews completed so far go into `memory_timeline`, and
  a progress line to stderr.
- Flatness is judged inside the soak window [0, M minutes] only (the drain after the deadline,
  when fewer interviews are live, is in the timeline but not in these figures): the mean RSS
  of the first and of the last quarter of the window, and the least-squares slope of RSS over
  its second half (after the start-up and the first interviews' allocations), in MB per 10
  minutes; the same for PSS. `rss_mb_per_interview` is (peak RSS over the whole run - RSS
  before it, after the warm-up) / N, as in interviews.py.

The latency, caption and accuracy figures are interviews.py's `summarize` over every turn of
the soak. The exit code is 1 when an interview failed or none completed, else 0. Ctrl-C or
SIGTERM ends the client processes, stops the node and removes the temporary folder, with no
report (the client processes' records are lost with them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/soak.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.interviews import (  # noqa: E402
    AnswerClip,
    EmbeddedServer,
    InterviewSpec,
    ResourceSampler,
    _init_worker,
    _report,
    _round,
    _watch_loop,
    clips_from,
    end_interviews,
    git_commit,
    interview_seed,
    machine,
    machine_span,
    node_figures,
    parse_args,
    prepare_target,
    progress,
    resource_figures,
    run_interview,
    run_settings,
    schedule_interviews,
    scrape_histograms,
    spoken_turn_log,
    summarize,
)

SCHEDULE_RETRY_S = 5.0  # after a failed REST call, so that a sick node is not hammered


# --- the client processes -----------------------------------------------------------------


@dataclass(frozen=True)
class SoakPlan:
    """What every client process needs to run its slots (sent to the pool, so picklable)."""

    url: str
    admin: str
    template: str
    clips: list[AnswerClip]
    slots: int
    answers_per_interview: int
    deadline: float
    seed: int
    think_s: tuple[float, float]
    pause_s: tuple[float, float]
    final_timeout_s: float
    prompt_timeout_s: float
    interview_timeout_s: float

    def spec(self, index: int, token: str, start_at: float) -> InterviewSpec:
        """The client spec of the slot's next interview (`index` is unique over the soak)."""
        k = self.answers_per_interview
        # The same rotation over the clips as interviews.py, so that answers vary per interview.
        answers = clips_from(self.clips, index * k, k)
        return InterviewSpec(
            index=index,
            url=self.url,
            token=token,
            answers=answers,
            seed=interview_seed(self.seed, index),
            think_s=self.think_s,
            pause_s=self.pause_s,
            final_timeout_s=self.final_timeout_s,
            prompt_timeout_s=self.prompt_timeout_s,
            interview_timeout_s=self.interview_timeout_s,
            start_at=start_at,
        )


@dataclass(frozen=True)
class Slot:
    """One of the N places that runs interview after interview until the deadline."""

    number: int
    first_start_at: float


def _failed(index: int, error: str) -> dict[str, Any]:
    """A result, shaped like run_interview's, for an interview that could not run at all."""
    _report("error", index, error)
    _report("done", index, error)
    return {"index": index, "error": error, "agent_frames": 0, "turns": []}


async def run_slot(plan: SoakPlan, slot: Slot, stop: Any) -> list[dict[str, Any]]:
    """Schedule, run and end one interview after another until the deadline (or `stop`)."""
    results: list[dict[str, Any]] = []
    start_at = slot.first_start_at
    round_number = 0
    while time.time() < plan.deadline and not stop.is_set():
        # Interview indices interleave the slots, so they are unique without coordination.
        index = slot.number + plan.slots * round_number
        round_number += 1
        try:
            [(interview_id, token)] = await asyncio.to_thread(
                schedule_interviews, plan.url, plan.admin, 1, plan.template
            )
        except (SystemExit, Exception) as exc:  # http_json reports HTTP errors as SystemExit
            results.append(_failed(index, f"scheduling failed: {exc}"))
            await asyncio.sleep(SCHEDULE_RETRY_S)
            continue
        try:
            result = await run_interview(plan.spec(index, token, start_at))
        except Exception as exc:  # e.g. an unreadable clip: this slot goes on with the next
            result = _failed(index, f"{type(exc).__name__}: {exc}")
        result["interview_id"] = interview_id
        results.append(result)
        # Real use ends every interview; the node may then release what it held for it.
        await asyncio.to_thread(end_interviews, plan.url, plan.admin, [interview_id])
        start_at = 0.0  # the next interview of this slot starts at once
    return results


def run_slots(
    plan: SoakPlan, slots: list[Slot], stop: Any
) -> tuple[list[dict[str, Any]], list[float]]:
    """A pool worker: run several slots concurrently on one event loop; the results of every
    interview they ran and the loop's lags (seconds, every 100 ms: a starved client delays
    what it measures)."""

    async def main() -> tuple[list[dict[str, Any]], list[float]]:
        lags: list[float] = []
        watcher = asyncio.ensure_future(_watch_loop(lags))
        found = await asyncio.gather(*(run_slot(plan, slot, stop) for slot in slots))
        watcher.cancel()
        return [result for results in found for result in results], lags

    return asyncio.run(main())


# --- the harness process ------------------------------------------------------------------


class TimelineSampler(ResourceSampler):
    """interviews.py's sampler (CPU and peak memory every second) that also keeps its latest
    memory sample, so the timeline costs no extra walk of /proc/*/smaps, and the node process's
    own share: Postgres's shared buffers fill as the database grows, which is not the node's."""

    def __init__(self, server_pid: int | None, data_dir: Path | None) -> None:
        super().__init__(server_pid, data_dir)
        self._node_pid = server_pid
        self.latest: tuple[float | None, float | None] = (None, None)
        self.latest_node: tuple[float | None, float | None] = (None, None)

    def memory(self) -> tuple[float | None, float | None]:
        """(RSS, PSS) of the server's processes in MB, remembered as the latest sample."""
        self.latest = super().memory()
        self.latest_node = node_memory(self._node_pid)
        return self.latest


def node_memory(pid: int | None) -> tuple[float | None, float | None]:
    """(RSS, PSS) in MB of the node's own process; (None, None) without one."""
    import psutil

    if pid is None:
        return None, None
    try:
        info = psutil.Process(pid).memory_full_info()
    except psutil.Error:
        return None, None
    return info.rss / 2**20, getattr(info, "pss", info.rss) / 2**20


class SoakProgress:
    """Counts the clients' progress messages: interviews completed and failed, turns."""

    def __init__(self, messages: Any) -> None:
        self.completed = self.failed = self.turns = 0
        self._messages = messages
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
            except (EOFError, OSError):  # the manager has shut down
                return
            if kind == "turn":
                self.turns += 1
            elif kind == "error":
                progress(f"  interview {index}: {detail}")
            elif kind == "done" and detail:
                self.failed += 1
            elif kind == "done":
                self.completed += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def window_mean(timeline: list[dict[str, Any]], key: str, start: float, end: float) -> float | None:
    """Mean of `key` over the samples with start <= t_s < end; None without samples."""
    values = [s[key] for s in timeline if start <= s["t_s"] < end and s[key] is not None]
    return _round(float(np.mean(values))) if values else None


def slope_per_10min(
    timeline: list[dict[str, Any]], key: str, start: float, end: float
) -> float | None:
    """Least-squares slope of `key` over start <= t_s <= end, in MB per 10 minutes."""
    points = [(s["t_s"], s[key]) for s in timeline if start <= s["t_s"] <= end]
    points = [(t, v) for t, v in points if v is not None]
    if len(points) < 2 or points[0][0] == points[-1][0]:
        return None
    slope = np.polyfit([t for t, _ in points], [v for _, v in points], 1)[0]
    return round(600 * float(slope), 2)


def flatness(timeline: list[dict[str, Any]], window_s: float) -> dict[str, float | None]:
    """First- and last-quarter means and the second half's slope, for RSS and PSS of the
    server's processes and of the node process alone."""
    figures: dict[str, float | None] = {}
    for name in ("rss", "pss", "node_rss", "node_pss"):
        key = f"{name}_mb"
        figures[f"{key}_first_quarter_mean"] = window_mean(timeline, key, 0.0, window_s / 4)
        # The last sample may fall exactly on the deadline: include it.
        figures[f"{key}_last_quarter_mean"] = window_mean(
            timeline, key, 3 * window_s / 4, window_s + 1e-6
        )
        figures[f"{key}_slope_per_10min"] = slope_per_10min(timeline, key, window_s / 2, window_s)
    return figures


@dataclass
class SoakOutcome:
    """What the soak loop gathered."""

    results: list[dict[str, Any]]
    client_lags: list[float]
    timeline: list[dict[str, Any]]
    window_s: float  # the soak window: up to the deadline, or to an early stop
    elapsed_s: float  # up to the end of the last interview


def run_soak(
    args: argparse.Namespace,
    soak: argparse.Namespace,
    url: str,
    admin: str,
    clips: list[AnswerClip],
    sampler: TimelineSampler,
    server: EmbeddedServer | None,
) -> SoakOutcome:
    """Run the N slots in the client pool until the deadline, sampling the node's memory."""
    count = args.interviews
    processes = max(1, min(count, args.client_processes or os.cpu_count() or 1))
    t0 = time.time()
    deadline = t0 + 60 * soak.minutes
    first = t0 + args.start_delay_s  # time for the client processes to start
    plan = SoakPlan(
        url=url,
        admin=admin,
        template=args.template,
        clips=clips,
        slots=count,
        answers_per_interview=args.answers_per_interview,
        deadline=deadline,
        seed=args.seed,
        think_s=(args.think_min_s, args.think_max_s),
        pause_s=(args.pause_min_s, args.pause_max_s),
        final_timeout_s=args.final_timeout_s,
        prompt_timeout_s=args.prompt_timeout_s,
        interview_timeout_s=args.interview_timeout_s,
    )
    slots = [
        Slot(n, first + (args.ramp_s * n / (count - 1) if count > 1 else 0.0)) for n in range(count)
    ]
    timeline: list[dict[str, Any]] = []
    stopped_at: float | None = None
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        messages = manager.Queue()
        stop = manager.Event()
        counter = SoakProgress(messages)
        counter.start()
        pool = ProcessPoolExecutor(
            processes, mp_context=context, initializer=_init_worker, initargs=(messages,)
        )
        try:
            futures: list[Future[tuple[list[dict[str, Any]], list[float]]]] = [
                pool.submit(run_slots, plan, slots[i::processes], stop) for i in range(processes)
            ]

            def sample() -> None:
                now = time.time()
                rss, pss = sampler.latest
                node_rss, node_pss = sampler.latest_node
                timeline.append(
                    {
                        "t_s": round(now - t0, 1),
                        "rss_mb": _round(rss),
                        "pss_mb": _round(pss),
                        "node_rss_mb": _round(node_rss),
                        "node_pss_mb": _round(node_pss),
                        "completed": counter.completed,
                    }
                )
                phase = (
                    f"ends in {deadline - now:.0f} s"
                    if now < deadline and not stop.is_set()
                    else "letting the last interviews finish"
                )
                progress(
                    f"[{now - t0:7.1f} s] interviews completed {counter.completed}, failed "
                    f"{counter.failed}, turns {counter.turns}; RSS {_round(rss)} MB, PSS "
                    f"{_round(pss)} MB (node alone {_round(node_pss)}); {phase}"
                )

            pending = set(futures)
            next_sample = t0 + soak.sample_s
            while pending:
                _, pending = wait(
                    pending,
                    timeout=max(0.0, next_sample - time.time()),
                    return_when=FIRST_EXCEPTION,
                )
                if any(f.done() and f.exception() for f in futures):
                    break  # a client process crashed: its result() below raises
                if (
                    server is not None
                    and server.process is not None
                    and server.process.poll() is not None
                    and not stop.is_set()
                ):
                    progress(f"the node exited (see {server.log_path}): stopping the soak")
                    stop.set()
                    stopped_at = time.time()
                if time.time() >= next_sample:
                    sample()
                    next_sample += soak.sample_s
            sample()  # the final count, after the last interview
            outcomes = [future.result() for future in futures]
            pool.shutdown()
        except BaseException:
            # Ctrl-C or a crashed client process: the client processes (which ignore SIGINT)
            # are ended rather than waited for until the deadline. They and the manager are
            # this process's only multiprocessing children.
            with contextlib.suppress(Exception):
                stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():
                child.terminate()
            raise
        finally:
            counter.stop()
    ended = time.time()
    window_end = min(deadline, stopped_at or deadline)
    return SoakOutcome(
        results=sorted((r for found, _ in outcomes for r in found), key=lambda r: r["index"]),
        client_lags=[lag for _, lags in outcomes for lag in lags],
        timeline=timeline,
        window_s=window_end - t0,
        elapsed_s=ended - t0,
    )


def parse_soak_args(argv: list[str]) -> tuple[argparse.Namespace, argparse.Namespace]:
    """The soak's own options, and interviews.py's options parsed by interviews.py."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        allow_abbrev=False,  # the rest goes to interviews.py's parser: no prefix guessing here
        epilog=(
            "Every option of benchmarks/interviews.py is accepted too (see its --help): "
            "--interviews (required), --json (required), --audio, --url, --jwt-secret, "
            "--server-pid, --answers-per-interview, --template, --client-processes, "
            "--no-warmup, --no-offline-wer, --think-*-s, --pause-*-s, --ramp-s, "
            "--start-delay-s, --*-timeout-s, --seed, --keep-data, --include-turns, --port, "
            "--server-source."
        ),
    )
    parser.add_argument(
        "--minutes", type=float, default=20.0, help="length of the soak (default 20)"
    )
    parser.add_argument(
        "--sample-s",
        type=float,
        default=5.0,
        help="seconds between timeline samples and progress lines (default 5)",
    )
    soak, rest = parser.parse_known_args(argv)
    if soak.minutes <= 0 or soak.sample_s <= 0:
        parser.error("--minutes and --sample-s must be positive")
    return soak, parse_args(rest)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and write its report; 1 when an interview failed or none completed."""
    soak, args = parse_soak_args(sys.argv[1:] if argv is None else list(argv))
    # A soak is long and often stopped by a supervisor: SIGTERM cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.time()
    host = machine()
    workdir = Path(tempfile.mkdtemp(prefix="codesage-soak-"))
    workdir.chmod(0o755)  # as root, the embedded Postgres runs as its own user and needs a path
    server: EmbeddedServer | None = None
    try:
        target = prepare_target(args, workdir)
        server, url = target.server, target.url
        sampler = TimelineSampler(target.server_pid, target.data_dir)
        rss_base, pss_base = sampler.memory()
        histograms_before = scrape_histograms(url)
        sampler.start()
        progress(
            f"soak: {args.interviews} interviews at a time x {args.answers_per_interview} "
            f"answers each, for {soak.minutes:g} min"
        )
        soak_began = time.time()
        try:
            outcome = run_soak(args, soak, url, target.admin, target.clips, sampler, server)
        finally:
            sampler.stop()
        histograms_after = scrape_histograms(url)
        logged = spoken_turn_log(server.log_path, soak_began) if server is not None else None
        report = summarize(
            outcome.results,
            args.interviews,
            outcome.client_lags,
            target.offline_texts,
            word_ends=target.word_ends,
            with_transcripts=True,  # pooled_wer.py takes soaks too
        )
        report.update(
            {
                "minutes": soak.minutes,
                "interviews_completed": len(outcome.results) - report["interviews_failed"],
                **resource_figures(sampler, rss_base, pss_base, args.interviews),
                **flatness(outcome.timeline, outcome.window_s),
                "memory_timeline": outcome.timeline,
                **node_figures(histograms_before, histograms_after, logged),
                "soak_s": round(outcome.window_s, 1),
                "elapsed_s": round(outcome.elapsed_s, 1),
                "commit": git_commit(),
                "machine": {**machine_span(host), "stt_decode_rtf": target.decode_rtf},
                "settings": {
                    **run_settings(args, target),
                    "seed": args.seed,
                    "sample_s": soak.sample_s,
                },
            }
        )
        if args.include_turns:
            report["raw"] = outcome.results
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        progress(
            f"done in {time.time() - began:.0f} s: {report['interviews_completed']} interviews "
            f"completed, {report['interviews_failed']} failed; RSS per interview "
            f"{report['rss_mb_per_interview']} MB, RSS slope over the second half "
            f"{report['rss_mb_slope_per_10min']} MB/10 min -> {args.json}"
        )
        return 1 if report["interviews_failed"] or not report["interviews_completed"] else 0
    finally:
        if server is not None:
            server.stop()
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            progress(f"kept {workdir}")


if __name__ == "__main__":
    sys.exit(main())
