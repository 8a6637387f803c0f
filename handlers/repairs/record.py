"""What is recorded while a repair is under way: steps by phase (never edited: a correction is a
new step), parts replaced (checked against the specified spare parts), the test checklist, the
system's state before and after; and, at any time after the start, lessons learned."""

from handlers import kit, notify
from handlers.context import Context
from handlers.errors import UserError
from handlers.messages import Text
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from handlers.repairs import report, views, words
from handlers.repairs import states as s
from handlers.repairs.commands import announce, answer, load, log
from handlers.values import parse_reading
from storage.models import RepairPart, RepairStep

commands = Commands()

NOTE = {"note": ("说明", "备注")}
PART_OPTIONS = {
    "model": ("part", "型号", "备件", "部件"),
    "old": ("old_serial", "旧", "旧序列号", "原序列号"),
    "new": ("new_serial", "新", "新序列号"),
    "qty": ("quantity", "数量"),
    **NOTE,
}
READINGS = {
    "status": ("state", "状态", "运行状态"),
    "temperature": ("temp", "温度"),
    "humidity": ("湿度",),
    "load": ("负载", "工作负载"),
}


@commands("repair", "step", aliases=("log", "记录", "步骤"),
          options={"text": ("内容",), "correction": ("correct", "更正", "纠正")})  # fmt: skip
def step(ctx: Context, inv: Invocation) -> None:
    """A step in a phase; ``correction=`` records one that corrects the phase's last step."""
    repair = load(ctx, inv)
    kit.check(ctx, s.MACHINE, repair, "step")
    phases = words.PHASES[repair.kind]
    kind = ctx.t(f"repair.kind_{repair.kind}")
    phase = words.pick(inv.arg(1, "phase"), phases, "error.repair_phase", kind=kind)
    correcting = inv.opt("correction") is not None
    text = inv.free_text("correction" if correcting else "text", 2)[:2000]
    if not text:
        raise UserError("error.missing_arg", name="text", usage="repair.step", ref=_ref(repair))
    corrects = None
    if correcting:
        earlier = [x for x in repair.steps if x.phase == phase]
        if not earlier:
            raise UserError("error.repair_nothing_to_correct", ref=_ref(repair), phase=phase)
        corrects = earlier[-1].number
    number = len(repair.steps) + 1
    ctx.session.add(
        RepairStep(repair_id=repair.id, number=number, phase=phase, text=text, corrects=corrects,
                   author_id=ctx.actor.id, at=ctx.now())
    )  # fmt: skip
    details = {"phase": phase, "number": number, "corrects": corrects}
    kit.move(ctx, s.MACHINE, repair, "step", comment=text, details=details)
    announce(ctx, repair)
    log(ctx, repair, "repair.log_step", number=number, by=ctx.actor.name, text=text,
        corrects=corrects, phase=lambda locale: views.phase_label(ctx, locale, phase))  # fmt: skip
    answer(ctx, repair, "repair.step_recorded", number=number)


def _ref(repair) -> str:
    return ref("repair", repair.id)


def _quantity(text: str | None) -> int:
    try:
        quantity = int(text or "1")
    except ValueError:
        quantity = 0
    if not 1 <= quantity <= 1000:
        raise UserError("error.repair_part_qty", value=text)
    return quantity


@commands(
    "repair", "part", aliases=("parts", "备件", "更换", "部件"), options=PART_OPTIONS, words=1
)
def part(ctx: Context, inv: Invocation) -> None:
    """A part replaced: its model, the serials out and in, how many. A model not on the
    organisation's specified spare parts for the system's type is recorded, flagged, and the
    supervisors are told."""
    repair = load(ctx, inv)
    kit.check(ctx, s.MACHINE, repair, "part")
    model, old, new = (inv.opt(k, "").strip()[:128] or None for k in ("model", "old", "new"))
    if not model:
        raise UserError("error.repair_part_model", ref=_ref(repair))
    if old and new and old.casefold() == new.casefold():
        raise UserError("error.repair_part_same", serial=old)
    listed = ctx.org.repairs.listed(repair.system_type, model)
    quantity = _quantity(inv.opt("qty"))
    values = {"model": model, "old_serial": old, "new_serial": new, "quantity": quantity,
              "listed": listed, "note": inv.opt("note")}  # fmt: skip
    ctx.session.add(RepairPart(repair_id=repair.id, author_id=ctx.actor.id, at=ctx.now(), **values))
    kit.move(ctx, s.MACHINE, repair, "part", details=values)
    announce(ctx, repair)
    unlisted = listed is False
    log(ctx, repair, "repair.log_part", "warning" if unlisted else "info", model=model,
        quantity=quantity, old=old, new=new, by=ctx.actor.name, unlisted=unlisted)  # fmt: skip
    answer(ctx, repair, "repair.part_recorded", model=model)
    if listed is False:
        subject = _ref(repair)

        def build(locale: str, _viewer) -> Text:
            text = ctx.i18n.t(locale, "repair.part_unlisted", ref=subject, model=model,
                              system=repair.system, by=ctx.actor.name)  # fmt: skip
            return Text(text, tone="warning")

        notify.role(ctx, "supervisor", build, subject, skip=(ctx.actor.id,))
        ctx.reply(Text(ctx.t("repair.part_flagged", model=model), tone="warning"))


