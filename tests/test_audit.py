"""``audit V-n``: who did what, when, from where, in order; every change has its row."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest

import handlers
from handlers.attachments.routes import CHOSEN
from handlers.context import Origin
from handlers.i18n import LOCALES
from handlers.refs import PREFIXES
from handlers.workflows import WORKFLOWS
from tests.visits_kit import (
    audit_of,
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
    new, reviewed, approved, onsite, out = (
        t(chat, f"state.{s}")
        for s in ("requested", "reviewed", "approved", "checked_in", "checked_out")
    )
    assert card.body.splitlines() == [
        f"2026-11-23 10:00  Alice Engineer (alice) via console (alice): requested  — → {new}",
        "2026-11-23 10:05  Bob Admin (bob) via console (bob): reviewed"
        f'  {new} → {reviewed}  "fine by me"',
        "2026-11-23 11:05  Carol Supervisor (carol) via console (carol): approved"
        f"  {reviewed} → {approved}",
        f"2026-11-25 08:50  Amy Admin (amy) via console (amy): checked in  {approved} → {onsite}",
        f"2026-11-25 10:40  Amy Admin (amy) via console (amy): checked out  {onsite} → {out}",
        "2026-11-25 10:55  Bob Admin (bob) via console (bob): access card returned"
        f'  {out} → {out}  "A-07"',
    ]


def test_the_trail_records_the_platform_identity_and_channel(chat):
    ref = request(chat, "alice")
    slack = Origin("slack", "UBOB", "CVISITS")
    [answer] = chat.core.handle_text(slack, f"visit review {ref}")
    assert answer.text == t(chat, "visit.done_review", ref=ref)
    entry = audit_of(chat, ref)[-1]
    assert (entry.platform, entry.platform_user, entry.channel) == ("slack", "UBOB", "CVISITS")
    assert entry.actor_label == "Bob Admin (bob)"
    assert "Bob Admin (bob) via Slack (UBOB): reviewed" in chat.text("bob", f"audit {ref}")
    wecom = Origin("wecom", "alice.w")
    chat.core.handle_text(wecom, f"访问 取消 {ref} 不需要了")
    entry = audit_of(chat, ref)[-1]
    assert (entry.platform, entry.platform_user, entry.comment) == ("wecom", "alice.w", "不需要了")


def test_the_trail_in_chinese(chat):
    ref = visit_in(chat, "rejected")
    body = chat.card("zhang", f"审计 {ref}").body
    assert body.splitlines()[-1] == (
        "2026-11-23 10:00　Bob Admin (bob) 通过 控制台（bob）：驳回"
        "　待管理员审核 → 已驳回　「not needed」"
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
    assert chat.card("bob", f"audit {second}").body.count("requested") == 1


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


def test_a_faults_trail(chat):
    """``audit F-n`` shows a fault's trail, in words, as it shows a visit's."""
    answer = chat.text("alice", "fault declare 2 Mail queue stuck")
    assert "F-1" in answer
    ok(chat, "erin", "fault ack F-1")
    ok(chat, "erin", "fault tier F-1 1 two sites now")
    card = chat.card("bob", "audit F-1")
    assert card.title == t(chat, "audit.title", subject="F-1")
    lines = card.body.splitlines()
    assert lines[0].endswith(": declared, tier 2  — → declared, awaiting response")
    assert lines[1].endswith(
        ": acknowledged  declared, awaiting response → acknowledged, being handled"
    )
    assert lines[2].endswith(': tier changed: tier 2 → tier 1  "two sites now"')
    zh = chat.card("zhang", "审计 F-1").body.splitlines()
    assert zh[0].endswith("：申报故障（二级）　— → 已申报，待响应")
    assert zh[2].endswith("：调整级别：二级 → 一级　「two sites now」")


@pytest.mark.parametrize("prefix", sorted(PREFIXES.values()))
def test_every_kind_of_reference_that_has_no_trail_is_not_found(chat, prefix):
    """Every reference kind is understood, including those with nothing behind them yet."""
    typed = f"{prefix}-1"
    assert refused(chat, "bob", f"audit {typed}") == t(chat, "error.not_found", ref=typed)


def recorded_actions() -> set[str]:
    """Every action the code can write to the audit log, read from the code: the literal
    ``action=`` of each ``audit.record`` call, and ``<kind>.<action>`` for each step of every
    workflow's machine (``kit.move`` records them)."""
    actions = {
        f"{w.cards.machine.kind}.{step.action}"
        for w in WORKFLOWS
        if w.cards
        for step in w.cards.machine.steps
    }
    for path in Path(handlers.__file__).parent.rglob("*.py"):
        if path.name == "audit.py":  # the mechanism itself
            continue
        for call in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "audit"
            ):
                continue
            if call.func.attr == "record":
                [value] = [k.value for k in call.keywords if k.arg == "action"]
                if path.parent.name == "attachments":  # f"{kind}.{CHOSEN}", for each such kind
                    kinds = [w.cards.machine.kind for w in WORKFLOWS if w.attachments]
                    actions.update(f"{kind}.{CHOSEN}" for kind in kinds)
                    continue
                words = [
                    c.value
                    for c in ast.walk(value)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
                assert words, f"{path}:{call.lineno}: an action the test cannot read"
                actions.update(words)
    return actions


def test_every_action_the_code_records_has_words_in_both_languages(chat):
    actions = recorded_actions()
    assert {"visit.review", "fault.escalate", "role.grant", "oncall.override"} <= actions
    i18n = chat.core.i18n
    missing = [
        (locale, action)
        for action in sorted(actions)
        for locale in LOCALES
        if not i18n.has(locale, f"audit.{action}")
    ]
    assert missing == []


def test_an_action_without_words_is_still_not_shown_raw(chat):
    from handlers.audit import describe
    from storage.models import AuditEntry

    entry = AuditEntry(action="visit.teleport", subject_type="visit", new_state="elsewhere")
    described = describe(chat.core.i18n, "zh", entry)
    assert (
        described.what == chat.core.i18n.t("zh", "audit.other") and "teleport" not in described.what
    )


def test_missing_reference(chat):
    assert refused(chat, "bob", "audit") == t(chat, "error.missing_arg", name="ref", usage="audit")


def test_a_comment_of_several_lines_stays_on_its_entrys_line(chat):
    from handlers.audit import describe
    from storage.models import AuditEntry

    entry = AuditEntry(action="fault.update", subject_type="fault", comment="disk 3\nswapped")
    assert describe(chat.core.i18n, "en", entry).comment == "disk 3 swapped"
