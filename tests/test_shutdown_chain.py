"""The approval chain: one supervisor by default, or the organisation's steps (e.g. a supervisor,
then an owner of each system taken down); never the requester, never the same person twice;
each decision in the audit log; reject, send back and edit; emergencies. State transitions:
these run on every backend."""

from datetime import timedelta

import pytest

from tests.shutdowns_kit import (
    REQUEST,
    audit_of,
    ok,
    person_id,
    refused,
    request,
    sh,
    shutdown,
    t,
)

OWNERS_CHAIN = ["supervisor", "owners"]


def bad_state(chat, ref, action, did, by, locale="en", you=False) -> str:
    state = shutdown(chat, ref).state
    return t(chat, "error.shutdown_bad_state", locale, action=action, state=state, ref=ref,
             did=did, by=by, you=you)  # fmt: skip


# --- the default chain: one supervisor -------------------------------------------------------


def test_one_supervisor_approves_and_the_decision_is_recorded(chat):
    ref = request(chat)
    chat.clock.advance(timedelta(hours=2))
    answer = ok(chat, "carol", f"shutdown approve {ref} fine, go ahead")
    assert answer.startswith(t(chat, "shutdown.done_approved", ref=ref))
    row = shutdown(chat, ref)
    assert row.state == "approved"
    assert (row.approved_steps, row.approver_ids) == (1, [person_id(chat, "carol")])
    entry = audit_of(chat, ref)[-1]
    assert (entry.action, entry.old_state, entry.new_state) == (
        "shutdown.approve",
        "requested",
        "approved",
    )
    assert entry.actor_id == person_id(chat, "carol")
    assert entry.at == sh(2026, 11, 23, 12, 0)
    assert entry.comment == "fine, go ahead"
    assert "✔ Carol Supervisor" in chat.text("carol", f"shutdown show {ref}")


def test_the_requester_cannot_approve_their_own_request(chat):
    ref = request(chat, "amy")  # amy is a supervisor herself
    assert refused(chat, "amy", f"shutdown approve {ref}") == t(chat, "error.shutdown_own")
    zh = request(chat, "dan")
    assert refused(chat, "dan", f"shutdown approve {zh}") == t(chat, "error.shutdown_own", "zh")


def test_an_engineer_cannot_approve(chat):
    ref = request(chat)
    need = t(chat, "error.need_role", role="supervisor")
    assert refused(chat, "erin", f"shutdown approve {ref}") == need
    assert refused(chat, "zhang", f"shutdown approve {ref}") == t(
        chat, "error.need_role", "zh", role="supervisor"
    )
    assert refused(chat, "bob", f"shutdown reject {ref} no") == need  # an admin neither


def test_a_second_click_after_the_decision_says_who_decided(chat):
    ref = request(chat)
    ok(chat, "carol", f"shutdown approve {ref}")
    again = refused(chat, "amy", f"shutdown approve {ref}")
    assert again == bad_state(chat, ref, "approve", "approve", "Carol Supervisor")
    assert again.startswith("Carol Supervisor already approved S-1")
    zh = refused(chat, "dan", f"shutdown approve {ref}")
    assert zh == bad_state(chat, ref, "approve", "approve", "Carol Supervisor", "zh")
    mine = refused(chat, "carol", f"shutdown approve {ref}")
    assert mine == bad_state(chat, ref, "approve", "approve", "Carol Supervisor", you=True)
    assert [e.action for e in audit_of(chat, ref)] == ["shutdown.request", "shutdown.approve"]


# --- longer chains ---------------------------------------------------------------------------


def test_two_supervisor_steps_need_two_people(chat, org):
    org.shutdowns.approval = ["supervisor", "supervisor"]
    ref = request(chat)
    answer = ok(chat, "carol", f"shutdown approve {ref}")
    assert answer.startswith(t(chat, "shutdown.done_endorsed", ref=ref))
    assert shutdown(chat, ref).state == "requested"
    twice = refused(chat, "carol", f"shutdown approve {ref}")
    assert twice == t(chat, "error.shutdown_twice", ref=ref)
    ok(chat, "amy", f"shutdown approve {ref}")
    row = shutdown(chat, ref)
    assert row.state == "approved"
    assert row.approver_ids == [person_id(chat, "carol"), person_id(chat, "amy")]


