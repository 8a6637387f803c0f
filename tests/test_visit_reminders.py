"""Visit timers on the injectable clock: overrun without check-out, no-show, and disarming.

Alice's visit is Wednesday 2026-11-25 09:00 for 2 h; the grace period is 30 minutes, so the
overrun reminder is due at 11:30 Shanghai time unless a late check-in moves it.
"""

from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    deadlines,
    new_outbox,
    ok,
    request,
    sh,
    visit_in,
)

pytestmark = BACKEND_AGNOSTIC

CHECKIN = "visit checkin {ref} card=A-07 verified=yes briefing=yes"


def sweep_at(chat, *wall_time: int) -> list:
    """Move the clock to a Shanghai wall time, sweep, and return the notices it queued."""
    since = len(chat.outbox())
    chat.clock.set(sh(*wall_time))
    chat.core.sweep_deadlines()
    return new_outbox(chat, since)


def test_approval_arms_the_overrun_timer_at_planned_end_plus_grace(chat):
    ref = visit_in(chat, "approved")
    [timer] = deadlines(chat, ref)
    assert (timer.kind, timer.status) == ("visit.overrun", "pending")
    assert timer.due_at == sh(2026, 11, 25, 11, 30)


def test_overrun_pings_requester_and_admins_exactly_once(chat):
    ref = visit_in(chat, "approved")
    chat.clock.set(sh(2026, 11, 25, 8, 55))
    ok(chat, "bob", CHECKIN.format(ref=ref))
    assert sweep_at(chat, 2026, 11, 25, 11, 29) == []
    rows = sweep_at(chat, 2026, 11, 25, 11, 31)
    assert sorted(r.target for r in rows) == ["#admin", "alice", "amy", "bob"]
    text = rows[0].payload["text"]
    assert text.startswith(f"⏰ {ref}: Alice Engineer (Acme) was due to finish")
    assert "(2026-11-25 09:00 + 2 h)" in text and "SH1/A101" in text
    assert f"/maint visit checkout {ref}" in text
    # a second and third sweep fire nothing more
    assert sweep_at(chat, 2026, 11, 25, 11, 32) == []
    assert sweep_at(chat, 2026, 11, 26, 9, 0) == []
    assert [d.status for d in deadlines(chat, ref)] == ["cancelled", "fired"]


def test_overrun_reminder_in_chinese_for_a_chinese_requester(chat):
    ref = request(chat, "zhang")
    ok(chat, "bob", f"visit approve {ref}")
    ok(chat, "carol", f"visit approve {ref}")
    chat.clock.set(sh(2026, 11, 25, 8, 55))
    ok(chat, "bob", CHECKIN.format(ref=ref))
    rows = sweep_at(chat, 2026, 11, 25, 11, 31)
    [to_zhang] = [r for r in rows if r.target == "zhang"]
    assert to_zhang.locale == "zh"
    assert "原定 2026-11-25 09:00 开始、用时 2 小时，现已超时仍未签出" in to_zhang.payload["text"]


def test_no_overrun_ping_after_a_timely_check_out(chat):
    ref = visit_in(chat, "approved")
    chat.clock.set(sh(2026, 11, 25, 8, 55))
    ok(chat, "bob", CHECKIN.format(ref=ref))
    chat.clock.set(sh(2026, 11, 25, 10, 50))
    ok(chat, "bob", f"visit checkout {ref} tools=all card=yes")
    assert sweep_at(chat, 2026, 11, 25, 12, 0) == []
    assert {d.status for d in deadlines(chat, ref)} == {"cancelled"}


def test_no_show_pings_when_an_approved_visit_is_never_checked_in(chat):
    ref = visit_in(chat, "approved")
    assert sweep_at(chat, 2026, 11, 25, 11, 29) == []
    rows = sweep_at(chat, 2026, 11, 25, 11, 30)
    assert sorted(r.target for r in rows) == ["#admin", "alice", "amy", "bob"]
    text = rows[0].payload["text"]
    assert f"{ref}: the approved visit (2026-11-25 09:00, Alice Engineer)" in text
    assert "without a check-in" in text and f"/maint visit cancel {ref}" in text
    assert sweep_at(chat, 2026, 11, 25, 13, 0) == []


def test_cancel_disarms_the_timers(chat):
    ref = visit_in(chat, "approved")
    ok(chat, "alice", f"visit cancel {ref} not needed")
    assert {d.status for d in deadlines(chat, ref)} == {"cancelled"}
    assert sweep_at(chat, 2026, 11, 26, 0, 0) == []


def test_a_late_check_in_moves_the_overrun_timer(chat):
    ref = visit_in(chat, "approved")
    chat.clock.set(sh(2026, 11, 25, 10, 0))  # an hour late
    ok(chat, "bob", CHECKIN.format(ref=ref))
    timers = deadlines(chat, ref)
    assert [(d.status, d.due_at) for d in timers] == [
        ("cancelled", sh(2026, 11, 25, 11, 30)),
        ("pending", sh(2026, 11, 25, 12, 30)),  # check-in + 2 h + 30 min grace
    ]
    assert sweep_at(chat, 2026, 11, 25, 11, 31) == []  # the old due time passes quietly
    rows = sweep_at(chat, 2026, 11, 25, 12, 31)
    assert len([r for r in rows if r.target == "alice"]) == 1


def test_an_early_check_in_keeps_the_planned_end(chat):
    ref = visit_in(chat, "approved")
    chat.clock.set(sh(2026, 11, 25, 8, 45))
    ok(chat, "bob", CHECKIN.format(ref=ref))
    pending = [d for d in deadlines(chat, ref) if d.status == "pending"]
    assert [d.due_at for d in pending] == [sh(2026, 11, 25, 11, 30)]


def test_rejected_and_changed_requests_never_arm_timers(chat):
    visit_in(chat, "rejected")
    visit_in(chat, "changes_requested")
    visit_in(chat, "reviewed")
    assert deadlines(chat) == []


def test_timers_missed_while_the_bot_was_down_fire_on_the_next_sweep(chat):
    ref = visit_in(chat, "approved")
    rows = sweep_at(chat, 2026, 11, 28, 9, 0)  # days later
    assert [r.target for r in rows if r.target == "alice"] == ["alice"]
    assert "without a check-in" in rows[0].payload["text"]
    assert deadlines(chat, ref)[-1].fired_at == sh(2026, 11, 28, 9, 0)


def test_several_visits_fire_independently(chat):
    first = visit_in(chat, "approved")
    second = visit_in(chat, "approved", extra="duration=4h")
    chat.clock.set(sh(2026, 11, 25, 8, 55))
    ok(chat, "bob", CHECKIN.format(ref=first))
    ok(chat, "bob", CHECKIN.replace("A-07", "A-08").format(ref=second))
    rows = sweep_at(chat, 2026, 11, 25, 11, 31)
    assert {r.subject for r in rows} == {first}
    rows = sweep_at(chat, 2026, 11, 25, 13, 31)
    assert {r.subject for r in rows} == {second}
    assert sweep_at(chat, 2026, 11, 25, 23, 0) == []
