"""A report as a PDF a customer or an auditor is handed (fpdf2): a title, tables that wrap long
text and repeat their header row on a new page, headings that never end a page alone, and a
footer with the report's reference and the page number.

Chinese needs a CJK font that the install brings: Noto Sans CJK SC, shipped inside the
``mplfonts`` wheel (the same font draws the charts' labels). It is found without importing
``mplfonts`` (which would import matplotlib). Glyphs it lacks (✗, some symbols) come from
matplotlib's DejaVu Sans, which ``mplfonts`` brings along. Only the glyphs used are embedded.
"""

import importlib.util
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode, WrapMode, XPos, YPos

CJK, FALLBACK = "noto-cjk", "dejavu"
INK, MUTED, RULE, SHADE = (33, 37, 41), (108, 117, 125), (173, 181, 189), (233, 236, 239)
BODY, SMALL = 9.5, 7.5  # points
LINE = 4.6  # mm, a line of body text


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def fonts() -> dict[str, Path]:
    """The font files: Noto Sans CJK SC (mplfonts) and DejaVu Sans (matplotlib)."""
    return {
        CJK: _package_dir("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf",
        FALLBACK: _package_dir("matplotlib") / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf",
    }


class Report(FPDF):
    """An A4 report: ``headline``, ``heading``, ``paragraph``, ``bullets``, ``pairs`` and
    ``table_of``, then ``to_bytes()``. ``footer`` makes the footer's text from the page number
    and the number of pages (``(page, pages) -> str``)."""

    def __init__(self, title: str, footer, lang: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_text = footer
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=18)
        for name, path in fonts().items():
            self.add_font(name, fname=str(path))
        self.set_fallback_fonts([FALLBACK], exact_match=False)
        self.set_title(title)
        self.set_lang(lang)
        self.set_creator("maintbot")
        self.add_page()
        self._font(BODY)
        # at spaces, and inside a run too long for a line (a Chinese sentence has no spaces:
        # it breaks between characters; CHAR would also cut English words and serials anywhere)
        self._wrap = WrapMode.WORD

    def _font(self, size: float, color=INK) -> None:
        self.set_font(CJK, size=size)
        self.set_text_color(*color)

    def footer(self) -> None:
        self.set_y(-12)
        self._font(SMALL, MUTED)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        text = self._footer_text(self.page_no(), "{nb}")
        self.cell(0, 6, text, align="C")

    def _strong(self, text: str, size: float, height: float) -> None:
        """Text drawn a touch heavier (filled and stroked: the CJK font has no bold face)."""
        with self.local_context(text_mode="FILL_STROKE", line_width=size / 60, draw_color=INK):
            self.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                            wrapmode=self._wrap)  # fmt: skip

    def headline(self, text: str, subtitle: str = "") -> None:
        self._font(17)
        self._strong(text, 17, 9)
        if subtitle:
            self._font(11, MUTED)
            self.multi_cell(0, 6, subtitle, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                            wrapmode=self._wrap)  # fmt: skip
        self.ln(3)
        self._font(BODY)

    def heading(self, text: str, level: int = 1) -> None:
        """A section heading; it starts a new page rather than end one with nothing under it."""
        size = 12.5 if level == 1 else 10.5
        if self.will_page_break(size * 0.5 + 3 * LINE):
            self.add_page()
        self.ln(3 if level == 1 else 1.5)
        self._font(size)
        self._strong(text, size, size * 0.55)
        if level == 1:
            self.set_draw_color(*RULE)
            self.line(self.l_margin, self.get_y() + 0.6, self.w - self.r_margin, self.get_y() + 0.6)
        self.ln(2)
        self._font(BODY)

    def paragraph(self, text: str, color=INK) -> None:
        self._font(BODY, color)
        self.multi_cell(0, LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                        wrapmode=self._wrap)  # fmt: skip
        self._font(BODY)
        self.ln(1)

    def bullets(self, items: Sequence[str]) -> None:
        for item in items:
            self.set_x(self.l_margin + 2)
            self.cell(4, LINE, "•")
            self.multi_cell(0, LINE, item, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                            wrapmode=self._wrap)  # fmt: skip
        self.ln(1)

    def pairs(self, rows: Sequence[tuple[str, str]]) -> None:
        """A two-column summary: labels shaded on the left."""
        label = FontFace(color=MUTED, fill_color=SHADE)
        self.set_draw_color(*RULE)
        with self.table(col_widths=(28, 100), first_row_as_headings=False, text_align="LEFT",
                        line_height=LINE, padding=(0.9, 2), borders_layout="HORIZONTAL_LINES",
                        wrapmode=self._wrap) as table:  # fmt: skip
            for key, value in rows:
                row = table.row()
                row.cell(key, style=label)
                row.cell(value or "—")
        self.ln(2)

    def table_of(self, header: Sequence[str], rows: Sequence[Sequence[str]],
                 widths: Sequence[float]) -> None:  # fmt: skip
        """A table with its header row repeated on every page it runs onto; a row never splits
        across pages; every other row shaded."""
        self.set_draw_color(*RULE)
        heads = FontFace(color=INK, fill_color=SHADE)
        with self.table(col_widths=tuple(widths), text_align="LEFT", line_height=LINE,
                        padding=(0.9, 1.6), headings_style=heads, repeat_headings=1,
                        cell_fill_color=(248, 249, 250), cell_fill_mode=TableCellFillMode.EVEN_ROWS,
                        wrapmode=self._wrap) as table:  # fmt: skip
            table.row(list(header))
            for values in rows:
                table.row([v if v else "" for v in values])
        self.ln(2)

    def to_bytes(self) -> bytes:
        return bytes(self.output())
