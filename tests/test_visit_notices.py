"""Who is told what, in which language (document 000, step 1: the engineer is told the result
with the access rules and safety notes). Notices leave through the outbox only."""

import pytest

from handlers.context import Origin
from handlers.messages import from_dict
from tests.chat import platforms
from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    PATHS,
    REQUEST,
    new_outbox,
    ok,
    ref_in,
    request,
    sh,
    t,
    visit_in,
)

pytestmark = BACKEND_AGNOSTIC

EVERYONE = ("alice", "erin", "bob", "amy", "carol", "dan", "zhang")


def told(chat, since: int) -> dict[str, list]:
    """The new outbox rows since ``since``, by target."""
    result: dict[str, list] = {}
    for row in new_outbox(chat, since):
        result.setdefault(row.target, []).append(row)
    return result


def step(chat, who: str, command: str) -> dict[str, list]:
    since = len(chat.outbox())
    ok(chat, who, command)
    return told(chat, since)


def kinds(rows) -> list[str]:
    return [row.payload["kind"] for row in rows]


def text_of(row) -> str:
    message = from_dict(row.payload)
    return message.text if message.kind == "text" else message.title + "\n" + message.body


# --- one step at a time ----------------------------------------------------------------------


def test_a_request_goes_to_the_admins_and_the_visits_channel(chat):
    since = len(chat.outbox())
    ref = request(chat, "alice")
    notices = told(chat, since)
    assert set(notices) == {"#visits", "bob", "amy"}
    for target in ("#visits", "bob", "amy"):
        [row] = notices[target]
        assert row.payload["kind"] == "card" and row.subject == ref
        assert row.payload["state"] == "requested"
    # the admins' card offers the decision buttons (and cancelling, which an admin may do)
    assert [a["id"] for a in notices["bob"][0].payload["actions"]] == [
        "visit.approve",
        "visit.changes",
        "visit.reject",
        "visit.cancel",
    ]
    assert (
        notices["bob"][0].target_kind == "person" and notices["#visits"][0].target_kind == "channel"
    )


def test_an_admins_own_request_goes_to_the_other_admins_only(chat):
    since = len(chat.outbox())
    request(chat, "amy", "company=Acme contact=1")
    assert set(told(chat, since)) == {"#visits", "bob"}


def test_after_review_the_supervisors_and_the_requester_are_told(chat):
    ref = request(chat, "alice")
    notices = step(chat, "bob", f"visit approve {ref}")
    assert set(notices) == {"amy", "carol", "dan", "alice"}  # dan is a manager
    assert kinds(notices["carol"]) == ["card"] and kinds(notices["dan"]) == ["card"]
    [note] = notices["alice"]
    assert text_of(note) == (
        f"Your machine-room visit request {ref} was reviewed by Bob Admin (admin) "
        "and now waits for a supervisor's approval."
    )


def test_approval_tells_the_requester_with_access_rules_and_safety_notes(chat):
    ref = visit_in(chat, "reviewed", extra="responsible=erin")
    notices = step(chat, "carol", f"visit approve {ref}")
    assert set(notices) == {"alice", "erin"}
    [note] = notices["alice"]
    text = text_of(note)
    assert f"Your machine-room visit request {ref} is approved (by Carol Supervisor)" in text
    assert "When: 2026-11-25 09:00, expected duration 2 h" in text
    assert "Room: Shanghai DC 1 SH1/A101 (1 Example Road)" in text
    assert "Access rules:" in text and "Safety notes:" in text
    assert "15 minutes early" in text and "passport ending 5432" in text
    assert "escape routes" in text and "fire" in text
    assert "temporary access card" in text
    # the responsible person hears of it too, as the responsible person, not as the requester
    erin = text_of(notices["erin"][0])
    assert f"Alice Engineer's (Acme) machine-room visit request {ref} is approved" in erin
    assert "You are the responsible person for this visit." in erin
    assert "Your machine-room" not in erin


