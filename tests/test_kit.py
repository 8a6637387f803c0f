"""The workflow kit's rules as data, on a machine of the test's own: who may take a step."""

from dataclasses import dataclass

from handlers.context import Actor
from handlers.kit import Exclude, Machine, Owner, Step, refusal

OWN = Exclude("requester_id", "error.own_request")
ONCE = Exclude("approver_ids", "error.already_approved")
CHAIN = Owner("owner_ids", "error.not_an_owner")
SECOND = Exclude("first_id", "error.already_reviewed")
MACHINE = Machine(
    kind="shutdown",
    model=object,
    created="request",
    steps=(
        Step("first", ("new",), "half", role="admin", excludes=(OWN,), stand_in="supervisor"),
        Step("second", ("half",), "done", role="supervisor", excludes=(SECOND, OWN)),
        Step(
            "withdraw",
            ("new", "half"),
            "gone",
            role="admin",
            owner=Owner("requester_id", "error.not_owner"),
        ),
        Step("comment", ("new",), None, excludes=(OWN,)),
        Step("sign", ("new",), None, role_from="needed", owner=CHAIN, excludes=(OWN, ONCE)),
    ),
    state_label="state.shutdown_{state}",
    action_label="action.shutdown_{action}",
    not_now="error.shutdown_bad_state",
)


@dataclass
class Row:
    id: int = 1
    state: str = "new"
    requester_id: int = 1
    first_id: int | None = None
    approver_ids: tuple[int, ...] = ()
    owner_ids: tuple[int, ...] = ()
    needed: str | None = None


@dataclass
class Everyone:
    people: tuple[Actor, ...]


def person(ident: int, *roles: str) -> Actor:
    return Actor(ident, f"p{ident}", f"P{ident}", frozenset(roles), "en")


def why(action: str, who: Actor, row: Row, everyone: tuple[Actor, ...] = ()) -> str | None:
    step = MACHINE.step(action, row.state)
    error = refusal(MACHINE, step, who, row, Everyone(everyone))
    return error and error.key


def test_a_role_an_owner_or_a_stand_in_may_take_a_step_and_the_excluded_never():
    requester, admin, sup, manager = (
        person(1, "admin"),
        person(2, "admin"),
        person(3, "supervisor"),
        person(4, "manager"),
    )
    row = Row()
    assert why("first", requester, row) == "error.own_request"  # excluded, whatever the role
    assert why("first", admin, row) is None
    assert why("first", sup, row, (requester, admin, sup)) == "error.need_role"
    assert why("first", sup, row, (requester, sup)) is None  # nobody else is an admin: stand-in
    half = Row(state="half", first_id=3)
    assert why("second", sup, half) == "error.already_reviewed"  # the first exclusion speaks first
    assert why("second", manager, half) is None  # supervisor level includes managers
    assert why("withdraw", person(1), row) is None  # the owner, without the role
    assert why("withdraw", person(9), row) == "error.not_owner"


def test_a_step_anyone_may_take_still_excludes():
    assert why("comment", person(9), Row()) is None
    assert why("comment", person(1), Row()) == "error.own_request"
    assert MACHINE.states == ("new", "half", "done", "gone")


def test_a_chain_reads_its_role_or_its_people_from_the_row_and_nobody_signs_twice():
    sup, owner, other = person(3, "supervisor"), person(5), person(6)
    by_role = Row(needed="supervisor", approver_ids=(7,))
    assert why("sign", sup, by_role) is None
    assert why("sign", other, by_role) == "error.need_role"
    by_owner = Row(owner_ids=(5,), approver_ids=(3,))
    assert why("sign", owner, by_owner) is None
    assert why("sign", sup, by_owner) == "error.already_approved"  # never the same person twice
    assert why("sign", other, by_owner) == "error.not_an_owner"
