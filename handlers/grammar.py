"""Command grammar: split a chat message into words and options, and parse option values.

Resolving area and verb words is done elsewhere; this module only tokenizes and parses.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.errors import UserError


@dataclass(frozen=True)
class Parsed:
    """A tokenized command: positional words and ``key=value`` options."""

    words: list[str]  # positional tokens, in order (area, verb, args...)
    options: dict[str, str]  # key=value pairs; keys ASCII-lower-cased and stripped


_PREFIX = re.compile(
    r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>|(?:/maintbot|/maint|@maintbot|maintbot|maint)(?=\s|$))\s*",
    re.IGNORECASE,
)
_FULLWIDTH = str.maketrans(
    {"“": '"', "”": '"', "「": '"', "」": '"', "‘": "'", "’": "'", "＝": "=", "：": ":"}
)
_KEY = re.compile(r"[\w-]+")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def normalise(text: str) -> str:
    """Full-width quotes, ＝ and ： to ASCII; non-ASCII spaces (U+3000, NBSP, U+2005) to " ".

    NUL is dropped and lone surrogates (from broken clients) become U+FFFD: no database stores
    either, PostgreSQL refuses NUL and UTF-8 cannot encode a lone surrogate.
    """
    text = _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)
    text = text.translate(_FULLWIDTH)
    return "".join(" " if c.isspace() and not c.isascii() else c for c in text)


def _lex(text: str) -> list[tuple[str, int | None, int]]:
    """Split like a POSIX shell without escapes or comments, tuned for chat.

    A quote opens only at the start of a token or right after its first ``=``, and closes only
    before whitespace or the end, so apostrophes (``don't``) and backslashes (``C:\\tmp``) stay
    literal. Returns (token, index of the first *unquoted* ``=`` or None, where it starts).
    """
    tokens: list[tuple[str, int | None, int]] = []
    buf: list[str] = []
    eq: int | None = None
    started, quote, quote_at, begin = False, "", 0, 0
    for i, ch in enumerate(text):
        nxt = text[i + 1 : i + 2]
        if quote:
            if ch == quote and (not nxt or nxt.isspace()):
                quote = ""
            else:
                buf.append(ch)
        elif ch.isspace():
            if started:
                tokens.append(("".join(buf), eq, begin))
            buf, eq, started = [], None, False
        elif ch in "\"'" and (not started or eq == len(buf) - 1):
            begin = begin if started else i
            quote, quote_at, started = ch, i, True
        else:
            if ch == "=" and eq is None:
                eq = len(buf)
            begin = begin if started else i
            buf.append(ch)
            started = True
    if quote:
        raise UserError("error.syntax", detail=redact(text[quote_at:]))
    if started:
        tokens.append(("".join(buf), eq, begin))
    return tokens


def _looks_like(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(cn_to_digits(text.lower())) is not None


_LONG_NUMBER = re.compile(r"\d{6,}[Xx]?")


def redact(text: str) -> str:
    """Mask long digit runs (identity numbers) but their last four, for echoes and logs."""
    return _LONG_NUMBER.sub(lambda m: "*" * (len(m[0]) - 4) + m[0][-4:], text)


def tokenize(text: str) -> Parsed:
    """Strip the bot prefix, normalise full-width input and split into words and options.

    ``key=value`` (unquoted ``=``, key of letters/digits/_/-) is an option, last one wins; a
    date-like option value absorbs a following bare time (``at=2026-11-25 09:00``).
    """
    text = _PREFIX.sub("", normalise(text), count=1)
    tokens = _lex(text)
    words: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        tok, eq, _ = tokens[i]
        i += 1
        if eq is None or not _KEY.fullmatch(key := tok[:eq].strip()):
            words.append(tok)
            continue
        value = tok[eq + 1 :]
        nxt = tokens[i] if i < len(tokens) else ("", 0, 0)
        if nxt[1] is None and _looks_like(_DATE, value) and _looks_like(_TIME, nxt[0]):
            value, i = f"{value} {nxt[0]}", i + 1
        options["".join(c.lower() if c.isascii() else c for c in key)] = value
    return Parsed(words, options)


def strip_comment(line: str) -> str:
    """A console line without its comment: from a ``#`` standing alone as a word, unquoted
    (``as bob   # the admin``), to the end; ``#V-12``, ``disk#2`` and ``"# 3"`` stay. Only the
    console strips comments (a script, a pasted README line): chat platforms never send any."""
    text = normalise(line)
    try:
        tokens = _lex(text)
    except UserError:  # an unclosed quote: running the command says so
        return text
    start = next((at for tok, _, at in tokens if tok == "#" and text[at] == "#"), None)
    return text if start is None else text[:start].rstrip()


_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_NUM = re.compile(r"[一二两三四五六七八九]?十[一二三四五六七八九]?|[零〇一二两三四五六七八九]")


def cn_to_digits(text: str) -> str:
    """Chinese numerals up to 99 (``二十五`` -> ``25``, ``两`` -> ``2``) to ASCII digits."""

    def one(m: re.Match[str]) -> str:
        tens, sep, units = m.group().partition("十")
        if not sep:
            return str(_CN_DIGIT[tens])
        return str((_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[units] if units else 0))

    return _CN_NUM.sub(one, text)


_REL = re.compile(r"\+(?=\d)(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?:in)?)?")
_DATE = re.compile(
    r"(?P<y1>\d{4})[-/](?P<mo1>\d{1,2})[-/](?P<d1>\d{1,2})"
    r"|(?P<y2>\d{4})年(?P<mo2>\d{1,2})月(?P<d2>\d{1,2})[日号]"
    r"|(?P<mo3>\d{1,2})-(?P<d3>\d{1,2})"
    r"|(?P<mo4>\d{1,2})月(?P<d4>\d{1,2})[日号]"
    r"|(?P<word>today|tomorrow|今天|明天|后天)"
    r"|\+(?P<days>\d+)d"
)
_TIME = re.compile(
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?"
    r"|(?P<ap>上午|早上|凌晨|中午|下午|晚上)?(?P<ch>\d{1,2})点钟?(?:(?P<cm>\d{1,2})分?|(?P<half>半))?"
)
_WORD_DAYS = {"today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "后天": 2}
WORKDAY_START = time(9, 0)


def _localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall time in ``tz`` to UTC; ambiguous times take the first occurrence, gaps raise."""
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError("wall time does not exist in this zone")
    return aware.astimezone(UTC)


def _in_range(when: datetime) -> datetime:
    """Refuse years 1 and 9999: adding a duration or a day (or a zone offset) there overflows."""
    if not 1 < when.year < 9999:
        raise ValueError("year out of range")
    return when


def _clock(text: str) -> time:
    m = _TIME.fullmatch(text)
    if not m:
        raise ValueError(text)
    if m["h"]:
        return time(int(m["h"]), int(m["mi"]), int(m["s"] or 0))
    hour = int(m["ch"])
    if (m["ap"] in ("下午", "晚上") and hour < 12) or (m["ap"] == "中午" and hour < 6):
        hour += 12
    return time(hour, 30 if m["half"] else int(m["cm"] or 0))


def starts_a_time(word: str) -> bool:
    """Whether ``word`` can begin a point in time for ``parse_when``: a date, a day word,
    ``+2d``, ``+3h``, ``now`` (the time of day may follow as another word)."""
    s = cn_to_digits(normalise(word).strip().lower())
    return s in ("now", "现在") or bool(_DATE.match(s) or _REL.fullmatch(s))


def is_time_of_day(word: str) -> bool:
    """``09:00``, ``9点``, ``下午3点半``: a word that completes a date typed before it."""
    return _looks_like(_TIME, normalise(word).strip())


def parse_when(
    text: str, *, now: datetime, tz: ZoneInfo, year_less: Literal["next", "past"] = "next"
) -> datetime:
    """Parse a point in time typed by a user; wall times are in ``tz``; returns aware UTC.

    Forms: ``2026-11-25 09:00`` (also ``T``, ``/``, ``9:00``, ``:SS``), ``11-25 09:00`` (a date
    without a year: with ``year_less="next"`` the next one, today included, for plans; with
    ``"past"`` the most recent one, today included, for looking back),
    ``today``/``tomorrow``/``今天``/``明天``/``后天`` + time, ``2026年11月25日 9:00``,
    ``11月25日 下午3点``, ``+2d`` (same wall time), ``+2d 09:00``,
    ``+3h``, ``+90m``, ``+1d2h``, ``now``/``现在``. A date without a time means 09:00, the
    start of the working day (09:00-18:00). Ambiguous DST times take the first occurrence;
    times skipped by DST are rejected. Whether the result is in the past is for callers.
    """
    s = cn_to_digits(normalise(text).strip().lower())
    try:
        local = now.astimezone(tz)
        if s in ("now", "现在"):
            return now.astimezone(UTC)
        if (rel := _REL.fullmatch(s)) and any(rel.groups()):
            moved = local + timedelta(days=int(rel["d"] or 0))  # wall-clock days
            return _in_range(
                moved.astimezone(UTC)
                + timedelta(hours=int(rel["h"] or 0), minutes=int(rel["m"] or 0))
            )
        if not (m := _DATE.match(s)):
            raise ValueError(s)
        rest = s[m.end() :]
        if sep := re.match(r"\s+|t(?=\d)", rest):
            rest = rest[sep.end() :]
        elif rest and s[m.end() - 1].isascii():
            raise ValueError(s)
        today = local.date()
        if m["word"]:
            day = today + timedelta(days=_WORD_DAYS[m["word"]])
        elif m["days"]:
            day = today + timedelta(days=int(m["days"]))
        elif m["y1"] or m["y2"]:
            day = date(int(m["y1"] or m["y2"]), int(m["mo1"] or m["mo2"]), int(m["d1"] or m["d2"]))
        else:
            month, dom = int(m["mo3"] or m["mo4"]), int(m["d3"] or m["d4"])
            day = date(today.year, month, dom)
            if year_less == "next" and day < today:
                day = date(today.year + 1, month, dom)
            elif year_less == "past" and day > today:
                day = date(today.year - 1, month, dom)
        return _in_range(
            _localize(datetime.combine(day, _clock(rest) if rest else WORKDAY_START), tz)
        )
    except (ValueError, OverflowError):
        raise UserError("error.bad_date", value=text) from None
