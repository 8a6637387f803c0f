"""The grammar and the command table through the core: prefixes, Chinese words, suggestions."""

import re
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    REQUEST,
    ok,
    ref_in,
    refused,
    request,
    sh,
    t,
    visit,
    visit_in,
)

pytestmark = BACKEND_AGNOSTIC

VERBS = (
    "request, approve, review, reject, changes, edit, cancel, show, list, export, checkin, "
    "checkout, card"
)


VISIT_REQUEST_OPTIONS = (  # the form's order, then the identity typed in two parts
    "at, duration, room, task, id, company, contact, tools, certificates, responsible, visitor, "
    "emergency, fault, id_type, id_last4"
)


@pytest.mark.parametrize(
    ("typed", "who", "suggestion"),
    [("vist request", "alice", "visit"), ("故障申 1 断电", "zhang", "故障申报")],
)
def test_an_unknown_area_close_to_one_suggests_it(chat, typed, who, suggestion):
    word = typed.split()[0]
    locale = "zh" if who == "zhang" else "en"
    assert refused(chat, who, typed) == t(
        chat, "error.unknown_command", locale, word=word, suggestion=suggestion
    )


@pytest.mark.parametrize(
    ("who", "typed"),
    [
        ("alice", "frobnicate"),  # was "oncall"
        ("alice", "shutdwn-plan S-1"),  # was "todo" (as "shutdown request", before shutdowns)
        ("zhang", "周报"),  # was "报障": one character of two in common is not near
        ("alice", "stats"),  # was "visits"
        ("alice", "qwertyuiop"),
        ("zhang", "访 申请"),
    ],
)
def test_an_unknown_area_far_from_all_is_only_unknown(chat, who, typed):
    """Below the similarity threshold there is no suggestion: it is unknown, see help."""
    locale = "zh" if who == "zhang" else "en"
    word = typed.split()[0]
    answer = refused(chat, who, typed)
    assert answer == t(chat, "error.unknown_command", locale, word=word, suggestion="")
    assert "help" in answer


def test_unknown_verb_suggests_the_nearest_and_lists_them(chat):
    assert refused(chat, "alice", "visit aprove V-1") == t(
        chat, "error.unknown_verb", area="visit", word="aprove", suggestion="approve", verbs=VERBS
    )
    assert refused(chat, "alice", "visit zzz") == t(
        chat, "error.unknown_verb", area="visit", word="zzz", suggestion="", verbs=VERBS
    )
    assert refused(chat, "alice", "visit stats") == t(
        chat, "error.unknown_verb", area="visit", word="stats", suggestion="", verbs=VERBS
    )


def test_unknown_option_suggests_a_close_documented_name(chat):
    """An unknown option must be explained, not answered with an internal error; a close
    one is answered with the option's documented (canonical) name, even when it is closest
    to one of the undocumented aliases the command also accepts (``time`` for ``at``)."""
    answer = refused(chat, "alice", "visit request rooom=A101")
    assert answer == t(
        chat, "error.unknown_option", option="rooom", suggestion="room", usage="visit.request"
    )
    assert refused(chat, "alice", 'visit request tiem="2026-11-25 09:00"') == t(
        chat, "error.unknown_option", option="tiem", suggestion="at", usage="visit.request"
    )
    assert refused(chat, "bob", "visit checkin V-1 cardd=1") == t(
        chat, "error.unknown_option", option="cardd", suggestion="card", usage="visit.checkin"
    )


def test_unknown_option_far_from_all_lists_the_commands_options(chat):
    answer = refused(chat, "alice", "visit request colour=red")  # was "hours=" (undocumented)
    assert answer == t(
        chat,
        "error.unknown_option",
        option="colour",
        suggestion="",
        options=VISIT_REQUEST_OPTIONS,
        usage="visit.request",
    )
    assert "hours" not in answer
    zh = refused(chat, "zhang", "访问 申请 时问=明天")
    assert zh.startswith("不认识的参数「时问」。可用的参数：at, duration, room")
    assert refused(chat, "bob", "visit approve V-1 x=1") == t(
        chat, "error.unknown_option", option="x", suggestion="", options="", usage="visit.approve"
    )


@pytest.mark.parametrize(
    "prefix", ["/maint ", "/maintbot ", "@maintbot ", "maint ", "<@UBOT> ", "@maintbot\u2005"]
)
def test_bot_prefixes(chat, prefix):
    ref = request(chat, "alice")
    ok(chat, "bob", f"{prefix}visit approve {ref}")
    assert visit(chat, ref).state == "reviewed"


@pytest.mark.parametrize("area", ["visit", "visits", "v", "访问", "访问申请", "来访", "VISIT"])
def test_area_aliases(chat, area):
    ref = request(chat, "alice")
    card = chat.card("bob", f"{area} show {ref}")
    assert card.subject == ref


