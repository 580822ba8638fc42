"""Roster imports as a brigade counselor does them: download the template, fill it in (or
export what is there), upload it, and follow the job; a file with any bad row applies
nothing and gives back a report to fix and upload again.

Every test goes through the real HTTP endpoints (`POST /uploads`, GraphQL, the report
download) and a real worker consuming the real broker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from domain.audit.tables import audit_log
from domain.org.tables import units
from domain.people.tables import counselors, pupils
from domain.spreadsheets.rosters import COUNSELOR_COLUMNS, HEADERS, UNIT_COLUMNS
from redscarf.settings import Settings
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, tenant_of
from tests.test_jobs import JOB_SETTINGS
from tests.test_pupils import id_number
from workers.broker import JobRuntime
from workers.main import in_process_worker

IMPORT = """mutation($i: ImportRosterInput!) {
  importRoster(input: $i) { rosterImport { id state } userErrors { field code message } }
}"""
FOLLOW = """query($id: ID!) { rosterImport(id: $id) {
  id kind state filename phase progress total rows created updated unchanged errorCount
  errors { sheet row column code message } notes reportUrl finishedAt
} }"""
ENDED = ("DONE", "INVALID", "FAILED")
NAMES = [a + b for a in "王李张刘陈" for b in "一二三四"]  # 20 names


@pytest.fixture(scope="module")
def worker(settings: Settings) -> Iterator[JobRuntime]:
    with in_process_worker(settings, threads=2, job_settings=JOB_SETTINGS) as runtime:
        yield runtime


def xlsx(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS, **sheets: Any) -> bytes:
    """A workbook with one sheet `名册` (headers, then rows) and any extra sheets given."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名册"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    for name, extra in sheets.items():
        other = book.create_sheet(name)
        for row in extra:
            other.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pupil_row(name: str, number: str | None = None, **cells: Any) -> list[Any]:
    values = {"学校": "城关小学", "中队": "四（1）中队", "小队": None, "姓名": name,
              "性别": None, "出生日期": None, "身份证号码": number, "状态": "少先队员",
              "入队日期": dt.date(2023, 10, 13), "入队批次": "2023年秋季第一批"}  # fmt: skip
    values.update(cells)
    return [values[h] for h in HEADERS]


class Importer:
    """A signed-in caller that uploads files and follows their imports."""

    def __init__(self, gql: GraphQLClient, county: County, token: str) -> None:
        self.gql = gql
        self.county = county
        self.headers = {"Authorization": f"Bearer {token}", "X-County": county.code}

    async def upload(self, content: bytes, filename: str = "名册.xlsx") -> Any:
        return await self.gql.http.post(
            "/uploads", params={"filename": filename}, content=content, headers=self.headers
        )

    async def start(self, content: bytes, kind: str = "PUPILS") -> dict[str, Any]:
        uploaded = await self.upload(content)
        assert uploaded.status_code == 201, uploaded.text
        body = await self.gql.data(
            IMPORT, {"i": {"uploadId": uploaded.json()["id"], "kind": kind}}, headers=self.headers
        )
        payload = body["importRoster"]
        assert payload["userErrors"] == []
        return payload["rosterImport"]

    async def follow(self, import_id: str, within: float = 60) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            found = (await self.gql.data(FOLLOW, {"id": import_id}, headers=self.headers))[
                "rosterImport"
            ]
            if found["state"] in ENDED:
                return found
            assert loop.time() < deadline, f"import still {found['state']}: {found}"
            await asyncio.sleep(0.1)

    async def run(self, content: bytes, kind: str = "PUPILS") -> dict[str, Any]:
        return await self.follow((await self.start(content, kind))["id"])


@pytest.fixture
def school(engine: Engine, make_county: Any) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "城关镇", root, area="urban")
    brigade = create_unit(engine, county, "brigade", "城关小学", township, area="urban")
    squadron = create_unit(engine, county, "squadron", "四（1）中队", brigade, grade=4)
    other = create_unit(engine, county, "squadron", "五（2）中队", brigade, grade=5)
    team = create_unit(engine, county, "team", "第一小队", squadron)
    return {"county": county, "root": root, "township": township, "brigade": brigade,
            "squadron": squadron, "other": other, "team": team}  # fmt: skip


@pytest.fixture
def admin(gql: GraphQLClient, school: dict[str, Any], worker: JobRuntime) -> Importer:
    county = school["county"]
    return Importer(gql, county, gql.token_for("county_admin", county.code))


def roster(engine: Engine, county: County) -> list[tuple[Any, ...]]:
    """The pupils as stored, every column that an import may touch."""
    with tenant_connection(engine, tenant_of(county)) as conn:
        rows = conn.execute(
            select(
                pupils.c.id,
                pupils.c.squadron_id,
                pupils.c.team_id,
                pupils.c.name,
                pupils.c.gender,
                pupils.c.birth_date,
                pupils.c.grade,
                pupils.c.status,
                pupils.c.joined_on,
                pupils.c.batch,
                pupils.c.id_number_hash,
                pupils.c.id_number_enc,
                pupils.c.updated_at,
            ).order_by(pupils.c.id)
        ).all()
    return [tuple(r) for r in rows]


# --- the happy path ------------------------------------------------------------------------


