"""The OpenAPI 3.1 document, built from the same route table that registers the handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from codesage import __version__
from codesage.signaling.api_models import ErrorResponse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class QueryParam:
    """A query parameter of a route."""

    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Route:
    """One REST route: how it is served and how it is documented."""

    method: str
    path: str
    handler: Handler
    summary: str
    roles: str
    response: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    query: tuple[QueryParam, ...] = ()
    errors: tuple[int, ...] = field(default=(401, 403, 404))
    public: bool = False
    html: bool = False


def add_routes(app: web.Application, routes: Sequence[Route]) -> None:
    """Register every route's handler."""
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing `routes`."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error_ref = ref(ErrorResponse)
    for route in routes:
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
            for name in _path_params(route.path)
        ]
        parameters += [
            {
                "name": q.name,
                "in": "query",
                "required": False,
                "schema": q.schema,
                "description": q.description,
            }
            for q in route.query
        ]
        responses: dict[str, Any] = {}
        if route.response is not None:
            content: dict[str, Any] = {"application/json": {"schema": ref(route.response)}}
            if route.html:
                content["text/html"] = {"schema": {"type": "string"}}
            responses[str(route.status)] = {"description": "OK", "content": content}
        body_errors = (413, 415) if route.body is not None else ()
        for status in sorted({400, 422, *route.errors, *body_errors}):
            responses[str(status)] = {
                "description": "Error",
                "content": {"application/json": {"schema": error_ref}},
            }
        operation: dict[str, Any] = {
            "summary": route.summary,
            "description": f"Allowed: {route.roles}.",
            "operationId": route.handler.__name__,
            "parameters": parameters,
            "responses": responses,
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(route.body)}},
            }
        if not route.public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "CODESAGE API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _path_schema(name: str) -> dict[str, str]:
    # Ids are UUIDs; other path parts (a recording's track or file name) are plain strings.
    if name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"}


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
