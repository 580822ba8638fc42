"""THE authorization table: every GraphQL operation against every role, in scope, out of
scope, and in another county, with the outcome a user would see.

Places:
- `in`: county A, an object inside the caller's scope (for a county role: under its unit);
- `out`: county A, an object outside it (Q2/P2 under the other township);
- `other`: county B. For operations on an object: B's object asked for while routed to A
  (an ID of another county). For county-wide operations: the request routed to B.

Outcomes:
- `ok`: answered with the object / a non-empty list / a successful payload;
- `hidden`: answered, but empty or null: the object is out of reach and looks missing;
- `allowed`: answered without an error (the result depends on the input, e.g. a password);
- an error code: the first error carries it (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...).

`tests/test_authorization.py` runs every cell through the real HTTP endpoint, and fails when
the schema has an operation this table does not classify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from schema.ids import encode_global_id
from tenants.sessions import tenant_connection
from tests.authz_world import World

ROLES = (
    "anonymous",
    "operator",
    "province_admin",
    "prefecture_admin",
    "county_admin",
    "township_admin",
    "brigade_counselor",
    "squadron_counselor",
    "team_counselor",
    "guardian",
    "partner",
    "county_app",  # an API key of county A with the brigade counselor role at S1
)
COUNTY_ROLES = ROLES[4:]
STAFF_OF_A = ("county_admin", "township_admin", "brigade_counselor", "squadron_counselor",
              "team_counselor", "county_app")  # fmt: skip

U, F, NF, CNF = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "COUNTY_NOT_FOUND"

Expect = tuple[str, str, str]  # (in, out, other)
Setup = Callable[[World, Any, str], dict[str, Any]]


@dataclass(frozen=True)
class Op:
    query: str
    field: str
    kind: str  # "object": in/out/other; "county": in/other (no object); "public"
    expect: dict[str, Expect]
    variables: Setup = field(default=lambda world, services, place: {})
    other_in_b: bool = False
    """For an object operation, `other` is routed to county B (naming B's scope) instead of
    naming B's object while routed to A."""


def table(default: str | Expect, **by_role: str | Expect) -> dict[str, Expect]:
    """Expectations of every role: `default`, with some roles' given."""
    result: dict[str, Expect] = {}
    for role in ROLES:
        value = by_role.get(role, default)
        result[role] = (value, value, value) if isinstance(value, str) else value
    return result


def gid(type_name: str, county: str, pk: int) -> str:
    return encode_global_id(type_name, county, pk)


def unit_id(place: str, world: World) -> str:
    side, label = (world.a, "S1") if place == "in" else (world.a, "S2")
    if place == "other":
        side, label = world.b, "S"
    return gid("Unit", side.county.code, side.units[label].id)


def squadron_id(place: str, world: World) -> str:
    if place == "other":
        return gid("Unit", world.b.county.code, world.b.units["Q"].id)
    label = "Q1" if place == "in" else "Q2"
    return gid("Unit", world.a.county.code, world.a.units[label].id)


def pupil_id(place: str, world: World) -> str:
    if place == "other":
        return gid("Pupil", world.b.county.code, world.b.pupils["P3"])
    label = "P1" if place == "in" else "P2"
    return gid("Pupil", world.a.county.code, world.a.pupils[label])


def _squadron_path(world: World, place: str) -> str:
    return world.a.units["Q1" if place == "in" else "Q2"].path


# Who sees which pupils (P1 in Q1 and team M1, bound to the guardian; P2 in Q2).
PUPIL = table(
    "hidden",  # partner, province, prefecture, operator: no pupils at all
    anonymous=U,
    county_admin=("ok", "ok", "hidden"),
    township_admin=("ok", "hidden", "hidden"),
    brigade_counselor=("ok", "hidden", "hidden"),
    squadron_counselor=("ok", "hidden", "hidden"),
    team_counselor=("ok", "hidden", "hidden"),
    guardian=("ok", "hidden", "hidden"),
    county_app=("ok", "hidden", "hidden"),
)


# County-wide reads: everyone of county A; on county B, only who reaches B.
def county_wide(in_a: str, **by_role: str) -> dict[str, Expect]:
    expect = table((in_a, in_a, CNF), anonymous=U)
    for role in ("operator", "province_admin"):  # both reach county B as well
        expect[role] = (in_a, in_a, in_a)
    for role, value in by_role.items():
        expect[role] = (
            (value, value, value) if role in ("operator", "province_admin") else (value, value, CNF)
        )
    return expect


def unit_write() -> dict[str, Expect]:
    """Changing the organisation: county, township and brigade in their own subtree."""
    unf = "UNIT_NOT_FOUND"
    return {
        **table((F, F, unf), anonymous=U),
        "county_admin": ("ok", "ok", unf),
        "township_admin": ("ok", F, unf),
        "brigade_counselor": ("ok", F, unf),
        "county_app": ("ok", F, unf),
    }


def _school_name(place: str) -> str:
    return {"in": "和平镇中心小学", "out": "断杉小学", "other": "南明小学"}[place]


def _fresh_team(world: World, services: Any, place: str) -> dict[str, Any]:
    """A new team to archive, in Q1 (in), Q2 (out) or county B's squadron (other)."""
    from tests.graphql_client import create_unit

    side, label = (world.b, "Q") if place == "other" else (world.a, "Q1" if place == "in" else "Q2")
    team = create_unit(services.sync_engine, side.county, "team", "临时小队", side.units[label])
    return {"id": gid("Unit", side.county.code, team.id)}


def _an_import(world: World, services: Any, place: str) -> dict[str, Any]:
    """An import of pupils someone else (with the whole county in reach) started, in county A
    (in, out) or B (other)."""
    from sqlalchemy import insert

    from domain.imports.tables import roster_imports, uploads
    from tests.graphql_client import tenant_of

    side = world.b if place == "other" else world.a
    someone = {"kind": "user", "id": 0, "name": "someone", "roles": "county_admin",
               "everything": False, "paths": ["c"]}  # fmt: skip
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        upload = conn.execute(
            insert(uploads)
            .values(filename="名册.xlsx", size=1, sha256=b"-")
            .returning(uploads.c.id)
        ).scalar_one()
        pk = conn.execute(
            insert(roster_imports)
            .values(kind="pupils", upload_id=upload, requested_by=someone)
            .returning(roster_imports.c.id)
        ).scalar_one()
    return {"id": gid("RosterImport", side.county.code, pk)}


def _data_request(world: World, services: Any, place: str) -> dict[str, Any]:
    """A pending request about P1 (in), P2 (out) or county B's P3 (other), made on paper."""
    from sqlalchemy import insert

    from domain.people.tables import data_requests
    from tests.graphql_client import tenant_of

    side, label = (
        (world.b, "P3") if place == "other" else (world.a, "P1" if place == "in" else "P2")
    )
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        pk = conn.execute(
            insert(data_requests)
            .values(pupil_id=side.pupils[label], kind="see")
            .returning(data_requests.c.id)
        ).scalar_one()
    return {"id": gid("DataRequest", side.county.code, pk)}


def _a_request_about_p1(world: World, services: Any, place: str) -> dict[str, Any]:
    _data_request(world, services, "in")
    return {}


_years = iter(range(3000, 100000))  # a fresh academic year per award: never a duplicate


def award_write() -> dict[str, Expect]:
    """Acting on a star-one award of P1 (in), P2 (out) or county B's P3 (other): those who may
    select one-star badges where the pupil sits; those who only see the pupil are refused."""
    writers = {role: ("ok", NF, NF) for role in ("brigade_counselor", "squadron_counselor",
                                                 "county_app")}  # fmt: skip
    seers = {role: (F, NF, NF) for role in ("township_admin", "team_counselor", "guardian")}
    return {**table(NF, anonymous=U), **writers, **seers, "county_admin": ("ok", "ok", NF)}


def _badge_id(side: Any, services: Any, code: str) -> int:
    from sqlalchemy import select

    from domain.badges.tables import badges
    from tests.graphql_client import tenant_of

    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return conn.execute(select(badges.c.id).where(badges.c.code == code)).scalar_one()


def _candidacy(state: str, *, objection: bool = False) -> Setup:
    """A star-one award of P1, P2 or P3 in `state` (under notice until yesterday)."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        import datetime as dt

        from sqlalchemy import insert

        from domain.badges.tables import award_objections, badge_awards
        from tests.graphql_client import tenant_of

        side, label = (
            (world.b, "P3") if place == "other" else (world.a, "P1" if place == "in" else "P2")
        )
        star1 = _badge_id(side, services, "star.1")
        with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
            pk = conn.execute(
                insert(badge_awards)
                .values(badge_id=star1, pupil_id=side.pupils[label], academic_year=next(_years),
                        state=state, notice_until=dt.date.today() - dt.timedelta(days=1))
                .returning(badge_awards.c.id)
            ).scalar_one()  # fmt: skip
            if objection:
                made = conn.execute(
                    insert(award_objections)
                    .values(award_id=pk, content="有异议")
                    .returning(award_objections.c.id)
                ).scalar_one()
                return {"id": gid("AwardObjection", side.county.code, made)}
        return {"id": gid("BadgeAward", side.county.code, pk)}

    return setup


def _a_candidacy_of_p1(world: World, services: Any, place: str) -> dict[str, Any]:
    _candidacy("nominated")(world, services, "in")
    return {}


def _award_variables(world: World, services: Any, place: str) -> dict[str, Any]:
    return {
        "p": pupil_id(place, world),
        "b": gid("Badge", world.a.county.code, _badge_id(world.a, services, "basic.hongqi.1")),
        "y": next(_years),
    }


def _star_variables(world: World, services: Any, place: str) -> dict[str, Any]:
    return {
        "p": pupil_id(place, world),
        "b": gid("Badge", world.a.county.code, _badge_id(world.a, services, "star.1")),
    }


def _collective(world: World, services: Any, place: str) -> dict[str, Any]:
    """A collective badge of county A, for a squadron of A (in, out) or of B (other)."""
    from domain.badges.awards import create_badge
    from tests.graphql_client import tenant_of

    with tenant_connection(services.sync_engine, tenant_of(world.a.county)) as conn:
        badge = create_badge(conn, "小金果章", "collective", criteria=None, icon=None, points=0,
                             academic_year=None)  # fmt: skip
    return {"b": gid("Badge", world.a.county.code, badge), "u": squadron_id(place, world),
            "y": next(_years)}  # fmt: skip


def _an_archive_export(world: World, services: Any, place: str) -> dict[str, Any]:
    """An export of S1's archives someone else (reaching the whole county) asked for."""
    from sqlalchemy import insert

    from domain.archive import archive_exports
    from tests.graphql_client import tenant_of

    side = world.b if place == "other" else world.a
    unit = side.units["S" if place == "other" else "S1"]
    someone = {"kind": "user", "id": 0, "name": "someone", "roles": "county_admin",
               "everything": False, "paths": ["c"]}  # fmt: skip
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        pk = conn.execute(
            insert(archive_exports)
            .values(unit_id=unit.id, requested_by=someone)
            .returning(archive_exports.c.id)
        ).scalar_one()
    return {"id": gid("ArchiveExport", side.county.code, pk)}


JOB_READERS = ("operator", "county_admin", "township_admin", "brigade_counselor",
               "squadron_counselor", "county_app")  # fmt: skip


def _a_job(world: World, services: Any, place: str) -> dict[str, Any]:
    """A refund job of county A (or B, for `other`)."""
    from sqlalchemy import insert

    from workers.jobs import jobs

    side = world.b if place == "other" else world.a
    with services.sync_engine.begin() as conn:
        pk = conn.execute(
            insert(jobs)
            .values(county_code=side.county.code, actor="refund_activity")
            .returning(jobs.c.id)
        ).scalar_one()
    return {"id": str(pk)}


def counselor_write(found: str = "UNIT_NOT_FOUND") -> dict[str, Expect]:
    """Appointing in a unit (`found`: what another county's unit or counselor gives)."""
    return {
        **table((F, F, found), anonymous=U),
        "county_admin": ("ok", "ok", found),
        "township_admin": ("ok", F, found),
        "brigade_counselor": ("ok", F, found),
        "county_app": ("ok", F, found),
    }


def counselor_change() -> dict[str, Expect]:
    """Changing a counselor: out of sight is not found."""
    return {
        **table(NF, anonymous=U),
        "county_admin": ("ok", "ok", NF),
        "township_admin": ("ok", NF, NF),
        "brigade_counselor": ("ok", NF, NF),
        "county_app": ("ok", NF, NF),
    }


def _fresh_counselor(world: World, services: Any, place: str) -> dict[str, Any]:
    """A counselor in office at Q1 (in), Q2 (out) or county B's squadron (other)."""
    from domain.people.tables import counselor_appointments, counselors
    from tenants.sessions import tenant_connection
    from tests.graphql_client import tenant_of

    side, label = (world.b, "Q") if place == "other" else (world.a, "Q1" if place == "in" else "Q2")
    unit = side.units[label]
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        pk = conn.execute(
            counselors.insert()
            .values(name="辅导员", kind="squadron", unit_id=unit.id)
            .returning(counselors.c.id)
        ).scalar_one()
        conn.execute(
            counselor_appointments.insert().values(
                counselor_id=pk, unit_id=unit.id, kind="squadron", started_on="2025-09-01"
            )
        )
    return {
        "id": gid("Counselor", side.county.code, pk),
        "u": gid("Unit", side.county.code, unit.id),
    }


def _counselor_in_q1(world: World, services: Any, place: str) -> dict[str, Any]:
    """Setup of the list: a counselor in office at Q1 (the query takes no variables)."""
    _fresh_counselor(world, services, "in")
    return {}


def _new_pupil(services: Any, side: Any, label: str, team: Any = None) -> int:
    from domain.people.tables import pupils
    from tenants.sessions import tenant_connection
    from tests.graphql_client import tenant_of

    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return int(
            conn.execute(
                pupils.insert()
                .values(
                    squadron_id=side.units[label].id,
                    team_id=team.id if team else None,
                    name="转学生",
                    gender="male",
                    grade=4,
                    birth_date="2015-05-05",
                )
                .returning(pupils.c.id)
            ).scalar_one()
        )


def _pupil_to_transfer(world: World, services: Any, place: str) -> dict[str, Any]:
    """A fresh pupil: in Q1's team M1 (in), in Q2 (out), in county B (other); to county B."""
    if place == "other":
        side, pk = world.b, _new_pupil(services, world.b, "Q")
    elif place == "in":
        side, pk = world.a, _new_pupil(services, world.a, "Q1", world.a.units["M1"])
    else:
        side, pk = world.a, _new_pupil(services, world.a, "Q2")
    return {"id": gid("Pupil", side.county.code, pk), "to": world.b.county.code}


def _pending_transfer(world: World, services: Any, place: str) -> dict[str, Any]:
    """A pending transfer of a fresh pupil from B to A (for "other": from A to B)."""
    from domain.people.transfers import pupil_transfers, seal

    origin, target = (world.a, world.b) if place == "other" else (world.b, world.a)
    label = "Q1" if origin is world.a else "Q"
    pk = _new_pupil(services, origin, label)
    snapshot = {
        "name": "转学生",
        "gender": "male",
        "status": "member",
        "birth_date": "2015-05-05",
        "grade": 4,
        "id_number": None,
        "joined_on": None,
        "batch": None,
        "history": [],
        "from_county_name": origin.county.name,
    }
    with services.sync_engine.begin() as conn:
        transfer = conn.execute(
            pupil_transfers.insert()
            .values(
                from_county=origin.county.code,
                to_county=target.county.code,
                from_pupil_id=pk,
                grade=4,
                snapshot_enc=seal(services.keys.cipher, snapshot),
            )
            .returning(pupil_transfers.c.id)
        ).scalar_one()
    return {"t": str(transfer), "s": squadron_id("in" if place == "other" else place, world)}


def pupil_write(ok: str) -> dict[str, Expect]:
    """Changing a pupil: not found out of sight, forbidden where only seen, `ok` where written."""
    writers = {
        role: (ok, NF, NF) for role in ("brigade_counselor", "squadron_counselor", "county_app")
    }
    seers = {role: (F, NF, NF) for role in ("township_admin", "team_counselor", "guardian")}
    return {**table(NF, anonymous=U), **writers, **seers, "county_admin": (ok, ok, NF)}


def _new_code(world: World, services: Any, place: str) -> dict[str, Any]:
    from tests.conftest import new_county_code

    province = "52" if place == "in" else "46"
    return {"input": {"code": new_county_code(province), "name": "新县", "provinceCode": province}}


def _this_academic_year() -> int:
    import datetime as dt

    from domain.people.pupils import academic_year

    return academic_year(dt.date.today())


def _assignment(world: World, services: Any, place: str) -> dict[str, Any]:
    """A fresh squadron counselor assignment at Q1 (in), Q2 (out) or in county B (other)."""
    from authz.roles import Role
    from domain.accounts.service import create_user, grant_role

    side, label = (world.b, "Q") if place == "other" else (world.a, "Q1" if place == "in" else "Q2")
    with services.sync_engine.begin() as conn:
        user = create_user(conn, services.keys.cipher, display_name="被撤销者")
        pk = grant_role(
            conn,
            user,
            Role.SQUADRON_COUNSELOR,
            side.county.code,
            side.units[label].path,
            granted_by=None,
        )
    return {"input": {"assignmentId": str(pk)}}


def _api_key(world: World, services: Any, place: str) -> dict[str, Any]:
    from authz.roles import Role
    from domain.accounts.service import create_api_key

    side, label = (world.b, "Q") if place == "other" else (world.a, "Q1" if place == "in" else "Q2")
    with services.sync_engine.begin() as conn:
        issued = create_api_key(
            conn,
            county_code=side.county.code,
            name="旧应用",
            role=Role.SQUADRON_COUNSELOR,
            scope=side.units[label].path,
            created_by=0,
        )
    return {"input": {"id": str(issued.id)}}


def _scope_of_place(world: World, place: str) -> str:
    if place == "other":
        return world.b.units["Q"].path
    return _squadron_path(world, place)


# --- activities and the exchange ---------------------------------------------------------------

ANF, SNF, PNF = "ACTIVITY_NOT_FOUND", "SIGNUP_NOT_FOUND", "PUPIL_NOT_FOUND"
PARTNER_NF, ITEM_NF = "PARTNER_NOT_FOUND", "ITEM_NOT_FOUND"
ORGANISERS = ("county_admin", "township_admin", "brigade_counselor", "squadron_counselor",
              "county_app")  # fmt: skip
"""Who has `activity write` (and `signup write`, `attendance write`) at Q1 and above."""


def _side(world: World, place: str) -> Any:
    return world.b if place == "other" else world.a


def _activity(services: Any, side: Any, organiser: str, state: str = "published") -> int:
    """An activity of `side` organised by its unit `organiser`, under way (it started ten
    minutes ago, ends in two hours; sign-up open), free and unrewarded."""
    import datetime as dt

    from sqlalchemy import insert

    from domain.activities.tables import activities
    from tests.graphql_client import tenant_of

    now = dt.datetime.now(dt.UTC)
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return int(
            conn.execute(
                insert(activities)
                .values(unit_id=side.units[organiser].id, title="红领巾研学",
                        starts_at=now - dt.timedelta(minutes=10),
                        ends_at=now + dt.timedelta(hours=2),
                        signup_opens_at=now - dt.timedelta(hours=1),
                        signup_closes_at=now + dt.timedelta(hours=1),
                        capacity=100, cost=0, reward=0, state=state)
                .returning(activities.c.id)
            ).scalar_one()
        )  # fmt: skip


def _organised(state: str = "published") -> Setup:
    """A fresh activity in `state` organised by Q1 (in), Q2 (out) or county B's squadron
    (other: its ID asked for while routed to A)."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        side = _side(world, place)
        label = {"in": "Q1", "out": "Q2", "other": "Q"}[place]
        return {"id": gid("Activity", side.county.code, _activity(services, side, label, state))}

    return setup


def _published_in_q2(world: World, services: Any, place: str) -> dict[str, Any]:
    """Setup of the list: a published activity of Q2 (out of most callers' subtree)."""
    _activity(services, world.a, "Q2")
    return {}


def _sign_up(services: Any, side: Any, activity: int, *labels: str) -> list[int]:
    from domain.activities.service import sign_up
    from tests.graphql_client import tenant_of

    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return [sign_up(conn, activity, side.pupils[p], by="authz-table").id for p in labels]


def _county_activity(world: World, services: Any, place: str) -> dict[str, Any]:
    """A fresh activity of A's county root (P1 and P2 may both sign up), for P1 (in), P2 (out)
    or county B's P3 (other)."""
    pk = _activity(services, world.a, "c")
    return {"a": gid("Activity", world.a.county.code, pk), "p": pupil_id(place, world)}


def _signed_up(world: World, services: Any, place: str) -> dict[str, Any]:
    """A sign-up of P1 (in), P2 (out) or county B's P3 (other) for its county's activity."""
    side = _side(world, place)
    label = {"in": "P1", "out": "P2", "other": "P3"}[place]
    activity = _activity(services, side, "c")
    (signup,) = _sign_up(services, side, activity, label)
    return {"s": gid("ActivitySignup", side.county.code, signup)}


def _at_the_venue(*, code: bool) -> Setup:
    """A county activity of A under way, P1 and P2 signed up (and a check-in code shown at
    the venue); checking in P1 (in), P2 (out) or county B's P3 (other)."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        activity = _activity(services, world.a, "c")
        _sign_up(services, world.a, activity, "P1", "P2")
        found = {"a": gid("Activity", world.a.county.code, activity), "p": pupil_id(place, world)}
        if code:
            from domain.activities.service import issue_checkin_code
            from tests.graphql_client import tenant_of

            with tenant_connection(services.sync_engine, tenant_of(world.a.county)) as conn:
                found["c"] = issue_checkin_code(conn, services.keys.cipher, activity)
        return found

    return setup


def _activity_input(world: World, services: Any, place: str) -> dict[str, Any]:
    """A new activity organised by Q1 (in), Q2 (out) or county B's squadron (other)."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return {"input": {
        "organiserId": squadron_id(place, world), "title": "中队活动", "capacity": 30,
        "startsAt": (now + dt.timedelta(days=3)).isoformat(),
        "endsAt": (now + dt.timedelta(days=3, hours=2)).isoformat(),
        "signupOpensAt": now.isoformat(),
        "signupClosesAt": (now + dt.timedelta(days=2)).isoformat(),
    }}  # fmt: skip


