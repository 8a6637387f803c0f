"""Who may take a visit's step: the one rule behind every refusal, every card's buttons, the
people a card is sent to, and the warning that a request cannot complete with the people the
organisation has."""

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import people
from handlers.context import Actor, Context
from handlers.errors import Forbidden, UserError
from handlers.refs import ref
from handlers.visits import states as s
from storage.models import AuditEntry, Person, Visit

Staff = tuple[Actor, ...]  # everyone active, with their roles


@dataclass(frozen=True)
class Parties:
    """Whom a step's rules look at: the requester and, once it is reviewed, the reviewer."""

    visit_id: int
    requester_id: int
    reviewer_id: int | None = None

    @classmethod
    def of(cls, visit: Visit) -> "Parties":
        return cls(visit.id, visit.requester_id, visit.reviewed_by_id)


def staff(session: Session, default_locale: str) -> Staff:
    found = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id))
    return tuple(people.actor_of(p, default_locale) for p in found)


def refusal(t: s.Transition, actor: Actor, parties: Parties, staff: Staff) -> UserError | None:
    """Why ``actor`` may not take step ``t`` (None: they may). A reviewer hears that their part is
    done before anything else; then nobody decides on their own request; then the role, which a
    stand-in holds when nobody but the requester has it."""
    if t.role is None:
        if actor.id == parties.requester_id or actor.has("admin"):
            return None
        return Forbidden("error.not_owner")
    if t.not_reviewer and actor.id == parties.reviewer_id:
        return Forbidden("error.already_reviewed", ref=ref("visit", parties.visit_id))
    if t.decides and actor.id == parties.requester_id:
        return Forbidden("error.own_request")
    if actor.has(t.role) or (
        t.stand_in
        and actor.has(t.stand_in)
        and not any(p.has(t.role) for p in staff if p.id != parties.requester_id)
    ):
        return None
    return Forbidden("error.need_role", role=t.role)


def check(ctx: Context, visit: Visit, action: str) -> s.Transition:
    """The step ``action`` takes ``visit`` through, once its state and the rules allow it."""
    t = s.find(action, visit.state)
    if t is None:
        raise _not_now(ctx, visit, action)
    return require(ctx, visit, t)


def require(ctx: Context, visit: Visit, t: s.Transition) -> s.Transition:
    """Refuse ``t`` unless the rules let the actor take it."""
    everyone = staff(ctx.session, ctx.i18n.default_locale)
    if (error := refusal(t, ctx.actor, Parties.of(visit), everyone)) is not None:
        raise error
    return t


def name_in(entry: AuditEntry) -> str:
    """Who made an audit entry, by name (its label is "Name (handle)")."""
    return entry.actor_label.rsplit(" (", 1)[0]


def _not_now(ctx: Context, visit: Visit, action: str) -> UserError:
    """The refusal of a step the state does not allow, saying who took the step that led there
    ("you", after a second click)."""
    moves = [f"visit.{t.action}" for t in s.TRANSITIONS] + ["visit.request"]
    last = ctx.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.subject_type == "visit",
            AuditEntry.subject_id == visit.id,
            AuditEntry.new_state == visit.state,
            AuditEntry.action.in_(moves),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    params = {"action": action, "state": visit.state, "ref": ref("visit", visit.id)}
    if last is not None:
        params["did"] = last.action.removeprefix("visit.")
        params["you"] = last.actor_id is not None and last.actor_id == ctx.actor.id
        params["by"] = name_in(last)
    return UserError("error.visit_bad_state", **params)


def shortfall(parties: Parties, state: str, staff: Staff) -> list[str]:
    """What keeps the request from completing with the organisation's people, as catalog keys:
    nobody to review it, a supervisor standing in for the missing admin, nobody to approve it."""
    if state not in (s.REQUESTED, s.REVIEWED):
        return []
    approve = s.find("approve", s.REVIEWED)
    if state == s.REVIEWED:
        return [] if _anyone(approve, parties, staff) else ["visit.nobody_approves"]
    reviewers = _able(s.find("review", s.REQUESTED), parties, staff)
    if not reviewers:
        return ["visit.nobody_reviews"]
    found = [] if any(r.has("admin") for r in reviewers) else ["visit.supervisor_reviews"]
    if not any(_anyone(approve, replace(parties, reviewer_id=r.id), staff) for r in reviewers):
        found.append("visit.nobody_approves")
    return found


def waiting_on(parties: Parties, state: str, staff: Staff) -> list[Actor]:
    """Who the request waits for: whoever may take its next decision; and, when it cannot
    complete, every admin and supervisor besides the requester, so that they hear of it."""
    step = {s.REQUESTED: "review", s.REVIEWED: "approve"}.get(state)
    deciders = _able(s.find(step, state), parties, staff) if step else []
    if shortfall(parties, state, staff):
        deciders += [
            p
            for p in staff
            if p.id != parties.requester_id and (p.has("admin") or p.has("supervisor"))
        ]
    return list({p.id: p for p in deciders}.values())


def _able(t: s.Transition, parties: Parties, staff: Staff) -> list[Actor]:
    return [p for p in staff if refusal(t, p, parties, staff) is None]


def _anyone(t: s.Transition, parties: Parties, staff: Staff) -> bool:
    return any(refusal(t, p, parties, staff) is None for p in staff)
