"""On-call schedules: rotations hand over at the configured local time, overrides take
precedence for their period, bad overrides are refused, and escalation pings whoever is on call.
The clock starts on Monday 2026-11-23 10:00 in Shanghai (tests/conftest.py START)."""

import re
from datetime import timedelta

import pytest

from handlers.workflows import OrgConfig
from tests.chat import Chat
from tests.visits_kit import t

SCHEDULES = [
    {
        "name": "primary",
        "rotation": "weekly",
        "handoff": "09:00",
        "start": "2026-11-23",
        "people": ["erin", "alice"],
    },
    {
        "name": "night",
        "rotation": "daily",
        "handoff": "20:00",
        "start": "2026-11-22",
        "people": ["zhang", "erin", "alice"],
    },
    {"name": "empty", "start": "2026-11-23"},
]


@pytest.fixture
def ochat(db, clock, org_data):
    data = {
        **org_data,
        "oncall": SCHEDULES,
        "channels": {**org_data["channels"], "faults": {"slack": "CFAULTS"}},
        "faults": {
            "escalation": [
                {"notify": ["schedule:empty"]},
                {"notify": ["schedule:primary"], "repeat": 1},
            ]
        },
    }
    return Chat.start(db, clock, OrgConfig.model_validate(data))


def now_next(chat: Chat, who: str = "alice") -> dict[str, str]:
    return {f.label: f.value for f in chat.card(who, "oncall").fields}


def shift(chat: Chat, now: str, until: str, after: str) -> str:
    """A schedule's line on the oncall card (in English): who is on, until when, who is next."""
    return t(chat, "oncall.now_next", now=now, until=until, next=after)


def test_who_is_on_now_and_next_per_schedule(ochat):
    shown = now_next(ochat)
    assert shown["primary"] == shift(ochat, "Erin Engineer", "2026-11-30 09:00", "Alice Engineer")
    # night: handed over daily at 20:00 from Sunday 22nd: zhang (22nd), erin (23rd 20:00) …
    assert shown["night"] == shift(ochat, "张伟", "2026-11-23 20:00", "Erin Engineer")
    nobody = t(ochat, "oncall.nobody")
    assert shown["empty"] == shift(ochat, nobody, "2026-11-30 09:00", nobody)
    assert ochat.card("dan", "值班").title == t(ochat, "oncall.title", "zh")  # Chinese, for dan


def test_rotations_hand_over_at_the_local_time(ochat, clock):
    clock.advance(timedelta(days=6, hours=22, minutes=59))  # Mon 30th 08:59 local
    erins = shift(ochat, "Erin Engineer", "2026-11-30 09:00", "Alice Engineer")
    assert now_next(ochat)["primary"] == erins
    clock.advance(timedelta(minutes=1))  # 09:00: alice's week
    alices = shift(ochat, "Alice Engineer", "2026-12-07 09:00", "Erin Engineer")
    assert now_next(ochat)["primary"] == alices


def test_an_override_takes_precedence_for_its_period(ochat, clock):
    answer = ochat.text(
        "carol", 'oncall override primary @zhang from="2026-11-23 12:00" to="2026-11-23 18:00"'
    )
    assert answer == t(
        ochat, "oncall.overridden", name="张伟", schedule="primary", start="2026-11-23 12:00",
        end="2026-11-23 18:00", id=1,
    )  # fmt: skip
    assert now_next(ochat)["primary"] == shift(ochat, "Erin Engineer", "2026-11-23 12:00", "张伟")
    clock.advance(timedelta(hours=3))  # 13:00
    assert now_next(ochat)["primary"] == shift(ochat, "张伟", "2026-11-23 18:00", "Erin Engineer")
    clock.advance(timedelta(hours=5))  # 18:00: back to the rotation
    erins = shift(ochat, "Erin Engineer", "2026-11-30 09:00", "Alice Engineer")
    assert now_next(ochat)["primary"] == erins
    [entry] = [a for a in ochat.audit() if a.action == "oncall.override"]
    assert entry.details["person"] == "zhang"


