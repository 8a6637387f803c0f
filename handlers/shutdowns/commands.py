"""Shutdown commands: request, the approval chain (approve / changes / reject), edit, cancel,
show. The window itself (begin, extend, complete) is in ``window.py``."""

from handlers import audit, display, kit
from handlers.context import Context
from handlers.errors import UserError
from handlers.messages import Text
from handlers.refs import ref
from handlers.registry import Area, Commands, Invocation
from handlers.shutdowns import approvals, checks, form, notices, timers
from handlers.shutdowns import states as s
from handlers.shutdowns.cards import CARDS, shutdown_card
from storage.models import Person, Shutdown

commands = Commands(Area("shutdown", ("shutdowns", "s", "停机", "停机申请", "停服")))


def load(ctx: Context, inv: Invocation, *, lock: bool = True) -> Shutdown:
    """The shutdown the command's first word names (locked for a change unless ``lock``)."""
    return kit.load(ctx, s.MACHINE, inv.arg(0, "ref"), lock=lock)


def waiting_on(ctx: Context, shutdown: Shutdown) -> list[Person]:
    """Whoever may take the decision the shutdown waits for."""
    step = s.MACHINE.step("approve", shutdown.state)
    if step is None:
        return []
    able = kit.able(s.MACHINE, step, shutdown, kit.staff(ctx))
    return [ctx.session.get(Person, p.id) for p in able]


def announce(ctx: Context, shutdown: Shutdown, event: str | None = None) -> None:
    """The card wherever it is shown, anew to whoever it now waits for; and the event's notice
    (``shutdown_<event>``) to the requester."""
    display.show(ctx, CARDS, shutdown, to=waiting_on(ctx, shutdown))
    if event:
        requester = [shutdown.requester]
        display.tell(ctx, s.MACHINE, shutdown, requester, notices.notice(ctx, shutdown, event))


def answer(ctx: Context, shutdown: Shutdown, key: str, *, card: bool = False) -> None:
    """What was done; with ``card``, the card too (a request, or one changed). A decision's
    card is rewritten where it is shown (the clicked one included), not sent again."""
    ctx.reply(Text(ctx.t(key, ref=ref("shutdown", shutdown.id)), tone="success"))
    if card:
        ctx.reply(shutdown_card(ctx, ctx.locale, shutdown, ctx.actor))


def _warnings(ctx: Context, shutdown: Shutdown) -> None:
    """Refuse a window that clashes when the organisation says so; else the card warns."""
    if ctx.org.shutdowns.refuse_conflicts and (clash := checks.conflicts(ctx, shutdown)):
        raise UserError("error.shutdown_conflict", refs=", ".join(clash))
    if not approvals.completable(ctx, shutdown):
        ctx.reply(Text(ctx.t("shutdown.nobody_approves"), tone="warning"))


