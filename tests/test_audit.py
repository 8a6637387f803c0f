"""``audit V-n``: who did what, when, from where, in order; every change has its row."""

from datetime import timedelta

import pytest

from handlers.context import Origin
from tests.visits_kit import (
    audit_of,
    no_internal_errors,  # noqa: F401  (autouse)
    ok,
    refused,
    request,
    sh,
    t,
    visit_in,
)


def test_the_trail_shows_who_when_what_and_from_where_in_order(chat):
    ref = request(chat, "alice")
    chat.clock.advance(timedelta(minutes=5))
    ok(chat, "bob", f"visit approve {ref} fine by me")
    chat.clock.advance(timedelta(hours=1))
    ok(chat, "carol", f"visit approve {ref}")
    chat.clock.set(sh(2026, 11, 25, 8, 50))
    ok(chat, "amy", f"visit checkin {ref} card=A-07 verified=yes briefing=yes")
    chat.clock.set(sh(2026, 11, 25, 10, 40))
    ok(chat, "amy", f"visit checkout {ref} tools=all card=no")
    chat.clock.set(sh(2026, 11, 25, 10, 55))
    ok(chat, "bob", f"visit card {ref}")
    card = chat.card("erin", f"audit {ref}")
    assert card.title == t(chat, "audit.title", subject=ref)
    assert [(f.label, f.value) for f in card.fields] == [(t(chat, "audit.count"), "6")]
    assert card.body.splitlines() == [
        "2026-11-23 10:00  Alice Engineer (alice) via console (alice): visit.request"
        "  — → requested",
        "2026-11-23 10:05  Bob Admin (bob) via console (bob): visit.review  requested → reviewed"
        '  "fine by me"',
        "2026-11-23 11:05  Carol Supervisor (carol) via console (carol): visit.approve"
        "  reviewed → approved",
        "2026-11-25 08:50  Amy Admin (amy) via console (amy): visit.checkin  approved → checked_in",
        "2026-11-25 10:40  Amy Admin (amy) via console (amy): visit.checkout"
        "  checked_in → checked_out",
        "2026-11-25 10:55  Bob Admin (bob) via console (bob): visit.card_returned"
        '  checked_out → checked_out  "A-07"',
    ]


def test_the_trail_records_the_platform_identity_and_channel(chat):
    ref = request(chat, "alice")
    slack = Origin("slack", "UBOB", "CVISITS")
    [answer] = chat.core.handle_text(slack, f"visit review {ref}")
    assert answer.text == t(chat, "visit.done_review", ref=ref)
    entry = audit_of(chat, ref)[-1]
    assert (entry.platform, entry.platform_user, entry.channel) == ("slack", "UBOB", "CVISITS")
    assert entry.actor_label == "Bob Admin (bob)"
    assert "Bob Admin (bob) via slack (UBOB): visit.review" in chat.text("bob", f"audit {ref}")
    wecom = Origin("wecom", "alice.w")
    chat.core.handle_text(wecom, f"访问 取消 {ref} 不需要了")
    entry = audit_of(chat, ref)[-1]
    assert (entry.platform, entry.platform_user, entry.comment) == ("wecom", "alice.w", "不需要了")


def test_the_trail_in_chinese(chat):
    ref = visit_in(chat, "rejected")
    body = chat.card("zhang", f"审计 {ref}").body
    assert body.splitlines()[-1] == (
        "2026-11-23 10:00　Bob Admin (bob) 通过 console（bob）：visit.reject"
        "　requested → rejected　「not needed」"
    )
    assert chat.card("zhang", f"audit {ref}").title == f"审计记录 {ref}"


def test_every_change_has_exactly_one_row(chat):
    ref = visit_in(chat, "checked_out")
    assert [(e.action, e.old_state, e.new_state) for e in audit_of(chat, ref)] == [
        ("visit.request", None, "requested"),
        ("visit.review", "requested", "reviewed"),
        ("visit.approve", "reviewed", "approved"),
        ("visit.checkin", "approved", "checked_in"),
        ("visit.checkout", "checked_in", "checked_out"),
    ]


def test_refusals_and_reads_leave_no_rows(chat):
    ref = visit_in(chat, "approved")
    rows = len(chat.audit())
    refused(chat, "erin", f"visit cancel {ref}", ref)
    refused(chat, "carol", f"visit approve {ref}", ref)
    ok(chat, "erin", f"visit show {ref}")
    ok(chat, "erin", f"audit {ref}")
    ok(chat, "bob", "visit list")
    assert len(chat.audit()) == rows


def test_trails_are_kept_apart(chat):
    first = visit_in(chat, "rejected")
    second = request(chat, "erin")
    assert len(chat.card("bob", f"audit {first}").body.splitlines()) == 2
    assert chat.card("bob", f"audit {second}").body.count("visit.request") == 1


@pytest.mark.parametrize("form", ["v{n}", "#V-{n}", "V {n}"])
def test_reference_forms(chat, form):
    ref = request(chat)
    typed = form.format(n=ref[2:])
    assert chat.card("bob", f'audit "{typed}"').title == t(chat, "audit.title", subject=ref)


def test_unknown_reference(chat):
    assert refused(chat, "bob", "audit V-99") == t(chat, "error.not_found", ref="V-99")
    assert refused(chat, "zhang", "audit V-99") == "没有找到 V-99。"


@pytest.mark.parametrize("typed", ["banana", "X-1", "V-", "V-1234567890"])
def test_bad_reference(chat, typed):
    assert refused(chat, "bob", f"audit {typed}") == t(
        chat, "error.bad_ref", value=typed, example="V-12"
    )


def test_a_reference_to_another_kind_that_does_not_exist_yet(chat):
    assert refused(chat, "bob", "audit F-1") == t(chat, "error.not_found", ref="F-1")


def test_missing_reference(chat):
    assert refused(chat, "bob", "audit") == t(chat, "error.missing_arg", name="ref", usage="audit")
