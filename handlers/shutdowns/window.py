"""The window itself: ``begin`` (the system's state recorded first), ``extend`` (a new end, for a
supervisor to approve) and ``complete`` (services back and the business check recorded)."""

from datetime import timedelta

from handlers import kit
from handlers.context import Context
from handlers.errors import UserError
from handlers.grammar import is_time_of_day, parse_when
from handlers.registry import Commands, Invocation
from handlers.shutdowns import notices, timers
from handlers.shutdowns import states as s
from handlers.shutdowns.commands import announce, answer, load
from handlers.values import parse_bool, parse_reading

commands = Commands()

STATE_OPTIONS = {
    "state": ("status", "状态", "系统状态"),
    "temperature": ("temp", "温度"),
    "humidity": ("湿度",),
    "load": ("负载",),
    "note": ("说明", "备注"),
}
COMPLETE_OPTIONS = {
    "services": ("services_back", "服务恢复", "恢复"),
    "business": ("business_check", "verified_by", "业务验证", "验证人"),
    "note": ("说明", "备注"),
}


@commands("shutdown", "begin", aliases=("start", "开始", "开始停机"), options=STATE_OPTIONS,
          words=1)  # fmt: skip
def begin(ctx: Context, inv: Invocation) -> None:
    """The window starts: the system's state before it (state, temperature, humidity, load)."""
    shutdown = load(ctx, inv)
    kit.check(ctx, s.MACHINE, shutdown, "begin")
    recorded = {key: parse_reading(inv.opt(key)) for key in STATE_OPTIONS if inv.opt(key)}
    if not recorded:
        raise UserError("error.shutdown_state_needed", ref=f"S-{shutdown.id}")
    if ctx.now() < shutdown.starts_at - timedelta(minutes=15):
        raise UserError("error.shutdown_too_early", start=ctx.i18n.fmt(shutdown.starts_at))
    kit.move(ctx, s.MACHINE, shutdown, "begin", details=recorded)
    shutdown.state_before, shutdown.begun_at = recorded, ctx.now()
    notices.tell_everyone(ctx, shutdown, notices.notice(ctx, shutdown, "begun"))
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.done_begun")


def _new_end(ctx: Context, shutdown, typed: str):
    """The end asked for: a point in time, or a time of day alone (``to=06:30``, as the button's
    prompt suggests), which is on the window's last day."""
    if is_time_of_day(typed):
        typed = f"{ctx.i18n.local(shutdown.ends_at).date().isoformat()} {typed}"
    return parse_when(typed, now=ctx.now(), tz=ctx.i18n.tz)


@commands("shutdown", "extend", aliases=("延长", "延期"), options={"to": ("until", "到", "至")},
          words=1)  # fmt: skip
def extend(ctx: Context, inv: Invocation) -> None:
    """Ask for a later end; a supervisor approves it (``shutdown approve``) or refuses it."""
    shutdown = load(ctx, inv)
    kit.check(ctx, s.MACHINE, shutdown, "extend")
    if not inv.opt("to"):
        raise UserError("error.missing_arg", name="to", usage="shutdown.extend")
    new_end = _new_end(ctx, shutdown, inv.opt("to"))
    if new_end <= shutdown.ends_at:
        raise UserError("error.shutdown_extend_earlier", end=ctx.i18n.fmt(shutdown.ends_at))
    if new_end - shutdown.starts_at > timedelta(hours=ctx.org.shutdowns.max_hours):
        raise UserError("error.shutdown_too_long", hours=ctx.org.shutdowns.max_hours)
    kit.move(ctx, s.MACHINE, shutdown, "extend", details={"to": new_end.isoformat()})
    shutdown.extend_to = new_end
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.extension_asked")


@commands("shutdown", "complete", aliases=("done", "finish", "完成", "结束"),
          options=COMPLETE_OPTIONS, words=1)  # fmt: skip
def complete(ctx: Context, inv: Invocation) -> None:
    """Services are back and the business has checked them: who checked is recorded."""
    shutdown = load(ctx, inv)
    kit.check(ctx, s.MACHINE, shutdown, "complete")
    services, business = inv.opt("services"), inv.opt("business")
    if services is None or not parse_bool(services) or not business:
        raise UserError("error.shutdown_verification", ref=f"S-{shutdown.id}")
    verification = {"services": True, "business": business[:200], "note": inv.opt("note")}
    kit.move(ctx, s.MACHINE, shutdown, "complete", details=verification)
    shutdown.verification, shutdown.completed_at, shutdown.extend_to = verification, ctx.now(), None
    timers.cancel(ctx, shutdown)
    notices.tell_everyone(ctx, shutdown, notices.notice(ctx, shutdown, "completed"))
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.done_completed")
