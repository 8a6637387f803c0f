"""The visit state machine, as data: which action moves which state, and who may do it."""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    role: str | None  # None: the requester (or an admin) acts
    decides: bool = False  # a decision on the request: never the requester's own
    stand_in: str | None = None  # may act when nobody but the requester holds ``role``
    not_reviewer: bool = False  # the supervisor's step: never the one who reviewed


# The admin reviews (审核) what was requested; a supervisor approves (批准) what was reviewed.
# When the requester is the only admin, a supervisor (or manager) reviews instead; the approval
# then still needs another supervisor. The order is the order of a card's buttons.
_REVIEWER = {"role": "admin", "decides": True, "stand_in": "supervisor"}
_APPROVER = {"role": "supervisor", "decides": True, "not_reviewer": True}
TRANSITIONS: tuple[Transition, ...] = (
    Transition("review", (REQUESTED,), REVIEWED, **_REVIEWER),
    Transition("approve", (REVIEWED,), APPROVED, **_APPROVER),
    Transition("changes", (REQUESTED,), CHANGES, **_REVIEWER),
    Transition("changes", (REVIEWED,), CHANGES, **_APPROVER),
    Transition("reject", (REQUESTED,), REJECTED, **_REVIEWER),
    Transition("reject", (REVIEWED,), REJECTED, **_APPROVER),
    Transition("checkin", (APPROVED,), CHECKED_IN, "admin"),
    Transition("checkout", (CHECKED_IN,), CHECKED_OUT, "admin"),
    Transition("edit", (REQUESTED, CHANGES), REQUESTED, None),
    Transition("cancel", (REQUESTED, REVIEWED, CHANGES, APPROVED), CANCELLED, None),
)
# Recording an access card handed back after check-out: a step, but no move.
RETURN_CARD = Transition("card", (CHECKED_OUT,), CHECKED_OUT, "admin")


def find(action: str, state: str) -> Transition | None:
    """The transition ``action`` takes from ``state``, if there is one."""
    return next((t for t in TRANSITIONS if t.action == action and state in t.sources), None)
