"""Serves the built web apps (candidate, console, review) from `web/dist`."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

APP_PATHS = ("/candidate/", "/console/", "/review/")
NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>CODESAGE</title>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto">
<h1>CODESAGE is running</h1><p>The web apps are not built. Run <code>make run</code> (or
<code>npm ci && npm run build</code> in <code>web/</code>) and reload.</p>
<p>The API is at <a href="/openapi.json">/openapi.json</a>.</p></body></html>"""


def add_web_routes(app: web.Application, dist: Path | None) -> None:
    """Serve `dist/index.html` for each app path and `dist/assets` as static files."""
    index = None if dist is None else dist / "index.html"

    async def page(request: web.Request) -> web.StreamResponse:
        if index is None or not index.is_file():
            return web.Response(text=NOT_BUILT, content_type="text/html")
        response = web.FileResponse(index)
        # The token travels in the query string: keep it out of Referer headers.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def with_slash(request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(request.rel_url.with_path(request.path + "/"))

    app.router.add_get("/", page)
    for path in APP_PATHS:
        app.router.add_get(path.rstrip("/"), with_slash)
        app.router.add_get(path, page)
        app.router.add_get(path + "{tail:.*}", page)
    if dist is not None and (dist / "assets").is_dir():
        app.router.add_static("/assets/", dist / "assets", follow_symlinks=False)


def default_web_dist() -> Path:
    """`web/dist` of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "web" / "dist"
