"""Repair commands: start a record, show it, and its archived report. What is recorded while it
is under way is in ``record.py``; completion, verification and the follow-up in ``closing.py``."""

from handlers import audit, display, kit, people, systems
from handlers.attachments import intake as attachments
from handlers.attachments.commands import files_card
from handlers.context import Context
from handlers.errors import UserError
from handlers.faults import states as fault_states
from handlers.faults.commands import acknowledge
from handlers.messages import Text, Tone
from handlers.refs import ref
from handlers.registry import Area, Commands, Invocation
from handlers.repairs import form, report
from handlers.repairs import states as s
from handlers.repairs.cards import CARDS, repair_card
from storage.models import Fault, Person, Repair

commands = Commands(Area("repair", ("repairs", "r", "维修", "维修记录", "维护", "maintenance")))


def load(ctx: Context, inv: Invocation, *, lock: bool = True) -> Repair:
    """The repair the command's first word names (locked for a change unless ``lock``)."""
    return kit.load(ctx, s.MACHINE, inv.arg(0, "ref"), lock=lock)


def fresh(ctx: Context, repair: Repair) -> None:
    """Write what the command changed and read the record back (its steps and parts)."""
    ctx.session.flush()
    ctx.session.refresh(repair)


def engineers(ctx: Context, repair: Repair) -> list[Person]:
    return [ctx.session.get(Person, i) for i in repair.engineer_ids]


def owners(ctx: Context, repair: Repair) -> list[Person]:
    return [p for i in repair.owner_ids if (p := ctx.session.get(Person, i)) and p.active]


def announce(ctx: Context, repair: Repair, *, to: list[Person] = ()) -> None:
    """The card wherever it is shown (posted to the repairs channel the first time), and anew
    to the people ``to`` names."""
    fresh(ctx, repair)
    display.show(ctx, CARDS, repair, to=[p for p in to if p.id != ctx.actor.id])


def log(ctx: Context, repair: Repair, key: str, tone: Tone = "info", **params) -> None:
    """A line of the repair's log (catalog ``key``), in its thread: under its card in the
    repairs channel, or in the channel itself where there are no threads. A callable
    parameter is given the locale (a phase's label)."""

    def build(locale: str, _viewer) -> Text:
        values = {k: v(locale) if callable(v) else v for k, v in params.items()}
        return Text(ctx.i18n.t(locale, key, ref=ref("repair", repair.id), **values), tone=tone)

    display.in_thread(ctx, CARDS, repair, build)


def answer(ctx: Context, repair: Repair, key: str, **params) -> None:
    ctx.reply(Text(ctx.t(key, ref=ref("repair", repair.id), **params), tone="success"))
    ctx.reply(repair_card(ctx, ctx.locale, repair, ctx.actor))


def _owner_ids(ctx: Context, system: str, named: list[int]) -> list[int]:
    """The business owners: the system's in the organisation file, and those named."""
    listed = []
    if ctx.org.systems:
        spec = systems.find(ctx.org.systems, system)
        listed = [p.id for p in people.active(ctx.session, spec.owners)]
    return list(dict.fromkeys([*listed, *named]))


@commands("repair", "start", aliases=("new", "open", "begin", "开始", "新建", "登记"),
          form=form.FORM, words=1)  # fmt: skip
def start(ctx: Context, inv: Invocation) -> None:
    """A repair (or a planned maintenance) of a system, linked to what it answers; a fault
    nobody acknowledged yet is acknowledged by the one who starts repairing it."""
    values = form.FORM.with_positionals(inv.args, inv.options)
    linked = form.linked(ctx, values["link"])[0] if values.get("link") else None
    if "system" not in values and isinstance(linked, Fault) and linked.system:
        values["system"] = linked.system  # the fault's system, when none is typed
    columns = {"engineer_ids": [], "owner_ids": [], **form.FORM.validate(ctx, values)}
    spec = systems.find(ctx.org.systems, columns["system"]) if ctx.org.systems else None
    now = ctx.now()
    repair = Repair(
        **columns,
        state=s.IN_PROGRESS,
        started_by_id=ctx.actor.id,
        checklist_items=ctx.org.repairs.items_for(spec),
        checklist={},
        lessons=[],
        started_at=now,
        created_at=now,
        updated_at=now,
    )
    repair.engineer_ids = list(dict.fromkeys([ctx.actor.id, *columns["engineer_ids"]]))
    repair.owner_ids = _owner_ids(ctx, columns["system"], columns["owner_ids"])
    ctx.session.add(repair)
    fresh(ctx, repair)
    audit.record(
        ctx, subject_type="repair", subject_id=repair.id, action="repair.start",
        new_state=s.IN_PROGRESS, details=audit.plain(columns),
    )  # fmt: skip
    if isinstance(linked, Fault) and linked.state == fault_states.DECLARED:
        fault = kit.load(ctx, fault_states.MACHINE, repair.link_ref, lock=True)
        acknowledge(ctx, fault, comment=ref("repair", repair.id))
        ctx.reply(Text(ctx.t("repair.fault_acked", fault=repair.link_ref), tone="info"))
    announce(ctx, repair, to=engineers(ctx, repair))
    answer(ctx, repair, "repair.started")
    if not repair.link_ref:
        ctx.reply(Text(ctx.t("repair.no_link_warning"), tone="warning"))
    if not repair.owner_ids:
        ctx.reply(Text(ctx.t("repair.no_owner_warning"), tone="warning"))


@commands("repair", "show", aliases=("view", "get", "查看", "详情"), words=1)
def show(ctx: Context, inv: Invocation) -> None:
    """The card, and the files attached to it when there are any."""
    repair = load(ctx, inv, lock=False)
    ctx.reply(repair_card(ctx, ctx.locale, repair, ctx.actor))
    if attachments.count(ctx, "repair", repair.id):
        ctx.reply(files_card(ctx, "repair", repair.id))


@commands("repair", "report", aliases=("报告", "维护报告"), words=1)
def show_report(ctx: Context, inv: Invocation) -> None:
    """The archived maintenance report, in the reader's language, as text and as files
    (Markdown and PDF)."""
    repair = load(ctx, inv, lock=False)
    if report.archived(ctx, ctx.locale, repair) is None:
        raise UserError("error.repair_no_report", ref=ref("repair", repair.id))
    ctx.reply(report.as_text(ctx, ctx.locale, repair))
    for file in report.as_files(ctx, ctx.locale, repair):
        ctx.reply(file)
