"""The summariser: every `summary_interval` seconds, one transaction takes the marks that
counties' figures changed and records a `refresh_county_summary` job for each county due
(changed, never summarised, or older than `summary_max_age_hours`: the schedule). The relay
sends the jobs after commit like any other. Several summarisers (one per worker process) split
the marks between them; a county that gets two jobs is counted twice, never double."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine

from domain.stats.rollup import due_counties
from workers.outbox import Periodic, enqueue

log = logging.getLogger(__name__)

ACTOR = "refresh_county_summary"


def summarise(engine: Engine, max_age: dt.timedelta) -> list[str]:
    """One pass: the counties due, each with a job recorded; returns their codes."""
    with engine.begin() as conn:
        due = due_counties(conn, max_age)
        for code in due:
            enqueue(conn, ACTOR, county_code=code)
    if due:
        log.info("summaries due: %s", ", ".join(due))
    return due


class Summariser(Periodic):
    name_of_pass = "summariser pass"
    at_once = False  # a worker that restarts does not recount at once

    def __init__(self, engine: Engine, interval: float, max_age: dt.timedelta) -> None:
        super().__init__("redscarf-summariser", interval)
        self.engine = engine
        self.max_age = max_age

    def pass_once(self) -> None:
        summarise(self.engine, self.max_age)
