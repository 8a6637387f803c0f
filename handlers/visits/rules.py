"""The visits section of the organisation file (``visits:``)."""

from datetime import date, timedelta

from pydantic import Field

from handlers.orgconfig import Section


class VisitRules(Section):
    lead_time_days: int = Field(default=2, ge=0, le=30)
    overrun_grace_minutes: int = Field(default=30, ge=0, le=24 * 60)
    max_duration_hours: int = Field(default=24, ge=1, le=24 * 7)
    card_return_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # check-in opens this long before the planned start; earlier needs an admin's early="reason"
    checkin_early_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)


def examples(org, today: date) -> dict[str, str]:
    """``day``: the first day a visit may be requested for (the lead time, at least tomorrow),
    the date the request example in help shows."""
    return {"day": (today + timedelta(days=max(org.visits.lead_time_days, 1))).isoformat()}
