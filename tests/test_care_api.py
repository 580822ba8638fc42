"""Care through the API, as Laiwu runs its Hope Rooms: the county takes a child in hardship
into care, names a volunteer as the child's carer ("一户一册一人"), books the aid with its
source; the volunteer keeps the visit log. Only the carer and the county admin read the
record, and every read of the child's situation is in the audit log. A volunteer project
goes from need to review, claimed rather than assigned."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from domain import clock
from domain.accounts.tables import role_assignments
from domain.accounts.tokens import read_access_token
from domain.people.tables import pupils
from tests.graphql_client import GraphQLClient, in_county, sign_in_as
from tests.test_activities_api import County

TODAY = clock.today()
RECORD = """id kind pupilName grade school startedOn endedOn aidTotal note
  carers { id name until } aid { onDate amount source note }
  visits { visitedOn volunteer what needs }"""
OPEN = """mutation($i: OpenCareInput!) { openCare(input: $i)
  { record { id kind pupilName } userErrors { field code message } } }"""
ASSIGN = """mutation($r: ID!, $a: ID!) { assignCarer(input: {recordId: $r, assignmentId: $a})
  { record { carers { id name until } } userErrors { field code message } } }"""
AID = """mutation($i: RecordCareAidInput!) { recordCareAid(input: $i)
  { record { aidTotal } userErrors { code message } } }"""
VISIT = """mutation($i: RecordCareVisitInput!) { recordCareVisit(input: $i)
  { record { id } userErrors { code message } } }"""
LIST = "query { careRecords { totalCount edges { node { " + RECORD + " } } } }"
ONE = "query($id: ID!) { careRecord(id: $id) { " + RECORD + " } node(id: $id) { id } }"


def staff(county: County, role: str, scope: str) -> tuple[dict[str, str], str]:
    """A new account holding `role` at `scope` in the county: its headers and the role
    assignment's ID (what the county admin names a carer by)."""
    services = county.gql.app.state.services
    token = sign_in_as(services, role, county.county.code, scope)
    user_id = read_access_token(services.keys.token_secret, token).user_id
    with services.sync_engine.connect() as conn:
        assignment = conn.execute(
            select(role_assignments.c.id).where(role_assignments.c.user_id == user_id)
        ).scalar_one()
    return county.headers(token), str(assignment)


@pytest.fixture
def county(gql: GraphQLClient, engine: Engine, make_county: Any) -> County:
    return County(gql, engine, make_county)


async def _open(county: County, pupil: int = 4) -> str:
    """The rural school's pupil `pupil` in a Hope Room, with a volunteer as carer: the record."""
    made = await county.gql.data(OPEN, {"i": {"pupilId": county.pupil(pupil), "kind": "HOPE_ROOM",
                                              "note": "父母在外务工，随祖母生活"}},
                                 headers=county.admin)  # fmt: skip
    assert made["openCare"]["userErrors"] == [], made
    return made["openCare"]["record"]["id"]


