"""Filing a machine-room visit request (document 000, step 1): the form, its defaults and checks."""

import re
from datetime import datetime, timedelta

import pytest

from handlers.messages import plain_text
from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    FULL_ID,
    REQUEST,
    WEDNESDAY_9,
    audit_of,
    everything_stored,
    message_dump,
    ok,
    ref_in,
    refused,
    request,
    sh,
    snapshot,
    t,
    visit,
)

pytestmark = BACKEND_AGNOSTIC

BASE = f'visit request duration=2h room=SH1/A101 task="replace disk" id=passport:{FULL_ID}'


# --- every field, and the defaults -----------------------------------------------------------


def test_every_field_is_stored(chat):
    answer = ok(
        chat,
        "alice",
        'visit request at="2026-11-26 14:30" duration=1h30m room=sh1/b201 task="swap PSU in R12" '
        "company=Contoso contact=+86-21-5555-0100 id=passport:E1234567 "
        'certificates="CCNA, electrician" tools="laptop, 螺丝刀，multimeter" responsible=erin '
        'visitor="Wang Fang"',
    )
    ref = ref_in(answer)
    assert answer.startswith(t(chat, "visit.filed", ref=ref))
    v = visit(chat, ref)
    assert v.state == "requested"
    assert v.start_at == sh(2026, 11, 26, 14, 30)
    assert v.duration_minutes == 90
    assert (v.room.site.code, v.room.code) == ("SH1", "B201")
    assert v.task == "swap PSU in R12"
    assert (v.company, v.contact) == ("Contoso", "+86-21-5555-0100")
    assert (v.id_type, v.id_last4) == ("passport", "4567")
    assert v.certificates == "CCNA, electrician"
    assert v.tools == ["laptop", "螺丝刀", "multimeter"]
    assert v.responsible.handle == "erin"
    assert v.requester.handle == "alice"
    assert v.visitor_name == "Wang Fang"
    assert v.emergency is False and v.fault_ref is None
    assert v.reviewed_by_id is None and v.approved_by_id is None
    # the card echoes the request
    assert "2026-11-26 14:30 – 16:00" in answer
    assert "Shanghai DC 1 SH1/B201" in answer
    assert "Wang Fang · Contoso" in answer
    assert "passport ****4567" in answer
    assert "Erin Engineer" in answer
    assert "laptop, 螺丝刀, multimeter" in answer
    assert "CCNA, electrician" in answer
    assert t(chat, "state.requested") in answer


def test_company_contact_visitor_and_responsible_default_to_the_requester(chat):
    ref = request(chat, "alice")
    v = visit(chat, ref)
    assert v.company == "Acme"
    assert v.contact == "13800000001"
    assert v.visitor_name == "Alice Engineer"
    assert v.responsible.handle == "alice"
    assert v.tools == [] and v.certificates is None


def test_typed_company_and_contact_win_over_the_defaults(chat):
    v = visit(chat, request(chat, "alice", "company=Globex contact=021-1234"))
    assert (v.company, v.contact) == ("Globex", "021-1234")


def test_identity_as_separate_type_and_last4_options(chat):
    text = f'visit request at="{WEDNESDAY_9}" duration=2h room=SH1/A101 task=x'
    v = visit(chat, request(chat, "alice", "id_type=身份证 id_last4=123x", text=text))
    assert (v.id_type, v.id_last4) == ("身份证", "123X")


def test_request_is_audited_with_its_fields(chat):
    ref = request(chat, "alice", 'tools="laptop"')
    [entry] = audit_of(chat, ref)
    assert entry.action == "visit.request"
    assert (entry.old_state, entry.new_state) == (None, "requested")
    assert entry.actor_label == "Alice Engineer (alice)"
    assert datetime.fromisoformat(entry.details["start_at"]) == sh(2026, 11, 25, 9, 0)
    assert entry.details["id_last4"] == "5432"
    assert entry.details["tools"] == ["laptop"]


