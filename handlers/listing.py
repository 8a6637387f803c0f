"""What the lists share: how long they get, and the site and date filters typed as options."""

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from handlers.context import Context
from handlers.errors import UserError
from handlers.grammar import parse_when
from handlers.messages import Card
from handlers.registry import Invocation
from storage.models import Site

LIMIT = 30
# the shared filters: canonical option → the words users may type for it
SITE_OPTION = {"site": ("站点", "数据中心")}
DATE_OPTIONS = {"from": ("since", "从", "起", "开始"), "to": ("until", "till", "至", "到", "截止")}


def kind_of(word: str | None, kinds: Mapping[str, tuple[str, ...]], default: str) -> str:
    """The list a typed word names (its name or one of its words, ``kinds``), ``default`` when
    none is typed; an unknown one is refused, naming the lists there are."""
    if not word:
        return default
    folded = word.strip().casefold()
    for kind, words in kinds.items():
        if folded == kind or folded in words:
            return kind
    raise UserError("error.unknown_list", value=word, kinds=", ".join(kinds))


def day_start(ctx: Context, day: date) -> datetime:
    """Local midnight at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=ctx.i18n.tz)


def past_day(ctx: Context, text: str) -> date:
    """A local day typed to look back: a date without a year is its most recent occurrence."""
    when = parse_when(text, now=ctx.now(), tz=ctx.i18n.tz, year_less="past")
    return ctx.i18n.local(when).date()


def date_range(ctx: Context, inv: Invocation, column) -> list:
    """``from=`` and ``to=`` as conditions on ``column``: whole local days, both included."""
    first, last = inv.opt("from"), inv.opt("to")
    lo = day_start(ctx, past_day(ctx, first)) if first else None
    hi = day_start(ctx, past_day(ctx, last) + timedelta(days=1)) if last else None
    if lo and hi and hi <= lo:
        raise UserError("error.bad_range")
    return [*([column >= lo] if lo else []), *([column < hi] if hi else [])]


def site_code(ctx: Context, word: str) -> str:
    """A site code as the organisation spells it; an unknown one is refused, naming the known."""
    code = ctx.session.scalar(select(Site.code).where(func.lower(Site.code) == word.lower()))
    if code is None:
        known = ", ".join(ctx.session.scalars(select(Site.code).order_by(Site.code)))
        raise UserError("error.unknown_site", value=word, known=known or "—")
    return code


def example(ctx: Context, site: str | None) -> str:
    """Filters that narrow a list down, for its "and more" line: the site of its first row and
    this month up to today (``site=SH1 from=11-01 to=11-23``)."""
    today = ctx.i18n.local(ctx.now()).date()
    month = f"from={today.replace(day=1):%m-%d} to={today:%m-%d}"
    return f"site={site} {month}" if site else month


def reply(
    ctx: Context, rows: Sequence[Any], line: Callable[[Any], str], *, words: str, kind: str
) -> None:
    """A list as one card: at most ``LIMIT`` rows (fetch one more to know it was cut), a line
    each, titled ``<words>.list_<kind>`` with the count shown, ``<words>.list_more`` (how to
    narrow it down) when cut, ``<words>.list_empty`` when nothing is in it."""
    shown = rows[:LIMIT]
    lines = [line(row) for row in shown]
    if len(rows) > len(shown):
        more = example(ctx, shown[0].site_code)
        lines.append(ctx.t(f"{words}.list_more", kind=kind, example=more))
    title = ctx.t(f"{words}.list_{kind}", count=len(shown))
    ctx.reply(Card(title=title, body="\n".join(lines) or ctx.t(f"{words}.list_empty")))
