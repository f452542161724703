"""Composition root: resolves settings into running storage and the web app, then serves.

On SIGTERM (or SIGINT) the node drains: `/readyz` turns 503, no new interview starts here, and
live interviews are handed over (actors stopped, events durable, leases released) within
`CODESAGE_DRAIN_SECONDS`; then sockets close, clients reconnect elsewhere, and it exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from codesage.agents.template import InterviewTemplate
from codesage.agents.text_to_speech import TextToSpeech
from codesage.config import Settings
from codesage.config.metrics import NodeMetrics
from codesage.engine.ats import GreenhouseSettings
from codesage.engine.ownership import NodeIdentity
from codesage.engine.prompt_openings import spoken_prompts, warm_prompt_openings
from codesage.media.recording import LocalFolderBlobStore
from codesage.node import Node, build_node, load_voice_resources
from codesage.signaling.auth import Role
from codesage.signaling.web_assets import default_web_dist
from codesage.storage.connections import Storage
from codesage.storage.embedded import EmbeddedPostgres, EmbeddedRedis

log = logging.getLogger(__name__)

# How long aiohttp waits (twice: finish, then cancel) for open requests at shutdown. Socket.IO
# clients are sent a close at once and leave; their websocket handlers cannot finish the close
# handshake, because aiohttp stops reading connections when shutdown begins, so they are cut.
SOCKET_CLOSE_SECONDS = 1.0


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
    stop = _stop_on_signals()
    async with storage_servers(settings) as urls:
        storage = await Storage.open(urls.database_url, urls.redis_url)
        node: Node | None = None
        warming: asyncio.Task[None] | None = None
        try:
            metrics = NodeMetrics.create()
            voice = None
            if settings.voice_enabled:
                voice = await load_voice_resources(
                    stt_model=settings.stt_model,
                    stt_final_window=settings.stt_final_window,
                    data_dir=settings.data_dir,
                    inference_threads=settings.inference_threads,
                    stt_final_threads=settings.stt_final_threads,
                    ice_servers=settings.ice_servers,
                    recordings=LocalFolderBlobStore(settings.data_dir / "recordings"),
                    metrics=metrics,
                    max_live_peers=settings.voice_capacity(),
                )
            node = await build_node(
                storage,
                voice=voice,
                metrics=metrics,
                ats=_greenhouse(settings),
                language_model=settings.language_model(),
                public_url=settings.public_url or _base_url(settings),
                redis_url=urls.redis_url,
                jwt_secret=settings.resolved_jwt_secret(),
                inference_threads=settings.inference_threads,
                web_dist=settings.web_dir or default_web_dist(),
                identity=node_identity(settings),
                lease_ttl_seconds=settings.lease_ttl_seconds,
            )
            runner = web.AppRunner(node.app, access_log=None, shutdown_timeout=SOCKET_CLOSE_SECONDS)
            await runner.setup()
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            if voice is not None:
                warming = asyncio.create_task(_warm_prompt_openings(node, voice.text_to_speech))
            if announce:
                _announce(settings, urls)
                if urls.embedded_postgres and urls.embedded_redis:
                    await _announce_demo(node, _base_url(settings))
            await stop.wait()
            await drain(node, settings.drain_seconds)
            await runner.cleanup()
        finally:
            if warming is not None:
                warming.cancel()
            if node is not None:
                await node.close()
            await storage.close()


async def _warm_prompt_openings(node: Node, tts: TextToSpeech) -> None:
    """Pre-synthesize the opening of every stored template's prompts (see prompt_openings)."""
    try:
        records = await node.templates.list_latest()
        templates = [InterviewTemplate.model_validate(record.body) for record in records]
        await warm_prompt_openings(tts, spoken_prompts(templates))
    except Exception:
        # Only a head start: prompts are synthesized when spoken all the same.
        log.warning("pre-synthesizing prompt openings failed", exc_info=True)


def _greenhouse(settings: Settings) -> GreenhouseSettings | None:
    config = settings.greenhouse()
    if config is None:
        return None
    return GreenhouseSettings(
        base_url=config.base_url,
        api_key=config.api_key,
        on_behalf_of=config.on_behalf_of,
        webhook_secret=config.webhook_secret,
    )


def node_identity(settings: Settings) -> NodeIdentity:
    """This node as other nodes and clients know it: settings, else host and port."""
    # One node behind a proxy: the service's address reaches this node too.
    url = settings.node_url or settings.public_url
    default = NodeIdentity.for_address(settings.host, settings.port, url)
    return NodeIdentity(settings.node_id or default.node_id, default.public_url)


async def drain(node: Node, grace_s: float) -> None:
    """Stop taking interviews and hand the live ones over to other nodes within `grace_s`."""
    live = len(node.supervisor.live_ids())
    log.info("draining", extra={"interviews": live, "grace_seconds": grace_s})
    late = await node.supervisor.drain(grace_s)
    log.info("drained", extra={"handed_over": live - len(late), "left_to_expire": len(late)})


def _base_url(settings: Settings) -> str:
    host = "localhost" if settings.host in {"0.0.0.0", "127.0.0.1", "::"} else settings.host
    return f"http://{host}:{settings.port}"


def _announce(settings: Settings, urls: ServerUrls) -> None:
    where = []
    if urls.embedded_postgres:
        where.append("embedded Postgres")
    if urls.embedded_redis:
        where.append("embedded Redis")
    backing = ", ".join(where) or "external Postgres and Redis"
    print(
        f"CODESAGE is running on {_base_url(settings)}/ ({backing}; "
        f"data in {settings.data_dir.resolve()}). Press Ctrl+C to stop.",
        flush=True,
    )


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM; installed first so that an early signal is clean."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _announce_demo(node: Node, base: str) -> None:
    """On the zero-config default, schedule a practice interview and print dev links."""
    template = await node.templates.latest("backend-python")
    if template is None:
        return
    interview = await node.interviews.create(template.id, "practice")
    candidate = node.tokens.issue(
        Role.CANDIDATE, interview_id=str(interview.id), subject=str(interview.candidate_id)
    )
    staff = node.tokens.issue(Role.ADMIN)
    print(
        "Demo (development tokens, valid 12-24 h):\n"
        f"  candidate:   {base}/candidate/?token={candidate}\n"
        f"  interviewer: {base}/console/?token={staff}\n"
        f"  recruiter:   {base}/review/?token={staff}",
        flush=True,
    )
