"""The console's output: user text cannot drive the terminal, and a text that opens with an icon
of its own gets no second one."""

import io

import pytest

from bot.console import ConsoleOutput, ConsoleSender
from bot.delivery import Outgoing
from handlers.messages import Action, Card, Field, File, Text
from handlers.targets import Target

NASTY = "disk\x1b[2J\x1b]0;pwned\x07 swap\rOK \x9b31m\x07\x08\x00done"


@pytest.fixture
def out(tmp_path):
    return ConsoleOutput(io.StringIO(), tmp_path)


def printed(out: ConsoleOutput) -> str:
    return out.stream.getvalue()


def assert_inert(text: str) -> None:
    controls = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert controls == [], repr(text)
    assert "pwned" not in text  # an escape sequence is dropped whole (here: a window title)


def test_user_text_prints_no_escape_sequence_nor_carriage_return(out):
    card = Card(
        title=f"V-1 {NASTY}",
        fields=[Field("Task", NASTY)],
        body=f"line one\n{NASTY}",
        actions=[Action("visit.approve", f"Approve {NASTY}", "visit approve V-1")],
        subject="V-1",
        state_label=NASTY,
    )
    out.show(Text(NASTY, tone="warning"))
    out.show(card)
    out.show(File("log.csv", "a,b\n", "text/csv", caption=NASTY))
    out.write(NASTY)
    text = printed(out)
    assert_inert(text)
    assert "disk swapOK 31mdone" in text  # the text itself is kept
    assert "│ line one\n" in text  # line breaks of a body stay


def test_notices_and_card_updates_from_the_outbox_print_nothing_live(out):
    sender = ConsoleSender(out)
    card = Card(title=NASTY, subject="V-1", state_label=NASTY)
    bob, channel = Target.person("bob"), Target("channel", "#v")
    sender.send(Outgoing(1, "console", bob, "en", "V-1", Text(NASTY), 1, "c"))
    sender.send(Outgoing(2, "console", channel, "en", NASTY, card, 1, "c", "console:1"))
    assert_inert(printed(out))


@pytest.mark.parametrize(
    ("text", "tone", "shown"),
    [
        ("✅ V-1 is approved", "success", "✅ V-1 is approved"),
        ("⚠ A notice could not be delivered", "warning", "⚠ A notice could not be delivered"),
        ("🚨 F-1 (tier 1): no response", "danger", "🚨 F-1 (tier 1): no response"),
        ("⏰ V-1 overran", "warning", "⏰ V-1 overran"),
        ("V-1 is approved", "success", "✔ V-1 is approved"),
        ("Missing room=", "warning", "⚠ Missing room="),
        ("F-1 closed", "danger", "✖ F-1 closed"),
        ("Hello", "info", "Hello"),
    ],
)
def test_a_text_gets_the_tone_mark_only_without_an_icon_of_its_own(out, text, tone, shown):
    out.show(Text(text, tone=tone))
    assert printed(out) == shown + "\n"


def test_a_card_title_with_its_own_icon_gets_no_second_one(out):
    out.show(Card(title="✅ V-1 approved", tone="success"))
    out.show(Card(title="V-2 approved", tone="success"))
    lines = printed(out).splitlines()
    assert "┌─ ✅ V-1 approved" in lines and "┌─ ✔ V-2 approved" in lines
