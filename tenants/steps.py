"""Completed steps of long, resumable work (jobs, demo data, imports) in a county schema.

Long work is cut into steps, each committed in its own transaction together with its row
here. A rerun after a crash (at-least-once delivery) skips the steps already recorded, so
the effect of the whole happens exactly once.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from tenants.metadata import tenant_metadata

completed_steps = Table(
    "completed_steps",
    tenant_metadata,
    Column("run_key", Text, primary_key=True, comment="The run: e.g. job:<uuid> or demo:<seed>"),
    Column("step", Text, primary_key=True),
    Column("done_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def done_steps(conn: Connection, run_key: str) -> set[str]:
    rows = conn.execute(select(completed_steps.c.step).where(completed_steps.c.run_key == run_key))
    return set(rows.scalars())


def mark_step_done(conn: Connection, run_key: str, step: str) -> bool:
    """Record a step inside the transaction that did it; False if it was already recorded."""
    result = conn.execute(
        insert(completed_steps)
        .values(run_key=run_key, step=step)
        .on_conflict_do_nothing(index_elements=["run_key", "step"])
    )
    return result.rowcount == 1
