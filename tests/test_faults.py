"""Faults in the core: declaring (tiers, the two questions), the lifecycle, the contract clocks
at every threshold, escalation level by level with repeats, tier changes, ack stopping the
escalation, and deadlines missed while the bot was down. Time moves with a FakeClock."""

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from handlers.messages import File
from handlers.platforms import Platform
from storage.models import Deadline
from tests.chat import Chat, platforms
from tests.visits_kit import t


@pytest.fixture
def org_faults(org_data):
    """The test organisation with an on-call engineer and a faults channel."""
    data = {**org_data, "people": [dict(p) for p in org_data["people"]]}
    for person in data["people"]:
        if person["handle"] == "erin":
            person.update(roles=["engineer", "oncall"], slack="UERIN")
    data["channels"] = {**org_data.get("channels", {}), "faults": {"slack": "CFAULTS"}}
    return data


@pytest.fixture
def fchat(db, clock, org_faults):
    from handlers.workflows import OrgConfig

    return Chat.start(db, clock, OrgConfig.model_validate(org_faults))


def declare(chat: Chat, text: str, who: str = "alice") -> str:
    answer = chat.text(who, f"fault declare {text}")
    found = re.search(r"F-\d+", answer)
    assert found, answer
    return found.group()


def tick(chat: Chat, clock, minutes: float) -> None:
    clock.advance(timedelta(minutes=minutes))
    chat.core.sweep_deadlines()


def pings(chat: Chat, who: str, ref: str) -> list[str]:
    """Escalation pings (in any language: each ends with the command that acknowledges)."""
    return [n for n in chat.notices(who) if f"fault ack {ref}" in n]


FIELDS = ("tier", "respond", "resolve", "system", "site", "declared", "acknowledged")


def fields(chat: Chat, ref: str, who: str = "alice", verb: str = "show") -> dict[str, str]:
    """The card's fields for an English reader, by catalog key (respond, resolve, …)."""
    keys = {t(chat, f"field.{key}"): key for key in FIELDS}
    return {keys[f.label]: f.value for f in chat.card(who, f"fault {verb} {ref}").fields}


def left(chat: Chat, due, minutes: int) -> str:
    """A running clock as the card shows it: due at ``due``, ``minutes`` left."""
    return t(chat, "fault.clock_left", at=f"{chat.core.i18n.local(due):%H:%M}", left=minutes)


def escalation(chat: Chat, ref: str, title: str, *, tier: int, level: int, names: str, late=0):
    return t(
        chat, "fault.escalation", ref=ref, title=title, tier=tier, level=level, names=names,
        late=late,
    )  # fmt: skip


# ---- declaring


@pytest.mark.parametrize(
    ("words", "tier"),
    [("1", 1), ("P2", 2), ("p3", 3), ("一级", 1), ("二级", 2), ("三级", 3), ("tier2", 2)],
)
def test_tier_words(fchat, words, tier):
    ref = declare(fchat, f"{words} Database down")
    assert fields(fchat, ref)["tier"] == t(fchat, f"fault.tier{tier}")


@pytest.mark.parametrize(
    ("down", "lost", "tier"),
    [("yes", "yes", 1), ("yes", "no", 2), ("no", "no", 3), ("是", "否", 2), ("no", "yes", 2)],
)
def test_unsure_of_the_tier_the_two_questions_decide(fchat, down, lost, tier):
    ref = declare(fchat, f"Orders failing business_down={down} data_lost={lost}")
    yes_no = {"yes": "yes", "no": "no", "是": "yes", "否": "no"}
    answers = [
        t(fchat, f"fault.business_down_{yes_no[down]}"),
        t(fchat, f"fault.data_lost_{yes_no[lost]}"),
    ]
    assert fields(fchat, ref)["tier"] == t(fchat, "fault.tier_answered", tier=tier, answers=answers)


def test_no_tier_asks_the_two_questions_and_changes_nothing(fchat):
    answer = fchat.text("alice", "fault declare Disk alarm on db-3")
    assert answer == t(fchat, "error.fault_which_tier")
    assert not [a for a in fchat.audit() if a.subject_type == "fault"]


@pytest.mark.parametrize("bad", ["4", "P9", "0"])
def test_an_unknown_tier_is_refused(fchat, bad):
    answer = fchat.text("alice", f"fault declare {bad} Something")
    assert answer == t(fchat, "error.fault_bad_tier", value=bad)


