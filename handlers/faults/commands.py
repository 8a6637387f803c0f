"""Fault commands: declare, ack, update, tier, resolve, close, reopen, show, list."""

from handlers import audit, kit
from handlers.context import Context
from handlers.errors import UserError
from handlers.faults import policy, report, timers
from handlers.faults import states as s
from handlers.faults.cards import fault_card
from handlers.faults.form import FORM
from handlers.messages import Text
from handlers.refs import ref
from handlers.registry import Area, Commands, Invocation
from storage.models import Fault

commands = Commands(Area("fault", ("faults", "f", "故障", "故障申报", "报障", "incident")))


def load(ctx: Context, inv: Invocation, *, lock: bool = True) -> Fault:
    """The fault the command's first word names (locked for a change unless ``lock`` is off)."""
    return kit.load(ctx, s.MACHINE, inv.arg(0, "ref"), lock=lock)


def _answer(ctx: Context, fault: Fault, key: str) -> None:
    ctx.reply(Text(ctx.t(key, ref=ref("fault", fault.id)), tone="success"))
    ctx.reply(fault_card(ctx, ctx.locale, fault, ctx.actor))


@commands(
    "fault",
    "declare",
    aliases=("new", "open", "report", "申报", "报告", "新建"),
    form=FORM,
)
def declare(ctx: Context, inv: Invocation) -> None:
    """A tier (``1``, ``P2``, ``二级``…) or the contract's two answers, and the title: the words
    typed, else ``title=``."""
    words, values = list(inv.args), dict(inv.options)
    if "tier" not in values and words and policy.is_tier(words[0]):
        values["tier"] = words.pop(0)
    values["title"] = " ".join(words).strip() or values.get("title", "").strip()
    if not values["title"]:
        raise UserError("error.missing_arg", name="title", usage="fault.declare")
    columns = FORM.validate(ctx, values)
    if "tier" not in columns:
        if columns.get("business_down") is None or columns.get("data_lost") is None:
            raise UserError("error.fault_which_tier")
        columns["tier"] = policy.infer_tier(columns["business_down"], columns["data_lost"])
    now = ctx.now()
    respond_by, resolve_by = policy.deadlines(
        ctx.org, columns["tier"], now, columns.get("site_code")
    )
    fault = Fault(
        **columns,
        state=s.DECLARED,
        declared_by_id=ctx.actor.id,
        declared_at=now,
        updated_at=now,
        respond_due_at=respond_by,
        resolve_due_at=resolve_by,
        escalation_level=0,
    )
    ctx.session.add(fault)
    ctx.session.flush()
    ctx.session.refresh(fault)
    audit.record(
        ctx,
        subject_type="fault",
        subject_id=fault.id,
        action="fault.declare",
        new_state=s.DECLARED,
        details={"tier": fault.tier, "title": fault.title},
    )
    timers.arm(ctx, fault)
    timers.show(ctx, fault)
    _answer(ctx, fault, "fault.declared")


def acknowledge(ctx: Context, fault: Fault, *, comment: str | None = None) -> None:
    """The actor acknowledges ``fault`` (locked): the move and its audit, the response clock
    stopped, the card repainted. ``fault ack`` and whatever else answers a fault (a repair
    started on it) go through here."""
    kit.move(ctx, s.MACHINE, fault, "ack", comment=comment)
    fault.acknowledged_at, fault.acknowledged_by_id = ctx.now(), ctx.actor.id
    ctx.session.flush()
    ctx.session.refresh(fault)
    timers.arm(ctx, fault)  # the response clock stops; the resolution clock runs on
    timers.show(ctx, fault)


@commands("fault", "ack", aliases=("acknowledge", "take", "确认", "响应", "接单"), words=1)
def ack(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv)
    acknowledge(ctx, fault)
    _answer(ctx, fault, "fault.acked")


