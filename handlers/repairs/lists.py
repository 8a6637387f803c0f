"""Repair lists: those under way, mine, those in their follow-up, and what waits for me (a
verification I am asked for; as an admin, a follow-up that is over)."""

from sqlalchemy import select

from handlers import listing, roles
from handlers.context import Context
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from handlers.repairs import states as s
from handlers.repairs import views
from storage.models import Repair

commands = Commands()

LISTS = {
    "open": ("active", "进行中", "未完成"),
    "mine": ("my", "我的"),
    "followup": ("follow-up", "watching", "后续", "后续监控", "观察"),
    "pending": ("待办", "todo"),
    "all": ("全部",),
}


def _query(kind: str):
    if kind == "all":
        return select(Repair).order_by(Repair.id.desc())
    q = select(Repair).order_by(Repair.id)
    if kind == "open":
        return q.where(Repair.state == s.IN_PROGRESS)
    if kind == "followup":
        return q.where(Repair.state == s.COMPLETED)
    return q.where(Repair.state.in_((s.IN_PROGRESS, s.COMPLETED)))


def _mine(ctx: Context, repair: Repair) -> bool:
    return ctx.actor.id == repair.started_by_id or ctx.actor.id in repair.engineer_ids


def _waits_for_me(ctx: Context, repair: Repair) -> bool:
    if repair.state != s.COMPLETED:
        return False
    asked = repair.verification is None and ctx.actor.id in repair.owner_ids
    watched = repair.followup_due_at is not None and repair.followup_due_at <= ctx.now()
    return asked or (watched and roles.acts_as(ctx.actor.roles, "admin"))


def line(ctx: Context, repair: Repair) -> str:
    reached = views.phase_reached(repair)
    parts = [ref("repair", repair.id), repair.system, ctx.t(f"repair.kind_{repair.kind}"),
             ctx.t(f"state.repair_{repair.state}")]  # fmt: skip
    if reached and repair.state == s.IN_PROGRESS:
        parts.append(views.phase_label(ctx, ctx.locale, reached))
    if repair.state == s.COMPLETED and repair.followup_due_at:
        parts.append(ctx.t("repair.watching", until=ctx.i18n.fmt(repair.followup_due_at)))
    return " · ".join(parts)


@commands("repair", "list", aliases=("ls", "列表"),
          options={**listing.SITE_OPTION, **listing.DATE_OPTIONS}, words=1)  # fmt: skip
def list_repairs(ctx: Context, inv: Invocation) -> None:
    kind = listing.kind_of(inv.args[0] if inv.args else None, LISTS, "open")
    q = _query(kind).where(*listing.date_range(ctx, inv, Repair.started_at))
    if site := inv.opt("site"):
        q = q.where(Repair.site_code == listing.site_code(ctx, site))
    if kind in ("mine", "pending"):
        keep = _mine if kind == "mine" else _waits_for_me
        rows = [r for r in ctx.session.scalars(q) if keep(ctx, r)]
    else:
        rows = list(ctx.session.scalars(q.limit(listing.LIMIT + 1)))
    listing.reply(ctx, rows, lambda r: line(ctx, r), words="repair", kind=kind)
