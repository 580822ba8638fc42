"""The checked-in `schema.graphql` is exactly what the code exports.

County frontends build against that file; a change to the API shows up in review as a diff
of it, never silently.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from schema import export_sdl

SDL_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_checked_in_sdl_matches_the_code() -> None:
    exported = export_sdl()
    checked_in = SDL_FILE.read_text(encoding="utf-8") if SDL_FILE.exists() else ""
    if exported != checked_in:
        diff = "".join(
            difflib.unified_diff(
                checked_in.splitlines(keepends=True),
                exported.splitlines(keepends=True),
                "schema.graphql (checked in)",
                "schema (code)",
            )
        )
        raise AssertionError(
            "schema.graphql differs from the code; run `redscarf export-schema` and commit it.\n"
            + diff[:5000]
        )