def test_declaring_posts_the_card_with_both_clocks(fchat, clock):
    ref = declare(fchat, "1 Core switch down system=sw-core-1 site=SH1 impact=all orders")
    card = fchat.card("alice", f"fault show {ref}")
    values = fields(fchat, ref)
    assert values["respond"] == left(fchat, clock.now() + timedelta(minutes=10), 10)
    assert values["resolve"] == left(fchat, clock.now() + timedelta(minutes=120), 120)
    assert values["system"] == "sw-core-1" and values["site"] == "SH1"
    assert [a.command for a in card.actions] == [
        f"fault ack {ref}",
        f"fault resolve {ref} summary=",
        f"fault refresh {ref}",
    ]
    assert any(ref in n for n in fchat.notices("#faults"))


def test_a_site_with_its_own_contract_gets_its_own_targets(fchat, org_faults):
    from handlers.workflows import OrgConfig

    org_faults = {**org_faults, "faults": {"sites": {"bj2": {1: {"respond_minutes": 5}}}}}
    fchat.core.org = OrgConfig.model_validate(org_faults)
    now = fchat.clock.now()
    ref = declare(fchat, "1 Storage down site=BJ2")
    values = fields(fchat, ref)
    assert values["respond"] == left(fchat, now + timedelta(minutes=5), 5)
    assert values["resolve"] == t(fchat, "fault.no_target")
    other = declare(fchat, "1 Storage down site=SH1")  # elsewhere the general contract
    values = fields(fchat, other)
    assert values["respond"] == left(fchat, now + timedelta(minutes=10), 10)
    assert values["resolve"] == left(fchat, now + timedelta(minutes=120), 120)


def test_a_customers_contract_applies_at_its_sites_unless_a_site_has_its_own(fchat, org_faults):
    from handlers.workflows import OrgConfig

    sites = [dict(site, customer="Globex 环球") for site in org_faults["sites"]]
    org_faults = {**org_faults, "sites": sites, "faults": {
        "customers": {"globex 环球": {1: {"respond_minutes": 15, "resolve_minutes": 60}}},
        "sites": {"BJ2": {1: {"respond_minutes": 5}}},
    }}  # fmt: skip
    fchat.core.org = OrgConfig.model_validate(org_faults)
    now = fchat.clock.now()
    at_sh1 = declare(fchat, "1 Storage down site=SH1")  # Globex's contract
    values = fields(fchat, at_sh1)
    assert values["respond"] == left(fchat, now + timedelta(minutes=15), 15)
    assert values["resolve"] == left(fchat, now + timedelta(minutes=60), 60)
    at_bj2 = declare(fchat, "1 Storage down site=BJ2")  # the site's own contract comes first
    assert fields(fchat, at_bj2)["respond"] == left(fchat, now + timedelta(minutes=5), 5)


def test_a_contract_for_a_customer_no_site_has_is_refused(org_faults):
    from pydantic import ValidationError

    from handlers.workflows import OrgConfig

    org_faults = {**org_faults, "faults": {"customers": {"Initech": {1: {"respond_minutes": 5}}}}}
    with pytest.raises(ValidationError, match="names no site's customer: initech"):
        OrgConfig.model_validate(org_faults)


# ---- the clocks


def test_thresholds_repaint_the_card_and_the_due_one_escalates(fchat, clock):
    ref = declare(fchat, "1 Storage array offline")
    due = clock.now() + timedelta(minutes=10)
    channel_cards = lambda: [n for n in fchat.notices("#faults") if ref in n]  # noqa: E731
    shown = len(channel_cards())
    tick(fchat, clock, 5)  # 50 % of the 10-minute response window
    assert len(channel_cards()) == shown + 1 and left(fchat, due, 5) in channel_cards()[-1]
    tick(fchat, clock, 3)  # 80 %
    assert left(fchat, due, 2) in channel_cards()[-1]
    assert pings(fchat, "erin", ref) == []
    tick(fchat, clock, 2)  # due: the on-call level is pinged, by DM and in the channel
    assert t(fchat, "fault.clock_due", at="10:10") in channel_cards()[-2]
    assert len(pings(fchat, "erin", ref)) == 1
    ping = escalation(fchat, ref, "Storage array offline", tier=1, level=1, names="Erin Engineer")
    assert channel_cards()[-1] == ping


