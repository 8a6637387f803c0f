"""The visit state machine, as data: which action moves which state, and who may take it.

The admin reviews (审核) what was requested; a supervisor approves (批准) what was reviewed. When
the requester is the only admin, a supervisor (or manager) reviews instead; the approval then
still needs another supervisor. Nobody decides on their own request, and the reviewer takes no
part in the supervisor's step. The requester (or an admin) edits and cancels. The order of the
steps is the order of a card's buttons.
"""

from handlers.kit import Exclude, Machine, Owner, Step
from storage.models import Visit

REQUESTED = "requested"
REVIEWED = "reviewed"
APPROVED = "approved"
CHANGES = "changes_requested"
REJECTED = "rejected"
CANCELLED = "cancelled"
CHECKED_IN = "checked_in"
CHECKED_OUT = "checked_out"

OPEN = (REQUESTED, REVIEWED, CHANGES, APPROVED, CHECKED_IN)
FINAL = (REJECTED, CANCELLED, CHECKED_OUT)
NEXT_DECISION = {REQUESTED: "review", REVIEWED: "approve"}  # what a request waits for

OWN = Exclude("requester_id", "error.own_request")
REVIEWER = Exclude("reviewed_by_id", "error.already_reviewed")
_REVIEW = {"role": "admin", "excludes": (OWN,), "stand_in": "supervisor"}
_APPROVE = {"role": "supervisor", "excludes": (REVIEWER, OWN)}
_OWNER = {"role": "admin", "owner": Owner("requester_id", "error.not_owner")}

# Recording an access card handed back after check-out: an action, but no move.
RETURN_CARD = Step("card", (CHECKED_OUT,), None, role="admin")
MACHINE = Machine(
    kind="visit",
    model=Visit,
    created="request",
    steps=(
        Step("review", (REQUESTED,), REVIEWED, **_REVIEW),
        Step("approve", (REVIEWED,), APPROVED, **_APPROVE),
        Step("changes", (REQUESTED,), CHANGES, **_REVIEW),
        Step("changes", (REVIEWED,), CHANGES, **_APPROVE),
        Step("reject", (REQUESTED,), REJECTED, **_REVIEW),
        Step("reject", (REVIEWED,), REJECTED, **_APPROVE),
        Step("checkin", (APPROVED,), CHECKED_IN, role="admin"),
        Step("checkout", (CHECKED_IN,), CHECKED_OUT, role="admin"),
        Step("edit", (REQUESTED, CHANGES), REQUESTED, **_OWNER),
        Step("cancel", (REQUESTED, REVIEWED, CHANGES, APPROVED), CANCELLED, **_OWNER),
    ),
    state_label="state.{state}",
    action_label="action.{action}",
    not_now="error.visit_bad_state",
)