@pytest.mark.parametrize(
    ("who", "text", "key", "params"),
    [
        (
            "carol",
            'oncall override primary @zhang from="2026-11-23 18:00" to="2026-11-23 12:00"',
            "error.override_backwards",
            {},
        ),
        (
            "carol",
            'oncall override primary @zhang from="2026-11-20 08:00" to="2026-11-21 08:00"',
            "error.override_past",
            {},
        ),
        (
            "carol",
            'oncall override nosuch @zhang to="2026-11-24 08:00"',
            "error.unknown_schedule",
            {"value": "nosuch", "names": "primary, night, empty"},
        ),
        (
            "carol",
            'oncall override primary @nobody to="2026-11-24 08:00"',
            "error.unknown_person",
            {"value": "@nobody"},
        ),
        (
            "alice",
            'oncall override primary @zhang to="2026-11-24 08:00"',
            "error.need_role",
            {"role": "supervisor"},
        ),
    ],
)
def test_bad_overrides_are_refused_and_change_nothing(ochat, who, text, key, params):
    assert ochat.text(who, text) == t(ochat, key, **params)
    assert not [a for a in ochat.audit() if a.action == "oncall.override"]


def test_an_override_that_overlaps_another_is_refused(ochat):
    ochat.text(
        "carol", 'oncall override primary @zhang from="2026-11-23 12:00" to="2026-11-23 18:00"'
    )
    answer = ochat.text(
        "carol", 'oncall override primary @bob from="2026-11-23 17:00" to="2026-11-23 20:00"'
    )
    assert answer == t(
        ochat, "error.override_overlaps", name="张伟", start="2026-11-23 12:00",
        end="2026-11-23 18:00",
    )  # fmt: skip
    # covering oneself needs no role
    [answer] = ochat.say(
        "alice", 'oncall override primary @alice from="2026-11-24 08:00" to="2026-11-24 09:00"'
    )
    assert answer.tone == "success" and "Alice Engineer" in answer.text


def test_escalation_pings_whoever_is_on_call_and_skips_an_empty_schedule(ochat, clock):
    answer = ochat.text("alice", "fault declare 1 Rack B3 power lost")
    ref = re.search(r"F-\d+", answer).group()
    ochat.text(
        "carol", 'oncall override primary @zhang from="2026-11-23 10:05" to="2026-11-23 11:00"'
    )
    clock.advance(timedelta(minutes=10))
    ochat.core.sweep_deadlines()
    empty = [t(ochat, "fault.schedule_target", name="empty")]
    told = t(ochat, "fault.level_empty", ref=ref, level=1, who=empty)
    assert told in ochat.notices("bob")  # the admins are told
    assert any(f"fault ack {ref}" in n for n in ochat.notices("zhang"))  # the override
    assert not any(f"fault ack {ref}" in n for n in ochat.notices("erin"))


def test_an_override_later_today_is_who_comes_next(ochat):
    ochat.text(
        "carol", 'oncall override primary @zhang from="2026-11-23 12:00" to="2026-11-23 18:00"'
    )
    assert now_next(ochat)["primary"] == shift(ochat, "Erin Engineer", "2026-11-23 12:00", "张伟")


def test_an_override_covering_the_next_hand_over_is_who_comes_next(ochat, clock):
    # night: zhang until 20:00, then erin by the rotation; alice stands in from 19:00 to 22:00
    ochat.text(
        "carol", 'oncall override night @alice from="2026-11-23 19:00" to="2026-11-23 22:00"'
    )
    assert now_next(ochat)["night"] == shift(ochat, "张伟", "2026-11-23 19:00", "Alice Engineer")
    clock.advance(timedelta(hours=9))  # 19:00: alice's override, then erin's night resumes
    alices = shift(ochat, "Alice Engineer", "2026-11-23 22:00", "Erin Engineer")
    assert now_next(ochat)["night"] == alices
    clock.advance(timedelta(hours=3))  # 22:00: erin until her hand-over at 20:00 tomorrow
    erins = shift(ochat, "Erin Engineer", "2026-11-24 20:00", "Alice Engineer")
    assert now_next(ochat)["night"] == erins


