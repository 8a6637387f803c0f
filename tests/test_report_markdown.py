"""What people type is data in the Markdown reports too (the maintenance report, the fault
handling report): a ``|`` or a line break in a note, a serial or a step keeps the tables whole,
and ``#``, ``[label](url)``, ``*``, ``<b>`` stay text. Checked by parsing the reports with a
CommonMark parser (markdown-it-py, with GitHub's tables)."""

import pytest
from markdown_it import MarkdownIt

from handlers.mdtext import escape
from tests.conftest import BACKEND_AGNOSTIC
from tests.repairs_kit import declare, ok, repair, start

PARSER = MarkdownIt("commonmark").enable("table")
NASTY = "a|b **bold** [click](http://evil.example) <b>x</b> #tag _u_ `code` ~~s~~ & \\ end"


def rendered(markdown: str) -> str:
    return PARSER.render(markdown)


def inline_text(markdown: str) -> str:
    """What a reader sees of one line of Markdown: its text, every markup token refused."""
    tokens = PARSER.parseInline(markdown)[0].children
    kinds = {t.type for t in tokens} - {"text", "softbreak", "html_inline"}
    assert kinds == set(), kinds
    # the only HTML is our own line break
    assert [t.content for t in tokens if t.type == "html_inline"] in ([], ["<br>"] * len(
        [t for t in tokens if t.type == "html_inline"]))  # fmt: skip
    return "".join("\n" if t.type == "html_inline" else t.content for t in tokens)


@pytest.mark.parametrize(
    "typed",
    [NASTY, "# heading", "1. first", "- item", "+ item", "> quote", "    code block", "===",
     "line one\nline two | still a cell\r\n# not a heading", "2024.01-SN", "", "中文｜全角"],
)  # fmt: skip
def test_escaped_text_reads_as_typed_and_is_one_line(typed):
    out = escape(typed)
    assert "\n" not in out and "\r" not in out
    expected = "\n".join(line.lstrip() for line in typed.replace("\r\n", "\n").split("\n"))
    assert inline_text(out) == expected
    # as a whole paragraph too: no heading, list, quote or code block
    html = rendered(out)
    assert html.startswith("<p>") or html == "", html


def test_escape_of_none_is_empty():
    assert escape(None) == ""


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The rows (cells' inline text) of the table whose header row starts with ``header``."""
    tokens = PARSER.parse(markdown)
    rows, row, inside, found = [], None, False, False
    for token in tokens:
        if token.type == "table_open":
            inside, rows = True, []
        elif token.type == "table_close":
            if found:
                return rows
            inside = False
        elif inside and token.type == "tr_open":
            row = []
        elif inside and token.type == "tr_close":
            rows.append(row)
            found = found or (len(rows) == 1 and row[0] == header)
        elif inside and token.type == "inline":
            row.append("".join(c.content if c.type == "text" else "\n" for c in token.children))
    raise AssertionError(f"no table with {header!r} in:\n{markdown}")


@BACKEND_AGNOSTIC
def test_the_maintenance_report_keeps_its_tables_whole(rchat):
    ref = start(rchat, 'erp-db task="swap | the #1 DIMM"')
    ok(rchat, "alice", f'repair step {ref} diagnosis "see [log](http://evil.example) | **now**"')
    ok(rchat, "alice", f'repair part {ref} model="DDR4|32G" old="SN|1" new="SN_2*" '
                       f'note="from the *spare* shelf"')  # fmt: skip
    ok(rchat, "alice", f'repair check {ref} boot=pass note="POST ok | fans # loud"')
    ok(rchat, "alice", f'repair lesson {ref} "line one\n# line two"')
    ok(rchat, "amy", f'repair complete {ref} override="net <team> checks | tomorrow"')
    r = repair(rchat, ref)
    for locale, model, result in (("en", "Model", "passed"), ("zh", "型号", "通过")):
        markdown = r.report[locale]
        html = rendered(markdown)
        assert "<a " not in html and html.count("<strong>") == 1 and "<em>" not in html  # ours
        assert "evil.example" in html  # as text
        [header, part] = table_rows(markdown, model)
        assert len(header) == len(part) == 5
        assert part[:3] == ["DDR4|32G", "SN|1", "SN_2*"]
        boot = [row for row in table_rows(markdown, header=markdown_tests_header(locale))
                if row[1] == result]  # fmt: skip
        assert boot and len(boot[0]) == 4 and boot[0][2] == "POST ok | fans # loud"
        # the headings are ours alone (the lesson's "# line two" is not one)
        headings = [line for line in markdown.splitlines() if line.startswith("#")]
        assert all("line two" not in h for h in headings)
        assert "net <team> checks | tomorrow" in html.replace("&lt;", "<").replace("&gt;", ">")


def markdown_tests_header(locale: str) -> str:
    return {"en": "Item", "zh": "项目"}[locale]


@BACKEND_AGNOSTIC
def test_the_fault_report_shows_typed_markup_as_text(rchat):
    f = declare(rchat, '2 "DB down | **urgent** [see](http://evil.example)" system=erp-db')
    ref = start(rchat, f"erp-db link={f}")
    ok(rchat, "alice", f'repair step {ref} diagnosis "# not a heading\n- nor a list"')
    ok(rchat, "alice", f'repair part {ref} model="M|1" old="A|B" new="C"')
    ok(rchat, "carol", f'fault resolve {f} "swapped <the> board"')
    closing = rchat.say("carol", f'fault close {f} cause="_bad_ batch"')
    (report,) = [m.content for m in closing if getattr(m, "name", "").endswith(".md")]
    html = rendered(report)
    assert "<a " not in html and html.count("<strong>") == 1 and "<em>" not in html  # ours
    assert html.count("<h1>") == 1 and "<h1>not a heading" not in html
    assert "DB down | **urgent** [see](http://evil.example)" in html
    assert "_bad_ batch" in html and "swapped &lt;the&gt; board" in html
    assert "M|1 ×1: A|B → C" in html


@BACKEND_AGNOSTIC
def test_a_report_posted_in_chat_shows_what_was_typed_without_markdown_escapes(rchat):
    f = declare(rchat, '2 "DB_down | now" system=erp-db')
    ref = start(rchat, f"erp-db link={f}")
    ok(rchat, "alice", f'repair part {ref} model="DDR4_32G" old="SN|1" new="SN_2*"')
    ok(rchat, "amy", f'repair complete {ref} override="checks | tomorrow"')
    posted = [m for m in rchat.say("alice", f"repair report {ref}") if m.kind == "text"]
    [text] = [m.text for m in posted if "DDR4" in m.text]
    assert "DDR4_32G" in text and "SN|1" in text and "SN_2*" in text
    assert "\\" not in text and "<br>" not in text
    ok(rchat, "carol", f'fault resolve {f} "swapped"')
    rchat.say("carol", f'fault close {f} cause="bad_batch #7"')
    [channel] = [n for n in rchat.notices("#faults") if n.startswith("# ")]  # the report
    assert "DB_down | now" in channel and "bad_batch #7" in channel and "\\" not in channel
