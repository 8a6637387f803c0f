"""The visit state machine, as data: which action moves which state, and who may do it."""

from dataclasses import dataclass

from handlers.context import Actor
from handlers.errors import Forbidden, UserError

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


# The admin reviews (审核) what was requested; a supervisor approves (批准) what was reviewed.
TRANSITIONS: tuple[Transition, ...] = (
    Transition("review", (REQUESTED,), REVIEWED, "admin"),
    Transition("approve", (REVIEWED,), APPROVED, "supervisor"),
    Transition("reject", (REQUESTED,), REJECTED, "admin"),
    Transition("reject", (REVIEWED,), REJECTED, "supervisor"),
    Transition("changes", (REQUESTED,), CHANGES, "admin"),
    Transition("changes", (REVIEWED,), CHANGES, "supervisor"),
    Transition("edit", (REQUESTED, CHANGES), REQUESTED, None),
    Transition("cancel", (REQUESTED, REVIEWED, CHANGES, APPROVED), CANCELLED, None),
    Transition("checkin", (APPROVED,), CHECKED_IN, "admin"),
    Transition("checkout", (CHECKED_IN,), CHECKED_OUT, "admin"),
)


def transition(action: str, state: str) -> Transition:
    """The transition ``action`` takes from ``state``; a clear refusal when there is none."""
    for t in TRANSITIONS:
        if t.action == action and state in t.sources:
            return t
    raise UserError("error.visit_bad_state", action=action, state=state)


def check_actor(t: Transition, actor: Actor, requester_id: int) -> None:
    """Role rules: nobody decides on their own request; owner-actions are for the requester."""
    if t.role is None:
        if actor.id != requester_id and not actor.has("admin"):
            raise Forbidden("error.not_owner")
        return
    if actor.id == requester_id and t.action in ("review", "approve", "reject", "changes"):
        raise Forbidden("error.own_request")
    if not actor.has(t.role):
        raise Forbidden("error.need_role", role=t.role)
