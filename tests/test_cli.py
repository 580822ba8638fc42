"""The `redscarf` command as an operator runs it: a real process against the test database."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from migrations.runner import Migrator
from redscarf.cli import app
from tenants.codes import schema_name
from tests.conftest import new_county_code

REDSCARF = str(Path(sys.executable).parent / "redscarf")
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


def redscarf(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    # A wide terminal keeps rich from wrapping an error code across lines.
    return subprocess.run(
        [REDSCARF, *args],
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    # typer ships its own click: a group is whatever has subcommands
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


COMMANDS = sorted(_command_paths(typer.main.get_command(app)))


def test_the_console_command_starts_and_shows_its_help(db_env: dict[str, str]) -> None:
    done = redscarf("--help", env=db_env)
    assert done.returncode == 0, done.stderr
    assert "Usage: redscarf" in done.stdout
    for group in ("county", "db", "prefecture", "serve", "demo"):
        assert group in done.stdout


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "redscarf")
def test_every_command_and_subcommand_has_help(path: tuple[str, ...]) -> None:
    # In-process: one `redscarf` process costs a second of imports, and the console entry point
    # itself is covered above.
    done = CliRunner().invoke(app, [*path, "--help"], prog_name="redscarf", env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "Usage: redscarf" in done.output
    assert done.exception is None


def test_the_command_tree_is_the_expected_one() -> None:
    assert {("county", "create"), ("county", "export"), ("db", "upgrade")} <= set(COMMANDS)


def test_county_create_is_idempotent_and_refuses_other_details(db_env: dict[str, str]) -> None:
    code = new_county_code()

    # When a county is created
    first = redscarf("county", "create", code, "--name", "惠水县", "--province", "52", env=db_env)
    # Then it says so
    assert first.returncode == 0, first.stderr
    assert f"惠水县（{code}）已开通" in first.stdout

    # When the same command runs again, nothing changes
    again = redscarf("county", "create", code, "--name", "惠水县", "--province", "52", env=db_env)
    assert again.returncode == 0, again.stderr
    assert "已存在（未作更改）" in again.stdout

    # When the same code comes with another name, it is refused with a clear message
    other = redscarf("county", "create", code, "--name", "别的县", "--province", "52", env=db_env)
    assert other.returncode != 0
    assert "COUNTY_EXISTS_WITH_OTHER_DETAILS" in other.stderr
    assert "惠水县" in other.stderr
    assert "不一致" in other.stderr
    assert "Traceback" not in other.stderr


@pytest.mark.parametrize("code", ["46903a", "469000"])
def test_a_malformed_code_is_refused(db_env: dict[str, str], code: str) -> None:
    done = redscarf("county", "create", code, "--name", "陵水", "--province", "46", env=db_env)
    assert done.returncode != 0
    assert "INVALID_ADMIN_CODE" in done.stderr
    assert "行政区划代码" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("db", "upgrade"), id="db-upgrade"),
        pytest.param(
            ("county", "create", "469034", "--name", "陵水黎族自治县", "--province", "46"),
            id="county-create",
        ),
        pytest.param(("county", "list"), id="county-list"),
        pytest.param(("demo",), id="demo"),
    ],
)
def test_an_unreachable_database_gives_a_clear_error(
    db_env: dict[str, str], args: tuple[str, ...]
) -> None:
    done = redscarf(*args, env={**db_env, "DATABASE_URL": UNREACHABLE})
    assert done.returncode != 0
    assert "DATABASE_UNAVAILABLE" in done.stderr
    assert "数据库无法连接" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_upgrade_reports_a_failing_county_and_resumes(
    db_env: dict[str, str], engine: Engine, migrator: Migrator
) -> None:
    # Given counties at head, `db upgrade` has nothing to do and succeeds
    code = new_county_code()
    created = redscarf("county", "create", code, "--name", "回退县", "--province", "52", env=db_env)
    assert created.returncode == 0, created.stderr
    ok = redscarf("db", "upgrade", env=db_env)
    assert ok.returncode == 0, ok.stderr
    assert "失败 0" in ok.stdout

    # Given one county whose schema names a revision this installation does not know
    # (as after restoring an export from a newer installation)
    schema = schema_name(code)
    head = migrator.head("tenant")
    unknown = "t9999_from_the_future"
    with engine.begin() as conn:
        conn.execute(
            text(f'UPDATE "{schema}".alembic_version SET version_num = :v'), {"v": unknown}
        )
    try:
        # When the operator upgrades
        failed = redscarf("db", "upgrade", env=db_env)

        # Then that county is reported, the command fails, and the county is left as it was
        assert failed.returncode == 1
        assert schema in failed.stderr
        assert "失败 1" in failed.stdout
        with engine.connect() as conn:
            version = conn.execute(
                text(f'SELECT version_num FROM "{schema}".alembic_version')
            ).scalar_one()
            error = conn.execute(
                text("SELECT migration_error FROM shared.tenants WHERE code = :c"), {"c": code}
            ).scalar_one()
        assert version == unknown
        assert error
        assert unknown in error
    finally:
        # When the cause is fixed, a rerun finishes
        with engine.begin() as conn:
            conn.execute(
                text(f'UPDATE "{schema}".alembic_version SET version_num = :v'), {"v": head}
            )
    rerun = redscarf("db", "upgrade", env=db_env)
    assert rerun.returncode == 0, rerun.stderr
    assert "失败 0" in rerun.stdout
    # and the registry no longer shows the old error
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT migration_error FROM shared.tenants WHERE code = :c"), {"c": code}
            ).scalar_one()
            is None
        )


def test_an_operator_creates_the_first_admin_and_a_development_token(
    db_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    # Given a county just onboarded
    code = new_county_code()
    env = {**db_env, "REDSCARF_DATA_DIR": str(tmp_path)}
    assert (
        redscarf(
            "county", "create", code, "--name", "长顺县", "--province", "52", env=env
        ).returncode
        == 0
    )
    # has its root unit, named after it, from which its organisation grows
    with engine.connect() as conn:
        root = conn.execute(
            text(f'SELECT kind, name, parent_id FROM "{schema_name(code)}".units')
        ).all()
    assert [tuple(r) for r in root] == [("county", "长顺县", None)]
    username = f"admin{code}"

    def create_admin(password: str) -> subprocess.CompletedProcess[str]:
        return redscarf(
            *("user", "create", "--username", username, "--name", "县管理员"),
            *("--role", "county_admin", "--county", code, "--password", password),
            env=env,
        )

    # When the operator creates its first admin, a weak password is refused
    weak = create_admin("123")
    assert weak.returncode != 0
    assert "WEAK_PASSWORD" in weak.stderr
    done = create_admin("Changshun-2026!")
    assert done.returncode == 0, done.stderr

    # Then a development token for that admin is printed, and it names the account
    token = redscarf("token", "--username", username, env=env)
    assert token.returncode == 0, token.stderr
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT u.display_name, r.role FROM shared.users u JOIN shared.role_assignments r"
                " ON r.user_id = u.id WHERE u.username = :u"
            ),
            {"u": username},
        ).one()
    assert tuple(row) == ("县管理员", "county_admin")
    assert token.stdout.strip().count(".") == 2  # a JWT

    unknown = redscarf("token", "--username", "nobody-at-all", env=env)
    assert unknown.returncode != 0
    assert "USER_NOT_FOUND" in unknown.stderr


def test_audit_purge_keeps_what_is_within_the_retention_period(db_env: dict[str, str]) -> None:
    done = redscarf("audit", "purge", env={**db_env, "REDSCARF_AUDIT_RETENTION_DAYS": "365"})
    assert done.returncode == 0, done.stderr
    assert "365 天" in done.stdout
    too_short = redscarf("audit", "purge", env={**db_env, "REDSCARF_AUDIT_RETENTION_DAYS": "30"})
    assert too_short.returncode != 0
    assert "INVALID_CONFIGURATION" in too_short.stderr
    assert "AUDIT_RETENTION_DAYS" in too_short.stderr
    assert "Traceback" not in too_short.stderr
