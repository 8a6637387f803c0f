"""Odd input never reaches the internal-error answer: every message gets a clear reply.

A seeded generator builds a few hundred messages from command words, options, quotes, unicode,
very long strings and ``=`` soup, and feeds them through the core as different people while
visits sit in every state. Internal errors are caught by the core and logged with an incident id;
both the answer and the log are checked (see ``no_internal_errors`` in conftest).
"""

import random
from datetime import timedelta

import pytest

from handlers.messages import plain_text
from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    PATHS,
    REQUEST,
    WEDNESDAY_9,
    internal_error_markers,
    request,
    visit,
    visit_in,
)

pytestmark = BACKEND_AGNOSTIC

PEOPLE = ["alice", "erin", "bob", "amy", "carol", "dan", "zhang", "stranger"]
WORDS = [
    # areas and verbs, English and Chinese
    "visit",
    "访问",
    "v",
    "audit",
    "审计",
    "role",
    "角色",
    "help",
    "帮助",
    "whoami",
    "people",
    "request",
    "申请",
    "approve",
    "批准",
    "review",
    "审核",
    "reject",
    "驳回",
    "changes",
    "退回",
    "edit",
    "修改",
    "cancel",
    "取消",
    "show",
    "list",
    "export",
    "导出",
    "checkin",
    "签到",
    "checkout",
    "签出",
    "card",
    "还卡",
    "grant",
    "revoke",
    "授予",
    "撤销",
    # references and arguments
    "V-1",
    "V-2",
    "V-3",
    "V-8",
    "v4",
    "#V-5",
    "V-0",
    "V-999999999",
    "V-99999999999",
    "F-1",
    "X-1",
    "1",
    "0",
    "-1",
    "pending",
    "today",
    "mine",
    "onsite",
    "今天",
    "admin",
    "主管",
    "boss",
    "@erin",
    "<@UBOB>",
    "2026-11-25",
    "2026-11-30",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "+2d",
    # options, well-formed and not
    f'at="{WEDNESDAY_9}"',
    "at=tomorrow",
    "at=+3d",
    "at=后天",
    "at=9999-12-31",
    "at=now",
    "at=2026-11-25T25:00",
    "duration=2h",
    "duration=0m",
    "duration=1.5h",
    "duration=半小时",
    "duration=99999999999999999h",
    "duration=8d",
    "room=SH1/A101",
    "room=A101",
    "room=/",
    "room=SH1/",
    "room=BJ2",
    "task=x",
    'task="replace disk"',
    "id=p:1234",
    "id=:",
    "id=护照",
    "id_type=p",
    "id_last4=12",
    "company=Acme",
    "contact=1",
    "tools=all",
    "tools=,,,",
    "tools=全部",
    "card=yes",
    "card=maybe",
    "card=A-07",
    "verified=yes",
    "verified=是",
    "briefing=yes",
    "emergency=yes",
    "emergency=perhaps",
    "fault=F-1",
    "fault=xyz",
    "fault=F-99999999999",
    "responsible=bob",
    "responsible=nobody",
    "reason=x",
    "reason=",
    "note=y",
    "visitor=张三",
    "certificates=CCNA",
    "时间=明天",
    "机房=SH1/A101",
    "证件=身份证:1234",
    # syntax and unicode oddities
    "=",
    "==",
    "=x",
    "x=",
    "a=b=c",
    '=""',
    '"',
    "'",
    '""',
    "''",
    "“”",
    "＝",
    "：",
    "\u3000",
    "\u00a0",
    "\u200b",
    "\t",
    "\n",
    "🙂",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "ǅ",
    "ß",
    "İ",
    "Ω",
    "\x00",
    "\x7f",
    "%s",
    "{{ 7*7 }}",
    "{% raw %}",
    "}}",
    "${x}",
    "\\",
    "C:\\tmp",
    "don't",
    "--help",
    "-",
    "SELECT * FROM visits;",
    "'; DROP TABLE visits; --",
]


def long_string(rng: random.Random) -> str:
    return rng.choice(["x", "访", "9", "=", '"', "🙂", "a b"]) * rng.choice([100, 1000, 5000])


def option_soup(rng: random.Random) -> str:
    return "".join(rng.choice("==ab\"' 访=:：＝") for _ in range(rng.randint(1, 40)))


def random_unicode(rng: random.Random) -> str:
    return "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 12)))


def messages(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        parts = [rng.choice(WORDS) for _ in range(rng.randint(0, 7))]
        for maker in (long_string, option_soup, random_unicode):
            if rng.random() < 0.2:
                parts.insert(rng.randint(0, len(parts)), maker(rng))
        if rng.random() < 0.15:
            parts.insert(0, rng.choice(["/maint", "@maintbot", "<@U1|maintbot>"]))
        if rng.random() < 0.5 and len(parts) < 2:  # give most messages a real command
            parts[:0] = rng.choice([["visit", "request"], ["visit", "approve"], ["访问", "签到"]])
        result.append((rng.choice(PEOPLE), rng.choice([" ", "  ", "\u3000"]).join(parts)))
    return result


@pytest.fixture
def busy(chat):
    """Visits in every state, so that the odd input meets real rows."""
    for state in PATHS:
        visit_in(chat, state)
    return chat


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_odd_input_never_gets_the_internal_error(busy, seed):
    chat = busy
    markers = internal_error_markers(chat)
    for who, text in messages(seed, 120):
        answer = chat.say(who, text)
        assert answer, f"no answer to {text!r}"
        for message in answer:
            rendered = plain_text(message)
            assert rendered.strip(), f"an empty answer to {text!r}"
            assert not any(m in rendered for m in markers), f"{who}: {text!r} -> {rendered}"
    # the timers still fire cleanly after whatever the input did
    chat.clock.advance(timedelta(days=3))
    chat.core.sweep_deadlines()


@pytest.mark.parametrize(
    "text",
    [
        "visit request " + "x=" * 2000,
        "visit request task=" + "访" * 100_000,
        "visit " * 500,
        '"' * 101,
        "=" * 1000,
        "visit show V-" + "9" * 50,
        "visit export 2026-11-01 " + "9" * 40,
        "role grant " + "@" * 300 + " admin",
        "\x00\x01\x02 visit list",
        "visit list \ud800",  # a lone surrogate, as a broken client might send
    ],
)
def test_extreme_single_messages(chat, text):
    visit_in(chat, "approved")
    markers = internal_error_markers(chat)
    for who in ("alice", "bob"):
        for message in chat.say(who, text):
            rendered = plain_text(message)
            assert not any(m in rendered for m in markers), rendered


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("x\x00y", "xy"), ("x\ud800y", "x\ufffdy"), ("换\x00盘\udfff", "换盘\ufffd")],
)
def test_text_no_database_can_store_is_cleaned_on_the_way_in(chat, typed, stored):
    """PostgreSQL refuses NUL in text; no backend can encode a lone surrogate as UTF-8."""
    ref = request(chat, "alice", text=REQUEST.replace('task="replace disk"', f'task="{typed}"'))
    assert visit(chat, ref).task == stored
