"""Helpers for the repair workflow tests: an organisation with typed systems, owners, a repairs
channel and spare parts; start a repair; read the record; check that a refusal changed nothing.

People are those of tests/org.yaml: alice and erin (engineers), bob (admin), amy (admin and
supervisor), carol (supervisor), dan (manager, zh; owner of erp-db) and zhang (engineer, zh).
"""

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from handlers.messages import plain_text
from storage.models import Deadline, Repair, RepairPart, RepairStep
from tests.chat import Chat
from tests.visits_kit import assert_no_internal_error, t

__all__ = ["t"]


def ref_in(answer: str, letter: str = "R") -> str:
    found = re.search(rf"\b{letter}-\d+\b", answer)
    assert found, answer
    return found.group()


def ok(chat: Chat, who: str, text: str) -> str:
    """A command that must succeed: its first message is no warning; all its text."""
    messages = chat.say(who, text)
    assert_no_internal_error(chat, messages)
    answer = "\n".join(plain_text(m) for m in messages)
    assert messages and getattr(messages[0], "tone", "info") not in ("warning", "danger"), answer
    return answer


def start(chat: Chat, text: str = "erp-db link=F-1", who: str = "alice") -> str:
    """Start a repair (it must succeed) and return its reference."""
    return ref_in(ok(chat, who, f"repair start {text}"))


def declare(chat: Chat, text: str = "2 ERP database down system=erp-db", who="carol") -> str:
    return ref_in(ok(chat, who, f"fault declare {text}"), "F")


def repair(chat: Chat, ref: str) -> Repair:
    with chat.core.db.unit_of_work() as session:
        row = session.get(Repair, int(ref.split("-")[1]))
        assert row is not None, ref
        session.expunge_all()
        return row


@dataclass(frozen=True)
class Snapshot:
    rows: tuple
    steps: int
    parts: int
    audit: int
    outbox: int
    deadlines: tuple


def snapshot(chat: Chat) -> Snapshot:
    with chat.core.db.unit_of_work() as session:
        rows = tuple(
            (r.id, r.state, repr(r.checklist), repr(r.state_before), repr(r.state_after),
             repr(r.verification), repr(r.report), r.completed_at)
            for r in session.scalars(select(Repair).order_by(Repair.id))
        )  # fmt: skip
        steps = session.scalar(select(func.count()).select_from(RepairStep))
        parts = session.scalar(select(func.count()).select_from(RepairPart))
        due = tuple(
            (d.id, d.status) for d in session.scalars(select(Deadline).order_by(Deadline.id))
        )
    return Snapshot(rows, steps, parts, len(chat.audit()), len(chat.outbox()), due)


def refused(chat: Chat, who: str, text: str) -> str:
    """A command that must be refused: one warning, nothing changed anywhere. Returns it."""
    before = snapshot(chat)
    messages = chat.say(who, text)
    assert_no_internal_error(chat, messages)
    assert [getattr(m, "tone", None) for m in messages] == ["warning"], messages
    assert snapshot(chat) == before, f"{text!r} by {who} changed something"
    return plain_text(messages[0])