def activity_write(elsewhere: str = F) -> dict[str, Expect]:
    """Organising an activity of Q1 (in), Q2 (out) or county B (other): `activity write` at
    the organiser; who reads activities but may not organise this one is refused
    (`elsewhere`: what a reader who does not see it gets), the rest do not find it."""
    return {
        **table(ANF, anonymous=U),
        **{role: ("ok", elsewhere, ANF) for role in ORGANISERS},
        "team_counselor": (elsewhere, elsewhere, ANF),
        "guardian": (elsewhere, elsewhere, ANF),
        "county_admin": ("ok", "ok", ANF),
    }


def _partner_place(world: World, place: str) -> tuple[Any, str]:
    """X1 (the partner role's own, in), X2 (another partner of A, out), B's X (other)."""
    return {"in": (world.a, "X1"), "out": (world.a, "X2"), "other": (world.b, "X")}[place]


def _partner_id(world: World, place: str) -> str:
    side, label = _partner_place(world, place)
    return gid("Partner", side.county.code, side.partners[label])


def _item(services: Any, side: Any, partner: str) -> int:
    """A fresh item on sale of the partner, a point each, one per pupil."""
    import datetime as dt

    from domain.exchange.service import create_item
    from tests.graphql_client import tenant_of

    now = dt.datetime.now(dt.UTC)
    values = {"name": "亲子套餐券", "description": None, "price": 1, "stock": 100,
              "valid_from": now - dt.timedelta(hours=1), "valid_until": now + dt.timedelta(days=30)}  # fmt: skip
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return create_item(conn, side.partners[partner], values)


