"""On the day (document 000, steps 2 and 7): identity check, temporary access card, safety briefing
and tools at check-in; tool count and card return at check-out."""

from datetime import timedelta

import pytest

from handlers.messages import plain_text
from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    audit_of,
    deadlines,
    new_outbox,
    not_now,
    ok,
    refused,
    sh,
    t,
    visit,
    visit_in,
)

pytestmark = BACKEND_AGNOSTIC

TOOLS = 'tools="laptop, screwdriver, 万用表"'


@pytest.fixture
def approved(chat) -> str:
    """Alice's visit on Wednesday 09:00 for 2 h with three tools, approved; it is 08:50 now."""
    ref = visit_in(chat, "approved", extra=TOOLS)
    chat.clock.set(sh(2026, 11, 25, 8, 50))
    return ref


@pytest.fixture
def onsite(chat, approved) -> str:
    ok(chat, "bob", f"visit checkin {approved} card=A-07 verified=yes briefing=yes")
    return approved


# --- check-in --------------------------------------------------------------------------------


def test_check_in_records_card_time_tools_and_who(chat, approved):
    answer = ok(chat, "bob", f"visit checkin {approved} card=A-07 verified=yes briefing=yes")
    assert answer.startswith(t(chat, "visit.done_checkin", ref=approved, card="A-07"))
    v = visit(chat, approved)
    assert v.state == "checked_in"
    assert v.checked_in_at == sh(2026, 11, 25, 8, 50)
    assert v.access_card == "A-07"
    assert v.tools_in == ["laptop", "screwdriver", "万用表"]  # the requested list by default
    entry = audit_of(chat, approved)[-1]
    assert entry.action == "visit.checkin" and entry.actor_label == "Bob Admin (bob)"
    assert entry.details == {
        "card": "A-07",
        "tools": ["laptop", "screwdriver", "万用表"],
        "minutes_early": 10,
    }
    assert f"{t(chat, 'field.access_card')}: A-07" in answer
    assert "Checked in 2026-11-25 08:50" in answer


def test_tools_typed_at_check_in_replace_the_requested_list(chat, approved):
    ok(chat, "bob", f'visit checkin {approved} card=A-07 verified=yes briefing=yes tools="laptop"')
    assert visit(chat, approved).tools_in == ["laptop"]


def tools_field(card) -> tuple[str, str]:
    [field] = [f for f in card.fields if f.label.startswith("Tools") or f.label.startswith("工具")]
    return field.label, field.value


def test_the_card_shows_the_tools_recorded_at_check_in(chat):
    """The reported case: the request listed a multimeter, the visitor brought a laptop too."""
    ref = visit_in(chat, "approved", extra="tools=multimeter")
    assert tools_field(chat.card("bob", f"visit show {ref}")) == (
        t(chat, "field.tools"),
        "multimeter",
    )
    chat.clock.set(sh(2026, 11, 25, 8, 50))
    checkin = f'visit checkin {ref} card=A-07 verified=yes briefing=yes tools="multimeter, laptop"'
    card = chat.card("bob", checkin)
    assert tools_field(card) == (t(chat, "field.tools_in"), "multimeter, laptop")
    assert tools_field(chat.card("dan", f"visit show {ref}")) == (
        t(chat, "field.tools_in", "zh"),
        "multimeter, laptop",
    )
    assert t(chat, "field.tools_in", "zh") == "工具（签到登记）"
    # check-out counts against the checked-in list: the laptop did not come back
    card = chat.card("bob", f"visit checkout {ref} tools=multimeter card=yes")
    assert tools_field(card) == (t(chat, "field.tools_in"), "multimeter, laptop")
    assert "⚠ Tool count mismatch: laptop" in card.body
    assert visit(chat, ref).tools_missing == ["laptop"]


def test_all_at_check_out_means_the_checked_in_list(chat):
    ref = visit_in(chat, "approved", extra="tools=multimeter")
    chat.clock.set(sh(2026, 11, 25, 8, 50))
    ok(
        chat,
        "bob",
        f'visit checkin {ref} card=A-07 verified=yes briefing=yes tools="multimeter, laptop"',
    )
    ok(chat, "bob", f"visit checkout {ref} tools=all card=yes")
    v = visit(chat, ref)
    assert v.tools_out == ["multimeter", "laptop"] and v.tools_missing == []


def test_check_in_in_chinese(chat, approved):
    answer = ok(chat, "bob", f"访问 签到 {approved} 卡号=A-08 身份核实=是 安全培训=是 工具=笔记本")
    assert t(chat, "visit.done_checkin", ref=approved, card="A-08") in answer
    v = visit(chat, approved)
    assert (v.access_card, v.tools_in) == ("A-08", ["笔记本"])


