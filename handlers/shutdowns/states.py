"""The shutdown state machine, as data. A request waits for its approval chain (fixed when it is
filed: a supervisor by default, then for instance the business owners of each system it takes
down), each step by a person who holds its role or is one of the people it names — never the
requester, never someone who already approved it. The last approval moves it to approved; the
ones before are recorded without a move. The engineer begins the window, may ask for an
extension (a supervisor approves it) and completes it.
"""

from handlers.kit import Exclude, Machine, Owner, Step
from storage.models import Shutdown

REQUESTED = "requested"
CHANGES = "changes_requested"
APPROVED = "approved"
IN_PROGRESS = "in_progress"
EXTENSION = "extension_requested"
COMPLETED = "completed"
REJECTED = "rejected"
CANCELLED = "cancelled"

OPEN = (REQUESTED, CHANGES, APPROVED, IN_PROGRESS, EXTENSION)
BOOKED = (REQUESTED, APPROVED, IN_PROGRESS, EXTENSION)  # windows that hold their time
ON_CALENDAR = (APPROVED, IN_PROGRESS, EXTENSION, COMPLETED)

OWN = Exclude("requester_id", "error.shutdown_own")
TWICE = Exclude("approver_ids", "error.shutdown_twice")
DECIDE = {  # the step the request waits for: its role, or the people it names
    "role_from": "needed_role",
    "owner": Owner("needed_people", "error.shutdown_not_yours"),
    "excludes": (OWN, TWICE),
}
WORKS = {"role": "admin", "owner": Owner("engineer_ids", "error.shutdown_not_engineer")}
OWNS = {"role": "supervisor", "owner": Owner("requester_id", "error.shutdown_not_requester")}
EXTEND = {"role": "supervisor", "excludes": (OWN,)}

MACHINE = Machine(
    kind="shutdown",
    model=Shutdown,
    created="request",
    steps=(
        Step("approve", (REQUESTED,), APPROVED, **DECIDE),
        Step("endorse", (REQUESTED,), None, **DECIDE),  # an approval before the last
        Step("changes", (REQUESTED,), CHANGES, **DECIDE),
        Step("reject", (REQUESTED,), REJECTED, **DECIDE),
        Step("begin", (APPROVED,), IN_PROGRESS, **WORKS),
        Step("extend", (IN_PROGRESS,), EXTENSION, **WORKS),
        Step("approve", (EXTENSION,), IN_PROGRESS, **EXTEND),
        Step("reject", (EXTENSION,), IN_PROGRESS, **EXTEND),
        Step("complete", (IN_PROGRESS, EXTENSION), COMPLETED, **WORKS),
        Step("edit", (REQUESTED, CHANGES), REQUESTED, **OWNS),
        Step("cancel", (REQUESTED, CHANGES, APPROVED), CANCELLED, **OWNS),
    ),
    state_label="state.shutdown_{state}",
    action_label="action.shutdown_{action}",
    not_now="error.shutdown_bad_state",
)
