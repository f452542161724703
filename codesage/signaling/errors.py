"""Every REST failure as `{"error": {"code", "message"}}` with the right status."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from codesage.engine.commands import InterviewError
from codesage.signaling.auth import AuthError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A request the API refuses; raised by handlers, rendered by the middleware."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> web.Response:
    """The JSON error body with `status`."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def validation_message(exc: ValidationError) -> str:
    """A short human summary of pydantic errors: `field: problem; …`."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    400: "bad_request",
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn exceptions into the stable JSON error shape; never leak a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except AuthError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except InterviewError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except ValidationError as exc:
        return error_response(422, "invalid_request", validation_message(exc))
    except json.JSONDecodeError:
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, exc.reason)
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(500, "internal_error", "Something went wrong on our side.")
