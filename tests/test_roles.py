"""Roles: granted and revoked by admins; the organisation file seeds them, the database keeps
them."""

import re
from pathlib import Path

import pytest

from tests.visits_kit import (
    ok,
    refused,
    request,
    snapshot,
    t,
)

README = Path(__file__).resolve().parent.parent / "README.md"


def person_audit(chat):
    return [e for e in chat.audit() if e.subject_type == "person" and e.action.startswith("role.")]


def roles_of(chat, handle: str) -> str:
    card = chat.card("bob", f"role list {handle}")
    [field] = [f for f in card.fields if f.label == t(chat, "field.roles")]
    return field.value


def test_the_file_seeds_people_and_roles(chat):
    assert roles_of(chat, "amy") == "admin, supervisor"
    assert roles_of(chat, "dan") == "manager"
    seeded = [e for e in chat.audit() if e.action == "person.seeded"]
    assert len(seeded) == 7
    assert {e.new_state for e in seeded} >= {"admin,supervisor", "engineer", "manager"}
    assert {e.platform for e in seeded} == {"system"}


def test_an_admin_grants_a_role_and_it_takes_effect_at_once(chat):
    ref = request(chat, "alice")
    assert refused(chat, "erin", f"visit review {ref}", ref) == t(
        chat, "error.need_role", role="admin"
    )
    answer = ok(chat, "bob", "role grant erin admin")
    assert answer == t(chat, "role.granted", person="erin", role="admin")
    assert roles_of(chat, "erin") == "admin, engineer"
    [entry] = person_audit(chat)
    assert (entry.action, entry.old_state, entry.new_state, entry.comment) == (
        "role.grant",
        "engineer",
        "admin,engineer",
        "admin",
    )
    assert entry.actor_label == "Bob Admin (bob)"
    ok(chat, "erin", f"visit review {ref}")


def test_an_admin_revokes_a_role_and_it_takes_effect_at_once(chat):
    ref = request(chat, "alice")
    ok(chat, "bob", f"visit review {ref}")
    assert ok(chat, "amy", "role revoke carol supervisor") == t(
        chat, "role.revoked", person="carol", role="supervisor"
    )
    assert roles_of(chat, "carol") == "—"
    refused(chat, "carol", f"visit approve {ref}", ref)
    [entry] = person_audit(chat)
    assert (entry.action, entry.old_state, entry.new_state) == ("role.revoke", "supervisor", "")


@pytest.mark.parametrize("who", ["alice", "carol", "dan", "zhang"])
def test_only_admins_grant_or_revoke(chat, who):
    locale = "zh" if who in ("dan", "zhang") else "en"
    expected = t(chat, "error.need_role", locale, role="admin")
    assert refused(chat, who, f"role grant {who} admin") == expected
    assert refused(chat, who, "role revoke bob admin") == expected
    assert person_audit(chat) == []


def test_chinese_role_words_and_verbs(chat):
    ok(chat, "bob", "角色 授予 erin 主管")
    assert roles_of(chat, "erin") == "engineer, supervisor"
    ok(chat, "bob", "角色 撤销 erin 主管")
    assert roles_of(chat, "erin") == "engineer"
    ok(chat, "bob", "role add @erin on-call")
    assert "on-call" in roles_of(chat, "erin")


def test_unknown_role(chat):
    answer = refused(chat, "bob", "role grant erin boss")
    assert answer == t(
        chat,
        "error.unknown_role",
        value="boss",
        roles="engineer, admin, supervisor, manager, oncall",
    )


def test_unknown_person(chat):
    assert refused(chat, "bob", "role grant nobody admin") == t(
        chat, "error.unknown_person", value="nobody"
    )


def test_anyone_sees_anyones_roles_as_the_readme_says(chat):
    """`people` already shows everyone's roles to everyone, so `role list` is not admin-only:
    an engineer sees their own roles and anyone else's; granting stays with admins."""
    own = chat.card("alice", "role list")
    assert own.title.endswith("(@alice)")
    assert [f.value for f in own.fields if f.label == t(chat, "field.roles")] == ["engineer"]
    assert "Roles: admin" in ok(chat, "alice", "role list bob")
    assert "角色: 管理员, 机房主管" in ok(chat, "zhang", "角色 查看 amy")
    rows = {  # the README's command table: | command | aliases | who | what |
        cells[1].strip(): cells[3].strip()
        for cells in (
            re.split(r"(?<!\\)\|", line) for line in README.read_text("utf-8").splitlines()
        )
        if len(cells) > 4 and cells[1].strip().startswith("`role ")
    }
    assert rows["`role list [person]`"] == "anyone"
    assert rows["`role grant <person> <role>` / `role revoke <person> <role>`"] == "admin"