@commands("shutdown", "request", aliases=("new", "file", "申请", "提交"), form=form.FORM, words=0)
def request(ctx: Context, inv: Invocation) -> None:
    columns = {"notify": [], "emergency": False, **form.FORM.validate(ctx, inv.options)}
    emergency = columns["emergency"]
    checks.window(
        ctx, columns["starts_at"], columns["ends_at"], emergency=emergency,
        link=columns.get("link_ref"),
    )  # fmt: skip
    now = ctx.now()
    engineers = list(dict.fromkeys([ctx.actor.id, *columns.pop("engineer_ids", [])]))
    shutdown = Shutdown(
        **columns,
        state=s.REQUESTED,
        requester_id=ctx.actor.id,
        planned_end_at=columns["ends_at"],
        engineer_ids=engineers,
        chain=approvals.chain(ctx, columns["systems"], emergency),
        approved_steps=0,
        approver_ids=[],
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(shutdown)
    ctx.session.flush()
    ctx.session.refresh(shutdown)
    _warnings(ctx, shutdown)
    audit.record(
        ctx, subject_type="shutdown", subject_id=shutdown.id, action="shutdown.request",
        new_state=s.REQUESTED, details=audit.plain(columns),
    )  # fmt: skip
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.filed", card=True)


@commands("shutdown", "approve", aliases=("ok", "批准", "同意", "通过"))
def approve(ctx: Context, inv: Invocation) -> None:
    """The next step of the chain (the last one approves the window), or an extension."""
    shutdown = load(ctx, inv)
    comment = inv.rest(1) or None
    if shutdown.state == s.EXTENSION:
        kit.move(ctx, s.MACHINE, shutdown, "approve", comment=comment,
                 details={"to": shutdown.extend_to.isoformat()})  # fmt: skip
        shutdown.ends_at, shutdown.extend_to = shutdown.extend_to, None
        shutdown.sequence += 1
        timers.schedule(ctx, shutdown, overrun_only=True)
        notices.tell_everyone(ctx, shutdown, notices.notice(ctx, shutdown, "extended"))
        announce(ctx, shutdown)
        answer(ctx, shutdown, "shutdown.done_extended")
        return
    last = shutdown.approved_steps + 1 >= len(shutdown.chain)
    kit.check(ctx, s.MACHINE, shutdown, "approve" if last else "endorse")
    if approvals.needed_later(ctx, shutdown):
        raise UserError("error.shutdown_needed_later", ref=ref("shutdown", shutdown.id))
    step = {"step": shutdown.approved_steps + 1, "of": len(shutdown.chain),
            **shutdown.chain[shutdown.approved_steps]}  # fmt: skip
    kit.move(ctx, s.MACHINE, shutdown, "approve" if last else "endorse", comment=comment,
             details=step)  # fmt: skip
    shutdown.approver_ids = [*shutdown.approver_ids, ctx.actor.id]
    shutdown.approved_steps += 1
    if last:
        timers.schedule(ctx, shutdown)
        notices.tell_everyone(
            ctx, shutdown, notices.notice(ctx, shutdown, "approved"), calendar_file=True
        )
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.done_approved" if last else "shutdown.done_endorsed")


def _reason(inv: Invocation, key: str) -> str:
    text = inv.free_text(key, 1)
    if not text:
        raise UserError("error.reason_required")
    return text[:1000]


@commands("shutdown", "reject", aliases=("deny", "驳回", "拒绝"), options={"reason": ("原因",)})
def reject(ctx: Context, inv: Invocation) -> None:
    """Refuse the request, or the extension asked for (the window then ends as planned)."""
    shutdown = load(ctx, inv)
    reason = _reason(inv, "reason")
    extension = shutdown.state == s.EXTENSION
    kit.move(ctx, s.MACHINE, shutdown, "reject", comment=reason)
    shutdown.decision_note, shutdown.extend_to = reason, None
    announce(ctx, shutdown, "extension_refused" if extension else "rejected")
    answer(ctx, shutdown, "shutdown.done_rejected")


@commands(
    "shutdown",
    "changes",
    aliases=("return", "退回", "修改意见"),
    options={"note": ("说明", "意见")},
)
def request_changes(ctx: Context, inv: Invocation) -> None:
    shutdown = load(ctx, inv)
    note = _reason(inv, "note")
    kit.move(ctx, s.MACHINE, shutdown, "changes", comment=note)
    shutdown.decision_note = note
    announce(ctx, shutdown, "changes")
    answer(ctx, shutdown, "shutdown.changes_sent")


@commands(
    "shutdown", "edit", aliases=("update", "resubmit", "修改", "重新提交"),
    options=form.FORM.options, words=1,
)  # fmt: skip
def edit(ctx: Context, inv: Invocation) -> None:
    """Change a request; its approvals start again."""
    shutdown = load(ctx, inv)
    if not inv.options:
        raise UserError("error.nothing_to_change")
    columns = form.FORM.validate(ctx, inv.options, partial=True)
    kit.check(ctx, s.MACHINE, shutdown, "edit")
    start = columns.get("starts_at", shutdown.starts_at)
    end = columns.get("ends_at", shutdown.ends_at)
    emergency = columns.get("emergency", shutdown.emergency)
    checks.window(ctx, start, end, emergency=emergency,
                  link=columns.get("link_ref", shutdown.link_ref))  # fmt: skip
    kit.move(ctx, s.MACHINE, shutdown, "edit", details=audit.plain(columns))
    if "engineer_ids" in columns:
        columns["engineer_ids"] = list(
            dict.fromkeys([shutdown.requester_id, *columns["engineer_ids"]])
        )
    for key, value in columns.items():
        setattr(shutdown, key, value)
    shutdown.planned_end_at = shutdown.ends_at
    shutdown.chain = approvals.chain(ctx, shutdown.systems, shutdown.emergency)
    shutdown.approved_steps, shutdown.approver_ids, shutdown.decision_note = 0, [], None
    _warnings(ctx, shutdown)
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.updated", card=True)


@commands("shutdown", "cancel", aliases=("withdraw", "取消", "撤回"), options={"reason": ("原因",)})
def cancel(ctx: Context, inv: Invocation) -> None:
    shutdown = load(ctx, inv)
    was_approved = shutdown.state == s.APPROVED
    reason = inv.free_text("reason", 1) or None
    kit.move(ctx, s.MACHINE, shutdown, "cancel", comment=reason)
    shutdown.decision_note = reason
    shutdown.sequence += 1
    timers.cancel(ctx, shutdown)
    if was_approved:  # those told of the window hear it is off
        notices.tell_everyone(ctx, shutdown, notices.notice(ctx, shutdown, "cancelled"))
    announce(ctx, shutdown)
    answer(ctx, shutdown, "shutdown.cancelled")


@commands("shutdown", "show", aliases=("view", "get", "查看", "详情"), words=1)
def show(ctx: Context, inv: Invocation) -> None:
    ctx.reply(shutdown_card(ctx, ctx.locale, load(ctx, inv, lock=False), ctx.actor))
