"""What is said of a shutdown, and to whom: each event's notice (``shutdown_<event>.j2``) built
for its reader; once it is decided, everyone it concerns hears — its requester and engineers,
its approvers, the people it names to notify, and the owners and channels of every system it
takes down (those that depend on the systems named included)."""

from handlers import display, notify
from handlers.context import Context
from handlers.messages import File, Text, Tone
from handlers.refs import ref
from handlers.shutdowns import calendar, impact
from handlers.shutdowns import states as s
from handlers.shutdowns.cards import window_text
from storage.models import Person, Shutdown


def notice(ctx: Context, shutdown: Shutdown, event: str, tone: Tone = "info", **params):
    """The notice of an event, rendered for each reader (``shutdown_<event>.j2``)."""

    def build(locale: str, viewer: Person | None) -> Text:
        text = ctx.i18n.render(
            locale, f"shutdown_{event}", shutdown=shutdown, ref=ref("shutdown", shutdown.id),
            actor=ctx.actor, window=window_text(ctx, shutdown),
            along=impact.taken_along(ctx, shutdown), **params,
        )  # fmt: skip
        return Text(text, tone=tone)

    return build


def concerned(ctx: Context, shutdown: Shutdown) -> list[Person]:
    """The people a decided shutdown concerns, each once, in a stable order."""
    ids = [shutdown.requester_id, *shutdown.engineer_ids, *shutdown.approver_ids]
    found = [ctx.session.get(Person, i) for i in ids]
    return list({p.id: p for p in [*found, *impact.told(ctx, shutdown)] if p.active}.values())


def tell_everyone(
    ctx: Context, shutdown: Shutdown, build: notify.Builder, *, calendar_file: bool = False
) -> None:
    """``build``'s notice to everyone the shutdown concerns and to the channels of the systems
    it takes down; with ``calendar_file``, the window as an .ics file beside it, to each."""
    subject = ref("shutdown", shutdown.id)
    whom = concerned(ctx, shutdown)
    for each in (build, _ics(ctx, shutdown)) if calendar_file else (build,):
        display.tell(ctx, s.MACHINE, shutdown, whom, each)
        for name, routes in impact.channels(ctx, shutdown):
            for route in routes:
                notify.to_route(ctx, route, f"#{name}", each, subject)


def _ics(ctx: Context, shutdown: Shutdown) -> notify.Builder:
    def build(locale: str, viewer: Person | None) -> File:
        subject = ref("shutdown", shutdown.id)
        text = calendar.ics(ctx, [shutdown], locale)
        caption = ctx.i18n.t(locale, "shutdown.ics_caption", ref=subject)
        return File(f"{subject}.ics", text, "text/calendar", caption)

    return build