def test_missing_arguments(chat):
    missing = {"usage": "role.grant"}
    assert refused(chat, "bob", "role grant") == t(
        chat, "error.missing_arg", name="person", **missing
    )
    assert refused(chat, "bob", "role grant erin") == t(
        chat, "error.missing_arg", name="role", **missing
    )


def test_granting_a_held_role_or_revoking_a_missing_one(chat):
    assert refused(chat, "bob", "role grant amy admin") == t(
        chat, "error.role_already", person="amy", role="admin"
    )
    assert refused(chat, "bob", "role revoke erin admin") == t(
        chat, "error.role_missing", person="erin", role="admin"
    )


def test_the_last_admin_cannot_be_revoked(chat):
    ok(chat, "bob", "role revoke amy admin")
    before = snapshot(chat)
    assert refused(chat, "bob", "role revoke bob admin") == t(chat, "error.last_admin")
    assert snapshot(chat) == before
    assert roles_of(chat, "bob") == "admin"
    ok(chat, "bob", "role grant erin admin")
    ok(chat, "erin", "role revoke bob admin")  # now there is another admin
    assert [e.action for e in person_audit(chat)] == ["role.revoke", "role.grant", "role.revoke"]


def test_a_supervisor_stands_in_as_reviewer_as_soon_as_the_other_admin_role_goes(chat):
    ref = request(chat, "bob", "company=Acme contact=1")
    assert refused(chat, "carol", f"visit review {ref}", ref) == t(
        chat, "error.need_role", role="admin"
    )  # amy, an admin, can review bob's request
    ok(chat, "bob", "role revoke amy admin")
    ok(chat, "carol", f"visit review {ref}")  # bob is the only admin now
    ok(chat, "dan", f"visit approve {ref}")
    ok(chat, "bob", "role grant erin admin")
    ref2 = request(chat, "bob", "company=Acme contact=1")
    assert refused(chat, "carol", f"visit review {ref2}", ref2) == t(
        chat, "error.need_role", role="admin"
    )


def test_the_database_holds_roles_after_the_file_seeds_again(chat):
    ok(chat, "bob", "role revoke carol supervisor")
    ok(chat, "bob", "role grant erin supervisor")
    seeded = len([e for e in chat.audit() if e.action == "person.seeded"])
    chat.core.seed()  # a restart reads the organisation file again
    assert roles_of(chat, "carol") == "—"  # the revoke is not undone
    assert roles_of(chat, "erin") == "engineer, supervisor"  # the grant stays
    assert len([e for e in chat.audit() if e.action == "person.seeded"]) == seeded
    ref = request(chat, "alice")
    ok(chat, "bob", f"visit review {ref}")
    refused(chat, "carol", f"visit approve {ref}", ref)
    ok(chat, "erin", f"visit approve {ref}")


def test_seeding_again_updates_details_but_not_roles(chat, org):
    org.people[0].company = "Acme Ltd"
    org.people[2].roles = ["engineer"]  # bob, in a newer file: ignored for an existing person
    chat.core.org = org
    chat.core.seed()
    assert roles_of(chat, "bob") == "admin"
    v = request(chat, "alice")
    assert "Alice Engineer · Acme Ltd" in chat.text("alice", f"visit show {v}")


def test_whoami_and_people(chat):
    card = chat.card("dan", "whoami")
    assert card.title == "Dan Manager (@dan)"
    assert [f.value for f in card.fields if f.label == "角色"] == ["经理"]
    assert "@amy — Amy Admin — admin, supervisor" in chat.text("bob", "people")
    assert chat.text("stranger", "whoami") == t(chat, "error.unknown_user", user="stranger")
    assert chat.text("stranger", "visit list") == t(chat, "error.unknown_user", user="stranger")
