"""What every resolver receives: the request, the app's services, the caller, the county and
the loaders.

A new `Context` (and with it new DataLoaders, whose caches live one request) is made per
request. There is no shared `AsyncSession` on it: graphql-core resolves sibling fields
concurrently, so each resolver or loader batch opens its own short county transaction with
`session()`.

Authorization goes through three methods, all answered by the one Casbin policy:
`require(res, act, target=...)` for one object, `may(...)` when a field should be hidden
rather than fail, and `list_scope(res, act)` for the WHERE clause of a list.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from authz.enforcer import Authorizer, ListScope
from authz.principal import Principal, PrincipalKind, Scope
from domain.accounts.senders import CodeSender
from domain.archive import Event, archives_async
from domain.audit.service import county_entries
from migrations.runner import Migrator
from redscarf.authentication import Authenticator
from redscarf.errors import Forbidden, RedscarfError, Unauthenticated
from redscarf.keys import Keys
from redscarf.live import LiveHub
from redscarf.settings import Settings
from resolvers.ledger import Balance, Entry, HistoryKey, balances, histories
from resolvers.org import CountyStats, OrgLoaders, county_stats, make_org_loaders
from resolvers.paging import Fetched
from schema.ids import decode_global_id
from tenants.routing import CountyRoute, county_route, resolve_tenant
from tenants.sessions import Tenant, TenantDirectory, tenant_session

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


def resolved(loader: DataLoader[K, V], key: K, then: Callable[[V], T]) -> T | Awaitable[T]:
    """`then` of the key's value: at once when the request's loader has the value already,
    else an awaitable of it. A field whose resolver is a plain function returning this costs
    graphql-core no asyncio task when the value is there (an `async` resolver costs one per
    row of a page: 50 on a roster page for each such field)."""
    future = loader.cache_map.get(key) if loader.cache else None
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return then(future.result())
    loading = loader.load(key)  # now, so that it joins this tick's batch

    async def later() -> T:
        return then(await loading)

    return later()


@dataclass(frozen=True)
class Services:
    """Long-lived objects made once by the app's lifespan."""

    settings: Settings
    engine: AsyncEngine
    directory: TenantDirectory
    sync_engine: Engine
    """For work that runs in a worker thread (provisioning runs Alembic, which is sync;
    password hashing is CPU-bound)."""
    migrator: Migrator
    shared_head: str
    provisioning_lock: anyio.Lock
    keys: Keys
    authenticator: Authenticator
    authorizer: Authorizer
    code_sender: CodeSender
    live: LiveHub
    """Which committed changes the process's subscriptions wait on."""


