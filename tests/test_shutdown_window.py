"""Around the window, on the injectable clock: the approval notice with its .ics, reminders 24 h
and 1 h before, the start, begin (the state recorded), extend, complete, the overrun and
"never begun" alerts, and cancel. State transitions and timers: every backend.

The window is Sunday 2026-11-29 02:00-06:00; alice requested it with zhang as a second
engineer and bob to notify; carol approved it.
"""

from tests.shutdowns_kit import approved as approved_request
from tests.shutdowns_kit import (
    audit_of,
    deadlines,
    new_outbox,
    ok,
    pending,
    person_id,
    refused,
    request,
    sh,
    shutdown,
    sweep_at,
    t,
    texts_to,
)

REMIND, START, OVERRUN = "shutdown.remind", "shutdown.start", "shutdown.overrun"
EVERYONE = {"alice", "zhang", "carol", "bob", "dan", "erin"}  # engineers, approver, notify, owners


def approved(chat) -> str:
    return approved_request(chat, extra="engineers=zhang notify=bob")


def begun(chat) -> str:
    ref = approved(chat)
    sweep_at(chat, 2026, 11, 29, 2, 0)  # the reminders and the start fire
    ok(chat, "zhang", f"shutdown begin {ref} state=running")
    return ref


def test_approval_tells_owners_channels_and_the_notify_list_with_an_ics(chat):
    ref = request(chat, extra="engineers=zhang notify=bob")
    since = len(chat.outbox())
    ok(chat, "carol", f"shutdown approve {ref}")
    rows = new_outbox(chat, since)
    notices = {r.target for r in rows if r.payload["kind"] == "text"}
    assert notices == EVERYONE - {"carol"} | {"#erp"}  # never the one who approved
    files = [r for r in rows if r.payload["kind"] == "file"]
    assert {r.target for r in files} == EVERYONE - {"carol"} | {"#erp"}  # as the notice says
    assert all(r.payload["name"] == f"{ref}.ics" for r in files)
    assert all("BEGIN:VEVENT" in r.payload["content"] for r in files)
    [to_dan] = texts_to([r for r in rows if r.payload["kind"] == "text"], "dan")
    assert to_dan.startswith(f"✅ 停机申请 {ref} 已批准：erp-db")
    [to_channel] = texts_to([r for r in rows if r.payload["kind"] == "text"], "#erp")
    assert f"Shutdown {ref} is approved" in to_channel and "2026-11-29 02:00 – 06:00" in to_channel


def test_approval_arms_the_reminders_the_start_and_the_overrun(chat):
    ref = approved(chat)
    assert pending(chat, ref) == [
        (REMIND, sh(2026, 11, 28, 2, 0)),
        (REMIND, sh(2026, 11, 29, 1, 0)),
        (START, sh(2026, 11, 29, 2, 0)),
        (OVERRUN, sh(2026, 11, 29, 6, 0)),
    ]


def test_reminders_fire_once_each_to_everyone_concerned(chat):
    ref = approved(chat)
    assert sweep_at(chat, 2026, 11, 28, 1, 59) == []
    rows = sweep_at(chat, 2026, 11, 28, 2, 0)
    assert {r.target for r in rows} == EVERYONE
    assert texts_to(rows, "alice") == [
        f"⏰ Shutdown {ref} begins in 24 h: erp-db (and erp, crm, which depend on it), "
        "2026-11-29 02:00 – 06:00."
    ]
    assert texts_to(rows, "zhang")[0].startswith(f"⏰ 停机 {ref} 将在 24 小时后开始")
    assert sweep_at(chat, 2026, 11, 28, 2, 1) == []
    assert sweep_at(chat, 2026, 11, 28, 20, 0) == []
    rows = sweep_at(chat, 2026, 11, 29, 1, 0)
    assert {r.target for r in rows} == EVERYONE
    assert "begins in 1 h" in texts_to(rows, "alice")[0]
    assert sweep_at(chat, 2026, 11, 29, 1, 30) == []


def test_reminder_hours_are_configurable_and_none_is_armed_in_the_past(chat, org):
    org.shutdowns.reminders_hours = [200, 48, 2]
    ref = approved(chat)
    # 200 h before the start was already past when it was approved
    reminders = [(kind, due) for kind, due in pending(chat, ref) if kind == REMIND]
    assert reminders == [(REMIND, sh(2026, 11, 27, 2, 0)), (REMIND, sh(2026, 11, 29, 0, 0))]


