"""Shutdown approvals end to end in WeCom, and across platforms: `maintbot serve` runs for real
with Slack and WeCom; WeCom's encrypted callbacks arrive over loopback and the bot's calls land
on the fake WeCom and the fake Slack.

The organisation (tests/org.yaml): erp-db <- erp <- crm at SH1; erp-db's owner is dan (dan.w,
a manager, Chinese); amy (amy.w) is a supervisor on WeCom, carol (UCAROL) on Slack; zhang
(ZhangWei) writes Chinese, alice (alice.w / UALICE) English. The shutdowns group is wrshutdowns.
"""

import re
import uuid

import icalendar
import pytest

from tests import slack_server, wecom_server
from tests.chat import catalog
from tests.fake_slack import dm_channel_id
from tests.slack_server import mentions, texts, wait_updated
from tests.wecom_server import card_of, click, content, say, wait_message

served_url, fake = slack_server.served_url, slack_server.fake
wecom, bot, cb = wecom_server.wecom, wecom_server.bot, wecom_server.cb

# The adapters do not depend on the backend: the workflow's own tests run on every one.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ALICE_W, AMY_W, DAN_W, ZHANG_W = "alice.w", "amy.w", "dan.w", "ZhangWei"
CAROL = "UCAROL"
GROUP = "wrshutdowns"


def group_heard(wecom, ref: str, *words: str, timeout: float = 10.0) -> str:
    """The first message in the shutdowns group naming ``ref`` and showing ``words``."""

    def match(call) -> bool:
        body = call.body or {}
        shown = texts(body)
        return (
            call.ok
            and body.get("chatid") == GROUP
            and ref in shown
            and all(w in shown for w in words)
        )

    return texts(wecom.wait_for("appchat/send", 1, timeout, match)[0].body)


def chinese_request(days: int, reason: str) -> str:
    """A request typed in Chinese, every field by its Chinese name (dates in Chinese quotes)."""
    return (
        f"停机 申请 系统=erp-db 开始=“+{days}d 02:00” 结束=“+{days}d 05:00” 原因={reason} "
        "影响=ERP暂停使用 回退=回刷旧固件 备份=备份任务4711"
    )


def test_a_request_typed_in_chinese_is_filed_and_approved_by_a_click_on_its_card(bot, cb, wecom):
    # what is missing is answered in the writer's language, by field
    say(bot, cb, ZHANG_W, "停机 申请 系统=erp-db")
    missing = content(wait_message(wecom, ZHANG_W, "回退方案"))
    assert "开始时间" in missing and "备份" in missing and "系统" not in missing
    reason = f"固件升级{uuid.uuid4().hex[:6]}"
    say(bot, cb, ZHANG_W, chinese_request(20, reason))
    filed = content(wait_message(wecom, ZHANG_W, "已提交停机申请"))
    ref = re.search(r"S-\d+", filed).group()
    assert filed.startswith(catalog("shutdown.filed", "zh", ref=ref))
    assert bot.state(ref) == "requested"
    # amy, a supervisor on WeCom, gets the card with its buttons; the group, its markdown
    card = card_of(wecom, AMY_W, ref)
    assert f"shutdown approve {ref}" in [b["key"] for b in card["button_list"]]
    assert "erp, crm" in texts(card)  # what goes down with erp-db
    assert reason in group_heard(wecom, ref, catalog("state.shutdown_requested"))
    # the click approves it; amy's card is rewritten with the outcome
    click(bot, wecom, cb, AMY_W, card["task_id"], f"shutdown approve {ref}")
    bot.wait_state(ref, "approved")
    wecom.wait_for(
        "message/update_template_card",
        1,
        10,
        lambda c: (
            c.ok
            and card["task_id"] in texts(c.body)
            and catalog("state.shutdown_approved") in texts(c.body)
        ),
    )
    # dan, who owns erp-db and reads WeCom in Chinese, is told, with the window as a file
    notice = content(wait_message(wecom, DAN_W, ref, msgtype="markdown"))
    assert notice.startswith(f"✅ 停机申请 {ref} 已批准：erp-db（及依赖它的 erp、crm）将于")
    assert "业务影响：ERP暂停使用" in notice and "回退方案：回刷旧固件" in notice
    assert not re.search(r"[A-Za-z]{4,}", notice.replace("erp-db", "").replace("ERP", ""))
    file = wait_message(wecom, DAN_W, msgtype="file")
    [event] = icalendar.Calendar.from_ical(wecom.media(file["file"]["media_id"])["data"]).walk(
        "VEVENT"
    )
    assert str(event["uid"]) == f"shutdown-{ref[2:]}@maintbot"
    assert "停机" in str(event["summary"])  # worded for dan: Chinese
    # zhang, who asked, hears it in Chinese; the group hears the new state
    wait_message(wecom, ZHANG_W, ref, "已批准", msgtype="markdown")
    group_heard(wecom, ref, catalog("state.shutdown_approved"))
    entry = bot.audit(ref, "shutdown.approve")[0]
    assert (entry.platform, entry.platform_user) == ("wecom", AMY_W)


def test_requested_in_wecom_approved_in_slack_and_both_sides_show_it(bot, cb, wecom, fake):
    reason = f"Disk swap {uuid.uuid4().hex[:6]}"
    say(
        bot,
        cb,
        ALICE_W,
        f'shutdown request systems=erp-db start="+27d 02:00" end="+27d 04:00" reason="{reason}" '
        'impact="ERP down" rollback="put the old disk back" backup=job-88',
    )
    ref = re.search(r"S-\d+", content(wait_message(wecom, ALICE_W, "filed"))).group()
    # the Slack channel card, carol's Slack card, amy's and dan's WeCom cards
    [posted] = fake.wait_for(
        "chat.postMessage",
        1,
        10,
        lambda c: c.ok and c.args["channel"] == "CSHUTDOWNS" and mentions(c.args["text"], ref),
    )
    channel, ts = posted.response["channel"], posted.response["ts"]
    amy_card, dan_card = card_of(wecom, AMY_W, ref), card_of(wecom, DAN_W, ref)
    # carol approves with the button of the Slack card
    bot.click(CAROL, channel, ts, "shutdown.approve", f"x-sd-{ref}")
    bot.wait_state(ref, "approved")
    wait_updated(fake, channel, ts, catalog("state.shutdown_approved"))
    # the WeCom cards show it too (rewritten with the codes of their sends), each in its reader's
    # language; the WeCom group hears it
    for task_id, label in (
        (amy_card["task_id"], catalog("state.shutdown_approved")),
        (dan_card["task_id"], catalog("state.shutdown_approved", "zh")),
    ):
        wecom.wait_for(
            "message/update_template_card",
            1,
            10,
            lambda c, task_id=task_id, label=label: (
                c.ok and task_id in texts(c.body) and label in texts(c.body)
            ),
        )
    group_heard(wecom, ref, catalog("state.shutdown_approved"))
    # alice, who asked in WeCom, is told there (with the .ics), not in Slack
    wait_message(wecom, ALICE_W, f"Shutdown {ref} is approved", msgtype="markdown")
    wait_message(wecom, ALICE_W, msgtype="file")
    bot.settle()
    alice_slack = [
        c
        for c in fake.calls("chat.postMessage")
        if c.args.get("channel") == dm_channel_id("UALICE") and mentions(c.args["text"], ref)
    ]
    assert alice_slack == []
    entry = bot.audit(ref, "shutdown.approve")[0]
    assert (entry.platform, entry.platform_user) == ("slack", CAROL)
    assert bot.audit(ref, "shutdown.request")[0].platform == "wecom"
