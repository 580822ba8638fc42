"""What every resolver receives: the request, the app's services, the county and the loaders.

A new `Context` (and with it new DataLoaders, whose caches live one request) is made per
request. There is no shared `AsyncSession` on it: graphql-core resolves sibling fields
concurrently, so each resolver or loader batch opens its own short county transaction with
`session()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from migrations.runner import Migrator
from redscarf.settings import Settings
from resolvers.org import CountyStats, OrgLoaders, county_stats, make_org_loaders
from tenants.routing import CountyRoute, county_route, resolve_tenant
from tenants.sessions import Tenant, TenantDirectory, tenant_session


@dataclass(frozen=True)
class Services:
    """Long-lived objects made once by the app's lifespan."""

    settings: Settings
    engine: AsyncEngine
    directory: TenantDirectory
    sync_engine: Engine
    """For work that runs in a worker thread (provisioning runs Alembic, which is sync)."""
    migrator: Migrator
    shared_head: str
    provisioning_lock: anyio.Lock


@dataclass
class Context:
    request: Request
    response: Response
    services: Services
    org: OrgLoaders = field(init=False)
    county_stats: DataLoader[str, CountyStats] = field(init=False)
    _tenant: Tenant | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.org = make_org_loaders(self.session)

        async def stats(codes: list[str]) -> list[CountyStats]:
            results = []
            for code in codes:
                async with self.county_session(code) as session:
                    results.append(await county_stats(session))
            return results

        self.county_stats = DataLoader(load_fn=stats)

    async def tenant(self) -> Tenant:
        """The county this request is routed to (see `tenants.routing`), looked up once."""
        if self._tenant is None:
            self._tenant = await resolve_tenant(county_route(self.request), self.services.directory)
        return self._tenant

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short transaction of the request's county, as the county's role."""
        tenant = await self.tenant()
        async with tenant_session(self.services.engine, tenant) as session:
            yield session

    @asynccontextmanager
    async def county_session(self, code: str) -> AsyncIterator[AsyncSession]:
        """A transaction of a county named by code (the routed one or, for operators, another)."""
        if county_route(self.request).code == code:
            tenant = await self.tenant()
        else:
            tenant = await resolve_tenant(CountyRoute(code=code), self.services.directory)
        async with tenant_session(self.services.engine, tenant) as session:
            yield session
