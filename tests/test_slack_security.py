"""Slack requests the served app must refuse: bad signatures (401, nothing changes) and malformed
bodies (a 4xx or a polite answer; never a 500, never a stack trace).

The server is `maintbot serve` for real, one per module (see tests/slack_server.py).
"""

import json
import time
import uuid
from urllib.parse import urlencode

import pytest

from tests import slack_requests as sr
from tests import slack_server
from tests.chat import catalog

# The adapter's behaviour does not depend on the backend: test_slack_delivery runs there.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

bot, fake, served_url = slack_server.bot, slack_server.fake, slack_server.served_url
ALICE, BOB = "UALICE", "UBOB"
FORM, JSON = sr.FORM, "application/json"


@pytest.fixture(scope="module")
def visit(bot) -> str:
    """A requested visit that bad requests try to change."""
    text = (
        'visit request at="+3d 10:00" duration=2h room=SH1/A101 task="Security target" '
        "id=passport:1234"
    )
    assert bot.command(text, ALICE).status == 200
    return bot.visit_by_task("Security target")  # the ack may say "working on it" when busy


def signed(body: bytes | str, content_type: str = FORM, **kw) -> tuple[bytes, dict]:
    raw = body.encode() if isinstance(body, str) else body
    return raw, {"Content-Type": content_type, **sr.sign(raw, **kw)}


def interactive(payload) -> tuple[bytes, dict]:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return signed(urlencode({"payload": text}))


def no_trace(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text and "Error:" not in text


# ---- signatures


def _wrong_secret(body, headers):
    return body, headers | sr.sign(body, secret="not-the-secret")


def _stale(body, headers):
    return body, headers | sr.sign(body, timestamp=int(time.time()) - 301)


def _future(body, headers):
    return body, headers | sr.sign(body, timestamp=int(time.time()) + 301)


def _no_signature(body, headers):
    return body, {k: v for k, v in headers.items() if k != "X-Slack-Signature"}


def _no_timestamp(body, headers):
    return body, {k: v for k, v in headers.items() if k != "X-Slack-Request-Timestamp"}


def _no_headers(body, headers):
    return body, {"Content-Type": headers["Content-Type"]}


def _tampered(body, headers):
    return body.replace(b"approve", b"reject") + b" ", headers


def _other_scheme(body, headers):
    return body, headers | {"X-Slack-Signature": headers["X-Slack-Signature"].replace("v0=", "v1=")}


def _text_timestamp(body, headers):
    return body, headers | {"X-Slack-Request-Timestamp": "yesterday"}


def _replayed_old_signature(body, headers):
    """The signature of an old request, replayed with a fresh timestamp header."""
    old = sr.sign(body, timestamp=int(time.time()) - 3600)
    return body, headers | {"X-Slack-Signature": old["X-Slack-Signature"]}


CORRUPTIONS = [
    _wrong_secret,
    _stale,
    _future,
    _no_signature,
    _no_timestamp,
    _no_headers,
    _tampered,
    _other_scheme,
    _text_timestamp,
    _replayed_old_signature,
]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__.strip("_"))
def test_a_bad_signature_gets_401_and_changes_nothing(bot, fake, visit, corrupt):
    channel, ts = bot.card(visit)
    hook = f"sig-{uuid.uuid4().hex[:8]}"
    mention = sr.app_mention(f"visit approve {visit}", BOB, "CGENERAL")
    requests = {
        "command": sr.slash_command(
            f"visit approve {visit}", BOB, "CMAINT", response_url=fake.response_url(hook)
        ),
        "click": bot.click_request(BOB, channel, ts, "visit.approve", hook),
        "event": sr.event(mention),
        "garbage": signed("payload=%7Bnot+json"),  # unsigned garbage is refused before parsing
    }
    for kind, request in requests.items():
        reply = bot.post(corrupt(*request))
        assert reply.status == 401, (kind, reply.status, reply.text)
        assert no_trace(reply.text)
    bot.settle()
    assert bot.state(visit) == "requested"
    assert [a.action for a in bot.audit(visit)] == ["visit.request"]
    assert fake.calls(f"hooks/{hook}") == []
    assert not [c for c in fake.calls() if c.args.get("thread_ts") == mention["ts"]]


def test_the_same_requests_signed_properly_are_accepted(bot, visit):
    # the control for the test above: the bodies themselves are fine
    reply = bot.command(f"visit show {visit}", BOB)
    assert reply.status == 200 and slack_server.mentions(reply.json["text"], visit)


# ---- malformed bodies


def _actions(**fields):
    return {"type": "block_actions", "user": {"id": BOB}, "trigger_id": "t1", **fields}


def _view(view, user=ALICE):
    return {"type": "view_submission", "user": {"id": user}, "view": view}