# --- the identity document -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "id_type", "last4"),
    [
        (f"passport:{FULL_ID}", "passport", "5432"),
        ("身份证:110101199003071234", "身份证", "1234"),
        ("身份证：11010119900307123x", "身份证", "123X"),  # full-width colon, check letter X
        ('"ID card: 1101 0119 9003 0712 34"', "ID card", "1234"),
        ("passport/E-1234-5678", "passport", "5678"),
    ],
)
def test_identity_keeps_only_type_and_last_four(chat, typed, id_type, last4):
    text = f'visit request at="{WEDNESDAY_9}" duration=2h room=SH1/A101 task=x id={typed}'
    v = visit(chat, request(chat, "alice", text=text))
    assert (v.id_type, v.id_last4) == (id_type, last4)


@pytest.mark.parametrize("typed", ["E98765432", "passport:12", "passport:", ":1234", "护照"])
def test_unreadable_identity_is_refused_without_echoing_it(chat, typed):
    text = f'visit request at="{WEDNESDAY_9}" duration=2h room=SH1/A101 task=x id={typed}'
    answer = refused(chat, "alice", text)
    assert answer == t(chat, "error.bad_identity")


def test_full_identity_number_is_stored_and_shown_nowhere(chat):
    """The full number never reaches the visit row, the audit log, a notice or a reply."""
    answers = chat.say("alice", REQUEST + ' tools="laptop"')
    ref = ref_in(plain_text(answers[0]))
    steps = [
        ("alice", f'visit edit {ref} id=passport:{FULL_ID} task="replace disk 2"'),
        ("bob", f"visit approve {ref}"),
        ("carol", f"visit approve {ref}"),
        ("bob", f"visit checkin {ref} card=A-07 verified=yes briefing=yes early=ahead"),
        ("bob", f"visit checkout {ref} tools=all card=no"),
        ("bob", f"visit show {ref}"),
        ("bob", f"audit {ref}"),
        ("bob", "visit list mine"),
        ("bob", "visit export 2026-11-23"),
    ]
    for who, text in steps:
        messages = chat.say(who, text)
        assert messages and getattr(messages[0], "tone", "") != "warning", (text, messages)
        answers += messages
    chat.clock.advance(timedelta(hours=1))
    chat.core.sweep_deadlines()  # the card-return reminder renders the visit once more
    replies = message_dump(answers)
    stored = everything_stored(chat)
    assert "5432" in replies and "5432" in stored  # the last four are there ...
    for fragment in (FULL_ID, FULL_ID[:-1], FULL_ID[1:], "987654"):
        assert fragment not in replies  # ... but never more
        assert fragment not in stored


# --- lead time and dates ---------------------------------------------------------------------


def test_lead_time_monday_for_wednesday_is_accepted(chat):
    # Monday 10:00 for Wednesday 00:30: two calendar days, though only 38.5 hours
    ref = request(chat, "alice", text=BASE + ' at="2026-11-25 00:30"')
    assert visit(chat, ref).start_at == sh(2026, 11, 25, 0, 30)


@pytest.mark.parametrize("when", ["2026-11-24 23:59", "2026-11-24 09:00", "2026-11-23 18:00"])
def test_lead_time_refuses_tuesday_and_names_the_earliest_date(chat, when):
    answer = refused(chat, "alice", BASE + f' at="{when}"')
    assert answer == t(chat, "error.lead_time", days=2, earliest="2026-11-25")
    assert "2026-11-25" in answer


def test_lead_time_counts_shanghai_calendar_days_not_utc_days(chat):
    # Monday 07:00 in Shanghai is still Sunday 23:00 UTC: counted in UTC, Tuesday would pass
    chat.clock.set(sh(2026, 11, 23, 7, 0))
    answer = refused(chat, "alice", BASE + ' at="2026-11-24 09:00"')
    assert "2026-11-25" in answer
    request(chat, "alice", text=BASE + ' at="2026-11-25 08:00"')


