"""The maintenance report as a PDF (issue 13, item 7): handed out beside the Markdown at
completion and by ``repair report R-3``, written from the same archived facts, Chinese drawn
with a real CJK font. Each PDF is opened with pypdf and its text read back."""

import io
import re
from datetime import timedelta

from pypdf import PdfReader

from handlers.messages import File, from_dict
from tests.chat import Chat
from tests.conftest import BACKEND_AGNOSTIC
from tests.repairs_kit import declare, ok, repair, start, t

pytestmark = BACKEND_AGNOSTIC  # the backend is the storage tests' and the records' concern

ALL_PASS = "hardware=pass boot=pass selftest=na network=pass business=pass"


def pdf_text(data: bytes) -> tuple[int, list[str]]:
    """The number of pages and each page's text, without the NULs pypdf puts before each
    character of this font, nor any white space (lines wrap where the layout wants)."""
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), [
        re.sub(r"\s+", "", page.extract_text().replace("\x00", "")) for page in reader.pages
    ]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def the_pdf(messages) -> File:
    (pdf,) = [m for m in messages if isinstance(m, File) and m.name.endswith(".pdf")]
    assert pdf.mime == "application/pdf" and pdf.content.startswith(b"%PDF-")
    return pdf


def worked(chat: Chat, ref: str, steps: int = 1) -> None:
    ok(chat, "zhang", f'维修 步骤 {ref} 诊断 "BMC 日志显示内存条 B2 出现大量 ECC 错误"')
    for n in range(1, steps + 1):
        text = f"step {n}: reseated the riser, checked the cabling and cleaned the filters"
        ok(chat, "alice", f'repair step {ref} execution "{text} in rack row {n}"')
    ok(chat, "alice", f"repair part {ref} model=DDR4-32G-RDIMM old=SN-OLD-1 new=SN-NEW-1")
    ok(chat, "alice", f"repair part {ref} model=PSU-800W old=PSU-7781 new=PSU-9912 qty=2")
    ok(chat, "alice", f"repair state {ref} before status=degraded temperature=22 humidity=45%")
    ok(chat, "alice", f"repair state {ref} after status=ok temperature=23.5")
    ok(chat, "alice", f'repair check {ref} {ALL_PASS} note="内存压力测试 2 小时无报错"')


def test_completion_hands_out_the_pdf_beside_the_markdown(rchat, clock):
    f = declare(rchat)
    ref = start(rchat, f"erp-db link={f} engineers=zhang")
    worked(rchat, ref)
    clock.advance(timedelta(minutes=90))
    messages = rchat.say("alice", f"repair complete {ref}")
    names = [m.name for m in messages if isinstance(m, File)]
    assert names == [f"{ref}-report.md", f"{ref}-report.pdf"]
    pdf = the_pdf(messages)
    assert pdf.caption == t(rchat, "repair.rpt_pdf_caption", ref=ref)
    pages, text = pdf_text(pdf.content)
    body = "".join(text)
    for part in (f"Maintenance report {ref}", "erp-db", "SH1", f, "Alice Engineer", "1 h 30 min",
                 "Diagnosis findings", "BMC 日志显示内存条 B2 出现大量 ECC 错误", "张伟",
                 "Repair work", "reseated the riser", "DDR4-32G-RDIMM", "SN-OLD-1", "SN-NEW-1",
                 "PSU-7781", "PSU-9912", "Boot", "passed", "内存压力测试 2 小时无报错",
                 "status: degraded · temperature: 22 · humidity: 45", "temperature: 23.5",
                 t(rchat, "repair.verify_waiting", owners="Dan Manager")):  # fmt: skip
        assert squeeze(part) in body, part
    for page, page_text in enumerate(text, start=1):
        assert squeeze(t(rchat, "repair.rpt_page", ref=ref, page=page, pages=pages)) in page_text
    # zhang (Chinese) gets both files in Chinese, through the outbox
    rows = [from_dict(r.payload) for r in rchat.outbox(target="zhang") if r.kind == "file"]
    assert [m.name for m in rows] == [f"{ref}-report.md", f"{ref}-report.pdf"]
    pages, text = pdf_text(rows[1].content)
    zh = "".join(text)
    for part in (f"维护报告 {ref}", "诊断发现", "维修执行", "更换部件", "旧序列号", "SN-OLD-1",
                 "系统启动", "通过", "维修前", "业务验证", f"第1页，共{pages}页"):  # fmt: skip
        assert squeeze(part) in zh, part


def test_a_long_report_runs_onto_more_pages_with_its_header_row_repeated(rchat):
    ref = start(rchat, "erp-db engineers=zhang")
    worked(rchat, ref, steps=45)
    pages, text = pdf_text(the_pdf(rchat.say("alice", f"repair complete {ref}")).content)
    assert pages >= 2
    body = "".join(text)
    for n in range(1, 46):  # every step is there, once
        assert body.count(squeeze(f"step {n}: reseated the riser")) == 1, n
    for page, page_text in enumerate(text, start=1):
        assert squeeze(t(rchat, "repair.rpt_page", ref=ref, page=page, pages=pages)) in page_text
    # the steps table runs onto the second page with its header row again on top
    head = squeeze("# Time By Step")
    assert head in text[0] and text[1].startswith(head)


def test_the_report_gives_both_files_later_from_the_archive(rchat):
    ref = start(rchat, "erp-db engineers=zhang")
    worked(rchat, ref)
    ok(rchat, "alice", f"repair complete {ref}")
    ok(rchat, "dan", f"维修 验证 {ref} 正常 反馈=订单系统恢复正常")
    archived = repair(rchat, ref).report_data
    assert archived["zh"]["verification"] == "Dan Manager 已确认正常：订单系统恢复正常"
    messages = rchat.say("dan", f"维修 报告 {ref}")
    assert [m.name for m in messages if isinstance(m, File)] == [
        f"{ref}-report.md", f"{ref}-report.pdf"
    ]  # fmt: skip
    zh = "".join(pdf_text(the_pdf(messages).content)[1])
    assert squeeze("Dan Manager 已确认正常：订单系统恢复正常") in zh
    assert squeeze(f"维护报告 {ref}") in zh


def test_the_pdf_says_what_the_archive_says_after_a_reopen(rchat):
    """Reopened, the record changes; the archived report (and so its PDF) is the completed one
    until the next completion writes a new one."""
    ref = start(rchat, "erp-db engineers=zhang")
    worked(rchat, ref)
    ok(rchat, "alice", f"repair complete {ref}")
    ok(rchat, "alice", f"repair reopen {ref} fans still loud")
    text = "".join(pdf_text(the_pdf(rchat.say("alice", f"repair report {ref}")).content)[1])
    assert squeeze(t(rchat, "repair.verify_waiting", owners="Dan Manager")) in text
    assert squeeze(repair(rchat, ref).report_data["en"]["duration"]) in text