def test_chinese_verbs_for_the_whole_flow(chat):
    answer = ok(
        chat,
        "zhang",
        '访问 申请 时间="2026-11-25 09:00" 时长=2小时 机房=SH1/A101 任务=换盘 证件=身份证:1234',
    )
    ref = ref_in(answer)
    ok(chat, "bob", f"访问 审核 {ref}")
    ok(chat, "dan", f"访问 退回 {ref} 说明=补充工具清单")
    ok(chat, "zhang", f"访问 修改 {ref} 工具=螺丝刀")
    ok(chat, "bob", f"访问 批准 {ref}")
    ok(chat, "dan", f"访问 批准 {ref}")
    ok(chat, "bob", f"进机房 签到 {ref} 卡号=A-07 核实=是 安全培训=是 提前原因=客户要求")
    ok(chat, "bob", f"来访 签出 {ref} 工具=全部 还卡=否")
    ok(chat, "bob", f"访问 还卡 {ref}")
    actions = [e.action for e in chat.audit() if e.subject_type == "visit"]
    assert actions == [
        "visit.request",
        "visit.review",
        "visit.changes",
        "visit.edit",
        "visit.review",
        "visit.approve",
        "visit.checkin",
        "visit.checkout",
        "visit.card_returned",
    ]


def test_chinese_reject_with_reason_words(chat):
    ref = request(chat, "alice")
    assert ok(chat, "bob", f"访问 驳回 {ref} 时间冲突") == t(chat, "visit.rejected", ref=ref)
    assert visit(chat, ref).decision_note == "时间冲突"


def test_full_width_spaces_and_quotes(chat):
    ref = request(chat, "alice")
    ok(chat, "bob", f"访问\u3000驳回\u3000{ref}\u3000原因＝“没有 空位”")
    assert visit(chat, ref).decision_note == "没有 空位"


def test_unbalanced_quote_is_a_syntax_error(chat):
    answer = refused(chat, "alice", 'visit request task="replace disk')
    assert answer == t(chat, "error.syntax", detail='"replace disk')


def test_empty_message_and_bare_area_show_help(chat):
    assert chat.card("alice", "").title == t(chat, "help.title")
    assert chat.card("alice", "/maint").title == t(chat, "help.title")
    assert "visit request" in chat.card("alice", "help visit").body
    assert chat.card("zhang", "帮助").title == "maintbot 命令"


def test_help_needs_no_identity_but_everything_else_does(chat):
    assert chat.card("stranger", "help").title == t(chat, "help.title")
    answer = refused(chat, "stranger", "visit list")
    assert answer == t(chat, "error.unknown_user", user="stranger")


def test_an_area_alone_shows_its_help(chat):
    answer = chat.text("alice", "visit")
    assert "visit request" in answer and "visit checkout" in answer
    assert "访问申请" in chat.text("zhang", "访问")


def test_a_syntax_error_never_echoes_a_full_identity_number(chat):
    answer = chat.text("alice", 'visit request id="passport:110101199001011234')
    assert "110101199001011234" not in answer
    assert "1234" in answer


# ---- examples in help and hints: dated from today, naming the user's own reference


def _usage_line(chat, who: str, command: str) -> str:
    body = chat.card(who, f"help {command.split()[0]}").body
    line = next(x for x in body.splitlines() if x.startswith(f"/maint {command} "))
    return re.sub(r"\s+\([^)]*\)$", "", line)  # without the verb's aliases


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_no_example_in_the_catalog_has_a_fixed_date(chat, locale):
    """A date written into a usage string or a hint is in the past a few weeks later: every
    example date comes from the ``ex`` parameter (see handlers.i18n.examples)."""
    raw = yaml.safe_load(files("templates").joinpath(locale, "catalog.yaml").read_text("utf-8"))
    assert [key for key, text in raw.items() if re.search(r"\d{4}-\d{2}-\d{2}", str(text))] == []


@pytest.mark.parametrize("who", ["alice", "zhang"])
def test_help_examples_are_dated_from_today_and_work_as_written(chat, clock, who):
    """Weeks after the catalog was written, the example request in help still names the first
    day a visit may be requested for (lead time 2 days), and typed as shown it is filed."""
    clock.advance(timedelta(days=40))  # Saturday 2027-01-02 in Shanghai
    line = _usage_line(chat, who, "visit request")
    assert 'at="2027-01-04 09:00"' in line
    example = re.sub(r"\s*\[[^]]*\]", "", line)  # the required part, as a user would type it
    assert visit(chat, ref_in(ok(chat, who, example))).start_at == sh(2027, 1, 4, 9, 0)

    export = _usage_line(chat, "bob", "visit export")
    assert export == "/maint visit export 2027-01-01 2027-01-02"
    assert ok(chat, "bob", export) == t(
        chat, "visit.export_caption", span="2027-01-01 – 2027-01-02", count=0
    )


def test_hints_with_a_date_are_dated_from_today(chat, clock):
    clock.advance(timedelta(days=40))
    ref = request(chat, "alice", text=REQUEST.replace("2026-11-25", "2027-01-05"))
    assert '"2027-01-04 10:00"' in refused(chat, "alice", f"visit edit {ref}", ref)
    assert "2027-01-04 09:00" in refused(chat, "bob", "visit export someday")
    assert "2026-" not in refused(chat, "dan", "visit export someday")