async def test_a_roster_imports_and_importing_its_export_changes_nothing(
    admin: Importer, school: dict[str, Any], engine: Engine
) -> None:
    rows = [
        pupil_row(
            NAMES[i],
            id_number(f"201503{i + 1:02d}", f"{i:03d}"),
            小队="第一小队" if i % 2 else None,
        )
        for i in range(20)
    ]
    rows.append(pupil_row("无证号", None, 性别="女", 出生日期="2015-05-06"))
    rows.append(pupil_row("预备生", None, 性别="男", 状态="预备队员", 入队日期=None, 入队批次=None))
    done = await admin.run(xlsx(rows))
    assert done["state"] == "DONE", done
    assert (done["rows"], done["created"], done["updated"], done["unchanged"]) == (22, 22, 0, 0)
    assert (done["errorCount"], done["reportUrl"]) == (0, None)
    stored = roster(engine, school["county"])
    assert len(stored) == 22
    by_name = {r[3]: r for r in stored}
    assert by_name["王二"][2] == school["team"].id  # in its team
    assert by_name["王一"][6] == 4  # the squadron's grade
    assert by_name["预备生"][7:9] == ("pre_member", None)

    # The same file again: nothing changes, not even a timestamp.
    again = await admin.run(xlsx(rows))
    assert (again["state"], again["created"], again["updated"], again["unchanged"]) == (
        "DONE", 0, 0, 22)  # fmt: skip
    assert roster(engine, school["county"]) == stored

    # Export, then import the export: nothing changes.
    exported = await admin.gql.http.get("/exports/pupils.xlsx", headers=admin.headers)
    assert exported.status_code == 200
    round_trip = await admin.run(exported.content)
    assert (round_trip["state"], round_trip["unchanged"], round_trip["created"]) == ("DONE", 22, 0)
    assert roster(engine, school["county"]) == stored


async def test_a_changed_row_corrects_the_pupil_in_place_with_the_old_value_audited(
    admin: Importer, school: dict[str, Any], engine: Engine
) -> None:
    number = id_number("20150301", "001")
    await admin.run(xlsx([pupil_row("王晓明", number)]))
    (before,) = roster(engine, school["county"])
    done = await admin.run(xlsx([pupil_row("王小明", number, 中队="五（2）中队")]))
    assert (done["state"], done["updated"]) == ("DONE", 1)
    (after,) = roster(engine, school["county"])
    assert after[0] == before[0]  # the same pupil, corrected in place
    assert (after[3], after[1], after[6]) == ("王小明", school["other"].id, 5)
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        entry = conn.execute(
            select(audit_log)
            .where(audit_log.c.action == "importPupils")
            .order_by(audit_log.c.id.desc())
        ).first()
    assert entry is not None
    assert entry.object_id == str(before[0])
    assert entry.details["before"]["name"] == "王晓明"
    assert entry.details["after"]["name"] == "王小明"
    assert entry.details["before"]["squadron_id"] == school["squadron"].id


async def test_units_then_counselors_import_from_their_templates(
    admin: Importer, school: dict[str, Any], engine: Engine
) -> None:
    for kind in ("units", "counselors"):
        template = await admin.gql.http.get(f"/templates/{kind}.xlsx")
        assert template.status_code == 200
        header = next(
            openpyxl.load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True)
        )
        assert header == tuple(
            c.header for c in (UNIT_COLUMNS if kind == "units" else COUNSELOR_COLUMNS)
        )
    unit_headers = [c.header for c in UNIT_COLUMNS]
    tree = [
        ["城关镇", None, "城关小学", None, None, "一（1）中队", None, "第一小队"],
        ["城关镇", None, "城关小学", None, None, "一（1）中队", None, "第二小队"],
        ["石桥乡", None, "石桥中心小学", "农村", "普通学校", "三（2）中队", "3", None],
        [None, None, "县直民族小学", "城镇", "新居民子女学校", None, None, None],
    ]
    done = await admin.run(xlsx(tree, unit_headers), "UNITS")
    assert (done["state"], done["created"], done["unchanged"]) == ("DONE", 4, 0), done["errors"]
    again = await admin.run(xlsx(tree, unit_headers), "UNITS")
    assert (again["state"], again["created"], again["unchanged"]) == ("DONE", 0, 4)
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        made = {r.name: r for r in conn.execute(select(units)).all()}
    assert (made["一（1）中队"].grade, made["一（1）中队"].parent_id) == (1, school["brigade"].id)
    assert made["第二小队"].parent_id == made["一（1）中队"].id
    assert (made["石桥中心小学"].area, made["石桥乡"].parent_id) == ("rural", school["root"].id)
    assert made["县直民族小学"].school_kind == "migrant"
    assert made["县直民族小学"].parent_id == school["root"].id
    assert made["三（2）中队"].path.startswith(made["石桥中心小学"].path + ".")

    staff = [
        ["李老师", "大队辅导员", "城关小学", None, None, dt.date(2024, 9, 1)],
        ["张老师", "中队辅导员", "石桥中心小学", "三（2）中队", None, None],
        ["赵老师", "小队辅导员", "城关小学", "一（1）中队", "第二小队", None],
    ]
    headers = [c.header for c in COUNSELOR_COLUMNS]
    done = await admin.run(xlsx(staff, headers), "COUNSELORS")
    assert (done["state"], done["created"]) == ("DONE", 3), done
    again = await admin.run(xlsx(staff, headers), "COUNSELORS")
    assert (again["created"], again["unchanged"]) == (0, 3)
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        people = {r.name: r for r in conn.execute(select(counselors)).all()}
    assert (people["张老师"].unit_id, people["张老师"].kind) == (made["三（2）中队"].id, "squadron")
    assert people["赵老师"].unit_id == made["第二小队"].id
    assert people["李老师"].appointed_on == dt.date(2024, 9, 1)


def count_pupils(engine: Engine, county: County) -> int:
    with tenant_connection(engine, tenant_of(county)) as conn:
        return conn.execute(select(func.count()).select_from(pupils)).scalar_one()