def test_escalation_repeats_then_climbs_level_by_level_until_acknowledged(fchat, clock):
    ref = declare(fchat, "1 Payments down")
    tick(fchat, clock, 10)  # due: level 1 (on-call), first ping
    tick(fchat, clock, 5)  # repeat 1
    tick(fchat, clock, 5)  # repeat 2
    assert len(pings(fchat, "erin", ref)) == 3
    assert pings(fchat, "carol", ref) == []
    tick(fchat, clock, 10)  # level 2: supervisors (carol, amy; dan is a manager, so too)
    assert len(pings(fchat, "carol", ref)) == 1
    tick(fchat, clock, 15)  # level 3: managers
    assert len(pings(fchat, "dan", ref)) == 2  # as a supervisor at level 2, as manager at 3
    levels = [a.details["level"] for a in fchat.audit() if a.action == "fault.escalate"]
    assert levels == [1, 1, 1, 2, 3]
    tick(fchat, clock, 60)  # the last level does not repeat for ever
    assert len([a for a in fchat.audit() if a.action == "fault.escalate"]) == 5


def test_an_escalation_in_slack_mentions_the_people_it_pings(fchat, clock):
    from bot.slack.blocks import blocks
    from handlers.core import Core
    from handlers.messages import from_dict

    core = fchat.core
    slack = Chat(Core(core.db, clock, core.i18n, core.org, platforms("slack")), clock)
    ref = declare(slack, "1 Core switch down")
    tick(slack, clock, 10)
    [message] = [
        m
        for m in (from_dict(r.payload) for r in slack.outbox(target="CFAULTS"))
        if m.kind == "text" and f"fault ack {ref}" in m.text
    ]
    assert message.mentions == ("UERIN",)  # Erin is on call, and in Slack
    # live, after the tone emoji if the text has no icon of its own (it opens with 🚨 today)
    assert re.match(r"(:x: )?<@UERIN> \S", blocks(message)[0]["text"]["text"])
    [dm] = [from_dict(r.payload) for r in slack.outbox(target="UERIN")]
    assert f"fault ack {ref}" in dm.text and dm.mentions == ()  # a DM needs no mention


def test_wecom_gets_a_short_notice_at_each_threshold_where_slack_gets_the_card_again(
    fchat, clock, org_faults
):
    from handlers.core import Core
    from handlers.messages import from_dict
    from handlers.workflows import OrgConfig

    data = {**org_faults, "channels": {**org_faults["channels"]}}
    data["channels"]["faults"] = {"slack": "CFAULTS", "wecom_chat": "wrfaults"}
    org, core = OrgConfig.model_validate(data), fchat.core
    both = Chat(Core(core.db, clock, core.i18n, org, platforms("slack", "wecom")), clock)
    ref = declare(both, "1 Core switch down")
    for minutes in (5, 3, 2):  # 50%, 80% and 100% of the 10-minute response window
        tick(both, clock, minutes)
    wecom = [(r.replaces_id, from_dict(r.payload)) for r in both.outbox(target="wrfaults")]
    assert [m.kind for _, m in wecom] == ["card", "text", "text", "text", "text"]
    assert all(replaces is None for replaces, _ in wecom)  # never a rewritten card
    half, near, due, ping = (m.text for _, m in wecom[1:])
    at = clock.now()  # the response is due now

    def notice(clock_text: str) -> str:
        which = t(both, "field.respond")
        return t(both, "fault.threshold", ref=ref, title="Core switch down", which=which,
                 clock=clock_text)  # fmt: skip

    assert half == notice(left(both, at, 5)) and f"fault refresh {ref}" in half
    assert near == notice(left(both, at, 2))
    assert due == notice(t(both, "fault.clock_due", at=f"{both.core.i18n.local(at):%H:%M}"))
    assert f"fault ack {ref}" in ping  # the escalation itself
    slack = [r for r in both.outbox(target="CFAULTS") if r.kind == "card"]
    assert len(slack) == 4 and all(r.replaces_id == slack[0].id for r in slack[1:])


