"""What a shutdown window must respect (refused: reversed, past, too long, in a freeze, too
soon, an emergency without a serious open fault) and what its card warns of (flagged: a window
on a related system at the same time, a window outside a system's agreed maintenance windows,
an engineer booked elsewhere then)."""

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from handlers import systems, workdays
from handlers.context import Context
from handlers.errors import UserError
from handlers.refs import parse_ref, ref
from handlers.shutdowns import states as s
from storage.models import Fault, Person, Shutdown, Visit

EMERGENCY_TIERS = (1, 2)  # an emergency shutdown answers an open fault of these tiers
OPEN_FAULT = ("declared", "acknowledged")
VISITING = ("approved", "checked_in")  # visits that hold their time


def window(ctx: Context, start: datetime, end: datetime, *, emergency: bool, link: str | None):
    """Refuse a window the rules do not allow; an emergency skips the lead time and freezes."""
    rules, now = ctx.org.shutdowns, ctx.now()
    if end <= start:
        raise UserError("error.shutdown_reversed", field="end")
    if end <= now or (start < now - timedelta(minutes=15 if emergency else 0)):
        raise UserError("error.past_date", value=ctx.i18n.local(start), field="start")
    if end - start > timedelta(hours=rules.max_hours):
        raise UserError("error.shutdown_too_long", hours=rules.max_hours, field="end")
    if emergency:
        _serious_fault(ctx, link)
        return
    first, last = ctx.i18n.local(start).date(), ctx.i18n.local(end).date()
    for freeze in rules.freezes:
        if first <= freeze.end and freeze.start <= last:
            start_day, end_day = freeze.start.isoformat(), freeze.end.isoformat()
            raise UserError("error.shutdown_freeze", name=freeze.name, start=start_day, end=end_day)
    today = ctx.i18n.local(now).date()
    calendar = workdays.of(ctx.org.calendar)
    earliest, exact = calendar.add_working_days(today, rules.lead_working_days)
    if first < earliest:
        raise UserError(
            "error.shutdown_lead",
            days=rules.lead_working_days,
            earliest=earliest.isoformat(),
            exact=exact,
            field="start",
        )


def _serious_fault(ctx: Context, link: str | None) -> None:
    """An emergency shutdown names the open tier-1 or tier-2 fault it answers."""
    kind, ident = parse_ref(link) if link else (None, 0)
    fault = ctx.session.get(Fault, ident) if kind == "fault" else None
    if fault is None or fault.state not in OPEN_FAULT or fault.tier not in EMERGENCY_TIERS:
        raise UserError("error.shutdown_emergency", field="link")


def conflicts(ctx: Context, shutdown: Shutdown) -> list[str]:
    """Other booked windows at the same time on a system this one touches (the S- refs)."""
    touched = systems.related(ctx.org.systems, shutdown.systems)
    others = ctx.session.scalars(_overlapping(shutdown.starts_at, shutdown.ends_at, shutdown.id))
    return [
        ref("shutdown", o.id)
        for o in others
        if touched & systems.related(ctx.org.systems, o.systems)
    ]


def outside_windows(ctx: Context, shutdown: Shutdown) -> list[tuple[str, str]]:
    """The systems whose agreed maintenance windows the window is not in, with those windows."""
    start, end = ctx.i18n.local(shutdown.starts_at), ctx.i18n.local(shutdown.ends_at)
    named = [systems.find(ctx.org.systems, name) for name in shutdown.systems]
    return [
        (spec.name, ", ".join(spec.windows))
        for spec in named
        if not systems.in_window(spec, start, end)
    ]


def engineers_booked(ctx: Context, shutdown: Shutdown) -> list[tuple[str, str]]:
    """(name, ref) of each engineer of this window booked in another window or on a visit."""
    found = []
    for person_id in shutdown.engineer_ids:
        name = ctx.session.get(Person, person_id).name
        for other in ctx.session.scalars(
            _overlapping(shutdown.starts_at, shutdown.ends_at, shutdown.id)
        ):
            if person_id in other.engineer_ids:
                found.append((name, ref("shutdown", other.id)))
        for visit in ctx.session.scalars(
            select(Visit).where(
                Visit.state.in_(VISITING),
                or_(Visit.requester_id == person_id, Visit.responsible_id == person_id),
                Visit.start_at < shutdown.ends_at,
            )
        ):
            if visit.start_at + timedelta(minutes=visit.duration_minutes) > shutdown.starts_at:
                found.append((name, ref("visit", visit.id)))
    return found


def _overlapping(start: datetime, end: datetime, other_than: int | None):
    return select(Shutdown).where(
        Shutdown.state.in_(s.BOOKED),
        Shutdown.starts_at < end,
        Shutdown.ends_at > start,
        Shutdown.id != (other_than or 0),
    )
