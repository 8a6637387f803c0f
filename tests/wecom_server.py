"""The served app with WeCom configured beside Slack, for end-to-end WeCom tests: fixtures and
what people do in WeCom (type a command, click a card button) and read from the fake WeCom.

Module fixtures, for a test module to take (with ``slack_server``'s ``served_url`` and ``fake``):

    served_url, fake = slack_server.served_url, slack_server.fake
    wecom, bot, cb = wecom_server.wecom, wecom_server.bot, wecom_server.cb

``bot`` is ``maintbot serve`` in a subprocess speaking to both fakes.
"""

from __future__ import annotations

import pytest

from tests import slack_server
from tests import wecom_requests as wr
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom
from tests.slack_server import texts


@pytest.fixture(scope="module")
def wecom(served_url):
    with FakeWeCom() as f:
        yield f


def wecom_env(wecom: FakeWeCom) -> dict[str, str]:
    return {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": SECRET,
        "WECOM_TOKEN": wr.TOKEN,
        "WECOM_AES_KEY": wr.AES_KEY,
        "WECOM_API_URL": wecom.base_url,
    }


@pytest.fixture(scope="module")
def bot(request, fake, wecom, served_url, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("serve")
    errors = slack_server.declared_errors(request.node)
    with slack_server.served(
        fake, served_url, workdir, extra_env=wecom_env(wecom), logs_errors=errors
    ) as b:
        yield b


@pytest.fixture
def cb():
    return wr.WeComCallback()


def say(bot, cb, user: str, text: str):
    """``user`` types ``text`` to the app; WeCom gets its empty 200 at once."""
    reply = bot.wecom(cb.text(user, text))
    assert reply.status == 200 and reply.text == "", reply
    assert reply.elapsed < 5  # inside WeCom's wait: the work happens after the answer
    return reply


def content(message: dict) -> str:
    """What a WeCom message shows, as one string (markdown, text, or a card's parts)."""
    if message["msgtype"] in ("markdown", "text"):
        return message[message["msgtype"]]["content"]
    if message["msgtype"] == "template_card":
        return texts(message["template_card"])
    return str(message)


def sent_to(user: str, *words: str, msgtype: str | None = None):
    """A predicate on message/send calls: to ``user``, showing every one of ``words``."""

    def match(call) -> bool:
        body = call.body or {}
        return (
            call.ok
            and user.lower() in str(body.get("touser", "")).lower()
            and (msgtype is None or body.get("msgtype") == msgtype)
            and all(w in content(body) for w in words)
        )

    return match


def wait_message(wecom, user: str, *words: str, msgtype: str | None = None, timeout=10.0):
    """The first message to ``user`` showing every one of ``words``."""
    return wecom.wait_for("message/send", 1, timeout, sent_to(user, *words, msgtype=msgtype))[
        0
    ].body


def card_of(wecom, user: str, ref: str, *words: str) -> dict:
    """The (first) template card ``user`` was sent for ``ref`` (showing ``words``)."""
    body = wait_message(wecom, user, ref, *words, msgtype="template_card")
    return body["template_card"]


def click(bot, wecom, cb, user: str, task_id: str, command: str):
    """``user`` clicks the button whose key is ``command`` on card ``task_id``."""
    event = wecom.click(task_id, user, command)
    request = cb.template_card_event(
        user, event["event_key"], event["task_id"], event["response_code"]
    )
    reply = bot.wecom(request)
    assert reply.status == 200 and reply.text == "", reply
    return request