def test_ack_stops_the_escalation_and_freezes_the_response_clock(fchat, clock):
    ref = declare(fchat, "2 VPN down")
    tick(fchat, clock, 21)  # overdue: escalated once
    assert len(pings(fchat, "erin", ref)) == 1
    fchat.text("erin", f"fault ack {ref}")
    tick(fchat, clock, 30)
    assert len(pings(fchat, "erin", ref)) == 1
    values = fields(fchat, ref, "erin")
    assert values["respond"] == t(fchat, "fault.clock_missed", took=21, target=20)
    assert values["acknowledged"] == "Erin Engineer"


def test_resolution_80_percent_and_overdue_ping_supervisors_and_managers(fchat, clock):
    ref = declare(fchat, "2 Mail queue stuck")
    at = f"{fchat.core.i18n.local(clock.now() + timedelta(minutes=240)):%H:%M}"
    said = dict(ref=ref, title="Mail queue stuck", at=at)
    fchat.text("erin", f"fault ack {ref}")
    tick(fchat, clock, 0.8 * 240)
    assert fchat.notices("carol").count(t(fchat, "fault.resolve_near", **said)) == 1
    assert t(fchat, "fault.resolve_near", "zh", **said) in fchat.notices("dan")
    tick(fchat, clock, 0.2 * 240)
    assert t(fchat, "fault.resolve_overdue", **said) in fchat.notices("carol")
    fchat.text("erin", f"fault resolve {ref} restarted the MTA")
    met = t(fchat, "fault.clock_met", took=240, target=240)
    assert fields(fchat, ref, "erin")["resolve"] == met  # on the minute still counts


def test_a_tier_change_recomputes_the_deadlines_from_the_declaration(fchat, clock):
    ref = declare(fchat, "3 Fan alarm")
    declared = clock.now()
    tick(fchat, clock, 12)
    [done, _card] = fchat.say("alice", f"fault tier {ref} 1 two racks now")
    assert done.text == t(fchat, "fault.retiered", ref=ref)
    # tier 1 responds in 10 min from the declaration: already 2 min late, so it escalates now
    fchat.core.sweep_deadlines()
    assert len(pings(fchat, "erin", ref)) == 1
    values = fields(fchat, ref)
    assert values["respond"] == t(fchat, "fault.clock_overdue", late=2)
    assert values["resolve"] == left(fchat, declared + timedelta(minutes=120), 108)
    [change] = [a for a in fchat.audit() if a.action == "fault.tier"]
    assert change.details == {"from": 3, "to": 1} and change.comment == "two racks now"
    same = t(fchat, "error.fault_same_tier", tier=1)
    assert fchat.text("alice", f"fault tier {ref} 一级") == same


def test_deadlines_missed_while_the_bot_was_down_fire_on_the_first_sweep(fchat, clock):
    ref = declare(fchat, "1 Power feed A lost")
    clock.advance(timedelta(minutes=25))  # the bot was down: nothing swept
    fchat.core.sweep_deadlines()
    assert len(pings(fchat, "erin", ref)) == 1  # escalation starts at once, not 25 min late
    with fchat.core.db.unit_of_work() as session:
        pending = session.query(Deadline).filter_by(status="pending", kind="fault.escalate").all()
        assert len(pending) == 1


def countdown_round(chat: Chat, **repaints: int) -> int:
    """One countdown round of ``chat``'s core, its platforms taking ``repaints`` a minute."""
    served = {n: Platform(n, True, repaints.get(n, 0)) for n in {"console", *repaints}}
    core = replace(chat.core, platforms=served)
    [job] = [p for p in core.periodic if p.name == "fault-countdowns"]
    return core.run_periodic(job)


def test_countdowns_are_repainted_each_minute_only_where_cards_are_edited_at_will(fchat, clock):
    ref = declare(fchat, "2 Backup job failing")
    resolve_by = clock.now() + timedelta(minutes=240)
    fchat.text("erin", f"fault ack {ref}")
    shown = len(fchat.outbox())
    clock.advance(timedelta(minutes=1))
    assert countdown_round(fchat) == 0  # the console takes no periodic repaints
    assert countdown_round(fchat, console=40) == 1
    [repaint] = fchat.outbox()[shown:]
    assert repaint.replaces_id is not None and repaint.target == "#faults"
    assert left(fchat, resolve_by, 239) in fchat.notices("#faults")[-1]
    assert countdown_round(fchat, slack=40) == 0  # open, but no Slack card: nothing
    assert len(fchat.outbox()) == shown + 1


