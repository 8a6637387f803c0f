"""How a workflow's rows are shown: buttons drawn from the machine's rules, the card wherever it
is shown (built for each reader), and notices to people (see ``handlers.kit``)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from handlers import notify, people
from handlers.context import Actor, Context
from handlers.kit import Cards, Machine, Staff, Step, refusal, staff
from handlers.messages import Action, Card, Style
from handlers.refs import ref
from storage.models import Person


@dataclass(frozen=True)
class Button:
    """How a step (or an action that is no step, like Refresh) shows on a card: its typed twin
    (``{ref}`` filled in), its style, the answer it asks for (a catalog key), and the name its
    id and label take when not the step's own (the review step's button is "approve")."""

    command: str
    style: Style = "default"
    prompt: str | None = None
    name: str | None = None


def buttons(
    ctx: Context, machine: Machine, row, viewer: Actor | None, table: Mapping[str, Button],
    locale: str, *, steps: Iterable[Step] = (), everyone: Staff | None = None,
) -> list[Action]:  # fmt: skip
    """The buttons of the steps ``row``'s state allows (the machine's, then ``steps``: actions
    that change no state), in that order; for a card shown to one person (``viewer``), only
    those the rules let them take."""
    r = ref(machine.kind, row.id)
    everyone = everyone or staff(ctx)
    shown = []
    for step in [*machine.steps_from(row.state), *(t for t in steps if row.state in t.sources)]:
        if step.action not in table:
            continue
        if viewer is not None and refusal(machine, step, viewer, row, everyone) is not None:
            continue
        b = table[step.action]
        name = b.name or step.action
        label = ctx.i18n.t(locale, machine.action_label.format(action=name))
        hint = ctx.i18n.t(locale, b.prompt) if b.prompt else None
        shown.append(
            Action(f"{machine.kind}.{name}", label, b.command.format(ref=r), b.style, r, hint)
        )
    return shown


def show(
    ctx: Context, cards: Cards, row, *, to: Iterable[Person] = (), only: tuple[str, ...] = ()
) -> int:
    """``row``'s card wherever it is shown: posted to its channel the first time, sent anew to
    the people ``to`` names, updated in place everywhere else — each copy built for its reader
    (their language, their buttons). ``only``: updates on those platforms alone."""

    def build(locale: str, viewer: Person | None) -> Card:
        reader = viewer and people.actor_of(viewer, ctx.i18n.default_locale)
        return cards.build(ctx, locale, row, reader)

    subject = ref(cards.machine.kind, row.id)
    return notify.subject_card(ctx, cards.channel, build, subject, to=list(to), only=only)


def tell(ctx: Context, machine: Machine, row, whom: Iterable[Person], build: notify.Builder) -> int:
    """A notice to each of ``whom`` (never to the actor, nobody twice), built for each reader."""
    subject = ref(machine.kind, row.id)
    readers = {p.id: p for p in whom if p.id != ctx.actor.id}.values()
    return sum(notify.person(ctx, person, build, subject) for person in readers)


def in_thread(ctx: Context, cards: Cards, row, build: notify.Builder) -> int:
    """A notice in ``row``'s thread: under its card in its channel where the platform has
    threads (the record's log, read there), in the channel itself elsewhere."""
    return notify.thread(ctx, cards.channel, build, ref(cards.machine.kind, row.id))
