"""Who a visit waits for, and whether the organisation's people can complete it at all: read
from the machine's rules (``states.MACHINE``), never written again here."""

from dataclasses import dataclass

from handlers import kit
from handlers.context import Actor
from handlers.visits import states as s
from storage.models import Visit


@dataclass(frozen=True)
class _Reviewed:
    """``visit`` as it would be once ``reviewed_by_id`` reviewed it (for "could anyone approve
    it then?")."""

    visit: Visit
    reviewed_by_id: int

    def __getattr__(self, name: str):
        return getattr(self.visit, name)


def shortfall(visit: Visit, everyone: kit.Staff) -> list[str]:
    """What keeps the request from completing with the organisation's people, as catalog keys:
    nobody to review it, a supervisor standing in for the missing admin, nobody to approve it."""
    if visit.state not in (s.REQUESTED, s.REVIEWED):
        return []
    approve = s.MACHINE.step("approve", s.REVIEWED)
    if visit.state == s.REVIEWED:
        return [] if kit.able(s.MACHINE, approve, visit, everyone) else ["visit.nobody_approves"]
    reviewers = kit.able(s.MACHINE, s.MACHINE.step("review", s.REQUESTED), visit, everyone)
    if not reviewers:
        return ["visit.nobody_reviews"]
    found = [] if any(r.has("admin") for r in reviewers) else ["visit.supervisor_reviews"]
    if not any(kit.able(s.MACHINE, approve, _Reviewed(visit, r.id), everyone) for r in reviewers):
        found.append("visit.nobody_approves")
    return found


def waiting_on(visit: Visit, everyone: kit.Staff) -> list[Actor]:
    """Who the request waits for: whoever may take its next decision; and, when it cannot
    complete, every admin and supervisor besides the requester, so that they hear of it."""
    step = s.MACHINE.step(s.NEXT_DECISION.get(visit.state, ""), visit.state)
    deciders = kit.able(s.MACHINE, step, visit, everyone) if step else []
    if shortfall(visit, everyone):
        deciders += [
            p
            for p in everyone.people
            if p.id != visit.requester_id and (p.has("admin") or p.has("supervisor"))
        ]
    return list({p.id: p for p in deciders}.values())