def test_lead_time_late_on_monday_evening(chat):
    chat.clock.set(sh(2026, 11, 23, 23, 59))
    request(chat, "alice", text=BASE + ' at="2026-11-25 00:01"')
    chat.clock.set(sh(2026, 11, 24, 0, 1))  # Tuesday now: Wednesday is one day away
    assert "2026-11-26" in refused(chat, "alice", BASE + ' at="2026-11-25 23:00"')


def test_lead_time_message_in_chinese_for_a_chinese_user(chat):
    answer = refused(chat, "zhang", BASE + ' at="2026-11-24 09:00"')
    assert answer == t(chat, "error.lead_time", "zh", days=2, earliest="2026-11-25")
    assert "至少提前 2 天" in answer and "2026-11-25" in answer


@pytest.mark.parametrize(
    ("when", "at"),
    [
        ("2026-11-20 09:00", (2026, 11, 20, 9, 0)),
        ("2026-11-23 09:59", (2026, 11, 23, 9, 59)),
        ("today 08:00", (2026, 11, 23, 8, 0)),
    ],
)
def test_past_dates_are_refused(chat, when, at):
    answer = refused(chat, "alice", BASE + f' at="{when}"')
    assert answer == t(chat, "error.past_date", value=sh(*at))


@pytest.mark.parametrize("when", ["2026-02-30", "2026-13-01", "next week", "25.11.2026", "14:00"])
def test_malformed_dates_are_refused(chat, when):
    answer = refused(chat, "alice", BASE.replace("duration=2h", f'at="{when}" duration=2h'))
    assert answer == t(chat, "error.bad_date", value=when)


@pytest.mark.parametrize("when", ["9999-12-31 23:59", "9999-12-31", "0001-01-01 00:00"])
def test_dates_at_the_end_of_the_calendar_are_refused_not_crashed(chat, when):
    answer = refused(chat, "alice", BASE + f' at="{when}"')
    assert answer == t(chat, "error.bad_date", value=when)


@pytest.mark.parametrize("duration", ["2", "two hours", "0m", "-1h", "1.5.5h", "2x", "8d"])
def test_malformed_durations_are_refused(chat, duration):
    text = BASE.replace("duration=2h", f'duration="{duration}"') + f' at="{WEDNESDAY_9}"'
    answer = refused(chat, "alice", text)
    assert answer == t(chat, "error.bad_duration", value=duration)


@pytest.mark.parametrize(("typed", "minutes"), [("24h", 24 * 60), ("90m", 90), ("一个半小时", 90)])
def test_durations_up_to_the_limit_are_accepted(chat, typed, minutes):
    text = BASE.replace("duration=2h", f"duration={typed}") + f' at="{WEDNESDAY_9}"'
    assert visit(chat, request(chat, "alice", text=text)).duration_minutes == minutes


@pytest.mark.parametrize("duration", ["25h", "24h1m", "3d"])
def test_too_long_duration_is_refused(chat, duration):
    text = BASE.replace("duration=2h", f"duration={duration}") + f' at="{WEDNESDAY_9}"'
    assert refused(chat, "alice", text) == t(chat, "error.visit_too_long", hours=24)


# --- rooms and people ------------------------------------------------------------------------


def test_unknown_room_lists_the_known_rooms(chat):
    answer = refused(chat, "alice", REQUEST.replace("room=SH1/A101", "room=SH9/Z1"))
    assert answer == t(
        chat, "error.unknown_room", value="SH9/Z1", known="BJ2/A101, SH1/A101, SH1/B201"
    )


def test_ambiguous_room_code_asks_for_the_site(chat):
    """A101 exists at SH1 and BJ2: the answer must say so, not claim there is no such room."""
    answer = refused(chat, "alice", REQUEST.replace("room=SH1/A101", "room=A101"))
    assert "BJ2/A101" in answer and "SH1/A101" in answer
    assert answer == t(chat, "error.ambiguous_room", value="A101", matches="BJ2/A101, SH1/A101")
    assert not answer.startswith('No room "A101"')