def test_with_many_open_faults_the_countdown_cards_take_turns(fchat, clock):
    refs = [declare(fchat, f"2 Array {n} degraded") for n in range(5)]
    for minute in range(1, 4):
        clock.advance(timedelta(minutes=1))
        shown = len(fchat.outbox())
        assert countdown_round(fchat, console=2) == 2
        painted = list(dict.fromkeys(r.subject for r in fchat.outbox()[shown:]))
        # the least recently painted go first: declared order, then round and round
        expected = [refs[(2 * (minute - 1) + i) % 5] for i in range(2)]
        assert painted == expected, (minute, painted)


def test_refresh_repaints_the_card_on_demand(fchat, clock):
    ref = declare(fchat, "3 Temperature alarm")
    countdown = left(fchat, clock.now() + timedelta(minutes=30), 23)
    clock.advance(timedelta(minutes=7))
    assert fields(fchat, ref, verb="refresh")["respond"] == countdown
    assert countdown in fchat.notices("#faults")[-1]
    assert not [a for a in fchat.audit() if a.action == "fault.refresh"]  # not a state change


# ---- lifecycle and bad input


def test_the_lifecycle_with_times_against_targets_and_the_report(fchat, clock):
    ref = declare(fchat, "1 Database cluster down")
    tick(fchat, clock, 6)
    fchat.text("erin", f"fault ack {ref}")
    fchat.text("erin", f"fault update {ref} failing over to the standby")
    tick(fchat, clock, 40)
    fchat.text("erin", f"fault resolve {ref} failed over; primary rebuilt")
    closing = fchat.say("carol", f"fault close {ref} cause=disk firmware bug")
    card = fchat.card("carol", f"fault show {ref}")
    values = fields(fchat, ref, "carol")
    responded = t(fchat, "fault.clock_met", took=6, target=10)
    assert values["respond"] == responded
    assert values["resolve"] == t(fchat, "fault.clock_met", took=46, target=120)
    assert card.state == "closed" and "disk firmware bug" in card.body
    actions = [a.action for a in fchat.audit() if a.subject_type == "fault"]
    assert actions == ["fault.declare", "fault.ack", "fault.update", "fault.resolve", "fault.close"]
    # the report: posted to the faults channel, and a Markdown file for whoever closed it
    [report] = [n for n in fchat.notices("#faults") if t(fchat, "fault.report") in n]
    assert f"| Response | {responded} |" in report  # the report's table (fault_report.j2)
    assert "failing over to the standby" in report and "disk firmware bug" in report
    [file] = [m for m in closing if isinstance(m, File)]
    assert file.name == f"{ref}-report.md" and file.mime == "text/markdown"
    assert file.content == report
    fchat.text("carol", f"fault reopen {ref} came back")
    assert fchat.card("carol", f"fault show {ref}").state == "acknowledged"


LIST_KINDS = "open, mine, breached, closed, all"


