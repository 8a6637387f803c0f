"""The visit state machine through the chat: every allowed and every forbidden transition, and who
may take each one (document 000, step 1: the admin reviews, a supervisor approves)."""

import pytest

from handlers.context import Origin
from handlers.messages import from_dict
from tests.visits_kit import (
    PATHS,
    audit_of,
    not_now,
    ok,
    refused,
    request,
    snapshot,
    t,
    visit,
    visit_in,
)

# the typed command for each action, and someone who may take it when the state allows
ACTIONS: dict[str, tuple[str, str]] = {
    "review": ("bob", "visit review {ref}"),
    "approve": ("carol", "visit approve {ref}"),
    "reject": ("amy", 'visit reject {ref} reason="no slot"'),
    "changes": ("amy", 'visit changes {ref} note="add the tools"'),
    "edit": ("alice", 'visit edit {ref} task="replace two disks"'),
    "cancel": ("alice", 'visit cancel {ref} reason="not needed"'),
    "checkin": ("bob", "visit checkin {ref} card=A-07 verified=yes briefing=yes early=ahead"),
    "checkout": ("bob", "visit checkout {ref} tools=all card=yes"),
}

# What each action does in each state, from the domain rules (document 000, step 1; the README's
# rules): an admin reviews a new request, a supervisor or manager approves a reviewed one, and
# the same deciders reject or send back; the requester (or an admin) edits a request that is new
# or sent back, and cancels it before check-in; an admin checks an approved visit in and a
# checked-in visit out. A cell is the state the visit moves to; "--": refused, nothing changes.
CODES = {
    "REQ": "requested",
    "REV": "reviewed",
    "CHG": "changes_requested",
    "APP": "approved",
    "IN": "checked_in",
    "REJ": "rejected",
    "CAN": "cancelled",
    "OUT": "checked_out",
}
MATRIX = """
          REQ  REV  CHG  APP  IN   REJ  CAN  OUT
review    REV  --   --   --   --   --   --   --
approve   --   APP  --   --   --   --   --   --
reject    REJ  REJ  --   --   --   --   --   --
changes   CHG  CHG  --   --   --   --   --   --
edit      REQ  --   REQ  --   --   --   --   --
cancel    CAN  CAN  CAN  CAN  --   --   --   --
checkin   --   --   --   IN   --   --   --   --
checkout  --   --   --   --   OUT  --   --   --
"""


def _read(matrix: str) -> dict[tuple[str, str], str | None]:
    header, *rows = (line.split() for line in matrix.strip().splitlines())
    return {
        (action, CODES[column]): CODES.get(cell)
        for action, *cells in rows
        for column, cell in zip(header, cells, strict=True)
    }


EXPECTED = _read(MATRIX)
ALLOWED = [case for case, target in EXPECTED.items() if target]
FORBIDDEN = [case for case, target in EXPECTED.items() if not target]


def test_the_matrix_covers_every_action_and_state():
    assert {a for a, _ in EXPECTED} == set(ACTIONS)
    assert {st for _, st in EXPECTED} == set(PATHS) == set(CODES.values())


@pytest.mark.parametrize(("action", "state"), ALLOWED, ids=lambda v: str(v))
def test_allowed_transition(chat, action, state):
    ref = visit_in(chat, state)
    who, command = ACTIONS[action]
    before = snapshot(chat, ref)
    ok(chat, who, command.format(ref=ref))
    target = EXPECTED[action, state]
    row = visit(chat, ref)
    assert row.state == target
    entry = audit_of(chat, ref)[-1]
    assert (entry.action, entry.old_state, entry.new_state) == (f"visit.{action}", state, target)
    assert entry.actor_label.endswith(f"({who})")
    after = snapshot(chat, ref)
    assert after.audit == before.audit + 1
    assert after.outbox > before.outbox  # at least the #visits card
    title = t(chat, "visit.card_title", ref=ref, task=row.task)
    assert chat.notices("#visits")[-1].startswith(title)


@pytest.mark.parametrize(("action", "state"), FORBIDDEN, ids=lambda v: str(v))
def test_forbidden_transition_changes_nothing(chat, action, state):
    ref = visit_in(chat, state)
    who, command = ACTIONS[action]
    answer = refused(chat, who, command.format(ref=ref), ref)
    if (action, state) == ("approve", "requested"):
        # "visit approve" on a new request is the admin review, which carol cannot give
        assert answer == t(chat, "error.need_role", role="admin")
    else:
        assert answer == not_now(chat, ref, action, who)