def test_rejection_and_changes_reach_the_requester_with_the_reason(chat):
    ref = request(chat)
    notices = step(chat, "bob", f'visit reject {ref} reason="no slot on Wednesday"')
    assert set(notices) == {"alice"}
    assert "rejected by Bob Admin" in text_of(notices["alice"][0])
    assert "Reason: no slot on Wednesday" in text_of(notices["alice"][0])
    ref2 = request(chat)
    notices = step(chat, "bob", f'visit changes {ref2} note="list your tools"')
    assert set(notices) == {"alice"}
    assert "back for changes: list your tools" in text_of(notices["alice"][0])
    assert f"/maint visit edit {ref2}" in text_of(notices["alice"][0])


def test_an_edit_goes_back_to_the_admins(chat):
    ref = visit_in(chat, "changes_requested")
    notices = step(chat, "alice", f"visit edit {ref} tools=laptop")
    assert set(notices) == {"bob", "amy"}


def test_cancelling_an_approved_visit_tells_requester_admins_and_responsible(chat):
    ref = visit_in(chat, "approved", extra="responsible=erin")
    notices = step(chat, "bob", f"visit cancel {ref} power work")
    assert set(notices) == {"alice", "amy", "erin"}
    note = text_of(notices["alice"][0])
    assert f"Machine-room visit {ref}" in note and "cancelled by Bob Admin" in note
    assert "Reason: power work" in note


def test_cancelling_a_new_request_does_not_bother_the_responsible_person(chat):
    ref = request(chat, "alice", "responsible=erin")
    notices = step(chat, "alice", f"visit cancel {ref}")
    assert set(notices) == {"bob", "amy"}


def test_check_in_and_check_out_tell_the_requester(chat):
    ref = visit_in(chat, "approved", extra="responsible=erin")
    chat.clock.set(sh(2026, 11, 25, 8, 50))
    notices = step(chat, "bob", f"visit checkin {ref} card=A-07 verified=yes briefing=yes")
    assert set(notices) == {"alice", "erin"}
    assert "checked in to SH1/A101" in text_of(notices["alice"][0])
    assert "temporary access card A-07" in text_of(notices["alice"][0])
    notices = step(chat, "bob", f"visit checkout {ref} tools=all card=yes")
    assert set(notices) == {"alice"}
    assert f"{ref}: Alice Engineer checked out at" in text_of(notices["alice"][0])


# --- rules that hold for every step ----------------------------------------------------------

# {first} and {second} stand for the references of the two requests, once filed
FLOW = [
    (
        "alice",
        'visit request at="2026-11-25 09:00" duration=2h room=SH1/A101 task=x '
        "id=p:1234 responsible=carol",
    ),
    ("amy", "visit approve {first}"),
    ("carol", "visit approve {first}"),  # carol is also the responsible person
    ("amy", "visit checkin {first} card=A-07 verified=yes briefing=yes tools=laptop early=x"),
    ("amy", "visit checkout {first} tools=none card=no"),  # flagged: a tool and the card
    ("bob", "visit card {first}"),
    (
        "amy",
        'visit request at="2026-11-26 09:00" duration=2h room=SH1/A101 task=y '
        "id=p:1234 company=A contact=1 responsible=bob",
    ),
    ("bob", "visit approve {second}"),
    ("dan", "visit approve {second}"),
    ("amy", "visit cancel {second}"),
]


def run_flow(chat):
    """Run FLOW, yielding each step with the notices it queued."""
    refs: dict[str, str] = {}
    for who, command in FLOW:
        since = len(chat.outbox())
        answer = ok(chat, who, command.format(**refs))
        if " request " in command:
            refs["second" if refs else "first"] = ref_in(answer)
        yield who, command, told(chat, since)


def test_nobody_is_told_about_their_own_action_and_nobody_twice(chat):
    for who, command, notices in run_flow(chat):
        assert who not in notices, (command, notices[who])
        for target, rows in notices.items():
            assert len(rows) == 1, (command, target, [text_of(r) for r in rows])


