"""Closing a repair in the core (issue 13, items 4–7): the test checklist (000 §5's items, or the
organisation's per system type), readings before and after kept as numbers, completion refused
with items open unless a supervisor overrides, the maintenance report archived in both
languages, posted and handed out, the business owner's verification, and the fault handling
report of the linked fault with the repair's steps and parts."""

from datetime import timedelta

import pytest

from handlers.messages import File
from tests.chat import Chat
from tests.conftest import BACKEND_AGNOSTIC
from tests.repairs_kit import declare, ok, refused, repair, start, t

pytestmark = BACKEND_AGNOSTIC  # the backend is the storage tests' and the records' concern

ALL_PASS = "hardware=pass boot=pass selftest=na network=pass business=pass"


def files(messages) -> list[File]:
    return [m for m in messages if isinstance(m, File)]


def worked(chat: Chat, ref: str) -> None:
    """Steps, a part, the state before and after and the checklist, as a repair records them."""
    ok(chat, "alice", f'repair step {ref} diagnosis "BMC log shows DIMM B2 ECC errors"')
    ok(chat, "alice", f'repair step {ref} execution "replaced DIMM B2"')
    ok(chat, "alice", f"repair part {ref} model=DDR4-32G-RDIMM old=SN-OLD-1 new=SN-NEW-1")
    ok(chat, "alice", f"repair state {ref} before status=degraded temperature=22 humidity=45%")
    ok(chat, "alice", f"repair state {ref} after status=ok temperature=23.5")
    ok(chat, "alice", f"repair check {ref} {ALL_PASS}")


# ---- the checklist


def test_the_default_checklist_in_english_and_chinese_words(rchat):
    ref = start(rchat, "erp-db engineers=zhang")
    ok(rchat, "alice", f'repair check {ref} hardware=pass boot=fail note="POST hangs"')
    ok(rchat, "zhang", f"维修 测试 {ref} 自检=不适用 网络连通性=通过 启动=通过")
    checklist = repair(rchat, ref).checklist
    assert {item: a["result"] for item, a in checklist.items()} == {
        "hardware": "pass", "boot": "pass", "selftest": "na", "network": "pass"
    }  # fmt: skip
    assert checklist["hardware"]["note"] == "POST hangs"
    assert checklist["boot"]["by"] == "张伟"
    tests = {f.label: f.value for f in rchat.card("alice", f"repair show {ref}").fields}
    counts = {"pass": 3, "fail": 0, "na": 1, "open": 1}
    assert tests[t(rchat, "field.checklist")] == t(rchat, "repair.tally", counts=counts)


def test_a_checklist_per_system_type(rchat):
    ref = start(rchat, "sw-core-1")
    assert repair(rchat, ref).checklist_items == ["hardware", "boot", "network", "redundancy"]
    ok(rchat, "alice", f"repair check {ref} redundancy=pass")
    answer = refused(rchat, "alice", f"repair check {ref} business=pass")
    assert answer == t(rchat, "error.repair_item", value="business",
                       known="hardware, boot, network, redundancy")  # fmt: skip


def test_an_unknown_result_is_refused(rchat):
    ref = start(rchat, "erp-db")
    assert refused(rchat, "alice", f"repair check {ref} boot=maybe") == t(
        rchat, "error.repair_result", value="maybe", known="pass, fail, na"
    )


# ---- readings


def test_readings_are_kept_as_numbers_where_they_are_numbers(rchat):
    ref = start(rchat, "erp-db")
    ok(rchat, "alice", f"repair state {ref} before status=ok temperature=22 humidity=45% load=0.7")
    ok(rchat, "alice", f"repair state {ref} after 状态=正常 温度=23°C")
    r = repair(rchat, ref)
    assert r.state_before == {"status": "ok", "temperature": 22.0, "humidity": 45.0, "load": 0.7}
    assert r.state_after == {"status": "正常", "temperature": 23.0}
    body = rchat.card("alice", f"repair show {ref}").body
    assert "status: ok · temperature: 22 · humidity: 45 · load: 0.7" in body


# ---- completion


