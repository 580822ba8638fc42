"""A guardian's requests about a child's data, and deletion: after it, no table of the county
or of the platform holds that child's personal data, while history stays whole."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text

from domain.archive import archive_exports, export_unit
from domain.audit.tables import audit_log
from domain.imports.common import Requester
from domain.imports.service import run_import
from domain.imports.tables import roster_imports, uploads
from domain.pairing import service as pairing
from domain.pairing.service import Side
from domain.pairing.tables import PairingLevel
from domain.people.guardians import PHONE
from domain.people.names import pinyin_of
from domain.people.pupils import ID_NUMBER, STATUS_LABELS
from domain.people.tables import pupil_status_changes, pupils
from domain.people.transfers import SNAPSHOT
from domain.spreadsheets.reading import mentions
from schema.ids import decode_global_id, encode_global_id
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, create_unit, tenant_of
from tests.test_guardians import parent
from tests.test_imports import pupil_row, xlsx
from tests.test_pupils import id_number

CREATE = """mutation($i: CreatePupilInput!) { createPupil(input: $i) {
  pupil { id } userErrors { code } } }"""
UPDATE = """mutation($i: UpdatePupilInput!) { updatePupil(input: $i) { userErrors { code } } }"""
BIND = """mutation($i: BindPupilInput!) { bindPupil(input: $i) { pupilId userErrors { code } } }"""
REQUEST = """mutation($i: RequestPupilDataInput!) { requestPupilData(input: $i) {
  dataRequest { id kind state note pupil { name } } userErrors { field code } } }"""
HANDLE = """mutation($i: HandleDataRequestInput!) { handleDataRequest(input: $i) {
  dataRequest { state answer pupil { name } } userErrors { field code } } }"""
LIST = """query($s: DataRequestState) { dataRequests(state: $s) { id kind state note } }"""
TRANSFER = """mutation($id: ID!, $to: String!) { transferPupil(input: {pupilId: $id,
  toCountyCode: $to}) { transfer { id } userErrors { code } } }"""
DECLINE = """mutation($t: ID!) { declineTransfer(input: {transferId: $t, reason: "信息有误"})
  { userErrors { code } } }"""


def bearer(token: str, county: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-County": county}


@pytest.fixture
def county_world(gql: GraphQLClient, make_county: Any, engine: Engine) -> dict[str, Any]:
    county = make_county()
    root = create_unit(engine, county, "county", county.name)
    township = create_unit(engine, county, "township", "城关镇", root)
    brigade = create_unit(engine, county, "brigade", "城关小学", township)
    squadron = create_unit(engine, county, "squadron", "四（1）中队", brigade, grade=4)
    return {
        "county": county,
        "squadron": squadron,
        "admin": bearer(gql.token_for("county_admin", county.code), county.code),
    }


def tables(conn: Any, schema: str) -> list[str]:
    return list(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        ).scalars()
    )


def leftovers(engine: Engine, schemas: list[str], needles: list[str], hashes: list[bytes],
              cipher: Any) -> list[str]:  # fmt: skip
    """Where any of `needles` (as text, inside files, or encrypted) or `hashes` still sit."""
    found: list[str] = []
    contexts = (ID_NUMBER, SNAPSHOT, PHONE, "users.phone")
    with engine.connect() as conn:
        for schema in schemas:
            for table in tables(conn, schema):
                name = f'"{schema}"."{table}"'
                for needle in needles:
                    if conn.execute(
                        text(f"SELECT count(*) FROM {name} t WHERE t::text LIKE :n"),
                        {"n": f"%{needle}%"},
                    ).scalar_one():
                        found.append(f"{name} holds {needle!r} as text")
                columns = conn.execute(
                    text(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = :s AND table_name = :t"
                    ),
                    {"s": schema, "t": table},
                ).all()
                for column, kind in columns:
                    values = conn.execute(
                        text(f'SELECT "{column}" FROM {name} WHERE "{column}" IS NOT NULL')
                    ).scalars()
                    for value in values:
                        if kind == "bytea":
                            raw = bytes(value)
                            if raw in hashes or (
                                raw[:4] == b"PK\x03\x04" and mentions(raw, needles)
                            ):
                                found.append(f"{name}.{column} holds a hash or a file of them")
                        elif column.endswith("_enc"):
                            for context in contexts:
                                try:
                                    plain = cipher.decrypt(value, context=context)
                                except Exception:
                                    continue
                                if any(n in plain for n in needles):
                                    found.append(f"{name}.{column} holds them encrypted")
    return found


async def test_after_a_deletion_request_no_table_holds_the_pupils_personal_data(
    gql: GraphQLClient,
    county_world: dict[str, Any],
    engine: Engine,
    make_county: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    county, admin = county_world["county"], county_world["admin"]
    cipher = gql.app.state.services.keys.cipher
    squadron = encode_global_id("Unit", county.code, county_world["squadron"].id)
    number = id_number("20150301", "235")
    first_name, name = "阿卜杜·热合曼", "阿卜杜·热合曼江"
    made = await gql.data(
        CREATE, {"i": {"squadronId": squadron, "name": first_name, "idNumber": number}},
        headers=admin,
    )  # fmt: skip
    child = made["createPupil"]["pupil"]["id"]
    keep = await gql.data(
        CREATE, {"i": {"squadronId": squadron, "name": "王小红", "gender": "FEMALE"}},
        headers=admin,
    )  # fmt: skip
    # A correction (the old name goes to the audit log), a transfer out and back, a binding.
    await gql.data(UPDATE, {"i": {"id": child, "name": name}}, headers=admin)
    other = make_county()
    create_unit(engine, other, "county", other.name)
    moved = await gql.data(TRANSFER, {"id": child, "to": other.code}, headers=admin)
    transfer = moved["transferPupil"]["transfer"]["id"]
    there = bearer(gql.token_for("county_admin", other.code), other.code)
    assert (await gql.data(DECLINE, {"t": transfer}, headers=there))["declineTransfer"][
        "userErrors"
    ] == []
    mother = await parent(gql, caplog)
    bound = await gql.data(
        BIND,
        {"i": {"countyCode": county.code, "relation": "MOTHER", "noticeVersion": "2026-09",
               "idNumber": number, "name": name}},
        headers=mother,
    )  # fmt: skip
    assert bound["bindPupil"]["pupilId"] == child
    # An import whose error report lists the child's row.
    content = xlsx([pupil_row(name, number, 中队="四（1）中队"), pupil_row("李二", "bad")])
    with tenant_connection(engine, tenant_of(county)) as conn:
        upload = conn.execute(
            insert(uploads)
            .values(filename="名册.xlsx", size=len(content), sha256=hashlib.sha256(content).digest(),
                    content=content)
            .returning(uploads.c.id)
        ).scalar_one()  # fmt: skip
        requester = Requester("user", None, "管理员", "county_admin", False, ("c",))
        import_id = conn.execute(
            insert(roster_imports)
            .values(kind="pupils", upload_id=upload, requested_by=requester.as_json())
            .returning(roster_imports.c.id)
        ).scalar_one()
    ended = run_import(engine, tenant_of(county), import_id, cipher, lambda *_: None)
    assert ended["state"] == "invalid"

    # A badge whose evidence names the child, and the school's archives exported to a file.
    basic = await gql.data("{ badges { id code } }", headers=admin)
    first_basic = next(b["id"] for b in basic["badges"] if b["code"] == "basic.hongqi.1")
    awarded = await gql.data(
        "mutation($b: ID!, $p: ID!, $e: String) { awardBadge(input: {badgeId: $b, pupilIds: [$p], "
        "academicYear: 2025, term: 1, evidence: $e}) { userErrors { code } } }",
        {"b": first_basic, "p": child, "e": f"{name}热心助人"},
        headers=admin,
    )
    assert awarded["awardBadge"]["userErrors"] == []
    with tenant_connection(engine, tenant_of(county)) as conn:
        export_id = conn.execute(
            insert(archive_exports)
            .values(unit_id=county_world["squadron"].id, requested_by=requester.as_json())
            .returning(archive_exports.c.id)
        ).scalar_one()
        assert (
            export_unit(conn, export_id, county.name, {str(k): v for k, v in STATUS_LABELS.items()})
            == 2
        )

    # A hand-in-hand pair with a classmate: the child's partner view sits in the shared schema.
    with engine.begin() as conn:
        pairing.propose(
            conn, PairingLevel.PUPIL, Side(county.code, "pupil", decode_global_id(child)[2]),
            Side(county.code, "pupil", decode_global_id(keep["createPupil"]["pupil"]["id"])[2]),
            proposer=f"county:{county.code}", county=county.code, by="test",
        )  # fmt: skip

    # The scan below finds the child everywhere it was written before the deletion.
    needles = [first_name, name, number, pinyin_of(name)[0], "阿卜杜"]
    hashes = [cipher.keyed_hash(number, context=ID_NUMBER)]
    schemas = [county.schema_name, other.schema_name, "shared"]
    before = leftovers(engine, schemas, needles, hashes, cipher)
    for place in ('"pupils" holds', '"audit_log" holds', '"roster_imports".report',
                  '"badge_awards" holds', '"archive_exports".content',
                  '"pupils".id_number_hash', '"pupils".id_number_enc',
                  '"pupil_transfers".snapshot_enc', '"pairings" holds'):  # fmt: skip
        assert any(place in found for found in before), (place, before)

    # The mother asks for deletion; the county admin sees it and completes it.
    asked = await gql.data(
        REQUEST,
        {"i": {"pupilId": child, "kind": "DELETE", "note": f"请删除{name}的全部信息"}},
        headers=mother,
    )
    request = asked["requestPupilData"]["dataRequest"]
    assert (request["state"], request["pupil"]["name"]) == ("PENDING", name)
    pending = (await gql.data(LIST, {"s": "PENDING"}, headers=admin))["dataRequests"]
    assert [r["id"] for r in pending] == [request["id"]]
    with engine.connect() as conn:
        entries_before = conn.execute(
            text(f'SELECT count(*) FROM "{county.schema_name}".audit_log')
        ).scalar_one()
    done = await gql.data(
        HANDLE, {"i": {"id": request["id"], "decision": "COMPLETE"}}, headers=admin
    )
    handled = done["handleDataRequest"]
    assert handled["userErrors"] == []
    assert (handled["dataRequest"]["state"], handled["dataRequest"]["pupil"]) == ("COMPLETED", None)

    # Nobody sees the child any more; the other pupil is untouched.
    assert (await gql.data("query($id: ID!) { pupil(id: $id) { name } }", {"id": child},
                           headers=admin))["pupil"] is None  # fmt: skip
    roster = await gql.data("{ pupils { edges { node { id } } } }", headers=admin)
    assert [e["node"]["id"] for e in roster["pupils"]["edges"]] == [
        keep["createPupil"]["pupil"]["id"]
    ]
    assert (await gql.data("{ pupils { edges { node { id } } } }", headers=mother))["pupils"][
        "edges"
    ] == []

    # No table, in the county or the platform, holds the child's name, pinyin or ID number,
    # as text, in a file, encrypted or hashed.
    assert leftovers(engine, schemas, needles, hashes, cipher) == []

    # History stays whole: the row (pseudonymised), its status history, every audit entry.
    with tenant_connection(engine, tenant_of(county)) as conn:
        row = conn.execute(select(pupils).where(pupils.c.status == "erased")).one()
        history = (
            conn.execute(
                select(pupil_status_changes.c.to_status)
                .where(pupil_status_changes.c.pupil_id == row.id)
                .order_by(pupil_status_changes.c.id)
            )
            .scalars()
            .all()
        )
        erasures = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "erasePupil")
        ).scalar_one()
    assert (row.birth_date, row.gender, row.id_number_hash, row.erased_at is not None) == (
        None, None, None, True)  # fmt: skip
    assert history[0] == "member"
    assert history[-1] == "erased"
    assert erasures == 1
    with engine.connect() as conn:
        entries_after = conn.execute(
            text(f'SELECT count(*) FROM "{county.schema_name}".audit_log')
        ).scalar_one()
    assert entries_after == entries_before + 2  # the erasure and the handling, nothing removed
    # The badge stays (its points with it), its evidence goes.
    kept = (await gql.data("{ badgeAwards { state pupilName evidence } }", headers=admin))[
        "badgeAwards"
    ]
    assert kept == [{"state": "AWARDED", "pupilName": None, "evidence": None}]


async def test_requests_are_refused_where_they_must_be(
    gql: GraphQLClient, county_world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    county, admin = county_world["county"], county_world["admin"]
    squadron = encode_global_id("Unit", county.code, county_world["squadron"].id)
    made = await gql.data(
        CREATE, {"i": {"squadronId": squadron, "name": "赵小兰", "gender": "FEMALE"}},
        headers=admin,
    )  # fmt: skip
    child = made["createPupil"]["pupil"]["id"]
    # A parent bound to another child of the school cannot ask about this one.
    number = id_number("20150402", "111")
    await gql.data(
        CREATE, {"i": {"squadronId": squadron, "name": "钱小二", "idNumber": number}},
        headers=admin,
    )  # fmt: skip
    stranger = await parent(gql, caplog)
    bound = await gql.data(
        BIND,
        {"i": {"countyCode": county.code, "relation": "FATHER", "noticeVersion": "2026-09",
               "idNumber": number, "name": "钱小二"}},
        headers=stranger,
    )  # fmt: skip
    assert bound["bindPupil"]["userErrors"] == []
    refused = await gql.execute(
        REQUEST, {"i": {"pupilId": child, "kind": "SEE"}},
        headers={**stranger, "X-County": county.code},
    )  # fmt: skip
    assert refused["errors"][0]["extensions"]["code"] == "PUPIL_NOT_FOUND"
    # The school records a paper request; rejecting needs a reason; handled once only.
    asked = await gql.data(REQUEST, {"i": {"pupilId": child, "kind": "CORRECT",
                                           "note": "出生日期有误"}}, headers=admin)  # fmt: skip
    request = asked["requestPupilData"]["dataRequest"]["id"]
    no_reason = await gql.data(HANDLE, {"i": {"id": request, "decision": "REJECT"}}, headers=admin)
    assert no_reason["handleDataRequest"]["userErrors"] == [
        {"field": "answer", "code": "ANSWER_REQUIRED"}
    ]
    rejected = await gql.data(
        HANDLE, {"i": {"id": request, "decision": "REJECT", "answer": "经核对户口本无误"}},
        headers=admin,
    )  # fmt: skip
    assert rejected["handleDataRequest"]["dataRequest"]["state"] == "REJECTED"
    again = await gql.data(HANDLE, {"i": {"id": request, "decision": "COMPLETE"}}, headers=admin)
    assert again["handleDataRequest"]["userErrors"][0]["code"] == "ALREADY_HANDLED"
    # A squadron counselor may handle a correction, never complete a deletion.
    counselor = bearer(
        gql.token_for("squadron_counselor", county.code, county_world["squadron"].path),
        county.code,
    )
    deletion = await gql.data(REQUEST, {"i": {"pupilId": child, "kind": "DELETE"}}, headers=admin)
    forbidden = await gql.execute(
        HANDLE,
        {"i": {"id": deletion["requestPupilData"]["dataRequest"]["id"], "decision": "COMPLETE"}},
        headers=counselor,
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