def test_hints_name_the_users_own_reference(chat):
    assert "F-1" in chat.text("alice", "fault declare 1 Database down")
    assert "F-2" in chat.text("alice", "fault declare 2 Switch down")
    summary = refused(chat, "alice", "fault resolve F-1")
    assert summary == t(chat, "error.fault_summary_needed", ref="F-1")
    assert "fault resolve F-1 <summary>" in summary and "F-3" not in summary
    ok(chat, "alice", "fault resolve F-1 replaced the disk")
    cause = refused(chat, "zhang", "fault close f1")
    assert "fault close F-1 cause=" in cause and "F-3" not in cause
    note = refused(chat, "alice", "fault update F-2")
    assert "fault update F-2 <what happened>" in note
    tier = refused(chat, "alice", "fault tier F-2")
    assert "fault tier F-2 <1|2|3>" in tier
    # where no reference was given there is none to name: the generic example stays
    assert "audit V-12" in refused(chat, "bob", "audit")


# ---- positional arguments fill a form's required fields in order


def test_visit_request_with_positional_arguments(chat):
    """As the README says, arguments are positional or key=value: words without a name fill
    the required fields in order (at, duration, room, task, id); a time after the date joins
    it."""
    ref = ref_in(
        ok(chat, "alice", 'visit request 2026-11-25 2h SH1/A101 "replace disk" 身份证:1234')
    )
    filed = visit(chat, ref)
    assert (filed.start_at, filed.duration_minutes, filed.task) == (
        sh(2026, 11, 25, 9, 0),
        120,
        "replace disk",
    )
    assert (filed.room.code, filed.id_type, filed.id_last4) == ("A101", "身份证", "1234")
    assert filed.company == "Acme"  # the requester's own, as with key=value
    timed = ref_in(ok(chat, "zhang", "访问 申请 后天 下午2点 90分钟 SH1/B201 更换电源 身份证:4321"))
    assert visit(chat, timed).start_at == sh(2026, 11, 25, 14, 0)
    assert visit(chat, timed).duration_minutes == 90


def test_a_named_field_wins_and_the_words_fill_the_others(chat):
    ref = ref_in(
        ok(
            chat,
            "alice",
            'visit request 2h SH1/A101 "swap PSU" passport:1234 at="2026-11-26 10:00"',
        )
    )
    assert visit(chat, ref).start_at == sh(2026, 11, 26, 10, 0)
    assert visit(chat, ref).task == "swap PSU"


def test_positional_words_that_do_not_fit_are_refused_clearly(chat):
    order = "at, duration, room, task, id"
    unquoted = refused(
        chat, "alice", "visit request 2026-11-25 2h SH1/A101 replace disk passport:1234"
    )
    assert unquoted == t(chat, "error.positional_too_many", extra="passport:1234", order=order)
    assert "quotes" in unquoted
    swapped = refused(chat, "alice", 'visit request SH1/A101 2026-11-25 2h "x" passport:1234')
    assert swapped == t(chat, "error.positional_mismatch", word="SH1/A101", slot="at", order=order)
    no_duration = refused(chat, "alice", 'visit request 2026-11-25 SH1/A101 "x" passport:1234')
    assert no_duration == t(
        chat, "error.positional_mismatch", word="SH1/A101", slot="duration", order=order
    )
    assert "SH1/A101" in refused(chat, "zhang", "访问 申请 SH1/A101 明天")


def _argument_names() -> set[str]:
    """Every argument name the commands can report missing, read from the code."""
    names = set()
    for path in Path("handlers").rglob("*.py"):
        source = path.read_text("utf-8")
        names |= set(re.findall(r"\.arg\(\d+, \"([a-z_]+)\"\)", source))
        names |= set(re.findall(r"error\.missing_arg\", name=\"([a-z_]+)\"", source))
    return names


def test_every_missing_argument_is_named_in_both_languages(chat):
    names = _argument_names()
    assert {"ref", "title", "to"} <= names
    for locale in ("en", "zh"):
        assert [n for n in names if not chat.core.i18n.has(locale, f"arg.{n}")] == [], locale


def test_a_missing_argument_is_named_in_the_readers_language(chat):
    answer = refused(chat, "dan", "故障 解决")
    assert answer == "缺少参数 编号。用法：/maint fault resolve F-3 <处理总结>"


def test_words_a_command_does_not_read_are_refused_never_dropped(chat):
    """Unquoted ``tools=multimeter, laptop`` leaves ``laptop`` as a word of its own: the
    check-in is refused with how to quote, instead of recording one tool and dropping one."""
    ref = visit_in(chat, "approved")
    checkin = f"visit checkin {ref} card=A-1 verified=yes briefing=yes early=x"
    typed = f"{checkin} tools=multimeter, laptop"
    answer = refused(chat, "bob", typed, ref)
    assert answer == t(chat, "error.extra_words", extra="laptop", usage="visit.checkin")
    assert refused(chat, "alice", f"visit edit {ref} task=replace disk", ref).startswith(
        t(chat, "error.extra_words", extra="disk", usage="visit.edit").split(".")[0]
    )
    ok(chat, "bob", f'{checkin} tools="multimeter, laptop"')
    assert visit(chat, ref).tools_in == ["multimeter", "laptop"]
