"""The workflow kit: every workflow is a package built from these parts, and nothing else.

A workflow declares, as data, its state machine (``Machine``: states, ``Step``s with the role
each needs and the people it ``Exclude``s), its commands (``registry.Commands``), its form
(``forms.Form``: fields, kinds, aliases, parsers), its card builder, deadline firers, periodic
jobs, Home sections, organisation-file section and feeds, all in one ``Workflow``. Its commands
work through the kit: ``load`` a row, ``move`` it (state, role and guards checked, the row and
the audit log written in one place); ``handlers.display`` shows its card and tells people.

To add a workflow, copy ``handlers/faults/`` (the smaller) or ``handlers/visits/``:

    handlers/<name>/__init__.py   WORKFLOW = Workflow(...): the parts below, listed once
                    states.py     MACHINE = Machine(...): states and steps, data only
                    commands.py   commands = Commands(Area(...)); @commands(...) handlers that
                                  kit.load / kit.move / display.show / display.tell
                    cards.py      its card builder, BUTTONS (display.Button per step), CARDS
                    form.py       FORM = Form(...): the fields of the command that creates a row
                    rules.py      its organisation-file section (an orgconfig.Section)
                    timers.py     TIMERS (deadline kind → firer) and periodic jobs
                    lists.py      its lists (listing.kind_of, listing's filters)

then add ``WORKFLOW`` to ``handlers/workflows.py``, its model to ``storage/models.py`` with an
Alembic migration, and its words to ``templates/{zh,en}/`` (the machine's states, actions and
audit words, help and usage, card and notice templates). Nothing else changes: not the core,
the runtime, the Home page or any adapter; a package left off the list fails a test.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import audit, people
from handlers.context import Actor, Context
from handlers.errors import Forbidden, NotFound, UserError
from handlers.messages import Card
from handlers.refs import parse_ref, ref
from handlers.registry import Commands
from storage.models import AuditEntry, Person


@dataclass(frozen=True)
class Exclude:
    """Someone a step is never for, whatever their roles: the person (or people) in the row's
    ``column`` (``requester_id``: nobody decides on their own request), refused with ``error``."""

    column: str
    error: str


@dataclass(frozen=True)
class Owner:
    """The person (or people) in the row's ``column`` who may take a step without its role
    (``requester_id``: the requester cancels their own request); others hear ``error``."""

    column: str
    error: str


def _ids(value) -> set:
    """A row column's person ids: one id, a list of them, or none."""
    if value is None:
        return set()
    return set(value) if isinstance(value, list | tuple | set | frozenset) else {value}


@dataclass(frozen=True)
class Step:
    """One transition: ``action`` moves a row from any of ``sources`` to ``target`` (None: an
    action that changes no state, like recording a returned card or repainting a card).

    Who may take it: anyone (no ``role`` and no ``owner``); else a holder of ``role`` (supervisor
    level includes managers; ``role_from``: the role is read from the row, for a chain of
    approvals), or one of the ``owner`` people; or, when nobody but the excluded people holds
    ``role``, a holder of ``stand_in``. Never anyone ``excludes`` names."""

    action: str
    sources: tuple[str, ...]
    target: str | None
    role: str | None = None
    owner: Owner | None = None
    excludes: tuple[Exclude, ...] = ()
    stand_in: str | None = None
    role_from: str | None = None


@dataclass(frozen=True)
class Machine:
    """A workflow's states and steps. ``kind`` names its rows (``visit``: V- references, audit
    subject type), ``created`` the action that makes one (``request``); the labels are the
    catalog keys of its states and actions, ``not_now`` the refusal of a step its state does
    not allow."""

    kind: str
    model: type
    created: str
    steps: tuple[Step, ...]
    state_label: str  # e.g. "state.fault_{state}"
    action_label: str  # e.g. "action.fault_{action}"
    not_now: str  # e.g. "error.fault_bad_state", given action, state, ref (and did, you, by)

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for t in self.steps for s in (*t.sources, t.target) if s))

    def step(self, action: str, state: str) -> Step | None:
        """The step ``action`` takes from ``state``, if there is one."""
        return next((t for t in self.steps if t.action == action and state in t.sources), None)

    def steps_from(self, state: str) -> list[Step]:
        return [t for t in self.steps if state in t.sources]


class Staff:
    """Everyone active, with their roles: read once, only when a stand-in rule needs it."""

    def __init__(self, session: Session, default_locale: str) -> None:
        self._session, self._locale = session, default_locale

    @cached_property
    def people(self) -> tuple[Actor, ...]:
        found = self._session.scalars(
            select(Person).where(Person.active.is_(True)).order_by(Person.id)
        )
        return tuple(people.actor_of(p, self._locale) for p in found)


def staff(ctx: Context) -> Staff:
    return Staff(ctx.session, ctx.i18n.default_locale)


