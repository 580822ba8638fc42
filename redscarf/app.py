"""The starlette application: `/graphql`, `/healthz`, `/readyz`, and the tenant routing.

Its lifespan makes the long-lived objects (engines, the county directory, Alembic's scripts)
once and keeps them on `app.state.services`; each GraphQL request gets a fresh `Context`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.types.unset import UnsetType

from authz.enforcer import authorizer
from domain.accounts.senders import sender_for
from migrations.runner import Migrator
from redscarf.authentication import Authenticator
from redscarf.console import console_routes
from redscarf.cors import GRAPHQL_CONTEXT, CountyCorsMiddleware, OriginDirectory
from redscarf.credentials import award_credential
from redscarf.credentials import issuer as credential_issuer
from redscarf.credentials import keys as credential_keys
from redscarf.credentials import revocations as credential_revocations
from redscarf.database import make_async_engine, make_engine, resolve_database_url
from redscarf.downloads import archive_export, archives_download, pupil_export, template
from redscarf.errors import DatabaseUnavailable, RedscarfError
from redscarf.http_guard import GraphQLGuard, GraphQLOverHTTP
from redscarf.keys import load_keys
from redscarf.live import LiveHub
from redscarf.settings import Settings, get_settings
from redscarf.stats_downloads import region_export, report_export, statistics_export
from redscarf.subscribers import accept_subscriber
from redscarf.uploads import report, upload
from schema import schema
from schema.context import Context, Services
from tenants.routing import TenantRoutingMiddleware
from tenants.sessions import TenantDirectory

READY_TIMEOUT_S = 5.0
GZIP_MIN_BYTES = 1024


class SchemaOutdated(RedscarfError):
    code = "DATABASE_NOT_MIGRATED"
    message = "数据库尚未迁移到本版本，请运行 `redscarf db upgrade`"


class GraphQLApp(GraphQLOverHTTP[Context]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:  # type: ignore[override]
        context = Context(request=request, response=response, services=request.app.state.services)
        if isinstance(request, WebSocket):
            return context  # its caller is known from `connection_init` (`on_ws_connect`)
        await context.authenticate_early()
        setattr(request.state, GRAPHQL_CONTEXT, context)  # CORS asks it for the caller
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | UnsetType:  # type: ignore[override]
        return await accept_subscriber(context)


async def healthz(request: Request) -> Response:
    """The process is alive (no database involved: a down database must not restart us)."""
    return JSONResponse({"status": "ok"})


def _unready(error: RedscarfError) -> Response:
    return JSONResponse(
        {"status": "unavailable", "code": error.code, "message": error.message}, status_code=503
    )


async def readyz(request: Request) -> Response:
    """Ready to serve: the database answers and the shared schema is at this code's head."""
    services: Services = request.app.state.services
    try:
        with anyio.fail_after(READY_TIMEOUT_S):
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                has_table = await conn.scalar(
                    text("SELECT to_regclass('shared.alembic_version') IS NOT NULL")
                )
                version = (
                    await conn.scalar(text("SELECT version_num FROM shared.alembic_version"))
                    if has_table
                    else None
                )
    except (DBAPIError, OSError, TimeoutError):
        return _unready(DatabaseUnavailable())
    if version != services.shared_head:
        return _unready(SchemaOutdated())
    return JSONResponse({"status": "ready", "sharedSchema": version})


def served_app() -> Starlette:
    """The app of each process of `redscarf serve --workers N`, its settings from the
    environment (the parent puts the resolved database there)."""
    return create_app(get_settings(), freeze_gc=True)


def create_app(
    settings: Settings, *, async_engine: AsyncEngine | None = None, freeze_gc: bool = False
) -> Starlette:
    """The app. `freeze_gc` (the served app): once started, the ~150,000 objects of the schema,
    the policy and the engines are moved out of the garbage collector's sight (`gc.freeze`),
    so that its full passes stop scanning them; measured, they paused about 1 request in 50
    for ~90 ms before (docs/benchmarks.md)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if async_engine is None:
            # May start the embedded server: blocking work, kept off the event loop.
            url = await anyio.to_thread.run_sync(resolve_database_url, settings)
            engine = make_async_engine(url, settings)
        else:
            engine = async_engine
        sync_engine = make_engine(engine.url, settings)
        migrator = await anyio.to_thread.run_sync(Migrator)
        keys = await anyio.to_thread.run_sync(load_keys, settings)
        app.state.services = Services(
            settings=settings,
            engine=engine,
            directory=TenantDirectory(engine),
            sync_engine=sync_engine,
            migrator=migrator,
            shared_head=migrator.head("shared"),
            provisioning_lock=anyio.Lock(),
            keys=keys,
            authenticator=Authenticator(settings, keys, engine),
            authorizer=authorizer(),
            code_sender=sender_for(settings.login_code_sender),
            live=LiveHub(engine.url),
        )
        app.state.origins = OriginDirectory(engine)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await app.state.services.live.close()
            sync_engine.dispose()
            if async_engine is None:
                await engine.dispose()

    graphql = GraphQLApp(
        schema, graphql_ide="graphiql", request_timeout_s=settings.request_timeout_s
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/templates/{kind}.xlsx", template),
            Route("/exports/archive.{fmt}", archive_export),
            Route("/exports/archives/{id}.zip", archives_download),
            Route("/credentials/keys", credential_keys),
            Route("/credentials/{county}/issuer", credential_issuer),
            Route("/credentials/{county}/revocations", credential_revocations),
            Route("/credentials/{id}.{fmt}", award_credential),
            Route("/uploads", upload, methods=["POST"]),
            Route("/imports/{id}/report.xlsx", report),
            Route("/exports/pupils.xlsx", pupil_export),
            Route("/exports/statistics.xlsx", statistics_export),
            Route("/exports/region-statistics.xlsx", region_export),
            Route("/exports/report.{fmt}", report_export),
            Route("/readyz", readyz),
            *console_routes(),
        ],
        # Outermost first: compress what goes out, answer CORS, guard /graphql, then route.
        middleware=[
            Middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6),
            Middleware(CountyCorsMiddleware),
            Middleware(GraphQLGuard, settings=settings),
            Middleware(TenantRoutingMiddleware),
        ],
        lifespan=lifespan,
    )
