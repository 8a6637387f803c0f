"""The shutdown calendar, parsed back with the icalendar library event by event: times in UTC and
in Shanghai wall time with the zone defined, a UID stable across changes (SEQUENCE counts them),
only approved windows on the feed; and the feed served over HTTP at its unguessable URL."""

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from pydantic import ValidationError

from bot.settings import Settings
from storage import migrate
from storage.db import Database
from tests.chat import TZ, Chat
from tests.conftest import BACKEND_AGNOSTIC
from tests.fake_slack import FakeSlack
from tests.shutdowns_kit import (
    DETAILS,
    approved,
    events,
    ok,
    request,
    sh,
    sweep_at,
)
from tests.slack_server import served_in_process

TOKEN = "s3cret-feed-token-0123456789"


def feed(chat: Chat) -> str:
    media_type, text = chat.core.feed("shutdowns.ics")
    assert media_type == "text/calendar; charset=utf-8"
    return text


def window(systems: str, day: str, start: str = "02:00", end: str = "06:00") -> str:
    return f'shutdown request systems={systems} start="{day} {start}" end="{day} {end}" {DETAILS}'


@BACKEND_AGNOSTIC
def test_an_approved_window_is_one_event_in_utc_and_shanghai_time(chat):
    ref = approved(chat)
    calendar = Calendar.from_ical(feed(chat))
    [event] = calendar.walk("VEVENT")
    start, end = event["DTSTART"], event["DTEND"]
    assert start.dt == datetime(2026, 11, 29, 2, 0, tzinfo=TZ)  # the wall time, in its zone
    assert start.dt.astimezone(UTC) == datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    assert end.dt.astimezone(UTC) == datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert start.params["TZID"] == "Asia/Shanghai" and end.params["TZID"] == "Asia/Shanghai"
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(event["UID"]) == "shutdown-1@maintbot"
    assert event["SEQUENCE"] == 0
    assert str(event["SUMMARY"]) == f"{ref} shutdown: erp-db"
    assert str(event["LOCATION"]) == "Shanghai DC 1 SH1"
    assert "Rollback: reflash" in str(event["DESCRIPTION"])
    assert "Backup: job-4711" in str(event["DESCRIPTION"])


@BACKEND_AGNOSTIC
def test_only_booked_windows_are_on_the_feed(chat):
    request(chat, text=window("erp", "2026-12-06"))  # S-1: pending
    approved(chat, text=window("crm", "2026-12-13"))  # S-2
    approved(chat, text=window("mail", "2026-12-13"))  # S-3, cancelled below
    ref = request(chat, text=window("mail", "2026-12-20"))  # S-4, rejected
    ok(chat, "carol", f'shutdown reject {ref} reason="no"')
    ok(chat, "alice", "shutdown cancel S-3")
    assert set(events(feed(chat))) == {"shutdown-2@maintbot"}


@BACKEND_AGNOSTIC
def test_extend_keeps_the_uid_moves_the_end_and_counts_a_sequence(chat):
    ref = approved(chat)
    before = events(feed(chat))["shutdown-1@maintbot"]
    sweep_at(chat, 2026, 11, 29, 2, 0)
    ok(chat, "alice", f"shutdown begin {ref} state=up")
    ok(chat, "alice", f'shutdown extend {ref} to="2026-11-29 07:30"')
    assert events(feed(chat))["shutdown-1@maintbot"]["DTEND"].dt == before["DTEND"].dt
    ok(chat, "carol", f"shutdown approve {ref}")
    after = events(feed(chat))["shutdown-1@maintbot"]
    assert after["DTSTART"].dt == before["DTSTART"].dt
    assert after["DTEND"].dt == datetime(2026, 11, 29, 7, 30, tzinfo=TZ)
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    ok(chat, "alice", f"shutdown complete {ref} services=yes business=dan")
    assert set(events(feed(chat))) == {"shutdown-1@maintbot"}  # done windows stay on it


