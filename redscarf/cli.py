"""The `redscarf` command line."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Connection, Engine, select

from redscarf.database import connected, make_engine, resolve_database_url
from redscarf.errors import RedscarfError
from redscarf.settings import get_settings

app = typer.Typer(
    help="redscarf: 少先队县级工作平台（多租户 GraphQL 服务）。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
county_app = typer.Typer(help="县（区）租户：开通、归档、导出与恢复。", no_args_is_help=True)
prefecture_app = typer.Typer(help="地市（可选层级）。", no_args_is_help=True)
db_app = typer.Typer(help="数据库：迁移共享库与所有县（区）库。", no_args_is_help=True)
app.add_typer(county_app, name="county")
app.add_typer(prefecture_app, name="prefecture")
app.add_typer(db_app, name="db")
audit_app = typer.Typer(help="审计日志。", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
imports_app = typer.Typer(help="名册导入。", no_args_is_help=True)
app.add_typer(imports_app, name="imports")
ledger_app = typer.Typer(help="积分账本。", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
exchange_app = typer.Typer(help="积分兑换。", no_args_is_help=True)
app.add_typer(exchange_app, name="exchange")
pairing_app = typer.Typer(help="结对共建。", no_args_is_help=True)
app.add_typer(pairing_app, name="pairing")
stats_app = typer.Typer(help="统计汇总。", no_args_is_help=True)
app.add_typer(stats_app, name="stats")
user_app = typer.Typer(help="账号：运维与开发用（日常请用邀请）。", no_args_is_help=True)
app.add_typer(user_app, name="user")

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Errors a user can cause end the command with their message, code and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:  # the environment's settings do not hold
            problems = "；".join(
                f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            err_console.print(
                f"[red]配置有误[/red]：{problems}  [dim](INVALID_CONFIGURATION)[/dim]"
            )
            raise typer.Exit(1) from None
        except RedscarfError as exc:
            err_console.print(f"[red]错误[/red]：{exc.message}  [dim]({exc.code})[/dim]")
            detail = exc.details.get("detail")
            if detail:
                err_console.print(f"[dim]{detail}[/dim]")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def engine() -> Iterator[Engine]:
    settings = get_settings()
    eng = make_engine(resolve_database_url(settings), settings, pool_size=2)
    try:
        with connected(eng):  # an unreachable server is the operator's error, not a traceback
            pass
        yield eng
    finally:
        eng.dispose()


def _upgrade_everything(progress_label: str = "迁移县（区）库") -> bool:
    from migrations.runner import upgrade_all

    settings = get_settings()
    url = resolve_database_url(settings)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(progress_label, total=None)

        def started(n: int) -> None:
            progress.update(task, total=n)

        def advanced(schema: str, error: str | None) -> None:
            progress.advance(task)
            if error:
                progress.console.print(f"[red]失败[/red] {schema}: {error.splitlines()[0]}")

        report = upgrade_all(
            url, processes=settings.migration_processes, on_start=started, on_progress=advanced
        )
    console.print(
        f"共享库 {report.shared_version}；县（区）库 {report.total} 个，"
        f"已是最新 {report.already_at_head}，本次升级 {len(report.upgraded)}，"
        f"失败 {len(report.failed)}（目标版本 {report.head}）"
    )
    for schema, error in sorted(report.failed.items()):
        err_console.print(f"[red]{schema}[/red]: {error}")
    return report.ok


@db_app.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """把共享库和每个县（区）库迁移到最新版本；失败的县会被报告，其他县继续；再次运行会续上。"""
    if not _upgrade_everything():
        err_console.print("部分县（区）迁移失败，修复后再次运行 `redscarf db upgrade` 即可续上。")
        raise typer.Exit(1)


def _migrator() -> Any:
    from migrations.runner import Migrator

    return Migrator()


def _ensure_shared(eng: Engine) -> None:
    from migrations.runner import Migrator

    with eng.begin() as conn:
        Migrator().upgrade_shared(conn)


@county_app.command("create")
@friendly_errors
def county_create(
    code: Annotated[str, typer.Argument(help="县级行政区划代码（6 位），如 469034")],
    name: Annotated[str, typer.Option("--name", help="名称，如 陵水黎族自治县")],
    province: Annotated[str, typer.Option("--province", help="省级代码（2 位），如 46")],
    prefecture: Annotated[
        str | None, typer.Option("--prefecture", help="地市代码（4 位，可选），如 3304")
    ] = None,
) -> None:
    """开通一个县（区）：建库（schema）、建角色、迁移、预置全国奖章体系。重复执行无副作用。"""
    from tenants.provisioning import create_county

    with engine() as eng:
        _ensure_shared(eng)
        result = create_county(eng, _migrator(), code, name, province, prefecture)
    c = result.county
    verb = "已开通" if result.created else "已存在（未作更改）"
    console.print(f"{c.name}（{c.code}）{verb}：schema {c.schema_name}，版本 {c.schema_version}")


@county_app.command("list")
@friendly_errors
def county_list() -> None:
    """列出所有县（区）租户及其状态和库版本。"""
    from tenants.registry import tenants

    with engine() as eng:
        _ensure_shared(eng)
        with eng.connect() as conn:
            rows = conn.execute(select(tenants).order_by(tenants.c.code)).all()
    table = Table("代码", "名称", "省", "市", "状态", "库版本", "迁移错误")
    for r in rows:
        table.add_row(
            r.code,
            r.name,
            r.province_code,
            r.prefecture_code or "",
            str(r.status),
            r.schema_version or "",
            (r.migration_error or "")[:60],
        )
    console.print(table)


@county_app.command("archive")
@friendly_errors
def county_archive(code: Annotated[str, typer.Argument(help="县级行政区划代码")]) -> None:
    """归档一个县（区）：数据保留，所有请求被拒绝。"""
    from tenants.provisioning import set_archived

    with engine() as eng:
        c = set_archived(eng, code, archived=True)
    console.print(f"{c.name}（{c.code}）已归档")


@county_app.command("unarchive")
@friendly_errors
def county_unarchive(code: Annotated[str, typer.Argument(help="县级行政区划代码")]) -> None:
    """恢复一个已归档的县（区）。"""
    from tenants.provisioning import set_archived

    with engine() as eng:
        c = set_archived(eng, code, archived=False)
    console.print(f"{c.name}（{c.code}）已恢复使用")


@county_app.command("export")
@friendly_errors
def county_export(
    code: Annotated[str, typer.Argument(help="县级行政区划代码")],
    output: Annotated[Path, typer.Option("--output", "-o", help="导出文件（.tar）")],
) -> None:
    """导出一个县（区）的全部数据（登记信息 + 该县 schema 的 pg_dump）。"""
    from tenants.provisioning import export_county

    with engine() as eng:
        path = export_county(eng, code, output)
    console.print(f"已导出到 {path}")


@county_app.command("restore")
@friendly_errors
def county_restore(
    archive: Annotated[Path, typer.Argument(help="`county export` 生成的文件")],
    replace: Annotated[bool, typer.Option("--replace", help="覆盖已存在的同一县")] = False,
) -> None:
    """从导出文件恢复一个县（区），并迁移到最新版本。"""
    from tenants.provisioning import restore_county

    with engine() as eng:
        _ensure_shared(eng)
        c = restore_county(eng, _migrator(), archive, replace=replace)
    console.print(f"{c.name}（{c.code}）已恢复，库版本 {c.schema_version}")


@prefecture_app.command("create")
@friendly_errors
def prefecture_create(
    code: Annotated[str, typer.Argument(help="地市代码（4 位），如 3304")],
    name: Annotated[str, typer.Option("--name", help="名称，如 嘉兴市")],
    province: Annotated[str, typer.Option("--province", help="省级代码（2 位）")],
) -> None:
    """登记一个地市（团市委 / 市少工委所在层级）。"""
    from tenants.provisioning import create_prefecture

    with engine() as eng:
        _ensure_shared(eng)
        created = create_prefecture(eng, code, name, province)
    console.print(f"地市 {name}（{code}）{'已登记' if created else '已存在'}")


@user_app.command("create")
@friendly_errors
def user_create(
    username: Annotated[str, typer.Option("--username", help="用户名（小写字母、数字）")],
    name: Annotated[str, typer.Option("--name", help="姓名")],
    role: Annotated[str, typer.Option("--role", help="角色，如 county_admin、province_admin")],
    scope: Annotated[
        str, typer.Option("--scope", help="范围：县内单位路径（全县为 c），或省、地市代码")
    ] = "c",
    county: Annotated[
        str | None, typer.Option("--county", help="县级行政区划代码（省级、地市级角色不填）")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="密码；不填则交互输入", envvar="REDSCARF_NEW_PASSWORD"),
    ] = None,
) -> None:
    """新建一个账号并授予角色（如开通后的第一位县级管理员）。"""
    from authz.roles import Role
    from domain.accounts.service import create_user, grant_role
    from redscarf.errors import InvalidInput
    from redscarf.keys import load_keys

    try:
        chosen = Role(role)
    except ValueError:
        raise InvalidInput(f"没有这个角色：{role}", code="INVALID_ROLE") from None
    if password is None:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    keys = load_keys(get_settings())
    with engine() as eng, eng.begin() as conn:
        user_id = create_user(
            conn, keys.cipher, display_name=name, username=username, password=password
        )
        grant_role(conn, user_id, chosen, county, scope, granted_by=None)
    console.print(
        f"已创建账号 {username}（{name}），角色 {chosen.value}，范围 {county or ''} {scope}"
    )


@app.command("token")
@friendly_errors
def token(
    username: Annotated[str, typer.Option("--username", help="用户名")],
    minutes: Annotated[int, typer.Option(help="有效分钟数")] = 60,
) -> None:
    """（开发用）直接为一个账号签发访问令牌，跳过密码和动态口令；只打印令牌本身。"""
    from domain.accounts.service import start_session
    from domain.accounts.tables import users
    from redscarf.errors import NotFound
    from redscarf.keys import load_keys

    settings = get_settings().model_copy(update={"access_token_minutes": minutes})
    keys = load_keys(settings)
    with engine() as eng, eng.begin() as conn:
        user_id = conn.execute(
            select(users.c.id).where(users.c.username == username.strip().lower())
        ).scalar()
        if user_id is None:
            raise NotFound(f"没有用户名为 {username} 的账号", code="USER_NOT_FOUND")
        tokens = start_session(conn, keys, settings, user_id, mfa=True, client="redscarf token")
    print(tokens.access_token)


@audit_app.command("purge")
@friendly_errors
def audit_purge() -> None:
    """删除超过保留期（REDSCARF_AUDIT_RETENTION_DAYS，至少 180 天）的审计日志；可每天定时运行。"""
    from domain.audit.service import purge_older_than
    from tenants.metadata import SHARED
    from tenants.registry import tenants

    days = get_settings().audit_retention_days
    with engine() as eng:
        with eng.connect() as conn:
            schemas = [SHARED, *conn.execute(select(tenants.c.schema_name)).scalars()]
        total = 0
        for schema in schemas:
            with eng.begin() as conn:
                total += purge_older_than(conn, schema, days)
    console.print(f"已删除 {total} 条超过 {days} 天的审计日志（{len(schemas)} 个库）")


@imports_app.command("purge")
@friendly_errors
def imports_purge() -> None:
    """删除超过保留期（REDSCARF_IMPORT_REPORT_DAYS，默认 7 天）的导入错误报告和未导入的上传文件；可每天定时运行。"""
    from domain.imports.service import forget_expired_files

    days = get_settings().import_report_days
    total, counties = _in_each_county(lambda conn: forget_expired_files(conn, days))
    console.print(f"已删除 {total} 份超过 {days} 天的导入报告或文件（{len(counties)} 个县）")


@ledger_app.command("verify")
@friendly_errors
def ledger_verify(
    county: Annotated[str | None, typer.Option(help="只核对这个县（区）；默认核对全部")] = None,
) -> None:
    """核对积分账本：每笔交易借贷平衡、每个账户余额等于其流水之和、队员余额从未为负、预留与未结预留一致。有问题时退出码为 1。"""
    from domain.ledger.service import verify
    from tenants.codes import validate_county_code
    from tenants.provisioning import CountyNotFound
    from tenants.registry import TenantStatus, tenants

    with engine() as eng, eng.connect() as conn:
        query = select(tenants.c.code, tenants.c.name, tenants.c.schema_name).where(
            tenants.c.status == TenantStatus.ACTIVE
        )
        if county is not None:
            query = query.where(tenants.c.code == validate_county_code(county))
        found = conn.execute(query.order_by(tenants.c.code)).all()
        if county is not None and not found:
            raise CountyNotFound(f"没有代码为 {county} 的县（区）")
        table = Table("代码", "名称", "交易", "流水", "账户", "结果")
        failed = False
        for row in found:
            result = verify(conn, row.schema_name)
            failed |= bool(result.problems)
            table.add_row(
                row.code,
                row.name,
                f"{result.transactions:,}",
                f"{result.postings:,}",
                f"{result.accounts:,}",
                "；".join(result.problems) if result.problems else "平衡",
            )
    console.print(table)
    if failed:
        raise typer.Exit(1)


@ledger_app.command("expire")
@friendly_errors
def ledger_expire() -> None:
    """让过期的积分回到县积分池（按各县的有效期规则；预留中的不动）；可每天定时运行。"""
    from domain.ledger.service import expire

    total, counties = _in_each_county(lambda conn: expire(conn, by="redscarf ledger expire"))
    console.print(f"已让 {total} 积分过期（{len(counties)} 个县）")


@exchange_app.command("expire")
@friendly_errors
def exchange_expire() -> None:
    """过期未领取的兑换：积分退还给队员，物品回到库存（每次兑换只退一次）；可每天定时运行。"""
    from domain.exchange.service import expire_codes

    total, counties = _in_each_county(
        lambda conn: expire_codes(conn, by="redscarf exchange expire")
    )
    console.print(f"已退还 {total} 次过期未领的兑换（{len(counties)} 个县）")


@stats_app.command("refresh")
@friendly_errors
def stats_refresh(
    county: Annotated[
        list[str] | None, typer.Option("--county", help="只汇总这些县（区），可重复；默认全部。")
    ] = None,
) -> None:
    """重新汇总各县（区）本学年的统计及所属地市、省的汇总（与后台任务相同，可重复运行）。"""
    from domain.stats.rollup import due_counties, refresh_county

    with engine() as eng:
        if county:
            codes = list(county)
        else:
            with eng.connect() as conn:  # every active county: due at any age
                codes = due_counties(conn, dt.timedelta(0))
                conn.rollback()  # the marks stay for the summariser
        with Progress(console=console) as progress:
            task = progress.add_task("汇总统计", total=len(codes))
            for code in codes:
                refresh_county(eng, code)
                progress.advance(task)
    console.print(f"已汇总 {len(codes)} 个县（区）")


@pairing_app.command("end-lapsed")
@friendly_errors
def pairing_end_lapsed() -> None:
    """结束已过结对期限的结对（双方仍可补写总结）；可每天定时运行。"""
    from domain.pairing.service import end_lapsed

    with engine() as eng, eng.begin() as conn:
        ended = end_lapsed(conn, by="redscarf pairing end-lapsed")
    console.print(f"已结束 {ended} 个到期的结对")


def _in_each_county(work: Callable[[Connection], int]) -> tuple[int, list[Any]]:
    """`work` in a transaction of each active county, as its own role: the sum of its results,
    and the counties."""
    from tenants.registry import TenantStatus, tenants
    from tenants.sessions import load_tenant, tenant_connection

    with engine() as eng:
        with eng.connect() as conn:
            codes = list(
                conn.execute(
                    select(tenants.c.code).where(tenants.c.status == TenantStatus.ACTIVE)
                ).scalars()
            )
            counties = [load_tenant(conn, code) for code in codes]
        total = 0
        for county in counties:
            with tenant_connection(eng, county) as conn:
                total += work(conn)
    return total, counties


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


@app.command("serve")
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址（默认 127.0.0.1）")] = None,
    port: Annotated[int | None, typer.Option(help="端口（默认 8000）")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="没有县（区）时先生成演示数据，并在本进程内运行后台任务")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="服务进程数（默认 1，即 REDSCARF_WORKERS）")
    ] = None,
) -> None:
    """启动 GraphQL 服务（/graphql、/healthz、/readyz）；未配置 DATABASE_URL 时使用内置 PostgreSQL。"""
    from redscarf.server import serve as run_server

    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    run_server(settings, host=host or settings.host, port=port or settings.port, demo=demo)


@app.command("worker")
@friendly_errors
def worker(
    processes: Annotated[int, typer.Option(help="进程数")] = 1,
    threads: Annotated[int, typer.Option(help="每个进程的线程数")] = 4,
) -> None:
    """运行后台任务（dramatiq）：默认使用 PostgreSQL 作为队列，BROKER_URL 可改用 RabbitMQ 或 Redis。"""
    from workers.main import run_worker

    run_worker(get_settings(), processes=processes, threads=threads)


@app.command("demo")
@friendly_errors
def demo(
    pupils: Annotated[
        int, typer.Option(help="第一个县（惠水县）的队员人数（基准测试用 50000）")
    ] = 2000,
    counties: Annotated[int, typer.Option(help="县（区）个数，至少 2：一个城区、一个农村县")] = 2,
    others: Annotated[
        int | None, typer.Option(help="其余每个县的队员人数（默认与 --pupils 相同）")
    ] = None,
    history: Annotated[
        bool, typer.Option(help="生成近一年的活动、奖章、积分获得与兑换记录")
    ] = True,
    seed: Annotated[int, typer.Option(help="随机种子：同一种子生成同样的数据")] = 1,
) -> None:
    """生成演示数据：一个省、若干县（区），含镇街、学校、中队、小队、队员、家长和辅导员，以及近一年的活动、奖章和积分。可重复执行。

    基准测试规模：redscarf demo --counties 100 --pupils 50000 --others 1000
    """
    from domain.demo import build_demo

    with engine() as eng:
        _ensure_shared(eng)
        summary = build_demo(eng, _migrator(), pupils=pupils, counties=counties, seed=seed,
                             others=others, history=history)  # fmt: skip
    console.print(str(summary))


@app.command("export-schema")
@friendly_errors
def export_schema(
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("schema.graphql"),
) -> None:
    """把 GraphQL SDL 写入 schema.graphql（与代码保持一致，测试会检查）。"""
    from schema import export_sdl

    output.write_text(export_sdl(), encoding="utf-8")
    console.print(f"已写入 {output}")
