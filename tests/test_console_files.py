"""The console is served by the service itself: its files, with headers that keep them safe,
and every module they import present (there is no build step to catch a missing one)."""

from __future__ import annotations

import re
from typing import Any

from redscarf.console import STATIC

IMPORT = re.compile(r'^\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}/[^"]+)"', re.MULTILINE)


async def test_the_console_is_served_with_a_strict_content_security_policy(gql: Any) -> None:
    moved = await gql.http.get("/console", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, "/console/")
    page = await gql.http.get("/console/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    script = await gql.http.get("/console/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert (await gql.http.get("/console/nothing.js")).status_code == 404


def test_every_module_the_console_imports_is_there() -> None:
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = STATIC / name
        assert path.is_file(), f"{name} is imported but missing"
        for target in IMPORT.findall(path.read_text(encoding="utf-8")):
            resolved = (path.parent / target).resolve().relative_to(STATIC.resolve())
            todo.append(str(resolved))
    assert {"api.js", "messages.js", "ui.js", "pages/login.js"} <= seen
    # Every stylesheet index.html links is there too
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"]+\.css)"', index):
        assert (STATIC / href).is_file(), href
