"""Outgoing Slack calls under failure and slowness, through `maintbot serve` for real: rate limits
and server errors are retried and delivered once; permanent errors are reported to the admins,
not retried; acknowledgements stay well under Slack's 3 seconds whatever Slack's API or the
database is doing.

The server's outbox worker runs every second; tests wait on the fake, never on fixed sleeps.
"""

import re
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from tests import slack_requests as sr
from tests import slack_server
from tests.chat import catalog, opening
from tests.fake_slack import dm_channel_id
from tests.slack_server import mentions

pytestmark = pytest.mark.slow

bot, fake, served_url = slack_server.bot, slack_server.fake, slack_server.served_url
ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
VISITS, ADMIN = "CVISITS", "CADMIN"


@pytest.fixture(autouse=True)
def clean_fake(bot, fake):
    """Each test starts with a well-behaved fake and an empty outbox queue."""
    yield
    fake.slow(0)
    bot.settle(30)
    fake.reset()


def new_visit(bot) -> str:
    task = f"Replace a PSU {uuid.uuid4().hex[:8]}"
    reply = bot.command(
        f'visit request at="+3d 10:00" duration=2h room=SH1/A101 task="{task}" id=passport:1234',
        ALICE,
    )
    assert reply.status == 200, reply.text
    return re.search(r"V-\d+", reply.json["text"]).group()


def delivered(fake) -> Counter:
    """Successful chat.postMessage calls, counted per (channel, text)."""
    return Counter(
        (c.response["channel"], c.args["text"]) for c in fake.calls("chat.postMessage") if c.ok
    )


def test_429_and_500_are_retried_later_and_delivered_exactly_once(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    bot.settle()
    # bob's review queues: the card updated in #visits and in bob's DM, a DM to alice, the card
    # to carol (supervisor); the first post is rate-limited, the next one meets a server error,
    # and so does the first update
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    fake.fail_next("chat.postMessage", status=500)
    fake.fail_next("chat.update", status=429, retry_after=1)
    bot.click(BOB, channel, ts, "visit.approve", f"review-{ref}")
    bot.wait_state(ref, "reviewed")
    bot.posted(dm_channel_id(ALICE), ref, timeout=15)
    bot.posted(dm_channel_id(CAROL), ref, timeout=15)
    bot.settle(15)
    calls = fake.calls("chat.postMessage") + fake.calls("chat.update")
    failed = [c for c in calls if not c.ok]
    assert sorted(c.status for c in failed) == [429, 429, 500]
    # every notice arrived exactly once
    assert all(n == 1 for n in delivered(fake).values()), delivered(fake)
    assert len(delivered(fake)) >= 2
    updated = [c for c in fake.calls("chat.update") if c.ok]
    assert Counter(c.args["channel"] for c in updated) == {VISITS: 1, dm_channel_id(BOB): 1}
    assert catalog("state.reviewed") in fake.message(channel, ts)["text"]
    # each failed call was made again, a rate-limited one not before its Retry-After
    for failure in failed:
        again = [
            c
            for c in calls
            if c.ok
            and c.method == failure.method
            and c.args["channel"] == failure.args["channel"]
            and c.at > failure.at
        ]
        assert again, (failure.method, failure.args["channel"])
        if failure.status == 429:
            assert again[0].at - failure.at >= 1.0
    rows = bot.outbox(subject=ref)
    assert all(r.status == "sent" for r in rows)
    assert sorted(r.attempts for r in rows if r.attempts > 1) == [2, 2, 2]


@pytest.mark.logs_errors("bot.delivery")
@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_a_permanent_channel_error_is_not_retried_and_the_admins_are_told(bot, fake, error):
    fake.channel_error(VISITS, error)
    ref = new_visit(bot)
    # bob (admin) is told in a DM, and the admin channel too
    [report] = fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.ok
            and c.args["channel"] == dm_channel_id(BOB)
            and "could not be delivered" in c.args["text"]
        ),
        timeout=15,
    )
    assert VISITS in report.args["text"] and error in report.args["text"]
    fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.ok and c.args["channel"] == ADMIN and VISITS in c.args["text"],
    )
    bot.settle()
    attempts = [
        c
        for c in fake.calls("chat.postMessage")
        if c.args["channel"] == VISITS and mentions(c.args["text"], ref)
    ]
    assert len(attempts) == 1 and attempts[0].response == {"ok": False, "error": error}
    [row] = bot.outbox(subject=ref, target=VISITS)  # failed: never claimed again
    assert row.status == "failed" and row.last_error == error and row.attempts == 1
    # the rest of the visit's notices were not held up
    bot.posted(dm_channel_id(BOB), ref)
    # one report each, not one per tick
    reports = [
        c for c in fake.calls("chat.postMessage") if "could not be delivered" in c.args["text"]
    ]
    assert Counter(c.args["channel"] for c in reports) == {dm_channel_id(BOB): 1, ADMIN: 1}