def test_a_requester_who_is_also_a_supervisor_gets_one_notice_on_review(chat):
    ref = request(chat, "carol", "company=Acme contact=1")
    notices = step(chat, "bob", f"visit approve {ref}")
    assert len(notices["carol"]) == 1
    assert "reviewed by Bob Admin" in text_of(notices["carol"][0])  # her own notice, not a card


def test_a_responsible_admin_gets_one_notice_on_cancel(chat):
    ref = visit_in(chat, "approved", extra="responsible=bob")
    notices = step(chat, "alice", f"visit cancel {ref}")
    assert len(notices["bob"]) == 1 and "cancelled by Alice Engineer" in text_of(notices["bob"][0])


def test_the_visits_channel_card_is_posted_once_then_updated_in_place(chat):
    for _who, _command, _notices in run_flow(chat):
        pass
    rows = chat.outbox(target="#visits")
    posts = [r for r in rows if r.replaces_id is None]
    assert [p.payload["state"] for p in posts] == ["requested", "requested"]  # two visits
    updates = [r for r in rows if r.replaces_id == posts[0].id]
    assert [r.payload["state"] for r in updates] == [
        "reviewed",
        "approved",
        "checked_in",
        "checked_out",
        "checked_out",
    ]
    second = [r for r in rows if r.replaces_id == posts[1].id]
    assert len(updates) + len(second) == len(rows) - 2


def test_every_card_already_shown_is_updated_and_loses_stale_buttons(chat):
    ref = request(chat)
    [bobs_card] = [r for r in chat.outbox(target="bob") if r.kind == "card"]
    assert bobs_card.payload["actions"][0]["id"] == "visit.approve"
    since = len(chat.outbox())
    ok(chat, "bob", f"visit approve {ref}")
    ok(chat, "carol", f"visit approve {ref}")
    updates = new_outbox(chat, since, updates=True)
    bob_updates = [r for r in updates if r.replaces_id == bobs_card.id]
    assert [r.payload["state"] for r in bob_updates] == ["reviewed", "approved"]
    assert [a["id"] for a in bob_updates[-1].payload["actions"]] == [
        "visit.checkin",
        "visit.cancel",
    ]


# --- languages -------------------------------------------------------------------------------


def test_notices_are_rendered_in_each_recipients_language(chat):
    ref = request(chat, "zhang")
    notices = step(chat, "bob", f"visit approve {ref}")
    assert notices["zhang"][0].locale == "zh"
    assert "已由管理员 Bob Admin 审核通过" in text_of(notices["zhang"][0])
    assert notices["dan"][0].locale == "zh" and notices["carol"][0].locale == "en"
    assert notices["dan"][0].payload["title"] == f"{ref} 机房访问申请：replace disk"
    title = t(chat, "visit.card_title", ref=ref, task="replace disk")
    assert notices["carol"][0].payload["title"] == title
    assert "待主管批准" in notices["dan"][0].payload["body"]
    assert [a["label"] for a in notices["dan"][0].payload["actions"]] == [
        "批准",
        "退回修改",
        "驳回",
    ]
    notices = step(chat, "dan", f"访问 批准 {ref}")
    text = text_of(notices["zhang"][0])
    assert f"你的机房访问申请 {ref} 已批准（批准人：Dan Manager）" in text
    assert "访问规范：" in text and "安全注意事项：" in text and "逃生通道" in text
    assert "passport 尾号 5432" in text


def test_the_channel_speaks_the_default_language(chat):
    ref = request(chat, "zhang")
    [row] = chat.outbox(target="#visits")
    title = t(chat, "visit.card_title", ref=ref, task="replace disk")
    assert row.locale == "en" and row.payload["title"] == title


@pytest.mark.parametrize("who", EVERYONE)
def test_every_person_is_reachable_on_the_console(chat, who):
    """No notice is silently dropped: everyone in the organisation has a console address."""
    ref = visit_in(chat, "reviewed", extra=f"responsible={who}")
    notices = step(chat, "dan" if who != "dan" else "carol", f"visit approve {ref}")
    if who != "alice":
        assert who in notices
    assert t(chat, "state.approved") in chat.notices("#visits")[-1]