def test_the_owners_step_needs_an_owner_of_each_system_taken_down(chat, org):
    org.shutdowns.approval = OWNERS_CHAIN
    ref = request(chat)
    row = shutdown(chat, ref)
    dan, erin = person_id(chat, "dan"), person_id(chat, "erin")
    # crm has no owners: no step for it
    assert row.chain == [
        {"role": "supervisor"},
        {"people": [dan], "system": "erp-db"},
        {"people": [erin], "system": "erp"},
    ]
    chat.clock.advance(timedelta(minutes=5))
    ok(chat, "carol", f"shutdown approve {ref} supervisor ok")
    not_yours = t(chat, "error.shutdown_not_yours", ref=ref)
    assert refused(chat, "erin", f"shutdown approve {ref}") == not_yours  # erp's turn comes later
    assert refused(chat, "amy", f"shutdown approve {ref}") == not_yours  # a supervisor, no owner
    assert refused(chat, "carol", f"shutdown approve {ref}") == t(
        chat, "error.shutdown_twice", ref=ref
    )
    chat.clock.advance(timedelta(minutes=5))
    ok(chat, "dan", f"shutdown approve {ref} 数据库可以停")
    card = chat.text("dan", f"shutdown show {ref}")
    assert "审批 2/3（erp-db 的业务负责人）：✔ Dan Manager" in card
    chat.clock.advance(timedelta(minutes=5))
    ok(chat, "erin", f"shutdown approve {ref} erp ok")
    row = shutdown(chat, ref)
    assert row.state == "approved"
    assert row.approver_ids == [person_id(chat, "carol"), dan, erin]
    decisions = [(e.action, e.actor_id, e.at, e.comment) for e in audit_of(chat, ref)[1:]]
    assert decisions == [
        ("shutdown.endorse", person_id(chat, "carol"), sh(2026, 11, 23, 10, 5), "supervisor ok"),
        ("shutdown.endorse", dan, sh(2026, 11, 23, 10, 10), "数据库可以停"),
        ("shutdown.approve", erin, sh(2026, 11, 23, 10, 15), "erp ok"),
    ]
    # the trail says which step each approval took, and in whose name
    trail = chat.text("carol", f"audit {ref}")
    assert "approved (step 1 of 3: supervisor)" in trail
    assert "approved (step 2 of 3: an owner of erp-db)" in trail
    assert "approved (step 3 of 3: an owner of erp)" in trail


def test_a_requester_who_is_the_only_owner_is_warned_nobody_can_approve(chat, org):
    org.shutdowns.approval = OWNERS_CHAIN
    messages = chat.say("erin", REQUEST.replace("systems=erp-db", "systems=erp"))
    assert shutdown(chat, "S-1").state == "requested"  # filed, with the warning
    warned = [m.text for m in messages if getattr(m, "tone", None) == "warning"]
    assert warned == [t(chat, "shutdown.nobody_approves")]
    ok(chat, "carol", "shutdown approve S-1")
    assert refused(chat, "erin", "shutdown approve S-1") == t(chat, "error.shutdown_own")


def test_someone_needed_for_a_later_step_leaves_this_one_to_others(chat, org):
    """dan is a manager (supervisor level) and the only owner of erp-db: were he to take the
    supervisor step, nobody could take erp-db's, since nobody approves twice."""
    org.shutdowns.approval = OWNERS_CHAIN
    ref = request(chat)
    answer = refused(chat, "dan", f"shutdown approve {ref}")
    assert answer == t(chat, "error.shutdown_needed_later", "zh", ref=ref)
    ok(chat, "carol", f"shutdown approve {ref}")
    ok(chat, "dan", f"shutdown approve {ref}")
    ok(chat, "erin", f"shutdown approve {ref}")
    assert shutdown(chat, ref).state == "approved"


def test_one_person_needed_for_two_steps_is_warned_at_filing(chat, org):
    """dan is the only manager and the only owner of erp-db: he cannot take both steps."""
    org.shutdowns.approval = ["manager", "owners"]
    messages = chat.say("alice", REQUEST)
    warned = [m.text for m in messages if getattr(m, "tone", None) == "warning"]
    assert warned == [t(chat, "shutdown.nobody_approves")]
    # he may take the step nobody else can; the erp-db step then waits for nobody
    ok(chat, "dan", "shutdown approve S-1")
    assert refused(chat, "dan", "shutdown approve S-1") == t(
        chat, "error.shutdown_twice", "zh", ref="S-1"
    )


def test_a_chain_that_can_be_completed_gives_no_warning(chat, org):
    org.shutdowns.approval = ["supervisor", "supervisor", "owners"]  # carol, amy, dan, erin
    messages = chat.say("alice", REQUEST)
    assert [getattr(m, "tone", None) for m in messages] == ["success", "info"]
    org.shutdowns.approval = ["supervisor"] * 4  # carol, amy, dan: three people
    messages = chat.say("alice", REQUEST)
    warned = [m.text for m in messages if getattr(m, "tone", None) == "warning"]
    assert warned == [t(chat, "shutdown.nobody_approves")]


# --- reject, send back, edit -----------------------------------------------------------------


def test_reject_with_a_reason_tells_the_requester(chat):
    ref = request(chat)
    since = len(chat.outbox())
    answer = ok(chat, "carol", f'shutdown reject {ref} reason="not before the audit"')
    assert answer.startswith(t(chat, "shutdown.done_rejected", ref=ref))
    row = shutdown(chat, ref)
    assert (row.state, row.decision_note) == ("rejected", "not before the audit")
    told = [r for r in chat.outbox()[since:] if r.target == "alice" and r.replaces_id is None]
    assert len(told) == 1 and "not before the audit" in told[0].payload["text"]
    entry = audit_of(chat, ref)[-1]
    assert (entry.action, entry.comment) == ("shutdown.reject", "not before the audit")
    assert refused(chat, "carol", f"shutdown reject {ref} again") == bad_state(
        chat, ref, "reject", "reject", "Carol Supervisor", you=True
    )


