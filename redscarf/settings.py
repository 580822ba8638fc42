"""Configuration, read from the environment (and an optional `.env` file).

`DATABASE_URL`, `BROKER_URL` and `TEST_DATABASE_URL` are read without prefix because they are
the names operators already know; everything else is `REDSCARF_*`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REDSCARF_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "REDSCARF_DATABASE_URL")
    )
    """PostgreSQL server to use. When unset, an embedded PostgreSQL is started in `data_dir`."""

    broker_url: str | None = Field(
        default=None, validation_alias=AliasChoices("BROKER_URL", "REDSCARF_BROKER_URL")
    )
    """`amqp://…` for RabbitMQ, `redis://…` for Redis; unset means the PostgreSQL database."""

    data_dir: Path = Path(".redscarf")
    """Where the embedded PostgreSQL keeps its data (and other local state)."""

    database_name: str = "redscarf"
    """Database created inside the embedded server."""

    pool_size: int = 10
    max_overflow: int = 5
    statement_timeout_ms: int = 30_000

    host: str = "127.0.0.1"
    port: int = 8000

    operator_token: str | None = None
    """Bearer token of the platform operator, who may onboard counties over the API.
    Until accounts exist (issue 3) it is the only principal with province rights."""

    migration_processes: int = 0
    """Worker processes for `db upgrade`; 0 means one per core."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
