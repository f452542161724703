"""`codesage score`: score a JSONL file of answers offline (evaluation tool).

Each input line is {"id", "question", "answer"} plus "rubric" (the Rubric form) or
"reference_answer". Each output line repeats the id and adds score, level,
insufficient_evidence, confidence, evidence ([start, end) character spans of the answer),
matched_indicators, missing_indicators and reason. Bad lines are reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from codesage.agents.answer_score import AnswerScore
from codesage.agents.template import Rubric


class BadLine(ValueError):
    """An input line that cannot be scored; the message says why."""


def register(subparsers: Any) -> None:
    """Add the `score` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "score",
        help="score answers from a JSONL file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--in", dest="input", required=True, help="input JSONL file")
    parser.add_argument("--out", dest="output", required=True, help="output JSONL file")
    parser.add_argument(
        "--progress-every",
        type=int,
        default=100,
        metavar="N",
        help="report progress on stderr every N lines (default 100)",
    )
    parser.set_defaults(run=run)


def parse_line(text: str) -> tuple[Any, str, str, Rubric]:
    """The id, question, answer and rubric of one input line (BadLine if unusable)."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON: {exc.msg}") from exc
    if not isinstance(row, dict):
        raise BadLine("not a JSON object")
    if "id" not in row:
        raise BadLine('missing "id"')
    for field in ("question", "answer"):
        if not isinstance(row.get(field), str):
            raise BadLine(f'"{field}" must be a string')
    try:
        if isinstance(row.get("rubric"), dict):
            rubric = Rubric.model_validate(row["rubric"])
        elif isinstance(row.get("reference_answer"), str) and row["reference_answer"].strip():
            rubric = Rubric(reference_answer=row["reference_answer"])
        else:
            raise BadLine('needs a "rubric" object or a non-empty "reference_answer"')
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "rubric"
        raise BadLine(f"invalid rubric at {where}: {first['msg']}") from exc
    return row["id"], row["question"], row["answer"], rubric


def result_row(line_id: Any, result: AnswerScore) -> dict[str, Any]:
    """The output line for one scored answer."""
    return {
        "id": line_id,
        "score": None if result.score is None else round(result.score, 4),
        "level": result.level,
        "insufficient_evidence": result.insufficient_evidence,
        "confidence": round(result.confidence, 4),
        "evidence": [[span.start, span.end] for span in result.evidence],
        "matched_indicators": list(result.matched_indicators),
        "missing_indicators": list(result.missing_indicators),
        "reason": result.reason,
    }


def _progress(done: int, bad: int, started: float, *, final: bool = False) -> None:
    elapsed = max(time.perf_counter() - started, 1e-9)
    label = "done" if final else "progress"
    print(
        f"codesage score: {label}: {done} lines ({bad} bad) in {elapsed:.1f} s, "
        f"{done / elapsed:.1f} lines/s",
        file=sys.stderr,
    )


def score_stream(source: TextIO, sink: TextIO, progress_every: int) -> tuple[int, int]:
    """Score every line of `source` into `sink`; returns (lines read, bad lines)."""
    # A CLI process: keep stderr for our own messages (read when transformers is imported).
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # Imported here so that `codesage --help` and argument errors stay instant.
    from codesage.agents.embeddings import MiniLMEncoder
    from codesage.agents.scoring import RubricScorer

    scorer = RubricScorer(MiniLMEncoder())
    started = time.perf_counter()
    done = bad = 0
    for number, text in enumerate(source, start=1):
        if not text.strip():
            continue
        done += 1
        try:
            line_id, question, answer, rubric = parse_line(text)
        except BadLine as exc:
            bad += 1
            print(f"codesage score: line {number}: skipped: {exc}", file=sys.stderr)
        else:
            result = scorer.score(question, answer, rubric)
            sink.write(json.dumps(result_row(line_id, result), ensure_ascii=False) + "\n")
        if progress_every > 0 and done % progress_every == 0:
            _progress(done, bad, started)
    _progress(done, bad, started, final=True)
    return done, bad


def run(args: argparse.Namespace) -> int:
    """Score the input file; exit 2 when the input cannot be read or the output written."""
    source_path, sink_path = Path(args.input), Path(args.output)
    try:
        source = source_path.open(encoding="utf-8")
    except OSError as exc:
        print(f"codesage score: cannot read {source_path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    with source:
        try:
            sink = sink_path.open("w", encoding="utf-8")
        except OSError as exc:
            print(
                f"codesage score: cannot write {sink_path}: {exc.strerror or exc}", file=sys.stderr
            )
            return 2
        with sink:
            try:
                score_stream(source, sink, args.progress_every)
            except UnicodeDecodeError as exc:
                print(f"codesage score: cannot read {source_path}: {exc}", file=sys.stderr)
                return 2
    return 0
