"""Visit lists (pending per role, today, mine, onsite) and the visitor-log CSV export."""

import csv
import io

import pytest

from handlers.messages import File
from handlers.visits.lists import CSV_COLUMNS
from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    FULL_ID,
    ok,
    refused,
    request,
    sh,
    t,
    visit,
    visit_in,
)

pytestmark = BACKEND_AGNOSTIC


def listed(chat, who: str, command: str = "visit list") -> list[str]:
    """The references a list shows, in order."""
    card = chat.card(who, command)
    return [line.split()[0] for line in card.body.splitlines() if line.startswith("V-")]


def title(chat, who: str, command: str) -> str:
    return chat.card(who, command).title


# --- pending ---------------------------------------------------------------------------------


@pytest.fixture
def waiting(chat) -> dict[str, str]:
    """New (alice), reviewed (erin), sent back (alice) and approved (alice)."""
    refs = {
        "new": request(chat, "alice"),
        "reviewed": request(chat, "erin"),
        "changes": request(chat, "alice"),
        "approved": request(chat, "alice"),
    }
    ok(chat, "bob", f"visit review {refs['reviewed']}")
    ok(chat, "bob", f"visit changes {refs['changes']} more detail")
    ok(chat, "bob", f"visit review {refs['approved']}")
    ok(chat, "carol", f"visit approve {refs['approved']}")
    return refs


def test_an_admin_sees_new_requests(chat, waiting):
    assert listed(chat, "bob", "visit list pending") == [waiting["new"]]


def test_a_supervisor_sees_reviewed_requests(chat, waiting):
    assert listed(chat, "carol", "visit list pending") == [waiting["reviewed"]]
    assert listed(chat, "dan", "visit list 待办") == [waiting["reviewed"]]  # a manager too


def test_an_admin_and_supervisor_sees_both(chat, waiting):
    assert set(listed(chat, "amy", "visit list")) == {waiting["new"], waiting["reviewed"]}


def test_an_engineer_sees_own_open_requests(chat, waiting):
    assert set(listed(chat, "alice", "visit list pending")) == {waiting["new"], waiting["changes"]}
    assert listed(chat, "erin", "visit list todo") == [waiting["reviewed"]]
    assert listed(chat, "zhang", "visit list") == []
    assert chat.card("zhang", "visit list").body == "（没有）"


def test_nobody_is_asked_to_decide_on_their_own_request(chat):
    ref = request(chat, "amy", "company=Acme contact=1")
    assert listed(chat, "bob") == [ref]
    assert listed(chat, "amy") == [ref]  # as the requester, waiting
    ok(chat, "bob", f"visit review {ref}")
    assert listed(chat, "carol") == [ref]
    assert listed(chat, "bob") == []


def test_list_titles_count_the_rows(chat, waiting):
    assert title(chat, "amy", "visit list") == t(chat, "visit.list_pending", count=2)
    assert title(chat, "dan", "visit list") == t(chat, "visit.list_pending", "zh", count=1)


def test_list_rows_show_time_room_visitor_state_and_task(chat, waiting):
    body = chat.card("bob", "visit list").body
    assert body == (
        f"{waiting['new']}  2026-11-25 09:00  SH1/A101  Alice Engineer (Acme)  "
        f"{t(chat, 'state.requested')}  replace disk"
    )


# --- today, mine, onsite ---------------------------------------------------------------------


def test_today_lists_approved_and_onsite_visits_of_the_day(chat):
    wednesday = visit_in(chat, "approved")
    thursday = visit_in(chat, "approved", extra='at="2026-11-26 09:00"')
    visit_in(chat, "reviewed")  # not approved: not on today's list
    visit_in(chat, "cancelled")
    assert listed(chat, "bob", "visit list today") == []  # it is Monday
    chat.clock.set(sh(2026, 11, 25, 8, 0))
    assert listed(chat, "bob", "visit list today") == [wednesday]
    assert listed(chat, "carol", "visit list 今天") == [wednesday]
    ok(chat, "bob", f"visit checkin {wednesday} card=1 verified=yes briefing=yes")
    ok(chat, "bob", f"visit checkout {wednesday} tools=all card=yes")
    assert listed(chat, "alice", "visit list today") == [wednesday]  # still today's visit
    chat.clock.set(sh(2026, 11, 26, 0, 0))  # midnight in Shanghai, 16:00 UTC the day before
    assert listed(chat, "bob", "visit list today") == [thursday]
    assert title(chat, "bob", "visit list today") == t(chat, "visit.list_today", count=1)


