"""Repair records end to end in Slack: `maintbot serve` runs for real (WeCom served too, where
dan, erp-db's business owner, reads his notices). The card goes to the repairs channel and the
repair's log — every step, part, test, reading and the maintenance report — to that card's
thread; commands typed in the thread (a mention) work there and are answered there.

People (tests/org.yaml): alice (UALICE) engineer, bob (UBOB) admin, carol (UCAROL) supervisor,
dan (dan.w, WeCom, Chinese) owns erp-db, whose specified spare parts are DDR4-32G-RDIMM and
SSD-960G (tests/repairs_server.py).
"""

import uuid

import pytest

from tests import repairs_server, slack_server, wecom_server
from tests import slack_requests as sr
from tests.chat import catalog
from tests.fake_slack import dm_channel_id
from tests.repairs_server import SLACK_CHANNEL, ref_in, repair, wait_repair
from tests.slack_server import buttons, texts, wait_dm, wait_updated
from tests.wecom_server import wait_message

served_url, fake = slack_server.served_url, slack_server.fake
wecom, bot = wecom_server.wecom, repairs_server.bot

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
ALL_PASS = "hardware=pass boot=pass selftest=pass network=pass business=pass"


def said(bot, text: str, user: str = ALICE) -> str:
    """The answer to ``/maint text``: its text (every message of it, one after the other), in
    the acknowledgement or, when it comes late, at the response URL (a post per message)."""
    hook = f"cmd-{uuid.uuid4().hex[:10]}"
    reply = bot.command(text, user, hook=hook)
    assert reply.status == 200, reply.text
    if reply.json and reply.json.get("blocks"):
        return reply.json["text"]
    bot.fake.wait_for(f"hooks/{hook}")
    bot.settle()  # its messages were queued together: all of them are sent now
    return "\n".join(c.args["text"] for c in bot.fake.calls(f"hooks/{hook}"))


def thread(fake, ts: str, *words: str, count: int = 1) -> list[str]:
    """Wait for ``count`` replies in the thread of ``ts`` showing every one of ``words``."""
    calls = fake.wait_for(
        "chat.postMessage",
        count,
        10,
        lambda c: (
            c.ok
            and c.args.get("thread_ts") == ts
            and c.args.get("channel") == SLACK_CHANNEL
            and all(w in texts(c.args) for w in words)
        ),
    )
    return [texts(c.args) for c in calls]


def started(bot, fake, text: str) -> tuple[str, str]:
    """``repair start <text>`` by alice: the repair's reference and its card's ts."""
    ref = ref_in(said(bot, f"repair start {text}"))
    channel, ts = bot.card(ref, SLACK_CHANNEL)
    assert channel == SLACK_CHANNEL
    return ref, ts