def test_notices_follow_people_to_the_platform_they_last_wrote_from(chat):
    from handlers.context import Origin
    from handlers.core import Core

    both = Core(
        chat.core.db, chat.clock, chat.core.i18n, chat.core.org, platforms("slack", "wecom")
    )
    ref = request(chat, "alice")  # Alice is in Slack (UALICE) and in WeCom (alice.w)
    both.handle_text(Origin("wecom", "alice.w"), "whoami")
    since = len(chat.outbox())
    both.handle_text(Origin("slack", "UBOB"), f"visit approve {ref}")  # Bob reviews
    [note] = told(chat, since)["alice.w"]
    assert note.platform == "wecom"  # where she last wrote, not Slack, the first platform
    both.handle_text(Origin("slack", "UALICE"), "whoami")
    since = len(chat.outbox())
    both.handle_text(Origin("slack", "UCAROL"), f"visit approve {ref}")  # Carol approves
    assert [row.platform for row in told(chat, since)["UALICE"]] == ["slack"]


# --- one live card per person, filtered for its reader ---------------------------------------


def buttons(row) -> list[str]:
    return [a["id"].removeprefix("visit.") for a in row.payload["actions"]]


def test_each_person_keeps_one_live_card_through_a_resubmission(chat):
    """request -> changes -> edit -> review -> approval: at most one new message per person
    and event, and each person's card is updated once, not once per copy they were ever sent."""
    since = len(chat.outbox())
    ref = request(chat, "alice")
    steps = [
        ("bob", f'visit changes {ref} note="please add certificates"'),
        ("alice", f"visit edit {ref} certificates=CCNA"),
        ("amy", f"visit approve {ref}"),
        ("carol", f"visit approve {ref}"),
    ]
    events = [chat.outbox()[since:]]
    for who, command in steps:
        since = len(chat.outbox())
        ok(chat, who, command)
        events.append(chat.outbox()[since:])
    for rows in events:
        for target in {r.target for r in rows}:
            mine = [r for r in rows if r.target == target]
            assert len([r for r in mine if r.replaces_id is None]) <= 1, mine
            assert len([r for r in mine if r.replaces_id is not None]) <= 1, mine
    # the reported symptom: bob saw "awaiting supervisor approval" twice after the review
    reviewed = [r for r in events[3] if r.target == "bob"]
    assert [r.payload["state"] for r in reviewed] == ["reviewed"]


def test_an_admin_who_is_also_a_supervisor_gets_one_card_at_each_step(chat):
    ref = request(chat, "alice")
    ok(chat, "bob", f"visit approve {ref}")  # amy gets a new card: she may approve now
    since = len(chat.outbox())
    ok(chat, "carol", f"visit approve {ref}")
    assert [r.payload["state"] for r in chat.outbox()[since:] if r.target == "amy"] == ["approved"]


def test_cards_sent_to_one_person_show_only_the_buttons_they_may_use(chat):
    since = len(chat.outbox())
    filed = chat.card("alice", REQUEST)
    ref = filed.subject
    assert [a.id for a in filed.actions] == ["visit.cancel"]  # no decision on her own request
    rows = told(chat, since)
    assert buttons(rows["#visits"][0]) == ["approve", "changes", "reject", "cancel"]
    assert buttons(rows["bob"][0]) == ["approve", "changes", "reject", "cancel"]
    assert [a.id for a in chat.card("carol", f"visit show {ref}").actions] == []
    since = len(chat.outbox())
    ok(chat, "bob", f"visit approve {ref}")
    new, updates = told(chat, since), new_outbox(chat, since, updates=True)
    assert buttons(new["carol"][0]) == ["approve", "changes", "reject"]
    assert buttons(new["amy"][0]) == ["approve", "changes", "reject", "cancel"]
    by_target = {r.target: r for r in updates}
    assert buttons(by_target["bob"]) == ["cancel"]  # the reviewer takes no part in approval
    assert buttons(by_target["#visits"]) == ["approve", "changes", "reject", "cancel"]
    since = len(chat.outbox())
    ok(chat, "carol", f"visit approve {ref}")
    by_target = {r.target: r for r in new_outbox(chat, since, updates=True)}
    assert buttons(by_target["carol"]) == []  # check-in and cancelling are for admins
    assert buttons(by_target["bob"]) == ["checkin", "cancel"]
    assert buttons(by_target["#visits"]) == ["checkin", "cancel"]


