"""WeCom end to end: `maintbot serve` runs for real with Slack and WeCom configured; WeCom's
encrypted callbacks arrive over loopback and the bot's API calls land on the fake WeCom (and the
fake Slack, for the cross-platform stories)."""

import re
import time
import uuid

import pytest

from tests import slack_server, wecom_server
from tests import wecom_requests as wr
from tests.chat import catalog
from tests.fake_slack import dm_channel_id
from tests.fake_wecom import AGENT_ID, CORP_ID, FakeWeCom
from tests.slack_server import mentions, texts
from tests.wecom_server import card_of, click, content, say, wait_message, wecom_env

served_url = slack_server.served_url
fake = slack_server.fake  # the fake Slack
wecom, bot, cb = wecom_server.wecom, wecom_server.bot, wecom_server.cb  # both platforms served

# The adapter's behaviour does not depend on the backend: the outbox and codes are tested there.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ALICE_W, AMY_W, DAN_W, ZHANG_W = "alice.w", "amy.w", "dan.w", "ZhangWei"
BOB, CAROL = "UBOB", "UCAROL"


def request_visit(bot, cb, wecom, user: str = ALICE_W) -> str:
    task = f"Fan {uuid.uuid4().hex[:6]}"
    say(
        bot,
        cb,
        user,
        f'visit request at="+3d 10:00" duration=1h room=SH1/A101 task="{task}" id=passport:1234',
    )
    body = wait_message(wecom, user, task)
    return re.search(r"V-\d+", content(body)).group()


# ---- the callback URL


def test_url_verification_answers_the_decrypted_echostr(bot, cb):
    reply = bot.wecom_verify(cb.verify_url("1288432023552776189"))
    assert reply.status == 200 and reply.text == "1288432023552776189"


@pytest.mark.parametrize(
    "spoil",
    [wr.bad_url_signature, lambda q: {k: v for k, v in q.items() if k != "nonce"}],
    ids=["bad signature", "no nonce"],
)
def test_url_verification_refuses_what_wecom_did_not_sign(bot, cb, spoil):
    reply = bot.wecom_verify(spoil(cb.verify_url("42")))
    assert reply.status == 403 and "42" not in reply.text


def test_a_stale_timestamp_is_refused(bot, cb):
    old = str(int(time.time()) - 3600)
    assert bot.wecom_verify(cb.verify_url("7", timestamp=old)).status == 403
    assert bot.wecom(cb.text(ALICE_W, "help", timestamp=old)).status == 403


def test_a_wecom_only_deployment_serves_wecom_and_not_slack(fake, tmp_path, cb):
    with FakeWeCom() as own:
        env = {**wecom_env(own), "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": ""}
        url = f"sqlite:///{tmp_path / 'wecom-only.sqlite3'}"
        with slack_server.served(fake, url, tmp_path, extra_env=env) as only:
            assert only.post(b"command=%2Fmaint&text=help").status == 404
            assert only.wecom_verify(cb.verify_url("99")).text == "99"
            say(only, cb, ALICE_W, "whoami")
            own.wait_for("message/send", 1, 10)


# ---- text commands


def test_a_text_command_is_answered_through_the_api(bot, cb, wecom):
    say(bot, cb, ALICE_W, "help")
    assert "maintbot" in content(wait_message(wecom, ALICE_W, "visit"))


@pytest.mark.parametrize("text", ["/maint whoami", "我", "maint whoami"])
def test_the_same_grammar_with_or_without_the_prefix_and_in_chinese(bot, cb, wecom, text):
    before = len(wecom.messages(ZHANG_W))
    say(bot, cb, ZHANG_W, text)
    wecom.wait_for("message/send", before + 1, 10, lambda c: c.body["touser"] == ZHANG_W)
    assert "张伟" in content(wecom.messages(ZHANG_W)[-1])


def test_a_form_is_done_with_key_value_text_listing_what_is_missing(bot, cb, wecom):
    say(bot, cb, ZHANG_W, "visit request room=SH1/A101")
    answer = content(wait_message(wecom, ZHANG_W, "duration="))
    assert "task=" in answer and "room=" not in answer  # only what is still missing


