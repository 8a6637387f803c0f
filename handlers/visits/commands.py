"""Visit commands: request, decide (review / approve / reject / changes), edit, cancel, show."""

from sqlalchemy.orm import Session

from handlers import audit, forms, notify
from handlers.context import Context
from handlers.errors import NotFound, UserError
from handlers.messages import Text
from handlers.refs import parse_ref, ref
from handlers.registry import Invocation, area, command
from handlers.visits import form, reminders
from handlers.visits import states as s
from handlers.visits.cards import visit_card
from storage.models import Person, Visit

area("visit", "visits", "v", "访问", "访问申请", "来访", "进机房")


def load(session: Session, word: str, *, lock: bool = False) -> Visit:
    _, ident = parse_ref(word, expected="visit")
    # lock the visit row only: PostgreSQL refuses FOR UPDATE on the outer-joined people and room
    visit = session.get(Visit, ident, with_for_update={"of": Visit} if lock else None)
    if visit is None:
        raise NotFound("error.not_found", ref=ref("visit", ident))
    return visit


def announce(ctx: Context, visit: Visit, event: str, *, to: tuple[str, ...] = ()) -> None:
    """Queue the visit card for the visits channel and notices to the people ``to`` names.

    ``to`` holds role names (admins, supervisors) and ``requester`` / ``responsible``.
    """
    subject = ref("visit", visit.id)

    def card(locale):
        return visit_card(ctx.i18n, locale, visit)

    def notice(locale, own=True):
        text = ctx.i18n.render(
            locale, f"visit_{event}", visit=visit, ref=subject, actor=ctx.actor, own=own
        )
        return Text(text, tone=visit_card(ctx.i18n, locale, visit, with_actions=False).tone)

    notify.subject_card(ctx, "visits", card, subject)
    skip = {ctx.actor.id}
    # people first: someone who is also in a notified role gets their own notice, not a 2nd card
    for target in sorted(to, key=lambda t: t not in ("requester", "responsible")):
        if target in ("requester", "responsible"):
            person = visit.requester if target == "requester" else visit.responsible
            if person.id not in skip:
                own = target == "requester"
                notify.person(ctx, person, lambda loc, own=own: notice(loc, own), subject)
                skip.add(person.id)
        else:
            notify.role(ctx, target, card, subject, skip=skip)


def change_state(
    ctx: Context, visit: Visit, action: str, *, comment: str | None = None, details=None
) -> s.Transition:
    """Apply one transition after the state and role checks, and record it in the audit log."""
    t = s.transition(action, visit.state)
    s.check_actor(t, ctx.actor, visit.requester_id)
    audit.move(ctx, "visit", visit, action, t.target, comment=comment, details=details)
    return t


@command("visit", "request", aliases=("new", "file", "申请", "提交", "预约"), options=form.OPTIONS)
def request(ctx: Context, inv: Invocation) -> None:
    requester = ctx.session.get(Person, ctx.actor.id)
    values = forms.with_positionals(forms.FORMS["visit request"], inv.args, inv.options)
    fields = form.validate(ctx, values, requester)
    fields.setdefault("responsible_id", requester.id)
    fields.setdefault("visitor_name", requester.name)
    fields.setdefault("certificates", None)
    fields.setdefault("tools", [])
    form.check_timing(
        ctx, fields["start_at"], fields.get("emergency", False), fields.get("fault_ref")
    )
    now = ctx.now()
    visit = Visit(
        state=s.REQUESTED, requester_id=requester.id, created_at=now, updated_at=now, **fields
    )
    ctx.session.add(visit)
    ctx.session.flush()
    ctx.session.refresh(visit)
    audit.record(
        ctx,
        subject_type="visit",
        subject_id=visit.id,
        action="visit.request",
        new_state=s.REQUESTED,
        details=_audit_fields(fields),
    )
    announce(ctx, visit, "requested", to=("admin",))
    ctx.reply(Text(ctx.t("visit.filed", ref=ref("visit", visit.id)), tone="success"))
    ctx.reply(visit_card(ctx.i18n, ctx.locale, visit))


def _audit_fields(fields: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}


@command("visit", "approve", aliases=("ok", "pass", "批准", "通过", "同意"))
def approve(ctx: Context, inv: Invocation) -> None:
    """Review when requested (admin), approve when reviewed (supervisor)."""
    visit = load(ctx.session, inv.arg(0, "ref"), lock=True)
    action = "review" if visit.state == s.REQUESTED else "approve"
    _decide(ctx, visit, action, inv.rest(1) or None)


