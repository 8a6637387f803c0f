"""What a shutdown card warns of: another booked window at the same time on the same system, on
one it depends on or on one depending on it (refused when the organisation says so); a window
outside a system's agreed maintenance windows; an engineer booked elsewhere at that time."""

from tests.conftest import BACKEND_AGNOSTIC
from tests.shutdowns_kit import DETAILS, ok, refused, request, t

pytestmark = BACKEND_AGNOSTIC


def window(systems: str, start: str = "02:00", end: str = "06:00", day: str = "2026-11-29") -> str:
    return f'shutdown request systems={systems} start="{day} {start}" end="{day} {end}" {DETAILS}'


def clash(ref: str) -> str:
    return f"⚠ Clashes with {ref} "


def test_an_overlapping_window_on_the_same_system_is_flagged_on_both_cards(chat):
    request(chat, text=window("erp-db"))
    answer = ok(chat, "erin", window("erp-db", "05:00", "07:00"))
    assert clash("S-1") in answer
    assert clash("S-2") in ok(chat, "alice", "shutdown show S-1")
    zh = ok(chat, "dan", "shutdown show S-2")
    assert "⚠ 与 S-1 冲突" in zh


def test_a_window_on_a_system_it_depends_on_is_flagged(chat):
    request(chat, text=window("erp-db"))
    assert clash("S-1") in ok(chat, "erin", window("crm", "03:00", "04:00"))  # crm -> erp -> erp-db


def test_a_window_on_a_system_depending_on_it_is_flagged(chat):
    request(chat, text=window("crm"))
    assert clash("S-1") in ok(chat, "erin", window("erp-db"))


def test_an_approved_window_clashes_too_and_a_cancelled_one_no_longer(chat):
    request(chat, text=window("erp"))
    ok(chat, "carol", "shutdown approve S-1")
    assert clash("S-1") in ok(chat, "erin", window("erp"))
    ok(chat, "alice", "shutdown cancel S-1")
    assert clash("S-1") not in ok(chat, "erin", "shutdown show S-2")
    ok(chat, "carol", 'shutdown reject S-2 reason="no"')
    assert clash("S-2") not in ok(chat, "erin", window("erp"))


def test_adjacent_and_unrelated_windows_are_not_flagged(chat):
    request(chat, text=window("erp-db"))
    adjacent = ok(chat, "erin", window("erp", "06:00", "08:00"))
    assert "Clashes" not in adjacent
    other_site = ok(chat, "erin", window("mail"))  # BJ2, nothing to do with erp
    assert "Clashes" not in other_site
    later = ok(chat, "erin", window("erp-db", day="2026-12-06"))
    assert "Clashes" not in later


def test_clashing_windows_are_refused_when_the_organisation_says_so(chat, org):
    org.shutdowns.refuse_conflicts = True
    request(chat, text=window("erp"))
    answer = refused(chat, "erin", window("erp-db", "05:00", "07:00"))
    assert answer == t(chat, "error.shutdown_conflict", refs="S-1")
    zh = refused(chat, "zhang", window("crm"))
    assert zh == t(chat, "error.shutdown_conflict", "zh", refs="S-1")
    request(chat, "erin", text=window("mail"))  # unrelated: filed
    request(chat, "erin", text=window("erp", "06:00", "07:00"))  # adjacent: filed


def test_a_window_outside_the_systems_agreed_windows_is_flagged(chat):
    outside = "⚠ Outside erp-db's agreed maintenance windows (sun 02:00-06:00)"
    inside = ok(chat, "alice", window("erp-db"))  # Sunday 02:00-06:00 exactly
    assert "Outside" not in inside
    assert outside in ok(chat, "alice", window("erp-db", day="2026-11-28"))  # a Saturday
    assert outside in ok(chat, "alice", window("erp-db", "01:00", "03:00"))  # starts too early
    assert outside in ok(chat, "alice", window("erp-db", "05:00", "07:00"))  # ends too late
    # erp agreed no window: any time will do; only erp-db, of the two named, is flagged
    assert "Outside" not in ok(chat, "alice", window("erp", day="2026-11-28"))
    both = ok(chat, "alice", window("erp,erp-db", day="2026-11-28"))
    assert outside in both and "Outside erp's" not in both
    zh = ok(chat, "dan", "shutdown show S-2")
    assert "⚠ 不在 erp-db 约定的维护窗口内（sun 02:00-06:00）" in zh


def test_an_engineer_booked_in_another_window_is_flagged(chat):
    request(chat, "alice", text=window("erp-db"))
    answer = ok(chat, "erin", f"{window('mail', '05:00', '07:00')} engineers=alice")
    assert "⚠ Alice Engineer is booked at that time too (S-1)" in answer
    assert "Erin Engineer is booked" not in answer
    apart = ok(chat, "erin", f"{window('mail', '07:00', '08:00')} engineers=alice")
    assert "is booked" not in apart


def test_an_engineer_on_an_approved_visit_is_flagged(chat):
    visit = (
        'visit request at="2026-11-29 03:00" duration=2h room=SH1/A101 task=disk '
        "id=passport:E1234567"
    )
    ok(chat, "alice", visit)  # V-1
    ok(chat, "alice", visit)  # V-2, stays requested
    ok(chat, "bob", "visit approve V-1")
    ok(chat, "carol", "visit approve V-1")
    answer = ok(chat, "alice", window("mail", "04:00", "04:30"))
    assert "⚠ Alice Engineer is booked at that time too (V-1)" in answer
    assert "(V-2)" not in answer  # a request not approved holds no time
    assert "is booked" not in ok(chat, "erin", window("mail", "05:00", "06:00"))
    assert "is booked" not in ok(chat, "alice", window("mail", "05:00", "06:00"))  # V-1 ended