def test_an_unknown_wecom_user_gets_a_polite_explanation(bot, cb, wecom):
    say(bot, cb, "stranger.w", "visit list")
    answer = content(wait_message(wecom, "stranger.w", "stranger.w"))
    assert "Traceback" not in answer


def test_a_retried_callback_is_handled_once(bot, cb, wecom):
    request = cb.text(
        ALICE_W,
        f'visit request at="+3d 11:00" duration=1h room=SH1/B201 '
        f'task="Retry {uuid.uuid4().hex[:6]}" id=passport:1234',
    )
    for _ in range(3):  # WeCom resends when the answer is slow: same MsgId, new signature
        assert bot.wecom(cb.retry(request, reencrypt=True)).status == 200
    body = wait_message(wecom, ALICE_W, "Retry")
    ref = re.search(r"V-\d+", content(body)).group()
    bot.settle()  # any duplicate that slipped through would be in the outbox by now
    assert len([v for v in bot.audit(ref) if v.action == "visit.request"]) == 1


def test_non_text_messages_and_unknown_events_are_answered_or_ignored_politely(bot, cb, wecom):
    voice = cb.message(  # (a photo or a file is an attachment: tests/test_attachments_e2e.py)
        {
            "ToUserName": CORP_ID,
            "FromUserName": ALICE_W,
            "CreateTime": 1700,
            "MsgType": "voice",
            "Format": "amr",
            "MediaId": "m1",
            "MsgId": 99123,
            "AgentID": AGENT_ID,
        }
    )
    assert bot.wecom(voice).status == 200
    assert "typed commands" in content(wait_message(wecom, ALICE_W, "typed commands"))
    before = len(wecom.calls("message/send"))
    for request in (cb.enter_agent(ALICE_W), cb.event(ALICE_W, "brand_new_event")):
        assert bot.wecom(request).status == 200
    wecom.wait_for("message/send", before + 1, 10)  # the unknown event's "type a command"
    bot.settle()
    assert len(wecom.calls("message/send")) == before + 1  # entering the app gets no answer


# ---- what WeCom did not send


@pytest.mark.parametrize(
    "spoil",
    [
        wr.bad_signature,
        lambda r: wr.WeComCallback().with_aes_key(wr.OTHER_AES_KEY).text(ALICE_W, "help"),
        wr.truncated,
        wr.body_without_encrypt,
        lambda r: wr.without(r, "msg_signature"),
        lambda r: (r[0], b"not xml at all"),
        lambda r: wr.WeComCallback().with_corp_id("wwsomeoneelse00000").text(ALICE_W, "help"),
    ],
    ids=[
        "bad signature",
        "wrong AES key",
        "truncated",
        "no Encrypt",
        "no signature",
        "not XML",
        "other corp",
    ],
)
def test_callbacks_wecom_did_not_send_are_refused_and_change_nothing(bot, cb, wecom, spoil):
    before = len(wecom.calls("message/send"))
    reply = bot.wecom(spoil(cb.text(ALICE_W, "visit request")))
    assert reply.status == 403, reply
    assert "Traceback" not in reply.text
    say(bot, cb, ALICE_W, "whoami")  # a good request afterwards is the only one answered
    wecom.wait_for("message/send", before + 1, 10)
    assert len(wecom.calls("message/send")) == before + 1


def test_an_oversized_callback_is_refused(bot, cb):
    query, _body = cb.text(ALICE_W, "help")
    assert bot.wecom((query, b"<xml>" + b"x" * 1_000_001 + b"</xml>")).status == 413


# ---- cards


def test_approval_card_click_updates_the_card(bot, cb, wecom):
    ref = request_visit(bot, cb, wecom)
    card = card_of(wecom, AMY_W, ref)  # amy, an admin on WeCom, gets the card to review
    keys = [b["key"] for b in card["button_list"]]
    assert f"visit review {ref}" in keys
    click(bot, wecom, cb, AMY_W, card["task_id"], f"visit review {ref}")
    bot.wait_state(ref, "reviewed")
    updated = wecom.wait_for(
        "message/update_template_card", 1, 10, lambda c: c.ok and card["task_id"] in texts(c.body)
    )
    assert catalog("state.reviewed") in texts(updated[0].body)
    assert bot.audit(ref)[-1].platform == "wecom" and bot.audit(ref)[-1].platform_user == AMY_W