def test_a_reject_without_a_reason_is_refused(chat):
    ref = request(chat)
    assert refused(chat, "carol", f"shutdown reject {ref}") == t(chat, "error.reason_required")


def test_send_back_then_edit_starts_the_approvals_again(chat, org):
    org.shutdowns.approval = OWNERS_CHAIN
    ref = request(chat)
    ok(chat, "carol", f"shutdown approve {ref}")
    ok(chat, "dan", f"shutdown approve {ref}")
    decided = [(e.id, e.action, e.actor_id, e.comment) for e in audit_of(chat, ref)]
    ok(chat, "erin", f'shutdown changes {ref} note="start at 03:00, erp batch runs at 02:00"')
    row = shutdown(chat, ref)
    assert (row.state, row.decision_note) == (
        "changes_requested",
        "start at 03:00, erp batch runs at 02:00",
    )
    assert refused(chat, "carol", f"shutdown approve {ref}") == bad_state(
        chat, ref, "approve", "changes", "Erin Engineer"
    )
    assert refused(chat, "erin", f'shutdown edit {ref} start="2026-11-29 03:00"') == t(
        chat, "error.shutdown_not_requester", ref=ref
    )
    answer = ok(chat, "alice", f'shutdown edit {ref} start="2026-11-29 03:00"')
    assert answer.startswith(t(chat, "shutdown.updated", ref=ref))
    row = shutdown(chat, ref)
    assert row.state == "requested" and row.starts_at == sh(2026, 11, 29, 3, 0)
    assert (row.approved_steps, row.approver_ids, row.decision_note) == (0, [], None)
    # the decisions taken before stay in the log as they were
    assert [(e.id, e.action, e.actor_id, e.comment) for e in audit_of(chat, ref)][:3] == decided
    assert [e.action for e in audit_of(chat, ref)][3:] == ["shutdown.changes", "shutdown.edit"]
    for who in ("carol", "dan", "erin"):
        ok(chat, who, f"shutdown approve {ref}")
    assert shutdown(chat, ref).state == "approved"


def test_an_edit_is_checked_like_a_request(chat):
    ref = request(chat)
    refused(chat, "alice", f'shutdown edit {ref} start="2026-11-24 02:00" end="2026-11-24 03:00"')
    assert refused(chat, "alice", f"shutdown edit {ref} systems=erp-db,mail") == t(
        chat, "error.shutdown_sites", sites="BJ2, SH1"
    )
    assert refused(chat, "alice", f"shutdown edit {ref}") == t(chat, "error.nothing_to_change")
    ok(chat, "carol", f"shutdown approve {ref}")
    assert refused(chat, "alice", f"shutdown edit {ref} reason=x").startswith(
        "Carol Supervisor already approved"
    )


# --- emergencies ---------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [1, 2])
def test_an_emergency_skips_the_lead_time_and_needs_one_supervisor(chat, org, tier):
    org.shutdowns.approval = OWNERS_CHAIN
    ok(chat, "bob", f"fault declare {tier} 'erp-db corrupt' system=erp-db")
    ref = request(chat, extra='start="+1h" end="+3h" emergency=yes link=F-1')
    row = shutdown(chat, ref)
    assert (row.emergency, row.chain, row.link_ref) == (True, [{"role": "supervisor"}], "F-1")
    card = ok(chat, "alice", f"shutdown show {ref}")
    assert "⚠ Emergency shutdown (fault F-1; no lead time, one supervisor approves)" in card
    zh = ok(chat, "dan", f"shutdown show {ref}")
    assert "紧急停机" in zh
    ok(chat, "carol", f"shutdown approve {ref}")
    assert shutdown(chat, ref).state == "approved"


def test_an_emergency_without_a_serious_open_fault_is_refused(chat):
    text = f'{REQUEST} start="+1h" end="+3h" emergency=yes'
    emergency = t(chat, "error.shutdown_emergency")
    assert refused(chat, "alice", text) == emergency
    assert refused(chat, "zhang", text) == t(chat, "error.shutdown_emergency", "zh")
    ok(chat, "bob", "fault declare 3 'slow disk' system=erp-db")  # F-1, tier 3
    assert refused(chat, "alice", f"{text} link=F-1") == emergency
    ok(chat, "bob", "fault declare 1 'erp down' system=erp-db")  # F-2, closed below
    ok(chat, "bob", "fault resolve F-2 restarted")
    assert refused(chat, "alice", f"{text} link=F-2") == emergency
    ok(chat, "alice", 'visit request at="2026-11-25 09:00" duration=2h room=SH1/A101 '
       "task=disk id=passport:E1234567")  # fmt: skip
    assert refused(chat, "alice", f"{text} link=V-1") == emergency