@pytest.mark.parametrize(
    ("typed", "site", "room"),
    [
        ("SH1/A101", "SH1", "A101"),
        ("bj2/a101", "BJ2", "A101"),
        ("B201", "SH1", "B201"),  # unique across sites
        ("BJ2", "BJ2", "A101"),  # a one-room site
    ],
)
def test_room_forms(chat, typed, site, room):
    v = visit(chat, request(chat, "alice", text=REQUEST.replace("room=SH1/A101", f"room={typed}")))
    assert (v.room.site.code, v.room.code) == (site, room)


def test_a_site_with_several_rooms_is_ambiguous(chat):
    answer = refused(chat, "alice", REQUEST.replace("room=SH1/A101", "room=SH1"))
    assert "SH1/A101" in answer and "SH1/B201" in answer


@pytest.mark.parametrize("who", ["bob", "@bob", "Bob Admin", "UBOB"])
def test_responsible_person_by_handle_mention_name_or_platform_id(chat, who):
    v = visit(chat, request(chat, "alice", f'responsible="{who}"'))
    assert v.responsible.handle == "bob"


def test_unknown_responsible_person_is_refused(chat):
    answer = refused(chat, "alice", REQUEST + " responsible=nobody")
    assert answer == t(chat, "error.unknown_person", value="nobody")


# --- missing fields, emergencies -------------------------------------------------------------


def test_missing_fields_are_listed_together(chat):
    answer = refused(chat, "alice", "visit request")
    fields = ["at", "duration", "room", "task", "id"]  # company and contact default from alice
    assert answer == t(chat, "error.missing_fields", fields=fields)
    for label in ("at=", "duration=", "room=", "task=", "id="):
        assert label in answer


def test_missing_company_and_contact_without_defaults(chat):
    # bob has neither a company nor a phone in the organisation file
    answer = refused(chat, "bob", REQUEST)
    assert answer == t(chat, "error.missing_fields", fields=["company", "contact"])


def test_missing_fields_in_chinese(chat):
    answer = refused(chat, "zhang", "访问 申请 任务=换盘")
    assert answer == t(chat, "error.missing_fields", "zh", fields=["at", "duration", "room", "id"])
    assert answer.startswith("申请还缺少：")


def test_emergency_needs_a_fault(chat):
    text = BASE + ' at="2026-11-23 11:00" emergency=yes'
    assert refused(chat, "alice", text) == t(chat, "error.emergency_needs_fault")


def declare_faults(chat, count: int = 1) -> list[str]:
    """Faults declared by erin, F-1 onwards."""
    answers = [chat.text("erin", f"fault declare 2 Disk array {n} degraded") for n in range(count)]
    return [re.search(r"F-\d+", a).group() for a in answers]


def test_emergency_with_a_fault_bypasses_the_lead_time_and_the_card_shows_it(chat):
    [fault] = declare_faults(chat)
    answer = ok(chat, "alice", BASE + f' at="2026-11-23 11:00" emergency=yes fault={fault}')
    ref = ref_in(answer)
    v = visit(chat, ref)
    assert v.emergency is True and v.fault_ref == fault
    assert v.start_at == sh(2026, 11, 23, 11, 0)
    assert f"Emergency visit (fault {fault}" in answer
    card = chat.card("bob", f"visit show {ref}")
    assert f"⚠ Emergency visit (fault {fault}" in card.body
    zh_card = chat.card("zhang", f"visit show {ref}")
    assert f"紧急访问（关联故障 {fault}" in zh_card.body


@pytest.mark.parametrize("fault", ["3", "f3", "#F-3"])
def test_fault_reference_forms(chat, fault):
    declare_faults(chat, 3)
    ref = ref_in(ok(chat, "alice", BASE + f' at="2026-11-23 11:00" 紧急=是 故障={fault}'))
    assert visit(chat, ref).fault_ref == "F-3"


def test_an_emergency_must_name_a_fault_that_exists(chat):
    declare_faults(chat)
    answer = refused(chat, "alice", BASE + ' at="2026-11-23 11:00" emergency=yes fault=F-9')
    assert answer == t(chat, "error.emergency_fault_unknown", ref="F-9")
    assert "F-9" in answer


