"""Which row a file goes to: the row whose card's thread it was posted in; else the row a
reference in the words sent with it names; else the sender's — the row they chose last with
``<kind> attach R-3``, or the one row taking files that they acted on, within ``WINDOW``."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handlers import kit
from handlers.context import Context
from handlers.errors import UserError
from handlers.kit import Attachments, Cards, Machine, Workflow
from handlers.refs import PREFIXES, parse_ref, ref
from storage.models import AuditEntry, OutboxMessage

WINDOW = timedelta(hours=12)  # a shift: a file sent later names its row, or is asked about
CHOSEN = "attach_to"  # the audit action of ``<kind> attach R-3``: the next files go there
_REF = re.compile(r"(?<![A-Za-z0-9])#?([A-Za-z])-(\d{1,9})(?!\d)")


@dataclass(frozen=True)
class Attachable:
    """A kind of row that takes files: its cards (and machine) and its declaration."""

    cards: Cards
    spec: Attachments

    @property
    def machine(self) -> Machine:
        return self.cards.machine


def attachable(workflows: Iterable[Workflow]) -> dict[str, Attachable]:
    """The kinds of rows that take files, by kind (``repair``)."""
    found = {}
    for w in workflows:
        if w.attachments is None:
            continue
        if w.cards is None:
            raise ValueError(f"workflow {w.name!r} takes attachments but has no cards")
        found[w.cards.machine.kind] = Attachable(w.cards, w.attachments)
    return found


def _load(ctx: Context, kinds: Mapping[str, Attachable], subject: str, lock: bool = False):
    kind, _ = parse_ref(subject)
    if kind not in kinds:
        raise UserError("attach.not_taken", ref=subject)
    return kinds[kind], kit.load(ctx, kinds[kind].machine, subject, lock=lock)


def command(ctx: Context, kinds: Mapping[str, Attachable], example: str | None = None) -> str:
    """How to choose where files go, as the reader types it: ``repair attach R-3``."""
    kind = parse_ref(example)[0] if example else next(iter(kinds))
    return ctx.t(f"usage.{kind}.attach", ref=example or ref(kind, 3))


def card_subject(ctx: Context, kinds: Mapping[str, Attachable], card: str) -> str:
    """The subject of the card the bot posted as ``card`` (a platform reference)."""
    subject = ctx.session.scalar(
        select(OutboxMessage.subject)
        .where(
            OutboxMessage.platform == ctx.origin.platform,
            OutboxMessage.external_ref == card,
            OutboxMessage.kind == "card",
            OutboxMessage.subject.is_not(None),
        )
        .limit(1)
    )
    if subject is None:
        raise UserError("attach.not_a_card", command=command(ctx, kinds))
    return subject


def named(kinds: Mapping[str, Attachable], caption: str) -> str | None:
    """The first reference of a kind that takes files in the words sent with a file."""
    letters = {PREFIXES[k] for k in kinds}
    for letter, number in _REF.findall(caption or ""):
        if letter.upper() in letters:
            return f"{letter.upper()}-{int(number)}"
    return None


def takes_files(kinds: Mapping[str, Attachable], kind: str, row) -> bool:
    return kinds[kind].machine.step(kinds[kind].spec.action, row.state) is not None


def recent(ctx: Context, kinds: Mapping[str, Attachable]) -> str:
    """The sender's row: chosen last with ``attach``, else the only one taking files that they
    acted on within WINDOW; a clear refusal when there is none, or more than one."""
    entries = ctx.session.execute(
        select(AuditEntry.subject_type, AuditEntry.subject_id, AuditEntry.action)
        .where(
            AuditEntry.actor_id == ctx.actor.id,
            AuditEntry.at >= ctx.now() - WINDOW,
            AuditEntry.subject_type.in_(list(kinds)),
            AuditEntry.subject_id.is_not(None),
        )
        .order_by(AuditEntry.id.desc())
        .limit(500)
    ).all()
    for kind, ident, action in entries:
        if action == f"{kind}.{CHOSEN}":
            return ref(kind, ident)
    seen: dict[str, Any] = {}
    for kind, ident, _ in entries:
        subject = ref(kind, ident)
        if subject not in seen:
            row = ctx.session.get(kinds[kind].machine.model, ident)
            seen[subject] = row is not None and takes_files(kinds, kind, row)
    open_ = [s for s, ok in seen.items() if ok]
    if len(open_) != 1:
        key = "attach.which" if open_ else "attach.nowhere"
        how = command(ctx, kinds, open_[0] if open_ else None)
        raise UserError(key, refs=", ".join(open_), command=how, hours=WINDOW.seconds // 3600)
    return open_[0]


def route(ctx: Context, kinds: Mapping[str, Attachable], card: str | None, caption: str) -> str:
    """The subject (``R-3``) a file goes to (see the module's docstring)."""
    if card is not None:
        return card_subject(ctx, kinds, card)
    return named(kinds, caption) or recent(ctx, kinds)


def load(ctx: Context, kinds: Mapping[str, Attachable], subject: str, *, lock: bool = False):
    """The kind's declaration and the row, once the actor may attach a file to it now."""
    where, row = _load(ctx, kinds, subject, lock)
    kit.check(ctx, where.machine, row, where.spec.action)
    return where, row