def test_today_lists_a_visit_checked_in_today_whatever_its_planned_day(chat):
    early = visit_in(chat, "checked_in")  # planned for Wednesday, checked in on Monday
    assert listed(chat, "bob", "visit list onsite") == [early]
    assert listed(chat, "bob", "visit list today") == [early]
    chat.clock.set(sh(2026, 11, 24, 10, 0))  # Tuesday: neither planned nor checked in today
    assert listed(chat, "bob", "visit list today") == []


def test_mine_lists_every_own_request_latest_first(chat):
    first = visit_in(chat, "cancelled")
    second = request(chat, "alice", 'at="2026-11-27 09:00"')
    request(chat, "erin")
    assert listed(chat, "alice", "visit list mine") == [second, first]
    assert listed(chat, "alice", "visit list 我的") == [second, first]
    assert listed(chat, "bob", "visit list mine") == []


def test_onsite_lists_checked_in_visitors_only(chat):
    onsite = visit_in(chat, "checked_in")
    visit_in(chat, "checked_out")
    visit_in(chat, "approved")
    assert listed(chat, "erin", "visit list onsite") == [onsite]
    assert listed(chat, "dan", "visit list 在场") == [onsite]
    assert title(chat, "bob", "visit list onsite") == t(chat, "visit.list_onsite", count=1)


def test_unknown_list_name(chat):
    answer = refused(chat, "alice", "visit list everything")
    kinds = "pending, today, mine, onsite, all, week"
    assert answer == t(chat, "error.unknown_list", value="everything", kinds=kinds)
    assert refused(chat, "zhang", "访问 列表 一切").startswith("没有列表「一切」")


def test_long_lists_are_cut_with_a_way_to_narrow_them_down(chat):
    for _ in range(31):
        request(chat, "alice")
    card = chat.card("alice", "visit list mine")
    assert card.title == t(chat, "visit.list_mine", count=30)
    assert len([x for x in card.body.splitlines() if x.startswith("V-")]) == 30
    example = "site=SH1 from=11-01 to=11-23"
    assert card.body.splitlines()[-1] == t(chat, "visit.list_more", kind="mine", example=example)
    assert "site=" in card.body and "room=" in card.body and "state=" in card.body
    assert chat.card("zhang", "visit list all").body.splitlines()[-1] == t(
        chat, "visit.list_more", "zh", kind="all", example=example
    )
    # the example is a command that works
    assert listed(chat, "alice", f"visit list mine {example}") == []  # it is planned later
    assert len(listed(chat, "alice", "visit list mine site=SH1 from=2026-11-25")) == 30


# --- all, week, and filters ------------------------------------------------------------------


@pytest.fixture
def spread(chat) -> dict[str, str]:
    """Visits in three rooms over two weeks, in different states, by alice and erin."""
    return {
        "wed": visit_in(chat, "approved"),  # SH1/A101, Wednesday 2026-11-25 09:00
        "thu": request(chat, "erin", 'room=SH1/B201 at="2026-11-26 10:00"'),
        "sun": visit_in(chat, "checked_in", extra='room=BJ2/A101 at="2026-11-29 09:00"'),
        "mon": visit_in(chat, "approved", extra='at="2026-11-30 09:00"'),
        "gone": visit_in(chat, "cancelled", extra='at="2026-11-27 09:00"'),
    }


def test_all_lists_every_visit_latest_first(chat, spread):
    expected = [spread[k] for k in ("mon", "sun", "gone", "thu", "wed")]
    assert listed(chat, "bob", "visit list all") == expected
    assert listed(chat, "zhang", "访问 列表 全部") == expected
    assert title(chat, "bob", "visit list all") == t(chat, "visit.list_all", count=5)


def test_week_lists_this_weeks_visits_monday_to_sunday(chat, spread):
    assert listed(chat, "bob", "visit list week") == [spread["wed"], spread["sun"]]
    assert listed(chat, "dan", "访问 列表 本周") == [spread["wed"], spread["sun"]]
    assert title(chat, "bob", "visit list week") == t(chat, "visit.list_week", count=2)
    chat.clock.set(sh(2026, 11, 30, 0, 30))  # the next Monday
    assert listed(chat, "bob", "visit list week") == [spread["mon"]]


