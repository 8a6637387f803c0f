"""Shutdown approvals end to end in Slack: `maintbot serve` runs for real (WeCom served too, where
dan, an owner of erp-db, reads his notices); the modal, the card in the shutdowns channel, the
approval click, the notices to the owners and the system's channel, the .ics file.

The organisation (tests/org.yaml): erp-db <- erp <- crm at SH1; erp-db's owner is dan (WeCom
only, Chinese), erp's is erin (no chat id) and erp's channel is CERP; alice (UALICE) requests,
carol (UCAROL) is the Slack supervisor.
"""

import json
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from handlers.shutdowns.form import FORM
from storage.models import Shutdown
from tests import slack_requests as sr
from tests import slack_server, wecom_server
from tests.chat import catalog, opening
from tests.fake_slack import dm_channel_id
from tests.slack_server import buttons, context_text, mentions, texts, wait_dm, wait_updated
from tests.wecom_server import wait_message

served_url, fake = slack_server.served_url, slack_server.fake
wecom, bot = wecom_server.wecom, wecom_server.bot

# The adapters do not depend on the backend: the workflow's own tests run on every one.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
SHUTDOWNS, ERP_CHANNEL = "CSHUTDOWNS", "CERP"
TZ = ZoneInfo("Asia/Shanghai")
ERP_DB_SYSTEMS = ["erp-db"]


def sunday(weeks: int) -> datetime:
    """02:00 on a Sunday at least ``weeks`` weeks away (local): inside erp-db's agreed window
    (sun 02:00-06:00) and past the lead time of 3 working days, holidays and all."""
    day = datetime.now(TZ).date() + timedelta(weeks=weeks)
    day += timedelta(days=(6 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=TZ)


def form(weeks: int, **changes: str | None) -> dict[str, str | None]:
    """A good request form (a window ``weeks`` weeks away), with ``changes``."""
    start = sunday(weeks)
    good = {
        "systems": "erp-db",
        "start": f"{start:%Y-%m-%d} 02:00",
        "end": f"{start:%Y-%m-%d} 05:00",
        "reason": f"Firmware upgrade {uuid.uuid4().hex[:8]}",
        "impact": "ERP unavailable",
        "rollback": "reflash the previous firmware",
        "backup": "job-4711",
        "notify": None,
        "engineers": None,
        "link": None,
        "emergency": None,
    }
    return good | changes


def open_form(bot, trigger: str) -> dict:
    """Alice types `/maint shutdown request` alone: the form opens as a modal."""
    body, headers = sr.slash_command("shutdown request", ALICE, "CMAINT", trigger_id=trigger)
    reply = bot.post(body, headers)
    assert reply.status == 200 and reply.text == ""  # a plain ack: nothing said in the channel
    return bot.modal(trigger)


def filed(fake, reason: str, timeout: float = 10.0) -> tuple[str, str, str]:
    """(ref, channel, ts) of the card posted to the shutdowns channel for the request."""
    [call] = fake.wait_for(
        "chat.postMessage",
        1,
        timeout,
        lambda c: c.ok and c.args.get("channel") == SHUTDOWNS and reason in texts(c.args),
    )
    ref = re.search(r"S-\d+", call.args["text"]).group()
    return ref, call.response["channel"], call.response["ts"]


def field(message: dict, label: str) -> str:
    """The value of a card's field (``*Label*\\nvalue`` in a section's fields)."""
    for block in message["blocks"]:
        for item in block.get("fields", []):
            head, _, value = item["text"].partition("\n")
            if head.strip("*") == label:
                return value
    raise AssertionError(f"no field {label!r} on the card: {texts(message['blocks'])}")


# ---- the request form


def test_a_bare_shutdown_request_opens_the_form_as_a_modal(bot, fake):
    view = open_form(bot, "sd-form")
    assert view["type"] == "modal" and view["callback_id"] == "form"
    assert json.loads(view["private_metadata"])["command"] == "shutdown request"
    assert [b["block_id"] for b in view["blocks"]] == [f.key for f in FORM.fields]
    required = {b["block_id"] for b in view["blocks"] if not b["optional"]}
    assert required == {"systems", "start", "end", "reason", "impact", "rollback", "backup"}
    assert view["title"]["text"] == catalog("form.shutdown.request")
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"]}
    assert labels["systems"] == catalog("formlabel.shutdown.systems")


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("systems", "erp-dbb", opening("error.unknown_system", "near", value="erp-dbb")),
        ("start", "2020-01-05 02:00", catalog("error.past_date", value=datetime(2020, 1, 5, 2))),
        ("end", "REVERSED", catalog("error.shutdown_reversed")),
        ("start", "SOON", opening("error.shutdown_lead", "earliest", days=3, exact=True)),
        ("start", "some day", None),
        ("link", "X-9", None),
    ],
)
def test_a_bad_field_is_an_inline_error_on_that_field_and_files_nothing(bot, key, value, says):
    view = open_form(bot, f"sd-bad-{key}-{uuid.uuid4().hex[:6]}")
    values = form(6)
    if value == "REVERSED":  # an end before the start, the same day
        value = values["start"].replace("02:00", "01:00")
    if value == "SOON":  # tomorrow night: inside the lead time
        tomorrow = datetime.now(TZ).date() + timedelta(days=1)
        value, values["end"] = f"{tomorrow} 02:00", f"{tomorrow} 05:00"
    reply = bot.submit(ALICE, view, values | {key: value})
    assert reply.status == 200 and reply.elapsed < 3
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [key]
    if says:
        assert says in reply.json["errors"][key]
    with bot.db.unit_of_work() as session:
        assert (
            session.scalar(select(Shutdown.id).where(Shutdown.reason == values["reason"])) is None
        )


