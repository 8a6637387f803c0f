"""Visit commands: request, decide (review / approve / reject / changes), edit, cancel, show."""

from handlers import audit, display, kit
from handlers.context import Context
from handlers.errors import UserError
from handlers.messages import Text
from handlers.refs import ref
from handlers.registry import Area, Commands, Invocation
from handlers.visits import form, guard, overlap, timers
from handlers.visits import states as s
from handlers.visits.cards import CARDS, tone, visit_card
from storage.models import Person, Visit

commands = Commands(Area("visit", ("visits", "v", "访问", "访问申请", "来访", "进机房")))
ROLES_TOLD = ("admin", "supervisor")  # roles an event's ``to`` may name besides the people


def load(ctx: Context, inv: Invocation, *, lock: bool = True) -> Visit:
    """The visit the command's first word names (locked for a change unless ``lock`` is off)."""
    return kit.load(ctx, s.MACHINE, inv.arg(0, "ref"), lock=lock)


def announce(ctx: Context, visit: Visit, event: str, *, to: tuple[str, ...] = ()) -> None:
    """Tell people about a visit's event. ``to`` holds ``requester`` / ``responsible`` (who get
    the event's notice) and role names; the card goes to the visits channel (updated in place
    wherever it is shown), and as a new message to those roles and to whoever the visit now
    waits for. Nobody hears of their own action, and nobody gets both a notice and a card.
    """

    def notice(locale: str, viewer: Person | None) -> Text:
        own = viewer is not None and viewer.id == visit.requester_id
        subject = ref("visit", visit.id)
        text = ctx.i18n.render(
            locale, f"visit_{event}", visit=visit, ref=subject, actor=ctx.actor, own=own
        )
        return Text(text, tone=tone(visit))

    told = [p for key, p in (("requester", visit.requester), ("responsible", visit.responsible))
            if key in to]  # fmt: skip
    display.tell(ctx, s.MACHINE, visit, told, notice)
    everyone = kit.staff(ctx)
    roles = [r for r in to if r in ROLES_TOLD]
    deciders = [p for p in everyone.people if any(p.has(r) for r in roles)]
    deciders += guard.waiting_on(visit, everyone)
    skip = {ctx.actor.id} | {p.id for p in told}
    ids = dict.fromkeys(p.id for p in deciders if p.id not in skip)
    display.show(ctx, CARDS, visit, to=[ctx.session.get(Person, i) for i in ids])


def _filed(ctx: Context, visit: Visit, key: str, overlapping: list[Visit]) -> None:
    """Answer a filing or a resubmission: done, the visits it overlaps, what keeps it from
    completing, the card."""
    ctx.reply(Text(ctx.t(key, ref=ref("visit", visit.id)), tone="success"))
    if overlapping:
        room = f"{visit.room.site.code}/{visit.room.code}"
        ctx.reply(Text(ctx.t("visit.overlap_notice", room=room, **overlap.named(overlapping))))
    for problem in guard.shortfall(visit, kit.staff(ctx)):
        ctx.reply(Text(ctx.t(problem), tone="warning"))
    ctx.reply(visit_card(ctx, ctx.locale, visit, ctx.actor))


@commands(
    "visit",
    "request",
    aliases=("new", "file", "申请", "提交", "预约"),
    form=form.FORM,
    options=form.IDENTITY_PARTS,
)
def request(ctx: Context, inv: Invocation) -> None:
    requester = ctx.session.get(Person, ctx.actor.id)
    fields = form.FORM.validate(ctx, form.FORM.with_positionals(inv.args, inv.options))
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
        details=audit.plain(fields),
    )
    announce(ctx, visit, "requested")
    _filed(ctx, visit, "visit.filed", others)


