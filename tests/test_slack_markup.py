"""User text reaches Slack as text, never as markup: no @channel, @here, mention or link that a
user typed goes live in anything the bot posts. The only live mentions are the bot's own (the
people an escalation pings). Incoming Slack markup is read as plain text.

Also: a click without a usable response_url is answered by DM, and an outbox row with a target
the sender cannot use fails at once, for good.
"""

import json
import logging
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode

import pytest
from slack_sdk import WebClient

from bot.delivery import Deliverer
from bot.slack.blocks import blocks, fallback
from bot.slack.markup import slack_text
from bot.slack.sender import SlackSender
from handlers.clock import FakeClock
from handlers.messages import Card, Field, Text, to_dict
from storage.models import OutboxMessage
from tests import slack_requests as sr
from tests.chat import catalog
from tests.conftest import BACKEND_AGNOSTIC, START
from tests.fake_slack import FakeSlack, dm_channel_id
from tests.slack_server import served_in_process

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
# what Slack sends when the user picks @channel, @here, a person and a link in its composer…
MARKUP = "<!channel> <!here> <@U0ADMIN> & <https://evil.example|click>"
# …and when the user types the same characters literally: Slack escapes &, < and >
TYPED = "&lt;!channel&gt; &lt;!here&gt; &lt;@U0ADMIN&gt; &amp; &lt;https://evil.example|click&gt;"
LITERAL = "<!channel> <!here> <@U0ADMIN> & <https://evil.example|click>"  # what TYPED is
SHOWN = "&lt;!channel&gt; &lt;!here&gt; &lt;@U0ADMIN&gt; &amp; &lt;https://evil.example|click&gt;"
MADE_PLAIN = "@channel @here @U0ADMIN & click"  # what MARKUP is read as
OWN_MENTIONS = {f"<@{CAROL}>"}  # the escalation pings carol, the supervisor on Slack
TAG = re.compile(r"<[^<>]*>")


# ---- reading Slack's markup


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (MARKUP, MADE_PLAIN),
        (TYPED, LITERAL),
        ("<@U0MAINTBOT> visit list", "visit list"),  # the bot, addressed
        ("<@U0MAINTBOT|maintbot> help", "help"),
        ("visit request responsible=<@UCAROL>", "visit request responsible=@UCAROL"),
        ("oncall override primary <@UBOB|bob> to=+1d", "oncall override primary @UBOB to=+1d"),
        ("<!subteam^S0123|@ops> <!subteam^S0456> <!everyone>", "@ops @S0456 @everyone"),
        ("see <#C0123|machine-room> and <#C0456>", "see #machine-room and #C0456"),
        ("<https://example.com/a?b=1&amp;c=2> <mailto:a@b.example|a@b.example>",
         "https://example.com/a?b=1&c=2 a@b.example"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"),
        ("5 &gt; 3 &amp;&amp; &amp;lt; &quot;x&quot; &#39;", '5 > 3 && &lt; &quot;x&quot; &#39;'),
    ],
)  # fmt: skip
def test_slacks_markup_is_read_as_plain_text(sent, read):
    assert slack_text(sent) == read


# ---- rendering


def mrkdwn(value) -> list[str]:
    """Every string of a payload that Slack parses as mrkdwn: a message's ``text`` (and a
    file's ``initial_comment``) and every mrkdwn text object; plain_text objects are not parsed."""
    if isinstance(value, list):
        return [text for item in value for text in mrkdwn(item)]
    if not isinstance(value, dict) or value.get("type") == "plain_text":
        return []
    found = []
    for key, item in value.items():
        if isinstance(item, str):
            found += [item] if key in ("text", "initial_comment") else []
        else:
            found += mrkdwn(item)
    return found


def live(payload) -> set[str]:
    """The markup Slack would act on in a payload: every <…> in its mrkdwn."""
    return {tag for text in mrkdwn(payload) for tag in TAG.findall(text)}


def test_every_mrkdwn_part_of_a_message_is_escaped():
    card = Card(
        title=f"V-1 {LITERAL}",
        fields=[Field(f"Task {LITERAL}", LITERAL)],
        body=LITERAL,
        subject=f"V-1{LITERAL}",
        state_label=LITERAL,
    )
    for message in (Text(LITERAL), Text(LITERAL, tone="danger"), card):
        payload = {"text": fallback(message), "blocks": blocks(message)}
        assert live(payload) == set(), payload
        assert SHOWN in json.dumps(payload, ensure_ascii=False)
    ping = Text(f"🚨 {LITERAL}", tone="danger", mentions=(CAROL,))
    assert live({"text": fallback(ping), "blocks": blocks(ping)}) == OWN_MENTIONS


