"""People and roles: seeding from the organisation file, identity lookup, grant and revoke."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import audit
from handlers.context import Actor, Context, Origin
from handlers.errors import Forbidden, NotFound, UserError
from handlers.messages import Card, Field, Text
from handlers.orgconfig import Organisation
from handlers.registry import Area, Commands
from handlers.roles import ROLES
from storage.models import Person, RoleGrant, Room, Site

commands = Commands(
    Area("role", ("roles", "角色", "权限")),
    Area("whoami", ("me", "我")),
    Area("people", ("person", "人员", "成员")),
)


def seed(ctx: Context, org: Organisation) -> None:
    """Create or update people, sites and rooms from the file.

    A person's roles come from the file only when the person is first created; after that the
    database holds them and admins change them with ``role grant`` / ``role revoke``.
    """
    session, now = ctx.session, ctx.now()
    for spec in org.people:
        person = session.scalar(select(Person).where(Person.handle == spec.handle))
        created = person is None
        if created:
            person = Person(handle=spec.handle, active=True)
            session.add(person)
        person.name, person.locale, person.phone = spec.name, spec.locale, spec.phone
        person.company, person.slack_user_id, person.wecom_user_id = (
            spec.company,
            spec.slack,
            spec.wecom,
        )
        if created:
            person.roles = [
                RoleGrant(role=r, granted_at=now, granted_by="org-file") for r in set(spec.roles)
            ]
            session.flush()
            audit.record(
                ctx,
                subject_type="person",
                subject_id=person.id,
                action="person.seeded",
                new_state=",".join(sorted(spec.roles)),
            )
    for site_spec in org.sites:
        site = session.scalar(select(Site).where(Site.code == site_spec.code))
        if site is None:
            site = Site(code=site_spec.code, name=site_spec.name)
            session.add(site)
        site.name, site.address = site_spec.name, site_spec.address
        session.flush()
        known = {r.code: r for r in site.rooms}
        for room_spec in site_spec.rooms:
            room = known.get(room_spec.code) or Room(site=site, code=room_spec.code)
            room.name = room_spec.name
            session.add(room)


def identify(session: Session, origin: Origin) -> Person | None:
    column = {
        "slack": Person.slack_user_id,
        "wecom": Person.wecom_user_id,
        "console": Person.handle,
    }.get(origin.platform)
    if column is None or not origin.user:
        return None
    return session.scalar(select(Person).where(column == origin.user, Person.active.is_(True)))


def handles(session: Session) -> list[str]:
    """The handles of everyone active, in the order they were added."""
    return list(
        session.scalars(select(Person.handle).where(Person.active.is_(True)).order_by(Person.id))
    )


def actor_of(person: Person, default_locale: str) -> Actor:
    return Actor(
        id=person.id,
        handle=person.handle,
        name=person.name,
        roles=frozenset(g.role for g in person.roles),
        locale=person.locale or default_locale,
    )


def find(session: Session, word: str) -> Person:
    """A person by handle, Slack id, WeCom id or exact name (``@alice`` works too)."""
    key = word.strip().lstrip("@")
    if key.startswith("<@") and key.endswith(">"):  # a Slack mention
        key = key[2:-1].split("|")[0]
    person = session.scalar(
        select(Person).where(
            (func.lower(Person.handle) == key.lower())
            | (Person.slack_user_id == key)
            | (Person.wecom_user_id == key)
            | (Person.name == key)
        )
    )
    if person is None or not person.active:
        raise NotFound("error.unknown_person", value=word)
    return person


def active(session: Session, handles: list[str]) -> list[Person]:
    """The active people of ``handles`` (as the organisation file spells them), each once, in
    order; someone gone from the organisation since is left out rather than refused."""
    keys = [h.strip().lstrip("@").lower() for h in handles]
    if not keys:
        return []
    found = session.scalars(
        select(Person).where(func.lower(Person.handle).in_(keys), Person.active.is_(True))
    )
    by_handle = {p.handle.lower(): p for p in found}
    return list({p.id: p for p in (by_handle.get(k) for k in keys) if p}.values())


def _role_word(word: str) -> str:
    aliases = {
        "工程师": "engineer",
        "管理员": "admin",
        "主管": "supervisor",
        "经理": "manager",
        "值班": "oncall",
        "on-call": "oncall",
    }
    role = aliases.get(word.strip(), word.strip().lower())
    if role not in ROLES:
        raise UserError("error.unknown_role", value=word, roles=", ".join(ROLES))
    return role


def _person_card(ctx: Context, person: Person) -> Card:
    roles = sorted(g.role for g in person.roles)
    return Card(
        title=f"{person.name} (@{person.handle})",
        fields=[
            Field(ctx.t("field.roles"), ", ".join(ctx.t(f"role.{r}") for r in roles) or "—"),
            Field("Slack", person.slack_user_id or "—"),
            Field(ctx.t("field.wecom"), person.wecom_user_id or "—"),
            Field(ctx.t("field.locale"), person.locale or ctx.i18n.default_locale),
        ],
    )


@commands("whoami", public=True, words=0)
def whoami(ctx: Context, inv) -> None:
    if ctx.actor.id is None:
        ctx.reply(Text(ctx.t("error.unknown_user", user=ctx.origin.user or "?"), tone="warning"))
        return
    ctx.reply(_person_card(ctx, ctx.session.get(Person, ctx.actor.id)))


@commands("people", "list", aliases=("ls", "列表"), words=0)
@commands("people", None, words=0)
def people_list(ctx: Context, inv) -> None:
    people = ctx.session.scalars(select(Person).where(Person.active.is_(True))).all()
    lines = [
        f"@{p.handle} — {p.name} — "
        + (", ".join(sorted(ctx.t(f"role.{g.role}") for g in p.roles)) or "—")
        for p in people
    ]
    ctx.reply(Card(title=ctx.t("people.title"), body="\n".join(lines) or "—"))


@commands("role", "list", aliases=("show", "查看", "列表"), words=1)
def role_list(ctx: Context, inv) -> None:
    person = find(ctx.session, inv.args[0]) if inv.args else ctx.session.get(Person, ctx.actor.id)
    ctx.reply(_person_card(ctx, person))


def _change_role(ctx: Context, inv, grant: bool) -> None:
    if not ctx.actor.has("admin"):
        raise Forbidden("error.need_role", role="admin")
    person = find(ctx.session, inv.arg(0, "person"))
    role = _role_word(inv.arg(1, "role"))
    held = {g.role: g for g in person.roles}
    before = ",".join(sorted(held))
    if grant:
        if role in held:
            raise UserError("error.role_already", person=person.handle, role=role)
        person.roles.append(RoleGrant(role=role, granted_at=ctx.now(), granted_by=ctx.actor.handle))
    else:
        if role not in held:
            raise UserError("error.role_missing", person=person.handle, role=role)
        if role == "admin" and _admin_count(ctx.session) <= 1:
            raise UserError("error.last_admin")
        person.roles.remove(held[role])
    ctx.session.flush()
    audit.record(
        ctx,
        subject_type="person",
        subject_id=person.id,
        action="role.grant" if grant else "role.revoke",
        old_state=before,
        new_state=",".join(sorted(g.role for g in person.roles)),
        comment=role,
    )
    key = "role.granted" if grant else "role.revoked"
    ctx.reply(Text(ctx.t(key, person=person.handle, role=ctx.t(f"role.{role}")), tone="success"))


def _admin_count(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RoleGrant)
        .join(Person)
        .where(RoleGrant.role == "admin", Person.active.is_(True))
    )


@commands("role", "grant", aliases=("add", "授予", "添加"), words=2)
def role_grant(ctx: Context, inv) -> None:
    _change_role(ctx, inv, grant=True)


@commands("role", "revoke", aliases=("remove", "rm", "撤销", "移除"), words=2)
def role_revoke(ctx: Context, inv) -> None:
    _change_role(ctx, inv, grant=False)