@BACKEND_AGNOSTIC
def test_a_cancelled_window_leaves_the_feed(chat):
    ref = approved(chat)
    approved(chat, text=window("mail", "2026-12-06"))
    ok(chat, "alice", f"shutdown cancel {ref}")
    assert set(events(feed(chat))) == {"shutdown-2@maintbot"}


@BACKEND_AGNOSTIC
def test_windows_long_past_leave_the_feed(chat):
    approved(chat)
    chat.clock.set(sh(2027, 2, 26, 6, 0))  # 89 days after the window ended
    assert set(events(feed(chat))) == {"shutdown-1@maintbot"}
    chat.clock.set(sh(2027, 2, 28, 6, 0))  # 91 days
    assert events(feed(chat)) == {}


@BACKEND_AGNOSTIC
def test_the_approval_notice_carries_the_window_as_an_ics_in_the_readers_language(chat):
    ref = approved(chat)
    files = {r.target: r.payload for r in chat.outbox() if r.payload["kind"] == "file"}
    assert files["alice"]["name"] == f"{ref}.ics" and files["alice"]["mime"].startswith(
        "text/calendar"
    )
    english, chinese = events(files["alice"]["content"]), events(files["dan"]["content"])
    assert set(english) == set(chinese) == {"shutdown-1@maintbot"}
    assert str(english["shutdown-1@maintbot"]["SUMMARY"]) == f"{ref} shutdown: erp-db"
    assert str(chinese["shutdown-1@maintbot"]["SUMMARY"]) == f"{ref} 停机：erp-db"
    assert chinese["shutdown-1@maintbot"]["DTSTART"].dt == sh(2026, 11, 29, 2, 0)


# --- served over HTTP ------------------------------------------------------------------------


@pytest.fixture
def served_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'feed.sqlite3'}"
    database = Database(url)
    migrate.upgrade(database.engine)
    yield url, database
    database.dispose()


def test_the_feed_is_served_at_its_token_only(served_db, clock, org):
    url, database = served_db
    chat = Chat.start(database, clock, org)
    ref = approved(chat)
    with FakeSlack() as fake, served_in_process(
        fake, url, clock=clock, tick_seconds=60, extra_settings={"feed_token": TOKEN}
    ) as bot:  # fmt: skip
        answer = bot.get(f"/feeds/{TOKEN}/shutdowns.ics")
        assert answer.status == 200
        assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
        event = events(answer.text)["shutdown-1@maintbot"]
        assert str(event["SUMMARY"]) == f"{ref} shutdown: erp-db"
        assert event["DTSTART"].dt == sh(2026, 11, 29, 2, 0)
        assert bot.get(f"/feeds/{TOKEN[:-1]}x/shutdowns.ics").status == 404
        assert bot.get(f"/feeds/{TOKEN}/visits.ics").status == 404
        assert bot.get("/feeds//shutdowns.ics").status == 404
        ok(chat, "alice", f"shutdown cancel {ref}")
        assert events(bot.get(f"/feeds/{TOKEN}/shutdowns.ics").text) == {}


def test_no_feed_is_served_without_a_token(served_db, clock, org):
    url, database = served_db
    approved(Chat.start(database, clock, org))
    with FakeSlack() as fake, served_in_process(fake, url, clock=clock, tick_seconds=60) as bot:
        assert bot.runtime.settings.feed_token is None
        assert bot.get(f"/feeds/{TOKEN}/shutdowns.ics").status == 404
        assert bot.get("/feeds/None/shutdowns.ics").status == 404


def test_the_feed_token_comes_from_the_environment_and_is_long(monkeypatch):
    monkeypatch.setenv("MAINTBOT_FEED_TOKEN", TOKEN)
    assert Settings(_env_file=None).feed_token == TOKEN
    monkeypatch.setenv("MAINTBOT_FEED_TOKEN", "short-token")
    with pytest.raises(ValidationError, match="feed_token"):
        Settings(_env_file=None)
    monkeypatch.setenv("MAINTBOT_FEED_TOKEN", "a token with spaces ok?")
    with pytest.raises(ValidationError, match="feed_token"):
        Settings(_env_file=None)
