"""The growth archive (成长档案): a pupil's history in time order, from every part of the county
that records one (status changes, badges, points, collection tasks; activities and pairings as
they come).
One batch of queries serves any number of pupils (a roster page, a school's export), and the
page that prints it."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    Table,
    Text,
    Uuid,
    and_,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from domain.badges.tables import AwardState, badge_awards, badges
from domain.clock import local_date
from domain.ledger.tables import AccountKind, ledger_accounts, ledger_postings, ledger_transactions
from domain.org.tables import units
from domain.people.tables import PupilStatus, pupil_status_changes, pupils
from domain.tasks.tables import SubmissionState, TaskKind, task_submissions, tasks
from tenants.metadata import tenant_metadata

STATUS_TITLES = {
    PupilStatus.PRE_MEMBER: "登记为预备队员",
    PupilStatus.MEMBER: "加入中国少年先锋队",
    PupilStatus.LEFT: "离队",
    PupilStatus.JOINED_LEAGUE: "离队入团",
    PupilStatus.TRANSFERRED: "转学转出",
}
POINTS_TITLES = {
    "spend": "积分兑换",
    "hold": "活动积分",
    "refund": "积分退还",
    "task": "征集任务积分",
}
# Points that come with a badge show on the badge's own line, not twice.
ON_BADGE_LINES = ("award", "reversal")
TASK_TITLES = {
    TaskKind.LESSON: "完成红领巾爱学习",
    TaskKind.SUBMISSION: "征集作品通过审核",
    TaskKind.FEEDBACK: "完成问卷征集",
}


@dataclass(frozen=True)
class Event:
    on: dt.date
    kind: str  # status, badge, revoked, task, points
    title: str
    detail: str | None
    points: int | None
    order: int  # ties on a day keep the order they happened in


def _day(value: dt.datetime | dt.date) -> dt.date:
    return local_date(value)  # China's day, not the server's


async def archives_async(session: AsyncSession, pupil_ids: Sequence[int]) -> list[list[Event]]:
    """`archives` on the API's asynchronous session."""
    conn = await session.connection()
    return await conn.run_sync(lambda sync: archives(sync, pupil_ids))


def archives(session: Connection, pupil_ids: Sequence[int]) -> list[list[Event]]:
    """Each pupil's archive, oldest first (in the caller's county transaction)."""
    ids = list(pupil_ids)
    found: dict[int, list[Event]] = defaultdict(list)
    for r in session.execute(
        select(pupil_status_changes).where(pupil_status_changes.c.pupil_id.in_(ids))
    ):
        if r.to_status in STATUS_TITLES:
            detail = r.batch if r.to_status == PupilStatus.MEMBER else r.note
            found[r.pupil_id].append(
                Event(
                    r.on_date, "status", STATUS_TITLES[PupilStatus(r.to_status)], detail, None, r.id
                )
            )
    awarded = session.execute(
        select(badge_awards, badges.c.name)
        .join(badges, badges.c.id == badge_awards.c.badge_id)
        .where(
            badge_awards.c.pupil_id.in_(ids),
            badge_awards.c.state.in_([AwardState.AWARDED.value, AwardState.REVOKED.value]),
        )
    )
    for r in awarded:
        found[r.pupil_id].append(
            Event(_day(r.awarded_at or r.created_at), "badge", f"获得{r.name}", r.evidence or r.conferred_by,
                  r.points, r.id)
        )  # fmt: skip
        if r.state == AwardState.REVOKED and r.revoked_at is not None:
            found[r.pupil_id].append(
                Event(_day(r.revoked_at), "revoked", f"{r.name}被撤销", r.revoked_reason,
                      -(r.points or 0) or None, r.id)
            )  # fmt: skip
    # An approved task (a lesson completed) is a line of its own with its reward, which then
    # shows nowhere else. Its badge shows on the badge's line above.
    on_task_lines: set[int] = set()
    done = session.execute(
        select(task_submissions.c.id, task_submissions.c.pupil_id, task_submissions.c.reviewed_at,
               task_submissions.c.transaction_id, tasks.c.kind, tasks.c.title,
               ledger_postings.c.amount)
        .join(tasks, tasks.c.id == task_submissions.c.task_id)
        .outerjoin(ledger_postings, and_(ledger_postings.c.transaction_id == task_submissions.c.transaction_id,
                                         ledger_postings.c.amount > 0))
        .where(task_submissions.c.pupil_id.in_(ids),
               task_submissions.c.state == SubmissionState.APPROVED.value)
    )  # fmt: skip
    for r in done:
        if r.transaction_id is not None:
            on_task_lines.add(r.transaction_id)
        found[r.pupil_id].append(
            Event(_day(r.reviewed_at), "task", TASK_TITLES[TaskKind(r.kind)], r.title,
                  int(r.amount) if r.amount else None, r.id)
        )  # fmt: skip
    postings = session.execute(
        select(ledger_accounts.c.owner_id, ledger_postings.c.id, ledger_postings.c.amount,
               ledger_postings.c.created_at, ledger_postings.c.transaction_id,
               ledger_transactions.c.kind, ledger_transactions.c.memo)
        .join(ledger_accounts, ledger_accounts.c.id == ledger_postings.c.account_id)
        .join(ledger_transactions, ledger_transactions.c.id == ledger_postings.c.transaction_id)
        .where(
            ledger_accounts.c.kind == AccountKind.PUPIL.value,
            ledger_accounts.c.owner_id.in_(ids),
            ledger_transactions.c.kind.not_in(ON_BADGE_LINES),
        )
    )  # fmt: skip
    for r in postings:
        if r.transaction_id in on_task_lines:
            continue
        title = POINTS_TITLES.get(r.kind, "积分变动")
        found[r.owner_id].append(
            Event(_day(r.created_at), "points", title, r.memo, int(r.amount), r.id)
        )
    kinds = {"status": 0, "badge": 1, "revoked": 2, "task": 3, "points": 4}
    return [sorted(found[pk], key=lambda e: (e.on, kinds[e.kind], e.order)) for pk in ids]


