"""`codesage token`: mint an API token signed with this node's secret."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from codesage.config import SettingsError, load_settings
from codesage.config.settings import JWT_SECRET_FILE
from codesage.signaling.auth import (
    CANDIDATE_TTL_SECONDS,
    MAX_TTL_SECONDS,
    STAFF_TTL_SECONDS,
    JwtTokens,
    Role,
    canonical_uuid,
    validated_ttl,
)


def register(subparsers: Any) -> None:
    """Add the `token` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "token",
        help="mint an API token",
        description="Print a signed token on stdout, e.g. TOKEN=$(codesage token --role admin).",
    )
    parser.add_argument(
        "--role", required=True, choices=[role.value for role in Role], help="the token's role"
    )
    parser.add_argument(
        "--interview", metavar="ID", help="interview UUID (required for --role candidate)"
    )
    parser.add_argument(
        "--ttl",
        type=int,
        metavar="SECONDS",
        help=f"lifetime in seconds (default {CANDIDATE_TTL_SECONDS} for candidates, "
        f"{STAFF_TTL_SECONDS} for staff; at most {MAX_TTL_SECONDS})",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="data folder (env CODESAGE_DATA_DIR, default ./codesage-data)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the token alone on stdout; clear errors on stderr with exit code 2."""
    role = Role(args.role)
    if role is Role.CANDIDATE and args.interview is None:
        return _fail("a candidate token needs --interview ID (the interview it grants)")
    # Check the options before touching the data folder, so a typo creates no secret.
    try:
        interview_id = (
            None if args.interview is None else canonical_uuid(args.interview, "--interview")
        )
        ttl_seconds = validated_ttl(role, args.ttl)
        settings = load_settings(**({} if args.data_dir is None else {"data_dir": args.data_dir}))
    except (SettingsError, ValueError) as exc:
        return _fail(str(exc))
    try:
        secret = settings.resolved_jwt_secret()
    except OSError as exc:
        return _fail(f"cannot read or create the JWT secret in {settings.data_dir}: {exc.strerror}")
    try:
        tokens = JwtTokens(secret)
    except ValueError as exc:  # a hand-set secret that is too short
        return _fail(f"{exc}; check CODESAGE_JWT_SECRET or {settings.data_dir / JWT_SECRET_FILE}")
    print(tokens.issue(role, interview_id=interview_id, ttl_seconds=ttl_seconds))
    return 0


def _fail(message: str) -> int:
    print(f"codesage token: {message}", file=sys.stderr)
    return 2
