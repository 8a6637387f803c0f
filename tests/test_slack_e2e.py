"""Slack end to end: `maintbot serve` runs for real, Slack's signed requests arrive over loopback
and the bot's Web API calls land on the fake Slack.

One server per module (per database backend); every test works on visits of its own. People
(tests/org.yaml): alice (UALICE) engineer, bob (UBOB) admin, carol (UCAROL) supervisor; the
visits channel is CVISITS.
"""

import concurrent.futures
import json
import re
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from handlers.visits.form import FORM
from storage.models import Visit
from tests import slack_requests as sr
from tests import slack_server
from tests.chat import catalog, opening
from tests.fake_slack import dm_channel_id
from tests.slack_server import (
    buttons,
    context_text,
    dms,
    mentions,
    texts,
    wait_dm,
    wait_updated,
)

# the served app, one per module and database backend (see tests/slack_server.py)
bot, fake, served_url = slack_server.bot, slack_server.fake, slack_server.served_url

# The adapter's behaviour does not depend on the backend: test_slack_delivery runs there.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
VISITS = "CVISITS"
GOOD_FORM = {
    "at": "+3d 10:00",
    "duration": "2h",
    "room": "SH1/A101",
    "id": "passport:E1234567",
    "company": None,
    "contact": None,
    "tools": "laptop, console cable",
    "certificates": None,
    "responsible": None,
    "visitor": None,
    "emergency": None,
    "fault": None,
}


def unique_task() -> str:
    return f"Swap a disk {uuid.uuid4().hex[:8]}"


def new_visit(bot, task: str | None = None) -> str:
    """Alice files a visit with a typed command; its reference."""
    text = (
        f'visit request at="+3d 10:00" duration=2h room=SH1/A101 task="{task or unique_task()}" '
        "id=passport:1234 tools=laptop"
    )
    reply = bot.command(text, ALICE)
    assert reply.status == 200, reply.text
    return re.search(r"V-\d+", reply.json["text"]).group()


def threaded(fake, ts: str) -> list:
    """chat.postMessage calls answering in the thread of the message ``ts``."""
    return [c for c in fake.calls("chat.postMessage") if c.args.get("thread_ts") == ts]


# ---- slash commands


def test_health_check_answers_200_with_the_database_up(bot, fake):
    reply = bot.get("/healthz")
    assert reply.status == 200
    assert reply.json == {"database": "ok"}
    assert fake.calls() == []  # start-up did not need Slack (no auth.test)


def test_help_is_answered_in_the_ack_as_an_ephemeral_message(bot):
    reply = bot.command("help", ALICE)
    assert reply.status == 200 and reply.elapsed < 3
    assert reply.json["response_type"] == "ephemeral"
    assert reply.json["text"] == "maintbot commands"  # the fallback: the card's title
    assert reply.json["blocks"][0]["type"] == "header"
    assert "machine-room visit requests" in json.dumps(reply.json["blocks"])
    assert "Traceback" not in reply.text


def test_visit_list_is_answered_in_the_ack(bot):
    ref = new_visit(bot)
    reply = bot.command("visit list", BOB)
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert mentions(texts(reply.json), ref)


def test_a_user_error_is_ephemeral_and_polite(bot):
    reply = bot.command("visit frobnicate", ALICE)
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert 'visit has no "frobnicate"' in reply.json["text"]


def test_an_unknown_slack_user_gets_a_polite_explanation(bot, fake):
    ref = new_visit(bot)
    reply = bot.command("visit list", "UNOBODY")
    assert reply.status == 200
    assert "I don't know you yet (UNOBODY)" in reply.json["text"]
    # a stranger's click changes nothing and is explained at the interaction's response URL
    channel, ts = bot.card(ref)
    assert bot.click("UNOBODY", channel, ts, "visit.approve", "stranger").status == 200
    [answer] = fake.wait_for("hooks/stranger")
    assert "I don't know you yet" in answer.args["text"]
    assert bot.state(ref) == "requested"
    # and so is a mention
    mention = sr.app_mention("visit list", "UNOBODY", "CGENERAL")
    assert bot.post(sr.event(mention)).status == 200
    [reply] = fake.wait_for(
        "chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == mention["ts"]
    )
    assert "I don't know you yet" in reply.args["text"]


# ---- the visit request modal


