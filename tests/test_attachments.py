"""Attachments through the core (handlers/attachments): a file sent to the bot is routed to its
repair, checked, kept in the files directory with its checksum, recorded with an audit entry
and shown on the card, `repair show`, `repair files` and the report; every refusal stores and
records nothing. Runs on every backend (the table, its unique checksum per subject)."""

import pytest

from handlers.attachments.files import MB, FileRules
from tests.attachments_kit import PNG, attach_audit, rows, send, sha, stored
from tests.repairs_kit import ok, repair, start, t

TEXT = b"kernel: EDAC MC0: 1 CE memory read error on DIMM_B2\n" * 20


@pytest.fixture
def files(rchat, tmp_path):
    rchat.core.files = FileRules(tmp_path / "files", max_bytes=MB)
    return rchat.core.files.directory


def refused_nothing_kept(chat, directory, answer: str, key: str, **params) -> None:
    assert answer == t(chat, key, **params), answer
    assert rows(chat) == [] and stored(directory) == []
    assert attach_audit(chat) == []


def test_a_photo_sent_to_the_bot_goes_to_the_senders_open_repair(rchat, files):
    r = start(rchat, "erp-db")
    answer, _ = send(rchat, "alice", PNG, "rack.png")
    [row] = rows(rchat)
    assert answer == t(rchat, "attach.done", name="rack.png", ref=r, size="1.0 KB",
                       sha=sha(PNG)[:12], count=1)  # fmt: skip
    assert (row.subject_type, row.subject_id, row.size, row.sha256) == (
        "repair",
        1,
        len(PNG),
        sha(PNG),
    )
    assert (row.mime_type, row.platform, row.platform_file_id) == ("image/png", "console", "F1")
    assert row.path == f"repair/1/{sha(PNG)[:16]}-rack.png"
    assert (files / row.path).read_bytes() == PNG and stored(files) == [files / row.path]
    [entry] = attach_audit(rchat)
    assert (entry.action, entry.subject_id, entry.actor_label) == (
        "repair.attach",
        1,
        "Alice Engineer (alice)",
    )
    assert entry.details == {"name": "rack.png", "size": len(PNG), "sha256": sha(PNG)}
    card, files_card = rchat.say("alice", f"repair show {r}")  # the card, then its files
    assert any(f.value.startswith("1 ") for f in card.fields if f.label == "Files"), card.fields
    listing = ok(rchat, "alice", f"repair files {r}")
    assert f"rack.png · 1.0 KB · sha256 {sha(PNG)[:12]} · Alice Engineer" in listing
    assert files_card.title == "Files of R-1 (1)" and "rack.png" in files_card.body


def test_the_same_bytes_twice_are_kept_once(rchat, files):
    start(rchat, "erp-db")
    send(rchat, "alice", PNG, "rack.png")
    answer, _ = send(rchat, "alice", PNG, "again.png", file_id="F2")
    assert answer == t(rchat, "attach.already", name="rack.png", ref="R-1")
    assert len(rows(rchat)) == 1 and len(stored(files)) == 1 and len(attach_audit(rchat)) == 1


def test_too_large_is_refused_before_the_download_when_declared(rchat, files):
    start(rchat, "erp-db")
    answer, source = send(rchat, "alice", PNG, "big.png", size=2 * MB)
    refused_nothing_kept(rchat, files, answer, "attach.too_large", size="2.0 MB", limit="1.0 MB")
    assert source.reads == []  # not downloaded at all


def test_too_large_is_refused_when_the_download_passes_the_limit(rchat, files):
    start(rchat, "erp-db")
    answer, source = send(rchat, "alice", b"x" * (MB + 1), "huge.log")
    refused_nothing_kept(rchat, files, answer, "attach.too_large", size="> 1.0 MB", limit="1.0 MB")
    assert source.reads == [MB]


def test_a_type_not_allowed_is_refused(rchat, files):
    start(rchat, "erp-db")
    answer, source = send(rchat, "alice", b"MZ\x90\x00" * 100, "tool.exe", mime="image/png")
    allowed = "image, pdf, text, office, zip"
    refused_nothing_kept(rchat, files, answer, "attach.type_refused", kind=".exe", allowed=allowed)
    assert source.reads == []


def test_a_type_known_only_after_the_download_is_checked_then(rchat, files):
    start(rchat, "erp-db")
    # no name, no type declared (a WeCom photo): the download says text/html, not taken
    answer, _ = send(rchat, "alice", b"<html></html>", None, mime=None, served="text/html")
    allowed = "image, pdf, text, office, zip"
    refused_nothing_kept(rchat, files, answer, "attach.type_refused", kind=".html", allowed=allowed)
    # the same way, a photo gets a name from its type and is taken
    answer, _ = send(rchat, "alice", PNG, None, mime=None, served="image/png", file_id="M1")
    assert answer.startswith("📎 M1.png") and [a.name for a in rows(rchat)] == ["M1.png"]