# ---- request, approval click, notices, calendar file


def test_a_good_form_files_the_request_and_posts_its_card_with_what_depends_on_it(bot, fake):
    values = form(7)
    reply = bot.submit(ALICE, open_form(bot, "sd-good"), values)
    assert reply.status == 200 and reply.text == ""  # the modal closes
    ref, channel, ts = filed(fake, values["reason"])
    assert bot.state(ref) == "requested"
    card = fake.message(channel, ts)
    assert mentions(card["blocks"][0]["text"]["text"], ref)
    assert field(card, catalog("field.systems")) == "erp-db"
    assert field(card, catalog("field.taken_along")) == "erp, crm"  # transitively
    assert field(card, catalog("field.backup")) == "job-4711"
    assert catalog("state.shutdown_requested") in context_text(card)
    assert "shutdown.approve" in buttons(card)
    assert "Outside" not in texts(card["blocks"])  # a Sunday night: erp-db's agreed window
    # carol, a supervisor on Slack, gets the card to decide; alice hears it was filed
    [dm] = wait_dm(fake, CAROL, ref)
    assert "shutdown.approve" in buttons(dm.args)
    wait_dm(fake, ALICE, ref, catalog("shutdown.filed", ref=ref))
    assert [a.action for a in bot.audit(ref)] == ["shutdown.request"]