def test_visit_request_without_options_opens_the_form_as_a_modal(bot):
    body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id="trig-form-1")
    reply = bot.post(body, headers)
    assert reply.status == 200 and reply.text == ""  # plain ack: nothing shown in the channel
    view = bot.modal("trig-form-1")
    assert view["type"] == "modal" and view["callback_id"] == "form"
    assert json.loads(view["private_metadata"])["command"] == "visit request"
    fields = FORM.fields
    assert [b["block_id"] for b in view["blocks"]] == [f.key for f in fields]
    assert all(b["type"] == "input" for b in view["blocks"])
    required = {b["block_id"] for b in view["blocks"] if not b["optional"]}
    assert required == {f.key for f in fields if not f.optional}
    assert view["title"]["text"] and len(view["title"]["text"]) <= 24


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("at", "2020-01-01 09:00", catalog("error.past_date", value=datetime(2020, 1, 1, 9, 0))),
        ("at", "next blue moon", None),
        ("room", "ZZ9/NOPE", opening("error.unknown_room", "known", value="ZZ9/NOPE")),
        ("duration", "forever", None),
        ("id", "x", None),
    ],
)
def test_a_bad_field_in_the_modal_is_an_inline_error_on_that_field(bot, field, value, says):
    body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id=f"bad-{field}")
    bot.post(body, headers)
    view = bot.modal(f"bad-{field}")
    task = unique_task()
    reply = bot.submit(ALICE, view, {**GOOD_FORM, "task": task, field: value})
    assert reply.status == 200 and reply.elapsed < 3
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [field]
    if says:
        assert says in reply.json["errors"][field]
    with bot.db.unit_of_work() as session:
        assert session.scalar(select(Visit.id).where(Visit.task == task)) is None


def test_a_good_modal_files_the_visit_posts_the_card_and_tells_the_admin(bot, fake):
    body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id="good-form")
    bot.post(body, headers)
    view = bot.modal("good-form")
    task = unique_task()
    reply = bot.submit(ALICE, view, {**GOOD_FORM, "task": task})
    assert reply.status == 200 and reply.text == ""  # the modal closes
    ref = bot.visit_by_task(task)
    assert bot.state(ref) == "requested"
    visit = bot.visit(ref)
    assert visit.id_last4 == "4567" and visit.tools == ["laptop", "console cable"]
    # the card in #visits, with the deciding buttons
    channel, ts = bot.card(ref)
    card = fake.message(channel, ts)
    assert channel == VISITS
    assert buttons(card) == ["visit.approve", "visit.changes", "visit.reject", "visit.cancel"]
    assert card["blocks"][0]["type"] == "header" and mentions(
        card["blocks"][0]["text"]["text"], ref
    )
    assert catalog("state.requested") in context_text(card)
    # bob, the admin with a Slack id, gets the card in a DM opened with conversations.open
    fake.wait_for("conversations.open", predicate=lambda c: c.args.get("users") == BOB)
    [dm] = wait_dm(fake, BOB, ref)
    assert buttons(dm.args) == ["visit.approve", "visit.changes", "visit.reject", "visit.cancel"]
    # alice is told it was filed (in her DM: a modal has no channel to answer in)
    wait_dm(fake, ALICE, ref)


# ---- card buttons


