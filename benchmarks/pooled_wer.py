"""Live against offline word error rate, pooled over several interviews.py reports, per N.

One run of interviews.py measures WER on a few hundred words at most, where one word moves it
by half a point: too coarse for "within 10 % of offline". This pools the `transcripts` of
several runs (each turn's reference, live final and offline text of the same clip), counts
the word errors of both per turn, and gives per N: the pooled WERs, their ratio, and a 95 %
interval of that ratio by a paired bootstrap over turns (taken as independent, so that it
covers both how the clips differ and how a replay of one differs). `--by-voice` adds the same
figures per voice of clips spoken by `interviews.py synthesize --voices`.

The offline text is of each whole file; `--played [DIR]` replaces it with the same model's
text of exactly the audio each turn played (trimmed, with its inserted pause, at 48 kHz),
rebuilt from the report's seed and its `--audio` folder (or DIR): that leaves only what the
live path does.

    python benchmarks/pooled_wer.py RUN.json [RUN.json ...] [--by-voice] [--played [DIR]]
        [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/pooled_wer.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.interviews import (  # noqa: E402
    clips_from,
    english_normalizer,
    interview_seed,
    played_answers,
    read_manifest,
    voice_of,
)

BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class TurnErrors:
    """The word errors of one turn's live final and of the offline text of the same clip."""

    words: int
    live: int
    offline: int


@dataclass(frozen=True)
class PooledWer:
    """Pooled live and offline WER at one N, with a 95 % interval of their ratio."""

    interviews: int
    runs: int
    turns: int
    reference_words: int
    wer: float
    wer_offline: float
    ratio: float | None
    ratio_95: tuple[float, float] | None
    voice: str | None = None  # None: every voice


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions, deletions and insertions of `hypothesis` against `reference`."""
    import jiwer

    out = jiwer.process_words(reference, hypothesis)
    return int(out.substitutions + out.deletions + out.insertions)


def turn_errors(turn: dict[str, Any], normalize: Callable[[str], str]) -> TurnErrors | None:
    """A turn's errors, or None if its final was lost or its reference is empty."""
    reference = normalize(turn["reference"])
    if turn.get("lost") or turn.get("final") is None or not reference.strip():
        return None
    return TurnErrors(
        len(reference.split()),
        word_errors(reference, normalize(turn["final"])),
        word_errors(reference, normalize(turn["offline"])),
    )


def ratio_interval(turns: Sequence[TurnErrors], rng: random.Random) -> tuple[float, float] | None:
    """2.5th and 97.5th percentiles of live / offline errors over turns drawn with replacement
    (the same turns for both: the comparison is paired); None when the upper one is unbounded
    (too few offline errors to compare with)."""
    ratios = []
    for _ in range(BOOTSTRAP_SAMPLES):
        drawn = rng.choices(turns, k=len(turns))
        live, offline = sum(t.live for t in drawn), sum(t.offline for t in drawn)
        ratios.append(live / offline if offline else (math.inf if live else 1.0))
    ratios.sort()
    low, high = (ratios[round(q * (len(ratios) - 1))] for q in (0.025, 0.975))
    return None if math.isinf(high) else (round(low, 2), round(high, 2))


def unusable(report: dict[str, Any]) -> str | None:
    """Why a report cannot be pooled, or None."""
    if "transcripts" not in report:
        return "it has no transcripts (it predates them): run it again"
    if any(turn.get("offline") is None for turn in report["transcripts"]):
        return "it has no offline texts (run without --no-offline-wer)"
    return None