def test_the_start_asks_the_engineers_to_record_the_state_and_begin(chat):
    ref = approved(chat)
    sweep_at(chat, 2026, 11, 29, 1, 0)
    rows = sweep_at(chat, 2026, 11, 29, 2, 0)
    assert {r.target for r in rows} == {"alice", "zhang"}
    [text] = texts_to(rows, "alice")
    assert f"The window of {ref} starts now" in text and f"shutdown begin {ref} state=" in text
    assert sweep_at(chat, 2026, 11, 29, 2, 5) == []


def test_begin_records_the_state_numbers_as_numbers(chat):
    ref = approved(chat)
    chat.clock.set(sh(2026, 11, 29, 1, 50))  # from 15 minutes before
    answer = ok(chat, "zhang", f"shutdown begin {ref} 状态=运行中 温度=22.5 湿度=45% load=0.3")
    assert answer.startswith(t(chat, "shutdown.done_begun", "zh", ref=ref))
    row = shutdown(chat, ref)
    assert row.state == "in_progress" and row.begun_at == sh(2026, 11, 29, 1, 50)
    assert row.state_before == {
        "state": "运行中",
        "temperature": 22.5,
        "humidity": 45.0,
        "load": 0.3,
    }
    assert isinstance(row.state_before["temperature"], float)
    entry = audit_of(chat, ref)[-1]
    assert entry.action == "shutdown.begin" and entry.details == row.state_before


def test_begin_is_refused_too_early_without_a_state_or_by_someone_else(chat):
    ref = approved(chat)
    chat.clock.set(sh(2026, 11, 29, 1, 44))
    assert refused(chat, "alice", f"shutdown begin {ref} state=up") == t(
        chat, "error.shutdown_too_early", start="2026-11-29 02:00"
    )
    chat.clock.set(sh(2026, 11, 29, 2, 0))
    assert refused(chat, "alice", f"shutdown begin {ref}") == t(
        chat, "error.shutdown_state_needed", ref=ref
    )
    assert refused(chat, "erin", f"shutdown begin {ref} state=up") == t(
        chat, "error.shutdown_not_engineer", ref=ref
    )
    ok(chat, "bob", f"shutdown begin {ref} state=up")  # an admin may


def test_complete_before_begin_is_refused(chat):
    ref = approved(chat)
    chat.clock.set(sh(2026, 11, 29, 2, 30))
    answer = refused(chat, "alice", f"shutdown complete {ref} services=yes business=dan")
    assert answer.startswith("Carol Supervisor already approved") and "Complete" in answer
    zh = refused(chat, "zhang", f"shutdown complete {ref} services=yes business=dan")
    assert "不能执行「完成」" in zh


def test_extend_needs_a_supervisor_then_moves_the_end_and_the_overrun_timer(chat):
    ref = begun(chat)
    answer = ok(chat, "zhang", f'shutdown extend {ref} to="2026-11-29 07:30"')
    assert answer.startswith(t(chat, "shutdown.extension_asked", "zh", ref=ref))
    assert shutdown(chat, ref).extend_to == sh(2026, 11, 29, 7, 30)
    assert refused(chat, "alice", f"shutdown approve {ref}") == t(chat, "error.shutdown_own")
    assert refused(chat, "erin", f"shutdown approve {ref}").startswith("This needs")
    since = len(chat.outbox())
    ok(chat, "carol", f"shutdown approve {ref} ok, 90 more minutes")
    row = shutdown(chat, ref)
    assert (row.state, row.ends_at, row.extend_to) == ("in_progress", sh(2026, 11, 29, 7, 30), None)
    assert row.planned_end_at == sh(2026, 11, 29, 6, 0) and row.sequence == 1
    assert pending(chat, ref) == [(OVERRUN, sh(2026, 11, 29, 7, 30))]
    told = {r.target for r in new_outbox(chat, since) if r.payload["kind"] == "text"}
    assert told >= {"alice", "zhang", "dan", "erin", "#erp"}
    assert sweep_at(chat, 2026, 11, 29, 6, 0) == []  # the old end passes quietly


def test_extend_takes_a_time_of_day_on_the_windows_last_day(chat):
    ref = begun(chat)
    assert refused(chat, "alice", f"shutdown extend {ref} to=05:30") == t(
        chat, "error.shutdown_extend_earlier", end="2026-11-29 06:00"
    )
    ok(chat, "alice", f'shutdown extend {ref} to="06:30"')
    assert shutdown(chat, ref).extend_to == sh(2026, 11, 29, 6, 30)


def test_an_extension_refused_keeps_the_end(chat):
    ref = begun(chat)
    ok(chat, "zhang", f'shutdown extend {ref} to="2026-11-29 08:00"')
    ok(chat, "carol", f'shutdown reject {ref} reason="finish on time"')
    row = shutdown(chat, ref)
    assert (row.state, row.ends_at, row.extend_to) == ("in_progress", sh(2026, 11, 29, 6, 0), None)
    assert pending(chat, ref) == [(OVERRUN, sh(2026, 11, 29, 6, 0))]