async def test_the_county_opens_care_names_a_carer_books_aid_and_the_carer_keeps_the_log(
    county: County, gql: GraphQLClient
) -> None:
    record = await _open(county)
    volunteer, assignment = staff(county, "team_counselor", county.units["t2"].path)
    named = await gql.data(ASSIGN, {"r": record, "a": assignment}, headers=county.admin)
    carers = named["assignCarer"]["record"]["carers"]
    assert [c["until"] for c in carers] == [None]
    for amount, source in (("500", "希望工程"), ("120.50", "爱心企业")):
        booked = await gql.data(AID, {"i": {"recordId": record, "onDate": TODAY.isoformat(),
                                            "amount": amount, "source": source}},
                                headers=county.admin)  # fmt: skip
        assert booked["recordCareAid"]["userErrors"] == []
    assert booked["recordCareAid"]["record"]["aidTotal"] == "620.50"
    logged = await gql.data(VISIT, {"i": {"recordId": record, "visitedOn": TODAY.isoformat(),
                                          "volunteer": "陈志愿者", "what": "辅导作业，送去冬衣",
                                          "needs": "需要一副眼镜"}}, headers=volunteer)  # fmt: skip
    assert logged["recordCareVisit"]["userErrors"] == []

    # The carer's own list: the child it cares for, and nothing else.
    seen = (await gql.data(LIST, headers=volunteer))["careRecords"]
    assert seen["totalCount"] == 1
    node = seen["edges"][0]["node"]
    assert (node["id"], node["kind"], node["pupilName"], node["grade"], node["school"]) == (
        record, "HOPE_ROOM", "队员4", 4, "英州小学")  # fmt: skip
    assert node["note"] == "父母在外务工，随祖母生活"
    assert [(a["amount"], a["source"]) for a in node["aid"]] == [
        ("500.00", "希望工程"), ("120.50", "爱心企业")]  # fmt: skip
    assert node["visits"] == [{"visitedOn": TODAY.isoformat(), "volunteer": "陈志愿者",
                               "what": "辅导作业，送去冬衣", "needs": "需要一副眼镜"}]  # fmt: skip
    # The county admin reads the same through careRecord and node.
    one = await gql.data(ONE, {"id": record}, headers=county.admin)
    assert one["careRecord"] == node
    assert one["node"] == {"id": record}

    # Each read of the situation and the log is audited, with who read it.
    log = (await gql.data("query { auditLog { actor action objectType objectId fields } }",
                          headers=county.admin))["auditLog"]  # fmt: skip
    reveals = {(e["actor"], tuple(e["fields"])) for e in log
               if e["action"] == "reveal" and e["objectType"] == "CareRecord"}  # fmt: skip
    assert {f for _, f in reveals} == {("note",), ("visits",)}
    assert len({actor for actor, _ in reveals}) == 2
    actions = [e["action"] for e in log if e["objectType"] == "CareRecord"]
    assert {"openCare", "assignCarer", "recordCareAid", "recordCareVisit"} <= set(actions)