ARCHIVE_KINDS = {
    "status": "队籍",
    "badge": "奖章",
    "revoked": "奖章",
    "task": "征集",
    "points": "积分",
}


def archive_page(pupils: list[tuple[dict[str, object], list[dict[str, object]]]]) -> str:
    """Pages that print on A4, one pupil to a page: who, then the archive as a table."""
    e = html.escape
    sections = "".join(_section(head, rows) for head, rows in pupils)
    title = str(pupils[0][0]["name"]) if len(pupils) == 1 else f"{len(pupils)} 名队员"
    return PAGE.format(title=e(title), sections=sections)


def _section(head: dict[str, object], rows: list[dict[str, object]]) -> str:
    e = html.escape
    facts = "".join(
        f"<div><dt>{label}</dt><dd>{e(str(head[key] or '—'))}</dd></div>"
        for label, key in (("姓名", "name"), ("县（区）", "county"), ("学校", "school"),
                           ("中队", "squadron"), ("年级", "grade"), ("状态", "status"),
                           ("入队日期", "joinedOn"))
    )  # fmt: skip
    lines = (
        "".join(
            f"<tr><td>{e(str(r['date']))}</td><td>{e(str(r['kind']))}</td><td>{e(str(r['title']))}</td>"
            f"<td>{e(str(r['detail'] or ''))}</td><td class=n>{e(str(r['points'] or ''))}</td></tr>"
            for r in rows
        )
        or "<tr><td colspan=5>暂无记录</td></tr>"
    )
    return (
        f"<section><h1>少先队员成长档案</h1><dl>{facts}</dl>"
        "<table><thead><tr><th>日期</th><th>类别</th><th>事项</th><th>说明</th><th>积分</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
        "<footer>本档案由县（区）少工委平台生成，供推优入团等使用。</footer></section>"
    )


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} · 少先队员成长档案</title>
<style>
  @page {{ size: A4; margin: 18mm 16mm; }}
  body {{ font-family: "Noto Serif CJK SC", "Songti SC", SimSun, serif; color: #222; margin: 0 auto; max-width: 178mm; }}
  section {{ break-after: page; }} section:last-child {{ break-after: auto; }}
  h1 {{ text-align: center; font-size: 20pt; letter-spacing: .2em; color: #b3141c; }}
  dl {{ display: grid; grid-template-columns: repeat(2, 1fr); gap: 2mm 8mm; margin: 0 0 6mm; }}
  dl div {{ display: flex; gap: 3mm; border-bottom: 1px solid #ccc; }} dt {{ color: #666; }} dd {{ margin: 0; }}
  table {{ width: 100%; border-collapse: collapse; font-size: 10.5pt; }}
  th, td {{ border: 1px solid #999; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }}
  th {{ background: #f4e1e1; }} td.n {{ text-align: right; white-space: nowrap; }}
  tr {{ break-inside: avoid; }} thead {{ display: table-header-group; }}
  footer {{ margin-top: 8mm; font-size: 9pt; color: #666; }}
</style></head>
<body>{sections}</body></html>"""


def archive_rows(events: list[Event]) -> list[dict[str, object]]:
    """An archive as the exports write it."""
    return [
        {"date": e.on.isoformat(), "kind": ARCHIVE_KINDS[e.kind], "title": e.title,
         "detail": e.detail, "points": e.points}
        for e in events
    ]  # fmt: skip


archive_exports = Table(
    "archive_exports",
    tenant_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("unit_id", ForeignKey("tenant.units.id"), nullable=False),
    Column("requested_by", JSONB, nullable=False, comment="Who asked, and their reach"),
    Column("job_id", Uuid, comment="The export_archives job (shared.jobs)"),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("pupils", Integer),
    Column("content", LargeBinary, comment="The zip file; forgotten after some days"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("state IN ('pending', 'done')", name="state"),
    comment="Growth archives of a unit's pupils in one file (HTML to print, JSON), by a job.",
)


def export_unit(conn: Connection, export_id: int, county_name: str,
                status_labels: dict[str, str]) -> int:  # fmt: skip
    """Write the archives of the pupils under an export's unit that its requester reaches
    (one zip: a printable HTML page per pupil, and the JSON of all); returns how many pupils.
    An export already done is left as is (a job delivered twice)."""
    found = conn.execute(
        select(archive_exports.c.state, archive_exports.c.requested_by, units.c.path)
        .join(units, units.c.id == archive_exports.c.unit_id)
        .where(archive_exports.c.id == export_id)
        .with_for_update(of=archive_exports)
    ).one()
    if found.state == "done":
        return -1
    paths = found.requested_by["paths"]
    everything = found.requested_by["everything"]
    place, squadron, school = units.alias("place"), units.alias("squadron"), units.alias("school")
    rows = conn.execute(
        select(pupils.c.id, pupils.c.name, pupils.c.grade, pupils.c.status, pupils.c.joined_on,
               squadron.c.name.label("squadron"), school.c.name.label("school"), place.c.path)
        .join(place, place.c.id == func.coalesce(pupils.c.team_id, pupils.c.squadron_id))
        .join(squadron, squadron.c.id == pupils.c.squadron_id)
        .outerjoin(school, school.c.id == squadron.c.parent_id)
        .where(place.c.path.op("<@")(found.path), pupils.c.status != PupilStatus.ERASED.value)
        .order_by(school.c.path, squadron.c.path, pupils.c.id)
    ).all()  # fmt: skip
    mine = [
        r
        for r in rows
        if everything or any(r.path == p or r.path.startswith(p + ".") for p in paths)
    ]
    events = archives(conn, [r.id for r in mine])
    documents = []
    for r, pupil_events in zip(mine, events, strict=True):
        head = {"name": r.name, "county": county_name, "school": r.school, "squadron": r.squadron,
                "grade": r.grade, "status": status_labels[r.status],
                "joinedOn": r.joined_on.isoformat() if r.joined_on else None}  # fmt: skip
        documents.append((head, archive_rows(pupil_events)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("成长档案.html", archive_page(documents) if documents else PAGE.format(
            title="无", sections="<p>没有在册队员</p>"))  # fmt: skip
        archive.writestr(
            "成长档案.json",
            json.dumps(
                [{"pupil": h, "events": e} for h, e in documents], ensure_ascii=False, indent=1
            ),
        )
    conn.execute(
        update(archive_exports)
        .where(archive_exports.c.id == export_id)
        .values(state="done", pupils=len(documents), content=out.getvalue(), finished_at=func.now())
    )
    return len(documents)
