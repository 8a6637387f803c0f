"""Tests for handlers.grammar: tokenizing chat commands and parsing option values."""

import dataclasses
import shlex
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.errors import UserError
from handlers.grammar import Parsed, parse_when, strip_comment, tokenize
from handlers.values import parse_bool, parse_duration, parse_list

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 2026-11-20 11:00 in Shanghai


def sh(*args: int) -> datetime:
    """A Shanghai wall time, as the aware UTC datetime parse_when returns."""
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def raises(key: str, fn, *args, **kwargs) -> UserError:
    with pytest.raises(UserError) as info:
        fn(*args, **kwargs)
    assert info.value.key == key
    return info.value


# --- tokenize -------------------------------------------------------------------------------


def test_full_request_example():
    p = tokenize(
        '/maint visit request at="2026-11-25 09:00" duration=2h room=SH1/A101 '
        'task="更换硬盘" tools="laptop, 螺丝刀"'
    )
    assert p == Parsed(
        ["visit", "request"],
        {
            "at": "2026-11-25 09:00",
            "duration": "2h",
            "room": "SH1/A101",
            "task": "更换硬盘",
            "tools": "laptop, 螺丝刀",
        },
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("visit approve V-12", ["visit", "approve", "V-12"]),
        ("访问 批准 V-12", ["访问", "批准", "V-12"]),
        ("@maintbot visit list today", ["visit", "list", "today"]),
        ("/maint visit list", ["visit", "list"]),
        ("maint visit list", ["visit", "list"]),
        ("/maintbot visit list", ["visit", "list"]),
        ("/MAINT visit list", ["visit", "list"]),
        ("@MaintBot visit list", ["visit", "list"]),
        ("<@U123ABC> visit list", ["visit", "list"]),
        ("<@U123ABC|maintbot> visit list", ["visit", "list"]),
        ("<@U123ABC>visit list", ["visit", "list"]),
        ("   /maint   visit   list  ", ["visit", "list"]),
        ("@maintbot\u2005visit list", ["visit", "list"]),  # WeCom puts U+2005 after a mention
        ("/maint maint visit", ["maint", "visit"]),  # only one prefix is stripped
        ("maintenance window", ["maintenance", "window"]),
        ("/maintx visit", ["/maintx", "visit"]),
        ("visit maint", ["visit", "maint"]),
        ("/maint", []),
        ("", []),
        ("   ", []),
    ],
)
def test_prefix_and_words(text, words):
    assert tokenize(text) == Parsed(words, {})


def test_quoted_strings_keep_spaces_and_chinese():
    p = tokenize("visit note V-12 \"机房 A 区 空调\" 'two words' reason='更换 电源'")
    assert p.words == ["visit", "note", "V-12", "机房 A 区 空调", "two words"]
    assert p.options == {"reason": "更换 电源"}


def test_empty_quotes_give_empty_token_and_value():
    assert tokenize('a "" b tools= x=""') == Parsed(["a", "", "b"], {"tools": "", "x": ""})


def test_full_width_punctuation_is_normalised():
    p = tokenize("visit request 任务＝“更换　硬盘” note=「a b」 who=‘老王’ at＝明天 9：30")
    assert p.words == ["visit", "request"]
    assert p.options == {"任务": "更换 硬盘", "note": "a b", "who": "老王", "at": "明天 9:30"}


def test_full_width_space_splits_words():
    assert tokenize("访问\u3000批准\u3000V-12").words == ["访问", "批准", "V-12"]


def test_full_width_comma_is_kept_for_lists():
    assert tokenize("tools=笔记本，螺丝刀").options == {"tools": "笔记本，螺丝刀"}


def test_option_keys_are_ascii_lowercased_and_last_one_wins():
    p = tokenize("AT=1 Room=x at=2 Ü=y 说明=z dry-run=yes snake_case=1")
    assert p.options == {
        "at": "2",
        "room": "x",
        "Ü": "y",
        "说明": "z",
        "dry-run": "yes",
        "snake_case": "1",
    }


@pytest.mark.parametrize(
    ("text", "words", "options"),
    [
        ("=x", ["=x"], {}),
        ("a==b", [], {"a": "=b"}),
        ("expr=a=b", [], {"expr": "a=b"}),
        ("a.b=c", ["a.b=c"], {}),
        ("https://example.com/?a=b&c=d", ["https://example.com/?a=b&c=d"], {}),
        ("link=https://example.com/?a=b", [], {"link": "https://example.com/?a=b"}),
        ('"a=b" c', ["a=b", "c"], {}),  # a quoted = makes a word, not an option
        ('note="x=y z"', [], {"note": "x=y z"}),
    ],
)
def test_equals_signs(text, words, options):
    assert tokenize(text) == Parsed(words, options)