def test_approve_click_reviews_updates_the_card_in_place_and_tells_the_requester(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    before = fake.message(channel, ts)
    reply = bot.click(BOB, channel, ts, "visit.approve", f"approve-{ref}")
    assert reply.status == 200 and reply.elapsed < 3
    bot.wait_state(ref, "reviewed")
    after = wait_updated(fake, channel, ts, catalog("state.reviewed"))
    assert after["ts"] == ts and after["blocks"] != before["blocks"]
    [actions] = [b for b in after["blocks"] if b["type"] == "actions"]
    assert actions["block_id"].endswith(":reviewed")  # new buttons, for the new state
    # the clicker is answered at the response URL, the requester in a DM
    [answer] = fake.wait_for(f"hooks/approve-{ref}")
    assert answer.args["text"] == catalog("visit.done_review", ref=ref)
    assert answer.args["response_type"] == "ephemeral"
    [dm] = wait_dm(fake, ALICE, ref, timeout=10)
    assert "reviewed by Bob Admin" in dm.args["text"]
    assert [a.action for a in bot.audit(ref)] == ["visit.request", "visit.review"]
    assert bot.audit(ref)[-1].platform == "slack" and bot.audit(ref)[-1].platform_user == BOB


def test_the_whole_visit_flow_runs_in_slack(bot, fake):
    # request (modal)
    body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id="flow-form")
    bot.post(body, headers)
    task = unique_task()
    assert bot.submit(ALICE, bot.modal("flow-form"), {**GOOD_FORM, "task": task}).text == ""
    ref = bot.visit_by_task(task)
    channel, ts = bot.card(ref)
    # review (bob, admin), then approve (carol, supervisor): buttons on the channel card
    bot.click(BOB, channel, ts, "visit.approve", f"flow-review-{ref}")
    bot.wait_state(ref, "reviewed")
    wait_updated(fake, channel, ts, catalog("state.reviewed"))
    bot.click(CAROL, channel, ts, "visit.approve", f"flow-approve-{ref}")
    bot.wait_state(ref, "approved")
    card = wait_updated(fake, channel, ts, f":white_check_mark: {catalog('state.approved')}")
    assert buttons(card) == ["visit.checkin", "visit.cancel"]
    wait_dm(fake, ALICE, ref)
    # check-in: the button asks for the details in a modal
    bot.click(BOB, channel, ts, "visit.checkin", f"flow-in-{ref}", trigger_id=f"in-{ref}")
    prompt = bot.modal(f"in-{ref}")
    assert prompt["callback_id"] == "prompt"
    assert [b["block_id"] for b in prompt["blocks"]] == ["answer"]
    assert "card=" in prompt["blocks"][0]["label"]["text"]
    # an incomplete answer is an inline error, then the complete one checks in
    reply = bot.submit(BOB, prompt, {"answer": "card=A-17"})
    assert reply.json["response_action"] == "errors" and list(reply.json["errors"]) == ["answer"]
    assert bot.state(ref) == "approved"
    reply = bot.submit(BOB, prompt, {"answer": "card=A-17 verified=yes briefing=yes early=ahead"})
    assert reply.status == 200 and reply.text == ""
    bot.wait_state(ref, "checked_in")
    card = wait_updated(fake, channel, ts, catalog("state.checked_in"))
    assert buttons(card) == ["visit.checkout"]
    # check-out, typed
    reply = bot.command(f"visit checkout {ref} tools=all card=yes", BOB)
    assert reply.status == 200 and mentions(reply.json["text"], ref)
    bot.wait_state(ref, "checked_out")
    card = wait_updated(fake, channel, ts, catalog("state.checked_out"))
    assert buttons(card) == []  # nothing left to do: no stale buttons
    visit = bot.visit(ref)
    assert visit.access_card == "A-17" and visit.card_returned_at is not None
    actions = [a.action for a in bot.audit(ref)]
    assert actions == [
        "visit.request",
        "visit.review",
        "visit.approve",
        "visit.checkin",
        "visit.checkout",
    ]
    # one card in #visits for the whole story, updated in place
    assert len(bot.posted(VISITS, ref)) == 1


def test_reject_asks_for_a_reason_in_a_modal(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    reply = bot.click(BOB, channel, ts, "visit.reject", f"rej-{ref}", trigger_id=f"rej-{ref}")
    assert reply.status == 200
    prompt = bot.modal(f"rej-{ref}")
    assert prompt["callback_id"] == "prompt"
    assert prompt["blocks"][0]["label"]["text"] == "Reason"
    # an empty reason: inline error, nothing changes
    for empty in ("", "   ", None):
        reply = bot.submit(BOB, prompt, {"answer": empty})
        assert reply.status == 200
        assert reply.json == {
            "response_action": "errors",
            "errors": {"answer": "Please give a reason."},
        }
    assert bot.state(ref) == "requested"
    reply = bot.submit(BOB, prompt, {"answer": "No change window that week"})
    assert reply.status == 200 and reply.text == ""
    bot.wait_state(ref, "rejected")
    assert bot.visit(ref).decision_note == "No change window that week"
    card = wait_updated(fake, channel, ts, catalog("state.rejected"))
    assert buttons(card) == []
    [dm] = wait_dm(fake, ALICE, ref)
    assert "No change window that week" in dm.args["text"]
    assert [a.action for a in bot.audit(ref)] == ["visit.request", "visit.reject"]
    assert bot.audit(ref)[-1].comment == "No change window that week"


def test_a_double_click_is_applied_once(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    click = bot.click_request(BOB, channel, ts, "visit.approve", f"double-{ref}")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: bot.post(click), range(2)))
    assert [r.status for r in replies] == [200, 200]
    bot.wait_state(ref, "reviewed")
    answers = fake.wait_for(f"hooks/double-{ref}", 2)
    bot.settle()
    assert len(bot.audit(ref, "visit.review")) == 1
    assert len(bot.audit(ref)) == 2
    # the second click is told politely why nothing happened: bob already reviewed it
    again = catalog(
        "error.visit_bad_state", action="review", state="reviewed", ref=ref, did="review",
        you=True, by="Bob Admin",
    )  # fmt: skip
    texts = sorted(a.args["text"] for a in answers)
    assert texts == sorted([catalog("visit.done_review", ref=ref), again])
    # the requester is told once
    assert len(dms(fake, ALICE, ref)) == 1


