"""`/healthz` (is this process alive) and `/readyz` (may it take traffic: up, not draining)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
Draining = Callable[[], bool]


def add_health_routes(
    app: web.Application, check: HealthCheck, *, draining: Draining | None = None
) -> None:
    """Register the health endpoints; `check` reports each dependency as up (True) or down.

    `draining` tells whether the node is handing its interviews over after SIGTERM.
    """

    async def report(request: web.Request) -> tuple[dict[str, str], bool]:
        results = await check()
        healthy = all(results.values())
        body = {
            "status": "ok" if healthy else "degraded",
            **{name: ("up" if up else "down") for name, up in results.items()},
        }
        return body, healthy

    async def healthz(request: web.Request) -> web.Response:
        # Liveness: a Redis or Postgres outage must not get every pod restarted, so this is
        # 200 while the process answers, with the dependencies reported in the body.
        body, _ = await report(request)
        return web.json_response(body)

    async def readyz(request: web.Request) -> web.Response:
        body, healthy = await report(request)
        if draining is not None and draining():
            # Out of the load balancer while live interviews move to other nodes.
            return web.json_response({**body, "status": "draining"}, status=503)
        return web.json_response(body, status=200 if healthy else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