async def test_no_one_but_the_carer_and_the_county_admin_reads_a_child_in_care(
    county: County, gql: GraphQLClient
) -> None:
    record = await _open(county)
    carer, assignment = staff(county, "team_counselor", county.units["t2"].path)
    await gql.data(ASSIGN, {"r": record, "a": assignment}, headers=county.admin)
    school = county.units["s2"].path
    # Reach over the pupil is not enough: its own counselors, its school, its township, its
    # parent, another volunteer, a partner, the province.
    others = {
        "squadron": county.headers(gql.token_for("squadron_counselor", county.county.code,
                                                 county.q2.path)),
        "brigade": county.headers(gql.token_for("brigade_counselor", county.county.code, school)),
        "township": county.headers(gql.token_for("township_admin", county.county.code,
                                                 county.units["t2"].path)),
        "volunteer": staff(county, "team_counselor", county.units["t2"].path)[0],
        "parent": county.headers(guardian_token(county, 4)),
        "province": county.headers(gql.token_for("province_admin", None, county.county.code[:2])),
    }  # fmt: skip
    for who, headers in others.items():
        listed = await gql.execute(LIST, headers=headers)
        if listed.get("errors"):
            assert [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"], who
        else:
            assert listed["data"]["careRecords"]["totalCount"] == 0, who
        one = await gql.execute(ONE, {"id": record}, headers=headers)
        assert (one.get("data") or {}).get("careRecord") is None, who
        assert (one.get("data") or {}).get("node") is None, who
        visit = await gql.execute(VISIT, {"i": {"recordId": record, "visitedOn": TODAY.isoformat(),
                                                "volunteer": "某人", "what": "走访"}},
                                  headers=headers)  # fmt: skip
        assert visit.get("errors"), who
        assert visit["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "FORBIDDEN",
                                                             "CARE_RECORD_NOT_FOUND"), who  # fmt: skip
    # The carer keeps the log but does not run the record: no aid, no carers, no closing.
    for query, variables in (
        (AID, {"i": {"recordId": record, "onDate": TODAY.isoformat(), "amount": "9",
                     "source": "我"}}),
        (ASSIGN, {"r": record, "a": staff(county, "team_counselor", "c")[1]}),
        ("mutation($r: ID!) { closeCare(input: {recordId: $r}) { record { id } } }", {"r": record}),
    ):  # fmt: skip
        assert await gql.error_codes(query, variables, headers=carer) == ["FORBIDDEN"]
    after = (await gql.data(ONE, {"id": record}, headers=county.admin))["careRecord"]
    assert (after["aidTotal"], len(after["carers"]), after["endedOn"], after["visits"]) == (
        "0.00", 1, None, [])  # fmt: skip

    # A carer whose care has ended reads nothing more; nor does any carer once care closes.
    carer_id = after["carers"][0]["id"]
    ended = await gql.data(
        "mutation($r: ID!, $c: ID!) { endCarer(input: {recordId: $r, carerId: $c})"
        " { record { carers { until } } } }", {"r": record, "c": carer_id}, headers=county.admin)  # fmt: skip
    assert ended["endCarer"]["record"]["carers"][0]["until"] is not None
    assert (await gql.data(LIST, headers=carer))["careRecords"]["totalCount"] == 0
    await gql.data(ASSIGN, {"r": record, "a": assignment}, headers=county.admin)
    assert (await gql.data(LIST, headers=carer))["careRecords"]["totalCount"] == 1
    await gql.data("mutation($r: ID!) { closeCare(input: {recordId: $r}) { record { endedOn } } }",
                   {"r": record}, headers=county.admin)  # fmt: skip
    assert (await gql.data(LIST, headers=carer))["careRecords"]["totalCount"] == 0
    closed = (await gql.data("query { careRecords(openOnly: false) { totalCount } }",
                             headers=county.admin))["careRecords"]  # fmt: skip
    assert closed["totalCount"] == 1


def guardian_token(county: County, pupil: int) -> str:
    from tests.graphql_client import guardian_of

    return guardian_of(county.gql.app.state.services, county.county, [county.pupils[pupil]])


async def test_bad_care_input_gets_a_clear_error_and_changes_nothing(
    county: County, gql: GraphQLClient, engine: Engine
) -> None:
    record = await _open(county)
    for fields, code in (
        ({"amount": "五百", "source": "希望工程"}, "INVALID_AMOUNT"),
        ({"amount": "-5", "source": "希望工程"}, "INVALID_AMOUNT"),
        ({"amount": "5", "source": "  "}, "TEXT_REQUIRED"),
        ({"amount": "5", "source": "希望工程",
          "onDate": (TODAY.replace(year=TODAY.year + 1)).isoformat()}, "INVALID_DATE"),
    ):  # fmt: skip
        sent = {"recordId": record, "onDate": TODAY.isoformat(), **fields}
        refused = (await gql.data(AID, {"i": sent}, headers=county.admin))["recordCareAid"]
        assert [e["code"] for e in refused["userErrors"]] == [code]
        assert refused["userErrors"][0]["message"]
    tomorrow = TODAY.replace(year=TODAY.year + 1).isoformat()
    future = await gql.data(VISIT, {"i": {"recordId": record, "visitedOn": tomorrow,
                                          "volunteer": "陈", "what": "走访"}}, headers=county.admin)  # fmt: skip
    assert [e["code"] for e in future["recordCareVisit"]["userErrors"]] == ["INVALID_DATE"]
    # Only staff care for a child: a parent's account is refused as a carer.
    parent_token = guardian_token(county, 0)
    parent_user = read_access_token(gql.app.state.services.keys.token_secret, parent_token).user_id
    with gql.app.state.services.sync_engine.connect() as conn:
        parent_role = conn.execute(select(role_assignments.c.id).where(
            role_assignments.c.user_id == parent_user)).scalar_one()  # fmt: skip
    refused = (await gql.data(ASSIGN, {"r": record, "a": str(parent_role)},
                              headers=county.admin))["assignCarer"]  # fmt: skip
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("assignmentId", "CARER_INELIGIBLE")]  # fmt: skip
    state = (await gql.data(ONE, {"id": record}, headers=county.admin))["careRecord"]
    assert (state["aidTotal"], state["aid"], state["visits"], state["carers"]) == (
        "0.00", [], [], [])  # fmt: skip
    # A child already in a Hope Room is not taken in twice (aid is another kind of care).
    twice = await gql.data(OPEN, {"i": {"pupilId": county.pupil(4), "kind": "HOPE_ROOM"}},
                           headers=county.admin)  # fmt: skip
    assert [e["code"] for e in twice["openCare"]["userErrors"]] == ["ALREADY_IN_CARE"]
    # A pupil who left is not taken into care.
    in_county(engine, county.county, lambda conn: conn.execute(
        update(pupils).where(pupils.c.id == county.pupils[5]).values(status="left")))  # fmt: skip
    left = await gql.data(OPEN, {"i": {"pupilId": county.pupil(5), "kind": "AID"}},
                          headers=county.admin)  # fmt: skip
    assert [e["code"] for e in left["openCare"]["userErrors"]] == ["PUPIL_NOT_CURRENT"]
    listed = await gql.data("query { careRecords { totalCount } }", headers=county.admin)
    assert listed["careRecords"]["totalCount"] == 1


