"""The organisation file's schema: people, sites and rooms, notice channels, workflow rules.

The file seeds people and roles; afterwards the database holds them (roles change by command).
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handlers.roles import Role

ChannelKind = Literal["visits", "shutdowns", "faults", "summaries", "admin"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonSpec(_Strict):
    handle: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str
    roles: list[Role] = Field(default_factory=list)
    locale: Literal["zh", "en"] | None = None
    phone: str | None = None
    company: str | None = None
    slack: str | None = None
    wecom: str | None = None


class RoomSpec(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    capacity: int | None = Field(default=None, ge=1, le=1000)  # most visits at once; None: any


class SiteSpec(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    address: str | None = None
    customer: str | None = None  # whose equipment it houses: that customer's contract applies
    rooms: list[RoomSpec] = Field(min_length=1)


class ChannelRoute(_Strict):
    """Where one kind of notice goes on each platform."""

    slack: str | None = None
    wecom_chat: str | None = None
    wecom_webhook: str | None = None


class VisitRules(_Strict):
    lead_time_days: int = Field(default=2, ge=0, le=30)
    overrun_grace_minutes: int = Field(default=30, ge=0, le=24 * 60)
    max_duration_hours: int = Field(default=24, ge=1, le=24 * 7)
    card_return_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # check-in opens this long before the planned start; earlier needs an admin's early="reason"
    checkin_early_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)


class ScheduleSpec(_Strict):
    """An on-call rotation: ``people`` take turns, handing over daily or weekly at ``handoff``
    (local time), counted from ``start`` (the first person's first day)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    rotation: Literal["daily", "weekly"] = "weekly"
    handoff: str = Field(default="09:00", pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")
    start: date
    people: list[str] = Field(default_factory=list)  # handles, in turn order


class TierTarget(_Strict):
    respond_minutes: int = Field(ge=1, le=7 * 24 * 60)
    resolve_minutes: int | None = Field(default=None, ge=1, le=30 * 24 * 60)


class EscalationLevel(_Strict):
    """Who is pinged at one level: ``schedule:NAME`` (whoever is on call there now), role names
    (``oncall``, ``supervisor``…) or ``@handles``."""

    notify: list[str] = Field(min_length=1)
    # from the previous level's last ping (its last repeat); the first level's is not used: it
    # is pinged when the response is due
    after_minutes: int = Field(default=0, ge=0, le=24 * 60)
    repeat: int = Field(default=0, ge=0, le=10)  # pings again at this level before moving on
    every_minutes: int = Field(default=5, ge=1, le=24 * 60)


def _default_tiers() -> dict[int, TierTarget]:
    return {
        1: TierTarget(respond_minutes=10, resolve_minutes=120),
        2: TierTarget(respond_minutes=20, resolve_minutes=240),
        3: TierTarget(respond_minutes=30),
    }


def _default_escalation() -> list[EscalationLevel]:
    return [
        EscalationLevel(notify=["oncall"], repeat=2, every_minutes=5),
        EscalationLevel(notify=["supervisor"], after_minutes=10),
        EscalationLevel(notify=["manager"], after_minutes=15),
    ]


class FaultRules(_Strict):
    """The service contract's tier targets and the escalation when a response is late."""

    tiers: dict[Literal[1, 2, 3], TierTarget] = Field(default_factory=_default_tiers)
    # a site's own contract, else its customer's: their tiers replace the general ones
    sites: dict[str, dict[Literal[1, 2, 3], TierTarget]] = Field(default_factory=dict)
    customers: dict[str, dict[Literal[1, 2, 3], TierTarget]] = Field(default_factory=dict)
    escalation: list[EscalationLevel] = Field(default_factory=_default_escalation, min_length=1)

    def target(self, tier: int, site: str | None, customer: str | None = None) -> TierTarget:
        for own in (self.sites.get((site or "").upper()), self.customers.get(_key(customer))):
            if own and tier in own:
                return own[tier]
        return self.tiers[tier]

    @field_validator("tiers")
    @classmethod
    def _all_tiers(cls, tiers: dict[int, TierTarget]) -> dict[int, TierTarget]:
        return {**_default_tiers(), **tiers}

    @field_validator("sites")
    @classmethod
    def _site_codes(cls, sites: dict) -> dict:
        return {code.upper(): tiers for code, tiers in sites.items()}

    @field_validator("customers")
    @classmethod
    def _customer_names(cls, customers: dict) -> dict:
        return {_key(name): tiers for name, tiers in customers.items()}


def _key(customer: str | None) -> str:
    return (customer or "").strip().casefold()


class OrgConfig(_Strict):
    people: list[PersonSpec] = Field(default_factory=list)
    sites: list[SiteSpec] = Field(default_factory=list)
    channels: dict[ChannelKind, ChannelRoute] = Field(default_factory=dict)
    visits: VisitRules = Field(default_factory=VisitRules)
    faults: FaultRules = Field(default_factory=FaultRules)
    oncall: list[ScheduleSpec] = Field(default_factory=list)

    @field_validator("people")
    @classmethod
    def _unique_people(cls, people: list[PersonSpec]) -> list[PersonSpec]:
        for attr in ("handle", "slack", "wecom"):
            seen = [getattr(p, attr) for p in people if getattr(p, attr)]
            dupes = {v for v in seen if seen.count(v) > 1}
            if dupes:
                raise ValueError(f"duplicate {attr}: {', '.join(sorted(dupes))}")
        return people

    @field_validator("oncall")
    @classmethod
    def _unique_schedules(cls, schedules: list[ScheduleSpec]) -> list[ScheduleSpec]:
        names = [s.name for s in schedules]
        if len(names) != len(set(names)):
            raise ValueError("duplicate on-call schedule name")
        return schedules

    @field_validator("sites")
    @classmethod
    def _unique_sites(cls, sites: list[SiteSpec]) -> list[SiteSpec]:
        codes = [s.code.upper() for s in sites]
        if len(codes) != len(set(codes)):
            raise ValueError("duplicate site code")
        return sites

    @model_validator(mode="after")
    def _known_customers(self) -> "OrgConfig":
        served = {_key(s.customer) for s in self.sites if s.customer}
        unknown = sorted(set(self.faults.customers) - served)
        if unknown:
            raise ValueError(f"faults.customers names no site's customer: {', '.join(unknown)}")
        return self

    def fault_target(self, tier: int, site: str | None) -> TierTarget:
        """A fault's targets: its site's contract, else its site's customer's, else the general."""
        spec = next((s for s in self.sites if s.code.upper() == (site or "").upper()), None)
        return self.faults.target(tier, site, spec.customer if spec else None)
