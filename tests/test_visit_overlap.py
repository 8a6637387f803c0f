"""Visits to one room at one time: the overlap is shown on the answer and the card, and a room
with a capacity in the organisation file takes no more visits at once. Runs on every backend:
the capacity check locks the room against concurrent requests."""

import threading

import pytest
from sqlalchemy import func, select

from handlers.context import Origin
from handlers.core import Core
from handlers.messages import Card, plain_text
from storage.db import Database
from storage.models import Visit
from tests.chat import platforms
from tests.visits_kit import (
    REQUEST,
    ok,
    ref_in,
    refused,
    request,
    t,
    visit_in,
)


def overlap_field(card: Card) -> str | None:
    values = {f.label: f.value for f in card.fields}
    return values.get("⚠ Overlap") or values.get("⚠ 时间重叠")


def shown(chat, who: str, ref: str) -> str | None:
    return overlap_field(chat.card(who, f"visit show {ref}"))


def capacity(chat, room: str, value: int | None) -> None:
    site_code, room_code = room.split("/")
    [site] = [s for s in chat.core.org.sites if s.code == site_code]
    [spec] = [r for r in site.rooms if r.code == room_code]
    spec.capacity = value


def test_an_overlapping_request_is_accepted_and_says_so(chat):
    first = request(chat, "alice")  # SH1/A101, Wednesday 09:00-11:00
    assert shown(chat, "bob", first) is None
    messages = chat.say("erin", REQUEST + ' at="2026-11-25 10:00"')
    second = ref_in(plain_text(messages[0]))
    assert messages[0].tone == "success"
    assert "warning" not in [m.tone for m in messages]  # a warning would be a refusal
    texts = [plain_text(m) for m in messages]
    notice = t(chat, "visit.overlap_notice", room="SH1/A101", refs=[first], more=0)
    assert notice in texts
    assert overlap_field(messages[-1]) == t(chat, "visit.overlap", refs=[first], more=0)
    assert t(chat, "field.overlap") == "⚠ Overlap"
    # the first visit's card shows the second one now, in either language
    assert shown(chat, "bob", first) == t(chat, "visit.overlap", refs=[second], more=0)
    assert shown(chat, "dan", first) == f"与 {second} 时间重叠"


@pytest.mark.parametrize(
    "extra",
    [
        'at="2026-11-25 11:00"',  # starts as the first one ends
        'at="2026-11-25 07:00"',  # ends as the first one starts
        "room=SH1/B201",
        "room=BJ2/A101",
        'at="2026-11-26 09:00"',
    ],
)
def test_no_overlap_in_another_room_or_at_another_time(chat, extra):
    first = request(chat, "alice")
    second = request(chat, "erin", extra)
    assert shown(chat, "bob", second) is None and shown(chat, "bob", first) is None


@pytest.mark.parametrize("state", ["rejected", "cancelled", "checked_out"])
def test_visits_that_are_over_do_not_count(chat, state):
    visit_in(chat, state)
    assert shown(chat, "bob", request(chat, "erin")) is None


@pytest.mark.parametrize("state", ["reviewed", "changes_requested", "approved", "checked_in"])
def test_open_visits_count(chat, state):
    first = visit_in(chat, state)
    assert shown(chat, "bob", request(chat, "erin")) == t(
        chat, "visit.overlap", refs=[first], more=0
    )


def test_a_finished_visit_shows_no_overlap(chat):
    first = visit_in(chat, "checked_out")
    request(chat, "erin")
    assert shown(chat, "bob", first) is None


def test_a_hundred_identical_requests_name_a_few_and_count_the_rest(chat):
    refs = [request(chat, "alice") for _ in range(8)]
    card = chat.card("bob", f"visit show {refs[0]}")
    assert overlap_field(card) == t(chat, "visit.overlap", refs=refs[1:6], more=2)
    assert overlap_field(card).endswith("and 2 more")


def test_a_full_room_refuses_the_request_naming_the_visits_there(chat):
    capacity(chat, "SH1/A101", 1)
    first = request(chat, "alice")
    answer = refused(chat, "erin", REQUEST + ' at="2026-11-25 10:30"')
    assert answer == t(chat, "error.room_full", room="SH1/A101", capacity=1, refs=[first], more=0)
    assert first in answer
    zh = refused(chat, "zhang", REQUEST.replace("visit request", "访问 申请"))
    assert zh.startswith("机房 SH1/A101 同一时段最多 1 个访问")
    ok(chat, "erin", REQUEST + ' at="2026-11-25 11:00"')  # after it: fine
    ok(chat, "erin", REQUEST + " room=SH1/B201")  # another room: no capacity given


def test_capacity_counts_visits_at_the_same_moment(chat):
    capacity(chat, "SH1/A101", 2)
    early = request(chat, "alice", 'at="2026-11-25 09:00" duration=1h')
    late = request(chat, "alice", 'at="2026-11-25 10:00" duration=1h')
    # 09:00-11:00 meets each of them, but never both at once: two in the room at most
    middle = request(chat, "erin", 'at="2026-11-25 09:00" duration=2h')
    answer = refused(chat, "erin", REQUEST + ' at="2026-11-25 10:30" duration=15m')
    assert answer == t(
        chat, "error.room_full", room="SH1/A101", capacity=2, refs=[middle, late], more=0
    )
    assert early not in answer


def test_an_edit_into_an_overlap_says_so_and_into_a_full_room_is_refused(chat):
    first = request(chat, "alice")
    second = request(chat, "erin", 'at="2026-11-26 09:00"')
    answer = ok(chat, "erin", f'visit edit {second} at="2026-11-25 09:30"')
    assert t(chat, "visit.overlap_notice", room="SH1/A101", refs=[first], more=0) in answer
    capacity(chat, "SH1/A101", 1)
    answer = refused(chat, "erin", f'visit edit {second} at="2026-11-25 10:00"', second)
    assert answer == t(chat, "error.room_full", room="SH1/A101", capacity=1, refs=[first], more=0)
    # an edit that keeps its own time does not count itself, nor fail on an old overlap
    ok(chat, "erin", f"visit edit {second} task=other")


def test_capacity_holds_against_simultaneous_requests(db, clock, org):
    """Six people file the same request for a one-visit room at the same moment: one gets it."""
    [site] = [s for s in org.sites if s.code == "SH1"]
    site.rooms[0].capacity = 1
    Core(db, clock, _i18n(), org, platforms("console")).seed()
    people = ["alice", "erin", "bob", "amy", "carol", "zhang"]
    start = threading.Barrier(len(people))
    answers: dict[str, str] = {}
    databases = [Database(db.url) for _ in people]

    def file(who: str, database: Database) -> None:
        core = Core(database, clock, _i18n(), org, platforms("console"))
        start.wait()
        messages = core.handle_text(Origin("console", who), REQUEST + " company=A contact=1")
        answers[who] = messages[0].tone

    threads = [
        threading.Thread(target=file, args=pair) for pair in zip(people, databases, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for database in databases:
            database.dispose()
    assert sorted(answers.values()) == ["success"] + ["warning"] * 5
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == 1


def _i18n():
    from tests.chat import _i18n

    return _i18n("en")