def test_approve_click_updates_the_card_tells_owners_and_channels_and_sends_the_ics(
    bot, fake, wecom
):
    values = form(8)
    bot.submit(ALICE, open_form(bot, "sd-approve"), values)
    ref, channel, ts = filed(fake, values["reason"])
    before = len(fake.calls("chat.postMessage"))
    reply = bot.click(CAROL, channel, ts, "shutdown.approve", f"sd-ok-{ref}")
    assert reply.status == 200 and reply.elapsed < 3
    bot.wait_state(ref, "approved")
    # the clicker is told what was done; the card is updated in place (not sent again), its
    # buttons those of approved
    [said] = fake.wait_for(f"hooks/sd-ok-{ref}", 1)
    assert said.args["text"] == catalog("shutdown.done_approved", ref=ref)
    assert said.args["response_type"] == "ephemeral"
    card = wait_updated(fake, channel, ts, catalog("state.shutdown_approved"))
    assert "shutdown.approve" not in buttons(card)
    assert "Carol Supervisor" in texts(card["blocks"])  # the approval, with who gave it
    approved = f"Shutdown {ref} is approved"  # templates/en/shutdown_approved.j2
    # the requester (Slack), the owner of erp-db (dan, WeCom, in Chinese), erp's channel
    wait_dm(fake, ALICE, ref, approved)
    fake.wait_for(
        "chat.postMessage",
        1,
        10,
        lambda c: c.ok and c.args["channel"] == ERP_CHANNEL and approved in c.args["text"],
    )
    notice = wait_message(wecom, "dan.w", ref, "已批准")
    assert "业务影响" in wecom_server.content(notice)
    # the window as an .ics file, by Slack's external upload, into alice's DM and erp's channel
    uploads = fake.wait_for(
        "files.completeUploadExternal",
        2,
        10,
        lambda c: c.ok and c.args["files"][0]["title"] == f"{ref}.ics",
    )
    by_channel = {c.args["channel_id"]: c for c in uploads}
    assert set(by_channel) == {dm_channel_id(ALICE), ERP_CHANNEL}
    done = by_channel[dm_channel_id(ALICE)]
    uploaded = fake.file(done.args["files"][0]["id"])
    [event] = icalendar.Calendar.from_ical(uploaded["data"]).walk("VEVENT")
    assert str(event["uid"]) == f"shutdown-{ref[2:]}@maintbot"
    assert event.decoded("dtstart") == sunday(8)
    assert event.decoded("dtend") == sunday(8) + timedelta(hours=3)
    assert ref in str(event["summary"]) and "erp-db" in str(event["summary"])
    # the .ics went with the notice, not instead of it; no new card for anyone
    bot.settle()
    posted = fake.calls("chat.postMessage")[before:]
    assert not [c for c in posted if c.args.get("channel") == SHUTDOWNS]
    assert [a.action for a in bot.audit(ref)] == ["shutdown.request", "shutdown.approve"]


def test_a_second_approval_click_is_answered_politely_and_changes_nothing(bot, fake, wecom):
    values = form(9)
    bot.submit(ALICE, open_form(bot, "sd-twice"), values)
    ref, channel, ts = filed(fake, values["reason"])
    # two more clicks on the card as it shows now (a double click; another client's copy)
    again = bot.click_request(CAROL, channel, ts, "shutdown.approve", f"sd-again-{ref}")
    stale = bot.click_request(BOB, channel, ts, "shutdown.approve", f"sd-stale-{ref}")
    bot.click(CAROL, channel, ts, "shutdown.approve", f"sd-first-{ref}")
    bot.wait_state(ref, "approved")
    wait_updated(fake, channel, ts, catalog("state.shutdown_approved"))
    bot.settle()
    calls, dan_before = len(fake.calls()), len(wecom.messages("dan.w"))
    assert bot.post(again).status == 200
    assert bot.post(stale).status == 200
    [second] = fake.wait_for(f"hooks/sd-again-{ref}")
    [late] = fake.wait_for(f"hooks/sd-stale-{ref}")
    said = dict(action="approve", state="approved", ref=ref, did="approve", by="Carol Supervisor")
    assert second.args["text"] == catalog("error.shutdown_bad_state", you=True, **said)
    assert late.args["text"] == catalog("error.shutdown_bad_state", you=False, **said)
    assert "already approved" in late.args["text"] and "Carol Supervisor" in late.args["text"]
    bot.settle()
    # nothing else happened: no notice, no card update, one approval on record
    after = sorted(c.method for c in fake.calls()[calls:])
    assert after == sorted([f"hooks/sd-again-{ref}", f"hooks/sd-stale-{ref}"])
    assert len(wecom.messages("dan.w")) == dan_before
    assert len(bot.audit(ref, "shutdown.approve")) == 1