@commands("visit", "approve", aliases=("ok", "pass", "批准", "通过", "同意"))
def approve(ctx: Context, inv: Invocation) -> None:
    """Review when requested (admin), approve when reviewed (supervisor)."""
    visit = load(ctx, inv)
    action = "review" if visit.state == s.REQUESTED else "approve"
    _decide(ctx, visit, action, inv.rest(1) or None)


@commands("visit", "review", aliases=("审核",))
def review(ctx: Context, inv: Invocation) -> None:
    _decide(ctx, load(ctx, inv), "review", inv.rest(1) or None)


def _decide(ctx: Context, visit: Visit, action: str, comment: str | None) -> None:
    kit.move(ctx, s.MACHINE, visit, action, comment=comment)
    if action == "review":
        visit.reviewed_by_id = ctx.actor.id
        announce(ctx, visit, "reviewed", to=("requester",))
    else:
        visit.approved_by_id = ctx.actor.id
        timers.schedule_overrun(ctx, visit)
        announce(ctx, visit, "approved", to=("requester", "responsible"))
    ctx.reply(Text(ctx.t(f"visit.done_{action}", ref=ref("visit", visit.id)), tone="success"))


def _reason(inv: Invocation, key: str) -> str:
    text = inv.free_text(key, 1)
    if not text:
        raise UserError("error.reason_required")
    return text[:1000]


@commands("visit", "reject", aliases=("deny", "驳回", "拒绝"), options={"reason": ("原因", "理由")})
def reject(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv)
    reason = _reason(inv, "reason")
    kit.move(ctx, s.MACHINE, visit, "reject", comment=reason)
    visit.decision_note = reason
    announce(ctx, visit, "rejected", to=("requester",))
    ctx.reply(Text(ctx.t("visit.rejected", ref=ref("visit", visit.id)), tone="success"))


@commands(
    "visit",
    "changes",
    aliases=("return", "revise", "退回", "修改意见", "要求修改"),
    options={"note": ("reason", "说明", "意见")},
)
def request_changes(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv)
    note = _reason(inv, "note")
    kit.move(ctx, s.MACHINE, visit, "changes", comment=note)
    visit.decision_note = note
    visit.reviewed_by_id = None
    announce(ctx, visit, "changes", to=("requester",))
    ctx.reply(Text(ctx.t("visit.changes_sent", ref=ref("visit", visit.id)), tone="success"))


@commands(
    "visit",
    "edit",
    aliases=("update", "resubmit", "修改", "重新提交"),
    options={**form.FORM.options, **form.IDENTITY_PARTS},
    words=1,
)
def edit(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv)
    if not inv.options:
        raise UserError("error.nothing_to_change")
    fields = form.FORM.validate(ctx, inv.options, partial=True)
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
    kit.move(ctx, s.MACHINE, visit, "edit", details=audit.plain(fields))
    for key, value in fields.items():
        setattr(visit, key, value)
    visit.decision_note = None  # the send-back note belongs to the round that ended
    ctx.session.flush()
    ctx.session.refresh(visit)
    announce(ctx, visit, "resubmitted")
    _filed(ctx, visit, "visit.updated", others)


@commands("visit", "cancel", aliases=("withdraw", "取消", "撤回"), options={"reason": ("原因",)})
def cancel(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv)
    reason = inv.opt("reason") or inv.rest(1) or None
    told = (
        ("requester", "admin", "responsible")
        if visit.state == s.APPROVED
        else ("requester", "admin")
    )
    kit.move(ctx, s.MACHINE, visit, "cancel", comment=reason)
    visit.decision_note = reason
    timers.cancel_all(ctx, visit)
    announce(ctx, visit, "cancelled", to=told)
    ctx.reply(Text(ctx.t("visit.cancelled", ref=ref("visit", visit.id)), tone="success"))


@commands("visit", "show", aliases=("view", "get", "查看", "详情"), words=1)
def show(ctx: Context, inv: Invocation) -> None:
    visit = load(ctx, inv, lock=False)
    ctx.reply(visit_card(ctx, ctx.locale, visit, ctx.actor))
