"""What people typed, put into a Markdown report as text (the ``md`` filter of the templates).

A report (the maintenance report, the fault handling report) is Markdown, and a note, a serial
or a step is data: a ``|`` or a line break must not end a table cell or a row, and ``#``,
``[label](url)``, ``*``, ``<b>`` or a leading ``1.`` must not become a heading, a link,
emphasis, HTML or a list. Every ASCII punctuation character that means something in CommonMark
or GitHub's tables is backslash-escaped (CommonMark shows ``\\#`` as ``#``), a line break becomes
``<br>`` (a line break inside a table cell or a list item, in GitHub's and most renderers'
Markdown), and leading spaces are dropped (four would start a code block). The result is one
line, safe in a table cell and in running text alike.
"""

import re

from jinja2 import pass_context

# the characters CommonMark and GFM give a meaning inline or in a table (`(` and `!` only after
# or before a `[`, escaped already); `-`, `+`, `=` and `.` only mean something at the start of a
# line (a list, a setext underline, `1.`): handled below
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LEADING_MARK = re.compile(r"^([-+=]|\d+[.)])")


@pass_context
def markdown_filter(context, value: object) -> str:
    """The ``md`` filter: ``escape``, unless the template is rendered ``plain`` (the same report
    posted in chat as text, where a backslash or ``<br>`` would show as typed)."""
    if context.get("plain"):
        return "" if value is None else str(value)
    return escape(value)


def escape(value: object) -> str:
    """``value`` as Markdown text that shows exactly what was typed, on one line."""
    if value is None:
        return ""
    text = _SPECIAL.sub(r"\\\1", str(value))
    lines = [_LEADING_MARK.sub(_escape_last, line.lstrip()) for line in _LINE_BREAK.split(text)]
    return "<br>".join(lines)


def _escape_last(match: re.Match) -> str:
    mark = match.group(1)
    return f"{mark[:-1]}\\{mark[-1]}"
