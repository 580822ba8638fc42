"""Demo accounts, so that a newcomer can try every view of the demo province at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, text

from authz.roles import LABELS, Role
from domain.accounts.service import create_user, grant_role, start_session
from domain.accounts.tables import users
from redscarf.keys import Keys
from redscarf.settings import Settings
from tenants.codes import schema_name

PASSWORD = "Demo-Redscarf-2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    label: str
    token: str


def _first_squadron(engine: Engine, county_code: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text(
                f'SELECT path::text FROM "{schema_name(county_code)}".units'
                " WHERE kind = 'squadron' ORDER BY path LIMIT 1"
            )
        ).scalar()


def demo_accounts(
    engine: Engine, keys: Keys, settings: Settings, counties: list[tuple[str, str]]
) -> list[DemoAccount]:
    """The demo's accounts (made once, kept afterwards) and a fresh 12-hour token for each."""
    wanted: list[tuple[str, str, Role, str | None, str]] = [
        ("demo-province", "贵州省团省委", Role.PROVINCE_ADMIN, None, "52")
    ]
    for code, name in counties:
        wanted.append((f"demo-admin-{code}", f"{name}少工委", Role.COUNTY_ADMIN, code, "c"))
        if squadron := _first_squadron(engine, code):
            wanted.append(
                (
                    f"demo-counselor-{code}",
                    f"{name}中队辅导员",
                    Role.SQUADRON_COUNSELOR,
                    code,
                    squadron,
                )
            )
    long_lived = settings.model_copy(update={"access_token_minutes": 12 * 60})
    made = []
    with engine.begin() as conn:
        for username, name, role, county, scope in wanted:
            user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
            if user_id is None:
                user_id = create_user(
                    conn, keys.cipher, display_name=name, username=username, password=PASSWORD
                )
                grant_role(conn, user_id, role, county, scope, granted_by=None)
            tokens = start_session(conn, keys, long_lived, user_id, mfa=True, client="demo")
            label = f"{LABELS[role]} · {name}"
            made.append(DemoAccount(username, label, tokens.access_token))
    return made


__all__ = ["PASSWORD", "DemoAccount", "demo_accounts"]
