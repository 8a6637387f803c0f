"""The audit log: every state change, written in the transaction that makes it."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.context import Context
from handlers.i18n import I18n
from handlers.messages import Card, Field
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


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the audit's JSON details keep them (times as ISO text)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


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
    """Move ``subject`` (a row with ``state`` and ``updated_at``) to state ``target`` (None: it
    stays where it is) and record it as ``<subject_type>.<action>``; the caller has checked that
    the move is allowed."""
    old = subject.state
    subject.state, subject.updated_at = target or old, ctx.now()
    target = subject.state
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


def entries(session: Session, subject_type: str, subject_id: int) -> list[AuditEntry]:
    """The audit entries of one subject, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def name_of(entry: AuditEntry) -> str:
    """Who made an audit entry, by name (its actor label is "Name (handle)")."""
    return entry.actor_label.rsplit(" (", 1)[0]


@dataclass(frozen=True)
class Described:
    """An audit entry in words: where from, what was done, the states it moved between, the
    comment."""

    entry: AuditEntry
    platform: str
    what: str
    old: str | None
    new: str | None
    comment: str | None


def _first(i18n: I18n, locale: str, keys: list[str], **params) -> str | None:
    """The first of ``keys`` the catalogs know, rendered; None when they know none."""
    key = next((k for k in keys if i18n.has(locale, k) or i18n.has("en", k)), None)
    return key and i18n.t(locale, key, **params)


def state_name(i18n: I18n, locale: str, subject_type: str, state: str | None) -> str | None:
    """A subject's state in words (``state.fault_closed``, ``state.approved``), else as is."""
    if state is None:
        return None
    return _first(i18n, locale, [f"state.{subject_type}_{state}", f"state.{state}"]) or state


def describe(i18n: I18n, locale: str, entry: AuditEntry) -> Described:
    """The one way an audit entry is put in words (the audit trail, the fault report):
    ``audit.<action>`` from the catalog, given the entry's details; ``audit.other`` if none."""
    details = entry.details or {}
    what = _first(i18n, locale, [f"audit.{entry.action}", "audit.other"], details=details)
    return Described(
        entry=entry,
        platform=_first(i18n, locale, [f"platform.{entry.platform}"]) or entry.platform,
        what=what or "",
        old=state_name(i18n, locale, entry.subject_type, entry.old_state),
        new=state_name(i18n, locale, entry.subject_type, entry.new_state),
        comment=entry.comment and " ".join(entry.comment.splitlines()),  # one line an entry
    )


def trail(ctx: Context, subject: str, rows: list[AuditEntry]) -> Card:
    """The audit trail of one subject (its reference and its entries) as a card."""
    described = [describe(ctx.i18n, ctx.locale, row) for row in rows]
    body = ctx.i18n.render(ctx.locale, "audit_trail", entries=described, subject=subject)
    return Card(
        title=ctx.t("audit.title", subject=subject),
        fields=[Field(ctx.t("audit.count"), str(len(rows)))],
        body=body,
        subject=subject,
    )