@pytest.mark.parametrize(
    ("options", "keys"),
    [
        ("site=SH1", ["mon", "gone", "thu", "wed"]),
        ("site=bj2", ["sun"]),
        ("站点=BJ2", ["sun"]),
        ("room=SH1/B201", ["thu"]),
        ("room=A101", ["mon", "sun", "gone", "wed"]),  # every site's A101
        ("机房=bj2/a101", ["sun"]),
        ("from=2026-11-26", ["mon", "sun", "gone", "thu"]),
        ("to=2026-11-26", ["thu", "wed"]),
        ("from=2026-11-26 to=2026-11-27", ["gone", "thu"]),
        ("从=2026-11-29 到=2026-11-29", ["sun"]),
        ("state=approved", ["mon", "wed"]),
        ("state=已批准", ["mon", "wed"]),
        ("状态=在场", ["sun"]),
        ('state="approved, checked in (on site)"', ["mon", "sun", "wed"]),
        ("state=待管理员审核", ["thu"]),
        ("state=cancelled site=SH1", ["gone"]),
    ],
)
def test_filters_narrow_a_list(chat, spread, options, keys):
    assert listed(chat, "bob", f"visit list all {options}") == [spread[k] for k in keys]


def test_filters_combine_with_every_list(chat, spread):
    assert listed(chat, "alice", "visit list mine site=BJ2") == [spread["sun"]]
    assert listed(chat, "erin", "visit list mine site=BJ2") == []
    assert listed(chat, "bob", "visit list week room=SH1/A101") == [spread["wed"]]
    assert listed(chat, "bob", "visit list onsite site=SH1") == []
    assert listed(chat, "bob", "visit list pending room=SH1/B201") == [spread["thu"]]
    assert listed(chat, "bob", "visit list site=SH1") == [spread["thu"]]  # pending by default


def test_a_list_date_without_a_year_means_the_most_recent_one(chat, spread):
    chat.clock.set(sh(2026, 12, 2, 10, 0))
    assert listed(chat, "bob", "visit list all from=11-29") == [spread["mon"], spread["sun"]]
    assert listed(chat, "bob", "visit list all to=11-25") == [spread["wed"]]


@pytest.mark.parametrize(
    ("options", "key", "params"),
    [
        ("site=XX", "error.unknown_site", {"value": "XX", "known": "BJ2, SH1"}),
        ("state=lost", "error.unknown_state", {"value": "lost"}),
        ("from=soon", "error.bad_date", {"value": "soon"}),
        ("from=2026-11-27 to=2026-11-26", "error.bad_range", {}),
    ],
)
def test_bad_filters_are_refused_clearly(chat, spread, options, key, params):
    answer = refused(chat, "bob", f"visit list all {options}")
    if key == "error.unknown_state":
        assert answer.startswith('No state "lost"') and "approved" in answer
    else:
        assert answer == t(chat, key, **params)


def test_an_unknown_room_filter_names_the_rooms(chat, spread):
    answer = refused(chat, "bob", "visit list all room=Z9")
    assert answer == t(chat, "error.unknown_room", value="Z9", known="BJ2/A101, SH1/A101, SH1/B201")


# --- export ----------------------------------------------------------------------------------


def export(chat, who: str, command: str) -> File:
    messages = chat.say(who, command)
    files = [m for m in messages if isinstance(m, File)]
    assert files, messages
    return files[0]


def rows_of(file: File) -> list[dict[str, str]]:
    """The rows, by column (the header row is in the reader's language)."""
    assert file.content.startswith("\ufeff")  # Excel needs the BOM to read UTF-8
    rows = list(csv.reader(io.StringIO(file.content[1:])))[1:]
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows]


@pytest.fixture
def log(chat) -> dict[str, str]:
    """Two visits on Wednesday (one checked out), one on Thursday, one never checked in."""
    wed1 = visit_in(chat, "approved", extra='tools="laptop, 螺丝刀" task="更换硬盘, 第二块"')
    wed2 = visit_in(chat, "approved", extra='at="2026-11-25 14:00"')
    thu = visit_in(chat, "approved", extra='at="2026-11-26 09:00"')
    visit_in(chat, "approved", extra='at="2026-11-25 16:00"')  # no-show
    chat.clock.set(sh(2026, 11, 25, 8, 50))
    ok(chat, "bob", f"visit checkin {wed1} card=A-07 verified=yes briefing=yes")
    chat.clock.set(sh(2026, 11, 25, 10, 40))
    ok(chat, "bob", f"visit checkout {wed1} tools=laptop card=no")
    chat.clock.set(sh(2026, 11, 25, 14, 5))
    ok(chat, "amy", f"visit checkin {wed2} card=A-08 verified=yes briefing=yes")
    chat.clock.set(sh(2026, 11, 26, 0, 10))  # just after midnight in Shanghai
    ok(chat, "bob", f"visit checkin {thu} card=A-09 verified=yes briefing=yes early=night-shift")
    return {"wed1": wed1, "wed2": wed2, "thu": thu}