CHECKIN = "visit checkin {ref} card=A-07 verified=yes briefing=yes"


def test_check_in_opens_an_hour_before_the_planned_start(chat):
    ref = visit_in(chat, "approved")  # Wednesday 09:00; it is Monday
    expected = t(
        chat,
        "error.checkin_too_early",
        ref=ref,
        start="2026-11-25 09:00",
        opens="2026-11-25 08:00",
        minutes=60,
    )
    assert refused(chat, "bob", CHECKIN.format(ref=ref), ref) == expected
    assert 'early="' in expected and "08:00" in expected
    chat.clock.set(sh(2026, 11, 25, 7, 59))
    assert refused(chat, "bob", CHECKIN.format(ref=ref), ref) == expected
    assert refused(chat, "dan", CHECKIN.format(ref=ref), ref) == t(
        chat, "error.need_role", "zh", role="admin"
    )  # who may check in comes first
    ok(chat, "bob", "role grant dan admin")
    zh = refused(chat, "dan", CHECKIN.format(ref=ref).replace("visit", "访问"), ref)
    assert zh.startswith(f"{ref} 计划 2026-11-25 09:00 开始")
    chat.clock.set(sh(2026, 11, 25, 8, 0))
    ok(chat, "bob", CHECKIN.format(ref=ref))


def test_how_early_check_in_opens_is_the_organisations_choice(chat):
    chat.core.org.visits.checkin_early_minutes = 180
    ref = visit_in(chat, "approved")
    chat.clock.set(sh(2026, 11, 25, 6, 0))
    ok(chat, "bob", CHECKIN.format(ref=ref))


def test_an_admin_lets_a_visitor_in_early_with_a_reason(chat):
    ref = visit_in(chat, "approved")
    card = chat.card("bob", CHECKIN.format(ref=ref) + ' early="disk failed overnight"')
    assert (t(chat, "field.early_checkin"), "disk failed overnight") in [
        (f.label, f.value) for f in card.fields
    ]
    assert visit(chat, ref).state == "checked_in"
    details = audit_of(chat, ref)[-1].details
    assert details["early"] == "disk failed overnight"
    assert details["minutes_early"] == 2 * 24 * 60 - 60
    zh_card = chat.card("dan", f"访问 查看 {ref}")
    assert ("提前签到", "disk failed overnight") in [(f.label, f.value) for f in zh_card.fields]


def test_no_early_reason_on_the_card_of_a_timely_check_in(chat, onsite):
    card = chat.card("bob", f"visit show {onsite}")
    assert t(chat, "field.early_checkin") not in [f.label for f in card.fields]


def test_check_in_after_the_planned_end_is_allowed_and_says_how_long(chat):
    ref = visit_in(chat, "approved")  # Wednesday 09:00-11:00
    chat.clock.set(sh(2026, 11, 25, 11, 30))
    messages = chat.say("bob", CHECKIN.format(ref=ref))
    assert "warning" not in [m.tone for m in messages]  # a warning would be a refusal
    answer = "\n".join(plain_text(m) for m in messages)
    note = t(
        chat,
        "visit.checkin_late",
        end="2026-11-25 11:00",
        until="2026-11-25 13:30",
        duration=120,
    )
    assert note in answer
    assert [d.due_at for d in deadlines(chat, ref) if d.status == "pending"] == [
        sh(2026, 11, 25, 14, 0)  # two hours from check-in, plus the grace period
    ]


def test_no_late_note_for_a_check_in_on_time(chat, approved):
    answer = ok(chat, "bob", CHECKIN.format(ref=approved))
    assert "planned end" not in answer


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ("verified=yes briefing=yes", "error.checkin_card"),
        ("card= verified=yes briefing=yes", "error.checkin_card"),
        ("card=A-07 briefing=yes", "error.checkin_identity"),
        ("card=A-07 verified=no briefing=yes", "error.checkin_identity"),
        ("card=A-07 verified=否 briefing=yes", "error.checkin_identity"),
        ("card=A-07 verified=yes", "error.checkin_briefing"),
        ("card=A-07 verified=yes briefing=no", "error.checkin_briefing"),
    ],
)
def test_check_in_needs_card_identity_and_briefing(chat, approved, options, key):
    answer = refused(chat, "bob", f"visit checkin {approved} {options}", approved)
    assert answer == t(chat, key)
    assert deadlines(chat, approved)[-1].status == "pending"  # the timers are as they were