def test_the_whole_visit_flow_runs_in_wecom(bot, cb, wecom):
    ref = request_visit(bot, cb, wecom, ZHANG_W)  # zhang asks, in Chinese
    review = card_of(wecom, AMY_W, ref)  # amy (admin) reviews with the button
    click(bot, wecom, cb, AMY_W, review["task_id"], f"visit review {ref}")
    bot.wait_state(ref, "reviewed")
    approve = card_of(wecom, DAN_W, ref)  # dan (manager, so a supervisor) approves
    click(bot, wecom, cb, DAN_W, approve["task_id"], f"visit approve {ref}")
    bot.wait_state(ref, "approved")
    wait_message(wecom, ZHANG_W, ref, "批准")  # zhang hears of it, in Chinese
    # dan's card shows the outcome: nothing left on it is his to do, so its buttons grey out
    [update] = wecom.wait_for(
        "message/update_template_card", 1, 10, lambda c: c.ok and c.body["userids"] == [DAN_W]
    )
    assert "button" in update.body and "template_card" not in update.body
    # check-in needs details: the button says what to type; amy types it
    say(bot, cb, AMY_W, f"visit checkin {ref} card=A-9 verified=yes briefing=yes early=ahead")
    bot.wait_state(ref, "checked_in")
    say(bot, cb, AMY_W, f"访问 签出 {ref} tools=all card=yes")
    bot.wait_state(ref, "checked_out")
    actions = [a.action for a in bot.audit(ref)]
    assert actions == [
        "visit.request",
        "visit.review",
        "visit.approve",
        "visit.checkin",
        "visit.checkout",
    ]
    assert {a.platform for a in bot.audit(ref)} == {"wecom"}
    # the group chat heard the steps, as markdown with the commands to type (a card's message
    # there cannot be rewritten: each change is posted anew; one waiting behind a later one is
    # superseded by it), up to the end
    bot.settle()
    heard = [texts(m) for m in wecom.chat_messages("wrvisits") if ref in texts(m)]
    assert catalog("state.requested") in heard[0] and catalog("state.checked_out") in heard[-1]


def test_a_reason_button_asks_what_to_type(bot, cb, wecom):
    ref = request_visit(bot, cb, wecom)
    card = card_of(wecom, AMY_W, ref)
    [reject] = [b["key"] for b in card["button_list"] if b["key"].startswith("?visit reject")]
    click(bot, wecom, cb, AMY_W, card["task_id"], reject)
    command, _, hint = reject.removeprefix("?").partition("\n")
    assert hint == catalog("prompt.reason")
    answer = content(wait_message(wecom, AMY_W, command, msgtype="markdown"))
    assert catalog("wecom.type_answer", hint=hint, command=command) in answer
    assert bot.state(ref) == "requested"
    say(bot, cb, AMY_W, f"{command}wrong room")
    bot.wait_state(ref, "rejected")


def test_a_visit_requested_in_wecom_is_approved_in_slack_and_both_sides_see_it(
    bot, cb, wecom, fake
):
    ref = request_visit(bot, cb, wecom)
    channel, ts = bot.card(ref)  # the Slack channel card
    wecom.wait_for("appchat/send", 1, 10, lambda c: ref in texts(c.body))  # the WeCom group
    card_of(wecom, AMY_W, ref)  # amy, an admin, may review
    bot.click(BOB, channel, ts, "visit.approve", f"x-review-{ref}")
    bot.wait_state(ref, "reviewed")
    # amy, a supervisor too, may approve now: a new card, which her first one hands over to
    waiting = catalog("state.reviewed")
    amy_card = wait_message(wecom, AMY_W, ref, waiting, msgtype="template_card")["template_card"]
    fake.wait_for(  # the channel card's button approves once it shows the review
        "chat.update",
        1,
        10,
        lambda c: c.args["ts"] == ts and waiting in texts(c.args.get("blocks")),
    )
    bot.click(CAROL, channel, ts, "visit.approve", f"x-approve-{ref}")
    bot.wait_state(ref, "approved")
    # Slack's card is updated in place; amy's WeCom card too (the send's code), and when no
    # code is left a new message says what changed
    fake.wait_for(
        "chat.update",
        1,
        10,
        lambda c: c.args["ts"] == ts and "approved" in texts(c.args.get("blocks")),
    )

    def shown(call) -> bool:
        return call.ok and amy_card["task_id"] in texts(call.body)

    wecom.wait_for("message/update_template_card", 1, 10, shown)
    # alice, who asked in WeCom, hears of the approval there, though Slack comes first
    assert ref in content(wait_message(wecom, ALICE_W, ref, "approved"))
    bot.settle()
    slack_dm = [
        c
        for c in fake.calls("chat.postMessage")
        if c.args.get("channel") == dm_channel_id("UALICE")
    ]
    assert not [c for c in slack_dm if mentions(c.args["text"], ref)]


