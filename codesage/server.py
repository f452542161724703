"""Composition root: resolves settings into running storage and the web app, then serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from codesage.config import Settings
from codesage.signaling.app import create_app
from codesage.storage.connections import Storage
from codesage.storage.embedded import EmbeddedPostgres, EmbeddedRedis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerUrls:
    """Where the node's Postgres and Redis are, and whether each is embedded."""

    database_url: str
    redis_url: str
    embedded_postgres: bool
    embedded_redis: bool


@contextlib.asynccontextmanager
async def storage_servers(settings: Settings) -> AsyncIterator[ServerUrls]:
    """Yield the configured URLs, starting embedded servers for any that are unset."""
    postgres = None if settings.database_url else EmbeddedPostgres(settings.data_dir / "postgres")
    redis = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    try:
        database_url = settings.database_url
        if postgres is not None:
            database_url = await asyncio.to_thread(postgres.start)
        redis_url = settings.redis_url
        if redis is not None:
            redis_url = await asyncio.to_thread(redis.start)
        assert database_url is not None and redis_url is not None
        yield ServerUrls(database_url, redis_url, postgres is not None, redis is not None)
    finally:
        for server in (redis, postgres):
            if server is not None:
                await asyncio.to_thread(server.stop)


async def serve(settings: Settings, *, announce: bool = True) -> None:
    """Run a node until SIGINT or SIGTERM, then shut down cleanly."""
    settings.resolved_jwt_secret()  # create it now so that a bad data folder fails at start
    async with storage_servers(settings) as urls:
        storage = await Storage.open(urls.database_url, urls.redis_url)
        try:
            app = create_app(storage.health)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            if announce:
                _announce(settings, urls)
            await _wait_for_stop_signal()
            await runner.cleanup()
        finally:
            await storage.close()


def _announce(settings: Settings, urls: ServerUrls) -> None:
    where = []
    if urls.embedded_postgres:
        where.append("embedded Postgres")
    if urls.embedded_redis:
        where.append("embedded Redis")
    backing = ", ".join(where) or "external Postgres and Redis"
    host = "localhost" if settings.host in {"0.0.0.0", "127.0.0.1", "::"} else settings.host
    print(
        f"CODESAGE is running on http://{host}:{settings.port}/ ({backing}; "
        f"data in {settings.data_dir.resolve()}). Press Ctrl+C to stop.",
        flush=True,
    )


async def _wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