def test_unreadable_yes_no_at_check_in(chat, approved):
    answer = refused(chat, "bob", f"visit checkin {approved} card=1 verified=sure briefing=yes")
    assert answer == t(chat, "error.bad_bool", value="sure")


@pytest.mark.parametrize("who", ["alice", "erin", "carol", "dan"])
def test_only_admins_check_people_in(chat, approved, who):
    answer = refused(chat, who, f"visit checkin {approved} card=A-07 verified=yes briefing=yes")
    locale = "zh" if who == "dan" else "en"
    assert answer == t(chat, "error.need_role", locale, role="admin")


@pytest.mark.parametrize("state", ["requested", "reviewed", "changes_requested", "cancelled"])
def test_check_in_only_from_approved(chat, state):
    ref = visit_in(chat, state)
    answer = refused(chat, "bob", f"visit checkin {ref} card=A-07 verified=yes briefing=yes", ref)
    assert answer == not_now(chat, ref, "checkin", "bob")


def test_a_second_check_in_is_refused(chat, onsite):
    answer = refused(chat, "amy", f"visit checkin {onsite} card=B-01 verified=yes briefing=yes")
    assert answer == not_now(chat, onsite, "checkin", "amy")  # Bob Admin already checked in
    assert visit(chat, onsite).access_card == "A-07"


# --- check-out -------------------------------------------------------------------------------


@pytest.mark.parametrize("tools", ["all", "ALL", "全部", "same", '"laptop, Screwdriver, 万用表"'])
def test_check_out_with_every_tool_back(chat, onsite, tools):
    chat.clock.set(sh(2026, 11, 25, 10, 45))
    since = len(chat.outbox())
    answer = ok(chat, "bob", f"visit checkout {onsite} tools={tools} card=yes")
    assert answer.startswith(t(chat, "visit.done_checkout", ref=onsite))
    v = visit(chat, onsite)
    assert v.state == "checked_out"
    assert v.checked_out_at == v.card_returned_at == sh(2026, 11, 25, 10, 45)
    assert v.tools_missing == []
    assert {r.target for r in new_outbox(chat, since)} == {"alice"}  # nothing flagged
    assert all(d.status != "pending" for d in deadlines(chat, onsite))  # no timer left
    entry = audit_of(chat, onsite)[-1]
    assert entry.action == "visit.checkout"
    assert entry.details["missing"] == [] and entry.details["card_returned"] is True


def test_check_out_in_chinese(chat, onsite):
    ok(chat, "bob", f"访问 签出 {onsite} 清点=全部 还卡=是")
    v = visit(chat, onsite)
    assert v.state == "checked_out" and v.card_returned_at is not None


@pytest.mark.parametrize("options", ["", "tools=all", "card=yes"])
def test_check_out_needs_the_tool_count_and_the_card(chat, onsite, options):
    answer = refused(chat, "bob", f"visit checkout {onsite} {options}", onsite)
    assert answer == t(chat, "error.checkout_fields")


def test_a_missing_tool_is_flagged_to_the_admins(chat, onsite):
    since = len(chat.outbox())
    answer = ok(chat, "bob", f'visit checkout {onsite} tools="laptop, 万用表" card=yes')
    v = visit(chat, onsite)
    assert v.tools_out == ["laptop", "万用表"]
    assert v.tools_missing == ["screwdriver"]
    assert "⚠ Tool count mismatch: screwdriver" in answer
    rows = new_outbox(chat, since)
    flagged = [r for r in rows if "check-out needs attention" in r.payload.get("text", "")]
    assert {r.target for r in flagged} == {"#admin", "amy"}  # bob checked out: he knows
    assert "· tools missing: screwdriver" in flagged[0].payload["text"]
    assert "Tool count mismatch: screwdriver" in chat.notices("alice")[-1]
    assert audit_of(chat, onsite)[-1].details["missing"] == ["screwdriver"]


def test_an_extra_tool_is_flagged_too(chat, onsite):
    since = len(chat.outbox())
    ok(
        chat,
        "amy",
        f'visit checkout {onsite} tools="laptop, screwdriver, 万用表, usb stick" card=yes',
    )
    assert visit(chat, onsite).tools_missing == ["usb stick"]
    flagged = [r for r in new_outbox(chat, since) if r.target in ("#admin", "bob")]
    assert len(flagged) == 2
    assert "· tools not recorded at check-in: usb stick" in flagged[0].payload["text"]
    assert "tools missing" not in flagged[0].payload["text"]
    assert audit_of(chat, onsite)[-1].details["extra"] == ["usb stick"]