def refusal(machine: Machine, step: Step, actor: Actor, row, everyone: Staff) -> UserError | None:
    """Why ``actor`` may not take ``step`` on ``row`` (None: they may). The people a step
    excludes hear why first, in the table's order; then the owner, the role and the stand-in."""
    subject = ref(machine.kind, row.id)
    for rule in step.excludes:
        if actor.id is not None and actor.id in _ids(getattr(row, rule.column)):
            return Forbidden(rule.error, ref=subject)
    role = step.role or (getattr(row, step.role_from) if step.role_from else None)
    owners = _ids(getattr(row, step.owner.column)) if step.owner else set()
    if role is None and step.owner is None:
        return None
    if actor.id in owners or (role and actor.has(role)):
        return None
    excluded = set().union(*(_ids(getattr(row, rule.column)) for rule in step.excludes))
    if role and step.stand_in and actor.has(step.stand_in):
        others = (p for p in everyone.people if p.id not in excluded)
        if not any(p.has(role) for p in others):
            return None
    if step.owner and (owners or role is None):
        return Forbidden(step.owner.error, ref=subject)
    return Forbidden("error.need_role", role=role)


def able(machine: Machine, step: Step, row, everyone: Staff) -> list[Actor]:
    """Everyone who may take ``step`` on ``row``."""
    return [p for p in everyone.people if refusal(machine, step, p, row, everyone) is None]


def load(ctx: Context, machine: Machine, word: str, *, lock: bool = False):
    """The row a typed reference names (``V-12``, ``12``), locked for a change if ``lock``;
    a clear "not found" otherwise."""
    _, ident = parse_ref(word, expected=machine.kind)
    # the row's own table only: PostgreSQL refuses FOR UPDATE on outer-joined relationships
    locking = {"of": machine.model} if lock else None
    row = ctx.session.get(machine.model, ident, with_for_update=locking)
    if row is None:
        raise NotFound("error.not_found", ref=ref(machine.kind, ident))
    return row


def check(ctx: Context, machine: Machine, row, action: str) -> Step:
    """The step ``action`` takes ``row`` through, once its state and its rules let the actor."""
    step = machine.step(action, row.state)
    if step is None:
        raise _not_now(ctx, machine, row, action)
    if (error := refusal(machine, step, ctx.actor, row, staff(ctx))) is not None:
        raise error
    return step


def move(ctx: Context, machine: Machine, row, action: str, *, comment=None, details=None) -> Step:
    """Take ``action`` on ``row``: checked, the row moved to the step's target, and the move
    recorded in the audit log, in the caller's transaction."""
    step = check(ctx, machine, row, action)
    audit.move(ctx, machine.kind, row, action, step.target, comment=comment, details=details)
    return step


def _not_now(ctx: Context, machine: Machine, row, action: str) -> UserError:
    """The refusal of a step the state does not allow, saying who took the step that led
    there ("you", after a second click on a button)."""
    moves = [f"{machine.kind}.{a}" for a in (machine.created, *(t.action for t in machine.steps))]
    last = ctx.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.subject_type == machine.kind,
            AuditEntry.subject_id == row.id,
            AuditEntry.new_state == row.state,
            AuditEntry.action.in_(moves),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    params: dict[str, Any] = {"action": action, "state": row.state}
    params["ref"] = ref(machine.kind, row.id)
    if last is not None:
        params["did"] = last.action.removeprefix(f"{machine.kind}.")
        params["you"] = last.actor_id is not None and last.actor_id == ctx.actor.id
        params["by"] = audit.name_of(last)
    return UserError(machine.not_now, **params)


CardBuilder = Callable[[Context, str, Any, Actor | None], Card]


@dataclass(frozen=True)
class Cards:
    """How a workflow shows its rows: ``build(ctx, locale, row, viewer)`` makes the card (for
    ``viewer``, the one person it is shown to, or None for a channel), posted to ``channel``."""

    machine: Machine
    channel: str
    build: CardBuilder


@dataclass(frozen=True)
class Periodic:
    """Work a workflow needs done every ``every`` (a countdown round): ``run(ctx)`` in one unit
    of work, returning how much it did."""

    name: str
    every: timedelta
    run: Callable[[Context], int]


@dataclass(frozen=True)
class Attachments:
    """A workflow whose rows take files (``handlers.attachments``): ``action`` is the step of
    its machine that attaches one — its states are when a row takes files, its rules who may
    send them — and ``attached(ctx, row)`` what else changes when one is (the card is rewritten
    anyway). The core routes a file to the row whose card's thread it was posted in, or to the
    sender's row, and gives the workflow ``<kind> attach R-3`` and ``<kind> files R-3``."""

    action: str = "attach"
    attached: Callable[[Context, Any], None] | None = None


@dataclass(frozen=True)
class Workflow:
    """Everything the core, the runtime and Home need to know of one workflow."""

    name: str  # its organisation-file section: "visits"
    commands: tuple[Commands, ...]
    cards: Cards | None = None  # its rows' machine and cards
    timers: Mapping[str, Callable] = field(default_factory=dict)  # deadline kind → firer
    periodic: tuple[Periodic, ...] = ()
    home: tuple[str, ...] = ()  # the typed commands whose answers are its Home sections
    # dates its usage examples show, from the organisation file and today ({"day": …})
    examples: Callable[[Any, date], dict[str, str]] | None = None
    settings: type[BaseModel] | None = None  # its organisation-file section
    # documents served to subscribers (name → build(ctx) → (media type, text)): a calendar
    feeds: Mapping[str, Callable[[Context], tuple[str, str]]] = field(default_factory=dict)
    attachments: Attachments | None = None  # its rows take files (it needs ``cards``)
