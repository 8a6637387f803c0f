"""Around the window, by the same deadline rows as every timer: reminders before the start (24 h
and 1 h by default), the start (the engineers are asked to begin and record the system's
state), and the end (an overrun alert when the window ends without ``complete``)."""

from datetime import timedelta

from handlers import deadlines, display
from handlers.context import Context
from handlers.shutdowns import notices
from handlers.shutdowns import states as s
from storage.models import Deadline, Person, Shutdown

REMIND, START, OVERRUN = "shutdown.remind", "shutdown.start", "shutdown.overrun"
KINDS = (REMIND, START, OVERRUN)


def schedule(ctx: Context, shutdown: Shutdown, *, overrun_only: bool = False) -> None:
    """(Re)arm the window's timers: the reminders and the start (unless ``overrun_only``: an
    extension moves the end alone), and the overrun check at its end."""
    kinds = (OVERRUN,) if overrun_only else KINDS
    deadlines.cancel(ctx, subject_type="shutdown", subject_id=shutdown.id, kinds=kinds)

    def at(kind: str, due, **payload) -> None:
        deadlines.schedule(
            ctx, kind, subject_type="shutdown", subject_id=shutdown.id, due_at=due, payload=payload
        )

    if not overrun_only:
        for hours in ctx.org.shutdowns.reminders_hours:
            if (due := shutdown.starts_at - timedelta(hours=hours)) > ctx.now():
                at(REMIND, due, hours=hours)
        at(START, shutdown.starts_at)
    at(OVERRUN, shutdown.ends_at)


def cancel(ctx: Context, shutdown: Shutdown) -> None:
    deadlines.cancel(ctx, subject_type="shutdown", subject_id=shutdown.id, kinds=KINDS)


def _notice(ctx: Context, shutdown: Shutdown, event: str, whom: list[Person], **params) -> None:
    tone = "warning" if event == "overrun" else "info"
    build = notices.notice(ctx, shutdown, event, tone, **params)
    display.tell(ctx, s.MACHINE, shutdown, whom, build)


def _engineers(ctx: Context, shutdown: Shutdown) -> list[Person]:
    return [ctx.session.get(Person, i) for i in shutdown.engineer_ids]


def fire_remind(ctx: Context, row: Deadline) -> None:
    shutdown = ctx.session.get(Shutdown, row.subject_id)
    if shutdown is not None and shutdown.state == s.APPROVED:
        _notice(
            ctx, shutdown, "reminder", notices.concerned(ctx, shutdown), hours=row.payload["hours"]
        )


def fire_start(ctx: Context, row: Deadline) -> None:
    shutdown = ctx.session.get(Shutdown, row.subject_id)
    if shutdown is not None and shutdown.state == s.APPROVED:
        _notice(ctx, shutdown, "begins", _engineers(ctx, shutdown))


def fire_overrun(ctx: Context, row: Deadline) -> None:
    """Past the window's end: still running, or never begun."""
    shutdown = ctx.session.get(Shutdown, row.subject_id)
    if shutdown is not None and shutdown.state in (s.IN_PROGRESS, s.EXTENSION):
        _notice(ctx, shutdown, "overrun", notices.concerned(ctx, shutdown))
    elif shutdown is not None and shutdown.state == s.APPROVED:
        _notice(ctx, shutdown, "not_begun", _engineers(ctx, shutdown))


TIMERS = {REMIND: fire_remind, START: fire_start, OVERRUN: fire_overrun}
