"""The fault state machine, as data: declared → acknowledged → resolved → closed, and reopen.
Anyone may take any step (a fault is everyone's business); a progress note and a repaint of the
card are actions that change no state."""

from handlers.kit import Machine, Step
from storage.models import Fault

DECLARED = "declared"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
CLOSED = "closed"

OPEN = (DECLARED, ACKNOWLEDGED)

MACHINE = Machine(
    kind="fault",
    model=Fault,
    created="declare",
    steps=(
        Step("ack", (DECLARED,), ACKNOWLEDGED),
        Step("resolve", (DECLARED, ACKNOWLEDGED), RESOLVED),
        Step("close", (RESOLVED,), CLOSED),
        Step("reopen", (RESOLVED, CLOSED), ACKNOWLEDGED),
    ),
    state_label="state.fault_{state}",
    action_label="action.fault_{action}",
    not_now="error.fault_bad_state",
)
# buttons of actions that change no state (the command takes a note in any state but closed)
UPDATE = Step("update", (ACKNOWLEDGED,), None)
REFRESH = Step("refresh", OPEN, None)  # WeCom: a card is rewritten only on a click