def test_backslashes_are_literal():
    p = tokenize(r'file path=C:\tmp\new "C:\Program Files\x" a\ b')
    assert p.words == ["file", r"C:\Program Files\x", "a\\", "b"]
    assert p.options == {"path": r"C:\tmp\new"}


def test_apostrophes_inside_words_are_not_quotes():
    p = tokenize("visit reject V-12 can't make it reason='it's broken' O’Neil")
    assert p.words == ["visit", "reject", "V-12", "can't", "make", "it", "O'Neil"]
    assert p.options == {"reason": "it's broken"}


@pytest.mark.parametrize(
    "text",
    [
        'visit request task="更换硬盘',
        "visit 'open",
        '"a b',
        'a "b"c',
        "note=“没有结尾",
    ],
)
def test_unbalanced_quotes(text):
    err = raises("error.syntax", tokenize, text)
    assert err.params["detail"]


def test_unbalanced_quote_detail_shows_the_open_fragment():
    assert raises("error.syntax", tokenize, 'a task="更换 硬盘').params == {"detail": '"更换 硬盘'}


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("as bob                       # the admin", "as bob"),  # pasted from the README
        ("1  # review: passes it to a supervisor", "1"),
        ("# a whole line", ""),
        ("visit show V-1 #", "visit show V-1"),
        ("visit show #V-12", "visit show #V-12"),  # a reference, not a comment
        ("visit list #visits", "visit list #visits"),
        ('visit reject V-1 reason="see # 3"', 'visit reject V-1 reason="see # 3"'),
        ('visit reject V-1 "#" x', 'visit reject V-1 "#" x'),  # a quoted # is text
        ("visit reject V-1 “# 3” # why", 'visit reject V-1 "# 3"'),
        ('visit show "V-1 # x', 'visit show "V-1 # x'),  # unclosed: the command's error says so
        ("fault update F-1 disk#2 replaced", "fault update F-1 disk#2 replaced"),
    ],
)
def test_a_console_comment_is_a_hash_standing_alone(line, command):
    assert strip_comment(line) == command


@pytest.mark.parametrize(
    "text",
    ["a b c", "visit 'x y' \"z w\" tail", "访问 '机房 A' 批准", "a\tb\nc", "''"],
)
def test_splitting_matches_posix_shlex_on_ordinary_input(text):
    lex = shlex.shlex(text, posix=True, punctuation_chars=False)
    lex.whitespace_split, lex.commenters, lex.escape = True, "", ""
    assert tokenize(text).words == list(lex)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("at=2026-11-25 09:00", "2026-11-25 09:00"),
        ("at=2026/11/25 9:00:30", "2026/11/25 9:00:30"),
        ("at=11-25 09:00", "11-25 09:00"),
        ("at=today 14:00", "today 14:00"),
        ("at=Tomorrow 9:30", "Tomorrow 9:30"),
        ("at=今天 14:00", "今天 14:00"),
        ("at=明天 9:00", "明天 9:00"),
        ("at=后天 10:00", "后天 10:00"),
        ("at=+2d 09:00", "+2d 09:00"),
        ("at=2026年11月25日 9点", "2026年11月25日 9点"),
        ("at=11月25日 下午三点", "11月25日 下午三点"),
        ('at="2026-11-25" 09:00', "2026-11-25 09:00"),
    ],
)
def test_date_gluing(text, value):
    p = tokenize(f"visit request {text} room=A101")
    assert p == Parsed(["visit", "request"], {"at": value, "room": "A101"})
    assert parse_when(value, now=NOW, tz=SH)  # whatever is glued also parses


@pytest.mark.parametrize(
    ("text", "words", "options"),
    [
        ("at=2026-11-25 V-12", ["V-12"], {"at": "2026-11-25"}),
        ("at=2026-11-25 to=09:00", [], {"at": "2026-11-25", "to": "09:00"}),
        ("note=hello 09:00", ["09:00"], {"note": "hello"}),
        ("at=now 09:00", ["09:00"], {"at": "now"}),
        ("at=2026-11-25 09:00 10:00", ["10:00"], {"at": "2026-11-25 09:00"}),
        ("at=2026-11-25 9", ["9"], {"at": "2026-11-25"}),
        ("list 2026-11-25 09:00", ["list", "2026-11-25", "09:00"], {}),  # positionals: no glue
    ],
)
def test_no_date_gluing(text, words, options):
    assert tokenize(text) == Parsed(words, options)


