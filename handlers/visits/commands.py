"""Visit commands: request, decide (review / approve / reject / changes), edit, cancel, show."""

from sqlalchemy.orm import Session

from handlers import audit, forms, notify, people
from handlers.context import Context
from handlers.errors import NotFound, UserError
from handlers.messages import Text
from handlers.refs import parse_ref, ref
from handlers.registry import Invocation, area, command
from handlers.visits import form, guard, overlap, reminders
from handlers.visits import states as s
from handlers.visits.cards import tone, visit_card
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
    """Tell people about a visit's event. ``to`` holds ``requester`` / ``responsible`` (who get
    the event's notice) and role names; the card goes to the visits channel (updated in place
    wherever it is shown), and as a new message to those roles and to whoever the visit now
    waits for. Nobody hears of their own action, and nobody gets both a notice and a card.
    """
    subject = ref("visit", visit.id)

    def card(locale, viewer):
        actor = viewer and people.actor_of(viewer, ctx.i18n.default_locale)
        return visit_card(ctx.i18n, locale, visit, viewer=actor)

    def notice(locale, own):
        text = ctx.i18n.render(
            locale, f"visit_{event}", visit=visit, ref=subject, actor=ctx.actor, own=own
        )
        return Text(text, tone=tone(visit))

    skip = {ctx.actor.id}
    for target in ("requester", "responsible"):
        person = visit.requester if target == "requester" else visit.responsible
        if target in to and person.id not in skip:
            own = target == "requester"
            notify.person(ctx, person, lambda loc, _viewer, own=own: notice(loc, own), subject)
            skip.add(person.id)
    staff = guard.staff(ctx.session, ctx.i18n.default_locale)
    roles = [r for r in to if r not in ("requester", "responsible")]
    told = [p for p in staff if any(p.has(r) for r in roles)]
    told += guard.waiting_on(guard.Parties.of(visit), visit.state, staff)
    ids = [p.id for p in told if p.id not in skip]
    cards_to = [ctx.session.get(Person, i) for i in dict.fromkeys(ids)]
    notify.subject_card(ctx, "visits", card, subject, to=cards_to)


def change_state(
    ctx: Context, visit: Visit, action: str, *, comment: str | None = None, details=None
) -> s.Transition:
    """Apply one step once the state and the rules allow it, and record it in the audit log."""
    t = guard.check(ctx, visit, action)
    audit.move(ctx, "visit", visit, action, t.target, comment=comment, details=details)
    return t


def _filed(ctx: Context, visit: Visit, key: str, overlapping: list[Visit]) -> None:
    """Answer a filing or a resubmission: done, the visits it overlaps, what keeps it from
    completing, the card."""
    ctx.reply(Text(ctx.t(key, ref=ref("visit", visit.id)), tone="success"))
    if overlapping:
        room = f"{visit.room.site.code}/{visit.room.code}"
        ctx.reply(Text(ctx.t("visit.overlap_notice", room=room, **overlap.named(overlapping))))
    staff = guard.staff(ctx.session, ctx.i18n.default_locale)
    for problem in guard.shortfall(guard.Parties.of(visit), visit.state, staff):
        ctx.reply(Text(ctx.t(problem), tone="warning"))
    ctx.reply(visit_card(ctx.i18n, ctx.locale, visit, viewer=ctx.actor))


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
    others = overlap.check(ctx, fields["room_id"], fields["start_at"], fields["duration_minutes"])
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
    announce(ctx, visit, "requested")
    _filed(ctx, visit, "visit.filed", others)


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
    change_state(ctx, visit, action, comment=comment)
    if action == "review":
        visit.reviewed_by_id = ctx.actor.id
        announce(ctx, visit, "reviewed", to=("requester",))
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
    others = []
    if fields.keys() & {"start_at", "duration_minutes", "room_id"}:  # a new time or room
        room_id = fields.get("room_id", visit.room_id)
        minutes = fields.get("duration_minutes", visit.duration_minutes)
        others = overlap.check(ctx, room_id, start_at, minutes, other_than=visit.id)
    change_state(ctx, visit, "edit", details=_audit_fields(fields))
    for key, value in fields.items():
        setattr(visit, key, value)
    visit.decision_note = None  # the send-back note belongs to the round that ended
    ctx.session.flush()
    ctx.session.refresh(visit)
    announce(ctx, visit, "resubmitted")
    _filed(ctx, visit, "visit.updated", others)


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
    ctx.reply(visit_card(ctx.i18n, ctx.locale, visit, viewer=ctx.actor))
