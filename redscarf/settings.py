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
    pool_max_counties: int = Field(default=100, ge=0)
    """A pooled database connection that has served more distinct counties than this is closed
    when it is returned to the pool (and replaced on demand): each county's tables it touched
    stay in the server process's catalog caches, so this bounds a connection's memory whatever
    the number of counties (bench/tenant_scale.py). 0: no limit."""
    statement_timeout_ms: int = 30_000

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)
    """Server processes of `redscarf serve` (uvicorn workers on one port). Each has its own
    connection pool, live-update listener and rate-limit counters (1 and 2 are measured in
    docs/benchmarks.md, "Load")."""

    operator_token: str | None = None
    """Bearer token of the platform operator, who may onboard counties over the API.
    Until accounts exist (issue 3) it is the only principal with province rights."""

    migration_processes: int = 0
    """Worker processes for `db upgrade`; 0 means one per core."""

    # --- secrets: unset means generated once into `data_dir/secrets.json` (development) ----
    secret_key: str | None = None
    """Signs access tokens (HS256). At least 32 characters."""

    data_keys: str | None = None
    """Keys that encrypt personal fields: `id:base64(32 bytes)`, comma-separated. The first
    encrypts; all decrypt, so a key is rotated by putting a new one first."""

    hash_key: str | None = None
    """Key of the keyed hashes that find encrypted fields (phone, ID number): base64, 32 bytes.
    Changing it makes every stored hash unfindable; it is not rotated with `data_keys`."""

    # --- accounts and sessions --------------------------------------------------------------
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    idle_timeout_minutes: int = 30
    """A session unused this long ends (等保: timeout of idle sessions)."""
    lockout_threshold: int = 5
    """Failed logins in a row that lock an account."""
    lockout_minutes: int = 15
    login_code_sender: str = "log"
    """How one-time login codes reach guardians: `log` writes them to the log (development)."""
    audit_retention_days: int = Field(default=180, ge=180)
    """Days the audit log is kept at least (网络安全法: six months)."""

    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    """Largest spreadsheet accepted by `POST /uploads` (a 50,000-pupil roster is about 3 MB)."""

    # --- requests to /graphql (redscarf/http_guard.py) ----------------------------------------
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest request body `/graphql` accepts, variables included (uploads have their own)."""
    body_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds a client has to send its whole request body (slow clients are cut off: 408)."""
    request_timeout_s: float = Field(default=30.0, gt=0)
    """Seconds an operation may run before it is cancelled (`TIMEOUT`)."""
    anonymous_introspection: bool = False
    """Whether callers without credentials may query the schema (`__schema`, `__type`)."""

    credential_key: str | None = None
    """Base64 of the 32-byte Ed25519 key that signs badge credentials; derived from the secret
    key when unset (changing either changes the key: publish the old one while its
    credentials are in use)."""
    import_report_days: int = Field(default=7, ge=1)
    """Days an import's error report (it holds the file's rows: children's personal data) is
    kept; after that it is gone, and so is any upload never imported."""

    oidc_issuer: str | None = None
    """Issuer of an external OpenID Connect provider whose tokens are accepted."""
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
