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
import json
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select, update

from domain.audit.tables import audit_log
from domain.imports.tables import roster_imports, uploads
from domain.ledger import service as ledger
from domain.org.tables import units
from domain.people.tables import counselors, pupils
from domain.spreadsheets.reading import ERROR_HEADER
from domain.spreadsheets.rosters import (
    COUNSELOR_COLUMNS,
    HEADERS,
    ONE_STAR_COLUMNS,
    PUPIL_EXAMPLE,
    UNIT_COLUMNS,
)
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, tenant_of
from tests.test_cli import redscarf
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


# --- bad input: one bad row, and nothing is imported -----------------------------------------

GOOD = pupil_row("王一", id_number("20150301", "001"))
FORMULA = "=TEXT(20150301,0)"


@pytest.mark.parametrize(
    ("bad", "code", "column"),
    [
        (pupil_row("王二", "52273120150301002X"), "INVALID_ID_NUMBER", "身份证号码"),
        (pupil_row("王二", None, 性别="男", 出生日期="2015-02-30"), "INVALID_DATE", "出生日期"),
        (pupil_row("王二", None, 性别="男", 出生日期="明年"), "INVALID_DATE", "出生日期"),
        (pupil_row("王一", id_number("20150301", "001")), "DUPLICATE_ROW", "身份证号码"),
        (pupil_row("王二", None, 性别="男", 中队="九（9）中队"), "UNIT_NOT_FOUND", "中队"),
        (pupil_row("王二", None, 性别="男", 学校="不存在小学"), "UNIT_NOT_FOUND", "学校"),
        (pupil_row("王二", None, 性别="男", 小队="第九小队"), "UNIT_NOT_FOUND", "小队"),
        (pupil_row("王二", None, 性别="男", 出生日期=FORMULA), "UNREADABLE_CELL", "出生日期"),
        (pupil_row("王二", 522731201503010020), "UNREADABLE_CELL", "身份证号码"),
        (pupil_row("王二", "522********0021"), "MASKED_ID_NUMBER", "身份证号码"),
        (pupil_row("王二", None), "GENDER_REQUIRED", "性别"),
        (pupil_row("", None, 性别="男"), "REQUIRED", "姓名"),
        (pupil_row("王2", None, 性别="男"), "INVALID_NAME", "姓名"),
        (pupil_row("王二", None, 性别="男", 状态="团员"), "INVALID_CHOICE", "状态"),
        (pupil_row("王二", None, 性别="男", 状态="已离队"), "INVALID_STATUS", "状态"),
        (
            pupil_row("王二", id_number("20150301", "002"), 性别="男"),
            "ID_NUMBER_MISMATCH",
            "身份证号码",
        ),
    ],
    ids=["malformed-id", "impossible-date", "not-a-date", "duplicate", "unknown-squadron",
         "unknown-school", "unknown-team", "formula", "id-as-number", "masked-id", "no-gender",
         "no-name", "digit-in-name", "unknown-status", "new-pupil-left", "id-gender-mismatch"],
)  # fmt: skip
async def test_a_bad_row_is_reported_in_its_cell_and_nothing_is_imported(
    admin: Importer, school: dict[str, Any], engine: Engine, bad: list[Any], code: str, column: str
) -> None:
    ended = await admin.run(xlsx([GOOD, bad]))
    assert ended["state"] == "INVALID"
    assert ended["errorCount"] == 1
    (error,) = ended["errors"]
    assert (error["sheet"], error["row"], error["column"], error["code"]) == (
        "名册", 3, column, code)  # fmt: skip
    assert error["message"]  # in Chinese, for the counselor
    assert count_pupils(engine, school["county"]) == 0  # not even the good row


