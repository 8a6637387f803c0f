"""What a shutdown takes down and who hears of it: the systems that depend on those it names
(transitively, from the organisation file), and the people and channels told — those it names
to notify, and the owners and channels of every system that goes down."""

from handlers import people, systems
from handlers.context import Context
from storage.models import Person, Shutdown


def taken_along(ctx: Context, shutdown: Shutdown) -> list[str]:
    """The systems that go down with the ones named: those that depend on them."""
    named = {n.casefold() for n in shutdown.systems}
    down = systems.affected(ctx.org.systems, shutdown.systems)
    return [spec.name for spec in down if spec.name.casefold() not in named]


def told(ctx: Context, shutdown: Shutdown) -> list[Person]:
    """The people named to notify and the owners of every system the shutdown takes down."""
    handles = list(shutdown.notify)
    for spec in systems.affected(ctx.org.systems, shutdown.systems):
        handles += spec.owners
    return people.active(ctx.session, handles)


def channels(ctx: Context, shutdown: Shutdown) -> list[tuple[str, list]]:
    """(system name, its channel routes) of every system that goes down and has channels."""
    down = systems.affected(ctx.org.systems, shutdown.systems)
    return [(spec.name, spec.channels) for spec in down if spec.channels]
