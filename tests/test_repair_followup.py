"""The follow-up of a repair (issue 13, item 8): watched for 24 hours (or the organisation's
``followup_hours``) after completion, by a deadline row; then the admins are asked to confirm it
stable or reopen it; lessons learned; the lists and Home; and bad input in both languages, each
refused with nothing changed."""

from datetime import timedelta

import pytest

from handlers.workflows import OrgConfig
from tests.chat import Chat
from tests.conftest import BACKEND_AGNOSTIC
from tests.repairs_kit import ok, refused, repair, start, t

pytestmark = BACKEND_AGNOSTIC  # the backend is the storage tests' and the records' concern

ALL_PASS = "hardware=pass boot=pass selftest=na network=pass business=pass"


def completed(chat: Chat, who: str = "alice", system: str = "erp-db") -> str:
    ref = start(chat, system, who=who)
    ok(chat, who, f"repair check {ref} {ALL_PASS}")
    ok(chat, who, f"repair complete {ref}")
    return ref


def tick(chat: Chat, clock, hours: float) -> None:
    clock.advance(timedelta(hours=hours))
    chat.core.sweep_deadlines()


def reminder(chat: Chat, ref: str, locale: str = "en", hours: int = 24) -> str:
    return t(chat, "repair.followup_due", locale, ref=ref, system="erp-db", hours=hours)


def test_after_24_hours_the_admins_are_asked_to_confirm_it_stable(rchat, clock):
    ref = completed(rchat)
    tick(rchat, clock, 23.9)
    assert reminder(rchat, ref) not in rchat.notices("bob")
    tick(rchat, clock, 0.1)
    for admin in ("bob", "amy"):
        assert reminder(rchat, ref) in rchat.notices(admin)
    assert reminder(rchat, ref) not in rchat.notices("alice")  # an engineer is no admin
    cards = [row for row in rchat.outbox(target="bob") if row.kind == "card"]
    buttons = [a["command"] for a in cards[-1].payload["actions"]]
    assert buttons == [f"repair stable {ref}", f"repair reopen {ref} reason="]
    ok(rchat, "bob", f"repair stable {ref} no alarms for a day")
    r = repair(rchat, ref)
    assert r.state == "stable" and r.stable_at == clock.now()


def test_the_follow_up_period_is_the_organisations(db, clock, org_repairs):
    data = {**org_repairs, "repairs": {**org_repairs["repairs"], "followup_hours": 48}}
    chat = Chat.start(db, clock, OrgConfig.model_validate(data))
    ref = completed(chat)
    tick(chat, clock, 24)
    assert reminder(chat, ref, hours=48) not in chat.notices("bob")
    tick(chat, clock, 24)
    assert reminder(chat, ref, hours=48) in chat.notices("bob")


def test_only_an_admin_confirms_it_stable(rchat):
    ref = completed(rchat)
    assert refused(rchat, "alice", f"repair stable {ref}") == t(
        rchat, "error.need_role", role="admin"
    )


def test_reopened_it_is_under_way_again_and_its_follow_up_stops(rchat, clock):
    ref = completed(rchat)
    ok(rchat, "dan", f"repair verify {ref} ok")
    assert refused(rchat, "alice", f"repair reopen {ref}") == t(rchat, "error.reason_required")
    ok(rchat, "bob", f"repair reopen {ref} ECC errors again")
    r = repair(rchat, ref)
    assert (r.state, r.completed_at, r.verification, r.followup_due_at) == (
        "in_progress", None, None, None
    )  # fmt: skip
    told = t(rchat, "repair.reopened_notice", ref=ref, by="Bob Admin", reason="ECC errors again")
    assert told in rchat.notices("alice")
    tick(rchat, clock, 25)
    assert reminder(rchat, ref) not in rchat.notices("bob")
    ok(rchat, "alice", f"repair step {ref} diagnosis DIMM B1 too")


def test_lessons_learned_go_into_the_archived_report(rchat):
    ref = completed(rchat)
    ok(rchat, "bob", f'repair lesson {ref} "keep two spare DIMMs on site"')
    r = repair(rchat, ref)
    assert [(x["text"], x["by"]) for x in r.lessons] == [
        ("keep two spare DIMMs on site", "Bob Admin")
    ]
    assert "- Bob Admin: keep two spare DIMMs on site" in r.report["en"]
    assert "- Bob Admin：keep two spare DIMMs on site" in r.report["zh"]


def test_lists_and_home(rchat, clock):
    first = start(rchat, "erp-db")
    second = completed(rchat, system="mail")
    third = start(rchat, "crm", who="erin")
    assert _refs(rchat, "alice", "repair list") == [first, third]
    assert _refs(rchat, "alice", "repair list mine") == [first, second]
    assert _refs(rchat, "erin", "repair list mine") == [third]
    assert _refs(rchat, "alice", "repair list followup") == [second]
    assert _refs(rchat, "alice", "repair list all") == [third, second, first]
    assert _refs(rchat, "bob", "repair list pending") == []
    tick(rchat, clock, 24)
    assert _refs(rchat, "bob", "repair list pending") == [second]  # its follow-up is over
    fourth = completed(rchat)
    home = rchat.text("dan", "home")  # dan owns erp-db: asked to verify
    assert t(rchat, "repair.list_pending", "zh", count=1) in home and fourth in home
    assert _refs(rchat, "zhang", "维修 列表 后续") == [second, fourth]


def _refs(chat: Chat, who: str, text: str) -> list[str]:
    body = chat.card(who, text).body
    return [line.split(" · ")[0] for line in body.splitlines() if line.startswith("R-")]


# ---- bad input: a clear message in the user's language, nothing changed


@pytest.fixture(params=[("alice", "en"), ("zhang", "zh")], ids=["en", "zh"])
def person(request):
    return request.param


def test_a_step_on_a_completed_repair(rchat, person):
    who, locale = person
    ref = completed(rchat, who)
    assert refused(rchat, who, f"repair step {ref} diagnosis late note") == t(
        rchat, "error.repair_bad_state", locale, ref=ref, state="completed", action="step",
        did="complete", you=True, by="",
    )  # fmt: skip


def test_a_part_without_a_model_or_with_the_same_serials(rchat, person):
    who, locale = person
    ref = start(rchat, "erp-db", who=who)
    assert refused(rchat, who, f"repair part {ref} old=A new=B") == t(
        rchat, "error.repair_part_model", locale, ref=ref
    )
    assert refused(rchat, who, f"repair part {ref} model=SSD-960G old=A7 new=A7") == t(
        rchat, "error.repair_part_same", locale, serial="A7"
    )


def test_an_unknown_checklist_item(rchat, person):
    who, locale = person
    ref = start(rchat, "erp-db", who=who)
    assert refused(rchat, who, f"repair check {ref} coffee=pass") == t(
        rchat, "error.repair_item", locale, value="coffee",
        known="hardware, boot, selftest, network, business",
    )  # fmt: skip


def test_completion_with_open_items(rchat, person):
    who, locale = person
    ref = start(rchat, "erp-db", who=who)
    ok(rchat, who, f"repair check {ref} hardware=pass boot=pass selftest=pass network=pass")
    item = t(rchat, "repair.item_business", locale)
    assert refused(rchat, who, f"repair complete {ref}") == t(
        rchat, "error.repair_items_open", locale, ref=ref, items=item
    )


def test_a_report_for_an_unknown_repair(rchat, person):
    who, locale = person
    assert refused(rchat, who, "repair report R-9") == t(
        rchat, "error.not_found", locale, ref="R-9"
    )
