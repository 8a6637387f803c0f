"""The approval chain of a shutdown: which steps it needs, and whether distinct people can take
them. Nobody approves their own request and nobody approves twice, so a chain can be completed
only when each remaining step has a person of its own; that is a matching of steps to people,
found here by augmenting paths (chains are a few steps long)."""

from collections.abc import Sequence
from typing import Any

from handlers import kit, people, systems
from handlers.context import Actor, Context
from handlers.shutdowns.rules import OWNERS
from storage.models import Shutdown

Step = dict[str, Any]  # {"role": name} or {"people": [ids], "system": name}


def chain(ctx: Context, names: list[str], emergency: bool) -> list[Step]:
    """The approvals a request needs: one supervisor for an emergency; else the organisation's
    chain, its ``owners`` step one approval by an owner of each system taken down."""
    if emergency:
        return [{"role": "supervisor"}]
    steps: list[Step] = []
    for step in ctx.org.shutdowns.approval:
        if step != OWNERS:
            steps.append({"role": step})
            continue
        for spec in systems.affected(ctx.org.systems, names):
            ids = [p.id for p in people.active(ctx.session, spec.owners)]
            if ids:
                steps.append({"people": ids, "system": spec.name})
    return steps


def may_take(step: Step, person: Actor) -> bool:
    return person.id in step["people"] if "people" in step else person.has(step["role"])


def assignable(steps: Sequence[Step], candidates: Sequence[Actor]) -> bool:
    """Whether each of ``steps`` can go to a different one of ``candidates``."""
    holder: dict[int, int] = {}  # person id -> the step they take

    def place(i: int, seen: set[int]) -> bool:
        for person in candidates:
            if person.id in seen or not may_take(steps[i], person):
                continue
            seen.add(person.id)
            if person.id not in holder or place(holder[person.id], seen):
                holder[person.id] = i
                return True
        return False

    return all(place(i, set()) for i in range(len(steps)))


def _free(ctx: Context, shutdown: Shutdown, *also: int | None) -> list[Actor]:
    """Everyone active who may still approve: not the requester, not an approver yet."""
    taken = {shutdown.requester_id, *shutdown.approver_ids, *also}
    return [p for p in kit.staff(ctx).people if p.id not in taken]


def completable(ctx: Context, shutdown: Shutdown) -> bool:
    """Whether the steps left can each be taken by someone else than the requester and the
    approvers so far, nobody twice."""
    return assignable(shutdown.chain[shutdown.approved_steps :], _free(ctx, shutdown))


def needed_later(ctx: Context, shutdown: Shutdown) -> bool:
    """Whether the actor taking the step due now would leave a later step to nobody, while
    others could take this one and the rest could still be completed."""
    later = shutdown.chain[shutdown.approved_steps + 1 :]
    if not later or assignable(later, _free(ctx, shutdown, ctx.actor.id)):
        return False
    return completable(ctx, shutdown)
