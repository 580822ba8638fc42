"""The world the authorization table runs in: two counties of one province, one of them in a
prefecture, each with a small tree, pupils and a bound guardian; and a way to sign in as
each role there.

County A (in prefecture 5227):              County B:
  c                                          c
  ├─ T1 township                             └─ T township
  │   └─ S1 brigade                               └─ S brigade
  │       └─ Q1 squadron  (pupil P1, team M1)          └─ Q squadron (pupil P3)
  │           └─ M1 team
  └─ T2 township
      └─ S2 brigade
          └─ Q2 squadron  (pupil P2)
  partners X1 (the partner role's own), X2     partner X

Every pupil has points to spend (on activities and the exchange).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, insert

from authz.roles import Role
from domain.accounts import service
from domain.exchange.service import create_partner, partner_scope
from domain.ledger.service import Grant, issue_many
from domain.people.tables import pupils
from migrations.runner import Migrator
from tenants.provisioning import County, create_county, create_prefecture
from tenants.sessions import tenant_connection
from tests.graphql_client import UnitRef, create_unit, guardian_of, sign_in_as, tenant_of

PREFECTURE = "5227"
A_CODE = "522731"


@dataclass(frozen=True)
class Side:
    county: County
    units: dict[str, UnitRef]
    pupils: dict[str, int]
    partners: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class World:
    a: Side
    b: Side


def _pupil(
    engine: Engine, county: County, squadron: UnitRef, name: str, team: UnitRef | None
) -> int:
    with tenant_connection(engine, tenant_of(county)) as conn:
        return int(
            conn.execute(
                insert(pupils)
                .values(
                    squadron_id=squadron.id,
                    team_id=team.id if team else None,
                    name=name,
                    gender="female",
                    grade=4,
                    birth_date=dt.date(2015, 3, 14),
                    status="member",
                )
                .returning(pupils.c.id)
            ).scalar_one()
        )


def _partners(engine: Engine, county: County, names: dict[str, str]) -> dict[str, int]:
    with tenant_connection(engine, tenant_of(county)) as conn:
        return {label: create_partner(conn, name, "0854-1234567") for label, name in names.items()}


def _points(engine: Engine, county: County, pupil_ids: dict[str, int]) -> None:
    with tenant_connection(engine, tenant_of(county)) as conn:
        issue_many(conn, [Grant(f"authz-world:{pk}", pk, 100_000) for pk in pupil_ids.values()],
                   kind="award")  # fmt: skip


def build_world(engine: Engine, migrator: Migrator, b_code: str) -> World:
    create_prefecture(engine, PREFECTURE, "黔南布依族苗族自治州", "52")
    a = create_county(engine, migrator, A_CODE, "惠水县", "52", prefecture=PREFECTURE).county
    b = create_county(engine, migrator, b_code, "南明区", "52").county

    root = create_unit(engine, a, "county", a.name)
    t1 = create_unit(engine, a, "township", "和平镇", root, area="urban")
    s1 = create_unit(engine, a, "brigade", "和平镇中心小学", t1, school_kind="ordinary")
    q1 = create_unit(engine, a, "squadron", "四（1）中队", s1, grade=4)
    m1 = create_unit(engine, a, "team", "第一小队", q1)
    t2 = create_unit(engine, a, "township", "断杉镇", root, area="rural")
    s2 = create_unit(engine, a, "brigade", "断杉小学", t2, school_kind="ordinary")
    q2 = create_unit(engine, a, "squadron", "四（2）中队", s2, grade=4)
    side_a = Side(
        a,
        {"c": root, "T1": t1, "S1": s1, "Q1": q1, "M1": m1, "T2": t2, "S2": s2, "Q2": q2},
        {"P1": _pupil(engine, a, q1, "王小红", m1), "P2": _pupil(engine, a, q2, "李明", None)},
        _partners(engine, a, {"X1": "涟江酒店", "X2": "新华书店"}),
    )
    _points(engine, a, side_a.pupils)

    b_root = create_unit(engine, b, "county", b.name)
    bt = create_unit(engine, b, "township", "中华路街道", b_root, area="urban")
    bs = create_unit(engine, b, "brigade", "南明小学", bt)
    bq = create_unit(engine, b, "squadron", "四（3）中队", bs, grade=4)
    side_b = Side(
        b,
        {"c": b_root, "T": bt, "S": bs, "Q": bq},
        {"P3": _pupil(engine, b, bq, "张伟", None)},
        _partners(engine, b, {"X": "南明书城"}),
    )
    _points(engine, b, side_b.pupils)
    return World(side_a, side_b)


# Where each role is assigned in county A (regional roles: their region's code).
ROLE_SCOPES: dict[str, tuple[str | None, str]] = {
    "province_admin": (None, "52"),
    "prefecture_admin": (None, PREFECTURE),
    "county_admin": (A_CODE, "c"),
    "township_admin": (A_CODE, "T1"),
    "brigade_counselor": (A_CODE, "S1"),
    "squadron_counselor": (A_CODE, "Q1"),
    "team_counselor": (A_CODE, "M1"),
    "guardian": (A_CODE, "c"),
    "partner": (A_CODE, "X1"),  # its own partner's scope (`partner_scope`)
}


def credentials(services: Any, world: World, who: str, operator_token: str) -> dict[str, str]:
    """Fresh credentials of `who` (a new user each time: no case can disturb another)."""
    if who == "anonymous":
        return {}
    if who == "operator":
        return {"Authorization": f"Bearer {operator_token}"}
    if who == "county_app":
        with services.sync_engine.begin() as conn:
            issued = service.create_api_key(
                conn,
                county_code=A_CODE,
                name="县少工委小程序",
                role=Role.BRIGADE_COUNSELOR,
                scope=world.a.units["S1"].path,
                created_by=0,
            )
        return {"X-Api-Key": issued.secret}
    if who == "guardian":
        return {
            "Authorization": f"Bearer {guardian_of(services, world.a.county, [world.a.pupils['P1']])}"
        }
    county, label = ROLE_SCOPES[who]
    scope = label
    if who == "partner":
        scope = partner_scope(world.a.partners[label])
    elif county:
        scope = world.a.units[label].path
    return {"Authorization": f"Bearer {sign_in_as(services, who, county, scope)}"}
