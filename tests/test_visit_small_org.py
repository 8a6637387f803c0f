"""Small organisations: when the requester is the only admin a supervisor reviews instead, and a
request that cannot complete with the people the organisation has says so when it is filed."""

import copy

import pytest

from handlers.workflows import OrgConfig
from tests.chat import Chat
from tests.visits_kit import (
    audit_of,
    new_outbox,
    ok,
    ref_in,
    refused,
    request,
    t,
    visit,
)

# amy keeps only her supervisor role: bob is the organisation's one admin
ONE_ADMIN = {"amy": ["supervisor"]}
# and carol is the one supervisor: nobody is left to approve what she reviews for bob
ONE_ADMIN_ONE_SUPERVISOR = {"amy": None, "dan": None}
# nobody but bob can review or approve anything
ADMIN_ALONE = {"amy": None, "carol": None, "dan": None}


def org_with(org_data: dict, changes: dict[str, list[str] | None]) -> OrgConfig:
    """tests/org.yaml with some people's roles changed (a list) or the people left out (None)."""
    data = copy.deepcopy(org_data)
    people = []
    for person in data["people"]:
        if person["handle"] in changes:
            if changes[person["handle"]] is None:
                continue
            person["roles"] = changes[person["handle"]]
        people.append(person)
    data["people"] = people
    data.pop("systems")  # their owners may be among the people left out
    return OrgConfig.model_validate(data)


@pytest.fixture
def small(db, clock, org_data):
    def start(changes: dict) -> Chat:
        return Chat.start(db, clock, org_with(org_data, changes))

    return start


REQUEST_WORDS = (
    'visit request at="2026-11-25 09:00" duration=2h room=SH1/A101 task="replace disk" '
    "id=passport:E98765432 company=Acme contact=1"
)


def filed_answer(chat: Chat, who: str) -> tuple[str, str, int]:
    """File a request as ``who``: its reference, the whole answer, the outbox size before."""
    since = len(chat.outbox())
    answer = chat.text(who, REQUEST_WORDS)
    ref = ref_in(answer)
    assert t(chat, "visit.filed", ref=ref) in answer, answer
    return ref, answer, since


def card_targets(chat: Chat, since: int) -> set[str]:
    return {r.target for r in new_outbox(chat, since) if r.kind == "card"}


def test_when_the_requester_is_the_only_admin_a_supervisor_reviews(small):
    chat = small(ONE_ADMIN)
    ref, answer, since = filed_answer(chat, "bob")
    assert t(chat, "visit.supervisor_reviews") in answer
    assert t(chat, "visit.nobody_approves") not in answer
    # the supervisors are the ones who can take the next step: they get the card, with its button
    assert card_targets(chat, since) == {"#visits", "amy", "carol", "dan"}
    [carols] = [r for r in new_outbox(chat, since) if r.target == "carol"]
    assert carols.payload["actions"][0]["id"] == "visit.approve"
    assert t(chat, "visit.supervisor_reviews") in carols.payload["body"]
    ok(chat, "carol", f"visit approve {ref}")  # carol reviews
    assert visit(chat, ref).state == "reviewed"
    # the approval still comes from someone other than the reviewer
    assert refused(chat, "carol", f"visit approve {ref}", ref) == t(
        chat, "error.already_reviewed", ref=ref
    )
    assert refused(chat, "bob", f"visit approve {ref}", ref) == t(chat, "error.own_request")
    ok(chat, "dan", f"visit approve {ref}")
    entries = audit_of(chat, ref)
    assert [(e.action, e.actor_label) for e in entries] == [
        ("visit.request", "Bob Admin (bob)"),
        ("visit.review", "Carol Supervisor (carol)"),
        ("visit.approve", "Dan Manager (dan)"),
    ]


def test_a_supervisor_may_not_review_while_another_admin_can(small):
    chat = small(ONE_ADMIN)
    ref = request(chat, "alice")  # bob is not the requester: he reviews
    assert refused(chat, "carol", f"visit review {ref}", ref) == t(
        chat, "error.need_role", role="admin"
    )
    assert refused(chat, "carol", f'visit reject {ref} reason="no"', ref) == t(
        chat, "error.need_role", role="admin"
    )
    ok(chat, "bob", f"visit review {ref}")


def test_the_supervisor_standing_in_may_also_send_back_or_reject(small):
    chat = small(ONE_ADMIN)
    ref, _answer, _since = filed_answer(chat, "bob")
    ok(chat, "carol", f'visit changes {ref} note="add the tools"')
    ok(chat, "bob", f"visit edit {ref} tools=laptop")
    ok(chat, "amy", f'visit reject {ref} reason="no slot"')
    assert visit(chat, ref).state == "rejected"


def test_a_request_nobody_can_approve_says_so_and_the_deciders_are_told(small):
    chat = small(ONE_ADMIN_ONE_SUPERVISOR)
    ref, answer, since = filed_answer(chat, "bob")
    assert t(chat, "visit.supervisor_reviews") in answer
    assert t(chat, "visit.nobody_approves") in answer
    assert card_targets(chat, since) == {"#visits", "carol"}
    [carols] = [r for r in new_outbox(chat, since) if r.target == "carol"]
    assert t(chat, "visit.nobody_approves") in carols.payload["body"]
    ok(chat, "carol", f"visit review {ref}")
    card = chat.card("bob", f"visit show {ref}")
    assert t(chat, "visit.nobody_approves") in card.body


def test_a_request_nobody_can_review_says_so(small):
    chat = small(ADMIN_ALONE)
    ref, answer, since = filed_answer(chat, "bob")
    assert t(chat, "visit.nobody_reviews") in answer
    assert card_targets(chat, since) == {"#visits"}  # nobody else holds a deciding role
    assert refused(chat, "bob", f"visit review {ref}", ref) == t(chat, "error.own_request")


def test_the_warning_speaks_each_readers_language(small):
    chat = small(ONE_ADMIN)
    _ref, _answer, since = filed_answer(chat, "bob")
    [dans] = [r for r in new_outbox(chat, since) if r.target == "dan"]  # dan reads Chinese
    assert "没有其他管理员可审核，将由主管审核。" in dans.payload["body"]


def test_a_full_organisation_has_no_warnings(chat):
    since = len(chat.outbox())
    answer = chat.text("alice", REQUEST_WORDS)
    for key in ("visit.supervisor_reviews", "visit.nobody_approves", "visit.nobody_reviews"):
        assert t(chat, key) not in answer
    assert card_targets(chat, since) == {"#visits", "bob", "amy"}


def test_a_stand_in_reviewer_finds_the_request_in_their_pending_list(small):
    """The pending list reads the same rules as the buttons: the supervisor standing in for the
    only admin sees bob's request as waiting for her, and bob sees it as his own."""
    chat = small(ONE_ADMIN)
    ref, _, _ = filed_answer(chat, "bob")
    assert ref in chat.text("carol", "visit list pending")
    assert ref in chat.text("bob", "visit list pending")
    assert ref not in chat.text("erin", "visit list pending")  # an engineer decides nothing
    ok(chat, "carol", f"visit review {ref}")
    assert ref not in chat.text("carol", "visit list pending")  # the reviewer takes no part
    assert ref in chat.text("amy", "visit list pending")