@pytest.mark.parametrize(
    ("steps", "state"),
    [
        (["fault resolve F-1 replaced the disk"], "resolved"),
        (["fault resolve F-1 replaced the disk", 'fault close F-1 cause="worn disk"'], "closed"),
    ],
)
def test_an_emergency_must_name_an_open_fault(chat, steps, state):
    declare_faults(chat)
    for command in steps:
        ok(chat, "erin", command)
    answer = refused(chat, "alice", BASE + ' at="2026-11-23 11:00" emergency=yes fault=F-1')
    assert answer == t(chat, "error.emergency_fault_not_open", ref="F-1", state=state)
    assert "F-1" in answer and t(chat, f"state.fault_{state}") in answer
    zh = refused(chat, "zhang", BASE + ' at="2026-11-23 11:00" 紧急=是 故障=F-1')
    assert t(chat, f"state.fault_{state}", "zh") in zh


def test_an_acknowledged_fault_is_still_open(chat):
    declare_faults(chat)
    ok(chat, "erin", "fault ack F-1")
    ok(chat, "alice", BASE + ' at="2026-11-23 11:00" emergency=yes fault=F-1')


def test_an_edit_to_an_emergency_checks_the_fault_again(chat):
    declare_faults(chat)
    ref = ref_in(ok(chat, "alice", BASE + ' at="2026-11-23 14:00" emergency=yes fault=F-1'))
    answer = refused(chat, "alice", f"visit edit {ref} fault=F-2", ref)
    assert answer == t(chat, "error.emergency_fault_unknown", ref="F-2")


def test_emergency_can_start_a_few_minutes_ago_but_not_long_ago(chat):
    declare_faults(chat)
    ok(chat, "alice", BASE + ' at="2026-11-23 09:50" emergency=yes fault=F-1')
    answer = refused(chat, "alice", BASE + ' at="2026-11-23 09:00" emergency=yes fault=F-1')
    assert answer == t(chat, "error.past_date", value=sh(2026, 11, 23, 9, 0))


def test_emergency_no_keeps_the_lead_time(chat):
    answer = refused(chat, "alice", BASE + ' at="2026-11-24 09:00" emergency=no fault=F-3')
    assert "2026-11-25" in answer


def test_unreadable_emergency_flag_and_fault(chat):
    text = BASE + ' at="2026-11-23 11:00" emergency=maybe fault=F-3'
    assert refused(chat, "alice", text) == t(chat, "error.bad_bool", value="maybe")
    text = BASE + ' at="2026-11-23 11:00" emergency=yes fault=V-3'
    assert refused(chat, "alice", text) == t(chat, "error.bad_ref", value="V-3", example="F-12")


# --- Chinese ---------------------------------------------------------------------------------


def test_chinese_keys_and_aliases_with_a_chinese_user(chat):
    answer = ok(
        chat,
        "zhang",
        '访问 申请 时间="2026-11-25 09:00" 时长=2小时 机房=SH1/A101 任务=换盘 证件=身份证:1234',
    )
    ref = ref_in(answer)
    assert answer.startswith(t(chat, "visit.filed", "zh", ref=ref))
    assert f"已提交访问申请 {ref}，等待管理员审核。" in answer and "状态：待管理员审核" in answer
    v = visit(chat, ref)
    assert v.start_at == sh(2026, 11, 25, 9, 0)
    assert v.duration_minutes == 120
    assert v.task == "换盘"
    assert (v.id_type, v.id_last4) == ("身份证", "1234")
    assert (v.company, v.contact) == ("某公司", "13900000000")