async def test_the_report_is_the_sheet_with_an_error_column_and_once_fixed_it_imports(
    admin: Importer, school: dict[str, Any], engine: Engine
) -> None:
    rows = [
        GOOD,
        pupil_row("王二", "52273120150301002X"),
        pupil_row("王三", id_number("20150303", "003")),
    ]
    ended = await admin.run(xlsx(rows))
    assert (ended["state"], ended["rows"], ended["errorCount"]) == ("INVALID", 3, 1)
    report = await admin.gql.http.get(ended["reportUrl"], headers=admin.headers)
    assert report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    sheet = book["名册"]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == [*HEADERS, ERROR_HEADER]
    assert [r[3] for r in table[1:]] == ["王一", "王二", "王三"]  # every row, in order
    assert (table[1][-1], table[3][-1]) == (None, None)
    assert "校验位" in table[2][-1]
    # Someone else in the county cannot download it; a stranger county cannot see it at all.
    counselor = {"Authorization": "Bearer " + admin.gql.token_for(
        "squadron_counselor", school["county"].code, school["squadron"].path)}  # fmt: skip
    assert (await admin.gql.http.get(ended["reportUrl"], headers=counselor)).status_code == 404

    # Fix the cell in the report itself and upload it again: the error column is ignored.
    sheet.cell(row=3, column=HEADERS.index("身份证号码") + 1).value = id_number("20150302", "002")
    fixed = io.BytesIO()
    book.save(fixed)
    done = await admin.run(fixed.getvalue())
    assert (done["state"], done["created"]) == ("DONE", 3), done["errors"]
    assert count_pupils(engine, school["county"]) == 3


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "EMPTY_FILE"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, 415, "NOT_XLSX"),
        ("学校,中队,姓名\n城关小学,四（1）中队,王一\n".encode(), 415, "NOT_XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, 415, "NOT_XLSX"),  # old .xls
    ],
    ids=["empty", "image", "csv", "xls"],
)
async def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(
    admin: Importer, content: bytes, status: int, code: str
) -> None:
    response = await admin.upload(content)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]


async def test_a_huge_file_is_refused_before_it_is_stored(admin: Importer) -> None:
    limit = admin.gql.app.state.services.settings.upload_max_bytes
    response = await admin.upload(b"PK\x03\x04" + b"0" * limit)
    assert response.status_code == 413
    assert response.json()["code"] == "FILE_TOO_LARGE"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"PK\x03\x04" + b"broken zip" * 10, "NOT_XLSX"),
        (xlsx([], HEADERS), "EMPTY_FILE"),
        (xlsx([["一", "二"]], ["甲", "乙"]), "NO_HEADERS"),
    ],
    ids=["corrupt", "headers-only", "no-headers"],
)
async def test_a_file_that_cannot_be_read_ends_invalid_with_one_clear_error(
    admin: Importer, content: bytes, code: str
) -> None:
    ended = await admin.run(content)
    assert (ended["state"], ended["errorCount"], ended["reportUrl"]) == ("INVALID", 1, None)
    assert ended["errors"][0]["code"] == code