@pytest.mark.logs_errors("bot.delivery")
def test_an_expired_response_url_is_not_shown_to_the_admins(bot, fake):
    """A response URL lets anyone post into the user's channel for 30 minutes; once expired (404)
    there is nothing for an admin to fix. Reporting it leaks the URL into #admin and DMs, with
    the advice to invite the bot to a channel, which is wrong."""
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    hook = f"expired-{ref}"
    fake.fail_next(f"hooks/{hook}", error="expired")  # Slack answers 404 for an expired URL
    bot.click(BOB, channel, ts, "visit.approve", hook)
    bot.wait_state(ref, "reviewed")
    fake.wait_for(f"hooks/{hook}")
    bot.settle()
    leaked = [c for c in fake.calls("chat.postMessage") if f"/hooks/{hook}" in c.args["text"]]
    assert leaked == []


# ---- timing: acks within Slack's 3 seconds


def test_acks_stay_fast_while_slacks_api_is_slow(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    bot.settle()
    fake.slow(4)  # every Web API answer takes 4 s
    replies = {
        "help": bot.command("help", ALICE),
        "form": bot.post(
            sr.slash_command("visit request", ALICE, "CMAINT", trigger_id=f"slow-{ref}")
        ),
        "click": bot.click(BOB, channel, ts, "visit.approve", f"slow-{ref}"),
        "mention": bot.post(sr.event(sr.app_mention("whoami", ALICE, "CGENERAL"))),
        "home": bot.post(sr.event(sr.app_home_opened(ALICE))),
    }
    for name, reply in replies.items():
        assert reply.status == 200, name
        assert reply.elapsed < 1.5, (name, reply.elapsed)
    # the work behind the acks still happens
    bot.wait_state(ref, "reviewed")
    fake.wait_for("views.open", predicate=lambda c: c.args.get("trigger_id") == f"slow-{ref}")
    fake.slow(0)
    fake.wait_for("chat.update", predicate=lambda c: c.args.get("ts") == ts and c.ok, timeout=20)


@contextmanager
def database_locked(bot, seconds: float):
    """Hold a lock that stops every unit of work of the bot for ``seconds`` (in a thread)."""
    started = threading.Event()

    def hold():
        with bot.db.engine.connect() as conn:
            dialect = conn.dialect.name
            if dialect == "sqlite":
                conn.exec_driver_sql("SELECT 1")  # the engine begins with BEGIN IMMEDIATE
            elif dialect == "postgresql":
                conn.execute(text("LOCK TABLE people IN ACCESS EXCLUSIVE MODE"))
            else:
                conn.exec_driver_sql("LOCK TABLES people WRITE")
            started.set()
            time.sleep(seconds)
            if dialect == "mysql":
                conn.exec_driver_sql("UNLOCK TABLES")
            conn.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(10)
    try:
        yield
    finally:
        thread.join()


def test_acks_stay_under_3s_while_the_database_is_locked(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    bot.settle()
    hook = f"locked-{ref}"
    stale = sr.block_actions(
        BOB,
        "visit.approve",
        "a value from some other app",
        channel_id=VISITS,
        message_ts=ts,
        response_url=fake.response_url(f"stale-{hook}"),
    )
    form = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id=f"form-{hook}")
    with database_locked(bot, 3.5):
        bad_click = bot.post(stale)
        sent = time.monotonic()
        form_ack = bot.post(form)
        command = bot.command("visit list", BOB, hook=hook)
        click = bot.click(BOB, channel, ts, "visit.approve", f"click-{hook}")
        mention = bot.post(sr.event(sr.app_mention("whoami", ALICE, "CGENERAL")))
    assert bad_click.status == 200 and bad_click.elapsed < 3, bad_click.elapsed
    # the modal opens in time: Slack's trigger_id expires 3 s after the user's gesture
    assert form_ack.status == 200 and form_ack.elapsed < 1
    [opened] = fake.wait_for(
        "views.open", predicate=lambda c: c.args["trigger_id"] == f"form-{hook}"
    )
    assert opened.at - sent < 2.5, opened.at - sent
    assert command.status == 200 and command.elapsed < 3
    assert command.json["text"] == catalog("slack.working")
    assert command.json["response_type"] == "ephemeral"
    assert click.status == 200 and click.elapsed < 3
    assert mention.status == 200 and mention.elapsed < 3
    # once the database answers, so does the bot: through the response URL
    [late] = fake.wait_for(f"hooks/{hook}", timeout=15)
    assert late.args["text"].startswith(opening("visit.list_pending", "count"))
    assert late.args["response_type"] == "ephemeral"
    bot.wait_state(ref, "reviewed")
    [polite] = fake.wait_for(f"hooks/stale-{hook}")
    assert polite.args["text"] == catalog("slack.bad_action")
