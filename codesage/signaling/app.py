"""Builds the aiohttp application a node serves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from codesage.config.metrics import NodeMetrics
from codesage.signaling.audit_routes import AuditApi, AuditDependencies
from codesage.signaling.errors import json_errors
from codesage.signaling.health import HealthCheck, add_health_routes
from codesage.signaling.metrics_routes import add_metrics_routes, http_metrics_middleware
from codesage.signaling.openapi import add_routes, openapi_document
from codesage.signaling.ownership_routes import OwnershipApi
from codesage.signaling.recording_routes import RecordingApi, RecordingDependencies
from codesage.signaling.rest import RestApi, RestDependencies
from codesage.signaling.sockets import SocketDependencies, SocketHub
from codesage.signaling.web_assets import add_web_routes
from codesage.signaling.webhook_routes import WebhookApi, WebhookDependencies

# Requests larger than this are refused with 413 before any handler reads them.
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(
    health_check: HealthCheck,
    *,
    rest: RestDependencies | None = None,
    audit: AuditDependencies | None = None,
    webhooks: WebhookDependencies | None = None,
    recordings: RecordingDependencies | None = None,
    ownership: OwnershipApi | None = None,
    draining: Callable[[], bool] | None = None,
    hub: SocketHub | None = None,
    sockets: SocketDependencies | None = None,
    web_dist: Path | None = None,
    metrics: NodeMetrics | None = None,
) -> web.Application:
    """The web application; dependencies are passed in, not looked up."""
    # The metrics middleware goes first so that it sees the status json_errors finally sends.
    middlewares: list[Middleware] = [json_errors]
    if metrics is not None:
        middlewares.insert(0, http_metrics_middleware(metrics))
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=middlewares)
    add_health_routes(app, health_check, draining=draining)
    if metrics is not None:
        add_metrics_routes(app, metrics)
    if rest is not None:
        routes = RestApi(rest).routes()
        if audit is not None:
            routes += AuditApi(audit).routes()
        if webhooks is not None:
            routes += WebhookApi(webhooks).routes()
        if recordings is not None:
            routes += RecordingApi(recordings).routes()
        if ownership is not None:
            routes += ownership.routes()
        add_routes(app, routes)
        document = openapi_document(routes)

        async def openapi(request: web.Request) -> web.Response:
            return web.json_response(document)

        app.router.add_get("/openapi.json", openapi)
    if hub is not None and sockets is not None:
        hub.attach_namespaces(sockets)
        hub.server.attach(app)
        # Before aiohttp waits on open requests: sockets close and clients reconnect elsewhere.
        app.on_shutdown.append(hub.close_connections)
    add_web_routes(app, web_dist)
    return app
