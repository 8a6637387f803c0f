"""Shutdown windows as iCalendar: one event a window, its UID stable (an update replaces the
event in the subscriber's calendar: ``SEQUENCE`` counts the changes), its times in the
organisation's time zone with the zone's definition included. The feed people subscribe to
lists the windows approved, under way and done in the last ``KEPT`` days, and those to come;
a cancelled window leaves it."""

from collections.abc import Iterable
from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from handlers.context import Context
from handlers.refs import ref
from handlers.shutdowns import states as s
from storage.models import Shutdown

KEPT = timedelta(days=90)
MEDIA_TYPE = "text/calendar; charset=utf-8"


def ics(ctx: Context, shutdowns: Iterable[Shutdown], locale: str) -> str:
    """An iCalendar document of ``shutdowns``, worded in ``locale``."""
    t = lambda key, **kw: ctx.i18n.t(locale, key, **kw)  # noqa: E731
    cal = Calendar()
    cal.add("prodid", "-//maintbot//shutdowns//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", t("shutdown.ics_calendar"))
    for shutdown in shutdowns:
        site = ctx.org.site(shutdown.site_code)
        event = Event()
        event.add("uid", f"shutdown-{shutdown.id}@maintbot")
        event.add("dtstamp", shutdown.updated_at)
        event.add("dtstart", ctx.i18n.local(shutdown.starts_at))
        event.add("dtend", ctx.i18n.local(shutdown.ends_at))
        event.add("sequence", shutdown.sequence)
        event.add("status", "CONFIRMED")
        subject = ref("shutdown", shutdown.id)
        event.add(
            "summary", t("shutdown.ics_summary", ref=subject, systems=", ".join(shutdown.systems))
        )
        event.add("location", f"{site.name} {site.code}" if site else shutdown.site_code)
        event.add("description", t("shutdown.ics_description", shutdown=shutdown))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical().decode("utf-8")


def feed(ctx: Context) -> tuple[str, str]:
    """The subscribed calendar: every window on it, as it is now."""
    rows = ctx.session.scalars(
        select(Shutdown)
        .where(Shutdown.state.in_(s.ON_CALENDAR), Shutdown.ends_at >= ctx.now() - KEPT)
        .order_by(Shutdown.starts_at, Shutdown.id)
    )
    return MEDIA_TYPE, ics(ctx, rows, ctx.i18n.default_locale)
