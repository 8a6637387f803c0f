"""Repair records end to end in WeCom: `maintbot serve` runs for real (Slack served too); commands
typed in Chinese arrive as encrypted callbacks, the card comes back as a template card whose
buttons are clicked, the repair's log goes to the repairs group (WeCom has no threads), and the
maintenance report comes as markdown and as a file (uploaded media).

People (tests/org.yaml): zhang (ZhangWei, engineer, Chinese), dan (dan.w, manager, Chinese)
owns erp-db; the repairs group is wrrepairs (tests/repairs_server.py), where the bot writes in
the organisation's language (English here).
"""

import uuid

import pytest

from tests import repairs_server, slack_server, wecom_server
from tests.chat import catalog
from tests.repairs_server import WECOM_GROUP, ref_in, repair, wait_repair
from tests.slack_server import texts
from tests.wecom_server import card_of, click, content, say, wait_message

served_url, fake = slack_server.served_url, slack_server.fake
wecom, bot, cb = wecom_server.wecom, repairs_server.bot, wecom_server.cb

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ZHANG_W, DAN_W = "ZhangWei", "dan.w"
ALL_PASS = "硬件=通过 启动=通过 自检=通过 网络=通过 业务=通过"


def group(wecom, *words: str, msgtype: str | None = None, count: int = 1) -> list[dict]:
    """Wait for ``count`` messages to the repairs group showing every one of ``words``."""

    def match(call) -> bool:
        body = call.body or {}
        return (
            call.ok
            and body.get("chatid") == WECOM_GROUP
            and (msgtype is None or body.get("msgtype") == msgtype)
            and all(w in texts(body) for w in words)
        )

    return [c.body for c in wecom.wait_for("appchat/send", count, 10, match)]


def start(bot, cb, wecom, text: str) -> str:
    """zhang types ``维修 开始 <text>`` (with a unique task): the repair's reference."""
    task = f"更换内存{uuid.uuid4().hex[:6]}"
    say(bot, cb, ZHANG_W, f"维修 开始 {text} 任务={task}")
    return ref_in(content(wait_message(wecom, ZHANG_W, task, msgtype="template_card")))


