"""User text reaches WeCom as text, never as markdown: no mention, <font> tag or link that a user
typed is live in any markdown the bot sends (app messages, group chats, group robots). A robot's
markdown @-mentions the people the bot itself means to ping."""

import re

import pytest
import yaml

from bot.delivery import Outgoing
from bot.wecom import render
from bot.wecom.client import WeComClient
from bot.wecom.codes import ResponseCodes
from bot.wecom.sender import WeComSender
from handlers.messages import Card, Field, File, Text
from handlers.targets import Target
from tests import slack_server
from tests import wecom_requests as wr
from tests.conftest import BACKEND_AGNOSTIC, ORG_FILE
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, WEBHOOK_KEY, FakeWeCom
from tests.test_wecom_e2e import say, wecom_env

served_url = slack_server.served_url  # a module fixture: the served database

NASTY = "<@amy.w> <font color=warning>live</font> [click](https://evil.example)"
INERT = "＜@amy.w＞ ＜font color=warning＞live＜/font＞ ［click］(https://evil.example)"
OWN_FONT = re.compile(r'<font color="(warning|info|comment)">')
ZHANG_W = "ZhangWei"


def leaks(content: str) -> list[str]:
    """Live markdown in ``content`` that the renderer did not make itself."""
    found = re.findall(r"<@[^>]*>|\[[^\]]*\]\([^)]*\)", content)
    found += [tag for tag in re.findall(r"</?font[^>]*>", content) if tag != "</font>"]
    return [tag for tag in found if not OWN_FONT.fullmatch(tag)]


def test_markdown_shows_user_text_as_it_is_typed():
    card = Card(
        title=f"V-1 {NASTY}",
        fields=[Field("Task", NASTY)],
        body=NASTY,
        subject="V-1",
        state_label=NASTY,
    )
    messages = [Text(NASTY), Text(NASTY, tone="danger"), card, File("x.csv", NASTY, caption=NASTY)]
    for message in messages:
        content = render.markdown(message, "Reply with:")
        assert leaks(content) == [], content
        assert INERT in content
    # the renderer's own markup stays live
    assert render.markdown(Text("x", tone="warning"), "") == '<font color="warning">x</font>'
    assert render.markdown(card, "").startswith(f"**V-1 {INERT}**\n> Task: {INERT}")


@pytest.fixture
def wecom():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def sender(wecom, db, clock, chat):
    client = WeComClient(CORP_ID, SECRET, api_base_url=wecom.base_url, timeout=5)
    return WeComSender(client, AGENT_ID, ResponseCodes(db, clock), chat.core.i18n)


@BACKEND_AGNOSTIC
def test_a_robot_mentions_whom_the_bot_pings_and_nobody_a_user_named(wecom, sender):
    ping = Text(f"🚨 F-1 {NASTY}", tone="danger", mentions=("dan.w", "amy.w"))
    for n, (kind, target) in enumerate(
        [("channel", f"webhook:{WEBHOOK_KEY}"), ("channel", "wrfaults"), ("person", "amy.w")]
    ):
        sender.send(Outgoing(n, "wecom", Target(kind, target), "en", "F-1", ping, 1, "claim"))
    [robot] = wecom.robot_messages(WEBHOOK_KEY)
    content = robot["markdown"]["content"]
    assert content.startswith('<@dan.w> <@amy.w> <font color="warning">🚨 F-1 ')
    assert INERT in content
    for message in (wecom.chat_messages("wrfaults")[-1], wecom.messages("amy.w")[-1]):
        assert "<@" not in message["markdown"]["content"]  # only a robot's markdown mentions


# ---- end to end: `maintbot serve` with Slack and WeCom; faults go to a group robot


@pytest.fixture(scope="module")
def wecom_fake(served_url):
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(served_url, wecom_fake, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("serve")
    org = yaml.safe_load(ORG_FILE.read_text("utf-8"))
    org["channels"]["faults"] = {"slack": "CFAULTS", "wecom_webhook": WEBHOOK_KEY}
    (workdir / "org.yaml").write_text(yaml.safe_dump(org, allow_unicode=True), "utf-8")
    env = wecom_env(wecom_fake) | {"MAINTBOT_CONFIG": str(workdir / "org.yaml")}
    with (
        slack_server.FakeSlack() as slack,
        slack_server.served(slack, served_url, workdir, extra_env=env) as served,
    ):
        yield served


def markdown_sent(wecom) -> list[tuple[str, str]]:
    """(path, content) of every markdown message WeCom accepted."""
    return [
        (c.path, c.body["markdown"]["content"])
        for c in wecom.calls()
        if c.ok and isinstance(c.body, dict) and c.body.get("msgtype") == "markdown"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)
def test_no_markdown_a_user_typed_goes_live_in_wecom(bot, wecom_fake):
    cb = wr.WeComCallback()
    visit = (
        f'visit request at="+3d 10:00" duration=1h room=SH1/A101 task="{NASTY}" id=passport:1234'
    )
    say(bot, cb, ZHANG_W, visit)
    say(bot, cb, ZHANG_W, f'故障 申报 一级 title="{NASTY}"')
    ref = bot.visit_by_task(NASTY)
    say(bot, cb, "amy.w", f'visit reject {ref} reason="{NASTY}"')  # zhang is told why

    def carrying(shown: str) -> set[str]:
        return {path for path, content in markdown_sent(wecom_fake) if shown in content}

    ways = {"message/send", "appchat/send", "webhook/send"}  # person, group chat, group robot
    slack_server.wait_until(lambda: carrying(NASTY) | carrying(INERT) >= ways, 15, "every way")
    bot.settle()
    assert [(p, leak) for p, content in markdown_sent(wecom_fake) for leak in leaks(content)] == []
    assert carrying(INERT) == ways