@command("visit", "review", aliases=("审核",))
def review(ctx: Context, inv: Invocation) -> None:
    _decide(ctx, load(ctx.session, inv.arg(0, "ref"), lock=True), "review", inv.rest(1) or None)


def _decide(ctx: Context, visit: Visit, action: str, comment: str | None) -> None:
    s.transition(action, visit.state)  # "already approved" outranks the reviewer rule
    if action == "approve" and ctx.actor.id == visit.reviewed_by_id:
        raise UserError("error.same_reviewer")
    change_state(ctx, visit, action, comment=comment)
    if action == "review":
        visit.reviewed_by_id = ctx.actor.id
        announce(ctx, visit, "reviewed", to=("supervisor", "requester"))
    else:
        visit.approved_by_id = ctx.actor.id
        reminders.schedule_overrun(ctx, visit)
        announce(ctx, visit, "approved", to=("requester", "responsible"))
    ctx.reply(Text(ctx.t(f"visit.done_{action}", ref=ref("visit", visit.id)), tone="success"))


def _reason(inv: Invocation, key: str) -> str:
    text = inv.free_text(key, 1)
    if not text:
        raise UserError("error.reason_required")
    return text[:1000]


@command("visit", "reject", aliases=("deny", "驳回", "拒绝"), options={"reason": ("原因", "理由")})
def reject(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx.session, inv.arg(0, "ref"), lock=True)
    reason = _reason(inv, "reason")
    change_state(ctx, visit, "reject", comment=reason)
    visit.decision_note = reason
    announce(ctx, visit, "rejected", to=("requester",))
    ctx.reply(Text(ctx.t("visit.rejected", ref=ref("visit", visit.id)), tone="success"))


@command(
    "visit",
    "changes",
    aliases=("return", "revise", "退回", "修改意见", "要求修改"),
    options={"note": ("reason", "说明", "意见")},
)
def request_changes(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx.session, inv.arg(0, "ref"), lock=True)
    note = _reason(inv, "note")
    change_state(ctx, visit, "changes", comment=note)
    visit.decision_note = note
    visit.reviewed_by_id = None
    announce(ctx, visit, "changes", to=("requester",))
    ctx.reply(Text(ctx.t("visit.changes_sent", ref=ref("visit", visit.id)), tone="success"))


@command("visit", "edit", aliases=("update", "resubmit", "修改", "重新提交"), options=form.OPTIONS)
def edit(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx.session, inv.arg(0, "ref"), lock=True)
    if not inv.options:
        raise UserError("error.nothing_to_change")
    fields = form.validate(ctx, inv.options, visit.requester, partial=True)
    start_at = fields.get("start_at", visit.start_at)
    emergency = fields.get("emergency", visit.emergency)
    # the lead time was met when it was filed: only a new time or emergency flag is checked again
    if fields.keys() & {"start_at", "emergency", "fault_ref"} or start_at <= ctx.now():
        form.check_timing(ctx, start_at, emergency, fields.get("fault_ref", visit.fault_ref))
    change_state(ctx, visit, "edit", details=_audit_fields(fields))
    for key, value in fields.items():
        setattr(visit, key, value)
    ctx.session.flush()
    ctx.session.refresh(visit)
    announce(ctx, visit, "resubmitted", to=("admin",))
    ctx.reply(Text(ctx.t("visit.updated", ref=ref("visit", visit.id)), tone="success"))
    ctx.reply(visit_card(ctx.i18n, ctx.locale, visit))


@command("visit", "cancel", aliases=("withdraw", "取消", "撤回"), options={"reason": ("原因",)})
def cancel(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx.session, inv.arg(0, "ref"), lock=True)
    reason = inv.opt("reason") or inv.rest(1) or None
    told = (
        ("requester", "admin", "responsible")
        if visit.state == s.APPROVED
        else ("requester", "admin")
    )
    change_state(ctx, visit, "cancel", comment=reason)
    visit.decision_note = reason
    reminders.cancel_all(ctx, visit)
    announce(ctx, visit, "cancelled", to=told)
    ctx.reply(Text(ctx.t("visit.cancelled", ref=ref("visit", visit.id)), tone="success"))


@command("visit", "show", aliases=("view", "get", "查看", "详情"))
def show(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx.session, inv.arg(0, "ref"))
    ctx.reply(visit_card(ctx.i18n, ctx.locale, visit))
