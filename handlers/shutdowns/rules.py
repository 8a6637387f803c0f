"""The shutdowns section of the organisation file (``shutdowns:``)."""

from datetime import date, timedelta

from pydantic import Field, model_validator

from handlers.orgconfig import Organisation, Section, Strict

OWNERS = "owners"  # an approval step taken by an owner of each system the shutdown takes down


class Freeze(Strict):
    """A freeze (封网期): no normal shutdown in it, ``start`` to ``end`` inclusive (local days)."""

    name: str
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "Freeze":
        if self.end < self.start:
            raise ValueError(f"freeze {self.name!r} ends before it starts")
        return self


class ShutdownRules(Section):
    # announced this many working days ahead (document 002), unless an emergency
    lead_working_days: int = Field(default=3, ge=0, le=30)
    max_hours: int = Field(default=24, ge=1, le=24 * 14)
    # who approves, in order: role names, or "owners" (an owner of each affected system)
    approval: list[str] = Field(default_factory=lambda: ["supervisor"], min_length=1)
    reminders_hours: list[int] = Field(default_factory=lambda: [24, 1])
    refuse_conflicts: bool = False  # an overlapping window on a related system: refused
    freezes: list[Freeze] = Field(default_factory=list)

    def check(self, org: Organisation) -> None:
        roles = {"engineer", "admin", "supervisor", "manager", "oncall", OWNERS}
        if unknown := [step for step in self.approval if step not in roles]:
            raise ValueError(f"shutdowns.approval: unknown steps {unknown} (roles or 'owners')")


def examples(org, today: date) -> dict[str, str]:
    """``shutdown_day``: a day the lead time allows (weekends alone counted here: an example)."""
    day, left = today, org.shutdowns.lead_working_days
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return {"shutdown_day": (day + timedelta(days=1)).isoformat()}