@pytest.mark.parametrize(
    ("text", "tone", "shown"),
    [
        ("✅ V-1 is approved", "success", "✅ V-1 is approved"),
        ("⚠ A notice could not be delivered", "warning", "⚠ A notice could not be delivered"),
        ("🚨 F-1 (tier 1): no response", "danger", "🚨 F-1 (tier 1): no response"),
        ("⏱ F-1: 10 min left", "warning", "⏱ F-1: 10 min left"),
        ("V-1 is approved", "success", ":white_check_mark: V-1 is approved"),
        ("Missing room=", "warning", ":warning: Missing room="),
        ("F-1 closed", "danger", ":x: F-1 closed"),
    ],
)
def test_a_text_gets_the_tone_emoji_only_without_an_icon_of_its_own(text, tone, shown):
    [section] = blocks(Text(text, tone=tone))
    assert section["text"]["text"] == shown
    [*_, context] = blocks(Card(title="V-1", subject="V-1", state_label=text, tone=tone))
    assert context["elements"][0]["text"] == f"V-1 · {shown}"


# ---- end to end, through the served app and the fake Slack


@pytest.fixture(scope="module")
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def served_clock():
    return FakeClock(START)


@pytest.fixture(scope="module")
def bot(slack, served_clock, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('markup') / 'bot.sqlite3'}"
    with served_in_process(slack, url, clock=served_clock, tick_seconds=0.1) as served:
        yield served


VISIT = 'visit request at="+3d 10:00" duration=2h room=SH1/A101 task="{}" id=passport:1234'


def command(bot, text: str, user: str) -> dict:
    """A slash command; its answer (in the ack, or at its response_url when late)."""
    hook = f"cmd-{uuid.uuid4().hex[:8]}"
    reply = bot.command(text, user, hook=hook)
    assert reply.status == 200, reply.text
    if reply.json and reply.json.get("blocks"):  # not the "working on it" placeholder
        return reply.json
    return bot.fake.wait_for(f"hooks/{hook}")[0].args


def ref_in(answer: dict, kind: str = "V") -> str:
    return re.search(rf"{kind}-\d+", json.dumps(answer, ensure_ascii=False)).group()


def carries(payload) -> bool:
    """The payload shows the user's text (escaped, or read as plain text)."""
    return any(SHOWN in text or MADE_PLAIN in text for text in mrkdwn(payload))


@pytest.mark.slow
def test_no_markup_a_user_typed_goes_live_anywhere(bot, slack, served_clock):
    acks = []
    acks.append(command(bot, VISIT.format(f"{MARKUP} one"), ALICE))
    one = ref_in(acks[-1])
    acks.append(command(bot, VISIT.format(f"{TYPED} two"), ALICE))
    two = ref_in(acks[-1])
    assert bot.visit(one).task == f"{MADE_PLAIN} one"  # markup is read as the text it shows
    assert bot.visit(two).task == f"{LITERAL} two"  # what was typed is kept as typed
    # a card update and a click's answer at its response URL
    channel, ts = bot.card(two)
    bot.click(BOB, channel, ts, "visit.approve", f"approve-{two}")
    bot.wait_state(two, "reviewed")
    acks.append(command(bot, f"visit show {two}", BOB))
    # a fault by each form; its card, a refresh at a response URL, then the escalation
    acks.append(command(bot, f"fault declare 1 {MARKUP}", ALICE))
    acks.append(command(bot, f"fault declare 1 {TYPED}", ALICE))
    fault = ref_in(acks[-1], "F")
    [card] = bot.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.ok and c.args["channel"] == "CFAULTS" and fault in c.args["text"],
    )
    bot.click(BOB, "CFAULTS", card.response["ts"], "fault.refresh", f"refresh-{fault}")
    slack.wait_for(f"hooks/refresh-{fault}")
    served_clock.advance(
        timedelta(minutes=11)
    )  # no response: level 1 is empty, level 2 pings carol
    slack.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.args["channel"] == "CFAULTS" and f"fault ack {fault}" in c.args["text"]
        ),
    )
    bot.post(sr.event(sr.app_home_opened(ALICE)))
    slack.wait_for("views.publish")
    bot.settle()

    received = [(c.method, c.args) for c in slack.calls()] + [("ack", a) for a in acks]
    leaks = [(method, tag) for method, args in received for tag in live(args) - OWN_MENTIONS]
    assert leaks == []
    # and the scan saw the user's text on every way out
    ways = {
        "channel post": lambda m, a: m == "chat.postMessage" and a["channel"] == "CVISITS",
        "admin's DM": lambda m, a: m == "chat.postMessage" and a["channel"] == dm_channel_id(BOB),
        "card update": lambda m, a: m == "chat.update",
        "response URL": lambda m, a: m.startswith("hooks/"),
        "slash command ack": lambda m, a: m == "ack",
        "escalation ping": lambda m, a: m == "chat.postMessage" and f"<@{CAROL}>" in a["text"],
        "escalation DM": lambda m, a: (
            m == "chat.postMessage" and a["channel"] == dm_channel_id(CAROL)
        ),
        "App Home": lambda m, a: m == "views.publish",
    }
    unseen = [
        way for way, seen in ways.items() if not any(seen(m, a) and carries(a) for m, a in received)
    ]
    assert unseen == []
    [ping] = [
        a
        for m, a in received
        if m == "chat.postMessage" and f"<@{CAROL}>" in a["text"] and fault in a["text"]
    ]
    # the bot's own mention is live, and no tone emoji stands before the text's own 🚨
    assert ping["blocks"][0]["text"]["text"].startswith(f"<@{CAROL}> 🚨")


