"""`codesage serve`: run a node (embedded Postgres and Redis unless URLs are configured)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from codesage.config import SettingsError, configure_logging, load_settings
from codesage.config.allocator import fix_mmap_threshold, limit_malloc_arenas
from codesage.config.blas_threads import limit_blas_threads
from codesage.storage.connections import DatabaseError, RedisUnavailableError
from codesage.storage.embedded import EmbeddedServerError


def register(subparsers: Any) -> None:
    """Add the `serve` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the interview server",
        description="Run a CODESAGE node. Without CODESAGE_DATABASE_URL and CODESAGE_REDIS_URL "
        "it starts embedded Postgres and Redis in the data folder.",
    )
    parser.add_argument("--host", help="address to bind (env CODESAGE_HOST, default 127.0.0.1)")
    parser.add_argument("--port", help="port to bind (env CODESAGE_PORT, default 8080)")
    parser.add_argument(
        "--data-dir", type=Path, help="data folder (env CODESAGE_DATA_DIR, default ./codesage-data)"
    )
    parser.set_defaults(run=run)


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as options; options win over the environment."""
    given = {"host": args.host, "port": args.port, "data_dir": args.data_dir}
    return {name: value for name, value in given.items() if value is not None}


def run(args: argparse.Namespace) -> int:
    """Load settings, then serve until interrupted; clear one-line errors on failure."""
    from codesage.server import serve  # deferred: keeps `--help` fast

    try:
        settings = load_settings(**cli_overrides(args))
    except SettingsError as exc:
        print(f"codesage serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    # Before any thread starts: every model, codec and executor thread would get an arena.
    limit_malloc_arenas()
    fix_mmap_threshold()
    limit_blas_threads()
    try:
        asyncio.run(serve(settings))
    except (DatabaseError, RedisUnavailableError, EmbeddedServerError) as exc:
        print(f"codesage serve: {exc}\nRun `codesage doctor` for a diagnosis.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"codesage serve: cannot listen on {settings.host}:{settings.port}: {exc.strerror}. "
            "Choose another with --port or CODESAGE_PORT.",
            file=sys.stderr,
        )
        return 1
    return 0
