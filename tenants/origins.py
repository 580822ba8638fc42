"""The web origins of each county's own frontends (CORS), kept in the shared schema.

A preflight carries no county, so the question "is this origin any county's?" is asked of
all counties at once: the table is small (at most `MAX_ORIGINS` rows a county) and read whole
(`all_origins`), then cached by `redscarf.cors`. Only the service's own login reads or writes
it; county roles have no grant.

An origin is what a browser sends in its `Origin` header: `https://host[:port]`, or
`http://localhost[:port]` for a developer's machine; never a path, a wildcard or plain http
elsewhere. `normalise_origin` turns what an admin types into that form or refuses it.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Select,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from redscarf.errors import InvalidInput
from tenants.metadata import shared_metadata

MAX_ORIGINS = 20
ORIGIN_PATTERN = r"^(https://[a-z0-9.:\[\]-]+|http://localhost(:[0-9]{1,5})?)$"

county_origins = Table(
    "county_origins",
    shared_metadata,
    Column(
        "county_code",
        ForeignKey("shared.tenants.code", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("origin", Text, primary_key=True, comment="Scheme, host and port, as browsers send it"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"origin ~ '{ORIGIN_PATTERN}'", name="origin_format"),
    comment="Web origins of a county's own frontends, allowed to call the API from a browser.",
)


_FORM = "应为 https://域名[:端口]，开发时可用 http://localhost[:端口]，不含路径和通配符"


class InvalidOrigin(InvalidInput):
    code = "INVALID_ORIGIN"
    message = f"来源格式不对：{_FORM}"


class TooManyOrigins(InvalidInput):
    code = "TOO_MANY_ORIGINS"
    message = f"最多登记 {MAX_ORIGINS} 个来源"


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _host(hostname: str) -> str | None:
    """The host as browsers send it (punycode, lower case, an IPv6 address in brackets), or
    None if it is no host name."""
    try:
        ip = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    try:
        ascii_host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        return None
    return ascii_host


def normalise_origin(value: str) -> str:
    """`value` as a browser's `Origin` header would say it, or `InvalidOrigin`."""
    text = value.strip()
    invalid = InvalidOrigin(f"「{text[:100]}」不是可登记的来源：{_FORM}")
    if "*" in text or any(c.isspace() for c in text):
        raise invalid
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:
        raise invalid from None
    scheme = parts.scheme.lower()
    if (
        parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
        or not parts.hostname
    ):
        raise invalid
    if scheme == "http" and parts.hostname == "localhost":
        host: str | None = "localhost"
    elif scheme == "https":
        host = _host(parts.hostname)
    else:
        host = None
    if host is None or port == 0:
        raise invalid
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def check_origins(values: Sequence[str]) -> tuple[list[str], list[InvalidInput]]:
    """The origins normalised, without repeats (in the order given), and what is wrong with
    them: each invalid one, or too many."""
    if len(values) > MAX_ORIGINS:
        return [], [TooManyOrigins(f"最多登记 {MAX_ORIGINS} 个来源，收到 {len(values)} 个")]
    origins: list[str] = []
    errors: list[InvalidInput] = []
    for value in values:
        try:
            origin = normalise_origin(value)
        except InvalidOrigin as exc:
            errors.append(exc)
            continue
        if origin not in origins:
            origins.append(origin)
    return origins, errors


# --- the SQL ------------------------------------------------------------------------------


def replace_origins(conn: Connection, county_code: str, origins: Iterable[str]) -> list[str]:
    """The county's origins become exactly `origins` (already normalised): the ones before."""
    before = (
        conn.execute(
            delete(county_origins)
            .where(county_origins.c.county_code == county_code)
            .returning(county_origins.c.origin)
        )
        .scalars()
        .all()
    )
    rows = [{"county_code": county_code, "origin": o} for o in origins]
    if rows:
        conn.execute(insert(county_origins), rows)
    return sorted(before)


ALL_ORIGINS = select(county_origins.c.county_code, county_origins.c.origin)


def origins_of(county_code: str) -> Select[tuple[str]]:
    """The statement that reads one county's origins (in alphabetical order)."""
    return (
        select(county_origins.c.origin)
        .where(county_origins.c.county_code == county_code)
        .order_by(county_origins.c.origin)
    )
