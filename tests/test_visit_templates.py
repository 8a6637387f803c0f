"""Every visit template, in both languages, lays its lines out as written: no line of the source
is glued to the end of the one before (Jinja's trim_blocks eats the newline after a block tag)."""

import re
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest

from handlers.context import Actor
from handlers.i18n import LOCALES, I18n, keep_line_breaks
from handlers.refs import ref
from storage.models import Person, Room, Site, Visit
from tests.chat import TZ

TEMPLATES = sorted(
    p.name.removesuffix(".j2")
    for p in files("templates").joinpath("en").iterdir()
    if p.name.startswith("visit_") and p.name.endswith(".j2")
)
_LEADING_TAGS = re.compile(r"^(?:\s*\{%.*?%\})+")


def _sample_visit() -> Visit:
    """A visit with every optional part filled in, so every branch of a template renders."""
    site = Site(code="SH1", name="Shanghai DC 1", address="1 Example Road")
    alice = Person(handle="alice", name="Alice Engineer")
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    return Visit(
        id=7,
        state="checked_out",
        requester=alice,
        responsible=Person(handle="erin", name="Erin Engineer"),
        room=Room(code="A101", name="Main hall", site=site),
        visitor_name="Alice Engineer",
        company="Acme",
        contact="13800000001",
        id_type="passport",
        id_last4="5432",
        certificates="electrician",
        task="replace disk",
        tools=["laptop", "screwdriver"],
        start_at=start,
        duration_minutes=120,
        emergency=True,
        fault_ref="F-2",
        decision_note="bring the certificate",
        checked_in_at=start - timedelta(minutes=10),
        access_card="A-07",
        tools_in=["laptop", "screwdriver"],
        checked_out_at=start + timedelta(hours=2),
        tools_out=["laptop"],
        tools_missing=["screwdriver"],
        card_returned_at=None,
    )


def _samples(name: str, own: bool) -> list[dict]:
    """The parameters to render ``name`` with: one set, or (a list) one with rows, one without."""
    visit = _sample_visit()
    common = {
        "visit": visit,
        "ref": "V-7",
        "actor": Actor(3, "carol", "Carol Supervisor", frozenset(), "en"),
        "own": own,
        "end": visit.start_at + timedelta(minutes=visit.duration_minutes),
        "now": visit.checked_out_at,
        "missing": ["screwdriver"],
        "extra": ["usb stick"],
        "card_returned": False,
        "notes": [{"action": "review", "by": "Bob Admin", "text": "looks fine"}],
        "shortfall": ["visit.supervisor_reviews", "visit.nobody_approves"],
    }
    if name == "visit_list":
        listed = {**common, "more": "site=SH1 from=11-01 to=11-23", "ref": ref, "kind": "all"}
        return [{**listed, "visits": [visit]}, {**listed, "visits": [], "more": None}]
    return [common]


def _line_openings(source: str) -> list[str]:
    """The literal text each source line starts with (after any block tags), when it has some."""
    openings = []
    for line in source.splitlines():
        text = _LEADING_TAGS.sub("", line).lstrip()
        literal = re.split(r"\{[{%]", text, maxsplit=1)[0].strip()
        if len(literal) >= 2:
            openings.append(literal)
    return openings


@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_no_template_line_runs_into_the_one_before(name, locale, own):
    i18n = I18n(TZ, locale)
    source = files("templates").joinpath(locale, f"{name}.j2").read_text("utf-8")
    renderings = [i18n.render(locale, name, **params) for params in _samples(name, own)]
    lines = [line for rendered in renderings for line in rendered.splitlines()]
    for opening in _line_openings(source):
        assert any(line.startswith(opening) for line in lines), (
            f"{locale}/{name}.j2: {opening!r} does not start a line in:\n" + "\n".join(renderings)
        )
    if locale == "en":  # a sentence's full stop is followed by a space or a line break
        for rendered in renderings:
            assert not re.search(r"[a-z)][.!?][A-Z]", rendered), rendered


def test_a_tag_that_ends_a_line_of_text_keeps_the_line_break():
    i18n = I18n(TZ, "en")
    source = "A{% if x %} and B{% endif %}\n\nC\n{% if x %}\nD\n{% endif %}\nE"
    rendered = i18n.env.from_string(keep_line_breaks(source)).render(x=True)
    assert rendered == "A and B\n\nC\nD\nE"
