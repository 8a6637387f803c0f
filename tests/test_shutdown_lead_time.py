"""When a normal shutdown may be: announced 3 working days ahead (weekends and statutory
holidays skipped, the organisation file's calendar over the published one), never inside a
freeze (封网期); an emergency linked to a serious open fault is exempt from both."""

import pytest

from handlers.workflows import OrgConfig
from tests.chat import Chat
from tests.conftest import BACKEND_AGNOSTIC
from tests.shutdowns_kit import DETAILS, ok, refused, request, sh, shutdown, t

pytestmark = BACKEND_AGNOSTIC

FREEZE = {"name": "year end", "start": "2026-12-28", "end": "2027-01-03"}


def window(day: str, start: str = "02:00", end: str = "06:00") -> str:
    return f'shutdown request systems=erp start="{day} {start}" end="{day} {end}" {DETAILS}'


@pytest.fixture
def chat_with(db, clock, org_data):
    """A chat whose organisation file has these sections changed (``shutdowns`` merged)."""

    def start(shutdowns: dict | None = None, **sections) -> Chat:
        data = {**org_data, **sections}
        data["shutdowns"] = {**org_data.get("shutdowns", {}), **(shutdowns or {})}
        return Chat.start(db, clock, OrgConfig.model_validate(data))

    return start


def lead(chat: Chat, earliest: str, locale: str = "en", exact: bool = True) -> str:
    return t(chat, "error.shutdown_lead", locale, days=3, earliest=earliest, exact=exact)


# --- lead time, in working days ------------------------------------------------------------


def test_three_working_days_ahead_is_the_earliest_start(chat):
    # Monday 10:00: Tuesday, Wednesday, Thursday
    assert refused(chat, "alice", window("2026-11-25")) == lead(chat, "2026-11-26")
    assert refused(chat, "zhang", window("2026-11-25")) == lead(chat, "2026-11-26", "zh")
    assert "2026-11-26" in lead(chat, "2026-11-26", "zh")
    request(chat, text=window("2026-11-26", "00:00", "01:00"))  # the first minute of that day


def test_weekends_are_not_working_days(chat):
    chat.clock.set(sh(2026, 11, 26, 10, 0))  # a Thursday: Friday, Monday, Tuesday
    assert refused(chat, "alice", window("2026-11-30")) == lead(chat, "2026-12-01")
    assert refused(chat, "dan", window("2026-11-30")) == lead(chat, "2026-12-01", "zh")
    request(chat, text=window("2026-12-01"))


def test_a_published_statutory_holiday_is_not_a_working_day(chat):
    # Tuesday before National Day: Wednesday, then 1-7 October off, then Thursday and Friday
    chat.clock.set(sh(2026, 9, 29, 10, 0))
    assert refused(chat, "alice", window("2026-10-08")) == lead(chat, "2026-10-09")
    request(chat, text=window("2026-10-09"))


def test_the_organisation_files_calendar_adds_a_holiday(chat_with):
    chat = chat_with(calendar={2026: {"holidays": ["2026-11-25"]}})
    # Tuesday, (Wednesday off), Thursday, Friday
    assert refused(chat, "alice", window("2026-11-26")) == lead(chat, "2026-11-27")
    request(chat, text=window("2026-11-27"))


def test_the_organisation_files_calendar_adds_a_working_saturday(chat_with):
    chat = chat_with(calendar={2026: {"workdays": ["2026-11-28"], "holidays": []}})
    chat.clock.set(sh(2026, 11, 26, 10, 0))  # Friday, Saturday (worked), Monday
    request(chat, text=window("2026-11-30"))
    assert refused(chat, "alice", window("2026-11-29")) == lead(chat, "2026-11-30")


def test_a_year_nobody_published_counts_weekdays_and_says_so(chat):
    chat.clock.set(sh(2035, 12, 27, 10, 0))  # Thursday: Friday, Monday, Tuesday (New Year?)
    answer = refused(chat, "alice", window("2035-12-31"))
    assert answer == lead(chat, "2036-01-01", exact=False)
    assert "not published" in answer
    zh = refused(chat, "zhang", window("2035-12-31"))
    assert zh == lead(chat, "2036-01-01", "zh", exact=False) and "尚未公布" in zh


def test_the_lead_time_is_configurable(chat_with):
    chat = chat_with({"lead_working_days": 1})
    assert refused(chat, "alice", window("2026-11-23", "20:00", "21:00")).startswith(
        t(chat, "error.shutdown_lead", days=1, earliest="2026-11-24", exact=True)[:40]
    )
    request(chat, text=window("2026-11-24"))
    none = chat_with({"lead_working_days": 0})
    request(none, text=window("2026-11-23", "20:00", "21:00"))


# --- freezes -----------------------------------------------------------------------------------


def test_a_window_inside_a_freeze_is_refused(chat_with):
    chat = chat_with({"freezes": [FREEZE]})
    frozen = t(chat, "error.shutdown_freeze", name="year end", start="2026-12-28", end="2027-01-03")
    assert refused(chat, "alice", window("2026-12-28")) == frozen
    assert refused(chat, "alice", window("2027-01-03")) == frozen  # both ends included
    zh = refused(chat, "zhang", window("2026-12-30"))
    assert zh == t(
        chat, "error.shutdown_freeze", "zh", name="year end", start="2026-12-28", end="2027-01-03"
    )
    assert "封网期" in zh
    # a window that reaches into the freeze from the day before
    overnight = 'start="2026-12-27 22:00" end="2026-12-28 01:00"'
    refused(chat, "alice", f"shutdown request systems=erp {overnight} {DETAILS}")
    request(chat, text=window("2026-12-27"))
    request(chat, text=window("2027-01-04"))


def test_an_emergency_ignores_the_freeze_and_the_lead_time(chat_with):
    today = {**FREEZE, "start": "2026-11-20", "end": "2026-11-30"}
    chat = chat_with({"freezes": [today]})
    ok(chat, "bob", "fault declare 2 slow system=erp")
    text = window("2026-11-23", "11:00", "12:00")
    refused(chat, "alice", text)
    ref = request(chat, text=f"{text} emergency=yes link=F-1")
    assert shutdown(chat, ref).emergency is True
