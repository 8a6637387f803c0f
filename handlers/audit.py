"""The audit log: every state change, written in the transaction that makes it."""

from typing import Any

from sqlalchemy import select

from handlers.context import Context
from handlers.messages import Card, Field
from handlers.refs import ref
from storage.models import AuditEntry


def record(
    ctx: Context,
    *,
    subject_type: str,
    subject_id: int | None,
    action: str,
    old_state: str | None = None,
    new_state: str | None = None,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    ctx.session.add(
        AuditEntry(
            at=ctx.now(),
            actor_id=ctx.actor.id,
            actor_label=f"{ctx.actor.name} ({ctx.actor.handle})",
            platform=ctx.origin.platform,
            platform_user=ctx.origin.user,
            channel=ctx.origin.channel,
            subject_type=subject_type,
            subject_id=subject_id,
            action=action,
            old_state=old_state,
            new_state=new_state,
            comment=comment,
            details=details,
        )
    )


def move(
    ctx: Context,
    subject_type: str,
    subject,
    action: str,
    target: str,
    *,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Move ``subject`` (a row with ``state`` and ``updated_at``) to state ``target`` and record
    it as ``<subject_type>.<action>``; the caller has checked that the move is allowed."""
    old, subject.state, subject.updated_at = subject.state, target, ctx.now()
    record(
        ctx,
        subject_type=subject_type,
        subject_id=subject.id,
        action=f"{subject_type}.{action}",
        old_state=old,
        new_state=target,
        comment=comment,
        details=details,
    )


def trail(ctx: Context, subject_type: str, subject_id: int) -> Card:
    """The audit trail of one subject as a card, oldest first."""
    rows = ctx.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    subject = ref(subject_type, subject_id)
    body = ctx.i18n.render(ctx.locale, "audit_trail", entries=rows, subject=subject)
    return Card(
        title=ctx.t("audit.title", subject=subject),
        fields=[Field(ctx.t("audit.count"), str(len(rows)))],
        body=body,
        subject=subject,
    )
