"""The grammar and the command table through the core: prefixes, Chinese words, suggestions."""

import pytest

from tests.conftest import BACKEND_AGNOSTIC
from tests.visits_kit import (
    no_internal_errors,  # noqa: F401  (autouse)
    ok,
    ref_in,
    refused,
    request,
    t,
    visit,
)

pytestmark = BACKEND_AGNOSTIC

VERBS = (
    "request, approve, review, reject, changes, edit, cancel, show, list, export, checkin, "
    "checkout, card"
)


def test_unknown_area_suggests_the_nearest(chat):
    assert refused(chat, "alice", "vist request") == t(
        chat, "error.unknown_command", word="vist", suggestion="visit"
    )
    assert refused(chat, "alice", "qwertyuiop") == (
        'Unknown command "qwertyuiop". Type /maint help for the list.'
    )
    assert refused(chat, "zhang", "访 申请").startswith("不认识的命令「访」。")


def test_unknown_verb_suggests_the_nearest_and_lists_them(chat):
    assert refused(chat, "alice", "visit aprove V-1") == t(
        chat, "error.unknown_verb", area="visit", word="aprove", suggestion="approve", verbs=VERBS
    )
    answer = refused(chat, "alice", "visit zzz")
    assert answer == f'visit has no "zzz". Available: {VERBS}.'


def test_unknown_option_suggests_the_nearest(chat):
    """An unknown option must be explained, not answered with an internal error."""
    answer = refused(chat, "alice", 'visit request tiem="2026-11-25 09:00"')
    assert answer == t(
        chat, "error.unknown_option", option="tiem", suggestion="time", usage="visit.request"
    )
    assert answer == 'Unknown option "tiem". Did you mean "time="? See /maint help visit'
    assert refused(chat, "zhang", "访问 申请 时问=明天").startswith("不认识的参数「时问」。")
    assert refused(chat, "bob", "visit checkin V-1 cardd=1").startswith('Unknown option "cardd"')
    assert refused(chat, "bob", "visit approve V-1 x=1").startswith('Unknown option "x".')


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
