"""``maintbot serve --socket-mode``: Slack's requests arrive over the Socket Mode WebSocket.

The fake Web API hands out the fake socket's address from ``apps.connections.open`` (called with
the app-level token); envelopes carry the same payloads as the HTTP requests and are
acknowledged on the socket, with the answer in the acknowledgement as over HTTP.
"""

import json
import re
from urllib.parse import parse_qs, parse_qsl

import pytest

from tests import slack_requests as sr
from tests import slack_server
from tests.fake_slack import APP_TOKEN, FakeSlack, dm_channel_id
from tests.fake_socket_mode import SocketModeLink
from tests.slack_server import texts, wait_until

ALICE, BOB = "UALICE", "UBOB"


@pytest.fixture
def fake():
    with FakeSlack() as f:
        yield f


@pytest.fixture
def link(fake):
    link = SocketModeLink()
    fake.socket_url = link.url
    yield link
    link.close()


@pytest.fixture
def bot(fake, link, tmp_path):
    env = {"SLACK_APP_TOKEN": APP_TOKEN}
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    with slack_server.served(fake, url, tmp_path, extra_env=env, args=("--socket-mode",)) as b:
        link.wait_connected()
        yield b


def command(link, text: str, user: str, channel: str = "CMAINT") -> dict:
    """``/maint text`` as a Socket Mode envelope; the payload of its acknowledgement."""
    body, _headers = sr.slash_command(text, user, channel)
    return link.ack(link.send("slash_commands", dict(parse_qsl(body.decode())))).get("payload")


def test_socket_mode_connects_with_the_app_token_and_leaves_http_to_the_rest(bot, fake, link):
    [opened] = fake.calls("apps.connections.open")
    assert opened.ok and opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
    assert link.connections == 1
    assert bot.get("/healthz").status == 200
    assert bot.command("help", ALICE).status == 404  # Slack comes over the socket only


def test_commands_clicks_and_mentions_over_the_socket(bot, fake, link):
    answer = command(link, "help", ALICE)
    assert answer["response_type"] == "ephemeral" and "visit request" in texts(answer["blocks"])
    filed = command(
        link,
        'visit request at="+3d 10:00" duration=2h room=SH1/A101 task="Socket swap" '
        "id=passport:1234 tools=laptop",
        ALICE,
    )
    ref = re.search(r"V-\d+", filed["text"]).group()
    channel, ts = bot.card(ref)
    # Bob clicks Approve on the channel card: the same interactive payload as over HTTP
    body, _headers = bot.click_request(BOB, channel, ts, "visit.approve", f"approve-{ref}")
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    clicked = link.send("interactive", payload)
    assert not link.ack(clicked).get("payload")  # a click is acknowledged empty; work follows
    bot.wait_state(ref, "reviewed")
    fake.wait_for("chat.update", 1, 10, lambda c: c.ok and c.args["ts"] == ts)
    fake.wait_for(  # the requester is told in a DM
        "chat.postMessage",
        1,
        10,
        lambda c: c.args.get("channel") == dm_channel_id(ALICE) and ref in c.args["text"],
    )
    # a mention in a channel is answered in its thread; Slack's redelivery is not run twice
    mention = sr.app_mention("whoami", ALICE, "CGENERAL")
    envelope, _headers = sr.event(mention)
    event = json.loads(envelope)
    link.ack(link.send("events_api", event))
    link.ack(link.send("events_api", event, retry_attempt=1))
    in_thread = fake.wait_for(
        "chat.postMessage", 1, 10, lambda c: c.args.get("thread_ts") == mention["ts"]
    )
    bot.settle()
    assert (
        len(in_thread)
        == 1
        == len(
            [c for c in fake.calls("chat.postMessage") if c.args.get("thread_ts") == mention["ts"]]
        )
    )


def test_the_app_reconnects_when_slack_drops_the_socket(bot, fake, link):
    link.drop()  # Slack refreshes its sockets every few hours
    wait_until(lambda: link.connections == 2, 30, "a new connection")
    assert len(fake.calls("apps.connections.open")) == 2  # a fresh URL for the new socket
    assert "visit request" in texts(command(link, "help", ALICE)["blocks"])
