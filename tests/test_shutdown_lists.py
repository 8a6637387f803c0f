"""Shutdown lists (upcoming, week, mine, pending), Home's shutdown sections, and ``audit S-n``."""

from tests.conftest import BACKEND_AGNOSTIC
from tests.shutdowns_kit import DETAILS, ok, refused, request, sh, sweep_at, t

pytestmark = BACKEND_AGNOSTIC


def window(systems: str, day: str, start: str = "02:00", end: str = "06:00") -> str:
    return f'shutdown request systems={systems} start="{day} {start}" end="{day} {end}" {DETAILS}'


def refs(answer: str) -> list[str]:
    return [line.split(" · ")[0] for line in answer.splitlines() if " · " in line]


def fill(chat) -> None:
    """S-1 approved this Sunday (alice's; zhang works in it too), S-2 pending next Sunday
    (erin's), S-3 cancelled (alice's), S-4 approved the Sunday after (alice's)."""
    request(chat, "alice", text=f"{window('erp-db', '2026-11-29')} engineers=zhang")
    ok(chat, "carol", "shutdown approve S-1")
    request(chat, "erin", text=window("erp", "2026-12-06"))
    request(chat, "alice", text=window("mail", "2026-12-06"))
    ok(chat, "alice", "shutdown cancel S-3")
    request(chat, "alice", text=window("crm", "2026-12-13"))
    ok(chat, "amy", "shutdown approve S-4")


def test_upcoming_lists_booked_windows_in_time_order(chat):
    fill(chat)
    answer = ok(chat, "bob", "shutdown list upcoming")
    assert answer.splitlines()[0] == t(chat, "shutdown.list_upcoming", count=3)
    assert refs(answer) == ["S-1", "S-2", "S-4"]
    assert "S-1 · 2026-11-29 02:00 – 06:00 · erp-db · approved" in answer
    assert "S-2 · 2026-12-06 02:00 – 06:00 · erp · awaiting approval" in answer
    assert refs(ok(chat, "bob", "shutdown list")) == ["S-1", "S-2", "S-4"]  # the default
    assert refs(ok(chat, "bob", "shutdown list upcoming from=2026-12-01")) == ["S-2", "S-4"]


def test_week_is_monday_to_sunday_and_keeps_completed_windows(chat):
    fill(chat)
    assert refs(ok(chat, "bob", "shutdown list week")) == ["S-1"]
    sweep_at(chat, 2026, 11, 29, 2, 0)
    ok(chat, "zhang", "shutdown begin S-1 state=up")
    ok(chat, "zhang", "shutdown complete S-1 services=yes business=dan")
    zh = ok(chat, "dan", "停机 列表 本周")
    assert zh.splitlines()[0] == t(chat, "shutdown.list_week", "zh", count=1)
    assert (
        "S-1 · 2026-11-29 02:00 – 06:00 · erp-db · " + t(chat, "state.shutdown_completed", "zh")
        in zh
    )
    assert refs(ok(chat, "bob", "shutdown list upcoming")) == ["S-2", "S-4"]  # done: not to come
    chat.clock.set(sh(2026, 11, 30, 10, 0))  # Monday: the next week
    assert refs(ok(chat, "bob", "shutdown list week")) == ["S-2"]


def test_mine_is_what_i_requested_or_work_in_and_is_still_open(chat):
    fill(chat)
    assert refs(ok(chat, "alice", "shutdown list mine")) == ["S-1", "S-4"]
    assert refs(ok(chat, "zhang", "shutdown list mine")) == ["S-1"]
    assert refs(ok(chat, "erin", "shutdown list mine")) == ["S-2"]
    assert refs(ok(chat, "bob", "shutdown list mine")) == []


