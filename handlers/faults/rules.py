"""The faults section of the organisation file (``faults:``): the service contract's tier
targets (general, per site, per customer) and the escalation when a response is late."""

from typing import Literal

from pydantic import Field, field_validator

from handlers.orgconfig import Organisation, Section, Strict


class TierTarget(Strict):
    respond_minutes: int = Field(ge=1, le=7 * 24 * 60)
    resolve_minutes: int | None = Field(default=None, ge=1, le=30 * 24 * 60)


class EscalationLevel(Strict):
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


class FaultRules(Section):
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

    def check(self, org: Organisation) -> None:
        served = {_key(s.customer) for s in org.sites if s.customer}
        unknown = sorted(set(self.customers) - served)
        if unknown:
            raise ValueError(f"faults.customers names no site's customer: {', '.join(unknown)}")


def _key(customer: str | None) -> str:
    return (customer or "").strip().casefold()