@dataclass
class Context:
    request: Request | WebSocket
    """The HTTP request, or the WebSocket of a subscriber's connection (one context serves
    every operation of that connection; see `forget`)."""
    response: Response | WebSocket
    services: Services
    connection_params: dict[str, Any] | None = None
    """A WebSocket's `connection_init` payload (set by strawberry): the subscriber's
    credentials and county, as the headers of a request would carry them."""
    following: int = field(default=0, init=False)
    """Subscriptions running on this WebSocket (see `resolvers.live`)."""
    org: OrgLoaders = field(init=False)
    county_stats: DataLoader[str, CountyStats] = field(init=False)
    reveals: DataLoader[tuple[str, int, str], bool] = field(init=False)
    """Audit entries of unmasked reads: one INSERT for all a response reveals."""
    points: DataLoader[int, Balance] = field(init=False)
    """Pupils' points balances, by pupil id (one query for a roster page)."""
    points_history: DataLoader[HistoryKey, Fetched[Entry]] = field(init=False)
    archives: DataLoader[int, list[Event]] = field(init=False)
    """Pupils' growth archives, by pupil id."""
    badge_awards: DataLoader[int, list[Any]] = field(init=False)
    unit_badges: DataLoader[int, list[Any]] = field(init=False)
    """Units' collective awards, by unit id (`Unit.badges`)."""
    """Pupils' badge awards, by pupil id (`Pupil.badges`)."""
    activities: DataLoader[int, Any] = field(init=False)
    """Activities the caller may see, by id (None for the rest)."""
    activity_signups: DataLoader[int, list[Any]] = field(init=False)
    """Pupils' activity sign-ups, by pupil id (`Pupil.activitySignups`)."""
    redemptions: DataLoader[int, list[Any]] = field(init=False)
    """Pupils' redemptions, by pupil id (`Pupil.redemptions`)."""
    task_submissions: DataLoader[int, list[Any]] = field(init=False)
    """Pupils' task submissions, by pupil id (`Pupil.taskSubmissions`)."""
    visible_pupils: DataLoader[int, Any] = field(init=False)
    """Pupils the caller sees, by id (None for the rest): for lists that point at pupils."""
    care_rows: DataLoader[tuple[str, int], list[Any]] = field(init=False)
    """A care record's carers, aid or visits, by ("carers" | "aid" | "visits", record id)."""
    _loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict, init=False)
    _tenant: Tenant | None = field(default=None, init=False)
    _principal: Principal | None = field(default=None, init=False)
    _lock: anyio.Lock = field(default_factory=anyio.Lock, init=False)

    def __post_init__(self) -> None:
        self.org = make_org_loaders(self.session)

        async def stats(codes: list[str]) -> list[CountyStats]:
            results = []
            for code in codes:
                async with self.county_session(code) as session:
                    results.append(await county_stats(session))
            return results

        self.county_stats = DataLoader(load_fn=stats)

        async def reveal(keys: list[tuple[str, int, str]]) -> list[bool]:
            principal = await self.principal()
            objects = [{"object_type": t, "object_id": i, "fields": [f]} for t, i, f in keys]
            async with self.session() as session:
                await session.execute(county_entries(principal, "reveal", objects))
            return [True] * len(keys)

        self.reveals = DataLoader(load_fn=reveal)

        async def load_balances(ids: list[int]) -> list[Balance]:
            async with self.session() as session:
                return await balances(session, ids)

        async def load_histories(keys: list[HistoryKey]) -> list[Fetched[Entry]]:
            async with self.session() as session:
                return await histories(session, keys)

        async def load_awards(ids: list[int]) -> list[list[Any]]:
            from resolvers.badges import pupil_awards  # it imports this module

            return await pupil_awards(self, ids)

        self.badge_awards = DataLoader(load_fn=load_awards)

        async def load_unit_awards(ids: list[int]) -> list[list[Any]]:
            from resolvers.badges import unit_awards  # it imports this module

            return await unit_awards(self, ids)

        self.unit_badges = DataLoader(load_fn=load_unit_awards)

        async def load_activities(ids: list[int]) -> list[Any]:
            from resolvers.activities import activities_by_id  # it imports this module

            return await activities_by_id(self, ids)

        async def load_signups(ids: list[int]) -> list[list[Any]]:
            from resolvers.activities import signups_of_pupils  # it imports this module

            return await signups_of_pupils(self, ids)

        async def load_pupils(ids: list[int]) -> list[Any]:
            from resolvers.people import pupils_by_ids

            principal = await self.principal()
            user_id = principal.id if principal.kind == PrincipalKind.USER else None
            async with self.session() as session:
                found = await pupils_by_ids(
                    session, await self.list_scope("pupil", "read"), ids, user_id=user_id
                )
            return [found.get(pk) for pk in ids]

        async def load_redemptions(ids: list[int]) -> list[list[Any]]:
            from resolvers.exchange import redemptions_of_pupils  # it imports this module

            return await redemptions_of_pupils(self, ids)

        self.redemptions = DataLoader(load_fn=load_redemptions)

        async def load_submissions(ids: list[int]) -> list[list[Any]]:
            from resolvers.tasks import submissions_of_pupils  # it imports this module

            return await submissions_of_pupils(self, ids)

        self.task_submissions = DataLoader(load_fn=load_submissions)

        async def load_care_rows(keys: list[tuple[str, int]]) -> list[list[Any]]:
            from resolvers.care import care_rows  # it imports this module

            async with self.session() as session:
                return await care_rows(session, keys)

        self.care_rows = DataLoader(load_fn=load_care_rows)
        self.activities = DataLoader(load_fn=load_activities)
        self.activity_signups = DataLoader(load_fn=load_signups)
        self.visible_pupils = DataLoader(load_fn=load_pupils)

        async def load_archives(ids: list[int]) -> list[list[Event]]:
            async with self.session() as session:
                return await archives_async(session, ids)

        self.archives = DataLoader(load_fn=load_archives)
        self.points = DataLoader(load_fn=load_balances)
        self.points_history = DataLoader(load_fn=load_histories)

    # --- who and where -----------------------------------------------------------------------

    async def principal(self) -> Principal:
        """The caller (anonymous when no credentials were sent), authenticated once."""
        # Checked before the lock as well: taking an anyio lock yields to the event loop, and
        # a yield between sibling fields' loads would split their DataLoader batches.
        if self._principal is not None:
            return self._principal
        async with self._lock:  # sibling fields ask at once: authenticate only once
            if self._principal is None:
                client = self.request.client.host if self.request.client else None
                self._principal = await self.services.authenticator.authenticate(
                    self.headers, client
                )
        return self._principal

    async def authenticate_early(self) -> None:
        """Authenticate now if credentials were sent (an error is raised again when a field
        needs the caller), so that validation errors know whether the caller signed in."""
        if {"authorization", "x-api-key"} & set(self.headers.keys()):
            with contextlib.suppress(RedscarfError):
                await self.principal()

    @property
    def headers(self) -> Headers:
        """The request's headers; a subscriber's are those of its `connection_init` payload
        (a browser cannot set headers on a WebSocket), over those of its handshake."""
        if not self.connection_params:
            return self.request.headers
        given = {k.lower(): v for k, v in self.connection_params.items() if isinstance(v, str)}
        handshake = [(k, v) for k, v in self.request.headers.items() if k not in given]
        return Headers(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in
                            [*handshake, *given.items()] if v.isascii()])  # fmt: skip

    async def reauthenticate(self) -> Principal:
        """Authenticate again (a subscriber's session may have ended, or its roles changed)."""
        async with self._lock:
            self._principal = None
        self._tenant = None
        return await self.principal()

    def forget(self) -> None:
        """Empty every DataLoader's cache: a subscription reads afresh at each change."""
        for loader in (*vars(self).values(), *vars(self.org).values(), *self._loaders.values()):
            if isinstance(loader, DataLoader):
                loader.clear_all()

    def loader(
        self, name: str, load: Callable[[list[Any]], Awaitable[list[Any]]]
    ) -> DataLoader[Any, Any]:
        """The request's DataLoader called `name`, made with `load` the first time it is asked
        for: for a resolver module's own batches (its keys may say which page, which filter)."""
        found = self._loaders.get(name)
        if found is None:
            found = self._loaders[name] = DataLoader(load_fn=load)
        return found

    @property
    def signed_in(self) -> bool:
        return self._principal is not None and self._principal.authenticated

    async def user(self) -> Principal:
        """The caller, who must be signed in."""
        principal = await self.principal()
        if not principal.authenticated:
            raise Unauthenticated()
        return principal

    async def tenant(self) -> Tenant:
        """The county this request is routed to (see `tenants.routing`), looked up once."""
        if self._tenant is None:
            self._tenant = await resolve_tenant(
                county_route(self.request), self.services.directory, await self.principal()
            )
        return self._tenant

    async def county(self, code: str) -> Tenant:
        """A county named by code (the routed one, or another the caller reaches); the
        directory caches lookups, so asking again costs no query."""
        return await resolve_tenant(
            CountyRoute(code=code), self.services.directory, await self.principal()
        )

    async def scopes(self, county: Tenant | None = None) -> tuple[Scope, ...]:
        """The caller's roles inside the routed county (or `county`)."""
        tenant = county or await self.tenant()
        principal = await self.principal()
        return principal.scopes_in(tenant.code, tenant.province_code, tenant.prefecture_code)

    async def may(
        self, res: str, act: str, target: str = "", rels: str = "", *, county: Tenant | None = None
    ) -> bool:
        return self.services.authorizer.allowed(await self.scopes(county), res, act, target, rels)

    async def may_above_counties(self, res: str, act: str, target: str = "") -> bool:
        """A decision above any one county (onboarding, a region's statistics, operations),
        by the caller's roles that name no county."""
        principal = await self.user()
        return self.services.authorizer.allowed(
            principal.scopes_outside_counties(), res, act, target
        )

    async def require(self, res: str, act: str, target: str = "", rels: str = "") -> None:
        if not await self.may(res, act, target, rels):
            raise Forbidden()

    async def list_scope(self, res: str, act: str) -> ListScope:
        return self.services.authorizer.list_scope(await self.scopes(), res, act)

    async def own_id(self, type_name: str, global_id: str) -> int | None:
        """The row id of a global ID naming an object of `type_name` in the routed county;
        None for an object of another county (which must look exactly like a missing one)."""
        found_type, county, pk = decode_global_id(global_id)
        if found_type != type_name or county != (await self.tenant()).code:
            return None
        return pk

    # --- database ----------------------------------------------------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short transaction of the request's county, as the county's role."""
        tenant = await self.tenant()
        async with tenant_session(self.services.engine, tenant) as session:
            yield session

    @asynccontextmanager
    async def county_session(self, code: str) -> AsyncIterator[AsyncSession]:
        """A short transaction of a county named by code, which the caller must reach."""
        async with tenant_session(self.services.engine, await self.county(code)) as session:
            yield session

    async def in_shared_transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in a transaction of the shared schema, in a worker thread
        (account work hashes passwords: CPU that must not hold up the event loop).

        An error with `keeps_changes` (a failed sign-in) still commits what was recorded.
        """

        def run() -> T:
            with self.services.sync_engine.connect() as conn:
                try:
                    result = work(conn)
                except RedscarfError as exc:
                    if exc.keeps_changes:
                        conn.commit()
                    raise
                conn.commit()
                return result

        return await anyio.to_thread.run_sync(run)

    @property
    def client(self) -> str:
        return self.request.headers.get("user-agent", "")[:200]