def test_pending_is_what_waits_for_my_decision(chat, org):
    fill(chat)
    assert refs(ok(chat, "carol", "shutdown list pending")) == ["S-2"]
    assert refs(ok(chat, "bob", "shutdown list pending")) == []  # an admin approves nothing
    assert refs(ok(chat, "erin", "shutdown list pending")) == []  # her own waits for others
    ok(chat, "carol", 'shutdown changes S-2 note="a Saturday please"')
    assert refs(ok(chat, "carol", "shutdown list pending")) == []
    assert refs(ok(chat, "erin", "shutdown list pending")) == ["S-2"]  # hers to change
    # an extension asked for waits for a supervisor
    sweep_at(chat, 2026, 11, 29, 2, 0)
    ok(chat, "zhang", "shutdown begin S-1 state=up")
    ok(chat, "zhang", "shutdown extend S-1 to=07:00")
    assert refs(ok(chat, "amy", "shutdown list pending")) == ["S-1"]
    assert refs(ok(chat, "alice", "shutdown list pending")) == []  # not her own extension


def test_pending_follows_the_chain_to_each_owner(chat, org):
    org.shutdowns.approval = ["supervisor", "owners"]
    request(chat, "alice", text=window("erp-db", "2026-11-29"))
    assert refs(ok(chat, "dan", "shutdown list pending")) == ["S-1"]  # supervisor level too
    ok(chat, "carol", "shutdown approve S-1")
    assert refs(ok(chat, "carol", "shutdown list pending")) == []
    assert refs(ok(chat, "erin", "shutdown list pending")) == []  # erp's step comes after
    assert refs(ok(chat, "dan", "shutdown list pending")) == ["S-1"]
    ok(chat, "dan", "shutdown approve S-1")
    assert refs(ok(chat, "erin", "shutdown list pending")) == ["S-1"]


def test_home_shows_my_pending_approvals_and_my_upcoming_windows(chat):
    fill(chat)
    carol = ok(chat, "carol", "home")
    assert t(chat, "shutdown.list_pending", count=1) in carol
    assert "S-2 · 2026-12-06 02:00 – 06:00 · erp · awaiting approval" in carol
    alice = ok(chat, "alice", "home")
    assert t(chat, "shutdown.list_mine", count=2) in alice
    assert "S-1 · 2026-11-29" in alice and "S-4 · 2026-12-13" in alice
    zhang = ok(chat, "zhang", "首页")
    assert t(chat, "shutdown.list_mine", "zh", count=1) in zhang and "S-1 · " in zhang


def test_audit_shows_the_whole_history(chat):
    request(chat, text=window("erp-db", "2026-11-29"))
    ok(chat, "carol", 'shutdown changes S-1 note="add the rollback time"')
    ok(chat, "alice", 'shutdown edit S-1 rollback="reflash, 20 minutes"')
    ok(chat, "carol", "shutdown approve S-1 fine")
    sweep_at(chat, 2026, 11, 29, 2, 0)
    ok(chat, "alice", "shutdown begin S-1 state=up temperature=21")
    ok(chat, "alice", "shutdown extend S-1 to=06:30")
    ok(chat, "amy", "shutdown approve S-1")
    ok(chat, "alice", "shutdown complete S-1 services=yes business=dan")
    answer = ok(chat, "bob", "audit S-1")
    lines = [line for line in answer.splitlines() if line.startswith("2026-")]
    words = ["request", "changes", "edit", "approve", "begin", "extend", "approve", "complete"]
    assert len(lines) == len(words)
    for line, word in zip(lines, words, strict=True):
        assert t(chat, f"audit.shutdown.{word}") in line, (word, line)
    assert "Carol Supervisor (carol)" in lines[1] and '"add the rollback time"' in lines[1]
    assert '"fine"' in lines[3] and "Amy Admin (amy)" in lines[6]
    assert lines[7].startswith("2026-11-29 02:00  Alice Engineer (alice)")
    zh = ok(chat, "dan", "审计 S-1")
    assert t(chat, "audit.shutdown.complete", "zh") in zh


def test_audit_of_an_unknown_shutdown_is_refused(chat):
    assert refused(chat, "bob", "audit S-9") == t(chat, "error.not_found", ref="S-9")