def _item_at(world: World, services: Any, place: str) -> dict[str, Any]:
    """A fresh item of X1 (in), X2 (out) or county B's X (other)."""
    side, label = _partner_place(world, place)
    return {"id": gid("ExchangeItem", side.county.code, _item(services, side, label))}


def _items_of(world: World, services: Any, place: str) -> dict[str, Any]:
    """X1 (in), X2 (out) or B's X (other), each with an item."""
    side, label = _partner_place(world, place)
    _item(services, side, label)
    return {"p": _partner_id(world, place)}


def _redeemed(world: World, services: Any, place: str) -> dict[str, Any]:
    """A fresh item of X1 (in), X2 (out) or B's X (other), redeemed by P1 (P3 in B): the
    item and the pickup code."""
    from domain.exchange.service import redeem
    from tests.graphql_client import tenant_of

    side, label = _partner_place(world, place)
    item = _item(services, side, label)
    pupil = side.pupils["P3" if place == "other" else "P1"]
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        code = redeem(conn, services.keys.cipher, item, pupil, by="authz-table").code
    return {"i": gid("ExchangeItem", side.county.code, item), "c": code}


def _item_input(world: World, services: Any, place: str) -> dict[str, Any]:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return {"input": {
        "partnerId": _partner_id(world, place), "name": "书签", "price": 2, "stock": 10,
        "validFrom": now.isoformat(), "validUntil": (now + dt.timedelta(days=7)).isoformat(),
    }}  # fmt: skip


def _redeem_variables(world: World, services: Any, place: str) -> dict[str, Any]:
    """A fresh item of X1 for P1 (in), P2 (out) or county B's P3 (other)."""
    item = _item(services, world.a, "X1")
    return {"i": gid("ExchangeItem", world.a.county.code, item), "p": pupil_id(place, world)}


EXCHANGE_READERS = ("county_admin", "township_admin", "brigade_counselor", "squadron_counselor",
                    "team_counselor", "guardian", "county_app")  # fmt: skip
"""Who has `exchange_item read` in the whole county (a partner: its own items)."""


# --- collection tasks ----------------------------------------------------------------------------

TNF, SUBNF = "TASK_NOT_FOUND", "SUBMISSION_NOT_FOUND"
REVIEWERS = ("county_admin", "brigade_counselor", "squadron_counselor", "county_app")
"""Who has `submission read` and `review` at Q1 (the guardian reads its own child's)."""


def _task(services: Any, side: Any, organiser: str, state: str = "published",
          kind: str = "submission") -> int:  # fmt: skip
    """A task of `side` organised by its unit `organiser`, open since an hour, for a week."""
    import datetime as dt

    from sqlalchemy import insert

    from domain.tasks.tables import tasks
    from tests.graphql_client import tenant_of

    now = dt.datetime.now(dt.UTC)
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return int(
            conn.execute(
                insert(tasks)
                .values(unit_id=side.units[organiser].id, kind=kind, title="我心中的红领巾",
                        content_url="https://learn.example.cn/1" if kind == "lesson" else None,
                        opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=7),
                        state=state)
                .returning(tasks.c.id)
            ).scalar_one()
        )  # fmt: skip


def _task_organised(state: str = "published") -> Setup:
    """A fresh task in `state` organised by Q1 (in), Q2 (out) or county B's squadron (other)."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        side = _side(world, place)
        label = {"in": "Q1", "out": "Q2", "other": "Q"}[place]
        pk = _task(services, side, label, state)
        return {"id": gid("CollectionTask", side.county.code, pk)}

    return setup


def _task_in_q2(world: World, services: Any, place: str) -> dict[str, Any]:
    _task(services, world.a, "Q2")
    return {}


def _county_task(kind: str) -> Setup:
    """A fresh task of A's county root for P1 (in), P2 (out) or county B's P3 (other)."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        pk = _task(services, world.a, "c", kind=kind)
        return {"t": gid("CollectionTask", world.a.county.code, pk), "p": pupil_id(place, world)}

    return setup


def _submitted(services: Any, side: Any, label: str) -> int:
    from domain.tasks.service import submit
    from tests.graphql_client import tenant_of

    task = _task(services, side, "c")
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return submit(conn, task, side.pupils[label], by="authz-table", text="作品").id


def _a_submission_of_p1(world: World, services: Any, place: str) -> dict[str, Any]:
    _submitted(services, world.a, "P1")
    return {}


def _submission_at(world: World, services: Any, place: str) -> dict[str, Any]:
    """A waiting submission of P1 (in), P2 (out) or county B's P3 (other)."""
    side = _side(world, place)
    label = {"in": "P1", "out": "P2", "other": "P3"}[place]
    return {"s": gid("TaskSubmission", side.county.code, _submitted(services, side, label))}


def _task_input(world: World, services: Any, place: str) -> dict[str, Any]:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return {"input": {
        "organiserId": squadron_id(place, world), "kind": "SUBMISSION", "title": "中队征集",
        "opensAt": now.isoformat(), "closesAt": (now + dt.timedelta(days=3)).isoformat(),
    }}  # fmt: skip


def organising() -> dict[str, Expect]:
    """Organising something (an activity, a task) at Q1 (in), Q2 (out) or B's squadron (other):
    who reads no unit (partner, operator) finds none."""
    unf = "UNIT_NOT_FOUND"
    return {
        **table((F, F, unf), anonymous=U, partner=unf, operator=unf),
        **{role: ("ok", F, unf) for role in ORGANISERS},
        "county_admin": ("ok", "ok", unf),
    }


def task_write(elsewhere: str = F) -> dict[str, Expect]:
    """Organising a task of Q1 (in), Q2 (out) or county B (other), as `activity_write`."""
    return {
        **table(TNF, anonymous=U),
        **{role: ("ok", elsewhere, TNF) for role in ORGANISERS},
        "team_counselor": (elsewhere, elsewhere, TNF),
        "guardian": (elsewhere, elsewhere, TNF),
        "county_admin": ("ok", "ok", TNF),
    }


def taking_part() -> dict[str, Expect]:
    """A family takes part for its own child; who sees the child but is no family is refused."""
    return {
        **table(TNF, anonymous=U),
        **{role: (F, PNF, PNF) for role in (*ORGANISERS, "team_counselor")},
        "guardian": ("ok", PNF, PNF),
        "county_admin": (F, F, PNF),
    }


# --- pairing -------------------------------------------------------------------------------------

PAIRNF, SIDENF = "PAIRING_NOT_FOUND", "SIDE_NOT_FOUND"
_schools = iter(range(1, 1_000_000))


def _fresh_school(services: Any, side: Any) -> Any:
    """A new school of `side`, under its first township (rural): a partner never paired yet."""
    from tests.graphql_client import create_unit

    township = side.units["T"] if "T" in side.units else side.units["T2"]
    return create_unit(services.sync_engine, side.county, "brigade", f"结对小学{next(_schools)}",
                       township, area="rural")  # fmt: skip


def _a_pairing(services: Any, world: World, label: str, *, state: str) -> tuple[int, Any]:
    """A school pairing of A's school `label` with a fresh school of B, proposed by the
    province, left proposed or accepted by both (active)."""
    from domain.pairing import service as pairing
    from domain.pairing.service import Side
    from domain.pairing.tables import PairingLevel

    partner = _fresh_school(services, world.b)
    with services.sync_engine.begin() as conn:
        pk = pairing.propose(
            conn, PairingLevel.SCHOOL, Side(world.a.county.code, "unit", world.a.units[label].id),
            Side(world.b.county.code, "unit", partner.id), proposer="province:52", by="authz",
        )  # fmt: skip
        if state in ("active", "ended"):
            for county in (world.a.county.code, world.b.county.code):
                pairing.accept(conn, pk, county, by="authz")
        if state == "ended":
            pairing.end(conn, pk, world.b.county.code, "结束", by="authz")
    return pk, partner


def _proposed_by_a(world: World, services: Any, place: str) -> dict[str, Any]:
    """A pairing county A proposed for S1 (in) or S2 (out) with a school of B; (other) B's ID
    of S1's: a county withdraws its own proposal, not the province."""
    from domain.pairing import service as pairing
    from domain.pairing.service import Side
    from domain.pairing.tables import PairingLevel

    partner = _fresh_school(services, world.b)
    label = "S2" if place == "out" else "S1"
    a = world.a.county.code
    with services.sync_engine.begin() as conn:
        pk = pairing.propose(
            conn, PairingLevel.SCHOOL, Side(a, "unit", world.a.units[label].id),
            Side(world.b.county.code, "unit", partner.id), proposer=f"county:{a}", county=a,
            by="authz",
        )  # fmt: skip
    county = world.b.county.code if place == "other" else a
    return {"id": gid("Pairing", county, pk)}


def _pairing_at(state: str) -> Setup:
    """A pairing of S1 (in) or S2 (out) of A with a school of B, by A's ID; or (other) B's ID
    of S1's, asked for while routed to A."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        pk, _ = _a_pairing(services, world, "S2" if place == "out" else "S1", state=state)
        county = world.b.county.code if place == "other" else world.a.county.code
        return {"id": gid("Pairing", county, pk)}

    return setup


def _an_active_pairing_of_s1(world: World, services: Any, place: str) -> dict[str, Any]:
    _a_pairing(services, world, "S1", state="active")
    return {}


def _an_unpaired_school_in_a(world: World, services: Any, place: str) -> dict[str, Any]:
    _fresh_school(services, world.a)
    return {}


def _proposal(world: World, services: Any, place: str) -> dict[str, Any]:
    """S1 (in), S2 (out) or B's S (other) with a fresh school of B."""
    partner = _fresh_school(services, world.b)
    side = gid("Unit", world.b.county.code, world.b.units["S"].id) if place == "other" else (
        unit_id(place, world))  # fmt: skip
    return {"input": {"level": "SCHOOL", "sideId": side,
                      "partnerId": gid("Unit", world.b.county.code, partner.id)}}  # fmt: skip


def pairing_act() -> dict[str, Expect]:
    """Acting for A's side of a pairing of S1 (in), S2 (out), or B's ID (other): who may write
    where the side sits; who reads pairings elsewhere does not find it; who reads none is
    refused."""
    return {
        **table(F, anonymous=U),
        **{role: ("ok", PAIRNF, PAIRNF)
           for role in ("township_admin", "brigade_counselor", "county_app")},
        "squadron_counselor": (PAIRNF, PAIRNF, PAIRNF),
        "county_admin": ("ok", "ok", PAIRNF),
        "province_admin": (F, F, PAIRNF),
        "prefecture_admin": (F, F, PAIRNF),
    }  # fmt: skip


