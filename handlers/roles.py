"""Roles and the one rule between them: "supervisor level or above" (主管级以上) — a manager may
do whatever a supervisor may. Every check, every notice to a role and every escalation level
reads it from here."""

from collections.abc import Iterable
from typing import Literal

Role = Literal["engineer", "admin", "supervisor", "manager", "oncall"]
ROLES: tuple[str, ...] = ("engineer", "admin", "supervisor", "manager", "oncall")
# a role → the roles that include it besides itself
ABOVE: dict[str, frozenset[str]] = {"supervisor": frozenset({"manager"})}


def holders(role: str) -> frozenset[str]:
    """The roles whose holders act as ``role`` (``supervisor`` → supervisor and manager)."""
    return frozenset({role}) | ABOVE.get(role, frozenset())


def acts_as(held: Iterable[str], role: str) -> bool:
    """Whether someone holding the roles ``held`` acts as ``role``."""
    return not holders(role).isdisjoint(held)
