"""Helpers for the shutdown tests: file a request, drive it to a state, read the database.

The organisation is tests/org.yaml: erp-db (owner dan, agreed window Sundays 02:00-06:00) is
what erp (owner erin, channel CERP) depends on, and crm depends on erp, all at SH1; mail is at
BJ2. The clock starts on Monday 2026-11-23 10:00 in Shanghai, so with the default lead time of
3 working days the earliest start is Thursday 2026-11-26; ``SUNDAY`` (2026-11-29 02:00-06:00)
respects it and erp-db's agreed window.
"""

import re
from dataclasses import dataclass

from icalendar import Calendar
from sqlalchemy import inspect, select

from handlers.messages import from_dict, plain_text
from storage.models import Deadline, Person, Shutdown
from tests.chat import Chat
from tests.visits_kit import assert_no_internal_error, new_outbox, ok, person_locale, sh, t

__all__ = ["new_outbox", "ok", "sh", "t"]

SUNDAY = 'start="2026-11-29 02:00" end="2026-11-29 06:00"'
DETAILS = 'reason="firmware upgrade" impact="ERP unavailable" rollback="reflash" backup=job-4711'
REQUEST = f"shutdown request systems=erp-db {SUNDAY} {DETAILS}"
ZH_REQUEST = (
    '停机 申请 系统=erp-db 开始="2026-11-29 02:00" 结束="2026-11-29 06:00" 原因=固件升级 '
    "影响=ERP不可用 回退=刷回旧固件 备份=job-4711"
)
COLUMNS = tuple(a.key for a in inspect(Shutdown).column_attrs)


def ref_in(answer: str) -> str:
    match = re.search(r"\bS-\d+\b", answer)
    assert match, f"no shutdown reference in {answer!r}"
    return match.group()


def request(chat: Chat, who: str = "alice", extra: str = "", text: str = REQUEST) -> str:
    """File a request (it must succeed) and return its reference."""
    answer = chat.text(who, f"{text} {extra}".strip())
    filed = t(chat, "shutdown.filed", person_locale(chat, who), ref="S-\x00").split("S-")[0]
    assert filed in answer, answer
    return ref_in(answer)


def shutdown(chat: Chat, ref: str) -> Shutdown:
    """The shutdown row as it is in the database now (detached)."""
    with chat.core.db.unit_of_work() as session:
        row = session.get(Shutdown, int(ref.split("-")[1]))
        assert row is not None, ref
        return row


def approved(chat: Chat, who: str = "alice", extra: str = "", text: str = REQUEST) -> str:
    """A request by ``who`` approved by carol (the default chain: one supervisor)."""
    ref = request(chat, who, extra, text)
    ok(chat, "carol", f"shutdown approve {ref}")
    assert shutdown(chat, ref).state == "approved"
    return ref


def deadlines(chat: Chat, ref: str | None = None) -> list[Deadline]:
    with chat.core.db.unit_of_work() as session:
        query = select(Deadline).where(Deadline.subject_type == "shutdown").order_by(Deadline.id)
        if ref:
            query = query.where(Deadline.subject_id == int(ref.split("-")[1]))
        return list(session.scalars(query))


def pending(chat: Chat, ref: str) -> list[tuple[str, object]]:
    """(kind, due) of the shutdown's pending timers, by due time."""
    rows = [d for d in deadlines(chat, ref) if d.status == "pending"]
    return sorted(((d.kind, d.due_at) for d in rows), key=lambda k: (k[1], k[0]))


def audit_of(chat: Chat, ref: str):
    number = int(ref.split("-")[1])
    return [e for e in chat.audit() if e.subject_type == "shutdown" and e.subject_id == number]


@dataclass(frozen=True)
class Snapshot:
    rows: tuple
    audit: int
    outbox: int
    deadlines: tuple


def snapshot(chat: Chat) -> Snapshot:
    with chat.core.db.unit_of_work() as session:
        rows = tuple(
            tuple(getattr(r, c) for c in COLUMNS)
            for r in session.scalars(select(Shutdown).order_by(Shutdown.id))
        )
    return Snapshot(
        rows=rows,
        audit=len(chat.audit()),
        outbox=len(chat.outbox()),
        deadlines=tuple((d.id, d.status, d.due_at) for d in deadlines(chat)),
    )


def refused(chat: Chat, who: str, text: str) -> str:
    """Run a command that must be refused: one warning, nothing changed anywhere. Returns it."""
    before = snapshot(chat)
    messages = chat.say(who, text)
    assert_no_internal_error(chat, messages)
    assert [getattr(m, "tone", None) for m in messages] == ["warning"], messages
    assert snapshot(chat) == before, f"{text!r} by {who} changed something"
    return plain_text(messages[0])


def sweep_at(chat: Chat, *wall_time: int) -> list:
    """Move the clock to a Shanghai wall time, sweep, and return the new messages queued."""
    since = len(chat.outbox())
    chat.clock.set(sh(*wall_time))
    chat.core.sweep_deadlines()
    return new_outbox(chat, since)


def texts_to(rows, target: str) -> list[str]:
    """What the rows say to ``target`` (a handle, or ``#channel``), one string each."""
    return [plain_text(from_dict(r.payload)) for r in rows if r.target == target]


def events(text: str) -> dict[str, object]:
    """The VEVENTs of an iCalendar document, parsed back with the library, by UID."""
    calendar = Calendar.from_ical(text)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def person_id(chat: Chat, handle: str) -> int:
    with chat.core.db.unit_of_work() as session:
        return session.scalar(select(Person.id).where(Person.handle == handle))
