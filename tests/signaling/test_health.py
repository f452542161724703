"""Liveness stays 200 through a dependency outage; readiness says 503."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from codesage.signaling.health import add_health_routes


async def test_healthz_stays_up_and_readyz_reports_a_dead_dependency(aiohttp_client: Any) -> None:
    state = {"postgres": True, "redis": False}

    async def check() -> dict[str, bool]:
        return dict(state)

    app = web.Application()
    add_health_routes(app, check)
    client = await aiohttp_client(app)
    live = await client.get("/healthz")
    assert live.status == 200
    assert await live.json() == {"status": "degraded", "postgres": "up", "redis": "down"}
    ready = await client.get("/readyz")
    assert ready.status == 503
    state["redis"] = True
    assert (await client.get("/readyz")).status == 200
