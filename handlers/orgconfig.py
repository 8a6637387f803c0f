"""The organisation file's schema: people, sites and rooms, notice channels, on-call rotations,
and a section per workflow (its rules, declared by the workflow: ``Section``), assembled into one
model from the workflow list (``assemble``).

The file seeds people and roles; afterwards the database holds them (roles change by command).
"""

import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    create_model,
    field_validator,
    model_validator,
)

from handlers.roles import Role

# channels besides the workflows' own: admins' notices, the managers' summaries
BASE_CHANNELS = ("admin", "summaries")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Section(Strict):
    """A workflow's section of the organisation file (``visits:``, ``faults:``): its rules."""

    def check(self, org: "Organisation") -> None:
        """Raise ValueError when the section contradicts the rest of the file."""


class PersonSpec(Strict):
    handle: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str
    roles: list[Role] = Field(default_factory=list)
    locale: Literal["zh", "en"] | None = None
    phone: str | None = None
    company: str | None = None
    slack: str | None = None
    wecom: str | None = None


class RoomSpec(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    capacity: int | None = Field(default=None, ge=1, le=1000)  # most visits at once; None: any


class SiteSpec(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    address: str | None = None
    customer: str | None = None  # whose equipment it houses: that customer's contract applies
    rooms: list[RoomSpec] = Field(min_length=1)


class ChannelRoute(Strict):
    """Where one kind of notice goes on each platform."""

    slack: str | None = None
    wecom_chat: str | None = None
    wecom_webhook: str | None = None


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
                     r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")  # fmt: skip


def window_days(text: str) -> tuple[set[int], time, time]:
    """``sat-sun 02:00-06:00`` → ({5, 6}, 02:00, 06:00); a ValueError names what is wrong."""
    match = _WINDOW.match(text.strip().lower())
    if not match:
        raise ValueError(f"maintenance window {text!r}: write e.g. 'sun 02:00-06:00'")
    days: set[int] = set()
    for part in match["days"].split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"maintenance window {text!r}: days are {', '.join(DAYS)}")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
    start, end = (time.fromisoformat(match[k].zfill(5)) for k in ("start", "end"))
    if end <= start:
        raise ValueError(f"maintenance window {text!r}: it must end after it starts, that day")
    return days, start, end


class SystemSpec(Strict):
    """One system: ``owners`` are people (handles) told of its shutdowns and asked to approve
    them when the approval chain says so; ``channels`` are told too; ``depends_on`` names the
    systems it needs (so a shutdown of one of those takes it down too); ``windows`` are its
    agreed maintenance windows, local time (``sun 02:00-06:00``, ``sat-sun 00:00-06:00``)."""

    name: str = Field(pattern=r"^[\w.-]{1,64}$")
    site: str
    type: str | None = None  # host, database, network…: checklists and spare parts go by type
    owners: list[str] = Field(default_factory=list)
    channels: list[ChannelRoute] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    windows: list[str] = Field(default_factory=list)

    @field_validator("windows")
    @classmethod
    def _windows(cls, windows: list[str]) -> list[str]:
        for text in windows:
            window_days(text)  # raises on a window it cannot read
        return windows


class ScheduleSpec(Strict):
    """An on-call rotation: ``people`` take turns, handing over daily or weekly at ``handoff``
    (local time), counted from ``start`` (the first person's first day)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    rotation: Literal["daily", "weekly"] = "weekly"
    handoff: str = Field(default="09:00", pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")
    start: date
    people: list[str] = Field(default_factory=list)  # handles, in turn order


class YearDays(Strict):
    """One year's days that differ from, or add to, the published calendar: rest days of a
    holiday period (or the company's own), and working days (调休, or worked regardless)."""

    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_both(self) -> "YearDays":
        if both := sorted(set(self.holidays) & set(self.workdays)):
            raise ValueError(f"{both[0]} is listed both as a holiday and as a working day")
        return self


class CalendarSpec(RootModel[dict[int, YearDays]]):
    """``calendar:``, by year, over the chinesecalendar package (``handlers.workdays``). A year
    the package has not published is known from the file when the file lists its holidays."""

    root: dict[int, YearDays] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _each_under_its_year(self) -> "CalendarSpec":
        for year, days in self.root.items():
            if stray := [d for d in (*days.holidays, *days.workdays) if d.year != year]:
                raise ValueError(f"{stray[0]} is listed under {year}")
        return self


class Organisation(Strict):
    """The file's common part; ``assemble`` adds the workflows' sections and channel kinds."""

    people: list[PersonSpec] = Field(default_factory=list)
    sites: list[SiteSpec] = Field(default_factory=list)
    channels: dict[str, ChannelRoute] = Field(default_factory=dict)
    oncall: list[ScheduleSpec] = Field(default_factory=list)
    systems: list[SystemSpec] = Field(default_factory=list)
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)

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
    def _systems_known(self) -> "Organisation":
        """Each system once, at a known site, owned by known people, depending on known systems
        (a dependency cycle is allowed: a shutdown's impact stops where it closes)."""
        names = [s.name.casefold() for s in self.systems]
        handles = {p.handle for p in self.people}
        for s in self.systems:
            if names.count(s.name.casefold()) > 1:
                raise ValueError(f"duplicate system: {s.name}")
            if self.site(s.site) is None:
                raise ValueError(f"system {s.name}: no site {s.site!r}")
            if unknown := [o for o in s.owners if o.lstrip("@").lower() not in handles]:
                raise ValueError(f"system {s.name}: owners not among the people: {unknown}")
            if unknown := [d for d in s.depends_on if d.casefold() not in names]:
                raise ValueError(f"system {s.name}: depends on unknown systems: {unknown}")
        return self

    @model_validator(mode="after")
    def _sections_agree(self) -> "Organisation":
        for name in type(self).model_fields:
            if isinstance(section := getattr(self, name), Section):
                section.check(self)
        return self

    def site(self, code: str | None) -> SiteSpec | None:
        return next((s for s in self.sites if s.code.upper() == (code or "").upper()), None)


def assemble(sections: Mapping[str, type[Section]], channels: Iterable[str]) -> type[Organisation]:
    """The organisation file's model: the common part, each workflow's section under its name,
    and the channel kinds of ``BASE_CHANNELS`` and ``channels``."""
    kinds = Literal[tuple(dict.fromkeys([*BASE_CHANNELS, *channels]))]  # type: ignore[valid-type]
    fields = {name: (rules, Field(default_factory=rules)) for name, rules in sections.items()}
    channel_field = (dict[kinds, ChannelRoute], Field(default_factory=dict))
    return create_model("OrgConfig", __base__=Organisation, channels=channel_field, **fields)
