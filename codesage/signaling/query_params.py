"""Query-string parsing shared by the REST handlers: bounded integers and pagination."""

from __future__ import annotations

from aiohttp import web

from codesage.signaling.errors import ApiError


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter `name` within [low, high]; 400 `invalid_query` otherwise."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"{name} must be an integer.") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_query", f"{name} must be between {low} and {high}.")
    return value


def page(request: web.Request) -> tuple[int, int]:
    """`limit` (1–200, default 50) and `offset` (default 0)."""
    return int_query(request, "limit", 50, 1, 200), int_query(request, "offset", 0, 0, 10**9)


def next_offset(offset: int, limit: int, count: int) -> int | None:
    """The offset of the next page, or None when this page was the last."""
    return offset + limit if count == limit else None