PROJECT = "id state title need claimedBy summary review unit { name }"
RAISE = (
    "mutation($i: RaiseVolunteerNeedInput!) { raiseVolunteerNeed(input: $i)"
    " { project { " + PROJECT + " } userErrors { code } } }"
)


def step(mutation: str, field: str) -> str:
    return (
        f"mutation($id: ID!, $t: String!) {{ {mutation}(input: {{id: $id, {field}: $t}})"
        f" {{ project {{ {PROJECT} }} userErrors {{ field code message }} }} }}"
    )


PROJECTS = "query { volunteerProjects { edges { node { id state } } } }"


async def test_a_volunteer_project_is_raised_published_claimed_once_carried_out_and_reviewed(
    county: County, gql: GraphQLClient
) -> None:
    code = county.county.code
    school = county.headers(gql.token_for("brigade_counselor", code, county.units["s2"].path))
    township = county.headers(gql.token_for("township_admin", code, county.units["t2"].path))
    team_a = county.headers(gql.token_for("team_counselor", code, county.units["t1"].path))
    team_b = county.headers(gql.token_for("squadron_counselor", code, county.q1.path))
    raised = (await gql.data(RAISE, {"i": {"unitId": county.gid("Unit", county.units["s2"].id),
                                           "title": "留守儿童周末课堂",
                                           "need": "40 名留守儿童周末无人辅导"}},
                             headers=school))["raiseVolunteerNeed"]  # fmt: skip
    project = raised["project"]["id"]
    assert (raised["project"]["state"], raised["project"]["unit"]["name"]) == ("NEED", "英州小学")
    # A need is seen where it was raised and by its publishers, not yet by the volunteers.
    for headers, seen in ((school, True), (township, True), (county.admin, True),
                          (team_a, False)):  # fmt: skip
        ids = [e["node"]["id"] for e in (await gql.data(PROJECTS, headers=headers))
               ["volunteerProjects"]["edges"]]  # fmt: skip
        assert (project in ids) is seen
    # The school raised it but publishing is the township's (or the county's).
    publish = (
        "mutation($id: ID!) { publishVolunteerProject(input: {id: $id}) { project { state } } }"
    )
    assert await gql.error_codes(publish, {"id": project}, headers=school) == ["FORBIDDEN"]
    published = await gql.data(publish, {"id": project}, headers=township)
    assert published["publishVolunteerProject"]["project"]["state"] == "PUBLISHED"
    ids = [e["node"]["id"] for e in (await gql.data(PROJECTS, headers=team_a))
           ["volunteerProjects"]["edges"]]  # fmt: skip
    assert project in ids

    claim = step("claimVolunteerProject", "team")
    claimed = (await gql.data(claim, {"id": project, "t": "县一中青年志愿者服务队"},
                              headers=team_a))["claimVolunteerProject"]  # fmt: skip
    assert (claimed["project"]["state"], claimed["project"]["claimedBy"]) == (
        "CLAIMED", "县一中青年志愿者服务队")  # fmt: skip
    again = (await gql.data(claim, {"id": project, "t": "另一支队伍"},
                            headers=team_b))["claimVolunteerProject"]  # fmt: skip
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [("team", "ALREADY_CLAIMED")]
    assert "县一中青年志愿者服务队" in again["userErrors"][0]["message"]

    report = step("reportVolunteerProject", "text")
    # Only the claimer (or a publisher) reports it carried out.
    assert await gql.error_codes(report, {"id": project, "t": "做完了"}, headers=team_b) == [
        "FORBIDDEN"]  # fmt: skip
    empty = await gql.data(report, {"id": project, "t": " "}, headers=team_a)
    assert [e["code"] for e in empty["reportVolunteerProject"]["userErrors"]] == ["TEXT_REQUIRED"]
    done = (await gql.data(report, {"id": project, "t": "开课 8 次，服务 320 人次"},
                           headers=team_a))["reportVolunteerProject"]["project"]  # fmt: skip
    assert (done["state"], done["summary"]) == ("CARRIED_OUT", "开课 8 次，服务 320 人次")
    review = step("reviewVolunteerProject", "text")
    assert await gql.error_codes(review, {"id": project, "t": "好"}, headers=team_a) == [
        "FORBIDDEN"]  # fmt: skip
    reviewed = (await gql.data(review, {"id": project, "t": "效果好，下学期继续"},
                               headers=county.admin))["reviewVolunteerProject"]["project"]  # fmt: skip
    assert (reviewed["state"], reviewed["review"]) == ("REVIEWED", "效果好，下学期继续")
    # Out of order: a reviewed project is not claimed or reviewed again.
    late = (await gql.data(claim, {"id": project, "t": "迟到的队伍"},
                           headers=team_b))["claimVolunteerProject"]  # fmt: skip
    assert [e["code"] for e in late["userErrors"]] == ["ALREADY_CLAIMED"]
    twice = (await gql.data(review, {"id": project, "t": "再评"},
                            headers=county.admin))["reviewVolunteerProject"]  # fmt: skip
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_STATE"]
    # Families and partners have no part in it.
    assert await gql.error_codes(PROJECTS, headers=county.parent) == ["FORBIDDEN"]


