"""Repair records in the core (issue 13, items 1–3): starting one on a system of the
organisation file (or free text when it lists none), linked to a fault, a visit or a shutdown —
a fault nobody acknowledged is acknowledged through the fault workflow's own step —; steps by
phase, never edited; parts checked against the specified spare parts."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.messages import Card
from handlers.workflows import OrgConfig
from storage.models import AuditEntry, Deadline, Fault
from tests.chat import Chat
from tests.repairs_kit import (
    declare,
    ok,
    refused,
    repair,
    start,
    t,
)


def fault(chat: Chat, ref: str) -> Fault:
    with chat.core.db.unit_of_work() as session:
        row = session.get(Fault, int(ref.split("-")[1]))
        session.expunge_all()
        return row


def pending_fault_clocks(chat: Chat, ref: str) -> set[str]:
    with chat.core.db.unit_of_work() as session:
        rows = session.scalars(
            select(Deadline).where(
                Deadline.subject_type == "fault",
                Deadline.subject_id == int(ref.split("-")[1]),
                Deadline.status == "pending",
            )
        )
        return {d.kind for d in rows}


# ---- starting


def test_a_repair_on_an_unacknowledged_fault_acknowledges_it_as_fault_ack_would(rchat, clock):
    f = declare(rchat)
    assert "fault.respond" in pending_fault_clocks(rchat, f)
    clock.advance(timedelta(minutes=4))
    answer = ok(rchat, "alice", f"repair start erp-db link={f} engineers=erin")
    assert t(rchat, "repair.fault_acked", fault=f) in answer
    acked = fault(rchat, f)
    assert acked.state == "acknowledged"
    assert acked.acknowledged_at == clock.now()
    # the response clock stopped, the resolution clock runs on: as after `fault ack`
    assert pending_fault_clocks(rchat, f) == {"fault.resolve"}
    ack = [e for e in rchat.audit() if e.action == "fault.ack"]
    assert [(e.actor_label, e.comment, e.new_state) for e in ack] == [
        ("Alice Engineer (alice)", "R-1", "acknowledged")
    ]
    r = repair(rchat, "R-1")
    assert (r.system, r.site_code, r.system_type, r.kind) == ("erp-db", "SH1", "database", "repair")
    assert r.link_ref == f and r.state == "in_progress"
    assert len(r.engineer_ids) == 2 and len(r.owner_ids) == 1  # erp-db's owner: dan
    assert r.checklist_items == ["hardware", "boot", "selftest", "network", "business"]
    assert any("R-1" in n for n in rchat.notices("#repairs"))  # the card, in the channel
    assert any("R-1" in n for n in rchat.notices("erin"))  # and to the other engineer


def test_an_acknowledged_fault_is_left_as_it_was(rchat):
    f = declare(rchat)
    ok(rchat, "bob", f"fault ack {f}")
    answer = ok(rchat, "alice", f"repair start erp-db link={f}")
    assert t(rchat, "repair.fault_acked", fault=f) not in answer
    assert [e.actor_label for e in rchat.audit() if e.action == "fault.ack"] == ["Bob Admin (bob)"]


def test_the_system_defaults_to_the_faults(rchat):
    f = declare(rchat)
    ok(rchat, "alice", f"repair start link={f}")
    assert repair(rchat, "R-1").system == "erp-db"


def test_a_mistyped_system_is_answered_with_the_nearest(rchat):
    answer = refused(rchat, "alice", "repair start erp-bd")
    assert answer.startswith(t(rchat, "error.unknown_system", value="erp-bd", near="\x00")[:-1])
    assert "erp-db" in answer


def test_without_systems_in_the_file_the_system_is_free_text(db, clock, org_data):
    data = {k: v for k, v in org_data.items() if k != "systems"}
    chat = Chat.start(db, clock, OrgConfig.model_validate(data))
    answer = ok(chat, "alice", "repair start db-host-7 owner=dan")
    assert t(chat, "repair.no_link_warning") in answer
    r = repair(chat, "R-1")
    assert (r.system, r.system_type, r.site_code) == ("db-host-7", None, None)
    assert len(r.owner_ids) == 1  # named on the record


def test_no_link_and_no_owner_are_warned_of_but_the_repair_starts(rchat):
    answer = ok(rchat, "alice", "repair start mail")
    assert t(rchat, "repair.no_link_warning") in answer
    assert t(rchat, "repair.no_owner_warning") in answer
    assert repair(rchat, "R-1").state == "in_progress"


def test_a_visit_or_a_shutdown_may_be_linked_and_must_exist(rchat):
    assert refused(rchat, "alice", "repair start erp-db link=V-4") == t(
        rchat, "error.not_found", ref="V-4"
    )
    assert refused(rchat, "alice", "repair start erp-db link=R-1") == t(
        rchat, "error.repair_link", value="R-1"
    )


def test_chinese_words_start_a_planned_maintenance(rchat):
    f = declare(rchat)
    answer = ok(rchat, "zhang", f"维修 开始 erp-db 类型=维护 关联={f} 工程师=alice")
    assert t(rchat, "repair.started", "zh", ref="R-1") in answer
    r = repair(rchat, "R-1")
    assert r.kind == "maintenance" and r.link_ref == f and len(r.engineer_ids) == 2


# ---- steps


def test_steps_by_phase_with_who_and_when_and_the_card_shows_the_phase_reached(rchat, clock):
    ref = start(rchat, "erp-db")
    ok(rchat, "alice", f'repair step {ref} safety "power off, anti-static strap"')
    clock.advance(timedelta(minutes=20))
    ok(rchat, "alice", f'repair step {ref} diagnosis "BMC log shows DIMM B2 ECC errors"')
    card = rchat.card("alice", f"repair show {ref}")
    phase = {f.label: f.value for f in card.fields}[t(rchat, "field.phase")]
    assert phase == t(rchat, "repair.phase_diagnosis")
    assert "#2 Diagnosis · Alice Engineer: BMC log shows DIMM B2 ECC errors" in card.body
    steps = repair(rchat, ref).steps
    assert [(s.number, s.phase, s.at) for s in steps] == [
        (1, "safety", clock.now() - timedelta(minutes=20)),
        (2, "diagnosis", clock.now()),
    ]


def test_chinese_phase_names(rchat):
    ref = start(rchat, "erp-db engineers=zhang")
    ok(rchat, "zhang", f"维修 步骤 {ref} 诊断 内存报错")
    ok(rchat, "zhang", f"维修 步骤 {ref} 维修执行 更换内存条")
    assert [s.phase for s in repair(rchat, ref).steps] == ["diagnosis", "execution"]


def test_a_phase_of_the_other_kind_is_refused_naming_the_phases(rchat):
    ref = start(rchat, "erp-db kind=maintenance")
    answer = refused(rchat, "alice", f"repair step {ref} diagnosis looked at logs")
    phases = "preparation, monitoring, interruption, cleaning, updates, verification, online"
    assert answer == t(rchat, "error.repair_phase", value="diagnosis", kind="Planned maintenance",
                       known=phases)  # fmt: skip
    ok(rchat, "alice", f"repair step {ref} cleaning dust filters")


def test_a_correction_is_a_new_step_and_the_step_it_corrects_is_kept(rchat):
    ref = start(rchat, "erp-db")
    ok(rchat, "alice", f'repair step {ref} diagnosis "DIMM B2 fails"')
    ok(rchat, "alice", f'repair step {ref} execution "replaced DIMM B2"')
    ok(rchat, "alice", f'repair step {ref} diagnosis correction="DIMM B1 fails, not B2"')
    steps = repair(rchat, ref).steps
    assert [(s.number, s.text, s.corrects) for s in steps] == [
        (1, "DIMM B2 fails", None),
        (2, "replaced DIMM B2", None),
        (3, "DIMM B1 fails, not B2", 1),
    ]
    assert "(corrects #1)" in rchat.card("alice", f"repair show {ref}").body
    entry = [e for e in rchat.audit() if e.action == "repair.step"][-1]
    assert entry.details == {"phase": "diagnosis", "number": 3, "corrects": 1}


def test_a_correction_needs_a_step_to_correct(rchat):
    ref = start(rchat, "erp-db")
    assert refused(rchat, "alice", f'repair step {ref} testing correction="x"') == t(
        rchat, "error.repair_nothing_to_correct", ref=ref, phase="testing"
    )


def test_the_card_button_opens_the_step_form_and_has_a_typed_twin(rchat):
    ref = start(rchat, "erp-db")
    card = rchat.card("alice", f"repair show {ref}")
    button = next(a for a in card.actions if a.id == "repair.step")
    assert button.command == f"repair step {ref}"
    assert button.prompt == t(rchat, "prompt.repair_step")
    from handlers.context import Origin

    replies = rchat.core.handle_action(
        Origin("console", "alice"), button.command, 'diagnosis "fan 3 stopped"'
    )
    assert isinstance(replies[-1], Card)
    assert [(s.phase, s.text) for s in repair(rchat, ref).steps] == [("diagnosis", "fan 3 stopped")]


def test_only_its_engineers_or_an_admin_record_steps(rchat):
    ref = start(rchat, "erp-db")
    assert refused(rchat, "erin", f"repair step {ref} diagnosis x") == t(
        rchat, "error.repair_not_engineer", ref=ref
    )
    ok(rchat, "bob", f"repair step {ref} diagnosis checked the PSU")


# ---- parts


def test_a_specified_spare_part_is_recorded_with_its_serials(rchat):
    ref = start(rchat, "erp-db")
    ok(rchat, "alice", f"repair part {ref} model=ddr4-32g-rdimm old=SN1 new=SN2 qty=2")
    (part,) = repair(rchat, ref).parts
    assert (part.model, part.old_serial, part.new_serial, part.quantity, part.listed) == (
        "ddr4-32g-rdimm", "SN1", "SN2", 2, True
    )  # fmt: skip
    assert not [n for n in rchat.notices("carol") if "DDR4" in n.upper()]


def test_a_part_off_the_list_is_recorded_flagged_and_the_supervisors_told(rchat):
    ref = start(rchat, "erp-db")
    answer = ok(rchat, "alice", f"repair part {ref} model=Kingston-16G old=K1 new=K2")
    assert t(rchat, "repair.part_flagged", model="Kingston-16G") in answer
    assert repair(rchat, ref).parts[0].listed is False
    assert "⚠ Kingston-16G ×1: K1 → K2" in rchat.card("alice", f"repair show {ref}").body
    told = t(rchat, "repair.part_unlisted", ref=ref, model="Kingston-16G", system="erp-db",
             by="Alice Engineer")  # fmt: skip
    for supervisor in ("carol", "amy"):
        assert told in rchat.notices(supervisor)
    zh = t(rchat, "repair.part_unlisted", "zh", ref=ref, model="Kingston-16G", system="erp-db",
           by="Alice Engineer")  # fmt: skip
    assert zh in rchat.notices("dan")  # a manager, in Chinese
    assert told not in rchat.notices("bob")  # an admin is no supervisor


def test_a_system_type_without_a_list_is_not_checked(rchat):
    ref = start(rchat, "sw-core-1")
    answer = ok(rchat, "alice", f"repair part {ref} model=SFP-10G old=A1 new=A2")
    assert t(rchat, "repair.part_flagged", model="SFP-10G") not in answer
    assert repair(rchat, ref).parts[0].listed is None


@pytest.mark.parametrize(
    ("options", "key", "params"),
    [
        ("old=SN1 new=SN2", "error.repair_part_model", {"ref": "R-1"}),
        ("model=SSD-960G old=SN1 new=sn1", "error.repair_part_same", {"serial": "SN1"}),
        ("model=SSD-960G qty=0", "error.repair_part_qty", {"value": "0"}),
    ],
)
def test_a_part_without_a_model_or_with_the_same_serials_is_refused(rchat, options, key, params):
    ref = start(rchat, "erp-db")
    assert refused(rchat, "alice", f"repair part {ref} {options}") == t(rchat, key, **params)


def test_audit_trail_names_each_record(rchat):
    ref = start(rchat, "erp-db")
    ok(rchat, "alice", f"repair step {ref} diagnosis x")
    ok(rchat, "alice", f"repair part {ref} model=SSD-960G old=S1 new=S2")
    with rchat.core.db.unit_of_work() as session:
        actions = list(session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_type == "repair")
        ))  # fmt: skip
    assert actions == ["repair.start", "repair.step", "repair.part"]
    trail = rchat.text("alice", f"audit {ref}")
    assert "recorded step #1 (Diagnosis)" in trail and "recorded part SSD-960G (S1 → S2)" in trail
