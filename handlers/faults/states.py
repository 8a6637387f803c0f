"""The fault state machine, as data: declared → acknowledged → resolved → closed, and reopen."""

from dataclasses import dataclass

from handlers.errors import UserError

DECLARED = "declared"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
CLOSED = "closed"

OPEN = (DECLARED, ACKNOWLEDGED)
ALL = (DECLARED, ACKNOWLEDGED, RESOLVED, CLOSED)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition("ack", (DECLARED,), ACKNOWLEDGED),
    Transition("resolve", (DECLARED, ACKNOWLEDGED), RESOLVED),
    Transition("close", (RESOLVED,), CLOSED),
    Transition("reopen", (RESOLVED, CLOSED), ACKNOWLEDGED),
)


def transition(action: str, state: str) -> Transition:
    for t in TRANSITIONS:
        if t.action == action and state in t.sources:
            return t
    raise UserError("error.fault_bad_state", action=action, state=state)
