"""The documentation for frontend builders (`docs/api/`) is true: its examples run as written,
and its list of error codes is complete.

Every ```graphql block of `docs/api/**/*.md` is sent to `/graphql` over real HTTP (a
subscription over a WebSocket to the app served on a loopback port: its first answer), top to
bottom per page, against a small world this test builds for each page (a county with an urban
and a rural township, a school and a squadron in each, a team, pupils with points, a guardian
bound to one of them, a partner with an item on sale, a published activity, a work task and
a lesson). A ```json block that follows a ```graphql block (nothing but blank lines between)
holds its variables.

Conventions of the examples (docs/api/README.md explains them to readers):

* `# as: ROLE` (required): who sends the block. ROLE is one of `ROLES` below, `anonymous`, or
  `$NAME`: a credential an earlier block of the page saved (an access token goes as
  `Authorization: Bearer`, an API key `rsk_…` as `X-Api-Key`).
* `# county: CODE | $NAME | none`: the `X-County` header. Without it, province admins name
  the page's county and everyone else sends none (their roles are all in one county).
* `# expect: CODE`: the block must fail with exactly this one code, either as the one
  top-level error or as the one user error of its payload. Without it, a block must answer
  with `data`, no errors and every `userErrors` empty.
* `# save: NAME = dotted.path`: keep a value of the answer's `data` (list items by index,
  e.g. `badges.0.id`) for later blocks of the page, as `$NAME`.
* `# send: hash` or `# send: text+hash`: send the SHA-256 of the text as
  `extensions.persistedQuery`, without the text or with it.
* `# method: GET`: send as a GET request, the query and variables as URL parameters.

These annotation lines are taken out of the text before it is sent.

Placeholders: a JSON string value that is exactly `"$NAME"` is replaced by the world's value of
that name (see `World.values`: `$PUPIL_ID`, `$SQUADRON_ID`, `$ACTIVITY_ID`, ...), by a value
saved earlier on the page, or by a time relative to now: `"$NOW+3d"`, `"$NOW-90m"` (ISO 8601
with the +08:00 offset) or a date `"$TODAY"`, `"$TODAY-7d"`. `$LOGIN_CODE` is the last login
code sent to a phone and `$TOTP_CODE` the current one-time password of the saved
`$TOTP_SECRET`; `$<ROLE>_ASSIGNMENT_ID` (e.g. `$TEAM_COUNSELOR_ASSIGNMENT_ID`) is the role
assignment of the user who acts as that role. An unknown placeholder fails the test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import random
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import pytest_asyncio
from sqlalchemy import Engine, insert, select

from domain.accounts.service import create_user
from domain.accounts.tables import role_assignments
from domain.accounts.tokens import read_access_token
from domain.badges.awards import award
from domain.exchange.service import create_partner, partner_scope
from domain.ledger import service as ledger
from domain.people.names import pinyin_of
from domain.people.pupils import academic_year
from domain.people.tables import pupils
from schema.ids import decode_global_id, encode_global_id
from tenants.provisioning import County
from tenants.sessions import tenant_connection
from tests.graphql_client import (
    GraphQLClient,
    UnitRef,
    create_unit,
    guardian_of,
    sign_in_as,
    tenant_of,
)
from tests.live_client import connected, served

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "api"
PAGES = sorted(DOCS.rglob("*.md"))
PASSWORD = "Hong-Lingjin-2026"
CHINA = dt.timezone(dt.timedelta(hours=8))
PROVINCE = "52"

# Where each role signs in, in the page's county (labels of `World.units`).
ROLES: dict[str, str] = {
    "county_admin": "c",
    "township_admin": "T1",
    "brigade_counselor": "S1",
    "squadron_counselor": "Q1",
    "team_counselor": "M1",
    "guardian": "c",  # bound to $PUPIL_ID
    "partner": "X",  # the staff of $PARTNER_ID
    "province_admin": PROVINCE,
    "other_county_admin": "c",  # the admin of $OTHER_COUNTY_CODE
}

ANNOTATION = re.compile(r"^\s*#\s*(as|county|expect|save|send|method)\s*:\s*(.*?)\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")
PLACEHOLDER = re.compile(r"^\$([A-Z][A-Z0-9_]*)(?:([+-]\d+)([dhm]))?$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


# --- reading the pages -------------------------------------------------------------------------


@dataclasses.dataclass
class Example:
    page: Path
    line: int
    text: str  # what is sent: the block without its annotation lines
    variables: dict[str, Any]
    notes: dict[str, list[str]]

    def note(self, name: str) -> str | None:
        found = self.notes.get(name)
        return found[-1] if found else None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fenced_blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(language, body, first line, last line) of each fenced block, in order."""
    blocks: list[tuple[str, str, int, int]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if opened is None:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        blocks.append((opened.group(1), "\n".join(lines[i + 1 : end]), i + 1, end + 1))
        i = end + 1
    return blocks


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def examples(page: Path) -> list[Example]:
    text = read(page)
    lines = text.splitlines()
    blocks = fenced_blocks(text)
    found = []
    for n, (language, body, first, last) in enumerate(blocks):
        if language != "graphql":
            continue
        variables: dict[str, Any] = {}
        if n + 1 < len(blocks) and blocks[n + 1][0] == "json":
            between = lines[last : blocks[n + 1][2] - 1]
            if not any(line.strip() for line in between):
                variables = json.loads(blocks[n + 1][1])
        notes: dict[str, list[str]] = {}
        kept = []
        for line in body.splitlines():
            annotation = ANNOTATION.match(line)
            if annotation:
                notes.setdefault(annotation.group(1), []).append(annotation.group(2))
            else:
                kept.append(line)
        found.append(Example(page, first, "\n".join(kept).strip(), variables, notes))
    return found


# --- the world each page runs in -------------------------------------------------------------


class World:
    """A county as the examples expect it, the people who act in it, and what the page's
    blocks saved."""

    def __init__(self, gql: GraphQLClient, engine: Engine, make_county: Any) -> None:
        self.gql = gql
        self.engine = engine
        self.make_county = make_county
        self.services = gql.app.state.services
        self.county: County = make_county("陵水黎族自治县")
        self.units: dict[str, UnitRef] = {}
        self.pupils: dict[str, int] = {}
        self.values: dict[str, Any] = {}
        self.saved: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.other: County | None = None
        self.login_codes: list[str] = []

    def gid(self, type_name: str, pk: int, county: County | None = None) -> str:
        return encode_global_id(type_name, (county or self.county).code, pk)

    async def build(self, page_text: str) -> None:
        """The county of every page, and what this page's examples need besides."""
        c, engine = self.county, self.engine
        root = create_unit(engine, c, "county", c.name)
        t1 = create_unit(engine, c, "township", "椰林镇", root, area="urban")
        s1 = create_unit(engine, c, "brigade", "椰林第一小学", t1, area="urban",
                         school_kind="ordinary")  # fmt: skip
        q1 = create_unit(engine, c, "squadron", "四（1）中队", s1, grade=4)
        m1 = create_unit(engine, c, "team", "第一小队", q1)
        t2 = create_unit(engine, c, "township", "英州镇", root, area="rural")
        s2 = create_unit(engine, c, "brigade", "英州中心小学", t2, area="rural",
                         school_kind="ordinary")  # fmt: skip
        q2 = create_unit(engine, c, "squadron", "四（2）中队", s2, grade=4)
        self.units = {"c": root, "T1": t1, "S1": s1, "Q1": q1, "M1": m1, "T2": t2, "S2": s2,
                      "Q2": q2}  # fmt: skip
        people = {
            "PUPIL": (q1, "王小红", "female", "member", dt.date(2015, 3, 14)),
            "PUPIL_2": (q1, "李明", "male", "member", dt.date(2015, 7, 2)),
            "PUPIL_3": (q1, "张伟", "male", "member", dt.date(2015, 11, 20)),
            "PRE_MEMBER": (q1, "赵一鸣", "male", "pre_member", dt.date(2016, 1, 9)),
            "RURAL_PUPIL": (q2, "陈晨", "female", "member", dt.date(2015, 5, 5)),
        }
        with tenant_connection(engine, tenant_of(c)) as conn:
            for label, (squadron, name, gender, status, born) in people.items():
                spelt, initials = pinyin_of(name)  # as the service registers them: searchable
                self.pupils[label] = conn.execute(
                    insert(pupils)
                    .values(squadron_id=squadron.id, name=name, gender=gender, grade=4,
                            status=status, birth_date=born, name_pinyin=spelt,
                            name_initials=initials, team_id=m1.id if label == "PUPIL" else None)
                    .returning(pupils.c.id)
                ).scalar_one()  # fmt: skip
            grants = [ledger.Grant(f"docs:{pk}", pk, 20) for pk in self.pupils.values()]
            ledger.issue_many(conn, grants, kind="award")
            self.partner = create_partner(conn, "椰林酒店", "0898-12345678")
        self.values = {
            "COUNTY_CODE": c.code,
            "PROVINCE_CODE": PROVINCE,
            "ACADEMIC_YEAR": academic_year(dt.datetime.now(CHINA).date()),
            "COUNTY_UNIT_ID": self.gid("Unit", root.id),
            "TOWNSHIP_ID": self.gid("Unit", t1.id),
            "SCHOOL_ID": self.gid("Unit", s1.id),
            "SQUADRON_ID": self.gid("Unit", q1.id),
            "TEAM_ID": self.gid("Unit", m1.id),
            "RURAL_TOWNSHIP_ID": self.gid("Unit", t2.id),
            "RURAL_SCHOOL_ID": self.gid("Unit", s2.id),
            "RURAL_SQUADRON_ID": self.gid("Unit", q2.id),
            "PARTNER_ID": self.gid("Partner", self.partner),
            "PASSWORD": PASSWORD,
            "USERNAME": self.account("squadron_counselor", q1.path),
            "ADMIN_USERNAME": self.account("county_admin", "c"),
            "PHONE": f"139{random.randrange(10**8):08d}",
        }
        for label, pk in self.pupils.items():
            self.values[f"{label}_ID"] = self.gid("Pupil", pk)
        admin = {"Authorization": f"Bearer {self.token('county_admin')}"}
        catalogue = await self.gql.data("{ badges { id code } }", headers=admin)
        codes = {b["code"]: b["id"] for b in catalogue["badges"]}
        self.values["BASIC_BADGE_ID"] = codes["basic.hongqi.1"]
        self.values["STAR1_BADGE_ID"] = codes["star.1"]
        await self.on_sale(admin)
        if "$OTHER_" in page_text:
            self.other_county()
        if "$UPLOAD_ID" in page_text:
            await self.upload(admin)
        if "$BASIC_HOLDER_ID" in page_text:
            self.basic_badges([pk for code, pk in codes.items() if code.startswith("basic.")])

    async def upload(self, admin: dict[str, str]) -> None:
        """$UPLOAD_ID: the pupils' template (with its sample row), uploaded as a county's
        admin uploads a roster: `POST /uploads`."""
        template = await self.gql.http.get("/templates/pupils.xlsx")
        assert template.status_code == 200, template.text
        sent = await self.gql.http.post(
            "/uploads", params={"filename": "四（1）中队名册.xlsx"}, content=template.content,
            headers=admin,
        )  # fmt: skip
        assert sent.status_code == 201, sent.text
        self.values["UPLOAD_ID"] = sent.json()["id"]

    def basic_badges(self, basics: list[str]) -> None:
        """$BASIC_HOLDER_ID ($PUPIL_2_ID) holds every basic badge: a candidate for one star."""
        self.values["BASIC_HOLDER_ID"] = self.values["PUPIL_2_ID"]
        with tenant_connection(self.engine, tenant_of(self.county)) as conn:
            for badge in basics:
                award(conn, decode_global_id(badge)[2], [self.pupils["PUPIL_2"]],
                      self.values["ACADEMIC_YEAR"], by="docs", term=1)  # fmt: skip

    async def on_sale(self, admin: dict[str, str]) -> None:
        """A published activity, an item on sale, a work task and a lesson: as the county
        admin makes them through the API."""
        now = dt.datetime.now(CHINA)

        def at(delta: dt.timedelta) -> str:
            return (now + delta).isoformat(timespec="seconds")

        async def made(query: str, values: dict[str, Any]) -> str:
            answer = await self.gql.data(query, {"i": values}, headers=admin)
            payload = next(iter(answer.values()))
            assert payload["userErrors"] == [], payload
            return str(next(v for v in payload.values() if isinstance(v, dict))["id"])

        day = dt.timedelta(days=1)
        activity = await made(
            "mutation($i: CreateActivityInput!) { createActivity(input: $i) "
            "{ activity { id } userErrors { code } } }",
            {"organiserId": self.values["COUNTY_UNIT_ID"], "title": "红色研学：走进椰林",
             "place": "县青少年宫", "startsAt": at(3 * day), "endsAt": at(3 * day + 3 * day / 24),
             "signupOpensAt": at(-day), "signupClosesAt": at(2 * day), "capacity": 30, "cost": 2,
             "reward": 5},
        )  # fmt: skip
        await self.gql.data(
            "mutation($a: ID!) { publishActivity(input: {id: $a}) { userErrors { code } } }",
            {"a": activity},
            headers=admin,
        )
        item = await made(
            "mutation($i: CreateExchangeItemInput!) { createExchangeItem(input: $i) "
            "{ item { id } userErrors { code } } }",
            {"partnerId": self.values["PARTNER_ID"], "name": "亲子自助餐券", "price": 5,
             "stock": 10, "perPupil": 1, "validFrom": at(-day), "validUntil": at(30 * day)},
        )  # fmt: skip
        tasks = {}
        for label, kind, title, extra in (
            ("TASK_ID", "SUBMISSION", "我心中的红领巾", {}),
            ("LESSON_ID", "LESSON", "红领巾爱学习 第 8 期",
             {"contentUrl": "https://learn.example.cn/8"}),
        ):  # fmt: skip
            tasks[label] = await made(
                "mutation($i: CreateCollectionTaskInput!) { createCollectionTask(input: $i) "
                "{ task { id } userErrors { code } } }",
                {"organiserId": self.values["COUNTY_UNIT_ID"], "kind": kind, "title": title,
                 "opensAt": at(-day), "closesAt": at(14 * day), "reward": 3, **extra},
            )  # fmt: skip
            await self.gql.data(
                "mutation($t: ID!) { publishCollectionTask(input: {id: $t}) "
                "{ userErrors { code } } }",
                {"t": tasks[label]},
                headers=admin,
            )
        self.values.update({"ACTIVITY_ID": activity, "ITEM_ID": item, **tasks})

    def account(self, role: str, scope: str) -> str:
        """A user with a password holding `role` (no second factor set up yet)."""
        username = f"doc{uuid.uuid4().hex[:12]}"
        with self.services.sync_engine.begin() as conn:
            user_id = create_user(conn, self.services.keys.cipher, display_name="林老师",
                                  username=username, password=PASSWORD)  # fmt: skip
            conn.execute(
                insert(role_assignments).values(
                    user_id=user_id, role=role, county_code=self.county.code, scope=scope
                )
            )
        return username

    def other_county(self) -> County:
        """A second county of the province (made when a page first needs it)."""
        if self.other is None:
            self.other = self.make_county("南明区")
            root = create_unit(self.engine, self.other, "county", "南明区")
            school = create_unit(self.engine, self.other, "brigade", "南明小学", root,
                                 area="urban")  # fmt: skip
            squadron = create_unit(self.engine, self.other, "squadron", "四（3）中队", school,
                                   grade=4)  # fmt: skip
            with tenant_connection(self.engine, tenant_of(self.other)) as conn:
                pupil = conn.execute(
                    insert(pupils)
                    .values(squadron_id=squadron.id, name="刘洋", gender="male", grade=4,
                            status="member")
                    .returning(pupils.c.id)
                ).scalar_one()  # fmt: skip
            self.values.update({
                "OTHER_COUNTY_CODE": self.other.code,
                "OTHER_SCHOOL_ID": self.gid("Unit", school.id, self.other),
                "OTHER_SQUADRON_ID": self.gid("Unit", squadron.id, self.other),
                "OTHER_PUPIL_ID": self.gid("Pupil", pupil, self.other),
            })  # fmt: skip
        return self.other

    def token(self, role: str) -> str:
        if role not in self.tokens:
            label = ROLES[role]
            if role == "guardian":
                token = guardian_of(self.services, self.county, [self.pupils["PUPIL"]])
            elif role == "province_admin":
                token = sign_in_as(self.services, role, None, label)
            elif role == "other_county_admin":
                token = sign_in_as(self.services, "county_admin", self.other_county().code)
            elif role == "partner":
                token = sign_in_as(self.services, role, self.county.code,
                                   partner_scope(self.partner))  # fmt: skip
            else:
                token = sign_in_as(self.services, role, self.county.code, self.units[label].path)
            self.tokens[role] = token
        return self.tokens[role]

    def assignment(self, role: str) -> str:
        """The ID of the role assignment of `role`'s user, as `roleAssignments` shows it."""
        user = read_access_token(self.services.keys.token_secret, self.token(role)).user_id
        with self.services.sync_engine.connect() as conn:
            pk = conn.execute(
                select(role_assignments.c.id).where(role_assignments.c.user_id == user)
            ).scalar_one()
        return str(pk)

    # --- placeholders --------------------------------------------------------------------------

    def value(self, name: str) -> Any:
        if name == "LOGIN_CODE":
            assert self.login_codes, "$LOGIN_CODE: no login code was sent on this page yet"
            return self.login_codes[-1]
        if name == "TOTP_CODE":
            return pyotp.TOTP(self.saved["TOTP_SECRET"]).now()
        if name.startswith("OTHER_"):
            self.other_county()
        if name.endswith("_ASSIGNMENT_ID"):
            return self.assignment(name.removesuffix("_ASSIGNMENT_ID").lower())
        if name in self.saved:
            return self.saved[name]
        if name in self.values:
            return self.values[name]
        raise AssertionError(f"unknown placeholder ${name}")

    def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if not isinstance(value, str) or not value.startswith("$"):
            return value
        found = PLACEHOLDER.match(value)
        assert found, f"not a placeholder: {value}"
        name, amount, unit = found.groups()
        if name not in ("NOW", "TODAY"):
            assert amount is None, f"only $NOW and $TODAY take an offset: {value}"
            return self.value(name)
        shift = dt.timedelta(**{UNITS[unit]: int(amount)}) if amount else dt.timedelta()
        moment = dt.datetime.now(CHINA) + shift
        return moment.date().isoformat() if name == "TODAY" else moment.isoformat("T", "seconds")

    def headers(self, example: Example) -> dict[str, str]:
        who = example.note("as")
        assert who, f"{example.where}: an example needs `# as: ROLE`"
        headers: dict[str, str] = {}
        if who.startswith("$"):
            credential = str(self.fill(who))
            if credential.startswith("rsk_"):
                headers["X-Api-Key"] = credential
            else:
                headers["Authorization"] = f"Bearer {credential}"
        elif who != "anonymous":
            assert who in ROLES, f"{example.where}: unknown role {who}"
            headers["Authorization"] = f"Bearer {self.token(who)}"
        county = example.note("county")
        if county is None and who in ("province_admin",):
            county = self.county.code
        if county is not None and county != "none":
            headers["X-County"] = str(self.fill(county))
        return headers


# --- running a page ------------------------------------------------------------------------------


def codes_in(body: dict[str, Any]) -> list[str]:
    """Every code of an answer: its top-level errors', then its payloads' user errors'."""
    found = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "userErrors" and isinstance(inner, list):
                    found.extend(u.get("code") for u in inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(body.get("data"))
    return found


def at_path(data: Any, path: str) -> Any:
    for step in path.split("."):
        data = data[int(step)] if isinstance(data, list) else data[step]
    return data


async def run(gql: GraphQLClient, world: World, example: Example, live: str) -> dict[str, Any]:
    headers = world.headers(example)
    variables = world.fill(example.variables)
    leftover = re.search(r'"\$[A-Z]', example.text)
    assert leftover is None, f"{example.where}: placeholders go in the variables, not the text"
    if example.text.lstrip().startswith("subscription"):
        answer = await first_answer(live, headers, example.text, variables)
        return check(world, example, answer)
    body: dict[str, Any] = {"variables": variables}
    send = example.note("send") or "text"
    assert send in ("text", "hash", "text+hash"), f"{example.where}: `# send: {send}`?"
    if "hash" in send:
        digest = hashlib.sha256(example.text.encode()).hexdigest()
        body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    if "text" in send:
        body["query"] = example.text
    if example.note("method") == "GET":
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        response = await gql.http.get("/graphql", params=params, headers=headers)
    else:
        response = await gql.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, f"{example.where}: HTTP {response.status_code}"
    return check(world, example, response.json())


async def first_answer(
    url: str, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """A subscription's first answer over the WebSocket, as a GraphQL response."""
    async with connected(url, headers) as subscriber:
        sid = await subscriber.subscribe(query, variables)
        message = await subscriber.receive()
    assert message.get("id") == sid, message
    if message["type"] == "error":
        return {"errors": message["payload"]}
    assert message["type"] == "next", message
    answer: dict[str, Any] = message["payload"]
    return answer


def check(world: World, example: Example, answer: dict[str, Any]) -> dict[str, Any]:
    codes = codes_in(answer)
    expected = example.note("expect")
    if expected:
        assert codes == [expected], f"{example.where}: expected {expected}, got {answer}"
    else:
        assert codes == [], f"{example.where}: {answer}"
        assert answer.get("data") is not None, f"{example.where}: {answer}"
    for saving in example.notes.get("save", []):
        name, _, path = (part.strip() for part in saving.partition("="))
        value = at_path(answer["data"], path)
        assert value is not None, f"{example.where}: nothing to save at {path}: {answer}"
        world.saved[name] = value
    return answer


class LoginCodes(logging.Handler):
    """Catches the login codes the development sender writes to the log."""

    def __init__(self, world: World) -> None:
        super().__init__(logging.WARNING)
        self.world = world

    def emit(self, record: logging.LogRecord) -> None:
        self.world.login_codes.append(record.getMessage().rsplit(" ", 1)[-1])


def page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


EXAMPLE_PAGES = [page for page in PAGES if examples(page)]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live(gql: GraphQLClient) -> AsyncIterator[str]:
    """The app on a loopback port too, for the subscriptions (a WebSocket needs a server)."""
    async with served(gql.app) as url:
        yield url


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=page_id)
async def test_the_examples_of_a_page_run_as_written(
    page: Path, gql: GraphQLClient, engine: Engine, make_county: Any, live: str
) -> None:
    found = examples(page)
    world = World(gql, engine, make_county)
    await world.build(read(page))
    catcher = LoginCodes(world)
    logger = logging.getLogger("redscarf.login_codes")
    logger.addHandler(catcher)
    try:
        for example in found:
            await run(gql, world, example, live)
    finally:
        logger.removeHandler(catcher)


def test_the_pages_are_there_and_every_example_names_who_sends_it() -> None:
    names = {page_id(p) for p in PAGES}
    domains = ("organisation", "pupils", "badges", "points", "activities", "exchange", "tasks",
               "archive", "pairing", "care", "statistics", "imports", "allow-list")  # fmt: skip
    required = ["README.md", "authentication.md", "tenancy.md", "conventions.md", "errors.md",
                "limits.md", "live.md", "domains/README.md", *(f"domains/{d}.md" for d in domains)]  # fmt: skip
    assert not [page for page in required if page not in names]
    for page in PAGES:
        for example in examples(page):
            assert example.note("as"), f"{example.where}: needs `# as: ROLE`"
            assert example.text, f"{example.where}: empty example"


# --- the list of error codes ---------------------------------------------------------------------

CODE_SOURCES = ("redscarf", "tenants", "domain", "resolvers", "schema", "authz", "workers")
CODE_PATTERNS = (
    re.compile(r'\bcode\s*(?::\s*\w+\s*)?=\s*"([A-Z][A-Z0-9_]+)"'),  # attributes, keywords
    re.compile(r'"code"\s*:\s*"([A-Z][A-Z0-9_]+)"'),  # extensions written by hand
    re.compile(r'error_body\(\s*"([A-Z][A-Z0-9_]+)"'),  # the HTTP layer's own answers
    re.compile(r'get\(\s*"code"\s*,\s*"([A-Z][A-Z0-9_]+)"'),  # the default of GraphQL errors
)
DOCUMENTED = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|", re.MULTILINE)


def codes_in_the_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in CODE_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for pattern in CODE_PATTERNS:
                for code in pattern.findall(text):
                    found.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_error_code_in_the_code_is_documented_and_no_other() -> None:
    in_code = codes_in_the_code()
    documented = set(DOCUMENTED.findall((DOCS / "errors.md").read_text(encoding="utf-8")))
    missing = {code: sorted(files) for code, files in in_code.items() if code not in documented}
    assert not missing, (
        "error codes missing from docs/api/errors.md (add a row `| `CODE` | HTTP | meaning |`): "
        + json.dumps(missing, ensure_ascii=False, indent=1)
    )
    gone = sorted(documented - set(in_code))
    assert not gone, f"docs/api/errors.md lists codes the code no longer has: {gone}"
