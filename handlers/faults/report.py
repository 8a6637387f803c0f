"""The fault handling report (故障处理报告), written when a fault is closed: the timeline from the
audit log, the tier and its targets, the times achieved, root cause, actions and follow-ups.
It is posted to the faults channel and given to whoever closed the fault as a Markdown file.
The repairs linked to the fault (``link=F-3``) give their steps and the parts replaced."""

from sqlalchemy import select

from handlers import audit, notify
from handlers.context import Context
from handlers.faults.cards import clock, tier_label
from handlers.messages import File, Text
from handlers.refs import ref
from storage.models import Fault, Repair


def repairs(ctx: Context, fault: Fault) -> list[Repair]:
    """The repair records that answer the fault, oldest first."""
    linked = select(Repair).where(Repair.link_ref == ref("fault", fault.id)).order_by(Repair.id)
    return list(ctx.session.scalars(linked))


def render(ctx: Context, locale: str, fault: Fault, *, plain: bool = False) -> str:
    """The report in Markdown; ``plain``: the same without escaping what people typed (to be
    posted in chat as text rather than read as Markdown)."""
    start, i18n = fault.declared_at, ctx.i18n
    return i18n.render(
        locale,
        "fault_report",
        fault=fault,
        ref=ref("fault", fault.id),
        tier=tier_label(i18n, locale, fault),
        entries=[
            audit.describe(i18n, locale, e) for e in audit.entries(ctx.session, "fault", fault.id)
        ],
        response=clock(i18n, locale, fault.respond_due_at, fault.acknowledged_at, start, start),
        resolution=clock(i18n, locale, fault.resolve_due_at, fault.resolved_at, start, start),
        repairs=repairs(ctx, fault),
        plain=plain,
    )


def publish(ctx: Context, fault: Fault) -> None:
    subject = ref("fault", fault.id)
    notify.channel(
        ctx, "faults", lambda loc, _viewer: Text(render(ctx, loc, fault, plain=True)), subject
    )
    content = render(ctx, ctx.locale, fault)
    ctx.reply(File(f"{subject}-report.md", content, "text/markdown", ctx.t("fault.report")))
