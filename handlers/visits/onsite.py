"""On the day: check-in (identity, access card, safety briefing, tools) and check-out."""

from collections import Counter
from datetime import timedelta

from handlers import audit, kit, notify
from handlers.context import Context
from handlers.errors import UserError
from handlers.messages import Text
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from handlers.values import parse_bool, parse_list
from handlers.visits import states as s
from handlers.visits import timers
from handlers.visits.cards import visit_card
from handlers.visits.commands import announce, load
from storage.models import Visit

commands = Commands()

ALL_TOOLS = {"all", "same", "全部", "齐全", "一致"}
CHECKIN_OPTIONS = {
    "card": ("access_card", "访问卡", "门禁卡", "卡号"),
    "verified": ("identity", "id_ok", "身份核实", "已核实", "核实"),
    "briefing": ("safety", "安全培训", "安全告知"),
    "tools": ("tool", "工具", "设备"),
    "early": ("early_reason", "提前", "提前原因", "提前签到"),
}
CHECKOUT_OPTIONS = {
    "tools": ("tool", "工具", "清点"),
    "card": ("card_returned", "returned", "访问卡", "还卡"),
}


def _require_yes(inv: Invocation, key: str, error: str) -> None:
    value = inv.opt(key)
    if value is None or not parse_bool(value):
        raise UserError(error)


@commands(
    "visit",
    "checkin",
    aliases=("check-in", "arrive", "签到", "入场"),
    options=CHECKIN_OPTIONS,
    words=1,
)
def checkin(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv)
    kit.check(ctx, s.MACHINE, visit, "checkin")  # before the details: the state and who may
    card = inv.opt("card")
    if not card:
        raise UserError("error.checkin_card")
    _require_yes(inv, "verified", "error.checkin_identity")
    _require_yes(inv, "briefing", "error.checkin_briefing")
    tools = visit.tools if inv.opt("tools") is None else parse_list(inv.opt("tools"))
    now = ctx.now()
    early = visit.start_at - now
    details = {"card": card[:32], "tools": tools, "minutes_early": int(early.total_seconds() // 60)}
    if early > timedelta(minutes=ctx.org.visits.checkin_early_minutes):
        details["early"] = _early_reason(ctx, inv, visit)
    kit.move(ctx, s.MACHINE, visit, "checkin", details=details)
    visit.checked_in_at, visit.checked_in_by_id = now, ctx.actor.id
    visit.access_card, visit.tools_in = card[:32], tools
    timers.schedule_overrun(ctx, visit)
    announce(ctx, visit, "checked_in", to=("requester", "responsible"))
    ctx.reply(Text(ctx.t("visit.done_checkin", ref=ref("visit", visit.id), card=card), "success"))
    planned_end = visit.start_at + timedelta(minutes=visit.duration_minutes)
    if now >= planned_end:  # allowed: the visit gets its duration from now (reminders)
        until = ctx.i18n.fmt(now + timedelta(minutes=visit.duration_minutes))
        note = ctx.t(
            "visit.checkin_late",
            end=ctx.i18n.fmt(planned_end),
            until=until,
            duration=visit.duration_minutes,
        )
        ctx.reply(Text(note))  # not a warning: in a reply that is a refusal
    ctx.reply(visit_card(ctx, ctx.locale, visit, ctx.actor))


def _early_reason(ctx: Context, inv: Invocation, visit: Visit) -> str:
    """Check-in opens ``checkin_early_minutes`` before the start; earlier needs a reason."""
    reason = inv.opt("early")
    if not reason:
        minutes = ctx.org.visits.checkin_early_minutes
        raise UserError(
            "error.checkin_too_early",
            ref=ref("visit", visit.id),
            start=ctx.i18n.fmt(visit.start_at),
            opens=ctx.i18n.fmt(visit.start_at - timedelta(minutes=minutes)),
            minutes=minutes,
        )
    return reason[:500]


def tool_difference(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """Tools missing at check-out and tools that were not there at check-in (case-insensitive)."""
    counted_in = Counter(t.strip().casefold() for t in before)
    counted_out = Counter(t.strip().casefold() for t in after)
    names = {t.strip().casefold(): t.strip() for t in [*after, *before]}
    missing = [names[k] for k, n in (counted_in - counted_out).items() for _ in range(n)]
    extra = [names[k] for k, n in (counted_out - counted_in).items() for _ in range(n)]
    return missing, extra


@commands(
    "visit",
    "checkout",
    aliases=("check-out", "leave", "签出", "离场"),
    options=CHECKOUT_OPTIONS,
    words=1,
)
def checkout(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv)
    kit.check(ctx, s.MACHINE, visit, "checkout")
    typed_tools, card = inv.opt("tools"), inv.opt("card")
    if typed_tools is None or card is None:
        raise UserError("error.checkout_fields")
    tools_in = visit.tools_in or []
    counted = tools_in if typed_tools.strip().casefold() in ALL_TOOLS else parse_list(typed_tools)
    returned = parse_bool(card)
    missing, extra = tool_difference(tools_in, counted)
    details = {"tools": counted, "missing": missing, "extra": extra, "card_returned": returned}
    kit.move(ctx, s.MACHINE, visit, "checkout", details=details)
    now = ctx.now()
    visit.checked_out_at, visit.checked_out_by_id = now, ctx.actor.id
    visit.tools_out, visit.tools_missing = counted, missing + extra
    visit.card_returned_at = now if returned else None
    timers.cancel_all(ctx, visit)
    if not returned:
        timers.schedule_card_check(ctx, visit)
    announce(ctx, visit, "checked_out", to=("requester",))
    if missing or extra or not returned:
        _flag(ctx, visit, missing, extra, returned)
    ctx.reply(Text(ctx.t("visit.done_checkout", ref=ref("visit", visit.id)), tone="success"))
    ctx.reply(visit_card(ctx, ctx.locale, visit, ctx.actor))


def _flag(ctx: Context, visit: Visit, missing, extra, returned: bool) -> None:
    subject = ref("visit", visit.id)

    def build(locale, _viewer):
        text = ctx.i18n.render(
            locale,
            "visit_flagged",
            visit=visit,
            ref=subject,
            missing=missing,
            extra=extra,
            card_returned=returned,
        )
        return Text(text, tone="danger")

    notify.channel(ctx, "admin", build, subject)
    notify.role(ctx, "admin", build, subject, skip={ctx.actor.id})


@commands("visit", "card", aliases=("card-returned", "return-card", "还卡", "归还"), words=1)
def card_returned(ctx: Context, inv: Invocation) -> None:
    """Record an access card handed back after check-out."""
    visit = load(ctx, inv)
    if visit.state != s.CHECKED_OUT or visit.card_returned_at is not None:
        raise UserError("error.card_not_out", ref=ref("visit", visit.id))
    if refused := kit.refusal(s.MACHINE, s.RETURN_CARD, ctx.actor, visit, kit.staff(ctx)):
        raise refused
    visit.card_returned_at = ctx.now()
    audit.record(
        ctx,
        subject_type="visit",
        subject_id=visit.id,
        action="visit.card_returned",
        old_state=visit.state,
        new_state=visit.state,
        comment=visit.access_card,
    )
    timers.cancel_all(ctx, visit)
    announce(ctx, visit, "card_returned")
    ctx.reply(Text(ctx.t("visit.done_card", ref=ref("visit", visit.id)), tone="success"))