# ---- where an answer goes when it has nowhere to go


def without_response_url(request: tuple[bytes, dict], value: str | None) -> tuple[bytes, dict]:
    """The click ``request`` with no response_url (None) or with ``value`` as its response_url."""
    payload = json.loads(parse_qs(request[0].decode())["payload"][0])
    del payload["response_url"]
    if value is not None:
        payload["response_url"] = value
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return body, {"Content-Type": sr.FORM, **sr.sign(body)}


@pytest.mark.slow
@pytest.mark.parametrize("response_url", [None, "", "javascript:alert(1)"])
def test_a_click_without_a_usable_response_url_is_answered_by_dm(bot, slack, response_url):
    ref = ref_in(command(bot, VISIT.format(f"fan {uuid.uuid4().hex[:6]}"), ALICE))
    channel, ts = bot.card(ref)
    click = bot.click_request(BOB, channel, ts, "visit.approve", f"unused-{ref}")
    assert bot.post(without_response_url(click, response_url)).status == 200
    bot.wait_state(ref, "reviewed")
    slack.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.ok
            and c.args["channel"] == dm_channel_id(BOB)
            and catalog("visit.done_review", ref=ref) in c.args["text"]
        ),
    )
    bot.settle()  # nothing left retrying
    answers = [r for r in bot.outbox() if r.target_kind in ("response", "replace")]
    assert [r.target for r in answers if not r.target.partition(" ")[2]] == []


@pytest.mark.logs_errors("bot.delivery")
@BACKEND_AGNOSTIC
@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("response", "CMAINT "),
        ("response", "CMAINT not a url"),
        ("response", "CMAINT ftp://files.example/x"),
        ("replace", "CMAINT https://"),
        ("replace", "CMAINT http://[::1"),
        ("thread", "CGENERAL:"),
        ("thread", ":1700000000.000100"),
        ("person", ""),
    ],
)
def test_a_target_the_sender_cannot_use_fails_for_good_at_once(
    db, clock, slack, caplog, kind, target
):
    sender = SlackSender(WebClient(token=slack.token, base_url=slack.base_url, timeout=5))
    deliverer = Deliverer(db, clock, {"slack": sender})
    with db.unit_of_work() as session:
        row = OutboxMessage(
            created_at=clock.now(), platform="slack", target_kind=kind, target=target,
            locale="en", subject=None, kind="text", payload=to_dict(Text("the answer")),
            status="pending", attempts=0, next_attempt_at=clock.now(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        ident = row.id
    before = len(slack.calls())
    caplog.set_level(logging.INFO)
    assert deliverer.run_once() == 1
    with db.unit_of_work() as session:
        row = session.get(OutboxMessage, ident)
        assert (row.status, row.attempts) == ("failed", 1), row.last_error
        assert "malformed" in row.last_error
    assert len(slack.calls()) == before  # nothing was sent anywhere
    [logged] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged.exc_info is None and "failed" in logged.getMessage()  # one line, no traceback
