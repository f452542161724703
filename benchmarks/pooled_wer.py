"""Live against offline word error rate, pooled over several interviews.py reports, per N.

One run of interviews.py measures WER on a few hundred words at most, where one word moves it
by half a point: too coarse for "within 10 % of offline". This pools the `transcripts` of
several runs (each turn's reference, live final and offline text of the same clip), counts
the word errors of both per turn, and gives per N: the pooled WERs, their ratio, and a 95 %
interval of that ratio by a paired bootstrap over turns.

    python benchmarks/pooled_wer.py RUN.json [RUN.json ...] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
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

from benchmarks.interviews import english_normalizer  # noqa: E402

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


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions, deletions and insertions of `hypothesis` against `reference`."""
    import jiwer

    out = jiwer.process_words(reference, hypothesis)
    return int(out.substitutions + out.deletions + out.insertions)


def turn_errors(turn: dict[str, Any], normalize: Callable[[str], str]) -> TurnErrors | None:
    """A turn's errors, or None if it had no final, no offline text or an empty reference."""
    if turn.get("final") is None or turn.get("offline") is None:
        return None
    reference = normalize(turn["reference"])
    if not reference.strip():
        return None
    return TurnErrors(
        len(reference.split()),
        word_errors(reference, normalize(turn["final"])),
        word_errors(reference, normalize(turn["offline"])),
    )


def ratio_interval(turns: Sequence[TurnErrors], rng: random.Random) -> tuple[float, float] | None:
    """2.5th and 97.5th percentiles of live / offline errors over turns drawn with replacement
    (the same turns for both: the comparison is paired)."""
    ratios = []
    for _ in range(BOOTSTRAP_SAMPLES):
        drawn = rng.choices(turns, k=len(turns))
        offline = sum(t.offline for t in drawn)
        if offline:
            ratios.append(sum(t.live for t in drawn) / offline)
    if len(ratios) < BOOTSTRAP_SAMPLES // 2:
        return None
    ratios.sort()
    return round(ratios[int(0.025 * len(ratios))], 2), round(ratios[int(0.975 * len(ratios))], 2)


def pool(reports: Sequence[dict[str, Any]], seed: int = 1) -> list[PooledWer]:
    """Pooled figures per N over the reports' transcripts."""
    normalize = english_normalizer()
    by_n: dict[int, list[TurnErrors]] = defaultdict(list)
    runs: dict[int, int] = defaultdict(int)
    for report in reports:
        if "transcripts" not in report:
            raise SystemExit("a report has no transcripts: it predates them; run it again")
        n = int(report["interviews"])
        runs[n] += 1
        for turn in report["transcripts"]:
            errors = turn_errors(turn, normalize)
            if errors is not None:
                by_n[n].append(errors)
    rng = random.Random(seed)
    pooled = []
    for n, turns in sorted(by_n.items()):
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
                ratio_95=ratio_interval(turns, rng),
            )
        )
    return pooled


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="interviews.py JSON reports")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    pooled = pool([json.loads(path.read_text()) for path in args.reports])
    print("N  runs turns words  WER    offline  live/offline (95 %)")
    for p in pooled:
        interval = f"{p.ratio_95[0]:.2f}-{p.ratio_95[1]:.2f}" if p.ratio_95 else "-"
        print(
            f"{p.interviews:<2} {p.runs:>4} {p.turns:>5} {p.reference_words:>5}  "
            f"{p.wer:.4f} {p.wer_offline:.4f}   {p.ratio} ({interval})"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in pooled], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