def test_a_wrong_click_on_the_channel_card_gets_a_clear_answer(chat):
    request(chat, "alice")
    [card] = chat.outbox(target="#visits")
    command = {a["id"]: a["command"] for a in card.payload["actions"]}
    origin = lambda who: Origin("console", who)  # noqa: E731
    [answer] = chat.core.handle_action(origin("alice"), command["visit.approve"])
    assert answer.text == t(chat, "error.own_request")
    [answer] = chat.core.handle_action(origin("carol"), command["visit.approve"])
    assert answer.text == t(chat, "error.need_role", role="admin")
    [answer] = chat.core.handle_action(origin("erin"), command["visit.cancel"], "mine now")
    assert answer.text == t(chat, "error.not_owner")


ANSWERS = {
    "visit.changes": "please add tools",
    "visit.reject": "no slot",
    "visit.cancel": "not needed",
    "visit.checkin": "card=A-01 verified=yes briefing=yes early=setup",
    "visit.checkout": "tools=all card=yes",
}


@pytest.mark.parametrize("state", list(PATHS))
def test_a_persons_buttons_are_exactly_what_they_may_do(chat, state):
    """Every button on someone's own card works for them; every other button of the channel
    card is refused to them (the same rules decide both)."""
    ref = visit_in(chat, state)
    channel = [r for r in chat.outbox(target="#visits") if r.subject == ref][-1]
    offered = {a["id"]: a for a in channel.payload["actions"]}
    for who in EVERYONE:
        mine = {a.id: a for a in chat.card(who, f"visit show {ref}").actions}
        assert set(mine) <= set(offered), (who, mine)
        for button in mine.values():
            fresh = visit_in(chat, state)  # a successful click changes the visit
            command = button.command.replace(ref, fresh)
            origin = Origin("console", who)
            answer = chat.core.handle_action(origin, command, ANSWERS.get(button.id))
            assert answer[0].tone == "success", (who, button.id, answer)
        for other in set(offered) - set(mine):
            answer = chat.core.handle_action(
                Origin("console", who), offered[other]["command"], ANSWERS.get(other)
            )
            assert [m.tone for m in answer] == ["warning"], (who, other, answer)


# --- the decision notes on the card ----------------------------------------------------------


def test_the_card_shows_this_rounds_decision_notes_only(chat):
    ref = request(chat, "alice")
    ok(chat, "bob", f'visit changes {ref} note="please add certificates"')
    assert "Sent back (Bob Admin): please add certificates" in chat.notices("#visits")[-1]
    edited = chat.card("alice", f"visit edit {ref} certificates=CCNA")
    assert "please add certificates" not in edited.body  # a resubmission starts a new round
    ok(chat, "amy", f"visit approve {ref} certificate checked")
    ok(chat, "carol", f"visit approve {ref} go ahead")
    card = chat.notices("#visits")[-1]
    assert "please add certificates" not in card
    assert "Review note (Amy Admin): certificate checked" in card
    assert "Approval note (Carol Supervisor): go ahead" in card
    zh = chat.card("dan", f"visit show {ref}").body
    assert "审核意见（Amy Admin）：certificate checked" in zh
    assert "批准意见（Carol Supervisor）：go ahead" in zh
    # the audit trail keeps every note
    comments = [e.comment for e in chat.audit() if e.subject_type == "visit"]
    assert "please add certificates" in comments


def test_a_rejection_shows_its_reason_and_who_gave_it(chat):
    ref = visit_in(chat, "reviewed")
    ok(chat, "carol", f"visit reject {ref} no slot")
    assert "Rejected (Carol Supervisor): no slot" in chat.notices("#visits")[-1]