def test_parsed_is_frozen():
    p = tokenize("a b=c")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.words = []  # type: ignore[misc]


# --- parse_when ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25 09:00", sh(2026, 11, 25, 9, 0)),
        ("2026-11-25T09:00", sh(2026, 11, 25, 9, 0)),
        ("2026-11-25t09:00", sh(2026, 11, 25, 9, 0)),
        ("2026/11/25 09:00", sh(2026, 11, 25, 9, 0)),
        ("2026-11-25 9:00", sh(2026, 11, 25, 9, 0)),
        ("2026-11-25 09:00:30", sh(2026, 11, 25, 9, 0, 30)),
        ("  2026-11-25   09:00 ", sh(2026, 11, 25, 9, 0)),
        ("2026-1-5 23:59", sh(2026, 1, 5, 23, 59)),
        ("2026-11-25", sh(2026, 11, 25, 9, 0)),  # a date alone is 09:00
        ("2028-02-29 10:00", sh(2028, 2, 29, 10, 0)),
        ("11-25 09:00", sh(2026, 11, 25, 9, 0)),
        ("11-25", sh(2026, 11, 25, 9, 0)),
        ("11-20 08:00", sh(2026, 11, 20, 8, 0)),  # today stays this year even if past
        ("11-19 09:00", sh(2027, 11, 19, 9, 0)),  # already passed: next year
        ("01-05 09:00", sh(2027, 1, 5, 9, 0)),
        ("today 14:00", sh(2026, 11, 20, 14, 0)),
        ("TODAY 14:00", sh(2026, 11, 20, 14, 0)),
        ("tomorrow 09:00", sh(2026, 11, 21, 9, 0)),
        ("tomorrow", sh(2026, 11, 21, 9, 0)),
        ("今天 14:00", sh(2026, 11, 20, 14, 0)),
        ("明天 9:00", sh(2026, 11, 21, 9, 0)),
        ("明天9:00", sh(2026, 11, 21, 9, 0)),
        ("后天 10:00", sh(2026, 11, 22, 10, 0)),
        ("后天", sh(2026, 11, 22, 9, 0)),
        ("明天 9：30", sh(2026, 11, 21, 9, 30)),
        ("+2d", sh(2026, 11, 22, 11, 0)),
        ("+2d 09:00", sh(2026, 11, 22, 9, 0)),
        ("+3h", sh(2026, 11, 20, 14, 0)),
        ("+90m", sh(2026, 11, 20, 12, 30)),
        ("+90min", sh(2026, 11, 20, 12, 30)),
        ("+1d2h", sh(2026, 11, 21, 13, 0)),
        ("+1d2h30m", sh(2026, 11, 21, 13, 30)),
        ("2026年11月25日 09:00", sh(2026, 11, 25, 9, 0)),
        ("2026年11月25日09:00", sh(2026, 11, 25, 9, 0)),
        ("2026年11月25号", sh(2026, 11, 25, 9, 0)),
        ("11月25日 09:00", sh(2026, 11, 25, 9, 0)),
        ("11月25日 9点", sh(2026, 11, 25, 9, 0)),
        ("11月25日9点30", sh(2026, 11, 25, 9, 30)),
        ("11月25日 9点30分", sh(2026, 11, 25, 9, 30)),
        ("11月25日 9点半", sh(2026, 11, 25, 9, 30)),
        ("十一月二十五日 九点零五", sh(2026, 11, 25, 9, 5)),
        ("明天 下午3点", sh(2026, 11, 21, 15, 0)),
        ("明天下午三点半", sh(2026, 11, 21, 15, 30)),
        ("明天 晚上8点", sh(2026, 11, 21, 20, 0)),
        ("明天 中午12点", sh(2026, 11, 21, 12, 0)),
        ("明天 中午1点", sh(2026, 11, 21, 13, 0)),
        ("明天 上午10点", sh(2026, 11, 21, 10, 0)),
        ("明天 下午12点", sh(2026, 11, 21, 12, 0)),
        ("now", NOW),
        ("Now", NOW),
        ("现在", NOW),
    ],
)
def test_parse_when_shanghai(text, expected):
    got = parse_when(text, now=NOW, tz=SH)
    assert got == expected
    assert got.tzinfo == UTC


