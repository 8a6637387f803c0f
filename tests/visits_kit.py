"""Helpers for the visit workflow tests: file a request, drive it to a state, read the database.

The people are those of tests/org.yaml: alice and erin (engineers), bob (admin), amy (admin and
supervisor), carol (supervisor), dan (manager, zh) and zhang (engineer, zh). The clock starts on
Monday 2026-11-23 10:00 in Shanghai, so a visit on Wednesday 2026-11-25 respects the lead time.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect, select

from handlers.messages import Message, plain_text, to_dict
from storage.models import Deadline, Person, Visit
from tests.chat import TZ, Chat

# Wednesday 09:00, two calendar days after the clock's start
WEDNESDAY_9 = "2026-11-25 09:00"
VISIT_COLUMNS = tuple(a.key for a in inspect(Visit).column_attrs)
FULL_ID = "E98765432"  # the identity number typed in requests; only "5432" may be kept
REQUEST = (
    f'visit request at="{WEDNESDAY_9}" duration=2h room=SH1/A101 task="replace disk" '
    f"id=passport:{FULL_ID}"
)


def sh(*args: int) -> datetime:
    """A Shanghai wall time as an aware datetime."""
    return datetime(*args, tzinfo=TZ)


def internal_error_markers(chat: Chat) -> list[str]:
    """The fixed opening of error.internal in every locale, read from the catalogs."""
    return [
        chat.core.i18n.t(locale, "error.internal", incident="\x00").split("\x00")[0]
        for locale in ("en", "zh")
    ]


def assert_no_internal_error(chat: Chat, messages: list[Message]) -> None:
    for text in (plain_text(m) for m in messages):
        for marker in internal_error_markers(chat):
            assert marker not in text, text


def ref_in(answer: str) -> str:
    match = re.search(r"\bV-\d+\b", answer)
    assert match, f"no visit reference in {answer!r}"
    return match.group()


def request(chat: Chat, who: str = "alice", extra: str = "", text: str = REQUEST) -> str:
    """File a request (it must succeed) and return its reference."""
    answer = chat.text(who, f"{text} {extra}".strip())
    filed = chat.core.i18n.t(person_locale(chat, who), "visit.filed", ref="V-\x00").split("V-")[0]
    assert filed in answer, answer
    return ref_in(answer)


def person_locale(chat: Chat, handle: str) -> str:
    with chat.core.db.unit_of_work() as session:
        person = session.scalar(select(Person).where(Person.handle == handle))
        return (person and person.locale) or chat.core.i18n.default_locale


def ok(chat: Chat, who: str, text: str) -> str:
    """Run a command that must succeed and return its text (errors are one warning Text)."""
    messages = chat.say(who, text)
    answer = "\n".join(plain_text(m) for m in messages)
    assert messages and getattr(messages[0], "tone", "info") not in ("warning", "danger"), (
        f"{text!r} by {who} -> {answer}"
    )
    return answer


# the kit checks in on Monday, two days ahead of the visit: an admin's early reason allows it
CHECKIN_AHEAD = 'visit checkin {ref} card=A-07 verified=yes briefing=yes early="kit: ahead of time"'
# the steps that take a fresh request to each state, and who takes them
PATHS: dict[str, list[tuple[str, str]]] = {
    "requested": [],
    "reviewed": [("bob", "visit approve {ref}")],
    "approved": [("bob", "visit approve {ref}"), ("carol", "visit approve {ref}")],
    "changes_requested": [("bob", 'visit changes {ref} note="bring the certificate"')],
    "rejected": [("bob", 'visit reject {ref} reason="not needed"')],
    "cancelled": [("alice", "visit cancel {ref} plans changed")],
    "checked_in": [
        ("bob", "visit approve {ref}"),
        ("carol", "visit approve {ref}"),
        ("bob", CHECKIN_AHEAD),
    ],
    "checked_out": [
        ("bob", "visit approve {ref}"),
        ("carol", "visit approve {ref}"),
        ("bob", CHECKIN_AHEAD),
        ("bob", "visit checkout {ref} tools=all card=yes"),
    ],
}


def visit_in(chat: Chat, state: str, *, extra: str = "") -> str:
    """A new request by alice, driven to ``state``."""
    ref = request(chat, "alice", extra)
    for who, step in PATHS[state]:
        ok(chat, who, step.format(ref=ref))
    assert visit(chat, ref).state == state
    return ref


def visit(chat: Chat, ref: str) -> Visit:
    """The visit row as it is in the database now (detached, relationships loaded)."""
    with chat.core.db.unit_of_work() as session:
        row = session.get(Visit, int(ref.split("-")[1]))
        assert row is not None, ref
        return row


def deadlines(chat: Chat, ref: str | None = None) -> list[Deadline]:
    with chat.core.db.unit_of_work() as session:
        query = select(Deadline).order_by(Deadline.id)
        if ref:
            query = query.where(Deadline.subject_id == int(ref.split("-")[1]))
        return list(session.scalars(query))


def audit_of(chat: Chat, ref: str):
    number = int(ref.split("-")[1])
    return [e for e in chat.audit() if e.subject_type == "visit" and e.subject_id == number]


@dataclass(frozen=True)
class Snapshot:
    state: str | None
    row: dict
    audit: int
    outbox: int
    deadlines: tuple


def snapshot(chat: Chat, ref: str | None = None) -> Snapshot:
    row = visit(chat, ref) if ref else None
    columns = {c: getattr(row, c) for c in VISIT_COLUMNS} if row else {}
    return Snapshot(
        state=row.state if row else None,
        row=columns,
        audit=len(chat.audit()),
        outbox=len(chat.outbox()),
        deadlines=tuple((d.id, d.status, d.due_at) for d in deadlines(chat)),
    )


def refused(chat: Chat, who: str, text: str, ref: str | None = None) -> str:
    """Run a command that must be refused: a warning, nothing changed anywhere. Returns it."""
    before = snapshot(chat, ref)
    messages = chat.say(who, text)
    assert_no_internal_error(chat, messages)
    assert [getattr(m, "tone", None) for m in messages] == ["warning"], messages
    assert snapshot(chat, ref) == before, f"{text!r} by {who} changed something"
    return plain_text(messages[0])


def t(chat: Chat, key: str, locale: str = "en", **params) -> str:
    """A catalog string, for comparing whole messages (with the core's dated examples)."""
    return chat.core.i18n.t(locale, key, **{"ex": chat.core.examples(), **params})


def not_now(chat: Chat, ref: str, action: str, who: str, locale: str = "en") -> str:
    """The refusal of ``action`` by ``who`` in the visit's current state: it names the state,
    the action, and who took the step that led there ("you" when it was ``who``)."""
    state = visit(chat, ref).state
    last = [e for e in audit_of(chat, ref) if e.new_state == state][-1]
    return t(
        chat,
        "error.visit_bad_state",
        locale,
        action=action,
        state=state,
        ref=ref,
        did=last.action.removeprefix("visit."),
        you=last.actor_label.endswith(f"({who})"),
        by=last.actor_label.split(" (")[0],
    )


def new_outbox(chat: Chat, since: int, *, updates: bool = False):
    """Outbox rows queued since ``since``: new messages, or (``updates``) rewrites of cards."""
    return [r for r in chat.outbox()[since:] if (r.replaces_id is not None) == updates]


def everything_stored(chat: Chat) -> str:
    """Every visit column, audit row and outbox payload, as one searchable string."""
    parts = []
    with chat.core.db.unit_of_work() as session:
        for row in session.scalars(select(Visit)):
            parts += [repr(getattr(row, c)) for c in VISIT_COLUMNS]
    for entry in chat.audit():
        parts += [repr(entry.comment), json.dumps(entry.details, ensure_ascii=False)]
        parts += [repr(entry.old_state), repr(entry.new_state)]
    for row in chat.outbox():
        parts.append(json.dumps(row.payload, ensure_ascii=False))
    return "\n".join(parts)


def message_dump(messages: list[Message]) -> str:
    return "\n".join(json.dumps(to_dict(m), ensure_ascii=False) for m in messages)