@commands("repair", "check", aliases=("test", "tests", "测试", "检查"), options=NOTE, words=1,
          open_options=True)  # fmt: skip
def check(ctx: Context, inv: Invocation) -> None:
    """Checklist items passed, failed or not applicable (``boot=pass network=fail``), with a
    note; an item the repair's checklist does not have is refused with those it has."""
    repair = load(ctx, inv)
    kit.check(ctx, s.MACHINE, repair, "check")
    known = words.item_words(repair.checklist_items)
    given = {k: v for k, v in inv.options.items() if k != "note"}
    if not given:
        raise UserError("error.repair_check_nothing", ref=_ref(repair), known=", ".join(known))
    results = {
        words.pick(key, known, "error.repair_item"): words.pick(value, words.RESULTS,
                                                                "error.repair_result")
        for key, value in given.items()
    }  # fmt: skip
    note, by, at = inv.opt("note"), ctx.actor.name, ctx.now().isoformat()
    answers = {item: {"result": result, "note": note, "by": by, "at": at}
               for item, result in results.items()}  # fmt: skip
    repair.checklist = {**repair.checklist, **answers}
    kit.move(ctx, s.MACHINE, repair, "check", comment=note, details=results)
    announce(ctx, repair)
    log(ctx, repair, "repair.log_check", "warning" if words.FAIL in results.values() else "info",
        by=by, note=note, results=lambda locale: [(views.item_label(ctx, locale, i), r)
                                                  for i, r in results.items()])  # fmt: skip
    answer(ctx, repair, "repair.checked", tally=views.tally(ctx, ctx.locale, repair))


@commands("repair", "state", aliases=("reading", "readings", "状态", "系统状态"),
          options={**READINGS, **NOTE}, words=2)  # fmt: skip
def state(ctx: Context, inv: Invocation) -> None:
    """The system's state before or after (status, temperature, humidity, load), numbers kept
    as numbers; read again, a value replaces the one before."""
    repair = load(ctx, inv)
    kit.check(ctx, s.MACHINE, repair, "state")
    moment = words.pick(inv.arg(1, "moment"), words.MOMENTS, "error.repair_moment")
    recorded = {key: parse_reading(inv.opt(key)) for key in (*READINGS, "note") if inv.opt(key)}
    if not set(recorded) - {"note"}:
        raise UserError("error.repair_state_needed", ref=_ref(repair), moment=moment)
    if moment == words.BEFORE:
        repair.state_before = {**(repair.state_before or {}), **recorded}
    else:
        repair.state_after = {**(repair.state_after or {}), **recorded}
    kit.move(ctx, s.MACHINE, repair, "state", details={"moment": moment, **recorded})
    announce(ctx, repair)
    log(ctx, repair, "repair.log_state", moment=moment, by=ctx.actor.name,
        readings=lambda locale: views.readings(ctx, locale, recorded))  # fmt: skip
    answer(ctx, repair, f"repair.state_{moment}")


@commands("repair", "lesson", aliases=("lessons", "feedback", "经验", "教训", "经验教训", "反馈"),
          options={"text": ("内容",)})  # fmt: skip
def lesson(ctx: Context, inv: Invocation) -> None:
    """A lesson learned or a piece of feedback, for the procedure (000 §8)."""
    repair = load(ctx, inv)
    kit.check(ctx, s.MACHINE, repair, "lesson")
    text = inv.free_text("text", 1)[:2000]
    if not text:
        raise UserError("error.missing_arg", name="text", usage="repair.lesson", ref=_ref(repair))
    entry = {"text": text, "by": ctx.actor.name, "at": ctx.now().isoformat()}
    repair.lessons = [*repair.lessons, entry]
    kit.move(ctx, s.MACHINE, repair, "lesson", comment=text)
    if repair.report:
        report.archive(ctx, repair)  # the archived report keeps the feedback
    announce(ctx, repair)
    log(ctx, repair, "repair.log_lesson", by=ctx.actor.name, text=text)
    answer(ctx, repair, "repair.lesson_recorded")