def test_parse_when_uses_local_date_not_utc_date():
    new_year_eve = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # already 2027-01-01 01:00 in SH
    assert parse_when("today 10:00", now=new_year_eve, tz=SH) == sh(2027, 1, 1, 10, 0)
    assert parse_when("01-01 10:00", now=new_year_eve, tz=SH) == sh(2027, 1, 1, 10, 0)
    assert parse_when("12-31 10:00", now=new_year_eve, tz=SH) == sh(2027, 12, 31, 10, 0)
    assert parse_when("+1d 08:00", now=new_year_eve, tz=SH) == sh(2027, 1, 2, 8, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11-19", sh(2026, 11, 19, 9, 0)),  # already passed this year: this year's
        ("11-20 08:00", sh(2026, 11, 20, 8, 0)),  # today stays today
        ("11-21", sh(2025, 11, 21, 9, 0)),  # still to come this year: last year's
        ("12-01", sh(2025, 12, 1, 9, 0)),
        ("11月21日", sh(2025, 11, 21, 9, 0)),
        ("01-05 09:00", sh(2026, 1, 5, 9, 0)),
        # only a date without a year is turned back; everything else means what it says
        ("2026-12-01", sh(2026, 12, 1, 9, 0)),
        ("tomorrow", sh(2026, 11, 21, 9, 0)),
        ("+2d", sh(2026, 11, 22, 11, 0)),
    ],
)
def test_parse_when_a_year_less_date_can_mean_the_most_recent_one(text, expected):
    assert parse_when(text, now=NOW, tz=SH, year_less="past") == expected


def test_a_year_less_date_means_the_next_one_unless_told():
    december_2nd = sh(2026, 12, 2, 10, 0)
    assert parse_when("12-01", now=december_2nd, tz=SH) == sh(2027, 12, 1, 9, 0)
    assert parse_when("12-01", now=december_2nd, tz=SH, year_less="next") == sh(2027, 12, 1, 9, 0)
    assert parse_when("12-01", now=december_2nd, tz=SH, year_less="past") == sh(2026, 12, 1, 9, 0)


def test_parse_when_accepts_any_aware_now():
    shanghai_now = NOW.astimezone(SH)
    assert parse_when("+1h", now=shanghai_now, tz=SH) == datetime(2026, 11, 20, 4, tzinfo=UTC)
    assert parse_when("now", now=shanghai_now, tz=SH).tzinfo == UTC


# Europe/Berlin 2026: clocks go 02:00 -> 03:00 on 03-29, and 03:00 -> 02:00 on 10-25.
SPRING_EVE = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)  # 12:00 CET (+01:00)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("2026-03-28 12:00", SPRING_EVE, datetime(2026, 3, 28, 11, 0, tzinfo=UTC)),
        ("2026-03-29 01:30", SPRING_EVE, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        ("2026-03-29 03:30", SPRING_EVE, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("2026-03-30 12:00", SPRING_EVE, datetime(2026, 3, 30, 10, 0, tzinfo=UTC)),
        ("tomorrow 12:00", SPRING_EVE, datetime(2026, 3, 29, 10, 0, tzinfo=UTC)),
        ("+1d", SPRING_EVE, datetime(2026, 3, 29, 10, 0, tzinfo=UTC)),  # same wall time: 23h
        ("+24h", SPRING_EVE, datetime(2026, 3, 29, 11, 0, tzinfo=UTC)),  # exact hours
        ("+1d 12:00", SPRING_EVE, datetime(2026, 3, 29, 10, 0, tzinfo=UTC)),
        # the repeated hour in autumn takes its first (summer-time) occurrence
        ("2026-10-25 02:30", SPRING_EVE, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25 03:30", SPRING_EVE, datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        ("2026-10-24 12:00", SPRING_EVE, datetime(2026, 10, 24, 10, 0, tzinfo=UTC)),
        ("2026-10-26 12:00", SPRING_EVE, datetime(2026, 10, 26, 11, 0, tzinfo=UTC)),
        ("+1d", datetime(2026, 10, 24, 10, tzinfo=UTC), datetime(2026, 10, 25, 11, tzinfo=UTC)),
    ],
)
def test_parse_when_berlin_dst(text, now, expected):
    assert parse_when(text, now=now, tz=BERLIN) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-29 02:30",  # skipped by the spring change
        "2026-03-29 02:00",
    ],
)
def test_parse_when_rejects_wall_times_that_do_not_exist(text):
    raises("error.bad_date", parse_when, text, now=SPRING_EVE, tz=BERLIN)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "2026-02-30 09:00",
        "2026-02-29",
        "02-29 09:00",  # 2026 is not a leap year
        "2026-13-01",
        "2026-00-10",
        "2026-11-25 25:00",
        "2026-11-25 24:00",
        "2026-11-25 09:60",
        "2026-11-25 09:00:61",
        "2026-11-25 9",
        "2026-11-25 09:00 extra",
        "2026-11-2509:00",
        "2026-11-25x09:00",
        "11/25 09:00",  # ambiguous month/day order: not accepted
        "25.11.2026",
        "14:00",  # a bare time needs a day
        "today 25:00",
        "tomorrow at 9",
        "明天 25点",
        "明天 9点61",
        "13月1日",
        "2月30日 9点",
        "+",
        "+2",
        "+2x",
        "+-2d",
        "+2d 9",
        "+99999999999d",
        "+99999999999h",
        "yesterday",
    ],
)
def test_parse_when_rejects(text):
    err = raises("error.bad_date", parse_when, text, now=NOW, tz=SH)
    assert err.params == {"value": text}