# --- care ----------------------------------------------------------------------------------------

CRNF, PROJNF = "CARE_RECORD_NOT_FOUND", "PROJECT_NOT_FOUND"
CARERS = ("township_admin", "brigade_counselor", "squadron_counselor", "team_counselor",
          "county_app")  # fmt: skip
"""Roles that may care for a child (`care read own`): they read a record only as its carer."""


def _care_record(services: Any, side: Any, label: str) -> int:
    """A fresh open record of the pupil `label` (the one of an earlier case closed first: a
    child is in one open record of a kind)."""
    from sqlalchemy import update

    from domain import clock
    from domain.care import service as care
    from domain.care.tables import care_records
    from tests.graphql_client import tenant_of

    pupil = side.pupils[label]
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        conn.execute(update(care_records)
                     .where(care_records.c.pupil_id == pupil, care_records.c.ended_on.is_(None))
                     .values(ended_on=clock.today()))  # fmt: skip
        return care.open_care(conn, pupil, "hope_room", "随祖母生活", by="authz-table")


def _care_of_p1(world: World, services: Any, place: str) -> dict[str, Any]:
    _care_record(services, world.a, "P1")
    return {}


def _care_at(world: World, services: Any, place: str) -> dict[str, Any]:
    """A record of P1 (in: in the caller's reach, but no one's carer), P2 (out) or county B's
    P3 (other), with a carer of its own (the carer ID `c`)."""
    from sqlalchemy import select

    from domain.care import service as care
    from domain.care.tables import care_carers
    from tests.graphql_client import tenant_of

    side = _side(world, place)
    pk = _care_record(services, side, {"in": "P1", "out": "P2", "other": "P3"}[place])
    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        care.assign_carer(conn, pk, 999_999, "某志愿者")
        carer = conn.execute(select(care_carers.c.id).where(care_carers.c.record_id == pk)).scalar()
    today = _today()
    return {"id": gid("CareRecord", side.county.code, pk), "c": str(carer), "d": today}


def _care_and_a_carer(world: World, services: Any, place: str) -> dict[str, Any]:
    """A record as `_care_at`, and a squadron counselor of A to name its carer (`a`)."""
    carer = _assignment(world, services, "in")["input"]["assignmentId"]
    return {**_care_at(world, services, place), "a": carer}


def _today() -> str:
    from domain import clock

    return clock.today().isoformat()


def care_admin(read_only: str = CRNF) -> dict[str, Expect]:
    """Running a record of P1, P2 or B's P3: the county admin only. Who may care for a child
    and is not this one's carer finds no record; who may never care for one is refused; B's
    record is not found."""
    return {
        **table((F, F, CRNF), anonymous=U),
        **{role: (read_only, read_only, CRNF) for role in CARERS},
        "county_admin": ("ok", "ok", CRNF),
    }


def _care_pupil(world: World, services: Any, place: str) -> dict[str, Any]:
    return {"input": {"pupilId": pupil_id(place, world), "kind": "AID"}}


def _project(services: Any, side: Any, unit: str, state: str) -> int:
    from sqlalchemy import insert

    from domain.care.tables import volunteer_projects
    from tests.graphql_client import tenant_of

    with tenant_connection(services.sync_engine, tenant_of(side.county)) as conn:
        return int(
            conn.execute(
                insert(volunteer_projects)
                .values(unit_id=side.units[unit].id, title="周末课堂", need="辅导作业",
                        state=state,
                        claimed_by=None if state in ("need", "published") else "某志愿队")
                .returning(volunteer_projects.c.id)
            ).scalar_one()
        )  # fmt: skip


def _project_at(state: str) -> Setup:
    """A project in `state` raised by S1 (in), S2 (out) or county B's school (other)."""

    def setup(world: World, services: Any, place: str) -> dict[str, Any]:
        side = _side(world, place)
        pk = _project(services, side, {"in": "S1", "out": "S2", "other": "S"}[place], state)
        return {"id": gid("VolunteerProject", side.county.code, pk)}

    return setup


def _published_project_in_s2(world: World, services: Any, place: str) -> dict[str, Any]:
    _project(services, world.a, "S2", "published")
    return {}


PROJECT_STAFF = ("county_admin", *CARERS)
"""Every staff role of A reads published projects and claims them."""


def project_publishing() -> dict[str, Expect]:
    """Publishing, reviewing (or, not its claimer, reporting) a project of S1, S2 or B's:
    the county admin anywhere, T1's admin in its township; who sees the project but does not
    publish is refused, and who reads no projects; B's project is not found."""
    return {
        **table((F, F, PROJNF), anonymous=U),
        **{role: (F, F, PROJNF) for role in CARERS},
        "township_admin": ("ok", F, PROJNF),
        "county_admin": ("ok", "ok", PROJNF),
    }