def with_played_offline(
    reports: Sequence[dict[str, Any]], audio: Path | None = None
) -> list[dict[str, Any]]:
    """The reports with each turn's `offline` text taken from the audio it played, read from
    `audio` or else from each report's own `settings.audio` folder (see the module's
    docstring); refuses reports that do not say how they chose and paused answers."""
    import numpy as np
    from scipy.signal import resample_poly

    from codesage.agents.speech_to_text import WhisperSpeechToText
    from codesage.config.settings import load_settings

    stt = WhisperSpeechToText.load("tiny.en", load_settings().data_dir)
    rebuilt = []
    for position, report in enumerate(reports, start=1):
        settings = report.get("settings", {})
        if "first_answer" not in settings or "seed" not in settings:
            raise SystemExit("a report without settings.first_answer and seed: run it again")
        folder = audio or Path(settings.get("audio", ""))
        if not (folder / "manifest.csv").exists():
            raise SystemExit(f"report {position}: no answers in {folder}: pass --played DIR")
        clips = read_manifest(folder)
        print(f"transcribing what report {position} played", file=sys.stderr)
        k, first = settings["answers_per_interview"], settings["first_answer"]
        pause_s = (float(settings["pause_s"][0]), float(settings["pause_s"][1]))
        texts: dict[tuple[int, int], str] = {}
        for index in range(report["interviews"]):
            answers = clips_from(clips, first + index * k, k)
            played, _ = played_answers(answers, interview_seed(settings["seed"], index), pause_s)
            for number, clip in enumerate(played, start=1):
                samples = resample_poly(clip.pcm.astype(np.float32) / 32768, 1, 3)
                texts[index, number] = stt.transcribe(samples.astype(np.float32)).text
        turns = [
            {**turn, "offline": texts[turn["interview"], turn["turn"]]}
            for turn in report["transcripts"]
        ]
        rebuilt.append({**report, "transcripts": turns})
    return rebuilt


def pool(
    reports: Sequence[dict[str, Any]], seed: int = 1, by_voice: bool = False
) -> list[PooledWer]:
    """Pooled figures per N (and per voice after them, with `by_voice`) over the reports'
    transcripts (see `unusable`)."""
    normalize = english_normalizer()
    groups: dict[tuple[int, str | None], list[TurnErrors]] = defaultdict(list)
    runs: dict[int, int] = defaultdict(int)
    for report in reports:
        n = int(report["interviews"])
        runs[n] += 1
        for turn in report["transcripts"]:
            errors = turn_errors(turn, normalize)
            if errors is not None:
                groups[n, None].append(errors)
                if by_voice:
                    groups[n, voice_of(turn.get("clip", ""))].append(errors)
    pooled = []
    for (n, voice), turns in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        words = sum(t.words for t in turns)
        live, offline = sum(t.live for t in turns), sum(t.offline for t in turns)
        pooled.append(
            PooledWer(
                interviews=n,
                runs=runs[n],
                turns=len(turns),
                reference_words=words,
                wer=round(live / words, 4),
                wer_offline=round(offline / words, 4),
                ratio=round(live / offline, 2) if offline else None,
                ratio_95=ratio_interval(turns, random.Random(seed * 1000 + n)),
                voice=voice,
            )
        )
    return pooled


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="interviews.py JSON reports")
    parser.add_argument("--by-voice", action="store_true", help="and per voice of the clips")
    parser.add_argument(
        "--played",
        type=Path,
        nargs="?",
        const=Path(),
        metavar="DIR",
        help="offline text of the audio played, from DIR (default: each report's --audio)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    reports = [json.loads(path.read_text()) for path in args.reports]
    for path, report in zip(args.reports, reports, strict=True):
        reason = unusable(report)
        if reason is not None:
            raise SystemExit(f"{path}: {reason}")
    if args.played is not None:
        reports = with_played_offline(reports, args.played if args.played != Path() else None)
    pooled = pool(reports, by_voice=args.by_voice)
    if args.played is not None:
        print("offline: of the audio each turn played, not of the whole files")
    print("N  runs turns words  WER    offline  live/offline (95 %)  voice")
    for p in pooled:
        interval = f"{p.ratio_95[0]:.2f}-{p.ratio_95[1]:.2f}" if p.ratio_95 else "-"
        print(
            f"{p.interviews:<2} {p.runs:>4} {p.turns:>5} {p.reference_words:>5}  "
            f"{p.wer:.4f} {p.wer_offline:.4f}   {p.ratio if p.ratio is not None else '-'} "
            f"({interval})  {p.voice or 'all'}"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in pooled], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
