"""The organisation's systems: what a shutdown takes down along (transitively, a dependency cycle
handled: the impact stops where it closes), what it touches, names found with the nearest known
ones offered, agreed maintenance windows; and the organisation file refusing what cannot be."""

from pathlib import Path

import pytest
import yaml

from bot.orgfile import load_org
from bot.settings import SettingsError
from handlers import systems
from handlers.errors import UserError
from handlers.orgconfig import SystemSpec
from handlers.workflows import OrgConfig
from tests.chat import Chat
from tests.conftest import BACKEND_AGNOSTIC
from tests.shutdowns_kit import DETAILS, ok, sh, t

# a depends on b and b on a (a cycle); c depends on b; d stands alone
CYCLE = [
    {"name": "a", "site": "SH1", "owners": ["dan"], "depends_on": ["b"]},
    {"name": "b", "site": "SH1", "owners": ["erin"], "depends_on": ["a"]},
    {"name": "c", "site": "SH1", "depends_on": ["B"]},
    {"name": "d", "site": "SH1"},
]


@pytest.fixture
def cyclic(org_data) -> OrgConfig:
    return OrgConfig.model_validate({**org_data, "systems": CYCLE})


def names(specs) -> list[str]:
    return [s.name for s in specs]


def test_the_organisation_file_with_a_cycle_is_accepted(cyclic):
    assert names(cyclic.systems) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("named", "down"),
    [
        (["a"], ["a", "b", "c"]),  # b needs a, c needs b
        (["b"], ["a", "b", "c"]),  # a needs b: around the cycle once
        (["c"], ["c"]),  # nothing needs c
        (["d"], ["d"]),
        (["A", "d"], ["a", "b", "c", "d"]),  # any case
    ],
)
def test_affected_goes_around_a_cycle_once(cyclic, named, down):
    assert names(systems.affected(cyclic.systems, named)) == down


@pytest.mark.parametrize(
    ("named", "touched"),
    [
        (["c"], {"a", "b", "c"}),  # what c needs, through the cycle
        (["a"], {"a", "b", "c"}),
        (["d"], {"d"}),
    ],
)
def test_related_goes_both_ways_and_terminates(cyclic, named, touched):
    assert systems.related(cyclic.systems, named) == touched


def test_a_long_ring_terminates():
    ring = [
        SystemSpec(name=f"s{i}", site="SH1", depends_on=[f"s{(i + 1) % 300}"]) for i in range(300)
    ]
    assert len(systems.affected(ring, ["s7"])) == 300
    assert len(systems.related(ring, ["s7"])) == 300


def test_the_test_organisations_chain(org):
    assert names(systems.affected(org.systems, ["erp-db"])) == ["erp-db", "erp", "crm"]
    assert names(systems.affected(org.systems, ["erp"])) == ["erp", "crm"]
    assert systems.related(org.systems, ["erp"]) == {"erp-db", "erp", "crm"}
    assert systems.related(org.systems, ["mail"]) == {"mail"}


def test_find_takes_any_case_and_offers_the_nearest_names(org):
    assert systems.find(org.systems, " ERP-DB ").name == "erp-db"
    with pytest.raises(UserError) as raised:
        systems.find(org.systems, "erp-dv")
    assert raised.value.key == "error.unknown_system"
    assert raised.value.params == {"value": "erp-dv", "near": "erp-db, erp"}
    with pytest.raises(UserError) as raised:
        systems.find(org.systems, "zzzzzz")
    assert raised.value.params["near"] == "crm, erp, erp-db, mail"  # nothing near: the first ones