def test_chinese_date_words_and_more_chinese_keys(chat):
    answer = ok(
        chat,
        "zhang",
        "访问申请 提交 日期=后天 下午3点 预计用时=半小时 地点=SH1/B201 事由=巡检 单位=某某 "
        "电话=13911112222 证件类型=护照 证件后四位=6789 工具=笔记本、螺丝刀 负责人=bob 访客=李四",
    )
    v = visit(chat, ref_in(answer))
    assert v.start_at == sh(2026, 11, 25, 15, 0)
    assert v.duration_minutes == 30
    assert (v.room.site.code, v.room.code) == ("SH1", "B201")
    assert (v.company, v.contact, v.visitor_name) == ("某某", "13911112222", "李四")
    assert (v.id_type, v.id_last4) == ("护照", "6789")
    assert v.tools == ["笔记本", "螺丝刀"]
    assert v.responsible.handle == "bob"


def test_full_width_punctuation_in_a_request(chat):
    answer = ok(
        chat,
        "zhang",
        "访问 申请 时间＝“2026-11-25 09:00” 时长＝2h 机房＝SH1/A101 任务＝换盘 证件＝身份证：5678",
    )
    assert visit(chat, ref_in(answer)).id_last4 == "5678"


# --- long input and editing ------------------------------------------------------------------


def test_over_long_text_fields_are_cut_to_fit_not_an_internal_error(chat):
    """company is 128 characters in the database, contact 64: PostgreSQL and MariaDB refuse more."""
    ref = request(
        chat,
        "alice",
        f'company="{"C" * 300}" contact="{"9" * 100}" visitor="{"V" * 300}" '
        f'certificates="{"c" * 400}" task="{"t" * 5000}"',
    )
    v = visit(chat, ref)
    assert v.company == "C" * 128
    assert v.contact == "9" * 64
    assert v.visitor_name == "V" * 128
    assert v.certificates == "c" * 256
    assert v.task == "t" * 2000


def test_edit_checks_the_form_again(chat):
    ref = request(chat, "alice")
    answer = refused(chat, "alice", f'visit edit {ref} at="2026-11-24 09:00"', ref)
    assert "2026-11-25" in answer
    refused(chat, "alice", f"visit edit {ref} room=A101", ref)
    refused(chat, "alice", f"visit edit {ref} duration=30h", ref)
    assert refused(chat, "alice", f"visit edit {ref}", ref) == t(chat, "error.nothing_to_change")
    ok(chat, "alice", f'visit edit {ref} at="2026-11-26 10:00" tools="laptop"')
    v = visit(chat, ref)
    assert v.start_at == sh(2026, 11, 26, 10, 0) and v.tools == ["laptop"]
    assert v.task == "replace disk"  # untouched fields stay


def test_refused_request_creates_nothing(chat):
    before = snapshot(chat)
    messages = chat.say("alice", BASE + ' at="2026-11-24 09:00"')
    assert [plain_text(m) for m in messages] != []
    after = snapshot(chat)
    assert (after.audit, after.outbox, after.deadlines) == (before.audit, before.outbox, ())
    assert "V-" not in plain_text(messages[0])


def test_fixing_a_request_sent_back_the_day_before_keeps_its_time(chat):
    """The lead time was met when it was filed; the engineer may still answer the admin."""
    ref = request(chat, "alice")
    ok(chat, "bob", f'visit changes {ref} note="add your certificate"')
    chat.clock.set(sh(2026, 11, 24, 9, 0))  # Tuesday: Wednesday is one day away now
    ok(chat, "alice", f"visit edit {ref} certificates=CCNA")
    v = visit(chat, ref)
    assert (v.state, v.certificates) == ("requested", "CCNA")
    # a new time, though, must respect the lead time from today
    answer = refused(chat, "alice", f'visit edit {ref} at="2026-11-25 14:00"', ref)
    assert answer == t(chat, "error.lead_time", days=2, earliest="2026-11-26")


def test_a_request_whose_time_has_passed_cannot_be_resubmitted_unchanged(chat):
    ref = request(chat, "alice")
    chat.clock.set(sh(2026, 11, 25, 10, 0))
    answer = refused(chat, "alice", f"visit edit {ref} task=other", ref)
    assert answer == t(chat, "error.past_date", value=sh(2026, 11, 25, 9, 0))
    ok(chat, "alice", f'visit edit {ref} at="2026-11-27 10:00" task=other')