def test_a_visit_requested_in_slack_is_reviewed_in_wecom(bot, cb, wecom, fake):
    task = f"From Slack {uuid.uuid4().hex[:6]}"
    reply = bot.command(
        f'visit request at="+3d 10:00" duration=1h room=SH1/A101 task="{task}" id=passport:1234',
        "UALICE",
    )
    ref = re.search(r"V-\d+", reply.json["text"]).group()
    _channel, ts = bot.card(ref)
    card = card_of(wecom, AMY_W, ref)
    click(bot, wecom, cb, AMY_W, card["task_id"], f"visit review {ref}")
    bot.wait_state(ref, "reviewed")
    fake.wait_for(
        "chat.update",
        1,
        10,
        lambda c: c.args["ts"] == ts and catalog("state.reviewed") in texts(c.args.get("blocks")),
    )


def test_token_expiry_mid_run_is_recovered(bot, cb, wecom):
    bot.settle()  # nothing of earlier tests still on its way
    wecom.expire_tokens()
    before = len(wecom.calls("message/send"))
    tokens = len(wecom.calls("gettoken"))
    say(bot, cb, ZHANG_W, "help")
    wecom.wait_for("message/send", before + 2, 10)
    refused, resent = wecom.calls("message/send")[before : before + 2]
    assert refused.errcode == 42001 and resent.ok  # refreshed once, then sent
    assert resent.body == refused.body
    assert len(wecom.calls("gettoken")) == tokens + 1


# ---- faults


def test_the_whole_fault_flow_in_wecom_from_declaring_to_the_report(bot, cb, wecom):
    title = f"Core switch {uuid.uuid4().hex[:6]}"
    say(bot, cb, ZHANG_W, f"故障 申报 一级 {title} system=sw-core-1")
    card = card_of(wecom, ZHANG_W, title)  # zhang's own copy, with buttons
    ref = re.search(r"F-\d+", texts(card)).group()
    wecom.wait_for(
        "appchat/send", 1, 10, lambda c: c.body.get("chatid") == "wrfaults" and ref in texts(c.body)
    )
    click(bot, wecom, cb, ZHANG_W, card["task_id"], f"fault ack {ref}")
    wecom.wait_for(
        "message/update_template_card", 1, 10, lambda c: c.ok and "已响应" in texts(c.body)
    )
    assert any(a.action == "fault.ack" and a.platform == "wecom" for a in bot.audit(ref))
    say(bot, cb, ZHANG_W, f"故障 解决 {ref} 更换了电源模块")
    bot.wait_state(ref, "resolved")
    say(bot, cb, ZHANG_W, f"故障 关闭 {ref} 原因=电源模块老化")
    bot.wait_state(ref, "closed")
    report = f"Fault handling report {ref}"  # in the group's language, the default one
    wecom.wait_for(
        "appchat/send",
        1,
        10,
        lambda c: c.body.get("chatid") == "wrfaults" and report in texts(c.body),
    )
    file = wait_message(wecom, ZHANG_W, msgtype="file")  # and the closer gets it as a file
    assert "电源模块老化" in wecom.media(file["file"]["media_id"])["data"].decode()
