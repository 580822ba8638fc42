"""Shared schema: accounts, role assignments, sessions, API keys, invitations, login codes,
and the platform audit log (append-only, enforced by a trigger the county audit logs share).

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import SHARED, audit_log_columns_v1, guard_audit_log

revision: str = "s0003"
down_revision: str | Sequence[str] | None = "s0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_RETENTION_FLOOR_DAYS = 180  # 网络安全法 art. 21: network logs kept at least six months


def _now() -> sa.TextClause:
    return sa.text("now()")


def _ts(name: str, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("username", sa.Text, comment="Login name of staff, lower case"),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("phone_hash", sa.LargeBinary, comment="Keyed hash of the phone number"),
        sa.Column("phone_enc", sa.Text, comment="Phone number, encrypted (domain.personal.crypto)"),
        sa.Column("password_hash", sa.Text, comment="argon2id"),
        _ts("password_changed_at"),
        sa.Column("totp_secret_enc", sa.Text, comment="TOTP secret, encrypted"),
        _ts("totp_enabled_at"),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        _ts("locked_until"),
        sa.Column("external_subject", sa.Text, comment="OpenID Connect `iss|sub`"),
        _ts("disabled_at"),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("last_login_at"),
        sa.CheckConstraint("username = lower(username)", name="ck_users_username_lower"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("phone_hash", name="uq_users_phone_hash"),
        sa.UniqueConstraint("external_subject", name="uq_users_external_subject"),
        schema=SHARED,
        comment="People who sign in: admins, counselors, guardians, partners.",
    )
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey(f"{SHARED}.users.id", name="fk_role_assignments_user_id_users"),
            nullable=False,
        ),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("county_code", sa.String(6), comment="Null for province and prefecture roles"),
        sa.Column(
            "scope", sa.Text, nullable=False, comment="Unit path, or province/prefecture code"
        ),
        sa.Column(
            "granted_by", sa.BigInteger, comment="User who granted it (invitation or operator)"
        ),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("revoked_at"),
        sa.Column("revoked_by", sa.BigInteger),
        schema=SHARED,
        comment="(user, role, county, scope); a removed role keeps its row with revoked_at.",
    )
    op.create_index("ix_role_assignments_user_id", "role_assignments", ["user_id"], schema=SHARED)
    op.create_index(
        "uq_role_assignments_active",
        "role_assignments",
        ["user_id", "role", "county_code", "scope"],
        unique=True,
        schema=SHARED,
        postgresql_where=sa.text("revoked_at IS NULL"),
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey(f"{SHARED}.users.id", name="fk_sessions_user_id_users"),
            nullable=False,
        ),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("last_seen_at", nullable=False, server_default=_now()),
        _ts("expires_at", nullable=False),
        _ts("revoked_at"),
        sa.Column("revoke_reason", sa.Text),
        sa.Column(
            "mfa",
            sa.Boolean,
            nullable=False,
            server_default="false",
            comment="Second factor passed",
        ),
        sa.Column("client", sa.Text, comment="User agent of the sign-in"),
        schema=SHARED,
        comment="A sign-in: access tokens name it, refresh tokens extend it, logout ends it.",
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], schema=SHARED)
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.LargeBinary, primary_key=True),
        sa.Column(
            "session_id",
            sa.UUID(as_uuid=True),
            sa.ForeignKey(f"{SHARED}.sessions.id", name="fk_refresh_tokens_session_id_sessions"),
            nullable=False,
        ),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("used_at", comment="Rotated: a second use revokes the session"),
        schema=SHARED,
        comment="One row per refresh token issued; each is used once.",
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"], schema=SHARED)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("prefix", sa.Text, nullable=False, comment="Public part, for lookup"),
        sa.Column(
            "secret_hash", sa.LargeBinary, nullable=False, comment="SHA-256 of the secret part"
        ),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("last_used_at"),
        _ts("revoked_at"),
        sa.Column("revoked_by", sa.BigInteger),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        schema=SHARED,
        comment="Keys of a county's own apps; the secret is shown once and stored hashed.",
    )
    op.create_index("ix_api_keys_county_code", "api_keys", ["county_code"], schema=SHARED)
    op.create_table(
        "invitations",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("token_hash", sa.LargeBinary, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("county_code", sa.String(6)),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, comment="Whom the inviter meant"),
        sa.Column("invited_by", sa.BigInteger, comment="Null when the operator invited"),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("expires_at", nullable=False),
        _ts("accepted_at"),
        sa.Column("accepted_by", sa.BigInteger),
        _ts("cancelled_at"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
        schema=SHARED,
        comment="A role offered to someone who does not sign in yet; accepted once.",
    )
    op.create_table(
        "login_codes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("phone_hash", sa.LargeBinary, nullable=False),
        sa.Column("code_hash", sa.LargeBinary, nullable=False),
        _ts("created_at", nullable=False, server_default=_now()),
        _ts("expires_at", nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _ts("consumed_at"),
        schema=SHARED,
        comment="One-time codes sent to a guardian's phone.",
    )
    op.create_index(
        "ix_login_codes_phone_hash_created_at",
        "login_codes",
        ["phone_hash", "created_at"],
        schema=SHARED,
    )

    # The append-only rule every audit log (this one and each county's) is guarded by.
    op.execute(
        f"""
        CREATE FUNCTION {SHARED}.audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE'
               AND current_setting('redscarf.audit_purge', true) = 'on'
               AND OLD.at < now() - make_interval(days => {AUDIT_RETENTION_FLOOR_DAYS}) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.create_table(
        "audit_log",
        *audit_log_columns_v1(),
        sa.Column("county_code", sa.String(6)),
        schema=SHARED,
        comment="Append-only: who did what, when, to which object, from which client.",
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], schema=SHARED)
    guard_audit_log(SHARED)


def downgrade() -> None:
    op.drop_table("audit_log", schema=SHARED)
    op.execute(f"DROP FUNCTION {SHARED}.audit_log_append_only()")
    for table in (
        "login_codes",
        "invitations",
        "api_keys",
        "refresh_tokens",
        "sessions",
        "role_assignments",
        "users",
    ):
        op.drop_table(table, schema=SHARED)
