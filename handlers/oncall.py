"""On-call schedules: rotations from the organisation file, overrides kept in the database.

A rotation hands over daily or weekly at a local time, counted from its start date; an
override puts someone else on a schedule for a period. ``/maint oncall`` says who is on now
and who is next, per schedule; escalation levels name a schedule as ``schedule:NAME``.
``oncall overrides`` lists the overrides not over yet, ``oncall cancel`` takes one back.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from handlers import audit, people
from handlers.context import Context
from handlers.errors import Forbidden, NotFound, UserError
from handlers.grammar import parse_when
from handlers.messages import Card, Field, Text
from handlers.orgconfig import ScheduleSpec
from handlers.registry import Area, Commands, Invocation
from storage.models import OncallOverride, Person

commands = Commands(Area("oncall", ("on-call", "duty", "值班", "值班表")))

PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Shift:
    person: Person | None
    until: datetime  # the override's end, or the next hand-over or override, whichever is first


def _schedule(ctx: Context, name: str) -> ScheduleSpec:
    for spec in ctx.org.oncall:
        if spec.name == name.strip().lower():
            return spec
    names = ", ".join(s.name for s in ctx.org.oncall) or "—"
    raise UserError("error.unknown_schedule", value=name, names=names)


def _rotation(ctx: Context, spec: ScheduleSpec, at: datetime) -> tuple[str | None, datetime]:
    """(handle on duty, next hand-over) by the rotation alone, in the configured time zone."""
    hour, minute = (int(x) for x in spec.handoff.split(":"))
    anchor = datetime.combine(spec.start, time(hour, minute), tzinfo=ctx.i18n.tz)
    period = PERIOD[spec.rotation]
    turns = (ctx.i18n.local(at) - anchor) // period  # whole periods; wall-clock arithmetic
    handover = anchor + period * (turns + 1)
    if not spec.people or turns < 0:
        return None, handover if turns >= 0 else anchor
    return spec.people[turns % len(spec.people)], handover


def on_call(ctx: Context, spec: ScheduleSpec, at: datetime) -> Shift:
    """Who is on at ``at`` and until when: an override for its period; else the rotation until
    its next hand-over or until the next override starts, whichever comes first."""
    override = ctx.session.scalars(  # the first not over at ``at`` (overrides do not overlap)
        select(OncallOverride)
        .where(OncallOverride.schedule == spec.name, OncallOverride.ends_at > at)
        .order_by(OncallOverride.starts_at, OncallOverride.id)
        .limit(1)
    ).first()
    if override is not None and override.starts_at <= at:
        return Shift(override.person, override.ends_at)
    handle, handover = _rotation(ctx, spec, at)
    if override is not None:
        handover = min(handover, override.starts_at)
    person = (
        ctx.session.scalar(select(Person).where(Person.handle == handle, Person.active.is_(True)))
        if handle
        else None
    )
    return Shift(person, handover)


def on_call_now(ctx: Context, name: str) -> list[Person]:
    """Who is on call on schedule ``name`` now (nobody when the schedule is empty)."""
    spec = next((s for s in ctx.org.oncall if s.name == name), None)
    if spec is None:
        return []
    shift = on_call(ctx, spec, ctx.now())
    return [shift.person] if shift.person else []


@commands("oncall", words=1)
def show(ctx: Context, inv: Invocation) -> None:
    specs = [_schedule(ctx, inv.args[0])] if inv.args else ctx.org.oncall
    if not specs:
        ctx.reply(Text(ctx.t("oncall.none_configured"), tone="warning"))
        return
    fields = []
    for spec in specs:
        now = on_call(ctx, spec, ctx.now())
        after = on_call(ctx, spec, now.until)
        nobody = ctx.t("oncall.nobody")
        fields.append(
            Field(
                spec.name,
                ctx.t(
                    "oncall.now_next",
                    now=now.person.name if now.person else nobody,
                    until=ctx.i18n.fmt(now.until),
                    next=after.person.name if after.person else nobody,
                ),
            )
        )
    ctx.reply(Card(title=ctx.t("oncall.title"), fields=fields))


@commands(
    "oncall",
    "override",
    aliases=("swap", "cover", "替班", "代班"),
    options={"from": ("从", "开始"), "to": ("到", "至", "结束"), "who": ("人员",)},
    words=2,
)
def override(ctx: Context, inv: Invocation) -> None:
    spec = _schedule(ctx, inv.arg(0, "schedule"))
    who = inv.opt("who") or inv.arg(1, "person")
    person = people.find(ctx.session, who)
    _may_arrange(ctx, person)
    now, tz = ctx.now(), ctx.i18n.tz
    starts = parse_when(inv.opt("from"), now=now, tz=tz) if inv.opt("from") else now
    if not inv.opt("to"):
        raise UserError("error.missing_arg", name="to", usage="oncall.override")
    ends = parse_when(inv.opt("to"), now=now, tz=tz)
    if ends <= starts:
        raise UserError("error.override_backwards", field="to")
    if ends <= now:
        raise UserError("error.override_past", field="to")
    clash = ctx.session.scalars(
        select(OncallOverride).where(
            OncallOverride.schedule == spec.name,
            OncallOverride.starts_at < ends,
            OncallOverride.ends_at > starts,
        )
    ).first()
    if clash is not None:
        raise UserError(
            "error.override_overlaps",
            name=clash.person.name,
            start=ctx.i18n.fmt(clash.starts_at),
            end=ctx.i18n.fmt(clash.ends_at),
        )
    row = OncallOverride(
        schedule=spec.name,
        person_id=person.id,
        starts_at=starts,
        ends_at=ends,
        created_by_id=ctx.actor.id,
        created_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(
        ctx,
        subject_type="oncall",
        subject_id=row.id,
        action="oncall.override",
        details=_details(row),
    )
    ctx.reply(Text(ctx.t("oncall.overridden", **_words(ctx, row)), tone="success"))


def _may_arrange(ctx: Context, person: Person) -> None:
    """Anyone may stand in (or stop standing in) themselves; for someone else it takes a
    supervisor (or a manager) or an admin."""
    if person.id != ctx.actor.id and not (ctx.actor.has("admin") or ctx.actor.has("supervisor")):
        raise Forbidden("error.need_role", role="supervisor")


def _details(row: OncallOverride) -> dict[str, str]:
    return {
        "schedule": row.schedule,
        "person": row.person.handle,
        "from": row.starts_at.isoformat(),
        "to": row.ends_at.isoformat(),
    }


def _words(ctx: Context, row: OncallOverride) -> dict[str, str | int]:
    """An override's parameters for the catalog's ``oncall.*`` messages."""
    fmt = ctx.i18n.fmt
    return {
        "id": row.id,
        "schedule": row.schedule,
        "name": row.person.name,
        "start": fmt(row.starts_at),
        "end": fmt(row.ends_at),
        "by": row.created_by.name,
    }


@commands("oncall", "overrides", aliases=("替班列表", "替班安排"), words=1)
def list_overrides(ctx: Context, inv: Invocation) -> None:
    """The overrides not over yet, current first, with who booked them."""
    query = select(OncallOverride).where(OncallOverride.ends_at > ctx.now())
    if inv.args:
        query = query.where(OncallOverride.schedule == _schedule(ctx, inv.args[0]).name)
    order = (OncallOverride.starts_at, OncallOverride.id)
    rows = ctx.session.scalars(query.order_by(*order).limit(50)).all()
    lines = [ctx.t("oncall.override_line", **_words(ctx, row)) for row in rows]
    title = ctx.t("oncall.overrides_title", count=len(rows))
    ctx.reply(Card(title=title, body="\n".join(lines) or ctx.t("oncall.no_overrides")))


@commands("oncall", "cancel", aliases=("取消替班", "撤销替班", "uncover"), words=1)
def cancel(ctx: Context, inv: Invocation) -> None:
    """Take an override back: one not started yet goes, one under way ends now (the part
    served stays on record); the same people may do it as may book it."""
    word = inv.arg(0, "override")
    number = word.strip().lstrip("#")
    if not number.isdigit() or len(number) > 9:
        raise UserError("error.bad_override_ref", value=word)
    row = ctx.session.get(OncallOverride, int(number), with_for_update={"of": OncallOverride})
    if row is None:
        raise NotFound("error.not_found", ref=f"#{number}")
    _may_arrange(ctx, row.person)
    now = ctx.now()
    if row.ends_at <= now:
        raise UserError("error.override_past")
    words, details = _words(ctx, row), _details(row)
    if row.starts_at < now:
        row.ends_at = now
    else:
        ctx.session.delete(row)
    audit.record(
        ctx, subject_type="oncall", subject_id=row.id, action="oncall.cancel", details=details
    )
    ctx.reply(Text(ctx.t("oncall.cancelled", **words), tone="success"))