def test_a_button_of_an_old_card_is_refused_politely(bot, fake):
    ref = new_visit(bot)
    channel, ts = bot.card(ref)
    stale = bot.click_request(CAROL, channel, ts, "visit.approve", f"stale-{ref}")  # kept
    bot.click(BOB, channel, ts, "visit.approve", f"review-{ref}")
    bot.wait_state(ref, "reviewed")
    wait_updated(fake, channel, ts, catalog("state.reviewed"))  # the button approves now
    bot.click(CAROL, channel, ts, "visit.approve", f"approve-{ref}")
    bot.wait_state(ref, "approved")
    # carol clicks Approve again on a copy of the card from before (say, another client)
    assert bot.post(stale).status == 200
    [answer] = fake.wait_for(f"hooks/stale-{ref}")
    assert answer.args["text"] == catalog(  # the old card's button was the review
        "error.visit_bad_state", action="review", state="approved", ref=ref, did="approve",
        you=True, by="Carol Supervisor",
    )  # fmt: skip
    assert len(bot.audit(ref, "visit.approve")) == 1


def test_a_click_on_an_ephemeral_card_replaces_it_with_the_answer(bot, fake):
    ref = new_visit(bot)
    shown = bot.command(f"visit show {ref}", BOB).json  # only Bob sees this copy of the card
    [actions] = [b for b in shown["blocks"] if b["type"] == "actions"]
    [approve] = [e for e in actions["elements"] if e["action_id"] == "visit.approve"]
    hook = f"ephemeral-{ref}"
    click = sr.block_actions(
        BOB, "visit.approve", approve["value"], channel_id="CMAINT", message_ts="1700000000.000100",
        block_id=actions["block_id"], is_ephemeral=True, response_url=fake.response_url(hook),
    )  # fmt: skip
    assert bot.post(click).status == 200
    [answer] = fake.wait_for(f"hooks/{hook}")
    assert answer.args["replace_original"] is True  # no stale Approve button stays behind
    assert answer.args["text"] == catalog("visit.done_review", ref=ref)
    bot.wait_state(ref, "reviewed")


# ---- events: mentions, DMs, App Home


def test_a_mention_is_answered_in_its_thread_and_its_retry_is_ignored(bot, fake):
    mention = sr.app_mention("help", ALICE, "CGENERAL")
    body, headers = sr.event(mention, event_id="EvMENTION1")
    first = bot.post(body, headers)
    retry = bot.post(body, {**headers, **sr.sign(body), **sr.retry_headers(1)})
    assert (first.status, retry.status) == (200, 200)
    assert first.elapsed < 3 and retry.elapsed < 3
    in_thread = fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args.get("thread_ts") == mention["ts"],
    )
    assert in_thread[0].args["channel"] == "CGENERAL"
    assert "maintbot commands" in in_thread[0].args["text"]
    # a later retry (Slack's second, after a minute) is ignored as well
    bot.post(body, {**headers, **sr.sign(body), **sr.retry_headers(2, "http_error")})
    # a different event afterwards shows the server has caught up with the retries
    later = sr.app_mention("whoami", ALICE, "CGENERAL")
    bot.post(sr.event(later))
    fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == later["ts"])
    bot.settle()
    answers = threaded(fake, mention["ts"])
    assert len(answers) == 1


def test_a_retried_mention_that_changes_state_is_applied_once(bot, fake):
    ref = new_visit(bot)
    mention = sr.app_mention(f"visit approve {ref}", BOB, "CGENERAL")
    body, headers = sr.event(mention)
    for num in (0, 1, 2):
        extra = sr.retry_headers(num) if num else {}
        assert bot.post(body, {**headers, **sr.sign(body), **extra}).status == 200
    bot.wait_state(ref, "reviewed")
    fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == mention["ts"])
    bot.settle()
    assert len(bot.audit(ref, "visit.review")) == 1
    answers = threaded(fake, mention["ts"])
    assert len(answers) == 1


def test_a_direct_message_is_answered(bot, fake):
    ref = new_visit(bot)
    message = sr.message_im(f"visit show {ref}", ALICE)
    assert bot.post(sr.event(message)).status == 200
    [answer] = fake.wait_for(
        "chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == message["ts"]
    )
    assert answer.args["channel"] == dm_channel_id(ALICE)
    assert mentions(answer.args["text"], ref)


