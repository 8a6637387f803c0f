"""Fault commands: declare, ack, update, tier, resolve, close, reopen, show, list."""

from sqlalchemy import func, or_, select

from handlers import audit, listing
from handlers.context import Context
from handlers.errors import NotFound, UserError
from handlers.faults import clocks, policy, report
from handlers.faults import states as s
from handlers.faults.cards import fault_card, tier_label
from handlers.forms import FormField, form
from handlers.messages import Card, Text
from handlers.refs import parse_ref, ref
from handlers.registry import Invocation, area, command
from handlers.values import parse_bool
from storage.models import Fault

area("fault", "faults", "f", "故障", "故障申报", "报障", "incident")

DECLARE_OPTIONS = {
    "tier": ("级别",),
    "system": ("系统", "资产", "asset"),
    "site": ("站点", "机房"),
    "description": ("描述", "desc"),
    "impact": ("影响", "业务影响"),
    "data_lost": ("数据丢失", "lost"),
    "business_down": ("业务中断", "down"),
    "title": ("标题",),
}


form(
    "fault declare",
    FormField("title", required=True),
    FormField("tier"),
    FormField("business_down", "bool"),
    FormField("data_lost", "bool"),
    FormField("system"),
    FormField("site"),
    FormField("description", "multiline"),
    FormField("impact", "multiline"),
)


def load(ctx: Context, word: str) -> Fault:
    _, ident = parse_ref(word, expected="fault")
    fault = ctx.session.get(Fault, ident, with_for_update={"of": Fault})
    if fault is None:
        raise NotFound("error.not_found", ref=ref("fault", ident))
    return fault


def change(ctx: Context, fault: Fault, action: str, *, comment=None, details=None) -> None:
    """One state change after the state check, recorded in the audit log."""
    t = s.transition(action, fault.state)
    audit.move(ctx, "fault", fault, action, t.target, comment=comment, details=details)


def _answer(ctx: Context, fault: Fault, key: str) -> None:
    ctx.reply(Text(ctx.t(key, ref=ref("fault", fault.id)), tone="success"))
    ctx.reply(fault_card(ctx.i18n, ctx.locale, fault, ctx.now()))


@command(
    "fault",
    "declare",
    aliases=("new", "open", "report", "申报", "报告", "新建"),
    options=DECLARE_OPTIONS,
)
def declare(ctx: Context, inv: Invocation) -> None:
    words = list(inv.args)
    if inv.opt("tier"):
        tier = policy.parse_tier(inv.opt("tier"))
    elif words and policy.is_tier(words[0]):
        tier = policy.parse_tier(words.pop(0))
    elif inv.opt("business_down") is not None and inv.opt("data_lost") is not None:
        tier = policy.infer_tier(inv.opt("business_down"), inv.opt("data_lost"))
    else:
        raise UserError("error.fault_which_tier")
    title = " ".join(words).strip() or (inv.opt("title") or "").strip()
    if not title:
        raise UserError("error.missing_arg", name="title", usage="fault.declare")
    now = ctx.now()
    respond_by, resolve_by = policy.deadlines(ctx.org, tier, now, inv.opt("site"))
    down, lost = inv.opt("business_down"), inv.opt("data_lost")
    fault = Fault(
        tier=tier,
        title=title[:200],
        system=inv.opt("system"),
        site_code=inv.opt("site"),
        description=inv.opt("description"),
        impact=inv.opt("impact"),
        business_down=None if down is None else parse_bool(down),
        data_lost=None if lost is None else parse_bool(lost),
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
        details={"tier": tier, "title": fault.title},
    )
    clocks.arm(ctx, fault)
    clocks.show(ctx, fault)
    _answer(ctx, fault, "fault.declared")


@command("fault", "ack", aliases=("acknowledge", "take", "确认", "响应", "接单"))
def ack(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv.arg(0, "ref"))
    change(ctx, fault, "ack")
    fault.acknowledged_at, fault.acknowledged_by_id = ctx.now(), ctx.actor.id
    ctx.session.flush()
    ctx.session.refresh(fault)
    clocks.arm(ctx, fault)  # the response clock stops; the resolution clock runs on
    clocks.show(ctx, fault)
    _answer(ctx, fault, "fault.acked")


@command("fault", "update", aliases=("note", "进展", "更新"), options={"note": ("说明", "进展")})
def update(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv.arg(0, "ref"))
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
    clocks.show(ctx, fault)
    ctx.reply(Text(ctx.t("fault.noted", ref=ref("fault", fault.id)), tone="success"))