@commands("fault", "update", aliases=("note", "进展", "更新"), options={"note": ("说明", "进展")})
def update(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv)
    text = inv.free_text("note", 1)
    if not text:
        raise UserError(
            "error.missing_arg", name="note", usage="fault.update", ref=ref("fault", fault.id)
        )
    if fault.state == s.CLOSED:
        raise UserError("error.fault_bad_state", action="update", state=fault.state)
    audit.record(
        ctx, subject_type="fault", subject_id=fault.id, action="fault.update", comment=text
    )
    fault.updated_at = ctx.now()
    timers.show(ctx, fault)
    ctx.reply(Text(ctx.t("fault.noted", ref=ref("fault", fault.id)), tone="success"))


@commands("fault", "tier", aliases=("level", "定级", "级别"))
def retier(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv)
    tier = policy.parse_tier(inv.arg(1, "tier"))
    if fault.state == s.CLOSED:
        raise UserError("error.fault_bad_state", action="tier", state=fault.state)
    if tier == fault.tier:
        raise UserError("error.fault_same_tier", tier=tier)
    old = fault.tier
    fault.tier = tier
    fault.respond_due_at, fault.resolve_due_at = policy.deadlines(
        ctx.org, tier, fault.declared_at, fault.site_code
    )
    audit.record(
        ctx,
        subject_type="fault",
        subject_id=fault.id,
        action="fault.tier",
        details={"from": old, "to": tier},
        comment=inv.rest(2) or None,
    )
    timers.arm(ctx, fault)  # recomputed from the declaration time
    timers.show(ctx, fault)
    _answer(ctx, fault, "fault.retiered")


@commands(
    "fault",
    "resolve",
    aliases=("fixed", "solve", "解决", "已解决", "恢复"),
    options={"summary": ("总结", "处理", "说明")},
)
def resolve(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv)
    summary = inv.free_text("summary", 1)
    if not summary:
        raise UserError("error.fault_summary_needed", ref=ref("fault", fault.id))
    first_response = fault.acknowledged_at is None
    kit.move(ctx, s.MACHINE, fault, "resolve", comment=summary)
    now = ctx.now()
    if first_response:  # resolving is also the response
        fault.acknowledged_at, fault.acknowledged_by_id = now, ctx.actor.id
    fault.resolved_at, fault.resolved_by_id, fault.resolution = now, ctx.actor.id, summary
    ctx.session.flush()
    ctx.session.refresh(fault)
    timers.stop(ctx, fault)
    timers.show(ctx, fault)
    _answer(ctx, fault, "fault.resolved")


@commands("fault", "close", aliases=("关闭", "结案"), options={"cause": ("原因", "根因", "root")})
def close(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv)
    cause = inv.free_text("cause", 1)
    if not cause:
        raise UserError("error.fault_cause_needed", ref=ref("fault", fault.id))
    kit.move(ctx, s.MACHINE, fault, "close", comment=cause)
    fault.closed_at, fault.root_cause = ctx.now(), cause
    timers.show(ctx, fault)
    _answer(ctx, fault, "fault.closed")
    report.publish(ctx, fault)


@commands("fault", "reopen", aliases=("重开", "重新打开"), options={"reason": ("原因",)})
def reopen(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv)
    reason = inv.free_text("reason", 1)
    if not reason:
        raise UserError("error.reason_required")
    kit.move(ctx, s.MACHINE, fault, "reopen", comment=reason)
    fault.resolved_at = fault.resolved_by_id = fault.closed_at = None
    fault.resolution = fault.root_cause = None  # the earlier ones stay in the audit log
    ctx.session.flush()
    ctx.session.refresh(fault)
    timers.arm(ctx, fault)  # the resolution clock runs again, against the original target
    timers.show(ctx, fault)
    _answer(ctx, fault, "fault.reopened")


@commands("fault", "refresh", aliases=("刷新",), words=1)
def refresh(ctx: Context, inv: Invocation) -> None:
    """Repaint the card where it is shown: the clicked WeCom card gets the current countdown."""
    fault = load(ctx, inv)
    timers.show(ctx, fault)
    ctx.reply(fault_card(ctx, ctx.locale, fault, ctx.actor))


@commands("fault", "show", aliases=("view", "get", "查看", "详情"), words=1)
def show(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv, lock=False)
    ctx.reply(fault_card(ctx, ctx.locale, fault, ctx.actor))