def test_a_repair_of_a_fault_from_start_to_report_in_its_thread(bot, fake, wecom):
    title = f"ERP database down {uuid.uuid4().hex[:6]}"
    fault = ref_in(said(bot, f'fault declare 2 "{title}" system=erp-db', CAROL), "F")
    ref, ts = started(bot, fake, f"erp-db kind=repair link={fault}")
    assert bot.state(fault) == "acknowledged"  # starting the repair acknowledged the fault
    card = fake.message(SLACK_CHANNEL, ts)
    assert fault in texts(card["blocks"]) and "erp-db" in texts(card["blocks"])
    assert buttons(card)[:4] == ["repair.step", "repair.part", "repair.check", "repair.state"]

    # a typed step, then one through the card's button and its modal: both in the thread
    said(bot, f'repair step {ref} diagnosis "BMC log shows DIMM B2 ECC errors"')
    thread(fake, ts, f"{ref} · #1 Diagnosis · Alice Engineer: BMC log shows DIMM B2 ECC errors")
    bot.click(ALICE, SLACK_CHANNEL, ts, "repair.step", f"step-{ref}", trigger_id=f"step-{ref}")
    modal = bot.modal(f"step-{ref}")
    assert catalog("prompt.repair_step") in texts(modal)
    bot.submit(ALICE, modal, {"answer": 'execution "Replaced DIMM B2"'})
    thread(fake, ts, f"{ref} · #2 Repair work · Alice Engineer: Replaced DIMM B2")
    card = wait_updated(fake, SLACK_CHANNEL, ts, "Replaced DIMM B2")  # the card's last steps

    # a part off the list of specified spare parts: recorded, flagged, carol told
    answer = said(bot, f"repair part {ref} model=DDR5-64G old=SN-OLD-1 new=SN-NEW-1")
    assert catalog("repair.part_flagged", model="DDR5-64G") in answer
    wait_dm(fake, CAROL, ref, "DDR5-64G")
    thread(fake, ts, "part DDR5-64G ×1: SN-OLD-1 → SN-NEW-1", "not a specified spare part")

    # readings, and the checklist: completion is refused while items are open
    said(bot, f"repair state {ref} before status=down temperature=31 humidity=40")
    thread(fake, ts, "state before", "temperature: 31")
    said(bot, f"repair check {ref} hardware=pass boot=pass network=fail note=link-down")
    thread(fake, ts, "Network connectivity failed", "link-down")
    refused = said(bot, f"repair complete {ref}")
    items = "Self-test, Network connectivity, Business function"
    assert refused == catalog("error.repair_items_open", ref=ref, items=items)
    assert repair(bot, ref).state == "in_progress"
    said(bot, f"repair check {ref} {ALL_PASS}")
    said(bot, f"repair state {ref} after status=ok temperature=24")

    # done: the report in the thread, as text and as a Markdown file (Slack's external upload)
    done = said(bot, f"repair complete {ref}")
    assert catalog("repair.completed", ref=ref, hours=24) in done
    [report] = thread(fake, ts, f"Maintenance report {ref}")
    assert "SN-OLD-1" in report and "BMC log shows DIMM B2 ECC errors" in report
    uploads = fake.wait_for(
        "files.completeUploadExternal",
        2,
        10,
        lambda c: c.ok and c.args["files"][0]["title"] == f"{ref}-report.md",
    )
    where = {(c.args["channel_id"], c.args.get("thread_ts")) for c in uploads}
    assert where == {(SLACK_CHANNEL, ts), (dm_channel_id(ALICE), None)}
    uploaded = fake.file(uploads[0].args["files"][0]["id"])["data"].decode()
    assert uploaded.startswith(f"# Maintenance report {ref}") and "DDR5-64G" in uploaded
    # the owner is asked to verify, in WeCom, in Chinese
    wait_message(wecom, "dan.w", ref, "维修 验证")
    wait_updated(fake, SLACK_CHANNEL, ts, catalog("state.repair_completed"))

    # the fault's handling report at close has the repair's parts
    said(bot, f'fault resolve {fault} "DIMM replaced"', BOB)
    said(bot, f'fault close {fault} cause="A failing DIMM"', BOB)
    [posted] = fake.wait_for(
        "chat.postMessage",
        1,
        10,
        lambda c: c.args.get("channel") == "CFAULTS" and f"report {fault}" in c.args["text"],
    )
    assert ref in texts(posted.args) and "DDR5-64G" in texts(posted.args)
    assert "SN-OLD-1" in texts(posted.args)


def test_a_command_typed_in_the_repairs_thread_is_done_and_answered_there(bot, fake):
    ref, ts = started(bot, fake, 'erp-db kind=maintenance task="Clean the fans"')
    mention = sr.app_mention(f'repair step {ref} cleaning "Fans dusted"', ALICE, SLACK_CHANNEL,
                             thread_ts=ts)  # fmt: skip
    assert bot.post(sr.event(mention)).status == 200
    wait_repair(bot, ref, lambda r: len(r.steps) == 1)
    # the answer and the log line, both in the thread, in whichever order they are sent
    thread(fake, ts, catalog("repair.step_recorded", ref=ref, number=1))
    thread(fake, ts, f"{ref} · #1 Cleaning and care · Alice Engineer: Fans dusted")
    mention = sr.app_mention(f"repair show {ref}", BOB, SLACK_CHANNEL, thread_ts=ts)
    bot.post(sr.event(mention))
    thread(fake, ts, "Fans dusted", catalog("state.repair_in_progress"))


# ---- bad input: a clear answer, nothing changed


def test_bad_repair_input_in_slack_is_refused_and_changes_nothing(bot, fake):
    ref, ts = started(bot, fake, "erp-db")
    said(bot, f"repair check {ref} {ALL_PASS}")
    said(bot, f"repair complete {ref}")
    wait_repair(bot, ref, lambda r: r.state == "completed")
    bot.settle()
    before, logged = repairs_server.audit_count(bot, ref), len(fake.calls("chat.postMessage"))

    answer = said(bot, f'repair step {ref} diagnosis "too late"')
    assert "is completed, under follow-up" in answer and '"Add step" is not possible now' in answer
    other, _ = started(bot, fake, "erp-db")
    answer = said(bot, f"repair check {other} bogus=pass")
    assert answer == catalog("error.repair_item", value="bogus",
                             known="hardware, boot, selftest, network, business")  # fmt: skip
    answer = said(bot, "repair report R-999")
    assert answer == catalog("error.not_found", ref="R-999")
    answer = said(bot, f"repair part {ref} model=SSD-960G old=SN-1 new=SN-1")
    assert "is completed" in answer  # the state is checked before the serials

    bot.settle()
    assert repairs_server.audit_count(bot, ref) == before
    assert repair(bot, other).checklist == {}
    assert [s.text for s in repair(bot, ref).steps] == []
    new_posts = fake.calls("chat.postMessage")[logged:]
    assert not [c for c in new_posts if c.args.get("thread_ts") == ts]
