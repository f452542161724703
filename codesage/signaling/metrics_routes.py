"""`GET /metrics` in the Prometheus text format, and a middleware counting HTTP requests."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from codesage.config.metrics import NodeMetrics

# Label for requests that matched no route: their raw paths would make unbounded label values.
UNMATCHED_ROUTE = "unmatched"


def add_metrics_routes(app: web.Application, metrics: NodeMetrics) -> None:
    """Serve `GET /metrics`: unauthenticated, so expose it on the cluster network only."""

    async def metrics_page(request: web.Request) -> web.Response:
        # A few dozen series: rendering takes well under a millisecond, so it stays on the loop.
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/metrics", metrics_page)


def route_template(request: web.Request) -> str:
    """The matched route's template (`/api/v1/interviews/{interview_id}`), never the raw path."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED_ROUTE
    return resource.canonical


def http_metrics_middleware(metrics: NodeMetrics) -> Middleware:
    """A middleware recording request counts and durations by method, route template and status.

    Put it first in the application's middlewares so that it sees the status other middlewares
    (the JSON error renderer) finally send; a 500 there is an unhandled error, counted as such.
    """

    @web.middleware
    async def record_http_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500  # an exception that escapes every middleware becomes a 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.observe_http(
                request.method, route_template(request), status, time.perf_counter() - started
            )
            if status == 500:
                metrics.count_error("http_unhandled")

    return record_http_metrics