@command("fault", "tier", aliases=("level", "定级", "级别"))
def retier(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv.arg(0, "ref"))
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
    clocks.arm(ctx, fault)  # recomputed from the declaration time
    clocks.show(ctx, fault)
    _answer(ctx, fault, "fault.retiered")


@command(
    "fault",
    "resolve",
    aliases=("fixed", "solve", "解决", "已解决", "恢复"),
    options={"summary": ("总结", "处理", "说明")},
)
def resolve(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv.arg(0, "ref"))
    summary = inv.free_text("summary", 1)
    if not summary:
        raise UserError("error.fault_summary_needed", ref=ref("fault", fault.id))
    first_response = fault.acknowledged_at is None
    change(ctx, fault, "resolve", comment=summary)
    now = ctx.now()
    if first_response:  # resolving is also the response
        fault.acknowledged_at, fault.acknowledged_by_id = now, ctx.actor.id
    fault.resolved_at, fault.resolved_by_id, fault.resolution = now, ctx.actor.id, summary
    ctx.session.flush()
    ctx.session.refresh(fault)
    clocks.stop(ctx, fault)
    clocks.show(ctx, fault)
    _answer(ctx, fault, "fault.resolved")


@command("fault", "close", aliases=("关闭", "结案"), options={"cause": ("原因", "根因", "root")})
def close(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv.arg(0, "ref"))
    cause = inv.free_text("cause", 1)
    if not cause:
        raise UserError("error.fault_cause_needed", ref=ref("fault", fault.id))
    change(ctx, fault, "close", comment=cause)
    fault.closed_at, fault.root_cause = ctx.now(), cause
    clocks.show(ctx, fault)
    _answer(ctx, fault, "fault.closed")
    report.publish(ctx, fault)


@command("fault", "reopen", aliases=("重开", "重新打开"), options={"reason": ("原因",)})
def reopen(ctx: Context, inv: Invocation) -> None:
    fault = load(ctx, inv.arg(0, "ref"))
    reason = inv.free_text("reason", 1)
    if not reason:
        raise UserError("error.reason_required")
    change(ctx, fault, "reopen", comment=reason)
    fault.resolved_at = fault.resolved_by_id = fault.closed_at = None
    fault.resolution = fault.root_cause = None  # the earlier ones stay in the audit log
    ctx.session.flush()
    ctx.session.refresh(fault)
    clocks.arm(ctx, fault)  # the resolution clock runs again, against the original target
    clocks.show(ctx, fault)
    _answer(ctx, fault, "fault.reopened")


@command("fault", "refresh", aliases=("刷新",))
def refresh(ctx: Context, inv: Invocation) -> None:
    """Repaint the card where it is shown: the clicked WeCom card gets the current countdown."""
    fault = load(ctx, inv.arg(0, "ref"))
    clocks.show(ctx, fault)
    ctx.reply(fault_card(ctx.i18n, ctx.locale, fault, ctx.now()))


@command("fault", "show", aliases=("view", "get", "查看", "详情"))
def show(ctx: Context, inv: Invocation) -> None:
    _, ident = parse_ref(inv.arg(0, "ref"), expected="fault")
    fault = ctx.session.get(Fault, ident)
    if fault is None:
        raise NotFound("error.not_found", ref=ref("fault", ident))
    ctx.reply(fault_card(ctx.i18n, ctx.locale, fault, ctx.now()))


LISTS = {
    "open": ("开放", "未关闭"),
    "mine": ("我的",),
    "breached": ("超时", "违约", "overdue"),
    "closed": ("已关闭", "关闭"),
    "all": ("全部", "所有"),
}


@command(
    "fault", "list", aliases=("ls", "列表"), options={**listing.SITE_OPTION, **listing.DATE_OPTIONS}
)
def list_faults(ctx: Context, inv: Invocation) -> None:
    word = (inv.args[0] if inv.args else "open").strip().casefold()
    kind = next((k for k, v in LISTS.items() if word == k or word in v), None)
    if kind is None:
        raise UserError("error.unknown_list", value=word, kinds=", ".join(LISTS))
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
    shown = faults[: listing.LIMIT]
    lines = [
        f"{ref('fault', f.id)} · {tier_label(ctx.i18n, ctx.locale, f)} · "
        f"{ctx.t(f'state.fault_{f.state}')} · {f.title[:60]}"
        for f in shown
    ]
    if len(faults) > len(shown):
        example = listing.example(ctx, shown[0].site_code)
        lines.append(ctx.t("fault.list_more", kind=kind, example=example))
    ctx.reply(
        Card(
            title=ctx.t(f"fault.list_{kind}", count=len(shown)),
            body="\n".join(lines) or ctx.t("fault.list_empty"),
        )
    )