async def run_care(
    client: GraphQLClient, admin: dict[str, str], county: Any, engine: Engine
) -> None:
    """Every care mutation once (for the audit test): a child taken into care with a carer,
    aid and a visit, the carer's care ended and the record closed; a project from need to
    review."""
    from tests.graphql_client import create_unit

    root = create_unit(engine, county, "county", county.name)
    school = create_unit(engine, county, "brigade", "关爱小学", root, area="rural")
    squadron = create_unit(engine, county, "squadron", "关爱中队", school, grade=3)
    kid = in_county(engine, county, lambda conn: conn.execute(
        pupils.insert().values(squadron_id=squadron.id, name="关爱队员", gender="male", grade=3,
                               status="member").returning(pupils.c.id)).scalar_one())  # fmt: skip
    services = client.app.state.services
    token = sign_in_as(services, "team_counselor", county.code, squadron.path)
    user_id = read_access_token(services.keys.token_secret, token).user_id
    with services.sync_engine.connect() as conn:
        assignment = conn.execute(select(role_assignments.c.id).where(
            role_assignments.c.user_id == user_id)).scalar_one()  # fmt: skip
    carer = {"Authorization": f"Bearer {token}", "X-County": county.code}

    async def do(query: str, variables: dict[str, Any], headers: dict[str, str] = admin) -> Any:
        body = await client.data(query, variables, headers=headers)
        payload = next(iter(body.values()))
        assert payload["userErrors"] == [], payload
        return payload

    from schema.ids import encode_global_id

    pupil = encode_global_id("Pupil", county.code, kid)
    record = (await do(OPEN, {"i": {"pupilId": pupil, "kind": "AID"}}))["record"]["id"]
    carers = (await do(ASSIGN, {"r": record, "a": str(assignment)}))["record"]["carers"]
    await do(AID, {"i": {"recordId": record, "onDate": TODAY.isoformat(), "amount": "100",
                         "source": "希望工程"}})  # fmt: skip
    await do(VISIT, {"i": {"recordId": record, "visitedOn": TODAY.isoformat(),
                           "volunteer": "志愿者", "what": "家访"}}, carer)  # fmt: skip
    await do("mutation($r: ID!, $c: ID!) { endCarer(input: {recordId: $r, carerId: $c})"
             " { userErrors { code } } }", {"r": record, "c": carers[0]["id"]})  # fmt: skip
    await do("mutation($r: ID!) { closeCare(input: {recordId: $r}) { userErrors { code } } }",
             {"r": record})  # fmt: skip
    unit = encode_global_id("Unit", county.code, school.id)
    project = await do(RAISE, {"i": {"unitId": unit, "title": "周末课堂", "need": "辅导"}})
    gid = project["project"]["id"]
    await do("mutation($id: ID!) { publishVolunteerProject(input: {id: $id})"
             " { userErrors { code } } }", {"id": gid})  # fmt: skip
    await do(step("claimVolunteerProject", "team"), {"id": gid, "t": "志愿队"}, carer)
    await do(step("reportVolunteerProject", "text"), {"id": gid, "t": "开课 2 次"}, carer)
    await do(step("reviewVolunteerProject", "text"), {"id": gid, "t": "好"})


