"""The fault handling report (故障处理报告), written when a fault is closed: the timeline from the
audit log, the tier and its targets, the times achieved, root cause, actions and follow-ups.
It is posted to the faults channel and given to whoever closed the fault as a Markdown file."""

from sqlalchemy import select

from handlers import notify
from handlers.context import Context
from handlers.faults.cards import clock
from handlers.messages import File, Text
from handlers.refs import ref
from storage.models import AuditEntry, Fault


def render(ctx: Context, locale: str, fault: Fault) -> str:
    entries = ctx.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "fault", AuditEntry.subject_id == fault.id)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    start, i18n = fault.declared_at, ctx.i18n
    return i18n.render(
        locale,
        "fault_report",
        fault=fault,
        ref=ref("fault", fault.id),
        entries=entries,
        response=clock(i18n, locale, fault.respond_due_at, fault.acknowledged_at, start, start),
        resolution=clock(i18n, locale, fault.resolve_due_at, fault.resolved_at, start, start),
    )


def publish(ctx: Context, fault: Fault) -> None:
    subject = ref("fault", fault.id)
    notify.channel(ctx, "faults", lambda loc, _viewer: Text(render(ctx, loc, fault)), subject)
    content = render(ctx, ctx.locale, fault)
    ctx.reply(File(f"{subject}-report.md", content, "text/markdown", ctx.t("fault.report")))
