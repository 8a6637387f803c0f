"""Closing a repair (document 000 §6, §8): complete it (the checklist passed, or a supervisor's
override), the maintenance report archived and handed out, the business owners asked to verify;
their answer; after the follow-up the admins confirm it stable, or it is reopened."""

from handlers import display, kit
from handlers.context import Context
from handlers.errors import UserError
from handlers.messages import Text
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from handlers.repairs import report, timers, views, words
from handlers.repairs import states as s
from handlers.repairs.commands import announce, answer, engineers, load, log, owners

commands = Commands()


@commands("repair", "complete", aliases=("done", "finish", "完成", "结束"),
          options={"override": ("force", "强制", "越过")}, words=1)  # fmt: skip
def complete(ctx: Context, inv: Invocation) -> None:
    """Refused while a checklist item is open or failed, unless a supervisor overrides it with a
    reason. The report is archived and handed out; the owners are asked to verify."""
    repair = load(ctx, inv)
    unfinished = views.unfinished(repair)
    reason = (inv.opt("override") or "")[:1000]
    action = "override" if unfinished and reason else "complete"
    kit.check(ctx, s.MACHINE, repair, action)
    details = {}
    if unfinished and not reason:
        labels = ", ".join(views.item_label(ctx, ctx.locale, i) for i in unfinished)
        raise UserError("error.repair_items_open", ref=ref("repair", repair.id), items=labels)
    if action == "override":
        repair.override = {"reason": reason, "by": ctx.actor.name, "items": unfinished}
        details = {"items": unfinished}
    kit.move(ctx, s.MACHINE, repair, action, comment=reason or None, details=details)
    repair.completed_at = ctx.now()
    timers.schedule(ctx, repair)
    report.archive(ctx, repair)
    asked = owners(ctx, repair)
    subject = ref("repair", repair.id)

    def ask(locale: str, _viewer) -> Text:
        text = ctx.i18n.t(locale, "repair.verify_ask", ref=subject, system=repair.system)
        return Text(text)

    display.tell(ctx, s.MACHINE, repair, asked, ask)
    announce(ctx, repair, to=asked)
    answer(ctx, repair, "repair.completed", hours=ctx.org.repairs.followup_hours)
    report.publish(ctx, repair)
    if not asked:
        ctx.reply(Text(ctx.t("repair.nobody_verifies"), tone="warning"))


@commands("repair", "verify", aliases=("confirm", "验证", "业务验证", "确认"),
          options={"feedback": ("反馈", "意见", "说明")})  # fmt: skip
def verify(ctx: Context, inv: Invocation) -> None:
    """A business owner's answer, ``ok`` or ``problem`` (with feedback): written into the
    archived report; the engineers are told (and the admins, of a problem)."""
    repair = load(ctx, inv)
    kit.check(ctx, s.MACHINE, repair, "verify")
    verdict = words.pick(inv.arg(1, "answer"), words.ANSWERS, "error.repair_answer")
    feedback = inv.free_text("feedback", 2)[:2000] or None
    if verdict == words.PROBLEM and not feedback:
        raise UserError("error.repair_feedback_needed", ref=ref("repair", repair.id))
    repair.verification = {"answer": verdict, "feedback": feedback, "by": ctx.actor.name,
                           "by_id": ctx.actor.id, "at": ctx.now().isoformat()}  # fmt: skip
    kit.move(ctx, s.MACHINE, repair, "verify", comment=feedback, details={"answer": verdict})
    report.archive(ctx, repair)
    subject = ref("repair", repair.id)

    def told(locale: str, _viewer) -> Text:
        text = ctx.i18n.t(locale, f"repair.verified_notice_{verdict}", ref=subject,
                          by=ctx.actor.name, feedback=feedback or "")  # fmt: skip
        return Text(text, tone="warning" if verdict == words.PROBLEM else "success")

    whom = engineers(ctx, repair)
    if verdict == words.PROBLEM:
        whom += timers.admins(ctx)
    display.tell(ctx, s.MACHINE, repair, whom, told)
    announce(ctx, repair)
    log(ctx, repair, f"repair.verified_notice_{verdict}", "warning" if verdict == words.PROBLEM
        else "success", by=ctx.actor.name, feedback=feedback or "")  # fmt: skip
    answer(ctx, repair, f"repair.done_verified_{verdict}")


@commands("repair", "stable", aliases=("稳定", "运行稳定"), options={"note": ("说明", "备注")})
def stable(ctx: Context, inv: Invocation) -> None:
    """The follow-up is over and the system runs well (an admin)."""
    repair = load(ctx, inv)
    note = inv.free_text("note", 1)[:1000] or None
    kit.move(ctx, s.MACHINE, repair, "stable", comment=note)
    repair.stable_at = ctx.now()
    timers.cancel(ctx, repair)
    announce(ctx, repair)
    log(ctx, repair, "repair.log_stable", "success", by=ctx.actor.name, note=note)
    answer(ctx, repair, "repair.done_stable")


@commands("repair", "reopen", aliases=("重开", "重新打开"), options={"reason": ("原因",)})
def reopen(ctx: Context, inv: Invocation) -> None:
    """Back under way: the follow-up stops, the verification and any override are asked again
    at the next completion (the audit trail and the archived report keep the earlier ones)."""
    repair = load(ctx, inv)
    reason = inv.free_text("reason", 1)[:1000]
    if not reason:
        raise UserError("error.reason_required")
    kit.move(ctx, s.MACHINE, repair, "reopen", comment=reason)
    repair.completed_at = repair.followup_due_at = repair.stable_at = None
    repair.verification = repair.override = None
    timers.cancel(ctx, repair)
    subject = ref("repair", repair.id)

    def told(locale: str, _viewer) -> Text:
        text = ctx.i18n.t(locale, "repair.reopened_notice", ref=subject, by=ctx.actor.name,
                          reason=reason)  # fmt: skip
        return Text(text, tone="warning")

    display.tell(ctx, s.MACHINE, repair, engineers(ctx, repair), told)
    announce(ctx, repair, to=engineers(ctx, repair))
    log(ctx, repair, "repair.reopened_notice", "warning", by=ctx.actor.name, reason=reason)
    answer(ctx, repair, "repair.done_reopened")