def test_an_extension_must_end_later_and_within_the_maximum(chat):
    ref = begun(chat)
    assert refused(chat, "zhang", f'shutdown extend {ref} to="2026-11-29 05:00"') == t(
        chat, "error.shutdown_extend_earlier", "zh", end="2026-11-29 06:00"
    )
    assert refused(chat, "zhang", f'shutdown extend {ref} to="2026-11-30 05:00"') == t(
        chat, "error.shutdown_too_long", "zh", hours=24
    )


def test_an_overrun_alerts_requester_approvers_and_owners_once(chat):
    ref = begun(chat)
    assert sweep_at(chat, 2026, 11, 29, 5, 59) == []
    rows = sweep_at(chat, 2026, 11, 29, 6, 0)
    assert {r.target for r in rows} == EVERYONE
    assert all(r.payload["tone"] == "warning" for r in rows)
    assert texts_to(rows, "carol")[0].startswith(f"🚨 The window of {ref} has ended")
    assert sweep_at(chat, 2026, 11, 29, 6, 1) == []
    assert sweep_at(chat, 2026, 11, 30, 9, 0) == []


def test_a_window_never_begun_tells_the_engineers(chat):
    ref = approved(chat)
    sweep_at(chat, 2026, 11, 29, 2, 0)
    rows = sweep_at(chat, 2026, 11, 29, 6, 0)
    assert {r.target for r in rows} == {"alice", "zhang"}
    assert texts_to(rows, "alice")[0] == (
        f"The window of {ref} has ended (2026-11-29 02:00 – 06:00) and the shutdown never began. "
        "Cancel it, or file a new request for another window."
    )


def test_complete_records_the_verification_and_tells_everyone(chat):
    ref = begun(chat)
    chat.clock.set(sh(2026, 11, 29, 5, 30))
    assert refused(chat, "zhang", f"shutdown complete {ref} services=yes") == t(
        chat, "error.shutdown_verification", "zh", ref=ref
    )
    since = len(chat.outbox())
    answer = ok(chat, "zhang", f'shutdown complete {ref} services=yes business=dan note="ERP ok"')
    assert answer.startswith(t(chat, "shutdown.done_completed", "zh", ref=ref))
    row = shutdown(chat, ref)
    assert row.state == "completed" and row.completed_at == sh(2026, 11, 29, 5, 30)
    assert row.verification == {"services": True, "business": "dan", "note": "ERP ok"}
    told = {r.target for r in new_outbox(chat, since) if r.payload["kind"] == "text"}
    assert told == EVERYONE - {"zhang"} | {"#erp"}
    assert pending(chat, ref) == []
    assert sweep_at(chat, 2026, 11, 29, 7, 0) == []


def test_cancel_of_an_approved_window_tells_everyone_and_disarms_the_timers(chat):
    ref = approved(chat)
    since = len(chat.outbox())
    ok(chat, "alice", f"shutdown cancel {ref} vendor postponed")
    told = {r.target for r in new_outbox(chat, since) if r.payload["kind"] == "text"}
    assert told == EVERYONE - {"alice"} | {"#erp"}
    assert {d.status for d in deadlines(chat, ref)} == {"cancelled"}
    for hour in (2, 3, 6, 12):
        assert sweep_at(chat, 2026, 11, 29, hour, 0) == []


def test_cancel_of_a_request_not_yet_approved_tells_no_owner(chat):
    ref = request(chat)
    since = len(chat.outbox())
    ok(chat, "alice", f"shutdown cancel {ref}")
    assert [r for r in new_outbox(chat, since) if r.payload["kind"] == "text"] == []
    assert deadlines(chat, ref) == []


def test_extend_of_a_cancelled_shutdown_is_refused(chat):
    ref = approved(chat)
    ok(chat, "alice", f"shutdown cancel {ref}")
    assert refused(chat, "alice", f'shutdown extend {ref} to="2026-11-29 08:00"') == t(
        chat, "error.shutdown_bad_state", action="extend", state="cancelled", ref=ref,
        did="cancel", by="Alice Engineer", you=True,
    )  # fmt: skip
    zh = refused(chat, "zhang", f'shutdown extend {ref} to="2026-11-29 08:00"')
    assert zh == "Alice Engineer 已取消 S-1，当前状态为「已取消」，不能执行「申请延长」。"
    assert audit_of(chat, ref)[-1].actor_id == person_id(chat, "alice")
