"""What Slack SENDS to the bot, signed as Slack signs it.

Every builder returns ``(body: bytes, headers: dict)``, ready for a test client or
``BoltRequest(body=body.decode(), headers=headers)``:

    body, headers = slash_command("visit list", "U1", "C1", response_url=fake.response_url("r1"))
    body, headers = event(app_mention("help", user="U1", channel="C1"))
    headers |= retry_headers(1)  # the same event, re-sent by Slack

Signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` with the signing secret, in
``X-Slack-Signature``, the timestamp in ``X-Slack-Request-Timestamp``. Slash commands and
interactivity are form-encoded (interactivity as one field ``payload`` holding JSON); events and
url_verification are JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from tests.fake_slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, dm_channel_id

SIGNING_SECRET = "test-signing-secret"
VERIFICATION_TOKEN = "legacy-verification-token"  # the deprecated ``token`` field Slack still sends
FORM = "application/x-www-form-urlencoded"
_seq = itertools.count(1)

Request = tuple[bytes, dict[str, str]]


def sign(body: bytes | str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    """The two signature headers Slack adds to a request with this raw ``body``."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def retry_headers(num: int, reason: str = "http_timeout") -> dict:
    """Headers of an Events API retry (num 1..3; reasons http_timeout, http_error, ...)."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


def _request(body: bytes, content_type: str, secret: str, timestamp: int | None) -> Request:
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return body, headers | sign(body, secret, timestamp)


def _trigger_id() -> str:
    return f"{int(time.time() * 1000)}.{next(_seq)}.{uuid.uuid4().hex}"


def _response_url() -> str:
    return f"https://hooks.slack.com/actions/{TEAM_ID}/{next(_seq)}/{uuid.uuid4().hex[:24]}"


def _interactive(payload: dict, secret: str, timestamp: int | None) -> Request:
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
    return _request(body, FORM, secret, timestamp)


def _json(payload: dict, secret: str, timestamp: int | None) -> Request:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _request(body, "application/json", secret, timestamp)


def _user(user_id: str) -> dict:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def slash_command(
    text: str,
    user_id: str,
    channel_id: str,
    *,
    command: str = "/maint",
    trigger_id: str | None = None,
    response_url: str | None = None,
    channel_name: str = "maintenance",
    user_name: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Request:
    fields = {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else channel_name,
        "user_id": user_id, "user_name": user_name or user_id.lower(), "command": command,
        "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url or _response_url().replace("/actions/", "/commands/"),
        "trigger_id": trigger_id or _trigger_id(),
    }  # fmt: skip
    return _request(urlencode(fields).encode(), FORM, secret, timestamp)


def block_actions(
    user_id: str,
    action_id: str,
    value: str,
    *,
    channel_id: str,
    message_ts: str,
    block_id: str = "actions",
    trigger_id: str | None = None,
    response_url: str | None = None,
    message: dict | None = None,
    is_ephemeral: bool = False,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Request:
    """A button click. ``message`` is the message as Slack shows it (e.g. ``fake.message(...)``);
    an ephemeral message is not sent back, as with Slack."""
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _user(user_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                      "is_ephemeral": is_ephemeral},
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN}, "enterprise": None,
        "is_enterprise_install": False, "channel": {"id": channel_id, "name": "maintenance"},
        "state": {"values": {}}, "response_url": response_url or _response_url(),
        "actions": [{"action_id": action_id, "block_id": block_id, "value": value,
                     "type": "button", "action_ts": f"{time.time():.6f}",
                     "text": {"type": "plain_text", "text": value, "emoji": True}}],
    }  # fmt: skip
    if not is_ephemeral:
        payload["message"] = message or {
            "type": "message", "ts": message_ts, "user": BOT_USER_ID, "bot_id": BOT_ID,
            "app_id": APP_ID, "team": TEAM_ID, "text": "", "blocks": [],
        }  # fmt: skip
    return _interactive(payload, secret, timestamp)


def view_submission(
    user_id: str,
    callback_id: str,
    values: dict,
    *,
    private_metadata: str = "",
    view_id: str | None = None,
    trigger_id: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Request:
    """A modal submitted. ``values`` is ``state.values``: ``{block_id: {action_id: element}}``;
    a plain string element stands for ``{"type": "plain_text_input", "value": s}``."""
    state = {
        block: {
            action: {"type": "plain_text_input", "value": el} if isinstance(el, str) else el
            for action, el in actions.items()
        }
        for block, actions in values.items()
    }
    vid = view_id or f"V0{next(_seq):08X}"
    payload = {
        "type": "view_submission", "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user_id), "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_id(),
        "view": {"id": vid, "team_id": TEAM_ID, "type": "modal", "blocks": [],
                 "private_metadata": private_metadata, "callback_id": callback_id,
                 "state": {"values": state}, "hash": f"{time.time():.6f}.abc",
                 "title": {"type": "plain_text", "text": "Maintenance"},
                 "clear_on_close": False, "notify_on_close": False, "close": None,
                 "submit": {"type": "plain_text", "text": "Submit"}, "previous_view_id": None,
                 "root_view_id": vid, "app_id": APP_ID, "external_id": "",
                 "app_installed_team_id": TEAM_ID, "bot_id": BOT_ID},
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }  # fmt: skip
    return _interactive(payload, secret, timestamp)


def event(
    event: dict,
    *,
    event_id: str | None = None,
    event_time: int | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Request:
    """An Events API ``event_callback`` envelope around ``event`` (see app_mention & co.)."""
    envelope = {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": event_id or f"Ev0{next(_seq):08X}",
        "event_time": event_time or int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-{uuid.uuid4().hex}",
    }  # fmt: skip
    return _json(envelope, secret, timestamp)


def _ts(ts: str | None) -> str:
    return ts or f"{time.time():.6f}"


def app_mention(
    text: str, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
) -> dict:
    """An ``app_mention`` event; the ``<@BOT>`` mention is put in front of ``text`` if missing,
    since Slack only sends this event for messages that mention the bot."""
    mention = f"<@{BOT_USER_ID}>"
    text = text if mention in text else f"{mention} {text}"
    ts = _ts(ts)
    body = {
        "type": "app_mention", "user": user, "text": text,
        "ts": ts, "channel": channel, "event_ts": ts, "team": TEAM_ID,
        "client_msg_id": str(uuid.uuid4()),
    }  # fmt: skip
    return body | ({"thread_ts": thread_ts} if thread_ts else {})


def message_im(
    text: str,
    user: str,
    channel: str | None = None,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict:
    """A ``message`` event in the bot's DM with ``user`` (``channel_type: im``)."""
    ts = _ts(ts)
    body = {
        "type": "message", "channel": channel or dm_channel_id(user), "user": user, "text": text,
        "ts": ts, "event_ts": ts, "channel_type": "im", "team": TEAM_ID,
        "client_msg_id": str(uuid.uuid4()),
    }  # fmt: skip
    return body | ({"thread_ts": thread_ts} if thread_ts else {})