@pytest.mark.parametrize(
    ("window", "start", "end", "inside"),
    [
        ("sun 02:00-06:00", sh(2026, 11, 29, 2, 0), sh(2026, 11, 29, 6, 0), True),
        ("sun 02:00-06:00", sh(2026, 11, 29, 1, 59), sh(2026, 11, 29, 3, 0), False),
        ("sun 02:00-06:00", sh(2026, 11, 28, 2, 0), sh(2026, 11, 28, 3, 0), False),  # Saturday
        ("sat-sun 00:00-06:00", sh(2026, 11, 28, 2, 0), sh(2026, 11, 28, 3, 0), True),
        ("sat-sun 00:00-06:00", sh(2026, 11, 28, 23, 0), sh(2026, 11, 29, 1, 0), False),
        ("fri-mon 01:00-02:00", sh(2026, 11, 30, 1, 0), sh(2026, 11, 30, 2, 0), True),  # wraps
    ],
)
def test_agreed_windows(window, start, end, inside):
    spec = SystemSpec(name="x", site="SH1", windows=[window])
    assert systems.in_window(spec, start, end) is inside


def test_a_system_with_no_agreed_window_is_always_in_one():
    assert systems.in_window(SystemSpec(name="x", site="SH1"), sh(2026, 1, 1), sh(2026, 1, 2))


# --- the organisation file, at start-up -------------------------------------------------------


def write(tmp_path: Path, org_data: dict, **changes) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump({**org_data, **changes}, allow_unicode=True), "utf-8")
    return path


def test_an_unknown_dependency_is_refused_at_start_up(tmp_path, org_data):
    broken = [*CYCLE[:2], {"name": "c", "site": "SH1", "depends_on": ["nope"]}]
    with pytest.raises(SettingsError, match=r"system c: depends on unknown systems: \['nope'\]"):
        load_org(write(tmp_path, org_data, systems=broken))
    assert names(load_org(write(tmp_path, org_data, systems=CYCLE)).systems) == list("abcd")


@pytest.mark.parametrize(
    ("system", "error"),
    [
        ({"name": "x", "site": "XX9"}, "no site"),
        ({"name": "x", "site": "SH1", "owners": ["nobody"]}, "owners not among the people"),
        ({"name": "x", "site": "SH1", "windows": ["sunday 2-6"]}, "maintenance window"),
        ({"name": "x", "site": "SH1", "windows": ["sun 06:00-02:00"]}, "end after it starts"),
    ],
)
def test_other_system_mistakes_are_refused_at_start_up(tmp_path, org_data, system, error):
    with pytest.raises(SettingsError, match=error):
        load_org(write(tmp_path, org_data, systems=[system]))


def test_shutdown_rule_mistakes_are_refused_at_start_up(tmp_path, org_data):
    freeze = {"name": "x", "start": "2026-12-28", "end": "2026-12-01"}
    with pytest.raises(SettingsError, match="ends before it starts"):
        load_org(write(tmp_path, org_data, shutdowns={"freezes": [freeze]}))
    with pytest.raises(SettingsError, match="unknown steps"):
        load_org(write(tmp_path, org_data, shutdowns={"approval": ["supervisor", "cfo"]}))


# --- a shutdown on the cyclic organisation -----------------------------------------------------


@BACKEND_AGNOSTIC
def test_a_shutdown_in_a_cycle_lists_each_system_once_and_asks_each_owner(db, clock, cyclic):
    cyclic.shutdowns.approval = ["supervisor", "owners"]
    chat = Chat.start(db, clock, cyclic)
    text = f'shutdown request systems=c start="2026-11-29 02:00" end="2026-11-29 06:00" {DETAILS}'
    ok(chat, "alice", text)  # c: nothing goes down along, no owner step
    answer = ok(chat, "alice", text.replace("systems=c", "systems=a"))
    assert f"{t(chat, 'field.taken_along')}: b, c" in answer
    assert "⚠ Clashes with S-1" in answer  # c depends on a, through b
    assert "Approval 3/3 — an owner of b: to come" in answer
    for who in ("carol", "dan", "erin"):
        ok(chat, who, "shutdown approve S-2")
    told = {r.target for r in chat.outbox() if r.payload["kind"] == "text"}
    assert told == {"alice", "carol", "dan"}  # erin approved last: she is not told her own step