def test_flags_reach_chinese_speaking_admins_in_chinese(chat, onsite):
    ok(chat, "bob", "role grant dan admin")
    since = len(chat.outbox())
    ok(chat, "bob", f"visit checkout {onsite} tools=laptop card=no")
    [to_dan] = [r for r in new_outbox(chat, since) if r.target == "dan"]
    assert to_dan.locale == "zh"
    assert "签出异常" in to_dan.payload["text"] and "少了工具" in to_dan.payload["text"]
    assert "临时访问卡 A-07 未归还" in to_dan.payload["text"]


def test_a_card_not_returned_is_flagged_and_recorded_later(chat, onsite):
    chat.clock.set(sh(2026, 11, 25, 10, 45))
    since = len(chat.outbox())
    answer = ok(chat, "bob", f"visit checkout {onsite} tools=all card=no")
    v = visit(chat, onsite)
    assert v.state == "checked_out" and v.card_returned_at is None
    assert "⚠ Temporary access card A-07 not returned" in answer
    flagged = [r for r in new_outbox(chat, since) if r.target in ("#admin", "amy")]
    assert len(flagged) == 2
    assert "· temporary access card A-07 not returned" in flagged[0].payload["text"]
    # the card comes back later
    chat.clock.set(sh(2026, 11, 25, 11, 0))
    assert ok(chat, "amy", f"visit card {onsite}") == t(chat, "visit.done_card", ref=onsite)
    assert visit(chat, onsite).card_returned_at == sh(2026, 11, 25, 11, 0)
    entry = audit_of(chat, onsite)[-1]
    assert (entry.action, entry.comment) == ("visit.card_returned", "A-07")
    assert entry.old_state == entry.new_state == "checked_out"
    assert refused(chat, "amy", f"visit card {onsite}", onsite) == t(
        chat, "error.card_not_out", ref=onsite
    )


def test_card_button_appears_only_while_the_card_is_out(chat, onsite):
    ok(chat, "bob", f"visit checkout {onsite} tools=all card=no")
    card = chat.card("bob", f"visit show {onsite}")
    assert [a.command for a in card.actions] == [f"visit card {onsite}"]
    ok(chat, "bob", f"visit card {onsite}")
    assert chat.card("bob", f"visit show {onsite}").actions == []


def test_recording_a_card_needs_an_admin_and_an_outstanding_card(chat, onsite):
    assert refused(chat, "bob", f"visit card {onsite}", onsite) == t(
        chat, "error.card_not_out", ref=onsite
    )  # still on site
    ok(chat, "bob", f"visit checkout {onsite} tools=all card=no")
    assert refused(chat, "alice", f"visit card {onsite}", onsite) == t(
        chat, "error.need_role", role="admin"
    )


def test_the_card_timer_pings_when_the_card_is_not_back(chat, onsite):
    chat.clock.set(sh(2026, 11, 25, 10, 45))
    ok(chat, "bob", f"visit checkout {onsite} tools=all card=no")
    since = len(chat.outbox())
    chat.clock.advance(timedelta(minutes=29))
    chat.core.sweep_deadlines()
    assert new_outbox(chat, since) == []
    chat.clock.advance(timedelta(minutes=2))
    chat.core.sweep_deadlines()
    chat.core.sweep_deadlines()
    rows = new_outbox(chat, since)
    assert sorted(r.target for r in rows) == ["#admin", "alice", "amy", "bob"]
    text = rows[0].payload["text"]
    assert "checked out at 2026-11-25 10:45" in text
    assert "A-07 has still not been returned" in text and f"/maint visit card {onsite}" in text


def test_no_card_ping_once_the_card_is_back(chat, onsite):
    ok(chat, "bob", f"visit checkout {onsite} tools=all card=no")
    chat.clock.advance(timedelta(minutes=10))
    ok(chat, "bob", f"visit card {onsite}")
    since = len(chat.outbox())
    chat.clock.advance(timedelta(hours=2))
    chat.core.sweep_deadlines()
    assert new_outbox(chat, since) == []


def test_check_out_only_from_checked_in(chat, approved):
    answer = refused(chat, "bob", f"visit checkout {approved} tools=all card=yes", approved)
    assert answer == not_now(chat, approved, "checkout", "bob")  # Carol Supervisor approved


def test_onsite_card_in_the_visitor_log_fields(chat, onsite):
    ok(chat, "bob", f'visit checkout {onsite} tools="laptop" card=no')
    v = visit(chat, onsite)
    assert v.checked_in_by_id is not None and v.checked_out_by_id is not None
    assert v.tools_in == ["laptop", "screwdriver", "万用表"]
    assert v.tools_out == ["laptop"]
    assert sorted(v.tools_missing) == ["screwdriver", "万用表"]