async def test_a_page_of_records_with_everything_nested_costs_the_same_statements_as_a_few(
    county: County, gql: GraphQLClient, async_engine: Any
) -> None:
    """No query per record: carers, aid, visits and pupils come in one batch each."""
    from sqlalchemy import event

    carer = staff(county, "team_counselor", county.units["t2"].path)[1]

    async def take_into_care(pupils_: range) -> None:
        for i in pupils_:
            record = await _open(county, i)
            await gql.data(ASSIGN, {"r": record, "a": carer}, headers=county.admin)
            await gql.data(AID, {"i": {"recordId": record, "onDate": TODAY.isoformat(),
                                       "amount": "50", "source": "希望工程"}}, headers=county.admin)  # fmt: skip
            await gql.data(VISIT, {"i": {"recordId": record, "visitedOn": TODAY.isoformat(),
                                         "volunteer": "陈", "what": "家访"}}, headers=county.admin)  # fmt: skip

    page = (
        "query { careRecords(first: 100) { totalCount edges { node { "
        + RECORD
        + " pupil { name } } } } }"
    )
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    async def count() -> int:
        statements.clear()
        event.listen(async_engine.sync_engine, "before_cursor_execute", record)
        try:
            listed = await gql.data(page, headers=county.admin)
        finally:
            event.remove(async_engine.sync_engine, "before_cursor_execute", record)
        assert all(
            e["node"]["visits"] and e["node"]["pupil"] for e in listed["careRecords"]["edges"]
        )
        return len(statements)

    await take_into_care(range(2))
    few = await count()
    await take_into_care(range(2, 8))
    many = await count()
    assert few == many, "\n".join(statements)
