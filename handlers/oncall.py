"""On-call schedules: rotations from the organisation file, overrides kept in the database.

A rotation hands over daily or weekly at a local time, counted from its start date; an
override puts someone else on a schedule for a period. ``/maint oncall`` says who is on now
and who is next, per schedule; escalation levels name a schedule as ``schedule:NAME``.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from handlers import audit, people
from handlers.context import Context
from handlers.errors import Forbidden, UserError
from handlers.grammar import parse_when
from handlers.messages import Card, Field, Text
from handlers.orgconfig import ScheduleSpec
from handlers.registry import Invocation, area, command
from storage.models import OncallOverride, Person

area("oncall", "on-call", "duty", "值班", "值班表")

PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Shift:
    person: Person | None
    until: datetime  # the next hand-over (rotation) or the override's end


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
    override = ctx.session.scalars(
        select(OncallOverride)
        .where(
            OncallOverride.schedule == spec.name,
            OncallOverride.starts_at <= at,
            OncallOverride.ends_at > at,
        )
        .order_by(OncallOverride.id.desc())
    ).first()
    if override is not None:
        return Shift(override.person, override.ends_at)
    handle, handover = _rotation(ctx, spec, at)
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


@command("oncall")
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


@command(
    "oncall",
    "override",
    aliases=("swap", "cover", "替班", "代班"),
    options={"from": ("从", "开始"), "to": ("到", "至", "结束"), "who": ("人员",)},
)
def override(ctx: Context, inv: Invocation) -> None:
    spec = _schedule(ctx, inv.arg(0, "schedule"))
    who = inv.opt("who") or inv.arg(1, "person")
    person = people.find(ctx.session, who)
    if person.id != ctx.actor.id and not (ctx.actor.has("admin") or ctx.actor.has("supervisor")):
        raise Forbidden("error.need_role", role="supervisor")  # or cover a shift yourself
    now, tz = ctx.now(), ctx.i18n.tz
    starts = parse_when(inv.opt("from"), now=now, tz=tz) if inv.opt("from") else now
    if not inv.opt("to"):
        raise UserError("error.missing_arg", name="to=", usage="oncall.override")
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
        details={
            "schedule": spec.name,
            "person": person.handle,
            "from": starts.isoformat(),
            "to": ends.isoformat(),
        },
    )
    ctx.reply(
        Text(
            ctx.t(
                "oncall.overridden",
                name=person.name,
                schedule=spec.name,
                start=ctx.i18n.fmt(starts),
                end=ctx.i18n.fmt(ends),
            ),
            tone="success",
        )
    )
