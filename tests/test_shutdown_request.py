"""Filing a shutdown request (停机申请): the typed grammar in both languages, the card with what
goes down along, the notice list from the systems' owners, and every request refused for its
input, in the user's language, with nothing changed."""

import pytest

from tests.conftest import BACKEND_AGNOSTIC
from tests.shutdowns_kit import (
    DETAILS,
    REQUEST,
    SUNDAY,
    ZH_REQUEST,
    audit_of,
    ok,
    refused,
    request,
    sh,
    shutdown,
    t,
)

pytestmark = BACKEND_AGNOSTIC


def test_every_field_is_stored_and_the_card_names_what_goes_down_along(chat):
    ok(chat, "bob", "fault declare 3 slow system=erp-db")
    answer = ok(chat, "alice", f"{REQUEST} notify=bob engineers=zhang link=F-1")
    assert answer.startswith(t(chat, "shutdown.filed", ref="S-1"))
    row = shutdown(chat, "S-1")
    assert (row.state, row.site_code, row.systems) == ("requested", "SH1", ["erp-db"])
    assert (row.starts_at, row.ends_at) == (sh(2026, 11, 29, 2, 0), sh(2026, 11, 29, 6, 0))
    assert row.planned_end_at == row.ends_at
    assert (row.reason, row.impact, row.rollback) == (
        "firmware upgrade",
        "ERP unavailable",
        "reflash",
    )
    assert row.backup == "job-4711"
    assert row.notify == ["bob"]
    assert row.link_ref == "F-1" and row.emergency is False
    assert row.requester.handle == "alice"
    assert len(row.engineer_ids) == 2  # the requester works in the window too
    assert row.chain == [{"role": "supervisor"}] and row.approved_steps == 0
    # the card: erp and crm depend on erp-db (crm through erp), so they go down along
    assert "Window: 2026-11-29 02:00 – 06:00" in answer
    assert "Systems: erp-db" in answer
    assert f"{t(chat, 'field.taken_along')}: erp, crm" in answer
    assert "Backup: job-4711" in answer and "Linked to: F-1" in answer
    [entry] = audit_of(chat, "S-1")
    assert (entry.action, entry.new_state, entry.actor_id) == ("shutdown.request", "requested", 1)


def test_the_chinese_aliases_file_the_same_request_and_answer_in_chinese(chat):
    answer = ok(chat, "zhang", ZH_REQUEST)
    assert answer.startswith(t(chat, "shutdown.filed", "zh", ref="S-1"))
    assert f"{t(chat, 'field.taken_along', 'zh')}: erp, crm" in answer
    row = shutdown(chat, "S-1")
    assert row.systems == ["erp-db"] and row.backup == "job-4711"
    assert (row.reason, row.impact, row.rollback) == ("固件升级", "ERP不可用", "刷回旧固件")
    assert row.starts_at == sh(2026, 11, 29, 2, 0)


def test_the_card_goes_to_the_approvers_and_the_shutdowns_channel(chat):
    request(chat)
    targets = sorted(r.target for r in chat.outbox() if r.payload["kind"] == "card")
    # supervisor level: carol, amy (admin and supervisor) and dan (a manager)
    assert targets == ["#shutdowns", "amy", "carol", "dan"]


def test_owners_of_every_system_taken_down_are_on_the_notice_list(chat):
    ref = request(chat, extra="notify=bob")
    ok(chat, "carol", f"shutdown approve {ref}")
    told = {r.target for r in chat.outbox() if r.payload["kind"] == "text"}
    # the requester, the notify list, dan (erp-db) and erin (erp, a dependant) and erp's channel
    assert told == {"alice", "bob", "dan", "erin", "#erp"}


def test_several_systems_of_one_site_are_stored_as_the_file_spells_them(chat):
    request(chat, text=f"shutdown request systems=ERP,crm,erp {SUNDAY} {DETAILS}")
    assert shutdown(chat, "S-1").systems == ["erp", "crm"]


