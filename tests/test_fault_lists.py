"""Fault lists: open, mine, breached, closed and all, narrowed by site and declaration date."""

import re
from datetime import timedelta

import pytest

from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    ok,
    refused,
    sh,
    t,
)

pytestmark = BACKEND_AGNOSTIC


def declare(chat, text: str) -> str:
    return re.search(r"F-\d+", ok(chat, "erin", f"fault declare {text}")).group()


def close(chat, ref: str) -> None:
    ok(chat, "erin", f"fault resolve {ref} replaced it")
    ok(chat, "erin", f'fault close {ref} cause="worn part"')


def listed(chat, who: str, command: str) -> list[str]:
    body = chat.card(who, command).body
    return [line.split()[0] for line in body.splitlines() if line.startswith("F-")]


@pytest.fixture
def faults(chat) -> dict[str, str]:
    """Monday: an SH1 fault closed; Tuesday: a BJ2 fault closed, an SH1 one open."""
    refs = {"mon_sh1": declare(chat, "2 Disk array degraded site=SH1")}
    close(chat, refs["mon_sh1"])
    chat.clock.set(sh(2026, 11, 24, 10, 0))
    refs["tue_bj2"] = declare(chat, "3 Fan noisy site=BJ2")
    close(chat, refs["tue_bj2"])
    chat.clock.advance(timedelta(hours=1))
    refs["tue_sh1"] = declare(chat, "2 Switch port flapping site=SH1")
    return refs


def test_closed_and_all(chat, faults):
    assert listed(chat, "bob", "fault list closed") == [faults["tue_bj2"], faults["mon_sh1"]]
    assert listed(chat, "bob", "fault list 已关闭") == [faults["tue_bj2"], faults["mon_sh1"]]
    everything = [faults["tue_sh1"], faults["tue_bj2"], faults["mon_sh1"]]
    assert listed(chat, "bob", "fault list all") == everything
    assert listed(chat, "dan", "故障 列表 全部") == everything
    assert chat.card("bob", "fault list all").title == t(chat, "fault.list_all", count=3)
    assert chat.card("bob", "fault list closed").title == t(chat, "fault.list_closed", count=2)
    assert listed(chat, "bob", "fault list open") == [faults["tue_sh1"]]


@pytest.mark.parametrize(
    ("command", "keys"),
    [
        ("fault list all site=SH1", ["tue_sh1", "mon_sh1"]),
        ("fault list all site=bj2", ["tue_bj2"]),
        ("fault list closed 站点=SH1", ["mon_sh1"]),
        ("fault list all from=2026-11-24", ["tue_sh1", "tue_bj2"]),
        ("fault list all to=2026-11-23", ["mon_sh1"]),
        ("fault list all from=11-24 to=11-24", ["tue_sh1", "tue_bj2"]),  # this year's
        ("fault list open site=BJ2", []),
        ("fault list site=SH1", ["tue_sh1"]),  # open by default
    ],
)
def test_filters(chat, faults, command, keys):
    assert listed(chat, "bob", command) == [faults[k] for k in keys]


def test_bad_filters(chat, faults):
    assert refused(chat, "bob", "fault list all site=XX") == t(
        chat, "error.unknown_site", value="XX", known="BJ2, SH1"
    )
    assert refused(chat, "bob", "fault list all from=2026-11-25 to=2026-11-24") == t(
        chat, "error.bad_range"
    )
    assert refused(chat, "bob", "fault list everything") == t(
        chat, "error.unknown_list", value="everything", kinds="open, mine, breached, closed, all"
    )


def test_a_long_list_says_how_to_narrow_it_down(chat):
    for n in range(31):
        declare(chat, f"3 Lamp {n} out site=SH1")
    card = chat.card("bob", "fault list all")
    assert len([line for line in card.body.splitlines() if line.startswith("F-")]) == 30
    example = "site=SH1 from=11-01 to=11-23"
    assert card.body.splitlines()[-1] == t(chat, "fault.list_more", kind="all", example=example)
    assert len(listed(chat, "bob", f"fault list all {example}")) == 30