# --- parse_duration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("2h", 120),
        ("2H", 120),
        (" 2h ", 120),
        ("90m", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1.5h", 90),
        ("1.25h", 75),
        ("45min", 45),
        ("45mins", 45),
        ("1hr", 60),
        ("2 hours", 120),
        ("1 hour", 60),
        ("30 minutes", 30),
        ("1d", 1440),
        ("7d", 7 * 1440),
        ("2 days", 2880),
        ("2小时", 120),
        ("2个小时", 120),
        ("两小时", 120),
        ("30分钟", 30),
        ("30分", 30),
        ("十分钟", 10),
        ("1小时30分钟", 90),
        ("一小时三十分钟", 90),
        ("半小时", 30),
        ("一个半小时", 90),
        ("1个半小时", 90),
        ("2个钟头", 120),
        ("1天", 1440),
        ("1m", 1),
    ],
)
def test_parse_duration(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "",
        "90",  # a bare number is ambiguous
        "1.5",
        "0h",
        "0m",
        "0.5m",  # not a whole number of minutes
        "1.01h",
        "7d1m",  # more than 7 days
        "8d",
        "200h",
        "-1h",
        "h",
        "abc",
        "2x",
        "2 weeks",
        "1h30",
        "1:30",
        "小时",
    ],
)
def test_parse_duration_rejects(text):
    err = raises("error.bad_duration", parse_duration, text)
    assert err.params == {"value": text}


# --- parse_bool ------------------------------------------------------------------------------

TRUE_WORDS = ["yes", "YES", "y", "true", "True", "1", "ok", "OK", "on", " yes "]
TRUE_WORDS += ["是", "有", "对", "已", "是的", "好", "好的", "已确认", "确认"]
FALSE_WORDS = ["no", "No", "n", "false", "0", "off", "否", "无", "不", "未", "没有", "未确认"]


@pytest.mark.parametrize("text", TRUE_WORDS)
def test_parse_bool_true(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", FALSE_WORDS)
def test_parse_bool_false(text):
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["", "maybe", "2", "yess", "也许", "是否"])
def test_parse_bool_rejects(text):
    assert raises("error.bad_bool", parse_bool, text).params == {"value": text}


# --- parse_list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("laptop, 螺丝刀", ["laptop", "螺丝刀"]),
        ("a，b、c;d；e\nf", ["a", "b", "c", "d", "e", "f"]),
        ("  one  ,, two ,\r\n three ", ["one", "two", "three"]),
        ("single item", ["single item"]),
        (" , ，、", []),
        ("", []),
    ],
)
def test_parse_list(text, items):
    assert parse_list(text) == items


def test_tokenized_options_feed_the_value_parsers():
    p = tokenize(
        "/maint visit request at=明天 9:00 duration=1小时30分钟 tools=笔记本，螺丝刀 ok=是"
    )
    assert parse_when(p.options["at"], now=NOW, tz=SH) == sh(2026, 11, 21, 9, 0)
    assert parse_duration(p.options["duration"]) == 90
    assert parse_list(p.options["tools"]) == ["笔记本", "螺丝刀"]
    assert parse_bool(p.options["ok"]) is True
