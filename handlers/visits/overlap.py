"""Visits to one room at one time: which open visits overlap a planned time, and a room's
capacity (the most visits at once, from the organisation file) that a request may not exceed.

Overlap is computed from the planned times whenever it is needed; nothing is stored."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.context import Context
from handlers.errors import UserError
from handlers.refs import ref
from handlers.values import MAX_DURATION
from handlers.visits import states as s
from storage.models import Room, Visit

NAMED = 5  # overlapping visits named in a message; the rest are counted


def _end(visit: Visit) -> datetime:
    return visit.start_at + timedelta(minutes=visit.duration_minutes)


def overlapping(
    session: Session, room_id: int, start: datetime, minutes: int, *, other_than: int | None
) -> list[Visit]:
    """Open visits to the room whose planned time meets [start, start + minutes), by start."""
    end = start + timedelta(minutes=minutes)
    query = (
        select(Visit)
        .where(
            Visit.room_id == room_id,
            Visit.state.in_(s.OPEN),
            Visit.start_at < end,
            Visit.start_at > start - timedelta(minutes=MAX_DURATION),  # no visit is longer
        )
        .order_by(Visit.start_at, Visit.id)
    )
    if other_than is not None:
        query = query.where(Visit.id != other_than)
    return [v for v in session.scalars(query) if _end(v) > start]


def most_at_once(visits: list[Visit], start: datetime, end: datetime) -> int:
    """The most of ``visits`` in the room at one moment between ``start`` and ``end``."""
    # at one instant, a visit ending comes before one starting: back-to-back is not at once
    steps = sorted(
        [(max(v.start_at, start), 1) for v in visits] + [(min(_end(v), end), -1) for v in visits]
    )
    present = peak = 0
    for _, step in steps:
        present += step
        peak = max(peak, present)
    return peak


def capacity(ctx: Context, room: Room) -> int | None:
    """The room's capacity in the organisation file, if it gives one."""
    for site in ctx.org.sites:
        if site.code.casefold() == room.site.code.casefold():
            for spec in site.rooms:
                if spec.code.casefold() == room.code.casefold():
                    return spec.capacity
    return None


def named(visits: list[Visit]) -> dict:
    """Catalog parameters naming overlapping visits: the first few refs and how many more."""
    return {"refs": [ref("visit", v.id) for v in visits[:NAMED]], "more": len(visits[NAMED:])}


def check(
    ctx: Context, room_id: int, start: datetime, minutes: int, *, other_than: int | None = None
) -> list[Visit]:
    """The open visits a planned visit overlaps; refused if the room would exceed its capacity.

    With a capacity the room row is locked first, so simultaneous requests count one another.
    """
    room = ctx.session.get(Room, room_id)
    limit = capacity(ctx, room)
    if limit is not None:
        ctx.session.execute(select(Room.id).where(Room.id == room_id).with_for_update())
    others = overlapping(ctx.session, room_id, start, minutes, other_than=other_than)
    end = start + timedelta(minutes=minutes)
    if limit is not None and most_at_once(others, start, end) + 1 > limit:
        where = f"{room.site.code}/{room.code}"
        raise UserError("error.room_full", room=where, capacity=limit, field="at", **named(others))
    return others