def test_export_one_day_by_check_in_time(chat, log):
    file = export(chat, "bob", "visit export 2026-11-25")
    assert file.name == "visitor-log_2026-11-25_2026-11-25.csv"
    assert file.mime == "text/csv"
    assert file.caption == t(chat, "visit.export_caption", count=2, span="2026-11-25 – 2026-11-25")
    header = file.content[1:].splitlines()[0]
    assert header == (
        "Reference,State,Visitor,Company,Contact,ID type,ID last 4,Task,Room,Responsible person,"
        "Requester,Planned start,Duration (minutes),Checked in,Access card,Tools brought in,"
        "Checked out,Tools taken out,Tools missing,Card returned"
    )
    rows = rows_of(file)
    assert [r["ref"] for r in rows] == [log["wed1"], log["wed2"]]
    first = rows[0]
    assert first == {
        "ref": log["wed1"],
        "state": "checked_out",
        "visitor": "Alice Engineer",
        "company": "Acme",
        "contact": "13800000001",
        "id_type": "passport",
        "id_last4": "5432",
        "task": "更换硬盘, 第二块",
        "room": "SH1/A101",
        "responsible": "Alice Engineer",
        "requester": "Alice Engineer",
        "planned_start": "2026-11-25 09:00",
        "duration_minutes": "120",
        "checked_in_at": "2026-11-25 08:50",
        "access_card": "A-07",
        "tools_in": "laptop; 螺丝刀",
        "checked_out_at": "2026-11-25 10:40",
        "tools_out": "laptop",
        "tools_missing": "螺丝刀",
        "card_returned_at": "",
    }
    assert rows[1]["checked_out_at"] == "" and rows[1]["state"] == "checked_in"
    assert FULL_ID not in file.content


def test_export_a_range_and_the_day_boundary_is_shanghai_midnight(chat, log):
    rows = rows_of(export(chat, "carol", "visit export 2026-11-25 2026-11-26"))
    assert [r["ref"] for r in rows] == [log["wed1"], log["wed2"], log["thu"]]
    rows = rows_of(export(chat, "bob", "visit export 2026-11-26"))
    assert [r["ref"] for r in rows] == [log["thu"]]  # 00:10 Shanghai is still Wednesday in UTC


def test_export_of_a_day_without_visits_has_only_the_header(chat, log):
    file = export(chat, "bob", "visit export 2026-11-24")
    assert file.content.count("\n") == 1 and rows_of(file) == []
    assert file.caption.endswith("0 entries")


def test_export_with_relative_dates(chat, log):
    rows = rows_of(export(chat, "bob", "visit export today"))  # the clock is on Thursday now
    assert [r["ref"] for r in rows] == [log["thu"]]


def test_export_of_a_date_without_a_year_means_the_most_recent_one(chat):
    ref = visit_in(chat, "approved", extra='at="2026-12-01 10:00"')
    chat.clock.set(sh(2026, 12, 1, 9, 55))
    ok(chat, "bob", f"visit checkin {ref} card=A-07 verified=yes briefing=yes")
    chat.clock.set(sh(2026, 12, 2, 10, 0))
    file = export(chat, "bob", "visit export 12-01")
    assert file.name == "visitor-log_2026-12-01_2026-12-01.csv"
    assert [r["ref"] for r in rows_of(file)] == [ref]
    assert [r["ref"] for r in rows_of(export(chat, "bob", "visit export 11-30 12-02"))] == [ref]
    # a request looks ahead: the same words mean next year's 1 December
    later = request(chat, "alice", extra='at="12-01 10:00"')
    assert visit(chat, later).start_at == sh(2027, 12, 1, 10, 0)


def test_export_is_for_admins_and_supervisors(chat, log):
    assert refused(chat, "alice", "visit export 2026-11-25") == t(chat, "error.need_export_role")
    assert refused(chat, "zhang", "访问 导出 2026-11-25").startswith("导出访客登记簿需要")
    export(chat, "dan", "visit export 2026-11-25")  # a manager is a supervisor


def test_export_argument_errors(chat, log):
    assert refused(chat, "bob", "visit export 2026-11-26 2026-11-25") == t(chat, "error.bad_range")
    assert refused(chat, "bob", "visit export soon") == t(chat, "error.bad_date", value="soon")
    # the last day the calendar holds has no next day to end the range on
    answer = refused(chat, "bob", "visit export 2026-11-01 9999-12-31")
    assert answer == t(chat, "error.bad_date", value="9999-12-31")
    missing = t(chat, "error.missing_arg", name="from", usage="visit.export")
    assert refused(chat, "bob", "visit export") == missing


def test_a_supervisor_is_not_asked_to_approve_what_she_reviewed(chat):
    ref = request(chat, "alice")
    ok(chat, "amy", f"visit review {ref}")  # amy, admin and supervisor, may not also approve
    assert listed(chat, "amy") == []
    assert listed(chat, "carol") == [ref]
