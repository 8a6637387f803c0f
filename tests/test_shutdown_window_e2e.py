"""Around a shutdown window, end to end in Slack on a fake clock: the served app (in this process,
so its deadline sweep reads the test's clock) reminds 24 h and 1 h before, asks the engineer to
begin at the start, records the state at `shutdown begin` and the verification at `shutdown
complete`, and tells everyone who heard of the approval; a window left running is an overrun.

The organisation (tests/org.yaml): erp-db <- erp <- crm at SH1, erp's channel CERP; alice
(UALICE) requests, carol (UCAROL) approves, bob (UBOB) is named to be told.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.clock import FakeClock
from tests.chat import catalog
from tests.fake_slack import FakeSlack, dm_channel_id
from tests.slack_server import mentions, served_in_process, texts, wait_updated

pytestmark = pytest.mark.slow

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
SHUTDOWNS, ERP_CHANNEL = "CSHUTDOWNS", "CERP"
TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=TZ)  # no holiday near: the lead time is 3 days


@pytest.fixture(scope="module")
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def clock():
    return FakeClock(MONDAY)


@pytest.fixture(scope="module")
def bot(slack, clock, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('window') / 'bot.sqlite3'}"
    with served_in_process(slack, url, clock=clock, tick_seconds=0.1) as served:
        yield served


def request(bot, start: datetime, hours: int, reason: str) -> str:
    """Alice files a shutdown of erp-db (bob to be told); carol approves it. Its reference."""
    text = (
        f'shutdown request systems=erp-db start="{start:%Y-%m-%d %H:%M}" '
        f'end="{start + timedelta(hours=hours):%Y-%m-%d %H:%M}" reason="{reason}" '
        'impact="ERP down" rollback="restore the snapshot" backup=snap-20261120 notify=bob'
    )
    answer = bot.answer(text, ALICE)
    ref = next(w.rstrip(".;:") for w in answer["text"].split() if w.startswith("S-"))
    said = bot.answer(f"shutdown approve {ref}", CAROL)["text"]
    assert said.startswith(catalog("shutdown.done_approved", ref=ref))
    bot.wait_state(ref, "approved")
    return ref


def told(slack: FakeSlack, ref: str, words: str) -> list[str]:
    """Where a message naming ``ref`` and showing ``words`` was posted (channel ids, in order)."""
    return [
        c.args["channel"]
        for c in slack.calls("chat.postMessage")
        if c.ok and mentions(c.args.get("text", ""), ref) and words in texts(c.args)
    ]


def wait_told(slack: FakeSlack, ref: str, words: str, count: int) -> list[str]:
    slack.wait_for(
        "chat.postMessage",
        count,
        10,
        lambda c: c.ok and mentions(c.args.get("text", ""), ref) and words in texts(c.args),
    )
    return told(slack, ref, words)


def people(*users: str) -> list[str]:
    return sorted(dm_channel_id(u) for u in users)


def at(clock: FakeClock, bot, when: datetime) -> None:
    """The clock moves to ``when``; whatever is due by then has fired (a sweep is run here, as
    the served app's own runs every tick) and its notices are out."""
    clock.set(when)
    bot.runtime.sweep()
    bot.settle()


def test_reminders_the_start_begin_and_complete_on_the_fake_clock(bot, slack, clock):
    clock.set(MONDAY)
    start = datetime(2026, 11, 22, 2, 0, tzinfo=TZ)  # a Sunday night: erp-db's agreed window
    ref = request(bot, start, 3, "Storage firmware")
    approved = f"Shutdown {ref} is approved"
    # the approval was told to alice and bob (dan and erin have no Slack) and erp's channel
    assert sorted(wait_told(slack, ref, approved, 3)) == sorted([*people(ALICE, BOB), ERP_CHANNEL])
    [card] = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == SHUTDOWNS]
    channel, ts = card.response["channel"], card.response["ts"]
    everyone = people(ALICE, BOB, CAROL)  # the requester, the one told, the approver
    day, hour = f"{ref} begins in 24 h", f"{ref} begins in 1 h"
    begins = f"The window of {ref} starts now"  # templates/en/shutdown_begins.j2

    at(clock, bot, start - timedelta(hours=25))
    assert told(slack, ref, day) == []  # not yet
    at(clock, bot, start - timedelta(hours=24))
    assert sorted(wait_told(slack, ref, day, 3)) == everyone
    at(clock, bot, start - timedelta(hours=1))
    assert sorted(wait_told(slack, ref, hour, 3)) == everyone
    at(clock, bot, start)
    assert wait_told(slack, ref, begins, 1) == people(ALICE)  # the engineer is asked to begin
    at(clock, bot, start + timedelta(minutes=5))
    # each once: the sweeps since fired nothing again
    assert sorted(told(slack, ref, day)) == sorted(told(slack, ref, hour)) == everyone
    assert told(slack, ref, begins) == people(ALICE)

    # begin, with the system's state; everyone hears it is going down
    state = 'state="all green" temperature=22 humidity=45%'
    answer = bot.answer(f"shutdown begin {ref} {state}", ALICE)
    assert answer["text"].startswith(catalog("shutdown.done_begun", ref=ref))
    bot.wait_state(ref, "in_progress")
    card_now = wait_updated(slack, channel, ts, catalog("state.shutdown_in_progress"))
    assert "state=all green, temperature=22.0, humidity=45.0" in texts(card_now["blocks"])
    begun = f"Shutdown {ref} has begun"
    assert sorted(wait_told(slack, ref, begun, 3)) == sorted([*people(BOB, CAROL), ERP_CHANNEL])

    # complete, with the verification: everyone told of the shutdown is told it is over
    at(clock, bot, start + timedelta(hours=2, minutes=40))
    answer = bot.answer(f'shutdown complete {ref} services=yes business="Li Lei (ERP)"', ALICE)
    assert answer["text"].startswith(catalog("shutdown.done_completed", ref=ref))
    bot.wait_state(ref, "completed")
    card_now = wait_updated(slack, channel, ts, catalog("state.shutdown_completed"))
    assert "business checked by Li Lei (ERP)" in texts(card_now["blocks"])
    completed = f"Shutdown {ref} is completed"
    told_of_it = set(told(slack, ref, approved)) - {dm_channel_id(ALICE)} | {dm_channel_id(CAROL)}
    assert sorted(wait_told(slack, ref, completed, 3)) == sorted(told_of_it)

    # past the end: completed in time, so no overrun alert
    at(clock, bot, start + timedelta(hours=4))
    assert told(slack, ref, "has ended") == []
    actions = [a.action for a in bot.audit(ref)]
    assert actions == [
        "shutdown.request",
        "shutdown.approve",
        "shutdown.begin",
        "shutdown.complete",
    ]
    assert bot.audit(ref)[-1].details["business"] == "Li Lei (ERP)"


def test_a_window_left_running_past_its_end_is_an_overrun_alert(bot, slack, clock):
    clock.set(MONDAY + timedelta(weeks=2))
    start = datetime(2026, 12, 6, 2, 0, tzinfo=TZ)
    ref = request(bot, start, 2, "Kernel patch")
    at(clock, bot, start)
    bot.answer(f"shutdown begin {ref} state=ok", ALICE)
    bot.wait_state(ref, "in_progress")
    at(clock, bot, start + timedelta(hours=2) - timedelta(minutes=1))
    overrun = f"The window of {ref} has ended"
    assert told(slack, ref, overrun) == []
    at(clock, bot, start + timedelta(hours=2))
    # the requester (alice), the approver (carol) and those told (bob): not erp's channel
    assert sorted(wait_told(slack, ref, overrun, 3)) == people(ALICE, BOB, CAROL)
    assert bot.state(ref) == "in_progress"