def test_completion_is_refused_while_an_item_is_open_or_failed(rchat):
    ref = start(rchat, "erp-db")
    ok(rchat, "alice", f"repair check {ref} hardware=pass boot=fail selftest=na business=pass")
    answer = refused(rchat, "alice", f"repair complete {ref}")
    assert answer == t(rchat, "error.repair_items_open", ref=ref,
                       items="Boot, Network connectivity")  # fmt: skip
    # an override needs a supervisor
    assert refused(rchat, "alice", f'repair complete {ref} override="urgent"') == t(
        rchat, "error.need_role", role="supervisor"
    )


def test_a_supervisor_overrides_with_a_reason(rchat):
    ref = start(rchat, "erp-db")
    ok(rchat, "amy", f'repair complete {ref} override="network team checks the uplink tomorrow"')
    r = repair(rchat, ref)
    assert r.state == "completed"
    assert r.override == {
        "reason": "network team checks the uplink tomorrow",
        "by": "Amy Admin",
        "items": ["hardware", "boot", "selftest", "network", "business"],
    }
    assert "overridden by Amy Admin: network team checks" in r.report["en"]
    (entry,) = [e for e in rchat.audit() if e.action == "repair.override"]
    assert entry.comment == "network team checks the uplink tomorrow"


def test_completion_archives_the_report_posts_it_hands_it_out_and_asks_the_owner(rchat, clock):
    f = declare(rchat)
    ref = start(rchat, f"erp-db link={f} engineers=erin")
    worked(rchat, ref)
    clock.advance(timedelta(minutes=90))
    messages = rchat.say("alice", f"repair complete {ref}")
    report_file, pdf_file = files(messages)
    assert report_file.name == f"{ref}-report.md" and report_file.mime == "text/markdown"
    assert pdf_file.name == f"{ref}-report.pdf" and pdf_file.mime == "application/pdf"
    r = repair(rchat, ref)
    assert r.state == "completed" and r.completed_at == clock.now()
    assert report_file.content == r.report["en"]
    en, zh = r.report["en"], r.report["zh"]
    for part in (f"# Maintenance report {ref}", "| System | erp-db |", "| Site | SH1 |",
                 "| Linked to | F-1 |", "1 h 30 min",
                 "## Diagnosis findings", "BMC log shows DIMM B2 ECC errors", "### Repair work",
                 "| DDR4-32G-RDIMM | SN-OLD-1 | SN-NEW-1 | 1 | yes |",
                 "| Boot | passed |", "| Self-test | not applicable |",
                 "- Before: status: degraded · temperature: 22 · humidity: 45",
                 "- After: status: ok · temperature: 23.5",
                 t(rchat, "repair.verify_waiting", owners="Dan Manager")):  # fmt: skip
        assert part in en, part
    for part in (
        f"# 维护报告 {ref}",
        "## 诊断发现",
        "### 维修执行",
        "| 系统启动 | 通过 |",
        "- 维修前：运行状态: degraded",
        t(rchat, "duration", "zh", hours=1, minutes=30),
    ):
        assert part in zh, part
    assert en in rchat.notices("#repairs")  # the channel: in the default language (en here)
    erin_files = [row for row in rchat.outbox(target="erin") if row.kind == "file"]
    assert [row.payload["name"] for row in erin_files] == [f"{ref}-report.md", f"{ref}-report.pdf"]
    assert erin_files[0].payload["content"] == en
    ask = t(rchat, "repair.verify_ask", "zh", ref=ref, system="erp-db")
    assert ask in rchat.notices("dan")
    due = [d for d in _deadlines(rchat) if d.kind == "repair.followup"]
    assert [(d.due_at, d.status) for d in due] == [(clock.now() + timedelta(hours=24), "pending")]


def _deadlines(chat):
    from tests.visits_kit import deadlines

    return deadlines(chat)


def test_the_report_is_retrievable_later_in_the_readers_language(rchat):
    ref = start(rchat, "erp-db")
    assert refused(rchat, "alice", f"repair report {ref}") == t(
        rchat, "error.repair_no_report", ref=ref
    )
    worked(rchat, ref)
    ok(rchat, "alice", f"repair complete {ref}")
    messages = rchat.say("dan", f"维修 报告 {ref}")
    assert messages[0].text == repair(rchat, ref).report["zh"]
    assert files(messages)[0].content == repair(rchat, ref).report["zh"]


