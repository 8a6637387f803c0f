"""Shutdown lists: upcoming windows, this week's, mine, and what waits for my approval."""

from datetime import timedelta

from sqlalchemy import select

from handlers import kit, listing
from handlers.context import Context
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from handlers.shutdowns import states as s
from handlers.shutdowns.cards import window_text
from storage.models import Shutdown

commands = Commands()

LISTS = {
    "upcoming": ("next", "即将", "将来"),
    "week": ("本周", "这周"),
    "mine": ("my", "我的"),
    "pending": ("待办", "待审批", "todo"),
}


def _query(ctx: Context, kind: str):
    q = select(Shutdown).order_by(Shutdown.starts_at, Shutdown.id)
    if kind == "week":  # Monday to Sunday, local
        today = ctx.i18n.local(ctx.now()).date()
        monday = listing.day_start(ctx, today - timedelta(days=today.weekday()))
        shown = (*s.BOOKED, s.COMPLETED)
        window = (Shutdown.starts_at < monday + timedelta(days=7), Shutdown.ends_at > monday)
        return q.where(Shutdown.state.in_(shown), *window)
    if kind == "pending":
        return q.where(Shutdown.state.in_((s.REQUESTED, s.CHANGES, s.EXTENSION)))
    if kind == "mine":
        return q.where(Shutdown.state.in_(s.OPEN))
    return q.where(Shutdown.state.in_(s.BOOKED), Shutdown.ends_at > ctx.now())


def _mine(ctx: Context, shutdown: Shutdown) -> bool:
    return ctx.actor.id == shutdown.requester_id or ctx.actor.id in shutdown.engineer_ids


def _waits_for_me(ctx: Context, shutdown: Shutdown, everyone: kit.Staff) -> bool:
    """A decision the rules let me take, or my own request sent back to me for changes (my own
    request waiting for others is in ``mine``)."""
    if shutdown.state == s.CHANGES:
        return ctx.actor.id == shutdown.requester_id
    step = s.MACHINE.step("approve", shutdown.state)
    return kit.refusal(s.MACHINE, step, ctx.actor, shutdown, everyone) is None


@commands("shutdown", "list", aliases=("ls", "列表", "日历"),
          options={**listing.SITE_OPTION, **listing.DATE_OPTIONS}, words=1)  # fmt: skip
def list_shutdowns(ctx: Context, inv: Invocation) -> None:
    kind = listing.kind_of(inv.args[0] if inv.args else None, LISTS, "upcoming")
    q = _query(ctx, kind).where(*listing.date_range(ctx, inv, Shutdown.starts_at))
    if site := inv.opt("site"):
        q = q.where(Shutdown.site_code == listing.site_code(ctx, site))
    rows = ctx.session.scalars(q).all() if kind in ("pending", "mine") else None
    if kind == "pending":
        everyone = kit.staff(ctx)
        rows = [r for r in rows if _waits_for_me(ctx, r, everyone)]
    elif kind == "mine":
        rows = [r for r in rows if _mine(ctx, r)]
    else:
        rows = ctx.session.scalars(q.limit(listing.LIMIT + 1)).all()
    listing.reply(ctx, rows, lambda r: line(ctx, r), words="shutdown", kind=kind)


def line(ctx: Context, shutdown: Shutdown) -> str:
    return (
        f"{ref('shutdown', shutdown.id)} · {window_text(ctx, shutdown)} · "
        f"{', '.join(shutdown.systems)} · {ctx.t(f'state.shutdown_{shutdown.state}')}"
    )