@pytest.mark.parametrize(
    ("command", "key", "params"),
    [
        ("fault ack F-999", "error.not_found", {"ref": "F-999"}),
        ("fault resolve {ref}", "error.fault_summary_needed", {"ref": "{ref}"}),
        (
            "fault close {ref} cause=x",
            "error.fault_bad_state",
            {"action": "close", "state": "declared"},
        ),
        ("fault tier {ref} 7", "error.fault_bad_tier", {"value": "7"}),
        (
            "fault update {ref}",
            "error.missing_arg",
            {"name": "note", "usage": "fault.update", "ref": "{ref}"},
        ),
        ("fault list nonsense", "error.unknown_list", {"value": "nonsense", "kinds": LIST_KINDS}),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(fchat, command, key, params):
    ref = declare(fchat, "2 Something")
    before = len(fchat.audit())
    said = t(fchat, key, **{name: value.format(ref=ref) for name, value in params.items()})
    assert fchat.text("alice", command.format(ref=ref)) == said
    assert len(fchat.audit()) == before


def test_ack_of_a_closed_fault_is_refused(fchat):
    ref = declare(fchat, "3 Noise")
    fchat.text("alice", f"fault resolve {ref} it stopped")
    fchat.text("alice", f"fault close {ref} cause=sensor")
    said = t(fchat, "error.fault_bad_state", action="ack", state="closed")
    assert fchat.text("alice", f"fault ack {ref}") == said


def test_lists_open_mine_and_breached(fchat, clock):
    late = declare(fchat, "1 Late one")
    fine = declare(fchat, "3 Fine one", who="zhang")
    tick(fchat, clock, 11)
    fchat.text("erin", f"fault ack {fine}")
    assert late in fchat.text("alice", "fault list") and fine in fchat.text("alice", "fault list")
    assert late in fchat.text("alice", "fault list mine")
    assert fine not in fchat.text("alice", "fault list mine")
    breached = fchat.text("alice", "fault list 超时")
    assert late in breached and fine not in breached


def test_an_empty_level_is_skipped_and_the_admins_are_told(fchat, clock, org_faults):
    from handlers.workflows import OrgConfig

    org_faults = {
        **org_faults,
        "faults": {
            "escalation": [
                {"notify": ["@nobody-here"]},
                {"notify": ["supervisor"], "after_minutes": 5},
            ]
        },
    }
    fchat.core.org = OrgConfig.model_validate(org_faults)
    ref = declare(fchat, "1 Edge router down")
    tick(fchat, clock, 10)
    empty = t(fchat, "fault.level_empty", ref=ref, level=1, who=["@nobody-here"])
    assert empty in fchat.notices("bob")
    assert len(pings(fchat, "carol", ref)) == 1  # the next level, at once


# ---- words: tiers, answers, labels, the report


def fault_row(chat: Chat, ref: str):
    from storage.models import Fault

    with chat.core.db.unit_of_work() as session:
        fault = session.get(Fault, int(ref[2:]))
        session.expunge(fault)
        return fault


ANSWERED = [  # typed; the tier as shown in English and in Chinese; (business_down, data_lost)
    ("Lost rows business_down=no data_lost=yes", "Tier 2 · business not down, data lost",
     "二级 · 业务未中断，数据丢失", (False, True)),
    ("Lost rows business_down=yes data_lost=no", "Tier 2 · business down, no data lost",
     "二级 · 业务中断，数据未丢失", (True, False)),
    ("2 Lost rows data_lost=yes", "Tier 2 · data lost", "二级 · 数据丢失", (None, True)),
]  # fmt: skip


@pytest.mark.parametrize(("typed", "en", "zh", "stored"), ANSWERED)
def test_the_tier_shows_the_answers_given_and_never_contradicts_them(fchat, typed, en, zh, stored):
    ref = declare(fchat, typed)
    assert fchat.card("alice", f"fault show {ref}").fields[0].value == en
    assert fchat.card("zhang", f"fault show {ref}").fields[0].value == zh
    assert f"{ref} · {en} ·" in fchat.text("alice", "fault list")
    fault = fault_row(fchat, ref)
    assert (fault.business_down, fault.data_lost) == stored


def test_a_tier_given_without_answers_is_described_as_the_contract_does(fchat):
    ref = declare(fchat, "2 VPN down")
    assert fchat.card("alice", f"fault show {ref}").fields[0].value == t(fchat, "fault.tier2")
    assert fchat.card("zhang", f"fault show {ref}").fields[0].value == t(fchat, "fault.tier2", "zh")


def test_the_card_labels_resolution_and_root_cause_and_a_reopen_clears_them(fchat):
    ref = declare(fchat, "3 Noise")
    fchat.text("alice", f"fault resolve {ref} it stopped")
    fchat.text("alice", f"fault close {ref} cause=loose sensor")
    lines = fchat.card("alice", f"fault show {ref}").body.splitlines()
    assert t(fchat, "fault.resolution_is", text="it stopped") in lines
    assert t(fchat, "fault.root_cause_is", text="loose sensor") in lines
    zh = fchat.card("zhang", f"fault show {ref}").body.splitlines()
    assert {"处理总结：it stopped", "根本原因：loose sensor"} <= set(zh)
    fchat.text("alice", f"fault reopen {ref} it is back")
    body = fchat.card("alice", f"fault show {ref}").body
    assert "it stopped" not in body and "loose sensor" not in body
    fault = fault_row(fchat, ref)
    assert (fault.resolution, fault.root_cause, fault.resolved_at) == (None, None, None)
    trail = fchat.card("alice", f"audit {ref}").body  # what was said then stays on record
    assert "it stopped" in trail and "loose sensor" in trail


def test_a_refused_action_is_named_in_the_users_language(fchat):
    ref = declare(fchat, "3 Noise")
    assert fchat.text("zhang", f"fault close {ref} cause=x") == (
        "该故障已申报，待响应，现在不能执行“关闭”。"
    )
    fchat.text("alice", f"fault resolve {ref} it stopped")
    fchat.text("alice", f"fault close {ref} cause=sensor")
    assert "“调整级别”" in fchat.text("zhang", f"fault tier {ref} 1")
    assert "“添加进展”" in fchat.text("zhang", f"fault update {ref} more")
    assert '"Change tier"' in fchat.text("alice", f"fault tier {ref} 1")


def test_tiers_are_named_alike_on_cards_and_in_notices(fchat, clock):
    ref = declare(fchat, "1 Payments down")
    assert fchat.text("zhang", f"fault tier {ref} 一级") == "该故障已经是一级。"
    for minutes in (10, 5, 5, 10):  # level 1 and its two repeats, then level 2
        tick(fchat, clock, minutes)
    # level 2 pings the supervisors and managers; dan reads Chinese
    [ping] = pings(fchat, "dan", ref)
    assert f"{ref}（一级）" in ping and "1 级" not in ping
    assert f"{ref} (tier 1)" in pings(fchat, "carol", ref)[0]


def test_an_empty_level_is_named_in_the_admins_language(fchat, clock, org_faults):
    from handlers.workflows import OrgConfig

    people = [dict(p, locale="zh") if p["handle"] == "bob" else p for p in org_faults["people"]]
    escalation = [{"notify": ["schedule:weekend", "@nobody-here"]}, {"notify": ["supervisor"]}]
    data = {**org_faults, "people": people, "faults": {"escalation": escalation}}
    fchat.core.org = OrgConfig.model_validate(data)
    fchat.core.seed()
    ref = declare(fchat, "1 Edge router down")
    tick(fchat, clock, 10)
    [notice] = [n for n in fchat.notices("bob") if ref in n]
    assert "第 1 级（值班表 weekend、@nobody-here）没有人员" in notice


def report_lines(text: str, headings: int) -> list[str]:
    """The report's timeline entries, after checking its line structure: each heading follows a
    blank line, the entries are consecutive list items, and no raw action key shows."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    assert len(heads) == headings and all(lines[i - 1] == "" for i in heads), text
    entries = [i for i, line in enumerate(lines) if re.match(r"- \d{4}-\d\d-\d\d \d\d:\d\d ", line)]
    assert entries == list(range(entries[0], entries[-1] + 1)), text
    assert lines[entries[0] - 1].startswith("## ") and lines[entries[-1] + 1] == "", text
    assert not re.search(r"\bfault\.[a-z]", text), text
    return [lines[i] for i in entries]


def test_the_report_timeline_is_one_entry_a_line_in_words_in_both_languages(fchat, clock):
    ref = declare(fchat, "1 Database cluster down impact=orders")
    tick(fchat, clock, 10)  # escalated to the on-call engineer
    fchat.text("erin", f"fault ack {ref}")
    fchat.text("erin", f"fault update {ref} failing over")
    fchat.text("erin", f"fault tier {ref} 2 orders flow again")
    fchat.text("erin", f"fault resolve {ref} failed over; primary rebuilt")
    closing = fchat.say("zhang", f"fault close {ref} cause=disk firmware bug")
    [post] = [n for n in fchat.notices("#faults") if "Fault handling report" in n]
    en = report_lines(post, headings=7)  # with the linked repairs' steps
    assert len(en) == 7
    assert en[0].endswith("Alice Engineer (alice): declared, tier 1")
    assert en[1].endswith(": escalation level 1: notified erin")
    assert en[3].endswith(": progress note — failing over")
    assert en[4].endswith(": tier changed: tier 1 → tier 2 — orders flow again")
    assert en[6].endswith("张伟 (zhang): closed — disk firmware bug")
    [file] = [m for m in closing if isinstance(m, File)]  # zhang closed it: in Chinese
    zh = report_lines(file.content, headings=7)
    assert len(zh) == 7
    assert zh[0].endswith("Alice Engineer (alice)：申报故障（一级）")
    assert zh[4].endswith("：调整级别：一级 → 二级 —— orders flow again")
    assert zh[5].endswith("：已解决 —— failed over; primary rebuilt")
