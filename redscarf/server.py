"""`redscarf serve`: migrate the shared schema, optionally build demo data, run uvicorn."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import uvicorn
from rich.console import Console
from sqlalchemy import Engine, func, select

from migrations.runner import Migrator
from redscarf.app import create_app
from redscarf.database import libpq_url, make_engine, resolve_database_url
from redscarf.settings import Settings
from tenants.registry import TenantStatus, tenants

console = Console(stderr=True)


def _county_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tenants)).scalar_one())


def _active_counties(engine: Engine, limit: int = 20) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(tenants.c.code, tenants.c.name)
            .where(tenants.c.status == TenantStatus.ACTIVE)
            .order_by(tenants.c.code)
            .limit(limit)
        ).all()
    return [(r.code, r.name) for r in rows]


def _worker(settings: Settings) -> AbstractContextManager[Any]:
    # Imported only for --demo: a plain `serve` leaves jobs to `redscarf worker`.
    from workers.main import in_process_worker

    return in_process_worker(settings)


def _demo_accounts(
    engine: Engine, settings: Settings, counties: list[tuple[str, str]]
) -> list[Any]:
    from domain.demo.accounts import demo_accounts
    from redscarf.keys import load_keys

    return demo_accounts(engine, load_keys(settings), settings, counties)


def serve(settings: Settings, *, host: str, port: int, demo: bool) -> None:
    url = resolve_database_url(settings)
    # Resolve once (the embedded server may have been started just now); the app, the worker
    # and this function then all talk to the same server without starting it again.
    settings = settings.model_copy(update={"database_url": libpq_url(url)})
    engine = make_engine(url, settings, pool_size=1, max_overflow=1)
    try:
        with engine.begin() as conn:
            Migrator().upgrade_shared(conn)
        if demo and _county_count(engine) == 0:
            from domain.demo import build_demo

            console.print("还没有县（区），正在生成演示数据…")
            summary = build_demo(engine, Migrator(), pupils=2000, counties=2, seed=1)
            console.print(str(summary))
        counties = _active_counties(engine)
        accounts = _demo_accounts(engine, settings, counties) if demo else []
    finally:
        engine.dispose()

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    console.print(f"工作台（浏览器打开）：http://{shown_host}:{port}/console/")
    console.print(f"GraphQL（浏览器打开即为 GraphiQL）：http://{shown_host}:{port}/graphql")
    if counties:
        console.print("县（区）代码（可访问多个县的账号用请求头 X-County 指明）：")
        for code, name in counties:
            console.print(f"  X-County: {code}  {name}")
    if accounts:
        from domain.demo.accounts import PASSWORD

        console.print(
            f"演示账号（密码 {PASSWORD}；管理员登录还需动态口令）。在 GraphiQL 的 Headers 中填"
            ' {"Authorization": "Bearer <令牌>"} 即可直接使用，令牌 12 小时有效'
            "（或 `redscarf token --username <用户名>` 重新签发）："
        )
        for account in accounts:
            console.print(f"  {account.username}  {account.label}")
            # Never folded at the terminal's width: a token is copied whole.
            console.print(f"    {account.token}", soft_wrap=True)
    if not counties:
        console.print(
            "尚无县（区）：用 `redscarf county create` 开通，或 `redscarf serve --demo`。"
        )

    served: dict[str, Any] = {"host": host, "port": port, "log_level": "info",
                              "ws": "websockets-sansio"}  # live updates (`websockets` is a dependency)  # fmt: skip
    with _worker(settings) if demo else nullcontext():
        if settings.workers == 1:
            uvicorn.run(create_app(settings, freeze_gc=True), **served)
        else:
            # Each process builds its app from the environment: the database resolved here
            # (an embedded server started by this process) goes there.
            os.environ["DATABASE_URL"] = settings.database_url or ""
            uvicorn.run("redscarf.app:served_app", factory=True, workers=settings.workers,
                        **served)  # fmt: skip
