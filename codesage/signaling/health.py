"""`/healthz` and `/readyz`: whether this node and its Postgres and Redis are up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]


def add_health_routes(app: web.Application, check: HealthCheck) -> None:
    """Register the health endpoints; `check` reports each dependency as up (True) or down."""

    async def healthz(request: web.Request) -> web.Response:
        results = await check()
        healthy = all(results.values())
        body = {
            "status": "ok" if healthy else "degraded",
            **{name: ("up" if up else "down") for name, up in results.items()},
        }
        return web.json_response(body, status=200 if healthy else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", healthz)
