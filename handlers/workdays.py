"""Working days on the Chinese statutory calendar: what kind of day a date is, and counting
working days, for lead times now and for billing person-days later.

The published schedule (public holiday periods and the adjusted working days, 调休) comes from
the chinesecalendar package; the organisation file's ``calendar:`` section overrides and extends
it by year (``CalendarSpec``). A year that neither gives is not guessed: every day of it that
the file does not list is ``UNKNOWN`` — a Saturday there may be worked instead of a holiday and a
weekday may be a holiday, so not even weekends are certain. Counting over such days takes Monday
to Friday as working days and says the result is not exact, so that callers can say so instead of
guessing.

Pure functions of dates: no clock, no database.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

from handlers.orgconfig import CalendarSpec

ONE_DAY = timedelta(days=1)


class DayKind(StrEnum):
    """What a day is. Only ``WORKDAY`` is worked; a finer rest kind (the statutory days proper
    of a holiday period, paid 3× where the rest of the period is paid 2×) can be added beside
    ``HOLIDAY`` without changing the counting."""

    WORKDAY = "workday"  # Monday to Friday outside a holiday period, or an adjusted working day
    WEEKEND = "weekend"  # a rest day that is not a holiday
    HOLIDAY = "holiday"  # a day of a public holiday period, in lieu days included
    UNKNOWN = "unknown"  # in a year neither the package nor the organisation file gives


class Calendar:
    """The package's published years with the organisation file's days over them.

    ``holidays`` and ``workdays`` are the published schedule (by default the package's); the
    years between its first and its last are known, as are the years whose holidays the file
    lists. A day the file lists is known whatever its year.
    """

    def __init__(
        self,
        spec: CalendarSpec | None = None,
        *,
        holidays: Iterable[date] = chinese_calendar.holidays,
        workdays: Iterable[date] = chinese_calendar.workdays,
    ) -> None:
        years = (spec or CalendarSpec()).root
        self._holidays, self._workdays = set(holidays), set(workdays)
        published = {d.year for d in self._holidays}
        self._known_years = set(range(min(published), max(published) + 1)) if published else set()
        for year, days in years.items():
            self._holidays = (self._holidays - set(days.workdays)) | set(days.holidays)
            self._workdays = (self._workdays - set(days.holidays)) | set(days.workdays)
            if days.holidays:
                self._known_years.add(year)

    def kind(self, day: date) -> DayKind:
        """What ``day`` is: a listed working day or holiday, else by weekday in a known year."""
        if day in self._workdays:
            return DayKind.WORKDAY
        if day in self._holidays:
            return DayKind.HOLIDAY
        if day.year not in self._known_years:
            return DayKind.UNKNOWN
        return DayKind.WORKDAY if day.weekday() < 5 else DayKind.WEEKEND

    def is_working_day(self, day: date) -> bool | None:
        """Whether ``day`` is worked; None when its year is not known."""
        kind = self.kind(day)
        return None if kind is DayKind.UNKNOWN else kind is DayKind.WORKDAY

    def add_working_days(self, start: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day after ``start`` (``start`` itself for 0), and whether every
        day passed over was known (unknown days count Monday to Friday)."""
        if n < 0:
            raise ValueError("a negative number of working days")
        day, exact = start, True
        while n > 0:
            day += ONE_DAY
            working, known = self._counted(day)
            n -= working
            exact = exact and known
        return day, exact

    def working_days_between(self, a: date, b: date) -> tuple[int, bool]:
        """How many working days follow ``a`` up to and including ``b`` (negative when ``b`` is
        before ``a``), and whether every day counted was known: the inverse of
        ``add_working_days`` (``add_working_days(a, n)[0]`` is the first ``b`` giving ``n``)."""
        if b < a:
            count, exact = self.working_days_between(b, a)
            return -count, exact
        counted = [self._counted(a + ONE_DAY * i) for i in range(1, (b - a).days + 1)]
        return sum(working for working, _ in counted), all(known for _, known in counted)

    def _counted(self, day: date) -> tuple[bool, bool]:
        """Whether ``day`` counts as a working day, and whether that is known or a guess."""
        working = self.is_working_day(day)
        return (day.weekday() < 5, False) if working is None else (working, True)


_BUILT: dict[int, tuple[CalendarSpec, Calendar]] = {}


def of(spec: CalendarSpec) -> Calendar:
    """The calendar of an organisation file's ``calendar:`` section, built once per section
    (building one reads every published day)."""
    held = _BUILT.get(id(spec))
    if held is None or held[0] is not spec:
        held = _BUILT[id(spec)] = (spec, Calendar(spec))
    return held[1]
