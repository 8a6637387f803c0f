"""Working days on the Chinese statutory calendar: the package's published years, the
organisation file's ``calendar:`` section, and the years nobody knows yet."""

from datetime import date

import chinese_calendar
import pytest

from bot.orgfile import load_org
from bot.settings import SettingsError
from handlers.orgconfig import CalendarSpec
from handlers.workdays import Calendar, DayKind
from handlers.workflows import OrgConfig

D = date.fromisoformat


def calendar(spec: dict | None = None) -> Calendar:
    """The package's calendar as 1.11.0 publishes it (2004-2026), so that a release that
    publishes 2027 does not change what these tests mean."""
    return Calendar(
        CalendarSpec.model_validate(spec or {}),
        holidays=[d for d in chinese_calendar.holidays if d.year <= 2026],
        workdays=[d for d in chinese_calendar.workdays if d.year <= 2026],
    )


# 2027 as the organisation file could give it: New Year on Friday, Monday in lieu, and the
# Saturday after worked instead
FILE_2027 = {2027: {"holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-09"]}}


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        ("2026-10-01", DayKind.HOLIDAY),  # National Day
        ("2026-10-06", DayKind.HOLIDAY),  # in lieu: a day of the holiday period all the same
        ("2026-10-07", DayKind.HOLIDAY),
        ("2026-10-10", DayKind.WORKDAY),  # a Saturday worked instead (调休)
        ("2026-10-17", DayKind.WEEKEND),
        ("2026-10-18", DayKind.WEEKEND),
        ("2026-10-14", DayKind.WORKDAY),
    ],
)
def test_the_published_calendar_knows_each_kind_of_day(day, kind):
    assert calendar().kind(D(day)) is kind
    assert calendar().is_working_day(D(day)) is (kind is DayKind.WORKDAY)


def test_the_installed_package_is_the_default():
    assert Calendar().kind(D("2026-10-10")) is DayKind.WORKDAY
    assert Calendar().kind(D("2026-10-01")) is DayKind.HOLIDAY


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        ("2026-09-30", 1, "2026-10-08"),  # the whole National Day period skipped
        ("2026-09-30", 3, "2026-10-10"),  # ... and the Saturday worked instead counted
        ("2026-09-30", 4, "2026-10-12"),
        ("2026-11-27", 1, "2026-11-30"),  # Friday to Monday over a weekend
        ("2026-11-27", 3, "2026-12-02"),
        ("2026-11-28", 0, "2026-11-28"),
        ("2026-12-28", 3, "2026-12-31"),  # up to the last published day: still all known
    ],
)
def test_adding_working_days_over_known_days(start, n, end):
    assert calendar().add_working_days(D(start), n) == (D(end), True)
    assert calendar().working_days_between(D(start), D(end)) == (n, True)


def test_a_year_nobody_published_is_unknown_and_counted_monday_to_friday():
    cal = calendar()
    for day in ("2027-01-01", "2027-01-02", "2027-10-01", "2003-12-31"):
        assert cal.kind(D(day)) is DayKind.UNKNOWN
        assert cal.is_working_day(D(day)) is None
    # Thursday 31 December + 3: Friday 1st, (weekend), Monday 4th, Tuesday 5th, reported unknown
    assert cal.add_working_days(D("2026-12-31"), 3) == (D("2027-01-05"), False)
    assert cal.working_days_between(D("2026-12-31"), D("2027-01-05")) == (3, False)
    # a count whose rest days alone are unknown is a guess too: they may be worked instead
    assert cal.add_working_days(D("2027-01-01"), 1) == (D("2027-01-04"), False)


def test_the_organisation_file_gives_a_year_the_package_has_not_published():
    cal = calendar(FILE_2027)
    assert cal.kind(D("2027-01-01")) is DayKind.HOLIDAY
    assert cal.kind(D("2027-01-04")) is DayKind.HOLIDAY
    assert cal.kind(D("2027-01-05")) is DayKind.WORKDAY
    assert cal.kind(D("2027-01-09")) is DayKind.WORKDAY  # Saturday
    assert cal.kind(D("2027-01-10")) is DayKind.WEEKEND
    assert cal.kind(D("2028-01-03")) is DayKind.UNKNOWN
    assert cal.add_working_days(D("2026-12-31"), 3) == (D("2027-01-07"), True)
    assert cal.add_working_days(D("2027-01-08"), 1) == (D("2027-01-09"), True)


def test_the_organisation_file_overrides_and_extends_a_published_year():
    cal = calendar({2026: {"holidays": ["2026-12-24"], "workdays": ["2026-10-07"]}})
    assert cal.kind(D("2026-12-24")) is DayKind.HOLIDAY  # the company's own rest day
    assert cal.kind(D("2026-10-07")) is DayKind.WORKDAY  # worked although a public holiday
    assert cal.kind(D("2026-10-06")) is DayKind.HOLIDAY


def test_days_the_file_lists_are_known_in_a_year_it_does_not_give_whole():
    # working days alone do not make 2027 known: its holidays are still not published
    cal = calendar({2027: {"workdays": ["2027-01-09"]}})
    assert cal.kind(D("2027-01-09")) is DayKind.WORKDAY
    assert cal.kind(D("2027-01-08")) is DayKind.UNKNOWN


def test_working_days_between_counts_backwards_as_a_negative_number():
    assert calendar().working_days_between(D("2026-10-12"), D("2026-09-30")) == (-4, True)
    assert calendar().working_days_between(D("2026-10-12"), D("2026-10-12")) == (0, True)


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError):
        calendar().add_working_days(D("2026-10-12"), -1)


def write(tmp_path, text: str, name: str = "org.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_calendar_section_reads_the_same_from_yaml_and_toml(tmp_path):
    yaml_org = load_org(
        write(
            tmp_path,
            "calendar:\n  2027:\n    holidays: [2027-01-01, 2027-01-04]\n"
            "    workdays: [2027-01-09]\n",
        )
    )
    toml_org = load_org(
        write(
            tmp_path,
            '[calendar."2027"]\nholidays = [2027-01-01, 2027-01-04]\nworkdays = [2027-01-09]\n',
            "org.toml",
        )
    )
    assert yaml_org.calendar == toml_org.calendar == CalendarSpec.model_validate(FILE_2027)
    assert OrgConfig().calendar == CalendarSpec()  # the section is optional


@pytest.mark.parametrize(
    ("section", "error"),
    [
        (
            "2027: {holidays: [2027-01-01, 2027-01-09], workdays: [2027-01-09]}",
            "calendar.2027: 2027-01-09 is listed both as a holiday and as a working day",
        ),
        (
            "2027: {holidays: [2026-12-31]}",
            "calendar: 2026-12-31 is listed under 2027",
        ),
        ("2027: {rest: [2027-01-01]}", "calendar.2027.rest: Extra inputs are not permitted"),
    ],
)
def test_a_contradictory_calendar_stops_start_up_with_a_clear_error(tmp_path, section, error):
    path = write(tmp_path, f"calendar:\n  {section}\n")
    with pytest.raises(SettingsError) as caught:
        load_org(path)
    assert str(caught.value) == f"invalid organisation file {path} (MAINTBOT_CONFIG): {error}"
