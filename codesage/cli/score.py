"""`codesage score`: score a JSONL file of answers offline (evaluation tool)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `score` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "score", help="score answers from a JSONL file", description=__doc__
    )
    parser.add_argument("--in", dest="input", required=True, help="input JSONL file")
    parser.add_argument("--out", dest="output", required=True, help="output JSONL file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Not built yet (issue 4)."""
    raise SystemExit("codesage score: not implemented yet")