@pytest.mark.parametrize("link", ["V-1", "F-1"])
def test_a_link_to_a_visit_or_a_fault_is_stored(chat, link):
    if link == "V-1":
        ok(chat, "alice", 'visit request at="2026-11-25 09:00" duration=2h room=SH1/A101 '
           "task=disk id=passport:E1234567")  # fmt: skip
    else:
        ok(chat, "bob", "fault declare 3 slow system=erp-db")
    ref = request(chat, extra=f"link={link}")
    assert shutdown(chat, ref).link_ref == link


# --- refused, in the user's language, with nothing changed ----------------------------------


def test_an_unknown_system_is_refused_with_the_nearest_names(chat):
    text = REQUEST.replace("systems=erp-db", "systems=erp-dv")
    answer = refused(chat, "alice", text)
    assert answer.startswith('No system "erp-dv". Known: erp-db')
    zh = refused(chat, "zhang", ZH_REQUEST.replace("系统=erp-db", "系统=erp-dv"))
    assert zh == t(chat, "error.unknown_system", "zh", value="erp-dv", near="erp-db, erp")


def test_systems_at_two_sites_are_refused(chat):
    text = REQUEST.replace("systems=erp-db", "systems=erp-db,mail")
    assert refused(chat, "alice", text) == t(chat, "error.shutdown_sites", sites="BJ2, SH1")
    zh = refused(chat, "dan", text)
    assert zh == t(chat, "error.shutdown_sites", "zh", sites="BJ2, SH1")


@pytest.mark.parametrize("backup", ["", 'backup=""', "backup=' '"])
def test_a_request_without_a_backup_is_refused(chat, backup):
    text = REQUEST.replace("backup=job-4711", backup)
    answer = refused(chat, "alice", text)
    assert answer == t(chat, "error.missing_fields", fields=["shutdown.backup"])
    zh = refused(chat, "zhang", ZH_REQUEST.replace("备份=job-4711", backup))
    assert zh == t(chat, "error.missing_fields", "zh", fields=["shutdown.backup"])
    assert "备份" in zh


def test_a_reversed_window_is_refused(chat):
    text = REQUEST.replace(SUNDAY, 'start="2026-11-29 06:00" end="2026-11-29 02:00"')
    assert refused(chat, "alice", text) == t(chat, "error.shutdown_reversed")
    assert refused(chat, "zhang", text) == t(chat, "error.shutdown_reversed", "zh")
    same = REQUEST.replace(SUNDAY, 'start="2026-11-29 02:00" end="2026-11-29 02:00"')
    assert refused(chat, "alice", same) == t(chat, "error.shutdown_reversed")


def test_a_window_in_the_past_is_refused(chat):
    text = REQUEST.replace(SUNDAY, 'start="2026-11-20 02:00" end="2026-11-20 06:00"')
    assert refused(chat, "alice", text) == "2026-11-20 02:00 is in the past; pick a future time."
    zh = refused(chat, "zhang", text)
    assert zh == t(chat, "error.past_date", "zh", value=sh(2026, 11, 20, 2, 0))
    # already started an hour ago, even as an emergency (15 minutes' grace at most)
    ok(chat, "bob", "fault declare 1 down system=erp-db")
    started = REQUEST.replace(SUNDAY, 'start="2026-11-23 09:00" end="+2h"')
    assert "in the past" in refused(chat, "alice", f"{started} emergency=yes link=F-1")


def test_a_window_longer_than_the_maximum_is_refused(chat, org):
    text = REQUEST.replace(SUNDAY, 'start="2026-11-29 02:00" end="2026-11-30 03:00"')
    assert refused(chat, "alice", text) == t(chat, "error.shutdown_too_long", hours=24)
    org.shutdowns.max_hours = 2
    assert refused(chat, "zhang", REQUEST) == t(chat, "error.shutdown_too_long", "zh", hours=2)


def test_a_link_that_is_neither_a_visit_nor_a_fault_is_refused(chat):
    answer = refused(chat, "alice", f"{REQUEST} link=S-1")
    assert answer == t(chat, "error.shutdown_link", value="S-1")


def test_a_link_to_a_visit_or_fault_that_does_not_exist_is_refused(chat):
    assert refused(chat, "alice", f"{REQUEST} link=F-9") == t(chat, "error.not_found", ref="F-9")
    zh = refused(chat, "zhang", f"{ZH_REQUEST} 关联=V-4")
    assert zh == t(chat, "error.not_found", "zh", ref="V-4")
