"""Durable timers. Every deadline is a row; a sweep claims due rows atomically and fires them.

Claiming uses ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB, so several bot
processes never fire one row twice; SQLite ignores the lock clause and runs one process.
Deadlines that fell due while the bot was down fire on the first sweep after start.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from handlers.context import Context
from storage.models import Deadline

log = logging.getLogger(__name__)

Firer = Callable[[Context, Deadline], None]  # what a workflow does when one of its rows is due


def schedule(
    ctx: Context,
    kind: str,
    *,
    subject_type: str,
    subject_id: int,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    ctx.session.add(
        Deadline(
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            due_at=due_at,
            status="pending",
            created_at=ctx.now(),
            payload=payload,
        )
    )


def cancel(ctx: Context, *, subject_type: str, subject_id: int, kinds: tuple[str, ...]) -> None:
    ctx.session.execute(
        update(Deadline)
        .where(
            Deadline.subject_type == subject_type,
            Deadline.subject_id == subject_id,
            Deadline.kind.in_(kinds),
            Deadline.status == "pending",
        )
        .values(status="cancelled")
    )


def claim_due(ctx: Context, limit: int) -> list[Deadline]:
    """Lock up to ``limit`` due rows for this transaction, skipping rows another process holds."""
    return list(
        ctx.session.scalars(
            select(Deadline)
            .where(Deadline.status == "pending", Deadline.due_at <= ctx.now())
            .order_by(Deadline.due_at, Deadline.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def fire_claimed(ctx: Context, rows: list[Deadline], firers: Mapping[str, Firer]) -> int:
    """Fire each claimed row with the firer of its kind (the workflows' ``timers``), each in a
    savepoint: one failing firer never blocks the others."""
    for row in rows:
        firer = firers.get(row.kind)
        try:
            with ctx.session.begin_nested():
                if firer is None:
                    raise LookupError(f"no firer for deadline kind {row.kind!r}")
                firer(ctx, row)
            row.status = "fired"
        except Exception:
            log.exception("deadline %s (%s) failed", row.id, row.kind)
            row.status = "failed"
        row.fired_at = ctx.now()
    return len(rows)