def test_two_open_repairs_ask_which_and_attach_chooses(rchat, files):
    start(rchat, "erp-db")
    start(rchat, "sw-core-1")
    answer, _ = send(rchat, "alice")
    command = t(rchat, "usage.repair.attach", ref="R-2")
    refused_nothing_kept(rchat, files, answer, "attach.which", refs="R-2, R-1", command=command,
                         hours=12)  # fmt: skip
    assert ok(rchat, "alice", "repair attach R-1") == t(rchat, "attach.chosen", ref="R-1", hours=12)
    send(rchat, "alice")
    assert [(a.subject_id, a.name) for a in rows(rchat)] == [(1, "rack.png")]


def test_a_reference_sent_with_the_file_names_its_repair(rchat, files):
    start(rchat, "erp-db")
    start(rchat, "sw-core-1")
    send(rchat, "alice", caption="DIMM B2 for r-2 please")
    assert [a.subject_id for a in rows(rchat)] == [2]


def test_nobodys_repair_is_answered_with_how_to_attach(rchat, files):
    answer, source = send(rchat, "alice")
    command = t(rchat, "usage.repair.attach", ref="R-3")
    refused_nothing_kept(rchat, files, answer, "attach.nowhere", refs="", command=command, hours=12)
    assert source.reads == []


def test_a_repair_acted_on_long_ago_is_not_guessed(rchat, files, clock):
    from datetime import timedelta

    start(rchat, "erp-db")
    clock.advance(timedelta(hours=13))
    answer, _ = send(rchat, "alice")
    assert answer.startswith("Which record is the file for?") and rows(rchat) == []


def test_only_its_engineers_or_an_admin_attach(rchat, files):
    start(rchat, "erp-db")
    answer, _ = send(rchat, "erin", caption="R-1")
    refused_nothing_kept(rchat, files, answer, "error.repair_not_engineer", ref="R-1")
    answer, _ = send(rchat, "bob", caption="R-1")  # an admin
    assert answer.startswith("📎") and len(rows(rchat)) == 1


def test_a_stable_repair_takes_no_file_and_a_completed_one_rewrites_its_report(rchat, files):
    r = start(rchat, "sw-core-1")
    ok(rchat, "alice", f"repair check {r} hardware=pass boot=pass network=pass redundancy=pass")
    ok(rchat, "alice", f"repair complete {r}")
    answer, _ = send(rchat, "alice", TEXT, "dmesg.log", mime="text/plain")
    assert answer.startswith("📎"), answer
    assert (
        f"dmesg.log · {len(TEXT) / 1024:.1f} KB · sha256 {sha(TEXT)[:12]}"
        in repair(rchat, r).report["en"]
    )
    ok(rchat, "bob", f"repair stable {r}")
    answer, _ = send(rchat, "alice", PNG, "late.png", caption=r)
    assert "is not possible now" in answer and len(rows(rchat)) == 1


def test_a_file_under_a_card_goes_to_its_subject_and_elsewhere_is_answered(rchat, files):
    from sqlalchemy import update

    from storage.models import OutboxMessage

    start(rchat, "erp-db")
    start(rchat, "sw-core-1")
    with rchat.core.db.unit_of_work() as session:  # the courier posted R-1's card here
        first = min(o.id for o in rchat.outbox() if o.subject == "R-1" and o.kind == "card")
        posted = {"status": "sent", "external_ref": "CREPAIRS:1700000000.000100"}
        session.execute(update(OutboxMessage).where(OutboxMessage.id == first).values(**posted))
    send(rchat, "alice", card="CREPAIRS:1700000000.000100")
    assert [a.subject_id for a in rows(rchat)] == [1]
    answer, _ = send(rchat, "alice", TEXT, "x.log", card="CREPAIRS:1700000000.999999")
    command = t(rchat, "usage.repair.attach", ref="R-3")
    assert answer == t(rchat, "attach.not_a_card", command=command)
    assert len(rows(rchat)) == 1


def test_a_download_that_fails_stores_nothing(rchat, files):
    start(rchat, "erp-db")
    answer, _ = send(rchat, "alice", fail=True)
    refused_nothing_kept(rchat, files, answer, "attach.unavailable")


def test_a_stranger_is_told_who_they_are_not(rchat, files):
    answer, _ = send(rchat, "mallory")
    assert answer == t(rchat, "error.unknown_user", user="mallory") and rows(rchat) == []


def test_chinese_answers_for_a_chinese_sender(rchat, files):
    r = start(rchat, "erp-db", who="zhang")
    answer, _ = send(rchat, "zhang", PNG, "机柜.png")
    assert answer == t(rchat, "attach.done", "zh", name="机柜.png", ref=r, size="1.0 KB",
                       sha=sha(PNG)[:12], count=1)  # fmt: skip