def book(chat: Chat, text: str, who: str = "carol") -> int:
    """Book an override (it must succeed) and return its number, which the answer gives."""
    [answer] = chat.say(who, f"oncall override {text}")
    [*_, booked] = [a for a in chat.audit() if a.action == "oncall.override"]
    assert answer.tone == "success" and f"#{booked.subject_id}" in answer.text, answer
    return booked.subject_id


def test_the_overrides_are_listed_current_and_upcoming_with_who_booked_them(ochat, clock):
    assert ochat.card("alice", "oncall overrides").body == t(ochat, "oncall.no_overrides")
    book(ochat, 'primary @zhang from="2026-11-23 11:00" to="2026-11-23 12:00"')
    book(ochat, 'night @alice from="2026-11-24 20:00" to="2026-11-25 08:00"', who="alice")
    book(ochat, 'primary @bob from="2026-11-23 10:00" to="2026-11-23 10:30"')
    clock.advance(timedelta(minutes=45))  # 10:45: bob's is over, zhang's is next
    card = ochat.card("erin", "oncall overrides")
    assert card.body.splitlines() == [  # not bob's: it is over
        t(ochat, "oncall.override_line", id=1, schedule="primary", name="张伟",
          start="2026-11-23 11:00", end="2026-11-23 12:00", by="Carol Supervisor"),
        t(ochat, "oncall.override_line", id=2, schedule="night", name="Alice Engineer",
          start="2026-11-24 20:00", end="2026-11-25 08:00", by="Alice Engineer"),
    ]  # fmt: skip
    assert card.title == t(ochat, "oncall.overrides_title", count=2)
    assert ochat.card("erin", "oncall overrides night").body.startswith("#2 night:")
    zh = ochat.card("zhang", "值班 替班列表").body.splitlines()
    assert zh[0] == "#1 primary：张伟 2026-11-23 11:00 – 2026-11-23 12:00（Carol Supervisor 安排）"


def test_an_override_can_be_cancelled_by_whoever_may_book_it(ochat, clock):
    mine = book(ochat, 'primary @alice from="2026-11-23 12:00" to="2026-11-23 18:00"', "alice")
    theirs = book(ochat, 'night @zhang from="2026-11-24 20:00" to="2026-11-25 08:00"')
    need = t(ochat, "error.need_role", role="supervisor")
    assert ochat.text("alice", f"oncall cancel {theirs}") == need
    assert ochat.text("carol", "oncall cancel 9") == t(ochat, "error.not_found", ref="#9")
    bad = t(ochat, "error.bad_override_ref", value="banana")
    assert ochat.text("carol", "oncall cancel banana") == bad
    assert ochat.text("alice", f"oncall cancel {mine}") == t(  # her own
        ochat, "oncall.cancelled", name="Alice Engineer", schedule="primary",
        start="2026-11-23 12:00", end="2026-11-23 18:00",
    )  # fmt: skip
    erins = shift(ochat, "Erin Engineer", "2026-11-30 09:00", "Alice Engineer")
    assert now_next(ochat)["primary"] == erins
    clock.advance(timedelta(days=1, hours=11))  # Tue 21:00: zhang's override is on
    assert now_next(ochat)["night"] == shift(ochat, "张伟", "2026-11-25 08:00", "Alice Engineer")
    assert "张伟" in ochat.text("dan", f"值班 取消替班 {theirs}")  # a manager may too
    # the rotation resumes: alice's night (from 20:00 on the 24th)
    alices = shift(ochat, "Alice Engineer", "2026-11-25 20:00", "张伟")
    assert now_next(ochat)["night"] == alices
    assert f"#{theirs}" not in ochat.text("alice", "oncall overrides")
    cancelled = [a for a in ochat.audit() if a.action == "oncall.cancel"]
    assert [(a.subject_id, a.details["person"]) for a in cancelled] == [
        (mine, "alice"),
        (theirs, "zhang"),
    ]
    # the part already served stays on record: zhang was on from 20:00 until the cancellation
    assert ochat.text("carol", f"oncall cancel {theirs}") == t(ochat, "error.override_past")
