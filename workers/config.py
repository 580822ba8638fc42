"""Tuning of the job machinery, read from `REDSCARF_JOB_*` environment variables.

Kept apart from `redscarf.settings` because only workers and tests need it: production keeps
the defaults, tests shorten the heartbeat so a killed worker's job comes back in seconds.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REDSCARF_JOB_", extra="ignore")

    heartbeat_ttl: float = 60.0
    """Seconds without a heartbeat after which a worker counts as dead and its messages are
    delivered again (PostgreSQL and Redis brokers; RabbitMQ redelivers when the connection
    drops)."""

    relay_interval: float = 1.0
    """Seconds between two passes of the relay, which sends the jobs the API enqueued (it has
    no broker of its own) and those a crash left `pending`: how long an import waits to start.
    A pass is one indexed query."""

    summary_interval: float = 60.0
    """Seconds between two passes of the summariser, which turns the marks of changed counties
    into summary jobs: how stale a province's figures may be after a change."""

    summary_max_age_hours: float = 24.0
    """A county's summary is recomputed at least this often, changed or not (the schedule:
    the academic year and "as of today" move on by themselves)."""

    max_retries: int = 3
    """Retries of a failing job before it ends `failed`."""

    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 60_000

    queue: str | None = None
    """Queue name; by default `redscarf_<database>` so that deployments (and test databases)
    sharing one RabbitMQ or Redis never take each other's messages."""

    @property
    def heartbeat_interval(self) -> float:
        return max(0.5, min(15.0, self.heartbeat_ttl / 4))

    @property
    def maintenance_interval(self) -> float:
        return max(0.5, min(30.0, self.heartbeat_ttl / 4))
