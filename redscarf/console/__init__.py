"""The console (`/console`): the first frontend on the public API, served by the service.

Static files only (HTML, ES modules, CSS in `static/`), no build step and no Node.js: the
browser loads them and talks to `/graphql` and the file endpoints like any county's frontend
would. The server adds nothing but the files and headers that keep them safe: a content
security policy that allows scripts, styles and requests to this origin only, and no framing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

STATIC = Path(__file__).parent / "static"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
        " connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on every load (ETag): a new release reaches every browser at once.
    "Cache-Control": "no-cache",
}


class ConsoleFiles(StaticFiles):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k.lower().encode(), v.encode()) for k, v in HEADERS.items()
                ]
            await send(message)

        await super().__call__(scope, receive, with_headers)


async def _to_console(request: object) -> Response:
    return RedirectResponse("/console/", status_code=308)


def console_routes() -> list[BaseRoute]:
    return [
        Route("/console", _to_console),
        Mount("/console", ConsoleFiles(directory=STATIC, html=True), name="console"),
    ]
