"""The fault state machine through the chat: every action in every state, against a matrix
written here from the domain rules (declared → acknowledged → resolved → closed; a reopen takes
a resolved or closed fault back to acknowledged), never from the code's own table."""

import re

import pytest
from sqlalchemy import inspect

from storage.models import Fault
from tests.chat import Chat
from tests.visits_kit import ok, refused, t

# the typed command for each action (anyone may take any of them)
ACTIONS: dict[str, str] = {
    "ack": "fault ack {ref}",
    "resolve": "fault resolve {ref} restarted the service",
    "close": 'fault close {ref} cause="worn part"',
    "reopen": "fault reopen {ref} it came back",
    "update": "fault update {ref} still watching it",
    "tier": "fault tier {ref} 1 two racks now",
}
# the answer to each action taken
DONE = {
    "ack": "fault.acked",
    "resolve": "fault.resolved",
    "close": "fault.closed",
    "reopen": "fault.reopened",
    "update": "fault.noted",
    "tier": "fault.retiered",
}
# the steps that take a fresh tier-3 fault to each state
PATHS: dict[str, list[str]] = {
    "declared": [],
    "acknowledged": ["ack"],
    "resolved": ["resolve"],
    "closed": ["resolve", "close"],
}

# What each action does in each state (the README's fault commands): an acknowledgement answers
# a declared fault; resolving needs it open (acknowledged or not: resolving is also the
# response); closing needs it resolved; a reopen takes a resolved or closed fault back to
# acknowledged. A progress note and a tier change are steps without a move, possible until the
# fault is closed. A cell is the state the fault moves to, "=" a step that keeps the state,
# "--" refused, nothing changes.
CODES = {"DEC": "declared", "ACK": "acknowledged", "RES": "resolved", "CLO": "closed"}
MATRIX = """
          DEC  ACK  RES  CLO
ack       ACK  --   --   --
resolve   RES  RES  --   --
close     --   --   CLO  --
reopen    --   --   ACK  ACK
update    =    =    =    --
tier      =    =    =    --
"""


def _read(matrix: str) -> dict[tuple[str, str], str | None]:
    header, *rows = (line.split() for line in matrix.strip().splitlines())
    return {
        (action, CODES[column]): CODES[column] if cell == "=" else CODES.get(cell)
        for action, *cells in rows
        for column, cell in zip(header, cells, strict=True)
    }


EXPECTED = _read(MATRIX)
ALLOWED = [case for case, target in EXPECTED.items() if target]
FORBIDDEN = [case for case, target in EXPECTED.items() if not target]
COLUMNS = tuple(a.key for a in inspect(Fault).column_attrs)


def fault_in(chat: Chat, state: str) -> str:
    """A new tier-3 fault declared by alice, driven to ``state``."""
    answer = ok(chat, "alice", "fault declare 3 Fan alarm in A101")
    ref = re.search(r"\bF-\d+\b", answer).group()
    for action in PATHS[state]:
        ok(chat, "erin", ACTIONS[action].format(ref=ref))
    assert fault(chat, ref)["state"] == state
    return ref


def fault(chat: Chat, ref: str) -> dict:
    """The fault row as it is in the database now, column by column."""
    with chat.core.db.unit_of_work() as session:
        row = session.get(Fault, int(ref.removeprefix("F-")))
        return {c: getattr(row, c) for c in COLUMNS}


def audit_of(chat: Chat, ref: str):
    number = int(ref.removeprefix("F-"))
    return [e for e in chat.audit() if e.subject_type == "fault" and e.subject_id == number]


def test_the_matrix_covers_every_state():
    assert {st for _, st in EXPECTED} == set(PATHS) == set(CODES.values())
    assert {a for a, _ in EXPECTED} == set(ACTIONS) == set(DONE)


@pytest.mark.parametrize(("action", "state"), ALLOWED, ids=lambda v: str(v))
def test_allowed_step(chat, action, state):
    ref = fault_in(chat, state)
    shown, entries = len(chat.outbox(target="#faults")), len(audit_of(chat, ref))
    [done, *_] = chat.say("erin", ACTIONS[action].format(ref=ref))
    assert (done.tone, done.text) == ("success", t(chat, DONE[action], ref=ref))
    target = EXPECTED[action, state]
    assert fault(chat, ref)["state"] == target
    [*_, entry] = audit = audit_of(chat, ref)
    assert len(audit) == entries + 1 and entry.action == f"fault.{action}"
    if target != state:
        assert (entry.old_state, entry.new_state) == (state, target)
    assert entry.actor_label.endswith("(erin)")
    assert len(chat.outbox(target="#faults")) > shown  # the channel's card, repainted


@pytest.mark.parametrize(("action", "state"), FORBIDDEN, ids=lambda v: str(v))
def test_forbidden_step_changes_nothing(chat, action, state):
    ref = fault_in(chat, state)
    before = fault(chat, ref)
    answer = refused(chat, "erin", ACTIONS[action].format(ref=ref))  # no audit, outbox, timer
    assert answer == t(chat, "error.fault_bad_state", action=action, state=state)
    assert fault(chat, ref) == before