async def test_sheets_as_schools_keep_them_are_read(
    admin: Importer, school: dict[str, Any], engine: Engine
) -> None:
    """A title row, the school merged down the rows, full-width digits and brackets, middle
    dots of every kind, a notes sheet, a second roster sheet, and the template's sample row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "四年级"
    sheet.append(["城关小学2024年秋季队员名册"])
    sheet.merge_cells("A1:J1")
    sheet.append(list(HEADERS))
    full_width = id_number("20150301", "001").translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    sheet.append(pupil_row("阿卜杜·热合曼", full_width, 中队="四(1)中队"))
    sheet.append(pupil_row("阿依古丽.买买提", None, 学校=None, 性别="女", 出生日期="2015年3月2日"))
    sheet.append(pupil_row("古丽・努尔", None, 学校=None, 性别="女", 出生日期="2015/3/3"))
    sheet.merge_cells("A3:A5")
    sheet.append(list(PUPIL_EXAMPLE))  # the template's sample, left in
    notes = book.create_sheet("填表说明")
    notes.append(["请按模板填写"])
    fifth = book.create_sheet("五年级")
    fifth.append(list(HEADERS))
    fifth.append(
        pupil_row("张 三", None, 中队="五（2）中队", 性别="男", 出生日期=dt.date(2014, 5, 1))
    )
    out = io.BytesIO()
    book.save(out)

    done = await admin.run(out.getvalue())
    assert done["state"] == "DONE", done["errors"]
    assert done["created"] == 4
    assert any("填表说明" in note for note in done["notes"])
    assert any("示例行" in note for note in done["notes"])
    names = {r[3]: r for r in roster(engine, school["county"])}
    assert set(names) == {"阿卜杜·热合曼", "阿依古丽·买买提", "古丽·努尔", "张 三"}
    assert names["张 三"][1] == school["other"].id
    assert names["阿依古丽·买买提"][5] == dt.date(2015, 3, 2)


async def test_a_counselor_imports_into_their_own_squadron_only(
    gql: GraphQLClient, school: dict[str, Any], worker: JobRuntime, engine: Engine
) -> None:
    county = school["county"]
    counselor = Importer(
        gql, county, gql.token_for("squadron_counselor", county.code, school["squadron"].path)
    )
    ended = await counselor.run(
        xlsx([GOOD, pupil_row("王二", None, 性别="男", 中队="五（2）中队")])
    )
    assert ended["state"] == "INVALID"
    assert [(e["row"], e["code"]) for e in ended["errors"]] == [(3, "OUT_OF_SCOPE")]
    done = await counselor.run(xlsx([GOOD]))
    assert (done["state"], done["created"]) == ("DONE", 1)
    # The county admin sees the counselor's import; a guardian may not upload at all.
    admin = Importer(gql, county, gql.token_for("county_admin", county.code))
    seen = await gql.data(FOLLOW, {"id": done["id"]}, headers=admin.headers)
    assert seen["rosterImport"]["state"] == "DONE"
    guardian = Importer(gql, county, gql.token_for("guardian", county.code))
    refused = await guardian.upload(xlsx([GOOD]))
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")
    # Nobody imports another person's upload.
    uploaded = await admin.upload(xlsx([GOOD]))
    taken = await gql.data(
        IMPORT,
        {"i": {"uploadId": uploaded.json()["id"], "kind": "PUPILS"}},
        headers=counselor.headers,
    )
    assert taken["importRoster"]["userErrors"][0]["code"] == "UPLOAD_NOT_FOUND"


async def test_an_error_report_is_gone_after_its_retention_days(
    admin: Importer, school: dict[str, Any], engine: Engine, db_env: dict[str, str]
) -> None:
    """A report holds the file's rows (children's personal data): kept 7 days, then refused,
    and `redscarf imports purge` (or the county's next import) forgets it."""
    ended = await admin.run(xlsx([GOOD, pupil_row("王二", "52273120150301002X")]))
    assert (await admin.gql.http.get(ended["reportUrl"], headers=admin.headers)).status_code == 200
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        conn.execute(update(roster_imports).values(finished_at=func.now() - dt.timedelta(days=8)))
        conn.execute(update(uploads).values(created_at=func.now() - dt.timedelta(days=8)))
    late = await admin.gql.http.get(ended["reportUrl"], headers=admin.headers)
    assert (late.status_code, late.json()["code"]) == (404, "NO_REPORT")

    done = redscarf("imports", "purge", env=db_env)
    assert done.returncode == 0, done.stderr
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        left = conn.execute(
            select(roster_imports.c.report, roster_imports.c.errors, uploads.c.content).join(
                uploads, uploads.c.id == roster_imports.c.upload_id
            )
        ).all()
    assert [tuple(r) for r in left] == [(None, None, None)]


UNIT_HEADERS = [c.header for c in UNIT_COLUMNS]
COUNSELOR_HEADERS = [c.header for c in COUNSELOR_COLUMNS]
UNIT_OK = ["城关镇", None, "城关小学", None, None, "六（1）中队", None, None]
COUNSELOR_OK = ["李老师", "大队辅导员", "城关小学", None, None, None]


@pytest.mark.parametrize(
    ("kind", "bad", "code", "column"),
    [
        ("UNITS", ["城关镇", None, "城关小学", None, None, None, None, "第三小队"], "REQUIRED", "中队"),
        ("UNITS", ["城关镇", None, "城关小学", None, None, "四（1）中队", "5", None], "GRADE_CHANGE", "年级"),
        ("UNITS", ["城关镇", None, "城关小学", None, None, "小队长班", None, None], "INVALID_GRADE", "年级"),
        ("UNITS", ["城关镇", None, "城关小学", "郊区", None, None, None, None], "INVALID_CHOICE", "城乡"),
        ("UNITS", ["城关镇", None, None, None, "普通学校", None, None, None], "INVALID_SCHOOL_KIND", "学校类别"),
        ("COUNSELORS", ["张老师", "中队辅导员", "城关小学", None, None, None], "REQUIRED", "中队"),
        ("COUNSELORS", ["张老师", "班主任", "城关小学", None, None, None], "INVALID_CHOICE", "类别"),
        ("COUNSELORS", ["张老师", "大队辅导员", "没有小学", None, None, None], "UNIT_NOT_FOUND", "学校"),
        ("COUNSELORS", ["李老师", "大队辅导员", "城关小学", None, None, None], "DUPLICATE_ROW", "姓名"),
        ("COUNSELORS", ["张老师", "大队辅导员", "城关小学", None, None, "2099-01-01"], "INVALID_DATE", "任职日期"),
    ],
    ids=["team-without-squadron", "grade-change", "no-grade", "bad-area", "kind-without-school",
         "squadron-counselor-without-squadron", "unknown-kind", "unknown-school", "duplicate",
         "future-date"],
)  # fmt: skip
async def test_a_bad_row_of_units_or_counselors_is_reported_and_nothing_is_imported(
    admin: Importer, school: dict[str, Any], engine: Engine, kind: str, bad: list[Any],
    code: str, column: str,
) -> None:  # fmt: skip
    headers, good = (
        (UNIT_HEADERS, UNIT_OK) if kind == "UNITS" else (COUNSELOR_HEADERS, COUNSELOR_OK)
    )
    ended = await admin.run(xlsx([good, bad], headers), kind)
    assert ended["state"] == "INVALID"
    assert [(e["row"], e["column"], e["code"]) for e in ended["errors"]] == [(3, column, code)]
    with tenant_connection(engine, tenant_of(school["county"])) as conn:
        assert conn.execute(select(func.count()).select_from(counselors)).scalar_one() == 0
        names = set(conn.execute(select(units.c.name)).scalars())
    assert "六（1）中队" not in names


async def test_a_brigade_counselor_sets_up_squadrons_in_their_own_school_only(
    gql: GraphQLClient, school: dict[str, Any], worker: JobRuntime, engine: Engine
) -> None:
    county = school["county"]
    other_school = create_unit(engine, county, "brigade", "城南小学", school["township"])
    counselor = Importer(
        gql, county, gql.token_for("brigade_counselor", county.code, school["brigade"].path)
    )
    rows = [["城关镇", None, "城关小学", None, None, "六（1）中队", None, None],
            ["城关镇", None, "城南小学", None, None, "六（2）中队", None, None],
            ["新村镇", None, "新村小学", None, None, None, None, None]]  # fmt: skip
    ended = await counselor.run(xlsx(rows, UNIT_HEADERS), "UNITS")
    assert [(e["row"], e["code"]) for e in ended["errors"]] == [
        (3, "OUT_OF_SCOPE"),
        (4, "OUT_OF_SCOPE"),
    ]
    done = await counselor.run(xlsx(rows[:1], UNIT_HEADERS), "UNITS")
    assert (done["state"], done["created"]) == ("DONE", 1)
    with tenant_connection(engine, tenant_of(county)) as conn:
        made = conn.execute(select(units).where(units.c.name == "六（1）中队")).one()
    assert (made.parent_id, made.grade) == (school["brigade"].id, 6)
    assert other_school.id != made.parent_id


async def test_a_browser_form_uploads_the_file_too(admin: Importer, engine: Engine) -> None:
    response = await admin.gql.http.post(
        "/uploads",
        files={"file": ("四（1）中队名册.xlsx", xlsx([GOOD]), "application/octet-stream")},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "四（1）中队名册.xlsx"
    started = await admin.gql.data(
        IMPORT, {"i": {"uploadId": response.json()["id"], "kind": "PUPILS"}}, headers=admin.headers
    )
    done = await admin.follow(started["importRoster"]["rosterImport"]["id"])
    assert (done["state"], done["created"], done["filename"]) == ("DONE", 1, "四（1）中队名册.xlsx")
    # The same upload asked twice (a double click) is one import.
    again = await admin.gql.data(
        IMPORT, {"i": {"uploadId": response.json()["id"], "kind": "PUPILS"}}, headers=admin.headers
    )
    assert again["importRoster"]["rosterImport"]["id"] == done["id"]


async def test_a_one_star_list_grants_its_points_once_however_often_it_is_imported(
    admin: Importer, school: dict[str, Any], engine: Engine
) -> None:
    pupils_file = [
        pupil_row(NAMES[i], id_number(f"201503{i + 1:02d}", f"{i:03d}")) for i in range(6)
    ]
    assert (await admin.run(xlsx(pupils_file)))["state"] == "DONE"
    rule = await admin.gql.data(
        'mutation { setPointsRule(input: {level: STAR1, points: 10, effectiveFrom: "2020-09-01"}) '
        "{ rule { version } } }",
        headers=admin.headers,
    )
    assert rule["setPointsRule"]["rule"]["version"] == 1
    headers = [c.header for c in ONE_STAR_COLUMNS]
    listed = [["城关小学", "四（1）中队", NAMES[i], None, "2025", "热心助人"] for i in range(5)]
    listed[0][3] = id_number("20150301", "000")  # by ID number as well
    first = await admin.run(xlsx(listed, headers), "ONE_STAR")
    assert (first["state"], first["created"]) == ("DONE", 5), first["errors"]
    again = await admin.run(xlsx(listed, headers), "ONE_STAR")
    assert (again["state"], again["created"], again["unchanged"]) == ("DONE", 0, 5)
    roster_points = await admin.gql.data(
        "{ pupils(first: 10) { edges { node { name points { balance } badges { badge { code } } } } } }",
        headers=admin.headers,
    )
    got = {
        e["node"]["name"]: e["node"]["points"]["balance"] for e in roster_points["pupils"]["edges"]
    }
    assert got == {**{NAMES[i]: 10 for i in range(5)}, NAMES[5]: 0}
    # A name not in the squadron, and a duplicate: the file applies nothing.
    bad = [*listed[:1], ["城关小学", "四（1）中队", NAMES[5], None, "2026", None],
           ["城关小学", "四（1）中队", "查无此人", None, "2026", None],
           ["城关小学", "四（1）中队", NAMES[5], None, "2026", None]]  # fmt: skip
    ended = await admin.run(xlsx(bad, headers), "ONE_STAR")
    assert [(e["row"], e["code"]) for e in ended["errors"]] == [
        (4, "PUPIL_NOT_FOUND"),
        (5, "DUPLICATE_ROW"),
    ]
    with engine.connect() as conn:
        assert ledger.verify(conn, school["county"].schema_name).problems == []


async def test_a_schools_archives_come_in_one_file_from_a_job(
    admin: Importer, school: dict[str, Any], gql: GraphQLClient
) -> None:
    rows = [
        pupil_row(NAMES[i], None, 性别="男", 中队=["四（1）中队", "五（2）中队"][i % 2])
        for i in range(4)
    ]
    assert (await admin.run(xlsx(rows)))["state"] == "DONE"
    county = school["county"]
    follow = "query($id: ID!) { archiveExport(id: $id) { done failed pupils downloadUrl } }"

    async def export(who: dict[str, str], unit: Any) -> dict[str, Any]:
        started = await gql.data(
            "mutation($u: ID!) { exportArchives(input: {unitId: $u}) { archiveExport { id } } }",
            {"u": encode_global_id("Unit", county.code, unit.id)},
            headers=who,
        )
        export_id = started["exportArchives"]["archiveExport"]["id"]
        for _ in range(300):
            found = (await gql.data(follow, {"id": export_id}, headers=who))["archiveExport"]
            if found["done"] or found["failed"]:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError("the export did not finish")

    whole = await export(admin.headers, school["brigade"])
    assert (whole["done"], whole["pupils"]) == (True, 4)
    got = await gql.http.get(whole["downloadUrl"], headers=admin.headers)
    assert got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        page = archive.read("成长档案.html").decode()
        documents = json.loads(archive.read("成长档案.json"))
    assert page.count("<section>") == 4
    assert sorted(d["pupil"]["name"] for d in documents) == sorted(NAMES[:4])
    assert documents[0]["events"][0]["title"] == "加入中国少年先锋队"
    # A squadron counselor asking for the whole school gets their squadron's pupils only.
    counselor = {"Authorization": "Bearer " + gql.token_for(
        "squadron_counselor", county.code, school["squadron"].path), "X-County": county.code}  # fmt: skip
    refused = await gql.execute(
        "mutation($u: ID!) { exportArchives(input: {unitId: $u}) { archiveExport { id } } }",
        {"u": encode_global_id("Unit", county.code, school["brigade"].id)},
        headers=counselor,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = await export(counselor, school["squadron"])
    assert mine["pupils"] == 2
    assert (await gql.http.get(whole["downloadUrl"], headers=counselor)).status_code == 404
