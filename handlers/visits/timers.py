"""Visit timers: overrun without check-out, no-show, and an access card not returned."""

from datetime import timedelta

from handlers import deadlines, notify
from handlers.context import Context
from handlers.messages import Text
from handlers.refs import ref
from handlers.visits import states as s
from storage.models import Deadline, Visit

OVERRUN = "visit.overrun"
CARD = "visit.card"


def _planned_end(visit: Visit):
    start = max(visit.start_at, visit.checked_in_at or visit.start_at)
    return start + timedelta(minutes=visit.duration_minutes)


def schedule_overrun(ctx: Context, visit: Visit) -> None:
    """(Re)arm the overrun timer: planned end, or check-in plus duration, plus the grace period."""
    deadlines.cancel(ctx, subject_type="visit", subject_id=visit.id, kinds=(OVERRUN,))
    grace = timedelta(minutes=ctx.org.visits.overrun_grace_minutes)
    deadlines.schedule(
        ctx, OVERRUN, subject_type="visit", subject_id=visit.id, due_at=_planned_end(visit) + grace
    )


def schedule_card_check(ctx: Context, visit: Visit) -> None:
    due = ctx.now() + timedelta(minutes=ctx.org.visits.card_return_minutes)
    deadlines.schedule(ctx, CARD, subject_type="visit", subject_id=visit.id, due_at=due)


def cancel_all(ctx: Context, visit: Visit) -> None:
    deadlines.cancel(ctx, subject_type="visit", subject_id=visit.id, kinds=(OVERRUN, CARD))


def _ping(ctx: Context, visit: Visit, template: str, *, requester: bool) -> None:
    subject = ref("visit", visit.id)

    def build(locale, _viewer):
        text = ctx.i18n.render(locale, template, visit=visit, ref=subject, now=ctx.now())
        return Text(text, tone="warning")

    if requester:
        notify.person(ctx, visit.requester, build, subject)
    notify.role(ctx, "admin", build, subject, skip={visit.requester_id} if requester else ())
    notify.channel(ctx, "admin", build, subject)


def fire_overrun(ctx: Context, row: Deadline) -> None:
    visit = ctx.session.get(Visit, row.subject_id)
    if visit is None:
        return
    if visit.state == s.CHECKED_IN:
        _ping(ctx, visit, "visit_overrun", requester=True)
    elif visit.state == s.APPROVED:
        _ping(ctx, visit, "visit_noshow", requester=True)


def fire_card(ctx: Context, row: Deadline) -> None:
    visit = ctx.session.get(Visit, row.subject_id)
    if visit is not None and visit.state == s.CHECKED_OUT and visit.card_returned_at is None:
        _ping(ctx, visit, "visit_card_missing", requester=True)


TIMERS = {OVERRUN: fire_overrun, CARD: fire_card}
