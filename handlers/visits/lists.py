"""Visit lists (pending, today, week, mine, onsite, all; filtered) and the visitor-log CSV."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select

from handlers import kit, listing
from handlers.context import Context
from handlers.errors import Forbidden, UserError
from handlers.exports import csv_file
from handlers.messages import Card
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from handlers.visits import filters
from handlers.visits import states as s
from storage.models import Visit

commands = Commands()

LIST_WORDS = {
    "pending": ("待办", "待审批", "待处理", "todo"),
    "today": ("今天", "今日"),
    "mine": ("my", "我的"),
    "onsite": ("在场", "here", "inside"),
    "all": ("全部", "所有"),
    "week": ("本周", "这周", "this-week"),
}
WAITING = (s.REQUESTED, s.REVIEWED, s.CHANGES)  # undecided requests
# a day's or a week's visits: approved ones planned then, and whoever checked in then
HAPPENING = (s.APPROVED, s.CHECKED_IN, s.CHECKED_OUT)


def _day_bounds(ctx: Context, day) -> tuple[datetime, datetime]:
    start = listing.day_start(ctx, day)
    return start, start + timedelta(days=1)


def _happening(lo: datetime, hi: datetime):
    planned = (Visit.start_at >= lo) & (Visit.start_at < hi) & Visit.state.in_(HAPPENING)
    return planned | ((Visit.checked_in_at >= lo) & (Visit.checked_in_at < hi))


def _query(ctx: Context, kind: str):
    q = select(Visit)
    me = ctx.actor.id
    today = ctx.i18n.local(ctx.now()).date()
    earliest_first = (Visit.start_at, Visit.id)
    if kind == "pending":  # which of them wait for me: pending() reads the machine's rules
        mine_or_deciding = (Visit.requester_id == me) | Visit.state.in_(s.NEXT_DECISION)
        return q.where(Visit.state.in_(WAITING), mine_or_deciding).order_by(*earliest_first)
    if kind == "today":
        return q.where(_happening(*_day_bounds(ctx, today))).order_by(*earliest_first)
    if kind == "week":  # Monday to Sunday
        monday = listing.day_start(ctx, today - timedelta(days=today.weekday()))
        return q.where(_happening(monday, monday + timedelta(days=7))).order_by(*earliest_first)
    if kind == "onsite":
        return q.where(Visit.state == s.CHECKED_IN).order_by(Visit.checked_in_at, Visit.id)
    if kind == "mine":
        q = q.where(Visit.requester_id == me)
    return q.order_by(Visit.start_at.desc(), Visit.id.desc())


def pending(ctx: Context, visits: Iterable[Visit]) -> list[Visit]:
    """The visits that wait for the actor: their own requests still undecided, and those whose
    next decision the rules let them take (a supervisor standing in for the only admin too)."""
    everyone = kit.staff(ctx)

    def waits_for_me(v: Visit) -> bool:
        if v.requester_id == ctx.actor.id:
            return True
        step = s.MACHINE.step(s.NEXT_DECISION.get(v.state, ""), v.state)
        return step is not None and kit.refusal(s.MACHINE, step, ctx.actor, v, everyone) is None

    return [v for v in visits if waits_for_me(v)]


@commands("visit", "list", aliases=("ls", "列表", "查询"), options=filters.OPTIONS, words=1)
def list_visits(ctx: Context, inv: Invocation) -> None:
    kind = listing.kind_of(inv.args[0] if inv.args else None, LIST_WORDS, "pending")
    query = _query(ctx, kind).where(*filters.conditions(ctx, inv))
    if kind == "pending":
        visits = pending(ctx, ctx.session.scalars(query))[: listing.LIMIT + 1]
    else:
        visits = ctx.session.scalars(query.limit(listing.LIMIT + 1)).all()
    shown = visits[: listing.LIMIT]
    more = listing.example(ctx, shown[0].room.site.code) if len(visits) > len(shown) else None
    body = ctx.i18n.render(ctx.locale, "visit_list", visits=shown, kind=kind, more=more, ref=ref)
    ctx.reply(Card(title=ctx.t(f"visit.list_{kind}", count=len(shown)), body=body))


# the export's columns, in a fixed order; each header is csv.visit.<column> in the reader's language
CSV_COLUMNS = (
    "ref",
    "state",
    "visitor",
    "company",
    "contact",
    "id_type",
    "id_last4",
    "task",
    "room",
    "responsible",
    "requester",
    "planned_start",
    "duration_minutes",
    "checked_in_at",
    "access_card",
    "tools_in",
    "checked_out_at",
    "tools_out",
    "tools_missing",
    "card_returned_at",
)


def _row(ctx: Context, v: Visit) -> list[str]:
    dt = ctx.i18n.fmt
    return [
        ref("visit", v.id),
        v.state,
        v.visitor_name,
        v.company,
        v.contact,
        v.id_type,
        v.id_last4,
        v.task,
        f"{v.room.site.code}/{v.room.code}",
        v.responsible.name,
        v.requester.name,
        dt(v.start_at),
        str(v.duration_minutes),
        dt(v.checked_in_at),
        v.access_card or "",
        "; ".join(v.tools_in or []),
        dt(v.checked_out_at),
        "; ".join(v.tools_out or []),
        "; ".join(v.tools_missing or []),
        dt(v.card_returned_at),
    ]


@commands("visit", "export", aliases=("csv", "导出", "登记簿"), words=2)
def export(ctx: Context, inv: Invocation) -> None:
    """The visitor log (访客登记簿): every check-in between two dates, as CSV."""
    if not (ctx.actor.has("admin") or ctx.actor.has("supervisor")):
        raise Forbidden("error.need_export_role")
    first = listing.past_day(ctx, inv.arg(0, "from"))
    last = listing.past_day(ctx, inv.args[1]) if inv.args[1:] else first
    lo, hi = _day_bounds(ctx, first)[0], _day_bounds(ctx, last)[1]
    if hi <= lo:
        raise UserError("error.bad_range")
    visits = ctx.session.scalars(
        select(Visit)
        .where(Visit.checked_in_at >= lo, Visit.checked_in_at < hi)
        .order_by(Visit.checked_in_at)
    ).all()
    header = [ctx.t(f"csv.visit.{column}") for column in CSV_COLUMNS]
    span = f"{lo.date().isoformat()}_{(hi - timedelta(days=1)).date().isoformat()}"
    caption = ctx.t("visit.export_caption", count=len(visits), span=span.replace("_", " – "))
    rows = (_row(ctx, v) for v in visits)
    ctx.reply(csv_file(f"visitor-log_{span}.csv", header, rows, caption))