@pytest.mark.parametrize("state", list(PATHS))
def test_the_channel_card_offers_the_buttons_the_matrix_allows(chat, state):
    """The visits channel's card shows every button of the state: one for each action the
    matrix allows there, except edit (typed, with the fields to change)."""
    ref = visit_in(chat, state)
    [*_, row] = [r for r in chat.outbox(target="#visits") if r.subject == ref]
    verbs = {action.command.split()[1] for action in from_dict(row.payload).actions}
    assert verbs == {a for (a, st), target in EXPECTED.items() if st == state and target} - {"edit"}


def test_refusal_in_chinese_names_the_state_and_the_action(chat):
    ref = visit_in(chat, "cancelled")
    answer = refused(chat, "dan", f"访问 批准 {ref}", ref)
    assert answer == f"Alice Engineer 已取消 {ref}，当前状态为「已取消」，不能执行「批准」。"


# --- review and approve ----------------------------------------------------------------------


def test_review_then_approve_records_who_decided(chat):
    ref = request(chat)
    assert ok(chat, "bob", f"visit approve {ref} looks fine") == t(
        chat, "visit.done_review", ref=ref
    )
    assert visit(chat, ref).reviewed_by_id is not None
    assert ok(chat, "carol", f"visit approve {ref}") == t(chat, "visit.done_approve", ref=ref)
    v = visit(chat, ref)
    assert v.state == "approved"
    entries = audit_of(chat, ref)
    assert [e.action for e in entries] == ["visit.request", "visit.review", "visit.approve"]
    assert entries[1].comment == "looks fine"
    assert [e.actor_label for e in entries[1:]] == ["Bob Admin (bob)", "Carol Supervisor (carol)"]


def test_a_manager_may_approve(chat):
    ref = visit_in(chat, "reviewed")
    assert ok(chat, "dan", f"访问 批准 {ref}") == t(chat, "visit.done_approve", "zh", ref=ref)
    assert visit(chat, ref).state == "approved"


def test_amy_is_admin_and_supervisor_and_may_do_either_step(chat):
    ref = request(chat)
    ok(chat, "amy", f"visit review {ref}")
    ref2 = visit_in(chat, "reviewed")  # reviewed by bob
    ok(chat, "amy", f"visit approve {ref2}")
    assert visit(chat, ref).state == "reviewed" and visit(chat, ref2).state == "approved"


def test_the_admin_who_reviewed_takes_no_part_in_the_supervisor_step(chat):
    ref = request(chat)
    ok(chat, "amy", f"visit approve {ref}")  # amy reviews; she is a supervisor too
    already = t(chat, "error.already_reviewed", ref=ref)
    assert refused(chat, "amy", f"visit approve {ref}", ref) == already
    assert refused(chat, "amy", f"visit reject {ref} no", ref) == already
    assert refused(chat, "amy", f"visit changes {ref} more", ref) == already
    ok(chat, "carol", f"visit approve {ref}")


def test_a_second_click_by_the_admin_who_reviewed_says_he_already_did(chat):
    ref = request(chat)
    [card] = [r for r in chat.outbox(target="bob") if r.kind == "card"]
    [button] = [a for a in card.payload["actions"] if a["id"] == "visit.approve"]
    bob = Origin("console", "bob")
    assert chat.core.handle_action(bob, button["command"])[0].tone == "success"
    before = snapshot(chat, ref)
    [answer] = chat.core.handle_action(bob, button["command"])  # the same button again
    assert answer.tone == "warning" and snapshot(chat, ref) == before
    assert answer.text.startswith(f"You already reviewed {ref}: it is awaiting supervisor approval")
    # typed, as an approval: the state outranks the role he lacks
    assert refused(chat, "bob", f"visit approve {ref}", ref) == t(
        chat, "error.already_reviewed", ref=ref
    )
    assert refused(chat, "bob", f"visit reject {ref} no", ref) == t(
        chat, "error.already_reviewed", ref=ref
    )


def test_a_second_approval_says_who_approved(chat):
    ref = request(chat)
    ok(chat, "amy", f"visit approve {ref}")
    ok(chat, "carol", f"visit approve {ref}")
    assert refused(chat, "carol", f"visit approve {ref}", ref) == (
        f'You already approved {ref}: it is approved, so "Approve" is not possible now.'
    )
    assert refused(chat, "dan", f"visit approve {ref}", ref) == (
        f"Carol Supervisor 已批准 {ref}，当前状态为「已批准」，不能执行「批准」。"
    )
    # the reviewer is told it is approved now, and by whom
    assert refused(chat, "amy", f"visit approve {ref}", ref).startswith(
        f"Carol Supervisor already approved {ref}: it is approved"
    )