# ---- business verification


def test_the_owner_verifies_and_the_report_says_so(rchat):
    ref = start(rchat, "erp-db engineers=erin")
    worked(rchat, ref)
    ok(rchat, "alice", f"repair complete {ref}")
    assert refused(rchat, "erin", f"repair verify {ref} ok") == t(
        rchat, "error.repair_not_owner", ref=ref
    )
    ok(rchat, "dan", f"维修 验证 {ref} 正常 反馈=订单系统恢复正常")
    r = repair(rchat, ref)
    assert {k: r.verification[k] for k in ("answer", "feedback", "by")} == {
        "answer": "ok", "feedback": "订单系统恢复正常", "by": "Dan Manager"
    }  # fmt: skip
    assert "confirmed by Dan Manager: 订单系统恢复正常" in r.report["en"]
    told = t(
        rchat, "repair.verified_notice_ok", ref=ref, by="Dan Manager", feedback="订单系统恢复正常"
    )
    assert told in rchat.notices("erin") and told in rchat.notices("alice")


def test_a_problem_needs_feedback_and_the_admins_hear_of_it(rchat):
    ref = start(rchat, "erp-db")
    worked(rchat, ref)
    ok(rchat, "alice", f"repair complete {ref}")
    assert refused(rchat, "dan", f"repair verify {ref} problem") == t(
        rchat, "error.repair_feedback_needed", "zh", ref=ref
    )
    ok(rchat, "dan", f'repair verify {ref} problem feedback="reports are slow"')
    told = t(rchat, "repair.verified_notice_problem", ref=ref, by="Dan Manager",
             feedback="reports are slow")  # fmt: skip
    assert told in rchat.notices("bob") and told in rchat.notices("alice")


# ---- the fault handling report


def test_the_fault_report_lists_the_repairs_steps_and_parts(rchat):
    f = declare(rchat)
    ref = start(rchat, f"erp-db link={f}")
    worked(rchat, ref)
    ok(rchat, "alice", f'repair step {ref} diagnosis correction="DIMM B1, not B2"')
    ok(rchat, "carol", f"fault resolve {f} DIMM replaced")
    (report,) = files(rchat.say("carol", f"fault close {f} cause=failed DIMM"))
    assert f"- {ref} #1 " in report.content
    assert "Diagnosis · Alice Engineer: BMC log shows DIMM B2 ECC errors" in report.content
    assert "DIMM B1, not B2 (corrects #1)" in report.content
    assert f"- {ref} DDR4-32G-RDIMM ×1: SN-OLD-1 → SN-NEW-1" in report.content
    assert "None recorded" not in report.content


def test_a_fault_without_repairs_says_none_were_recorded(rchat):
    f = declare(rchat)
    ok(rchat, "carol", f"fault resolve {f} restarted")
    (report,) = files(rchat.say("carol", f"fault close {f} cause=hung process"))
    assert report.content.count("None recorded.") == 2
    g = declare(rchat, "3 disk alarm")
    ok(rchat, "dan", f"fault resolve {g} replaced")
    (zh,) = files(rchat.say("dan", f"fault close {g} cause=worn disk"))
    assert zh.content.count("暂无记录。") == 2


@pytest.mark.parametrize("kind", ["maintenance"])
def test_a_planned_maintenance_reports_its_stages(rchat, kind):
    ref = start(rchat, f"erp-db kind={kind}")
    ok(rchat, "alice", f"repair step {ref} preparation backup job-4711 verified")
    ok(rchat, "alice", f"repair step {ref} updates firmware 2.3 applied")
    ok(rchat, "alice", f"repair check {ref} {ALL_PASS}")
    ok(rchat, "alice", f"repair complete {ref}")
    en = repair(rchat, ref).report["en"]
    assert "## Diagnosis findings" not in en
    assert "### Preparation and backup" in en and "### System and application updates" in en
