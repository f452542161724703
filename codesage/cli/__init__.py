"""The `codesage` command line: one module per subcommand, each exposing `register`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from codesage import __version__
from codesage.cli import doctor, score, serve, token, transcribe


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="codesage", description="CODESAGE: real-time AI interviews."
    )
    parser.add_argument("--version", action="version", version=f"codesage {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (serve, doctor, score, token, transcribe):
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    exit_code: int = args.run(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