MALFORMED = {
    "payload is not JSON": signed("payload=%7Bnot+json"),
    "payload is a JSON list": interactive([1, 2]),
    "payload is a JSON string": interactive('"block_actions"'),
    "payload without a type": interactive({}),
    "block_actions without actions": interactive(_actions()),
    "block_actions with no action": interactive(_actions(actions=[])),
    "block_actions action is not an object": interactive(_actions(actions=["x"])),
    "block_actions without a user": interactive(
        {"type": "block_actions", "actions": [{"action_id": "visit.approve", "value": "{}"}]}
    ),
    "block_actions user is a string": interactive(
        _actions(user="UBOB", actions=[{"action_id": "visit.approve", "value": "{}"}])
    ),
    "view_submission without view.type": interactive(
        _view({"callback_id": "form", "state": {"values": {}}})
    ),
    "view_submission view is a string": interactive(_view("modal")),
    "view_submission state values garbage": interactive(
        _view(
            {
                "type": "modal",
                "callback_id": "form",
                "private_metadata": json.dumps({"command": "visit request"}),
                "state": {"values": {"at": "not an object"}},
            }
        )
    ),
    "view_submission prompt state garbage": interactive(
        _view(
            {
                "type": "modal",
                "callback_id": "prompt",
                "private_metadata": json.dumps({"command": "visit show V-1"}),
                "state": {"values": {"answer": ["x"]}},
            }
        )
    ),
    "view_submission metadata not JSON": interactive(
        _view({"type": "modal", "callback_id": "prompt", "private_metadata": "{oops"})
    ),
    "view_submission metadata a list": interactive(
        _view({"type": "modal", "callback_id": "form", "private_metadata": "[1]"})
    ),
    "view_submission unknown callback": interactive(
        _view({"type": "modal", "callback_id": "nope", "state": {"values": {}}})
    ),
    "view_submission without a user": interactive(
        {"type": "view_submission", "view": {"type": "modal", "callback_id": "form"}}
    ),
    "shortcut nobody handles": interactive({"type": "shortcut", "callback_id": "x"}),
    "event_callback without event": signed(
        json.dumps({"type": "event_callback", "event_id": "EvNOEVENT"}), JSON
    ),
    "event_callback event is a string": signed(
        json.dumps({"type": "event_callback", "event_id": "EvSTRING", "event": "x"}), JSON
    ),
    "event of an unknown type": sr.event({"type": "reaction_added", "user": ALICE}),
    "JSON body not JSON": signed("{not json", JSON),
    "JSON body a list": signed("[1, 2]", JSON),
    "JSON body a number": signed("42", JSON),
    "garbage form data": signed(b"\x00\x01=&&==%%zz%ZZ&payload"),
    "not UTF-8": signed(b"text=\xff\xfe\xfd"),
    "empty body": signed(b""),
    "slash command without fields": signed("command=%2Fmaint"),
    "slash command of another app": signed(
        urlencode({"command": "/other", "text": "help", "user_id": ALICE})
    ),
    "huge body": signed(b"text=" + b"a" * 2_000_000),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_body_gets_a_4xx_or_a_polite_answer_never_a_500(bot, name):
    logged = len(bot.log())
    reply = bot.post(MALFORMED[name])
    assert 200 <= reply.status < 500, (reply.status, reply.text)
    assert no_trace(reply.text), reply.text
    if reply.status == 200 and reply.text:
        answer = reply.json
        assert isinstance(answer, dict), reply.text
        assert answer.get("response_action") in (None, "clear", "errors"), answer
    if name == "huge body":
        assert reply.status == 413
    assert "Exception in ASGI application" not in bot.log()[logged:]
    assert bot.get("/healthz").status == 200


def test_a_button_value_that_is_not_ours_gets_a_polite_message(bot, fake, visit):
    hooks = {}
    for value in ["not json", '{"x": 1}', "[1, 2]", "", "null", '{"c": 42}']:
        hook = f"value-{uuid.uuid4().hex[:8]}"
        request = sr.block_actions(
            BOB,
            "visit.approve",
            value,
            channel_id="CVISITS",
            message_ts="1.000001",
            response_url=fake.response_url(hook),
        )
        reply = bot.post(request)
        assert reply.status == 200 and reply.elapsed < 3
        hooks[hook] = value
    for hook, value in hooks.items():
        [answer] = fake.wait_for(f"hooks/{hook}")
        assert answer.args["text"] == catalog("slack.bad_action"), value
    assert bot.state(visit) == "requested"


def test_an_unknown_action_is_answered_politely(bot, fake, visit):
    hook = f"unknown-{uuid.uuid4().hex[:6]}"
    value = json.dumps({"c": f"visit frobnicate {visit}", "p": None})
    request = sr.block_actions(
        BOB,
        "visit.frobnicate",
        value,
        channel_id="CVISITS",
        message_ts="1.000002",
        response_url=fake.response_url(hook),
    )
    assert bot.post(request).status == 200
    [answer] = fake.wait_for(f"hooks/{hook}")
    assert 'visit has no "frobnicate"' in answer.args["text"]
    assert bot.state(visit) == "requested"


def test_a_form_submitted_for_an_unknown_command_just_closes(bot):
    view = {
        "type": "modal",
        "callback_id": "form",
        "private_metadata": json.dumps({"command": "visit teleport"}),
        "state": {"values": {}},
    }
    reply = bot.post(interactive(_view(view)))
    assert reply.status == 200 and reply.json == {"response_action": "clear"}
