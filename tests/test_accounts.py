"""Signing in and staying signed in, as admins, counselors, guardians and county apps do it:
through the real endpoint, on a real database."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import psycopg
import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.service import create_user
from domain.accounts.tables import role_assignments, sessions, users
from domain.accounts.tokens import issue_access_token, read_access_token
from domain.audit.service import purge_older_than
from domain.audit.tables import audit_log
from domain.people.pupils import academic_year
from redscarf.app import create_app
from redscarf.settings import Settings
from schema.ids import encode_global_id
from tenants.provisioning import County, get_county
from tenants.sessions import tenant_connection
from tests.graphql_client import GraphQLClient, UnitRef, create_unit, tenant_of

PASSWORD = "Hong-Lingjin-2026"
ME = "{ me { kind name mfa grants { role countyCode scope } } }"
SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  tokens { accessToken refreshToken expiresIn } mfaToken mfaSetupRequired userErrors { code message }
} }"""
REFRESH = """mutation($t: String!) { refreshSession(input: {refreshToken: $t}) {
  tokens { accessToken refreshToken } userErrors { code message } } }"""


def bearer(token: str, county: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if county:
        headers["X-County"] = county
    return headers


def services(gql: GraphQLClient) -> Any:
    return gql.app.state.services


def account(gql: GraphQLClient, role: str, county: str | None, scope: str = "c") -> str:
    """A user with a password holding `role`; returns the user name."""
    s = services(gql)
    with s.sync_engine.begin() as conn:
        user_id = create_user(
            conn,
            s.keys.cipher,
            display_name="张老师",
            username=f"u{dt.datetime.now().timestamp():.6f}".replace(".", ""),
            password=PASSWORD,
        )
        conn.execute(
            insert(role_assignments).values(
                user_id=user_id, role=role, county_code=county, scope=scope
            )
        )
        return str(conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar())


async def sign_in(gql: GraphQLClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    return (await gql.data(SIGN_IN, {"u": username, "p": password}))["signIn"]


def root_of(engine: Engine, county: County) -> UnitRef:
    with tenant_connection(engine, tenant_of(county)) as conn:
        pk = conn.execute(
            text(f"SELECT id FROM \"{county.schema_name}\".units WHERE path = 'c'")
        ).scalar_one()
    return UnitRef(pk, "c", county.code)


@pytest.fixture
def county(make_county: Any, engine: Engine) -> County:
    county = make_county()
    create_unit(engine, county, "county", county.name)
    return county


# --- password, lock-out, tokens --------------------------------------------------------------


async def test_a_counselor_signs_in_and_is_known(gql: GraphQLClient, county: County) -> None:
    username = account(gql, "squadron_counselor", county.code)
    tokens = (await sign_in(gql, username))["tokens"]
    assert tokens["expiresIn"] == 15 * 60
    me = (await gql.data(ME, headers=bearer(tokens["accessToken"])))["me"]
    assert me["kind"] == "USER"
    assert me["grants"] == [{"role": "SQUADRON_COUNSELOR", "countyCode": county.code, "scope": "c"}]


async def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    username = account(gql, "squadron_counselor", county.code)
    for _ in range(4):
        assert (await sign_in(gql, username, "wrong"))["userErrors"][0]["code"] == (
            "INVALID_CREDENTIALS"
        )
    # The fifth failure locks: now even the right password is refused
    assert (await sign_in(gql, username, "wrong"))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    locked = await sign_in(gql, username)
    assert locked["tokens"] is None
    assert locked["userErrors"][0]["code"] == "ACCOUNT_LOCKED"
    # When the lock has run out, the right password works again
    with engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert (await sign_in(gql, username))["tokens"] is not None


async def test_an_unknown_user_and_a_wrong_password_look_the_same(gql: GraphQLClient) -> None:
    unknown = await sign_in(gql, "nobody-here", "whatever")
    assert unknown["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert "用户名或密码不正确" in unknown["userErrors"][0]["message"]


@pytest.mark.parametrize("damage", ["expired", "tampered", "foreign_secret", "garbage"])
async def test_bad_access_tokens_are_refused(
    gql: GraphQLClient, county: County, damage: str
) -> None:
    username = account(gql, "squadron_counselor", county.code)
    token = (await sign_in(gql, username))["tokens"]["accessToken"]
    claims = read_access_token(services(gql).keys.token_secret, token)
    if damage == "expired":
        token = issue_access_token(
            services(gql).keys.token_secret,
            claims.user_id,
            claims.session_id,
            dt.timedelta(seconds=-1),
        )
    elif damage == "tampered":
        head, payload, signature = token.split(".")
        token = (
            f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
        )
    elif damage == "foreign_secret":
        token = issue_access_token("x" * 40, claims.user_id, claims.session_id, dt.timedelta(1))
    else:
        token = "not-a-token"
    body = await gql.execute(ME, headers=bearer(token))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(
    gql: GraphQLClient, county: County
) -> None:
    username = account(gql, "brigade_counselor", county.code)
    first = (await sign_in(gql, username))["tokens"]
    second = (await gql.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]["tokens"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await gql.data(ME, headers=bearer(second["accessToken"])))["me"]["name"] == "张老师"

    # The spent token used again (stolen?): refused, and the whole session ends
    reused = (await gql.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]
    assert reused["tokens"] is None
    assert reused["userErrors"][0]["code"] == "UNAUTHENTICATED"
    body = await gql.execute(ME, headers=bearer(second["accessToken"]))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    again = (await gql.data(REFRESH, {"t": second["refreshToken"]}))["refreshSession"]
    assert again["tokens"] is None


async def test_sign_out_ends_the_session(gql: GraphQLClient, county: County) -> None:
    username = account(gql, "brigade_counselor", county.code)
    tokens = (await sign_in(gql, username))["tokens"]
    out = await gql.data("mutation { signOut { ok } }", headers=bearer(tokens["accessToken"]))
    assert out["signOut"]["ok"] is True
    body = await gql.execute(ME, headers=bearer(tokens["accessToken"]))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refreshed = (await gql.data(REFRESH, {"t": tokens["refreshToken"]}))["refreshSession"]
    assert refreshed["tokens"] is None


async def test_an_idle_session_times_out(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    username = account(gql, "brigade_counselor", county.code)
    token = (await sign_in(gql, username))["tokens"]["accessToken"]
    session_id = read_access_token(services(gql).keys.token_secret, token).session_id
    with engine.begin() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
        )
    body = await gql.execute(ME, headers=bearer(token))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "超时" in body["errors"][0]["message"]


async def test_a_role_removed_mid_session_stops_working_at_once(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    username = account(gql, "squadron_counselor", county.code)
    token = (await sign_in(gql, username))["tokens"]["accessToken"]
    query = "{ pupils(first: 5) { edges { node { name } } } }"
    assert "errors" not in await gql.execute(query, headers=bearer(token))
    with engine.begin() as conn:
        conn.execute(
            update(role_assignments)
            .where(
                role_assignments.c.user_id
                == select(users.c.id).where(users.c.username == username).scalar_subquery()
            )
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    body = await gql.execute(query, headers=bearer(token, county.code))
    assert body["errors"][0]["extensions"]["code"] == "COUNTY_NOT_FOUND"
    assert body["data"] is None


async def test_changing_the_password_checks_the_rules_and_ends_other_sessions(
    gql: GraphQLClient, county: County
) -> None:
    username = account(gql, "brigade_counselor", county.code)
    here = (await sign_in(gql, username))["tokens"]["accessToken"]
    elsewhere = (await sign_in(gql, username))["tokens"]["accessToken"]
    change = """mutation($o: String!, $n: String!) {
      changePassword(input: {oldPassword: $o, newPassword: $n}) { ok userErrors { code } } }"""
    weak = await gql.data(change, {"o": PASSWORD, "n": "12345678"}, headers=bearer(here))
    assert weak["changePassword"]["userErrors"][0]["code"] == "WEAK_PASSWORD"
    done = await gql.data(change, {"o": PASSWORD, "n": "Xin-Mima-2026!"}, headers=bearer(here))
    assert done["changePassword"]["ok"] is True
    assert "errors" not in await gql.execute(ME, headers=bearer(here))
    other = await gql.execute(ME, headers=bearer(elsewhere))
    assert other["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await sign_in(gql, username, "Xin-Mima-2026!"))["tokens"] is not None


# --- the second factor of administrators -----------------------------------------------------


async def test_an_admin_enrols_a_second_factor_then_needs_it_every_time(
    gql: GraphQLClient, county: County
) -> None:
    username = account(gql, "county_admin", county.code)
    first = await sign_in(gql, username)
    assert first["tokens"] is None
    assert first["mfaSetupRequired"] is True
    setup = (
        await gql.data(
            "mutation($t: String!) { setupTotp(input: {mfaToken: $t}) { secret uri } }",
            {"t": first["mfaToken"]},
        )
    )["setupTotp"]
    assert setup["uri"].startswith("otpauth://totp/")
    verify = """mutation($t: String!, $c: String!) { verifyTotp(input: {mfaToken: $t, code: $c}) {
      tokens { accessToken } userErrors { code } } }"""
    wrong = (await gql.data(verify, {"t": first["mfaToken"], "c": "000000"}))["verifyTotp"]
    assert wrong["userErrors"][0]["code"] == "INVALID_CODE"
    code = pyotp.TOTP(setup["secret"]).now()
    tokens = (await gql.data(verify, {"t": first["mfaToken"], "c": code}))["verifyTotp"]["tokens"]
    me = (await gql.data(ME, headers=bearer(tokens["accessToken"])))["me"]
    assert me["mfa"] is True
    assert me["grants"][0]["role"] == "COUNTY_ADMIN"

    # Next time: the password alone gives no tokens, only the second step
    again = await sign_in(gql, username)
    assert again["tokens"] is None
    assert again["mfaSetupRequired"] is False


async def test_an_admin_session_without_the_second_factor_has_no_admin_powers(
    gql: GraphQLClient, county: County
) -> None:
    # A county admin whose session did not pass the second factor (e.g. by phone code)
    s = services(gql)
    from domain.accounts.service import start_session

    username = account(gql, "county_admin", county.code)
    with s.sync_engine.begin() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        token = start_session(conn, s.keys, s.settings, user_id, mfa=False, client="t").access_token
    me = (await gql.data(ME, headers=bearer(token)))["me"]
    assert me["grants"] == []
    body = await gql.execute("{ apiKeys { name } }", headers=bearer(token, county.code))
    assert body["errors"][0]["extensions"]["code"] == "COUNTY_NOT_FOUND"


# --- guardians: phone and code ---------------------------------------------------------------


async def test_a_guardian_registers_and_signs_in_with_a_phone_code(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    phone = f"139{dt.datetime.now().microsecond:08d}"[:11]
    ask = (
        "mutation($p: String!) { requestLoginCode(input: {phone: $p}) { ok userErrors { code } } }"
    )
    with caplog.at_level(logging.WARNING, logger="redscarf.login_codes"):
        assert (await gql.data(ask, {"p": phone}))["requestLoginCode"]["ok"] is True
    code = caplog.records[-1].getMessage().rsplit(" ", 1)[-1]
    # Asking again within a minute is refused
    again = (await gql.data(ask, {"p": phone}))["requestLoginCode"]
    assert again["userErrors"][0]["code"] == "RATE_LIMITED"

    login = """mutation($p: String!, $c: String!) { signInWithCode(input: {phone: $p, code: $c}) {
      tokens { accessToken } userErrors { code } } }"""
    wrong = await gql.data(login, {"p": phone, "c": "999999" if code != "999999" else "111111"})
    assert wrong["signInWithCode"]["userErrors"][0]["code"] == "INVALID_CODE"
    tokens = (await gql.data(login, {"p": phone, "c": code}))["signInWithCode"]["tokens"]
    me = (await gql.data(ME, headers=bearer(tokens["accessToken"])))["me"]
    assert me["name"] == f"家长{phone[-4:]}"
    # A code works once
    reused = (await gql.data(login, {"p": phone, "c": code}))["signInWithCode"]
    assert reused["userErrors"][0]["code"] == "INVALID_CODE"

    # The guardian sets a password, and from then on may sign in with phone and password
    first = """mutation { changePassword(input: {oldPassword: "", newPassword: "Jiazhang-2026!"})
      { ok userErrors { code } } }"""
    done = await gql.data(first, headers=bearer(tokens["accessToken"]))
    assert done["changePassword"] == {"ok": True, "userErrors": []}
    assert (await sign_in(gql, phone, "Jiazhang-2026!"))["tokens"] is not None
    assert (await sign_in(gql, phone, "wrong"))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_a_guardian_phone_is_stored_encrypted_and_found_by_keyed_hash(
    gql: GraphQLClient, engine: Engine
) -> None:
    s = services(gql)
    phone = "13712345678"
    with s.sync_engine.begin() as conn:
        create_user(conn, s.keys.cipher, display_name="李爸爸", phone=f"+86 {phone}")
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.phone_enc, users.c.phone_hash).where(
                users.c.phone_hash == s.keys.cipher.keyed_hash(phone, context="users.phone")
            )
        ).one()
    assert phone not in row.phone_enc
    assert s.keys.cipher.decrypt(row.phone_enc, context="users.phone") == phone


# --- invitations and county apps -------------------------------------------------------------


async def test_a_counselor_invited_by_the_county_accepts_and_sees_the_squadron(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    root = root_of(engine, county)
    school = create_unit(engine, county, "brigade", "城关小学", root)
    squadron = create_unit(engine, county, "squadron", "三（1）中队", school, grade=3)
    invite = """mutation($s: String!) { createInvitation(input: {role: SQUADRON_COUNSELOR,
      scope: $s, displayName: "刘老师"}) { token userErrors { code } } }"""
    admin = gql.token_for("county_admin", county.code)
    token = (await gql.data(invite, {"s": squadron.path}, headers=bearer(admin, county.code)))[
        "createInvitation"
    ]["token"]
    accept = """mutation($t: String!, $u: String!, $p: String!) { acceptInvitation(input:
      {token: $t, username: $u, password: $p}) { grant { role scope } userErrors { code } } }"""
    username = f"liu{dt.datetime.now().microsecond}"
    weak = (await gql.data(accept, {"t": token, "u": username, "p": "weak"}))["acceptInvitation"]
    assert weak["userErrors"][0]["code"] == "WEAK_PASSWORD"
    done = (await gql.data(accept, {"t": token, "u": username, "p": PASSWORD}))["acceptInvitation"]
    assert done["grant"] == {"role": "SQUADRON_COUNSELOR", "scope": squadron.path}
    # An invitation is taken once
    twice = await gql.data(accept, {"t": token, "u": username + "x", "p": PASSWORD})
    assert twice["acceptInvitation"]["userErrors"][0]["code"] == "INVITATION_NOT_FOUND"
    mine = (await sign_in(gql, username))["tokens"]["accessToken"]
    me = (await gql.data(ME, headers=bearer(mine)))["me"]
    assert me["grants"][0]["scope"] == squadron.path


async def test_a_county_app_key_works_until_it_is_revoked(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    admin = bearer(gql.token_for("county_admin", county.code), county.code)
    created = (
        await gql.data(
            """mutation { createApiKey(input: {name: "县少工委小程序", role: COUNTY_ADMIN}) {
              apiKey { id prefix } secret userErrors { code } } }""",
            headers=admin,
        )
    )["createApiKey"]
    secret = created["secret"]
    assert secret.startswith(f"rsk_{created['apiKey']['prefix']}_")
    me = (await gql.data(ME, headers={"X-Api-Key": secret}))["me"]
    assert (me["kind"], me["name"]) == ("API_KEY", "县少工委小程序")
    keys = (await gql.data("{ apiKeys { prefix lastUsedAt } }", headers=admin))["apiKeys"]
    assert keys[0]["lastUsedAt"] is not None
    # Only the hash is stored
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret_hash FROM shared.api_keys WHERE prefix = :p"),
            {"p": created["apiKey"]["prefix"]},
        ).scalar_one()
    assert secret.encode() not in bytes(stored)

    revoke = "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { ok } }"
    assert (await gql.data(revoke, {"id": created["apiKey"]["id"]}, headers=admin))["revokeApiKey"][
        "ok"
    ]
    body = await gql.execute(ME, headers={"Authorization": f"Bearer {secret}"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "吊销" in body["errors"][0]["message"]


# --- an external OpenID Connect provider -----------------------------------------------------


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[tuple[str, Any]]:
    """A JWKS endpoint on loopback and the private key that signs its tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks", key
    server.shutdown()


async def test_tokens_of_the_provinces_identity_provider_are_accepted(
    settings: Settings,
    async_engine: AsyncEngine,
    county: County,
    engine: Engine,
    identity_provider: tuple[str, Any],
) -> None:
    jwks_url, key = identity_provider
    issuer = "https://idp.gz.example"
    app = create_app(
        settings.model_copy(
            update={"oidc_issuer": issuer, "oidc_jwks_url": jwks_url, "oidc_audience": "redscarf"}
        ),
        async_engine=async_engine,
    )
    subject = f"gz-{dt.datetime.now().microsecond}"
    with engine.begin() as conn:
        user_id = conn.execute(
            insert(users)
            .values(display_name="省统一认证用户", external_subject=f"{issuer}|{subject}")
            .returning(users.c.id)
        ).scalar_one()
        conn.execute(
            insert(role_assignments).values(
                user_id=user_id, role="brigade_counselor", county_code=county.code, scope="c"
            )
        )

    def token(audience: str, lifetime: int = 300) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "exp": now + dt.timedelta(seconds=lifetime),
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})

    async with GraphQLClient(app) as client:
        me = (await client.data(ME, headers=bearer(token("redscarf"))))["me"]
        assert me["name"] == "省统一认证用户"
        for bad in (token("someone-else"), token("redscarf", lifetime=-10)):
            body = await client.execute(ME, headers=bearer(bad))
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- the audit log ---------------------------------------------------------------------------


async def test_mutations_and_unmasked_reads_are_in_the_audit_log(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    root = root_of(engine, county)
    squadron = create_unit(engine, county, "squadron", "一（1）中队", root, grade=1)
    with tenant_connection(engine, tenant_of(county)) as conn:
        pupil = conn.execute(
            text(
                f'INSERT INTO "{county.schema_name}".pupils'
                " (squadron_id, name, gender, grade, birth_date)"
                " VALUES (:s, '赵小芳', 'female', 1, '2019-06-01') RETURNING id"
            ),
            {"s": squadron.id},
        ).scalar_one()
    admin = bearer(gql.token_for("county_admin", county.code), county.code)
    await gql.data(
        'mutation { createApiKey(input: {name: "审计测试", role: COUNTY_ADMIN}) { secret } }',
        headers=admin,
    )
    await gql.data(
        """mutation($s: String!) { createInvitation(input: {role: SQUADRON_COUNSELOR,
        scope: $s, displayName: "某老师"}) { token } }""",
        {"s": squadron.path},
        headers=admin,
    )
    masked = await gql.data(
        "query($id: ID!) { pupil(id: $id) { birthDate } }",
        {"id": encode_global_id("Pupil", county.code, pupil)},
        headers=admin,
    )
    assert masked["pupil"]["birthDate"] == "2019-**-**"
    shown = await gql.data(
        "query($id: ID!) { pupil(id: $id) { birthDate(reveal: true) } }",
        {"id": encode_global_id("Pupil", county.code, pupil)},
        headers=admin,
    )
    assert shown["pupil"]["birthDate"] == "2019-06-01"

    entries = (
        await gql.data(
            "{ auditLog(first: 10) { action objectType objectId fields client } }", headers=admin
        )
    )["auditLog"]
    assert [e["action"] for e in entries] == ["reveal", "createInvitation", "createApiKey"]
    assert entries[0]["objectId"] == str(pupil)
    assert entries[0]["fields"] == ["birthDate"]
    assert entries[0]["client"]  # the client it came from


def test_the_database_refuses_to_change_or_delete_audit_entries(
    county: County, engine: Engine
) -> None:
    tenant = tenant_of(county)
    with tenant_connection(engine, tenant) as conn:
        conn.execute(insert(audit_log).values(actor="某人", action="createApiKey"))
        conn.execute(
            insert(audit_log).values(
                actor="某人", action="old", at=dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
            )
        )
    schema = county.schema_name
    refused = [
        # as the county role: no grant
        (True, f"UPDATE \"{schema}\".audit_log SET actor = '别人'"),
        (True, f'DELETE FROM "{schema}".audit_log'),
        # as the service's own login (the owner): the trigger
        (False, f"UPDATE \"{schema}\".audit_log SET actor = '别人'"),
        (False, f'DELETE FROM "{schema}".audit_log'),
        (False, f'TRUNCATE "{schema}".audit_log'),
    ]

    def run(as_county: bool, statement: str) -> None:
        if as_county:
            with tenant_connection(engine, tenant) as conn:
                conn.execute(text(statement))
        else:
            with engine.begin() as conn:
                conn.execute(text(statement))

    for as_county, statement in refused:
        with pytest.raises(DBAPIError) as caught:
            run(as_county, statement)
        assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), statement

    # Only the purge removes entries, and only those past the retention period
    with engine.begin() as conn:
        assert purge_older_than(conn, schema, 180) == 1
    with engine.connect() as conn:
        left = conn.execute(text(f'SELECT action FROM "{schema}".audit_log')).scalars().all()
    assert left == ["createApiKey"]


async def test_sign_ins_are_in_the_platform_audit_log(
    gql: GraphQLClient, county: County, engine: Engine
) -> None:
    username = account(gql, "brigade_counselor", county.code)
    await sign_in(gql, username)
    with engine.connect() as conn:
        actions = (
            conn.execute(
                text(
                    "SELECT a.action FROM shared.audit_log a JOIN shared.users u ON u.id::text = a.object_id"
                    " WHERE u.username = :u"
                ),
                {"u": username},
            )
            .scalars()
            .all()
        )
    assert actions == ["signIn"]


async def test_misspelt_fields_get_no_suggestions_unless_signed_in(
    gql: GraphQLClient, county: County
) -> None:
    anonymous = await gql.execute("{ me { nmae } }")
    assert "Did you mean" not in anonymous["errors"][0]["message"]
    signed_in = await gql.execute(
        "{ me { nmae } }", headers=bearer(gql.token_for("county_admin", county.code))
    )
    assert "Did you mean" in signed_in["errors"][0]["message"]


def empty_roster() -> bytes:
    from domain.spreadsheets.rosters import workbook

    return workbook([])


async def test_every_mutation_of_the_schema_leaves_an_audit_entry(
    settings: Settings,
    async_engine: AsyncEngine,
    county: County,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each mutation, done once successfully; each must show in the county's or the platform's
    audit log. A mutation added to the schema fails this test until it is audited here."""
    from schema import schema as graphql_schema

    operator = "operator-token-for-the-audit-test"
    app = create_app(
        settings.model_copy(update={"operator_token": operator}), async_engine=async_engine
    )
    async with GraphQLClient(app) as client:
        admin = bearer(client.token_for("county_admin", county.code), county.code)

        async def do(query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
            return await client.data(query, variables, **kw)

        from tests.conftest import new_county_code

        onboarded = new_county_code()
        created = await do(
            "mutation($i: CreateCountyInput!) { createCounty(input: $i) { created } }",
            {"i": {"code": onboarded, "name": "审计县", "provinceCode": "52"}},
            headers=bearer(operator),
        )
        assert created["createCounty"]["created"]
        squadron = create_unit(
            engine, county, "squadron", "六（1）中队", root_of(engine, county), grade=6
        )
        invitation = (
            await do(
                """mutation($s: String!) { createInvitation(input: {role: SQUADRON_COUNSELOR,
            scope: $s, displayName: "钱老师"}) { token } }""",
                {"s": squadron.path},
                headers=admin,
            )
        )["createInvitation"]["token"]
        username = f"qian{dt.datetime.now().microsecond}"
        await do(
            """mutation($t: String!, $u: String!) { acceptInvitation(input: {token: $t,
            username: $u, password: "Qian-Laoshi-2026"}) { grant { role } } }""",
            {"t": invitation, "u": username},
        )
        tokens = (await sign_in(client, username, "Qian-Laoshi-2026"))["tokens"]
        tokens = (await do(REFRESH, {"t": tokens["refreshToken"]}))["refreshSession"]["tokens"]
        mine = bearer(tokens["accessToken"])
        await do(
            """mutation { changePassword(input: {oldPassword: "Qian-Laoshi-2026",
            newPassword: "Qian-Laoshi-2027"}) { ok } }""",
            headers=mine,
        )
        await do("mutation { signOut { ok } }", headers=mine)
        assignment = next(
            a["id"]
            for a in (await do("{ roleAssignments { id role } }", headers=admin))["roleAssignments"]
            if a["role"] == "SQUADRON_COUNSELOR"
        )
        await do(
            "mutation($id: ID!) { revokeRole(input: {assignmentId: $id}) { ok } }",
            {"id": assignment},
            headers=admin,
        )
        key = (
            await do(
                'mutation { createApiKey(input: {name: "审计", role: COUNTY_ADMIN})'
                " { apiKey { id } } }",
                headers=admin,
            )
        )["createApiKey"]["apiKey"]["id"]
        await do(
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { ok } }",
            {"id": key},
            headers=admin,
        )
        squadron_id = encode_global_id("Unit", county.code, squadron.id)
        root_id = encode_global_id("Unit", county.code, root_of(engine, county).id)
        made = (
            await do(
                'mutation($p: ID!) { createUnit(input: {parentId: $p, kind: TOWNSHIP, name: "审计镇"})'
                " { unit { id } } }",
                {"p": root_id},
                headers=admin,
            )
        )["createUnit"]["unit"]["id"]
        await do(
            'mutation($id: ID!) { updateUnit(input: {id: $id, name: "审计乡"}) { unit { id } } }',
            {"id": made},
            headers=admin,
        )
        school = (
            await do(
                'mutation($p: ID!) { createUnit(input: {parentId: $p, kind: BRIGADE, name: "审计小学"})'
                " { unit { id } } }",
                {"p": root_id},
                headers=admin,
            )
        )["createUnit"]["unit"]["id"]
        await do(
            "mutation($id: ID!, $p: ID!) { moveUnit(input: {id: $id, parentId: $p}) "
            "{ unit { id } } }",
            {"id": school, "p": made},
            headers=admin,
        )
        counselor = (
            await do(
                'mutation($u: ID!) { appointCounselor(input: {unitId: $u, name: "审计老师", '
                'kind: SQUADRON, startedOn: "2026-09-01"}) { counselor { id } } }',
                {"u": squadron_id},
                headers=admin,
            )
        )["appointCounselor"]["counselor"]["id"]
        await do(
            "mutation($id: ID!, $u: ID!) { reassignCounselor(input: {id: $id, unitId: $u, "
            'kind: SQUADRON, on: "2026-09-02"}) { counselor { id } } }',
            {"id": counselor, "u": squadron_id},
            headers=admin,
        )
        await do(
            'mutation($id: ID!) { endCounselor(input: {id: $id, on: "2026-09-03"}) '
            "{ counselor { id } } }",
            {"id": counselor},
            headers=admin,
        )
        await do(
            "mutation($id: ID!) { archiveUnit(input: {id: $id}) { unit { id } } }",
            {"id": school},
            headers=admin,
        )
        pupil = (
            await do(
                """mutation($s: ID!) { createPupil(input: {squadronId: $s, name: "郑小雨",
            gender: FEMALE, status: PRE_MEMBER}) { pupil { id } } }""",
                {"s": squadron_id},
                headers=admin,
            )
        )["createPupil"]["pupil"]["id"]
        await do(
            'mutation($id: ID!) { updatePupil(input: {id: $id, name: "郑晓雨"}) { pupil { id } } }',
            {"id": pupil},
            headers=admin,
        )
        await do(
            "mutation($id: ID!, $s: ID!) { movePupil(input: {id: $id, squadronId: $s}) "
            "{ pupil { id } } }",
            {"id": pupil, "s": squadron_id},
            headers=admin,
        )
        await do(
            'mutation($id: ID!) { enrolPupils(input: {ids: [$id], joinedOn: "2026-10-13", '
            'batch: "一"}) { enrolled } }',
            {"id": pupil},
            headers=admin,
        )
        await do(
            "mutation($id: ID!, $d: Date!) { changePupilStatus(input: {id: $id, "
            "status: LEFT, onDate: $d}) { pupil { id } } }",
            {"id": pupil, "d": dt.date.today().isoformat()},
            headers=admin,
        )
        await do(
            "mutation($y: Int!) { promoteGrades(input: {academicYear: $y}) { pupils } }",
            {"y": academic_year(dt.date.today())},
            headers=admin,
        )
        phone = f"136{dt.datetime.now().microsecond:08d}"[:11]
        with caplog.at_level(logging.WARNING, logger="redscarf.login_codes"):
            await do(
                "mutation($p: String!) { requestLoginCode(input: {phone: $p}) { ok } }",
                {"p": phone},
            )
        code = caplog.records[-1].getMessage().rsplit(" ", 1)[-1]
        guardian = (
            await do(
                "mutation($p: String!, $c: String!) { signInWithCode(input: {phone: $p, code: $c})"
                " { tokens { accessToken } } }",
                {"p": phone, "c": code},
            )
        )["signInWithCode"]["tokens"]["accessToken"]
        binding = (
            await do(
                "mutation($id: ID!) { issueBindingCode(input: {pupilId: $id}) { code } }",
                {"id": pupil},
                headers=admin,
            )
        )["issueBindingCode"]["code"]
        bound = await do(
            "mutation($c: String!, $b: String!) { bindPupil(input: {countyCode: $c, "
            'relation: MOTHER, noticeVersion: "2026-09", code: $b}) { userErrors { code } } }',
            {"c": county.code, "b": binding},
            headers=bearer(guardian),
        )
        assert bound["bindPupil"]["userErrors"] == []
        await do(
            "mutation($id: ID!) { unbindPupil(input: {pupilId: $id}) { ok } }",
            {"id": pupil},
            headers=bearer(guardian),
        )
        # Two pupils move to the county just onboarded: one accepted, one declined
        with engine.connect() as conn:
            receiving = get_county(conn, onboarded)
        assert receiving is not None
        there = create_unit(engine, receiving, "county", receiving.name)
        there_squadron = create_unit(engine, receiving, "squadron", "一（1）中队", there, grade=1)
        receiver = bearer(client.token_for("county_admin", onboarded))
        transfers = []
        for name in ("转学甲", "转学乙"):
            moving = (
                await do(
                    "mutation($s: ID!, $n: String!) { createPupil(input: {squadronId: $s, name: $n, "
                    "gender: MALE}) { pupil { id } } }",
                    {"s": squadron_id, "n": name},
                    headers=admin,
                )
            )["createPupil"]["pupil"]["id"]
            transfers.append(
                (
                    await do(
                        "mutation($id: ID!, $to: String!) { transferPupil(input: {pupilId: $id, "
                        "toCountyCode: $to}) { transfer { id } } }",
                        {"id": moving, "to": onboarded},
                        headers=admin,
                    )
                )["transferPupil"]["transfer"]["id"]
            )
        await do(
            "mutation($t: ID!, $s: ID!) { acceptTransfer(input: {transferId: $t, "
            "squadronId: $s}) { pupilId } }",
            {"t": transfers[0], "s": encode_global_id("Unit", onboarded, there_squadron.id)},
            headers=receiver,
        )
        await do(
            'mutation($t: ID!) { declineTransfer(input: {transferId: $t, reason: "无"}) '
            "{ transfer { id } } }",
            {"t": transfers[1]},
            headers=receiver,
        )
        uploaded = await client.http.post(
            "/uploads", content=empty_roster(), headers=admin, params={"filename": "名册.xlsx"}
        )
        assert uploaded.status_code == 201, uploaded.text
        await do(
            "mutation($u: ID!) { importRoster(input: {uploadId: $u, kind: PUPILS}) "
            "{ rosterImport { state } } }",
            {"u": uploaded.json()["id"]},
            headers=admin,
        )
        asked = await do(
            "mutation($id: ID!) { requestPupilData(input: {pupilId: $id, kind: DELETE}) "
            "{ dataRequest { id } } }",
            {"id": moving},
            headers=admin,
        )
        await do(
            "mutation($id: ID!) { handleDataRequest(input: {id: $id, decision: COMPLETE}) "
            "{ dataRequest { state } } }",
            {"id": asked["requestPupilData"]["dataRequest"]["id"]},
            headers=admin,
        )
        from tests.test_badges_api import run_a_badge_year

        badged = (
            await do(
                'mutation($s: ID!) { createPupil(input: {squadronId: $s, name: "奖章", '
                "gender: FEMALE}) { pupil { id } } }",
                {"s": squadron_id},
                headers=admin,
            )
        )["createPupil"]["pupil"]["id"]
        await run_a_badge_year(do, admin, county, engine, badged, squadron_id)
        from tests.test_exchange_api import run_activities_exchange_and_tasks

        await run_activities_exchange_and_tasks(
            client, admin, county, engine, squadron, root_of(engine, county)
        )
        from tests.test_pairing_api import run_a_pairing

        await run_a_pairing(client, admin, county, receiving, engine)
        from tests.test_care_api import run_care

        await run_care(client, admin, county, engine)
        from tests.test_persisted import run_allow_list

        await run_allow_list(client, admin)
        await do(
            "mutation($u: ID!) { exportArchives(input: {unitId: $u}) { archiveExport { done } } }",
            {"u": squadron_id},
            headers=admin,
        )
        await do(
            'mutation { setAllowedOrigins(input: {origins: ["https://audit.example.cn"]}) '
            "{ userErrors { code } } }",
            headers=admin,
        )
        admin_name = account(client, "county_admin", county.code)
        challenge = (await sign_in(client, admin_name))["mfaToken"]
        secret = (
            await do(
                "mutation($t: String!) { setupTotp(input: {mfaToken: $t}) { secret } }",
                {"t": challenge},
            )
        )["setupTotp"]["secret"]
        await do(
            "mutation($t: String!, $c: String!) { verifyTotp(input: {mfaToken: $t, code: $c})"
            " { tokens { accessToken } } }",
            {"t": challenge, "c": pyotp.TOTP(secret).now()},
        )

    with engine.connect() as conn:
        actions = set(conn.execute(text("SELECT action FROM shared.audit_log")).scalars())
        for schema in (county.schema_name, receiving.schema_name):
            actions |= set(conn.execute(text(f'SELECT action FROM "{schema}".audit_log')).scalars())
    mutations = set(graphql_schema._schema.mutation_type.fields)
    assert mutations - actions == set()


async def test_the_invitation_chain_from_the_operator_down_to_a_countys_first_admin(
    settings: Settings, async_engine: AsyncEngine, county: County
) -> None:
    operator = "operator-token-for-the-invitation-chain"
    app = create_app(
        settings.model_copy(update={"operator_token": operator}), async_engine=async_engine
    )
    invite = """mutation($r: Role!, $s: String!) { createInvitation(input: {role: $r, scope: $s,
      displayName: "新管理员"}) { token userErrors { code } } }"""
    accept = """mutation($t: String!, $u: String!) { acceptInvitation(input: {token: $t,
      username: $u, password: "Guanliyuan-2026"}) { grant { role countyCode scope } } }"""
    stamp = dt.datetime.now().microsecond
    async with GraphQLClient(app) as client:
        # The operator invites Guizhou's province admin
        token = (
            await client.data(invite, {"r": "PROVINCE_ADMIN", "s": "52"}, headers=bearer(operator))
        )["createInvitation"]["token"]
        grant = (await client.data(accept, {"t": token, "u": f"gz{stamp}"}))["acceptInvitation"]
        assert grant["grant"] == {"role": "PROVINCE_ADMIN", "countyCode": None, "scope": "52"}
        # whose first sign-in asks for a second factor
        assert (await sign_in(client, f"gz{stamp}", "Guanliyuan-2026"))["mfaSetupRequired"]

        # The province admin invites the county's first admin (naming the county)
        province = bearer(client.token_for("province_admin", None, "52"), county.code)
        token = (await client.data(invite, {"r": "COUNTY_ADMIN", "s": "c"}, headers=province))[
            "createInvitation"
        ]["token"]
        grant = (await client.data(accept, {"t": token, "u": f"hs{stamp}"}))["acceptInvitation"]
        assert grant["grant"] == {"role": "COUNTY_ADMIN", "countyCode": county.code, "scope": "c"}

        # but not a counselor: that is the county's to do
        refused = await client.execute(
            invite, {"r": "SQUADRON_COUNSELOR", "s": "c"}, headers=province
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