def file_share(
    files: list[dict], user: str, channel: str, *, thread_ts: str | None = None,
    text: str = "", channel_type: str = "channel",
) -> dict:  # fmt: skip
    """A ``message`` event of subtype ``file_share``: ``files`` shared by ``user`` (objects
    from ``FakeSlack.share``), in ``thread_ts``'s thread when given."""
    ts = _ts(None)
    body = {
        "type": "message", "subtype": "file_share", "text": text, "files": files,
        "upload": False, "user": user, "display_as_bot": False, "ts": ts, "event_ts": ts,
        "channel": channel, "channel_type": channel_type, "team": TEAM_ID,
        "client_msg_id": str(uuid.uuid4()),
    }  # fmt: skip
    return body | ({"thread_ts": thread_ts, "parent_user_id": BOT_USER_ID} if thread_ts else {})


def app_home_opened(user: str, *, tab: str = "home", view: dict | None = None) -> dict:
    body = {"type": "app_home_opened", "user": user, "channel": dm_channel_id(user), "tab": tab,
            "event_ts": _ts(None)}  # fmt: skip
    return body | ({"view": view} if view else {})


def url_verification(
    challenge: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> Request:
    """The handshake Slack sends when the Events request URL is saved; answer the challenge."""
    payload = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return _json(payload, secret, timestamp)
