"""Files people download and open in a spreadsheet: one helper that every CSV export uses.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel (and to LibreOffice, Numbers, Google Sheets): ``=HYPERLINK(…)`` in a visitor's name would
be a live link, ``+cmd|…`` a command. Such a cell gets a leading ``'``, which spreadsheets read as
"this is text" and do not show in the cell. The full-width ``＝ ＋ － ＠``, which East Asian input
methods type and which Excel may read as their ASCII twins, are treated the same: the cost is a
visible ``'`` on the rare cell that starts with one, the gain is no formula from a Chinese
keyboard.
"""

import csv
import io
from collections.abc import Iterable, Sequence

from handlers.messages import File

FORMULA_START = tuple("=+-@\t\r＝＋－＠")


def cell(value: str) -> str:
    """One cell as a spreadsheet shows it: never a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_file(name: str, header: Sequence[str], rows: Iterable[Sequence[str]], caption: str) -> File:
    """A CSV file every spreadsheet opens as written: UTF-8 with a BOM (Excel reads Chinese
    right only with one), every cell neutralised, the header included."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in (header, *rows):
        writer.writerow([cell(value) for value in row])
    return File(name, "\ufeff" + out.getvalue(), "text/csv", caption)
