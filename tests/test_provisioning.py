"""Onboarding a county: one transaction, idempotent, clear errors, nothing half-created."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from migrations.runner import Migrator
from redscarf.errors import RedscarfError
from tenants.provisioning import create_county, create_prefecture
from tenants.roles import county_role
from tests.conftest import new_county_code


def _schema_exists(engine: Engine, schema: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
            ).first()
        )


def test_a_new_county_gets_its_schema_role_tables_and_badge_ladder(
    engine: Engine, migrator: Migrator
) -> None:
    code = new_county_code()
    result = create_county(engine, migrator, code, "惠水县", "52")

    county = result.county
    assert result.created
    assert county.status == "active"
    assert county.schema_version == migrator.head("tenant")
    with engine.connect() as conn:
        badges = conn.execute(
            text(f'SELECT level, count(*) FROM "{county.schema_name}".badges GROUP BY level')
        ).all()
        role = conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = :r"), {"r": county.role_name}
        ).scalar()
    assert dict(badges) == {"basic": 12, "star1": 1, "star2": 1, "star3": 1, "star4": 1, "star5": 1}
    assert role == county.role_name


def test_creating_the_same_county_again_changes_nothing(engine: Engine, migrator: Migrator) -> None:
    code = new_county_code()
    first = create_county(engine, migrator, code, "陵水黎族自治县", "52")
    again = create_county(engine, migrator, code, "陵水黎族自治县", "52")

    assert not again.created
    assert again.county == first.county


@pytest.mark.parametrize(
    ("code", "name", "province", "error_code"),
    [
        ("46903", "陵水", "46", "INVALID_ADMIN_CODE"),
        ("46903a", "陵水", "46", "INVALID_ADMIN_CODE"),
        ("999034", "陵水", "46", "INVALID_ADMIN_CODE"),
        ("469000", "陵水", "46", "INVALID_ADMIN_CODE"),
        ("469034", "陵水", "52", "CODE_NOT_IN_PROVINCE"),
        ("469034", "  ", "46", "NAME_REQUIRED"),
        ("469034", "陵水", "4", "INVALID_ADMIN_CODE"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code_and_leaves_nothing(
    engine: Engine, migrator: Migrator, code: str, name: str, province: str, error_code: str
) -> None:
    with pytest.raises(RedscarfError) as caught:
        create_county(engine, migrator, code, name, province)

    assert caught.value.code == error_code
    assert caught.value.message  # a Chinese sentence for the operator
    assert not _schema_exists(engine, f"county_{code}")


def test_the_same_code_with_other_details_is_a_conflict(engine: Engine, migrator: Migrator) -> None:
    code = new_county_code()
    create_county(engine, migrator, code, "惠水县", "52")

    with pytest.raises(RedscarfError) as caught:
        create_county(engine, migrator, code, "别的县", "52")

    assert caught.value.code == "COUNTY_EXISTS_WITH_OTHER_DETAILS"
    assert "惠水县" in caught.value.message


def test_a_county_under_an_unknown_prefecture_is_refused_and_not_created(
    engine: Engine, migrator: Migrator
) -> None:
    code = new_county_code("33")
    with pytest.raises(RedscarfError) as caught:
        create_county(engine, migrator, code, "嘉善县", "33", prefecture=code[:4])
    assert caught.value.code == "PREFECTURE_NOT_FOUND"
    assert not _schema_exists(engine, f"county_{code}")

    create_prefecture(engine, code[:4], "嘉兴市", "33")
    county = create_county(engine, migrator, code, "嘉善县", "33", prefecture=code[:4]).county
    assert county.prefecture_code == code[:4]


def test_a_failure_midway_leaves_no_half_created_county(
    engine: Engine, migrator: Migrator, tmp_path
) -> None:
    # Given a migration set whose second county migration fails
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "9999_broken.py").write_text(
        "revision = 'tbroken'\n"
        f"down_revision = {migrator.head('tenant')!r}\n"
        "branch_labels = None\ndepends_on = None\n"
        "from alembic import op\n"
        "def upgrade():\n    op.execute('SELECT 1/0')\n"
        "def downgrade():\n    pass\n"
    )
    code = new_county_code()

    # When a county is created with it
    with pytest.raises(Exception, match="division by zero"):
        create_county(engine, Migrator([broken]), code, "半途县", "52")

    # Then neither the registry row, the schema nor the role exists
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM shared.tenants WHERE code = :c"), {"c": code}
            ).scalar()
            == 0
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_roles WHERE rolname = :r"),
                {"r": county_role(conn.engine.url.database or "", code)},
            ).scalar()
            == 0
        )
    assert not _schema_exists(engine, f"county_{code}")