OPERATIONS: dict[str, Op] = {
    # --- queries ---------------------------------------------------------------------------
    "county": Op("{ county { name } }", "county", "county", county_wide("ok")),
    "units": Op(
        "{ units(first: 100) { edges { node { name } } } }",
        "units",
        "county",
        # the operator runs the platform: tenants and aggregates, not a county's organisation
        county_wide("ok", partner="hidden", operator="hidden"),
    ),
    "unit": Op(
        "query($id: ID!) { unit(id: $id) { name } }",
        "unit",
        "object",
        # the organisation is not personal data: every staff role reads the county's tree
        table(("ok", "ok", "hidden"), anonymous=U, partner="hidden", operator="hidden"),
        lambda world, services, place: {"id": unit_id(place, world)},
    ),
    "node": Op(
        "query($id: ID!) { node(id: $id) { ... on Pupil { name } } }",
        "node",
        "object",
        PUPIL,
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "nodes": Op(
        "query($id: ID!) { nodes(ids: [$id]) { ... on Pupil { name } } }",
        "nodes",
        "object",
        PUPIL,
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "pupils": Op(
        "query($under: ID) { pupils(first: 100, under: $under) { edges { node { name } } } }",
        "pupils",
        "object",
        # B's squadron named while in A: no such unit here
        {
            role: (i, o, "UNIT_NOT_FOUND" if role != "anonymous" else U)
            for role, (i, o, _) in PUPIL.items()
        },
        lambda world, services, place: {"under": squadron_id(place, world)},
    ),
    "pupil": Op(
        "query($id: ID!) { pupil(id: $id) { name birthDate(reveal: true) } }",
        "pupil",
        "object",
        # the roster is not the personal data: township and team counselors may not unmask
        {
            **PUPIL,
            "township_admin": (F, "hidden", "hidden"),
            "team_counselor": (F, "hidden", "hidden"),
        },
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "me": Op("{ me { name } }", "me", "county", table("ok", anonymous=U)),
    "dataRequests": Op(
        "{ dataRequests { kind } }",
        "dataRequests",
        "county",
        # those who may change P1 see the request about P1; the rest an empty list
        county_wide(
            "hidden",
            county_admin="ok",
            brigade_counselor="ok",
            squadron_counselor="ok",
            county_app="ok",
        ),
        _a_request_about_p1,
    ),
    "badgeAwards": Op(
        "{ badgeAwards { state } }",
        "badgeAwards",
        "county",
        # everyone who sees P1 sees its candidacy (the setup); the rest an empty list
        county_wide(
            "hidden",
            county_admin="ok",
            township_admin="ok",
            brigade_counselor="ok",
            squadron_counselor="ok",
            team_counselor="ok",
            guardian="ok",
            county_app="ok",
        ),
        _a_candidacy_of_p1,
    ),
    "badges": Op(
        "{ badges { code } }",
        "badges",
        "county",
        county_wide(
            F,
            county_admin="ok",
            township_admin="ok",
            brigade_counselor="ok",
            squadron_counselor="ok",
            team_counselor="ok",
            guardian="ok",
            county_app="ok",
        ),
    ),
    "archiveExport": Op(
        "query($id: ID!) { archiveExport(id: $id) { createdAt } }",
        "archiveExport",
        "object",
        {**table("hidden", anonymous=U), "county_admin": ("ok", "ok", "hidden")},
        _an_archive_export,
    ),
    "rosterImport": Op(
        "query($id: ID!) { rosterImport(id: $id) { state } }",
        "rosterImport",
        "object",
        # whoever started it, or reaches the whole county for its kind
        {**table("hidden", anonymous=U), "county_admin": ("ok", "ok", "hidden")},
        _an_import,
    ),
    "job": Op(
        "query($id: ID!) { job(id: $id) { state } }",
        "job",
        "object",
        # the staff who start jobs; another county's job is not seen (row-level security)
        {**table(F, anonymous=U), **{role: ("ok", "ok", "hidden") for role in JOB_READERS}},
        _a_job,
    ),
    "incomingTransfers": Op(
        "{ incomingTransfers { pupilName } }",
        "incomingTransfers",
        "county",
        county_wide(F, county_admin="allowed"),
    ),
    "counselors": Op(
        "{ counselors(first: 100) { edges { node { name } } } }",
        "counselors",
        "county",
        # each case appoints counselors at Q1 and Q2 first (the setup), then lists
        county_wide(
            "hidden",
            county_admin="ok",
            township_admin="ok",
            brigade_counselor="ok",
            county_app="ok",
        ),
        _counselor_in_q1,
    ),
    "roleAssignments": Op(
        "{ roleAssignments { role } }",
        "roleAssignments",
        "county",
        county_wide(F, county_admin="allowed", brigade_counselor="allowed", county_app="allowed"),
    ),
    "apiKeys": Op(
        "{ apiKeys { name } }", "apiKeys", "county", county_wide(F, county_admin="allowed")
    ),
    "auditLog": Op(
        "{ auditLog(first: 5) { action } }",
        "auditLog",
        "county",
        county_wide(F, county_admin="allowed"),
    ),
    # activities: not personal data, every county role of A reads the published ones
    "collectionTasks": Op(
        "{ collectionTasks(first: 100) { edges { node { title } } } }",
        "collectionTasks",
        "county",
        # each case publishes a task of Q2 first, then lists: every county role of A reads them
        county_wide(
            F,
            county_admin="ok",
            township_admin="ok",
            brigade_counselor="ok",
            squadron_counselor="ok",
            team_counselor="ok",
            guardian="ok",
            county_app="ok",
        ),
        _task_in_q2,
    ),
    "collectionTask": Op(
        "query($id: ID!) { collectionTask(id: $id) { title } }",
        "collectionTask",
        "object",
        # a draft: only who may organise it sees it
        {
            **table("hidden", anonymous=U),
            **{role: ("ok", "hidden", "hidden") for role in ORGANISERS},
            "county_admin": ("ok", "ok", "hidden"),
        },
        _task_organised("draft"),
    ),
    "taskSubmissions": Op(
        "{ taskSubmissions { edges { node { text } } } }",
        "taskSubmissions",
        "county",
        # each case has P1 submit a work first: P1's reviewers and family see it
        county_wide(F, **dict.fromkeys((*REVIEWERS, "guardian"), "ok")),
        _a_submission_of_p1,
    ),
    "pairings": Op(
        "{ pairings { edges { node { state partner { name } } } } }",
        "pairings",
        "county",
        # each case pairs S1 with a school of B first: who reaches S1 sees it, and the
        # province (B's side too); the prefecture only A's
        county_wide(
            F,
            county_admin="ok",
            township_admin="ok",
            brigade_counselor="ok",
            squadron_counselor="hidden",
            county_app="ok",
            province_admin="ok",
            prefecture_admin="ok",
        ),
        _an_active_pairing_of_s1,
    ),
    "pairing": Op(
        "query($id: ID!) { pairing(id: $id) { state } }",
        "pairing",
        "object",
        {
            **table("hidden", anonymous=U),
            **{
                role: ("ok", "hidden", "hidden")
                for role in ("township_admin", "brigade_counselor", "county_app")
            },
            **{
                role: ("ok", "ok", "hidden")
                for role in ("county_admin", "province_admin", "prefecture_admin")
            },
        },
        _pairing_at("active"),
    ),
    "careRecords": Op(
        "{ careRecords { edges { node { pupilName note } } } }",
        "careRecords",
        "county",
        # each case takes P1 into care first: the county admin sees it; who may care for a
        # child sees only those it cares for (none); no one else reads care at all
        county_wide(F, county_admin="ok", **dict.fromkeys(CARERS, "hidden")),
        _care_of_p1,
    ),
    "careRecord": Op(
        "query($id: ID!) { careRecord(id: $id) { pupilName note } }",
        "careRecord",
        "object",
        # reach over the pupil is not enough: only its carer (another account) and the admin
        {**table("hidden", anonymous=U), "county_admin": ("ok", "ok", "hidden")},
        _care_at,
    ),
    "volunteerProjects": Op(
        "{ volunteerProjects { edges { node { title } } } }",
        "volunteerProjects",
        "county",
        # each case publishes a project of S2 first: every staff role of A reads it
        county_wide(F, **dict.fromkeys(PROJECT_STAFF, "ok")),
        _published_project_in_s2,
    ),
    "volunteerProject": Op(
        "query($id: ID!) { volunteerProject(id: $id) { title } }",
        "volunteerProject",
        "object",
        # a need not yet published: where it was raised and its publishers
        {
            **table("hidden", anonymous=U),
            **{
                role: ("ok", "hidden", "hidden")
                for role in ("township_admin", "brigade_counselor", "county_app")
            },
            "county_admin": ("ok", "ok", "hidden"),
        },
        _project_at("need"),
    ),
    "pairingCoverage": Op(
        "{ pairingCoverage { schools } }",
        "pairingCoverage",
        "county",
        # the region's counties, whatever county the request is routed to
        table(F, anonymous=U, province_admin="ok", prefecture_admin="ok"),
    ),
    "unpairedSchools": Op(
        "{ unpairedSchools { name } }",
        "unpairedSchools",
        "county",
        # each case opens a school in A first (other cases pair A's own)
        table(F, anonymous=U, province_admin="ok", prefecture_admin="ok"),
        _an_unpaired_school_in_a,
    ),
    "suggestedPairs": Op(
        "{ suggestedPairs { school { name } } }",
        "suggestedPairs",
        "county",
        table(F, anonymous=U, province_admin="allowed", prefecture_admin="allowed"),
    ),
    "statistics": Op(
        "{ statistics { asOf currentPupils } }",
        "statistics",
        "county",
        # the whole county's: `statistics read` at its root (regional roles: the county whole)
        county_wide(
            F, county_admin="ok", province_admin="ok", prefecture_admin="ok", operator="ok"
        ),
    ),
    "countySummary": Op(
        "{ countySummary { countyCode } }",
        "countySummary",
        "county",
        # the whole county's summary: as the whole county's statistics (null before the first)
        county_wide(
            F,
            county_admin="allowed",
            province_admin="allowed",
            prefecture_admin="allowed",
            operator="allowed",
        ),
    ),
    "regionStatistics": Op(
        '{ regionStatistics(code: "52") { code name } }',
        "regionStatistics",
        "county",
        # the province's rollup, whatever county the request is routed to: its admins'
        table(F, anonymous=U, province_admin="ok", operator="ok"),
    ),
    "regionCounties": Op(
        '{ regionCounties(code: "52") { code status } }',
        "regionCounties",
        "county",
        # the province's registry, whatever county the request is routed to: as its rollup
        table(F, anonymous=U, province_admin="ok", operator="ok"),
    ),
    "operations": Op(
        "{ operations { latestSchemaVersion tenants { code } } }",
        "operations",
        "county",
        # the platform's view, whatever county the request is routed to: the operator's alone
        table(F, anonymous=U, operator="ok"),
    ),
    "activities": Op(
        "{ activities(first: 100) { edges { node { title } } } }",
        "activities",
        "county",
        # each case publishes an activity of Q2 first (the setup), then lists
        county_wide(
            F,
            county_admin="ok",
            township_admin="ok",
            brigade_counselor="ok",
            squadron_counselor="ok",
            team_counselor="ok",
            guardian="ok",
            county_app="ok",
        ),
        _published_in_q2,
    ),
    "activity": Op(
        "query($id: ID!) { activity(id: $id) { title } }",
        "activity",
        "object",
        # a draft: only who may organise it (`activity write` at Q1, Q2) sees it
        {
            **table("hidden", anonymous=U),
            **{role: ("ok", "hidden", "hidden") for role in ORGANISERS},
            "county_admin": ("ok", "ok", "hidden"),
        },
        _organised("draft"),
    ),
    "activityReach": Op(
        "{ activityReach { currentPupils } }",
        "activityReach",
        "county",
        # the whole county's: `statistics read` at its root (regional roles: the county whole)
        county_wide(
            F, county_admin="ok", province_admin="ok", prefecture_admin="ok", operator="ok"
        ),
    ),
    # the exchange: partners' own staff see their own partner only
    "partners": Op(
        "{ partners { name } }",
        "partners",
        "county",
        county_wide(F, county_admin="ok", partner="ok"),
    ),
    "exchangeItems": Op(
        "query($p: ID) { exchangeItems(partnerId: $p) { name } }",
        "exchangeItems",
        "object",
        # the items of X1 (in), X2 (out), B's X (other)
        {
            **table(F, anonymous=U),
            **{role: ("ok", "ok", PARTNER_NF) for role in EXCHANGE_READERS},
            "partner": ("ok", "hidden", PARTNER_NF),
        },
        _items_of,
    ),
    "exchangeItem": Op(
        "query($id: ID!) { exchangeItem(id: $id) { name } }",
        "exchangeItem",
        "object",
        {
            **table("hidden", anonymous=U),
            **{role: ("ok", "ok", "hidden") for role in EXCHANGE_READERS},
            "partner": ("ok", "hidden", "hidden"),
        },
        _item_at,
    ),
    "redemptions": Op(
        "query($i: ID) { redemptions(itemId: $i) { edges { node { codeHint } } } }",
        "redemptions",
        "object",
        # the redemptions of an item of X1 (in), X2 (out), B's X (other)
        {
            **table(F, anonymous=U),
            "county_admin": ("ok", "ok", ITEM_NF),
            "partner": ("ok", ITEM_NF, ITEM_NF),
        },
        lambda world, services, place: {"i": _redeemed(world, services, place)["i"]},
    ),
    # --- mutations -------------------------------------------------------------------------
    "createCounty": Op(
        "mutation($input: CreateCountyInput!) { createCounty(input: $input) "
        "{ created userErrors { code } } }",
        "createCounty",
        "object",
        # in: a new county of province 52; out: of province 46; (no "other" place)
        table((F, F, F), anonymous=U, operator="ok", province_admin=("ok", F, F)),
        _new_code,
    ),
    "createInvitation": Op(
        "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) "
        "{ invitationId userErrors { code } } }",
        "createInvitation",
        "object",
        {
            **table((F, F, CNF), anonymous=U, operator=F, province_admin=F),
            "county_admin": ("ok", "ok", CNF),
            "brigade_counselor": ("ok", F, CNF),
            "county_app": ("ok", F, CNF),
        },
        lambda world, services, place: {
            "input": {
                "role": "SQUADRON_COUNSELOR",
                "scope": _scope_of_place(world, place),
                "displayName": "新辅导员",
            }
        },
        other_in_b=True,
    ),
    "revokeRole": Op(
        "mutation($input: RevokeRoleInput!) { revokeRole(input: $input) { ok } }",
        "revokeRole",
        "object",
        {
            **table(NF, anonymous=U),
            "county_admin": ("ok", "ok", NF),
            "brigade_counselor": ("ok", NF, NF),
            "county_app": ("ok", NF, NF),
        },
        _assignment,
    ),
    "createApiKey": Op(
        "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) "
        "{ secret userErrors { code } } }",
        "createApiKey",
        "object",
        {
            **table((F, F, CNF), anonymous=U, operator=F, province_admin=F),
            "county_admin": ("ok", "ok", CNF),
        },
        lambda world, services, place: {
            "input": {
                "name": "新应用",
                "role": "SQUADRON_COUNSELOR",
                "scope": _scope_of_place(world, place),
            }
        },
        other_in_b=True,
    ),
    "revokeApiKey": Op(
        "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { ok } }",
        "revokeApiKey",
        "object",
        {**table(NF, anonymous=U), "county_admin": ("ok", "ok", NF)},
        _api_key,
    ),
    "signOut": Op(
        "mutation { signOut { ok userErrors { code } } }",
        "signOut",
        "county",
        table("allowed", anonymous=U),
    ),
    "changePassword": Op(
        'mutation { changePassword(input: {oldPassword: "x", newPassword: "Xy1!xxxxxxxx"}) '
        "{ ok userErrors { code } } }",
        "changePassword",
        "county",
        # the test users have no password yet: each sets its first one
        table("allowed", anonymous=U, operator=F, county_app=F),
    ),
    "createUnit": Op(
        'mutation($p: ID!) { createUnit(input: {parentId: $p, kind: SQUADRON, name: "新中队", '
        "grade: 4}) { unit { name } userErrors { code } } }",
        "createUnit",
        "object",
        unit_write(),
        lambda world, services, place: {"p": unit_id(place, world)},
    ),
    "updateUnit": Op(
        "mutation($id: ID!, $n: String!) { updateUnit(input: {id: $id, name: $n}) "
        "{ unit { name } userErrors { code } } }",
        "updateUnit",
        "object",
        unit_write(),
        # renamed to the name it has: nothing changes, the checks are all made
        lambda world, services, place: {"id": unit_id(place, world), "n": _school_name(place)},
    ),
    "moveUnit": Op(
        "mutation($id: ID!, $p: ID!) { moveUnit(input: {id: $id, parentId: $p}) "
        "{ unit { name } userErrors { code } } }",
        "moveUnit",
        "object",
        unit_write(),
        # a squadron under the school it is in: nothing moves, the checks are all made
        lambda world, services, place: {
            "id": squadron_id(place, world),
            "p": unit_id("in" if place == "other" else place, world),
        },
    ),
    "archiveUnit": Op(
        "mutation($id: ID!) { archiveUnit(input: {id: $id}) { unit { name } userErrors { code } } }",
        "archiveUnit",
        "object",
        unit_write(),
        _fresh_team,
    ),
    "issueBindingCode": Op(
        "mutation($id: ID!) { issueBindingCode(input: {pupilId: $id}) { code userErrors { code } } }",
        "issueBindingCode",
        "object",
        pupil_write("ok"),
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "bindPupil": Op(
        # a code nobody issued: refused as a user error once the caller is let through
        "mutation($c: String!) { bindPupil(input: {countyCode: $c, relation: MOTHER, "
        'noticeVersion: "2026-09", code: "NOSUCHCODE"}) { pupilId userErrors { code } } }',
        "bindPupil",
        "county",
        # any signed-in person may try (a parent reaches no county before binding)
        table("allowed", anonymous=U, operator=F, county_app=F),
        lambda world, services, place: {
            "c": (world.b if place == "other" else world.a).county.code
        },
    ),
    "unbindPupil": Op(
        "mutation($id: ID!) { unbindPupil(input: {pupilId: $id}) { ok } }",
        "unbindPupil",
        "object",
        # only a guardian's own binding (a fresh guardian, bound to P1, each time)
        {**table(NF, anonymous=U), "guardian": ("ok", NF, NF)},
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "appointCounselor": Op(
        'mutation($u: ID!) { appointCounselor(input: {unitId: $u, name: "新辅导员", '
        'kind: SQUADRON, startedOn: "2026-09-01"}) { counselor { name } userErrors { code } } }',
        "appointCounselor",
        "object",
        counselor_write(),
        lambda world, services, place: {"u": squadron_id(place, world)},
    ),
    "reassignCounselor": Op(
        "mutation($id: ID!, $u: ID!) { reassignCounselor(input: {id: $id, unitId: $u, "
        'kind: SQUADRON, on: "2026-09-01"}) { counselor { name } userErrors { code } } }',
        "reassignCounselor",
        "object",
        counselor_change(),
        _fresh_counselor,
    ),
    "endCounselor": Op(
        'mutation($id: ID!) { endCounselor(input: {id: $id, on: "2026-09-01"}) '
        "{ counselor { name } userErrors { code } } }",
        "endCounselor",
        "object",
        counselor_change(),
        lambda world, services, place: {"id": _fresh_counselor(world, services, place)["id"]},
    ),
    "transferPupil": Op(
        "mutation($id: ID!, $to: String!) { transferPupil(input: {pupilId: $id, "
        "toCountyCode: $to}) { transfer { state } userErrors { code } } }",
        "transferPupil",
        "object",
        # a fresh pupil each time: the guardian (bound to P1 only) does not see it
        {**pupil_write("ok"), "guardian": (NF, NF, NF)},
        _pupil_to_transfer,
    ),
    "acceptTransfer": Op(
        "mutation($t: ID!, $s: ID!) { acceptTransfer(input: {transferId: $t, squadronId: $s}) "
        "{ pupilId userErrors { code } } }",
        "acceptTransfer",
        "object",
        {**table(F, anonymous=U), "county_admin": ("ok", "ok", NF)},
        _pending_transfer,
    ),
    "declineTransfer": Op(
        'mutation($t: ID!) { declineTransfer(input: {transferId: $t, reason: "信息有误"}) '
        "{ transfer { state } userErrors { code } } }",
        "declineTransfer",
        "object",
        {**table(F, anonymous=U), "county_admin": ("ok", "ok", NF)},
        lambda world, services, place: {"t": _pending_transfer(world, services, place)["t"]},
    ),
    "requestPupilData": Op(
        "mutation($id: ID!) { requestPupilData(input: {pupilId: $id, kind: SEE}) "
        "{ dataRequest { state } userErrors { code } } }",
        "requestPupilData",
        "object",
        # the bound guardian, and those who may change the pupil (a request made on paper)
        {**pupil_write("ok"), "guardian": ("ok", NF, NF)},
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "handleDataRequest": Op(
        'mutation($id: ID!) { handleDataRequest(input: {id: $id, decision: REJECT, answer: "无误"}) '
        "{ dataRequest { state } userErrors { code } } }",
        "handleDataRequest",
        "object",
        {**pupil_write("ok"), "guardian": (NF, NF, NF)},
        _data_request,
    ),
    "awardBadge": Op(
        "mutation($b: ID!, $p: ID!, $y: Int!) { awardBadge(input: {badgeId: $b, pupilIds: [$p], "
        "academicYear: $y, term: 1}) { awards { state } userErrors { code } } }",
        "awardBadge",
        "object",
        # basic badges: the school (and the county); a squadron counselor only sees the pupil
        {
            **award_write(),
            "squadron_counselor": (F, NF, NF),
        },
        _award_variables,
    ),
    "nominateForBadge": Op(
        # P1 holds no basic badge: refused as a user error once the caller is let through
        "mutation($b: ID!, $p: ID!) { nominateForBadge(input: {badgeId: $b, pupilIds: [$p], "
        "academicYear: 2025}) { awards { state } userErrors { code } } }",
        "nominateForBadge",
        "object",
        {
            role: tuple("allowed" if v == "ok" else v for v in expect)  # type: ignore[misc]
            for role, expect in award_write().items()
        },
        _star_variables,
    ),
    "reviewBadgeCandidates": Op(
        "mutation($id: ID!) { reviewBadgeCandidates(input: {ids: [$id], approve: true}) "
        "{ awards { state } userErrors { code } } }",
        "reviewBadgeCandidates",
        "object",
        award_write(),
        _candidacy("nominated"),
    ),
    "startBadgeNotice": Op(
        'mutation($id: ID!) { startBadgeNotice(input: {ids: [$id], until: "2999-01-01"}) '
        "{ awards { state } userErrors { code } } }",
        "startBadgeNotice",
        "object",
        award_write(),
        _candidacy("reviewed"),
    ),
    "recordAwardObjection": Op(
        'mutation($id: ID!) { recordAwardObjection(input: {awardId: $id, content: "有异议"}) '
        "{ award { state } userErrors { code } } }",
        "recordAwardObjection",
        "object",
        award_write(),
        _candidacy("noticed"),
    ),
    "resolveAwardObjection": Op(
        "mutation($id: ID!) { resolveAwardObjection(input: {objectionId: $id, upheld: false, "
        'resolution: "不属实"}) { award { state } userErrors { code } } }',
        "resolveAwardObjection",
        "object",
        award_write(),
        _candidacy("noticed", objection=True),
    ),
    "confirmBadgeAwards": Op(
        "mutation($id: ID!) { confirmBadgeAwards(input: {ids: [$id]}) "
        "{ awards { state } userErrors { code } } }",
        "confirmBadgeAwards",
        "object",
        award_write(),
        _candidacy("noticed"),
    ),
    "revokeBadgeAward": Op(
        'mutation($id: ID!) { revokeBadgeAward(input: {id: $id, reason: "评定有误"}) '
        "{ awards { state } userErrors { code } } }",
        "revokeBadgeAward",
        "object",
        award_write(),
        _candidacy("awarded"),
    ),
    "exportArchives": Op(
        "mutation($u: ID!) { exportArchives(input: {unitId: $u}) { archiveExport { createdAt } } }",
        "exportArchives",
        "object",
        {
            **table((F, F, "UNIT_NOT_FOUND"), anonymous=U),
            "county_admin": ("ok", "ok", "UNIT_NOT_FOUND"),
            "township_admin": ("ok", F, "UNIT_NOT_FOUND"),
            "brigade_counselor": ("ok", F, "UNIT_NOT_FOUND"),
            "county_app": ("ok", F, "UNIT_NOT_FOUND"),
        },
        lambda world, services, place: {"u": unit_id(place, world)},
    ),
    "createBadge": Op(
        'mutation { createBadge(input: {name: "小红花章", level: SPECIAL}) '
        "{ badge { code } userErrors { code } } }",
        "createBadge",
        "county",
        county_wide(F, county_admin="ok"),
    ),
    "updateBadge": Op(
        'mutation($b: ID!) { updateBadge(input: {id: $b, criteria: "新标准"}) '
        "{ badge { code } userErrors { code } } }",
        "updateBadge",
        "object",
        {**table(F, anonymous=U), "county_admin": ("ok", "ok", "BADGE_NOT_FOUND")},
        lambda world, services, place: {
            "b": gid(
                "Badge",
                (world.b if place == "other" else world.a).county.code,
                _badge_id(world.b if place == "other" else world.a, services, "star.1"),
            )
        },
    ),
    "awardCollectiveBadge": Op(
        "mutation($b: ID!, $u: ID!, $y: Int!) { awardCollectiveBadge(input: {badgeId: $b, "
        "unitId: $u, academicYear: $y}) { awards { state } userErrors { code } } }",
        "awardCollectiveBadge",
        "object",
        {
            **table((F, F, "UNIT_NOT_FOUND"), anonymous=U),
            "county_admin": ("ok", "ok", "UNIT_NOT_FOUND"),
        },
        _collective,
    ),
    "setPointsExpiry": Op(
        "mutation { setPointsExpiry(input: {years: 2}) { years } }",
        "setPointsExpiry",
        "county",
        county_wide(F, county_admin="ok"),
    ),
    "setBadgeQuota": Op(
        "mutation { setBadgeQuota(input: {level: STAR2, percent: 30}) { quota { percent } } }",
        "setBadgeQuota",
        "county",
        county_wide(F, county_admin="ok"),
    ),
    "setPointsRule": Op(
        'mutation { setPointsRule(input: {level: STAR1, points: 20, effectiveFrom: "2025-09-01"}) '
        "{ rule { version } userErrors { code } } }",
        "setPointsRule",
        "county",
        county_wide(F, county_admin="ok"),
    ),
    "importRoster": Op(
        # an upload nobody made: refused as a user error once the caller is let through
        "mutation($u: ID!) { importRoster(input: {uploadId: $u, kind: PUPILS}) "
        "{ rosterImport { state } userErrors { code } } }",
        "importRoster",
        "county",
        county_wide(
            F,
            county_admin="allowed",
            brigade_counselor="allowed",
            squadron_counselor="allowed",
            county_app="allowed",
        ),
        lambda world, services, place: {
            "u": gid("Upload", (world.b if place == "other" else world.a).county.code, 10**9)
        },
    ),
    "createPupil": Op(
        'mutation($s: ID!) { createPupil(input: {squadronId: $s, name: "新队员", '
        "gender: FEMALE}) { pupil { name } userErrors { code } } }",
        "createPupil",
        "object",
        {
            **table((F, F, "UNIT_NOT_FOUND"), anonymous=U),
            "county_admin": ("ok", "ok", "UNIT_NOT_FOUND"),
            "brigade_counselor": ("ok", F, "UNIT_NOT_FOUND"),
            "squadron_counselor": ("ok", F, "UNIT_NOT_FOUND"),
            "county_app": ("ok", F, "UNIT_NOT_FOUND"),
        },
        lambda world, services, place: {"s": squadron_id(place, world)},
    ),
    "updatePupil": Op(
        'mutation($id: ID!) { updatePupil(input: {id: $id, name: "王小红"}) '
        "{ pupil { name } userErrors { code } } }",
        "updatePupil",
        "object",
        pupil_write("ok"),
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "movePupil": Op(
        "mutation($id: ID!, $s: ID!, $t: ID) { movePupil(input: {id: $id, squadronId: $s, "
        "teamId: $t}) { pupil { name } userErrors { code } } }",
        "movePupil",
        "object",
        pupil_write("ok"),
        # to where it is (P1 stays in team M1): nothing moves, the checks are all made
        lambda world, services, place: {
            "id": pupil_id(place, world),
            "s": squadron_id("in" if place == "other" else place, world),
            "t": gid("Unit", world.a.county.code, world.a.units["M1"].id)
            if place != "out"
            else None,
        },
    ),
    "changePupilStatus": Op(
        # member to member: refused as a user error once the caller is let through
        "mutation($id: ID!) { changePupilStatus(input: {id: $id, status: MEMBER, "
        'onDate: "2026-09-01"}) { pupil { name } userErrors { code } } }',
        "changePupilStatus",
        "object",
        pupil_write("allowed"),
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "enrolPupils": Op(
        # a member enrolled again: refused as a user error once the caller is let through
        'mutation($id: ID!) { enrolPupils(input: {ids: [$id], joinedOn: "2026-10-13", '
        'batch: "第一批"}) { enrolled userErrors { code } } }',
        "enrolPupils",
        "object",
        pupil_write("allowed"),
        lambda world, services, place: {"id": pupil_id(place, world)},
    ),
    "promoteGrades": Op(
        "mutation($y: Int!) { promoteGrades(input: {academicYear: $y}) { alreadyDone } }",
        "promoteGrades",
        "county",
        county_wide(F, county_admin="allowed"),
        lambda world, services, place: {"y": _this_academic_year()},
    ),
    # --- activities: organising (`activity write` at the organiser) ------------------------
    "createCollectionTask": Op(
        "mutation($input: CreateCollectionTaskInput!) { createCollectionTask(input: $input) "
        "{ task { title } userErrors { code } } }",
        "createCollectionTask",
        "object",
        # organised by Q1 (in), Q2 (out), B's squadron (other)
        organising(),
        _task_input,
    ),
    "updateCollectionTask": Op(
        'mutation($id: ID!) { updateCollectionTask(input: {id: $id, description: "说明"}) '
        "{ task { title } userErrors { code } } }",
        "updateCollectionTask",
        "object",
        task_write(),
        _task_organised(),
    ),
    "publishCollectionTask": Op(
        "mutation($id: ID!) { publishCollectionTask(input: {id: $id}) "
        "{ task { title } userErrors { code } } }",
        "publishCollectionTask",
        "object",
        task_write(TNF),
        _task_organised("draft"),
    ),
    "closeCollectionTask": Op(
        "mutation($id: ID!) { closeCollectionTask(input: {id: $id}) "
        "{ task { title } userErrors { code } } }",
        "closeCollectionTask",
        "object",
        task_write(),
        _task_organised(),
    ),
    "submitTaskWork": Op(
        'mutation($t: ID!, $p: ID!) { submitTaskWork(input: {taskId: $t, pupilId: $p, text: "作品"}) '
        "{ submission { state } userErrors { code } } }",
        "submitTaskWork",
        "object",
        taking_part(),
        _county_task("submission"),
    ),
    "completeLesson": Op(
        "mutation($t: ID!, $p: ID!) { completeLesson(input: {taskId: $t, pupilId: $p}) "
        "{ submission { state } userErrors { code } } }",
        "completeLesson",
        "object",
        taking_part(),
        _county_task("lesson"),
    ),
    "reviewTaskSubmission": Op(
        "mutation($s: ID!) { reviewTaskSubmission(input: {submissionId: $s, approve: true}) "
        "{ submission { state } userErrors { code } } }",
        "reviewTaskSubmission",
        "object",
        # P1's reviewers; the family reads the submission but does not review it
        {
            **table(SUBNF, anonymous=U),
            **{role: ("ok", SUBNF, SUBNF) for role in REVIEWERS},
            "guardian": (F, SUBNF, SUBNF),
            "county_admin": ("ok", "ok", SUBNF),
        },
        _submission_at,
    ),
    "proposePairing": Op(
        "mutation($input: ProposePairingInput!) { proposePairing(input: $input) "
        "{ pairing { state } userErrors { code } } }",
        "proposePairing",
        "object",
        # a county for its own side where it may act; the province for any two of its region;
        # the prefecture not for county B (outside it)
        {
            **table(SIDENF, anonymous=U, prefecture_admin=F),
            **{
                role: ("ok", SIDENF, SIDENF)
                for role in ("township_admin", "brigade_counselor", "county_app")
            },
            "county_admin": ("ok", "ok", SIDENF),
            "province_admin": ("ok", "ok", "ok"),
        },
        _proposal,
    ),
    "acceptPairing": Op(
        "mutation($id: ID!) { acceptPairing(input: {id: $id}) { pairing { state } userErrors { code } } }",
        "acceptPairing",
        "object",
        pairing_act(),
        _pairing_at("proposed"),
    ),
    "declinePairing": Op(
        "mutation($id: ID!) { declinePairing(input: {id: $id}) { pairing { state } userErrors { code } } }",
        "declinePairing",
        "object",
        pairing_act(),
        _pairing_at("proposed"),
    ),
    "endPairing": Op(
        "mutation($id: ID!) { endPairing(input: {id: $id}) { pairing { state } userErrors { code } } }",
        "endPairing",
        "object",
        pairing_act(),
        _pairing_at("active"),
    ),
    "recordPairingEvent": Op(
        "mutation($id: ID!) { recordPairingEvent(input: {pairingId: $id, kind: VISIT, "
        'on: "2026-11-20"}) { pairing { state } userErrors { code } } }',
        "recordPairingEvent",
        "object",
        pairing_act(),
        _pairing_at("active"),
    ),
    "withdrawPairing": Op(
        "mutation($id: ID!) { withdrawPairing(input: {id: $id}) { pairing { state } userErrors { code } } }",
        "withdrawPairing",
        "object",
        # A's own proposal: A withdraws it where it may act; the province did not propose it
        {
            **pairing_act(),
            "province_admin": ("NOT_YOUR_SIDE", "NOT_YOUR_SIDE", PAIRNF),
            "prefecture_admin": ("NOT_YOUR_SIDE", "NOT_YOUR_SIDE", PAIRNF),
        },
        _proposed_by_a,
    ),
    "reviewPairing": Op(
        'mutation($id: ID!) { reviewPairing(input: {id: $id, review: "收获很大"}) '
        "{ pairing { state } userErrors { code } } }",
        "reviewPairing",
        "object",
        pairing_act(),
        _pairing_at("ended"),
    ),
    "withdrawPairingConsent": Op(
        "mutation($p: ID!) { withdrawPairingConsent(input: {pupilId: $p}) { ok } }",
        "withdrawPairingConsent",
        "object",
        # the family itself
        {
            **table(PNF, anonymous=U),
            **{role: (F, PNF, PNF) for role in (*ORGANISERS, "team_counselor")},
            "county_admin": (F, F, PNF),
            "guardian": ("ok", PNF, PNF),
        },
        lambda world, services, place: {"p": pupil_id(place, world)},
    ),
    "openCare": Op(
        "mutation($input: OpenCareInput!) { openCare(input: $input) "
        "{ record { kind } userErrors { code } } }",
        "openCare",
        "object",
        # the county admin; who sees the pupil but does not run care is refused
        {
            **table(PNF, anonymous=U),
            **{role: (F, PNF, PNF) for role in (*CARERS, "guardian")},
            "county_admin": ("ok", "ok", PNF),
        },
        _care_pupil,
    ),
    "closeCare": Op(
        "mutation($id: ID!) { closeCare(input: {recordId: $id}) { record { endedOn } userErrors { code } } }",
        "closeCare",
        "object",
        care_admin(),
        _care_at,
    ),
    "assignCarer": Op(
        "mutation($id: ID!, $a: ID!) { assignCarer(input: {recordId: $id, assignmentId: $a}) "
        "{ record { kind } userErrors { code } } }",
        "assignCarer",
        "object",
        care_admin(),
        _care_and_a_carer,
    ),
    "endCarer": Op(
        "mutation($id: ID!, $c: ID!) { endCarer(input: {recordId: $id, carerId: $c}) "
        "{ record { kind } userErrors { code } } }",
        "endCarer",
        "object",
        care_admin(),
        _care_at,
    ),
    "recordCareAid": Op(
        "mutation($id: ID!, $d: Date!) { recordCareAid(input: {recordId: $id, onDate: $d, "
        'amount: "100", source: "希望工程"}) { record { aidTotal } userErrors { code } } }',
        "recordCareAid",
        "object",
        care_admin(),
        _care_at,
    ),
    "recordCareVisit": Op(
        "mutation($id: ID!, $d: Date!) { recordCareVisit(input: {recordId: $id, visitedOn: $d, "
        'volunteer: "陈", what: "家访"}) { record { kind } userErrors { code } } }',
        "recordCareVisit",
        "object",
        # the carer too (tests/test_care_api.py), who is no role's principal here
        care_admin(),
        _care_at,
    ),
    "raiseVolunteerNeed": Op(
        'mutation($u: ID!) { raiseVolunteerNeed(input: {unitId: $u, title: "周末课堂", '
        'need: "辅导"}) { project { state } userErrors { code } } }',
        "raiseVolunteerNeed",
        "object",
        # a school, township or the county where it reaches
        {
            **organising(),
            "squadron_counselor": (F, F, "UNIT_NOT_FOUND"),
        },
        lambda world, services, place: {"u": unit_id(place, world)},
    ),
    "publishVolunteerProject": Op(
        "mutation($id: ID!) { publishVolunteerProject(input: {id: $id}) "
        "{ project { state } userErrors { code } } }",
        "publishVolunteerProject",
        "object",
        # a need: who does not see it (not raised or published there) does not find it
        {
            **project_publishing(),
            "brigade_counselor": (F, PROJNF, PROJNF),
            "county_app": (F, PROJNF, PROJNF),
            "township_admin": ("ok", PROJNF, PROJNF),
            "squadron_counselor": (PROJNF, PROJNF, PROJNF),
            "team_counselor": (PROJNF, PROJNF, PROJNF),
        },
        _project_at("need"),
    ),
    "claimVolunteerProject": Op(
        'mutation($id: ID!) { claimVolunteerProject(input: {id: $id, team: "志愿队"}) '
        "{ project { state } userErrors { code } } }",
        "claimVolunteerProject",
        "object",
        # any staff member of the county, for a team
        {
            **table((F, F, PROJNF), anonymous=U),
            **{role: ("ok", "ok", PROJNF) for role in PROJECT_STAFF},
        },
        _project_at("published"),
    ),
    "reportVolunteerProject": Op(
        'mutation($id: ID!) { reportVolunteerProject(input: {id: $id, text: "开课 2 次"}) '
        "{ project { state } userErrors { code } } }",
        "reportVolunteerProject",
        "object",
        # claimed by another account: its publishers report for it
        project_publishing(),
        _project_at("claimed"),
    ),
    "reviewVolunteerProject": Op(
        'mutation($id: ID!) { reviewVolunteerProject(input: {id: $id, text: "好"}) '
        "{ project { state } userErrors { code } } }",
        "reviewVolunteerProject",
        "object",
        project_publishing(),
        _project_at("carried_out"),
    ),
    "queryAllowList": Op(
        "{ queryAllowList { enforced } }",
        "queryAllowList",
        "county",
        # the county's own apps' queries: its admin's to keep (an empty, open list here)
        county_wide(F, county_admin="allowed"),
    ),
    "registerQueries": Op(
        'mutation { registerQueries(input: {queries: [{name: "我", query: "{ me { name } }"}]})'
        " { allowList { enforced } userErrors { code } } }",
        "registerQueries",
        "county",
        county_wide(F, county_admin="ok"),
    ),
    "unregisterQuery": Op(
        'mutation { unregisterQuery(input: {hash: "00"}) { userErrors { code } } }',
        "unregisterQuery",
        "county",
        # (nothing registered under that hash: the admin gets the user error, others no say)
        county_wide(F, county_admin="allowed"),
    ),
    "setAllowListEnforced": Op(
        "mutation { setAllowListEnforced(input: {enforced: false}) { allowList { enforced } } }",
        "setAllowListEnforced",
        "county",
        county_wide(F, county_admin="allowed"),
    ),
    "setPupilPairingLimit": Op(
        "mutation { setPupilPairingLimit(input: {limit: 2}) { limit userErrors { code } } }",
        "setPupilPairingLimit",
        "county",
        # the county's rule: its admin's
        county_wide(F, county_admin="ok"),
    ),
    "setAllowedOrigins": Op(
        'mutation { setAllowedOrigins(input: {origins: ["https://app.example.cn"]}) '
        "{ county { allowedOrigins } userErrors { code } } }",
        "setAllowedOrigins",
        "county",
        # the web origins of the county's own frontends: its admin's
        county_wide(F, county_admin="ok"),
    ),
    "givePairingConsent": Op(
        'mutation($p: ID!) { givePairingConsent(input: {pupilId: $p, noticeVersion: "2026-09"}) '
        "{ ok } }",
        "givePairingConsent",
        "object",
        # the family itself; who sees the child but is not its family is refused
        {
            **table(PNF, anonymous=U),
            **{role: (F, PNF, PNF) for role in (*ORGANISERS, "team_counselor")},
            "county_admin": (F, F, PNF),
            "guardian": ("ok", PNF, PNF),
        },
        lambda world, services, place: {"p": pupil_id(place, world)},
    ),
    "createActivity": Op(
        "mutation($input: CreateActivityInput!) { createActivity(input: $input) "
        "{ activity { title } userErrors { code } } }",
        "createActivity",
        "object",
        # organised by Q1 (in), Q2 (out), B's squadron (other); who reads no unit finds none
        organising(),
        _activity_input,
    ),
    "updateActivity": Op(
        'mutation($id: ID!) { updateActivity(input: {id: $id, place: "少年宫"}) '
        "{ activity { title } userErrors { code } } }",
        "updateActivity",
        "object",
        activity_write(),
        _organised(),
    ),
    "publishActivity": Op(
        "mutation($id: ID!) { publishActivity(input: {id: $id}) "
        "{ activity { title } userErrors { code } } }",
        "publishActivity",
        "object",
        # a draft: who may not organise it does not see it
        activity_write(ANF),
        _organised("draft"),
    ),
    "closeActivitySignup": Op(
        "mutation($id: ID!) { closeActivitySignup(input: {id: $id}) "
        "{ activity { title } userErrors { code } } }",
        "closeActivitySignup",
        "object",
        activity_write(),
        _organised(),
    ),
    "finishActivity": Op(
        "mutation($id: ID!) { finishActivity(input: {id: $id}) "
        "{ activity { state } userErrors { code } } }",
        "finishActivity",
        "object",
        activity_write(),
        _organised(),
    ),
    "cancelActivity": Op(
        "mutation($id: ID!) { cancelActivity(input: {id: $id}) "
        "{ activity { state } jobId userErrors { code } } }",
        "cancelActivity",
        "object",
        activity_write(),
        _organised(),
    ),
    "issueCheckinCode": Op(
        "mutation($id: ID!) { issueCheckinCode(input: {id: $id}) { code userErrors { code } } }",
        "issueCheckinCode",
        "object",
        # `attendance write` at the organiser: a team counselor's team is under Q1, not above
        activity_write(),
        _organised(),
    ),
    # --- activities: signing up and attending (P1 in, P2 out, B's P3 other) -----------------
    "signUpForActivity": Op(
        "mutation($a: ID!, $p: ID!) { signUpForActivity(input: {activityId: $a, "
        "pupilIds: [$p]}) { signups { state } userErrors { code } } }",
        "signUpForActivity",
        "object",
        # who reads no activities does not find it; a pupil out of sight is not found
        {
            **table(ANF, anonymous=U),
            **{role: ("ok", PNF, PNF) for role in ORGANISERS},
            "team_counselor": (F, PNF, PNF),
            "guardian": ("ok", PNF, PNF),
            "county_admin": ("ok", "ok", PNF),
        },
        _county_activity,
    ),
    "cancelActivitySignup": Op(
        "mutation($s: ID!) { cancelActivitySignup(input: {signupId: $s}) "
        "{ signup { state } userErrors { code } } }",
        "cancelActivitySignup",
        "object",
        # a sign-up of a pupil out of sight is not found
        {
            **table(SNF, anonymous=U),
            **{role: ("ok", SNF, SNF) for role in ORGANISERS},
            "team_counselor": (F, SNF, SNF),
            "guardian": ("ok", SNF, SNF),
            "county_admin": ("ok", "ok", SNF),
        },
        _signed_up,
    ),
    "checkInPupil": Op(
        "mutation($a: ID!, $p: ID!) { checkInPupil(input: {activityId: $a, pupilId: $p}) "
        "{ signup { state } userErrors { code } } }",
        "checkInPupil",
        "object",
        # `attendance write` where the pupil is (or at the organiser), never by a binding alone
        {
            **table(ANF, anonymous=U),
            **{role: ("ok", PNF, PNF) for role in ORGANISERS},
            "team_counselor": ("ok", PNF, PNF),
            "guardian": (F, PNF, PNF),
            "county_admin": ("ok", "ok", PNF),
        },
        _at_the_venue(code=False),
    ),
    "checkInWithCode": Op(
        "mutation($a: ID!, $p: ID!, $c: String!) { checkInWithCode(input: {activityId: $a, "
        "pupilId: $p, code: $c}) { signup { state } userErrors { code } } }",
        "checkInWithCode",
        "object",
        # the code shown at the venue: the bound guardian too
        {
            **table(ANF, anonymous=U),
            **{role: ("ok", PNF, PNF) for role in ORGANISERS},
            "team_counselor": ("ok", PNF, PNF),
            "guardian": ("ok", PNF, PNF),
            "county_admin": ("ok", "ok", PNF),
        },
        _at_the_venue(code=True),
    ),
    # --- the exchange ----------------------------------------------------------------------
    "createPartner": Op(
        'mutation { createPartner(input: {name: "惠水书店"}) { partner { name } '
        "userErrors { code } } }",
        "createPartner",
        "county",
        county_wide(F, county_admin="ok"),
    ),
    "updatePartner": Op(
        'mutation($p: ID!) { updatePartner(input: {id: $p, contact: "0854-7654321"}) '
        "{ partner { name } userErrors { code } } }",
        "updatePartner",
        "object",
        {**table(F, anonymous=U), "county_admin": ("ok", "ok", PARTNER_NF)},
        lambda world, services, place: {"p": _partner_id(world, place)},
    ),
    "createExchangeItem": Op(
        "mutation($input: CreateExchangeItemInput!) { createExchangeItem(input: $input) "
        "{ item { name } userErrors { code } } }",
        "createExchangeItem",
        "object",
        # for X1 (in), X2 (out), B's X (other): the county's, or a partner's for its own
        {
            **table((F, F, PARTNER_NF), anonymous=U),
            "county_admin": ("ok", "ok", PARTNER_NF),
            "partner": ("ok", F, PARTNER_NF),
        },
        _item_input,
    ),
    "updateExchangeItem": Op(
        "mutation($id: ID!) { updateExchangeItem(input: {id: $id, addStock: 1}) "
        "{ item { name } userErrors { code } } }",
        "updateExchangeItem",
        "object",
        # an item out of the caller's reading is not found
        {
            **table(ITEM_NF, anonymous=U),
            **{role: (F, F, ITEM_NF) for role in EXCHANGE_READERS},
            "county_admin": ("ok", "ok", ITEM_NF),
            "partner": ("ok", ITEM_NF, ITEM_NF),
        },
        _item_at,
    ),
    "redeemItem": Op(
        "mutation($i: ID!, $p: ID!) { redeemItem(input: {itemId: $i, pupilId: $p}) "
        "{ redemption { state } userErrors { code } } }",
        "redeemItem",
        "object",
        # an item of X1 for P1 (in), P2 (out), B's P3 (other): families for their own child
        {
            **table(ITEM_NF, anonymous=U),
            **{role: (F, PNF, PNF) for role in EXCHANGE_READERS},
            "county_admin": (F, F, PNF),
            "guardian": ("ok", PNF, PNF),
            "partner": (PNF, PNF, PNF),
        },
        _redeem_variables,
    ),
    "verifyRedemptionCode": Op(
        "mutation($c: String!) { verifyRedemptionCode(input: {code: $c}) "
        "{ itemName redemption { state } userErrors { code } } }",
        "verifyRedemptionCode",
        "object",
        # a code of X1's (in), X2's (out), B's X's (other): a partner's own codes only
        {**table(F, anonymous=U), "partner": ("ok", "hidden", "hidden")},
        lambda world, services, place: {"c": _redeemed(world, services, place)["c"]},
    ),
    # --- public: the caller needs no credentials; the input's decide -----------------------
    "signIn": Op(
        'mutation { signIn(input: {username: "nobody", password: "x"}) { userErrors { code } } }',
        "signIn",
        "public",
        table("allowed"),
    ),
    "setupTotp": Op(
        'mutation { setupTotp(input: {mfaToken: "x"}) { userErrors { code } } }',
        "setupTotp",
        "public",
        table("allowed"),
    ),
    "verifyTotp": Op(
        'mutation { verifyTotp(input: {mfaToken: "x", code: "1"}) { userErrors { code } } }',
        "verifyTotp",
        "public",
        table("allowed"),
    ),
    "refreshSession": Op(
        'mutation { refreshSession(input: {refreshToken: "x"}) { userErrors { code } } }',
        "refreshSession",
        "public",
        table("allowed"),
    ),
    "requestLoginCode": Op(
        'mutation { requestLoginCode(input: {phone: "12"}) { userErrors { code } } }',
        "requestLoginCode",
        "public",
        table("allowed"),
    ),
    "signInWithCode": Op(
        'mutation { signInWithCode(input: {phone: "13800000000", code: "1"}) '
        "{ userErrors { code } } }",
        "signInWithCode",
        "public",
        table("allowed"),
    ),
    "acceptInvitation": Op(
        'mutation { acceptInvitation(input: {token: "x"}) { userErrors { code } } }',
        "acceptInvitation",
        "public",
        table("allowed"),
    ),
}

# What each operation answers for an object it does not find (out of reach, or of another
# county): the code of the object's kind. Written NF above, in the shared expectations.
NOT_FOUND_OF = {
    **dict.fromkeys(("changePupilStatus", "enrolPupils", "issueBindingCode", "movePupil",
                     "requestPupilData", "transferPupil", "unbindPupil", "updatePupil"),
                    "PUPIL_NOT_FOUND"),
    **dict.fromkeys(("confirmBadgeAwards", "reviewBadgeCandidates", "revokeBadgeAward",
                     "startBadgeNotice", "recordAwardObjection"), "AWARD_NOT_FOUND"),
    # an objection of another county is not found; one here, on an award out of reach, is
    # the award's
    "resolveAwardObjection": ("AWARD_NOT_FOUND", "AWARD_NOT_FOUND", "OBJECTION_NOT_FOUND"),
    "endCounselor": "COUNSELOR_NOT_FOUND",
    "reassignCounselor": "COUNSELOR_NOT_FOUND",
    "handleDataRequest": "DATA_REQUEST_NOT_FOUND",
    "revokeApiKey": "API_KEY_NOT_FOUND",
    "revokeRole": "GRANT_NOT_FOUND",
    "acceptTransfer": "TRANSFER_NOT_FOUND",
    "declineTransfer": "TRANSFER_NOT_FOUND",
}  # fmt: skip
for _name, _code in NOT_FOUND_OF.items():
    _op = OPERATIONS[_name]
    _codes = (_code,) * 3 if isinstance(_code, str) else _code
    OPERATIONS[_name] = replace(_op, expect={
        role: tuple(code if cell == NF else cell for cell, code in zip(cells, _codes,
                                                                       strict=True))
        for role, cells in _op.expect.items()})  # type: ignore[misc]  # fmt: skip

QUERY_FIELDS = {"county", "units", "unit", "node", "pupils", "pupil", "me", "roleAssignments",
                "apiKeys", "auditLog"}  # fmt: skip


def places(op: Op) -> tuple[str, ...]:
    return {"object": ("in", "out", "other"), "county": ("in", "other"), "public": ("in",)}[op.kind]