def test_a_click_on_a_step_someone_else_took_says_who_took_it(chat):
    ref = request(chat)
    ok(chat, "amy", f"visit review {ref}")
    assert refused(chat, "bob", f"visit review {ref}", ref) == (
        f'Amy Admin already reviewed {ref}: it is awaiting supervisor approval, so "Review" '
        "is not possible now."
    )


@pytest.mark.parametrize("who", ["alice", "erin", "carol", "dan", "zhang"])
def test_only_admins_review(chat, who):
    ref = request(chat)
    answer = refused(chat, who, f"visit review {ref}", ref)
    if who == "alice":
        assert answer == t(chat, "error.own_request")
    else:
        locale = "zh" if who in ("dan", "zhang") else "en"
        assert answer == t(chat, "error.need_role", locale, role="admin")


@pytest.mark.parametrize("who", ["erin", "bob", "zhang"])
def test_only_supervisors_approve(chat, who):
    ref = visit_in(chat, "reviewed")
    answer = refused(chat, who, f"visit approve {ref}", ref)
    if who == "bob":  # bob reviewed it (he is no supervisor either)
        assert answer == t(chat, "error.already_reviewed", ref=ref)
    else:
        locale = "zh" if who == "zhang" else "en"
        assert answer == t(chat, "error.need_role", locale, role="supervisor")


def test_nobody_reviews_or_approves_their_own_request(chat):
    ref = request(chat, "amy", "company=Acme contact=1")  # amy is admin and supervisor
    assert refused(chat, "amy", f"visit review {ref}", ref) == t(chat, "error.own_request")
    ok(chat, "bob", f"visit review {ref}")
    assert refused(chat, "amy", f"visit approve {ref}", ref) == t(chat, "error.own_request")
    assert refused(chat, "amy", f'visit reject {ref} reason="mine"', ref) == t(
        chat, "error.own_request"
    )
    ok(chat, "carol", f"visit approve {ref}")


def test_a_supervisors_own_request_goes_to_another_supervisor(chat):
    ref = request(chat, "carol", "company=Acme contact=1")
    ok(chat, "bob", f"visit review {ref}")
    assert refused(chat, "carol", f"visit approve {ref}", ref) == t(chat, "error.own_request")
    ok(chat, "dan", f"visit approve {ref}")


# --- reject, changes, edit -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["visit reject {ref}", 'visit reject {ref} reason=""'])
def test_reject_needs_a_reason(chat, command):
    ref = request(chat)
    assert refused(chat, "bob", command.format(ref=ref), ref) == t(chat, "error.reason_required")


def test_reject_with_a_reason_in_words_or_as_an_option(chat):
    ref = request(chat)
    assert ok(chat, "bob", f"visit reject {ref} no free slot this week") == t(
        chat, "visit.rejected", ref=ref
    )
    v = visit(chat, ref)
    assert (v.state, v.decision_note) == ("rejected", "no free slot this week")
    assert audit_of(chat, ref)[-1].comment == "no free slot this week"
    ref2 = visit_in(chat, "reviewed")
    ok(chat, "carol", f"访问 驳回 {ref2} 原因=时间冲突")
    assert visit(chat, ref2).decision_note == "时间冲突"


def test_reject_on_a_new_request_is_for_admins_on_a_reviewed_one_for_supervisors(chat):
    ref = request(chat)
    assert refused(chat, "carol", f"visit reject {ref} no", ref) == t(
        chat, "error.need_role", role="admin"
    )
    ref2 = request(chat)
    ok(chat, "amy", f"visit review {ref2}")
    assert refused(chat, "bob", f"visit reject {ref2} no", ref2) == t(
        chat, "error.need_role", role="supervisor"
    )


def test_reject_from_a_card_button_with_an_empty_answer(chat):
    ref = request(chat)
    before = snapshot(chat, ref)
    [answer] = chat.core.handle_action(Origin("console", "bob"), f"visit reject {ref} reason=", " ")
    assert answer.text == t(chat, "error.reason_required")
    assert snapshot(chat, ref) == before


def test_changes_then_edit_goes_back_to_review(chat):
    ref = visit_in(chat, "reviewed")
    assert ok(chat, "carol", f'visit changes {ref} note="bring the CCNA"') == t(
        chat, "visit.changes_sent", ref=ref
    )
    v = visit(chat, ref)
    assert (v.state, v.decision_note, v.reviewed_by_id) == (
        "changes_requested",
        "bring the CCNA",
        None,
    )
    assert refused(chat, "carol", f"visit changes {ref} again", ref).startswith(
        f"You already sent back {ref}: it is changes requested"
    )
    ok(chat, "alice", f"visit edit {ref} certificates=CCNA")
    v = visit(chat, ref)
    assert (v.state, v.certificates, v.decision_note) == ("requested", "CCNA", None)
    # the whole review starts again; bob, who reviewed the first time, may review again
    ok(chat, "bob", f"visit approve {ref}")
    ok(chat, "dan", f"visit approve {ref}")
    actions = [e.action for e in audit_of(chat, ref)]
    assert actions == [
        "visit.request",
        "visit.review",
        "visit.changes",
        "visit.edit",
        "visit.review",
        "visit.approve",
    ]