def test_a_repair_typed_in_chinese_with_its_card_clicked_and_its_report_as_a_file(bot, cb, wecom):
    title = f"数据库宕机{uuid.uuid4().hex[:6]}"
    say(bot, cb, ZHANG_W, f"故障 申报 2 {title} 系统=erp-db")
    fault = ref_in(content(wait_message(wecom, ZHANG_W, title)), "F")
    ref = start(bot, cb, wecom, f"erp-db 类型=维修 关联={fault}")
    wait_message(wecom, ZHANG_W, catalog("repair.fault_acked", "zh", fault=fault))
    assert bot.state(fault) == "acknowledged"
    card = card_of(wecom, ZHANG_W, ref)
    keys = [b["key"] for b in card["button_list"]]
    assert f"repair complete {ref}" in keys
    assert ref in texts(group(wecom, ref, "erp-db", msgtype="markdown")[0])  # the group's copy

    # steps, a part from the list, the checklist: each a line of the log in the group
    say(bot, cb, ZHANG_W, f"维修 步骤 {ref} 诊断 “BMC 日志显示 DIMM B2 ECC 错误”")
    group(wecom, f"{ref} · #1 Diagnosis · 张伟: BMC 日志显示 DIMM B2 ECC 错误")
    say(bot, cb, ZHANG_W, f"维修 步骤 {ref} 维修 更换内存条")
    group(wecom, f"{ref} · #2 Repair work · 张伟: 更换内存条")
    say(bot, cb, ZHANG_W, f"维修 部件 {ref} 型号=DDR4-32G-RDIMM 旧序列号=A100 新序列号=B200")
    group(wecom, f"{ref} · part DDR4-32G-RDIMM ×1: A100 → B200")
    say(bot, cb, ZHANG_W, f"维修 状态 {ref} 维修前 状态=宕机 温度=30")
    say(bot, cb, ZHANG_W, f"维修 测试 {ref} {ALL_PASS}")
    group(wecom, f"{ref} · tests · 张伟: Hardware check passed")
    row = wait_repair(bot, ref, lambda r: len(r.checklist) == 5)
    assert [s.phase for s in row.steps] == ["diagnosis", "execution"]
    assert [(p.model, p.old_serial, p.new_serial, p.listed) for p in row.parts] == [
        ("DDR4-32G-RDIMM", "A100", "B200", True)
    ]
    assert row.state_before == {"status": "宕机", "temperature": 30}

    # the card's Complete button: completed, the report as a file and as markdown
    click(bot, wecom, cb, ZHANG_W, card["task_id"], f"repair complete {ref}")
    wait_repair(bot, ref, lambda r: r.state == "completed")
    sent = wecom.wait_for(
        "message/send",
        2,
        10,
        lambda c: c.ok and c.body.get("touser") == ZHANG_W and c.body.get("msgtype") == "file",
    )
    files = {wecom.media(s.body["file"]["media_id"])["filename"]: s for s in sent}
    assert set(files) == {f"{ref}-report.md", f"{ref}-report.pdf"}
    uploaded = wecom.media(files[f"{ref}-report.md"].body["file"]["media_id"])
    report = uploaded["data"].decode()
    assert report.startswith(f"# 维护报告 {ref}") and "B200" in report and fault in report
    group(wecom, f"Maintenance report {ref}", msgtype="markdown")
    files_in_group = group(wecom, msgtype="file", count=2)
    in_group = [wecom.media(f["file"]["media_id"])["filename"] for f in files_in_group]
    assert in_group[-2:] == [f"{ref}-report.md", f"{ref}-report.pdf"]
    # the owner verifies, in Chinese; the group hears it
    wait_message(wecom, DAN_W, ref, "维修 验证")
    say(bot, cb, DAN_W, f"维修 验证 {ref} 正常 反馈=订单业务正常")
    group(wecom, f"Dan Manager confirmed the business works after {ref}: 订单业务正常")
    row = wait_repair(bot, ref, lambda r: r.verification is not None)
    assert row.verification["answer"] == "ok"


def test_a_button_that_needs_more_tells_what_to_type(bot, cb, wecom):
    ref = start(bot, cb, wecom, "erp-db")
    card = card_of(wecom, ZHANG_W, ref)
    [step] = [b["key"] for b in card["button_list"] if f"repair step {ref}" in b["key"]]
    click(bot, wecom, cb, ZHANG_W, card["task_id"], step)
    said = content(wait_message(wecom, ZHANG_W, f"repair step {ref}", msgtype="markdown"))
    hint = catalog("prompt.repair_step", "zh")  # the button's own question, not "a reason"
    assert catalog("wecom.type_answer", "zh", hint=hint, command=f"repair step {ref}") in said
    assert repair(bot, ref).steps == []


# ---- bad input: a clear answer, nothing changed


def test_bad_repair_input_in_wecom_is_refused_in_chinese_and_changes_nothing(bot, cb, wecom):
    ref = start(bot, cb, wecom, "erp-db")
    say(bot, cb, ZHANG_W, f"维修 测试 {ref} 风扇=通过")
    known = "hardware, boot, selftest, network, business"
    wait_message(wecom, ZHANG_W, catalog("error.repair_item", "zh", value="风扇", known=known))
    say(bot, cb, ZHANG_W, "维修 报告 R-999")
    wait_message(wecom, ZHANG_W, catalog("error.not_found", "zh", ref="R-999"))
    say(bot, cb, ZHANG_W, f"维修 完成 {ref}")
    items = "硬件检测, 系统启动, 自检程序, 网络连通性, 业务功能验证"
    wait_message(wecom, ZHANG_W, catalog("error.repair_items_open", "zh", ref=ref, items=items))
    bot.settle()
    row = repair(bot, ref)
    assert (row.state, row.checklist, row.report) == ("in_progress", {}, None)
    assert repairs_server.audit_count(bot, ref) == 1  # the start alone