def test_the_bots_own_messages_and_edits_are_not_answered(bot, fake):
    own = sr.message_im("help", ALICE) | {"bot_id": "B0MAINT01"}
    edited = sr.message_im("help", ALICE) | {"subtype": "message_changed"}
    for event in (own, edited):
        assert bot.post(sr.event(event)).status == 200
    probe = sr.message_im("whoami", ALICE)
    bot.post(sr.event(probe))
    fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == probe["ts"])
    bot.settle()
    answered = {c.args.get("thread_ts") for c in fake.calls("chat.postMessage")}
    assert own["ts"] not in answered and edited["ts"] not in answered


def test_app_home_shows_the_users_open_items(bot, fake):
    ref = new_visit(bot)
    assert bot.post(sr.event(sr.app_home_opened(BOB))).status == 200
    fake.wait_for(
        "views.publish",
        predicate=lambda c: c.args.get("user_id") == BOB and mentions(texts(c.args), ref),
    )
    home = fake.home(BOB)
    assert home["type"] == "home" and home["blocks"]
    assert mentions(texts(home["blocks"]), ref)
    # the requester sees her own pending request
    assert bot.post(sr.event(sr.app_home_opened(ALICE))).status == 200
    fake.wait_for(
        "views.publish",
        predicate=lambda c: c.args.get("user_id") == ALICE and mentions(texts(c.args), ref),
    )
    # the Messages tab is not the Home tab: nothing published
    before = len(fake.calls("views.publish"))
    bot.post(sr.event(sr.app_home_opened(CAROL, tab="messages")))
    bot.settle()
    assert len(fake.calls("views.publish")) == before


def test_url_verification_answers_the_challenge(bot):
    reply = bot.post(sr.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
    assert reply.status == 200
    assert reply.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


# ---- faults


def test_the_whole_fault_flow_in_slack_from_the_modal_to_the_report(bot, fake):
    body, headers = sr.slash_command("fault declare", ALICE, "CMAINT", trigger_id="fault-form")
    assert bot.post(body, headers).text == ""  # a bare declare opens the form
    view = bot.modal("fault-form")
    assert [b["block_id"] for b in view["blocks"]][:4] == [
        "title",
        "tier",
        "business_down",
        "data_lost",
    ]
    title = f"Orders API down {uuid.uuid4().hex[:6]}"
    reply = bot.submit(
        ALICE,
        view,
        {
            "title": title,
            "tier": None,
            "business_down": "yes",
            "data_lost": "no",
            "system": "orders-api",
        },
    )
    assert reply.text == ""

    def posted(call) -> bool:
        return call.args.get("channel") == "CFAULTS" and title in call.args["text"]

    [call] = fake.wait_for("chat.postMessage", 1, 10, posted)
    ref = re.search(r"F-\d+", call.args["text"]).group()
    assert "Tier 2" in texts(call.args["blocks"])  # from the two questions
    channel, ts = call.response["channel"], call.response["ts"]
    assert buttons(fake.message(channel, ts)) == ["fault.ack", "fault.resolve", "fault.refresh"]
    bot.click(BOB, channel, ts, "fault.ack", f"ack-{ref}")
    card = wait_updated(fake, channel, ts, catalog("state.fault_acknowledged"))
    assert buttons(card) == ["fault.resolve", "fault.update", "fault.refresh"]
    assert "Bob Admin" in texts(card["blocks"])
    # Resolve asks for the summary in a modal; the card freezes with the times achieved
    bot.click(BOB, channel, ts, "fault.resolve", f"fix-{ref}", trigger_id=f"fix-{ref}")
    bot.submit(BOB, bot.modal(f"fix-{ref}"), {"answer": "Restarted the API pods"})
    card = wait_updated(fake, channel, ts, catalog("state.fault_resolved"))
    achieved = [opening(f"fault.clock_{m}", "took", target=0) for m in ("met", "missed")]
    assert any(a in texts(card["blocks"]) for a in achieved)
    # closing (typed, with the root cause) posts the report and hands the closer its file
    reply = bot.command(f'fault close {ref} cause="Connection pool exhausted"', BOB)
    assert reply.status == 200 and ref in reply.json["text"]
    fake.wait_for(
        "chat.postMessage",
        1,
        10,
        lambda c: (
            c.args.get("channel") == "CFAULTS" and f"Fault handling report {ref}" in c.args["text"]
        ),
    )
    [done] = fake.wait_for("files.completeUploadExternal", 1, 10)
    assert done.args["files"][0]["title"] == f"{ref}-report.md"
    assert done.args["channel_id"] == dm_channel_id(BOB)
    actions = [a.action for a in bot.audit(ref)]
    assert actions == ["fault.declare", "fault.ack", "fault.resolve", "fault.close"]