def test_changes_needs_a_note(chat):
    ref = request(chat)
    assert refused(chat, "bob", f"visit changes {ref}", ref) == t(chat, "error.reason_required")


@pytest.mark.parametrize("who", ["erin", "carol", "zhang"])
def test_only_the_requester_or_an_admin_edits(chat, who):
    ref = request(chat)
    answer = refused(chat, who, f"visit edit {ref} task=other", ref)
    locale = "zh" if who == "zhang" else "en"
    assert answer == t(chat, "error.not_owner", locale)


def test_an_admin_may_edit_someone_elses_request(chat):
    ref = visit_in(chat, "changes_requested")
    ok(chat, "bob", f"visit edit {ref} duration=3h")
    assert (visit(chat, ref).state, visit(chat, ref).duration_minutes) == ("requested", 180)


# --- cancel ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "amy"])
def test_requester_or_admin_cancels(chat, who):
    ref = visit_in(chat, "approved")
    assert ok(chat, who, f"visit cancel {ref} plans changed") == t(chat, "visit.cancelled", ref=ref)
    v = visit(chat, ref)
    assert (v.state, v.decision_note) == ("cancelled", "plans changed")
    assert audit_of(chat, ref)[-1].comment == "plans changed"


@pytest.mark.parametrize("who", ["erin", "carol", "dan", "zhang"])
def test_others_cannot_cancel(chat, who):
    ref = visit_in(chat, "approved", extra="responsible=erin")
    answer = refused(chat, who, f"visit cancel {ref}", ref)
    locale = "zh" if who in ("dan", "zhang") else "en"
    assert answer == t(chat, "error.not_owner", locale)


def test_cancel_without_a_reason_is_allowed(chat):
    ref = request(chat)
    ok(chat, "alice", f"访问 取消 {ref}")
    v = visit(chat, ref)
    assert (v.state, v.decision_note) == ("cancelled", None)


# --- references ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["V-{n}", "v{n}", "#V-{n}", "{n}", "v-{n}"])
def test_reference_forms(chat, form):
    ref = request(chat)
    ok(chat, "bob", f"visit review {form.format(n=ref[2:])}")
    assert visit(chat, ref).state == "reviewed"


@pytest.mark.parametrize(
    ("typed", "key"),
    [("V-99", "error.not_found"), ("F-1", "error.bad_ref"), ("banana", "error.bad_ref")],
)
def test_unknown_and_bad_references(chat, typed, key):
    request(chat)
    answer = refused(chat, "bob", f"visit approve {typed}")
    if key == "error.not_found":
        assert answer == t(chat, key, ref="V-99")
    else:
        assert answer == t(chat, key, value=typed, example="V-12")


def test_missing_reference(chat):
    answer = refused(chat, "bob", "visit approve")
    assert answer == t(chat, "error.missing_arg", name="ref", usage="visit.approve")


# --- card buttons ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", ["requested", "reviewed", "changes_requested", "approved", "checked_in"]
)
def test_every_card_button_is_a_working_command(chat, state):
    """A button's typed twin, with the answer its prompt asks for, does what the button says."""
    answers = {
        "visit.changes": "please add tools",
        "visit.reject": "no slot",
        "visit.cancel": "not needed",
        "visit.checkin": "card=A-01 verified=yes briefing=yes early=ahead",
        "visit.checkout": "tools=all card=yes",
    }
    actors = {"visit.approve": "carol" if state == "reviewed" else "bob"}
    buttons = chat.card("amy", f"visit show {visit_in(chat, state)}").actions
    assert buttons, state
    for button in buttons:
        ref = visit_in(chat, state)
        command = button.command.replace(button.subject, ref)
        if button.id in ("visit.checkin", "visit.checkout"):
            messages = chat.say("bob", f"{command} {answers[button.id]}")
        else:
            who = actors.get(button.id, "amy" if state == "reviewed" else "bob")
            messages = chat.core.handle_action(
                Origin("console", who), command, answers.get(button.id) if button.prompt else None
            )
        assert messages[0].tone == "success", (button, messages)
        assert visit(chat, ref).state != state
