"""Fault lists: open, mine, breached, closed, all; narrowed by site and declaration day."""

from sqlalchemy import func, or_, select

from handlers import listing
from handlers.context import Context
from handlers.faults import states as s
from handlers.faults.cards import tier_label
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from storage.models import Fault

commands = Commands()

LISTS = {
    "open": ("开放", "未关闭"),
    "mine": ("我的",),
    "breached": ("超时", "违约", "overdue"),
    "closed": ("已关闭", "关闭"),
    "all": ("全部", "所有"),
}


@commands(
    "fault",
    "list",
    aliases=("ls", "列表"),
    options={**listing.SITE_OPTION, **listing.DATE_OPTIONS},
    words=1,
)
def list_faults(ctx: Context, inv: Invocation) -> None:
    kind = listing.kind_of(inv.args[0] if inv.args else None, LISTS, "open")
    now = ctx.now()
    q = select(Fault).order_by(Fault.tier, Fault.declared_at, Fault.id)
    if kind == "open":
        q = q.where(Fault.state.in_(s.OPEN))
    elif kind == "mine":
        q = q.where(
            or_(Fault.declared_by_id == ctx.actor.id, Fault.acknowledged_by_id == ctx.actor.id),
            Fault.state != s.CLOSED,
        )
    elif kind == "breached":
        late_ack = (Fault.acknowledged_at.is_(None) & (Fault.respond_due_at < now)) | (
            Fault.acknowledged_at > Fault.respond_due_at
        )
        late_fix = Fault.resolve_due_at.is_not(None) & (
            (Fault.resolved_at.is_(None) & (Fault.resolve_due_at < now))
            | (Fault.resolved_at > Fault.resolve_due_at)
        )
        q = q.where(late_ack | late_fix)
    else:  # closed, all: the latest first
        q = q.order_by(None).order_by(Fault.declared_at.desc(), Fault.id.desc())
        q = q.where(Fault.state == s.CLOSED) if kind == "closed" else q
    if site := inv.opt("site"):
        q = q.where(func.upper(Fault.site_code) == listing.site_code(ctx, site).upper())
    q = q.where(*listing.date_range(ctx, inv, Fault.declared_at))
    faults = ctx.session.scalars(q.limit(listing.LIMIT + 1)).all()
    listing.reply(ctx, faults, lambda f: line(ctx, f), words="fault", kind=kind)


def line(ctx: Context, fault: Fault) -> str:
    return (
        f"{ref('fault', fault.id)} · {tier_label(ctx.i18n, ctx.locale, fault)} · "
        f"{ctx.t(f'state.fault_{fault.state}')} · {fault.title[:60]}"
    )
