"""Account tables (shared schema): who can sign in, and with which roles where.

A role assignment is (user, role, county, scope): the scope is a unit path inside the county
(`c.t12.b345`) for county roles, the province or prefecture code for those levels. Nothing
here references a county schema, so the layout stays Citus-compatible.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from tenants.metadata import shared_metadata

users = Table(
    "users",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("username", Text, unique=True, comment="Login name of staff, lower case"),
    Column("display_name", Text, nullable=False),
    Column("phone_hash", LargeBinary, unique=True, comment="Keyed hash of the phone number"),
    Column("phone_enc", Text, comment="Phone number, encrypted (domain.personal.crypto)"),
    Column("password_hash", Text, comment="argon2id"),
    Column("password_changed_at", DateTime(timezone=True)),
    Column("totp_secret_enc", Text, comment="TOTP secret, encrypted"),
    Column("totp_enabled_at", DateTime(timezone=True)),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("external_subject", Text, unique=True, comment="OpenID Connect `iss|sub`"),
    Column("disabled_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login_at", DateTime(timezone=True)),
    CheckConstraint("username = lower(username)", name="username_lower"),
    comment="People who sign in: admins, counselors, guardians, partners.",
)

role_assignments = Table(
    "role_assignments",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("user_id", ForeignKey("shared.users.id"), nullable=False, index=True),
    Column("role", Text, nullable=False),
    Column("county_code", String(6), comment="Null for province and prefecture roles"),
    Column("scope", Text, nullable=False, comment="Unit path, or province/prefecture code"),
    Column("granted_by", BigInteger, comment="User who granted it (invitation or operator)"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", BigInteger),
    Index(
        "uq_role_assignments_active",
        "user_id",
        "role",
        "county_code",
        "scope",
        unique=True,
        postgresql_where=text("revoked_at IS NULL"),
        postgresql_nulls_not_distinct=True,
    ),
    comment="(user, role, county, scope); a removed role keeps its row with revoked_at.",
)

sessions = Table(
    "sessions",
    shared_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", ForeignKey("shared.users.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoke_reason", Text),
    Column("mfa", Boolean, nullable=False, server_default="false", comment="Second factor passed"),
    Column("client", Text, comment="User agent of the sign-in"),
    comment="A sign-in: access tokens name it, refresh tokens extend it, logout ends it.",
)

refresh_tokens = Table(
    "refresh_tokens",
    shared_metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("session_id", ForeignKey("shared.sessions.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("used_at", DateTime(timezone=True), comment="Rotated: a second use revokes the session"),
    comment="One row per refresh token issued; each is used once.",
)

api_keys = Table(
    "api_keys",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("prefix", Text, nullable=False, unique=True, comment="Public part, for lookup"),
    Column("secret_hash", LargeBinary, nullable=False, comment="SHA-256 of the secret part"),
    Column("county_code", String(6), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", BigInteger),
    comment="Keys of a county's own apps; the secret is shown once and stored hashed.",
)

invitations = Table(
    "invitations",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("token_hash", LargeBinary, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("county_code", String(6)),
    Column("scope", Text, nullable=False),
    Column("display_name", Text, nullable=False, comment="Whom the inviter meant"),
    Column("invited_by", BigInteger, comment="Null when the operator invited"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("accepted_by", BigInteger),
    Column("cancelled_at", DateTime(timezone=True)),
    comment="A role offered to someone who does not sign in yet; accepted once.",
)

login_codes = Table(
    "login_codes",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("phone_hash", LargeBinary, nullable=False),
    Column("code_hash", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("consumed_at", DateTime(timezone=True)),
    Index("ix_login_codes_phone_hash_created_at", "phone_hash", "created_at"),
    comment="One-time codes sent to a guardian's phone.",
)

binding_failures = Table(
    "binding_failures",
    shared_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("county_code", String(6), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_binding_failures_user_id_at", "user_id", "at"),
    comment="Failed bindings of a guardian's account; too many in an hour lock binding.",
)
