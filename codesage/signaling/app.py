"""Builds the aiohttp application a node serves."""

from __future__ import annotations

from aiohttp import web

from codesage.signaling.health import HealthCheck, add_health_routes

# Requests larger than this are refused with 413 before any handler reads them.
MAX_REQUEST_BYTES = 5 * 1024 * 1024


def create_app(health_check: HealthCheck) -> web.Application:
    """The web application with its routes; dependencies are passed in, not looked up."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    add_health_routes(app, health_check)
    return app
