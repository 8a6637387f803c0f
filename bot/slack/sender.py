"""Delivers outbox rows to Slack's Web API and maps Slack's failures onto retry decisions.

Targets (``handlers.targets``): a person (a Slack user id; the DM is opened with
conversations.open), a channel (a channel id), a thread (a channel and its message's ts), a
reply hook (a channel and the interaction's response_url: ephemeral, or replacing the ephemeral
message that was clicked). An update rewrites ``channel:ts`` with chat.update. A target that
cannot be used (a hook without an http(s) URL, a thread without its message) fails permanently
at once.
"""

import json
import logging
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.delivery import DeliveryError, Outgoing
from bot.slack.blocks import blocks, escape, fallback
from handlers.messages import File
from handlers.platforms import Platform
from handlers.targets import PERSON, REPLACE, REPLY_HOOKS, THREAD, Target

log = logging.getLogger(__name__)

# Slack error codes worth another try; every other error code is permanent.
TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
             "request_timeout", "team_added_to_org"}  # fmt: skip


class SlackSender:
    # chat.update rewrites a card at will, about 50 times a minute (Tier 3): a countdown round
    # repaints at most 40 cards a minute, leaving room for the cards that change
    platform = Platform("slack", edits_at_will=True, repaints_per_minute=40, threads=True)

    def __init__(self, client: WebClient, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout
        self._dm: dict[str, str] = {}
        self._lock = threading.Lock()

    def send(self, item: Outgoing) -> str | None:
        try:
            return self._send(item)
        except SlackApiError as err:
            raise _classify(err) from None
        except (SlackRequestError, OSError) as err:  # timeouts, refused connections
            raise DeliveryError(f"{err.__class__.__name__}: {err}") from None

    def _send(self, item: Outgoing) -> str | None:
        to, message = item.to, item.message
        if problem := malformed(to):  # it would fail the same way on every attempt
            raise DeliveryError(f"malformed {to.kind} target: {problem}", permanent=True)
        if to.kind in REPLY_HOOKS:
            if not isinstance(message, File):
                return self._respond(to.ref, message, replace=to.kind == REPLACE)
            return self._upload(to.address, message)
        channel = self._open_dm(to.address) if to.kind == PERSON else to.address
        thread_ts = to.ref if to.kind == THREAD else None
        if isinstance(message, File):
            return self._upload(channel, message, thread_ts)
        payload = {"text": fallback(message), "blocks": blocks(message)}
        if item.replaces:
            channel, _, ts = item.replaces.partition(":")
            self.client.chat_update(channel=channel, ts=ts, **payload)
            return item.replaces
        answer = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)
        return f"{answer['channel']}:{answer['ts']}"

    def _open_dm(self, user: str) -> str:
        with self._lock:
            if user in self._dm:
                return self._dm[user]
        channel = self.client.conversations_open(users=user)["channel"]["id"]
        with self._lock:
            self._dm[user] = channel
        return channel

    def _upload(self, channel: str, file: File, thread_ts: str | None = None) -> str | None:
        answer = self.client.files_upload_v2(
            channel=channel,
            filename=file.name,
            content=file.data,  # bytes: a PDF as it is, a text as UTF-8
            title=file.name,
            initial_comment=escape(file.caption) or None,
            thread_ts=thread_ts,
        )
        uploaded = answer.get("files") or [answer.get("file") or {}]
        return f"file:{uploaded[0].get('id', '')}"

    def _respond(self, url: str, message, *, replace: bool = False) -> str | None:
        body = {
            "response_type": "ephemeral",
            "replace_original": replace,
            "text": fallback(message),
            "blocks": blocks(message),
        }
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            request = urllib.request.Request(
                url,
                data=data,
                headers={"Content-Type": "application/json; charset=utf-8"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except ValueError as err:  # a URL urllib cannot use (http.client.InvalidURL too)
            raise DeliveryError(f"response_url: {err}", permanent=True) from None
        except urllib.error.HTTPError as err:
            if err.code == 429 or err.code >= 500:
                raise DeliveryError(
                    f"response_url HTTP {err.code}", retry_after=_after(err)
                ) from None
            # 404 and 410: the response URL expired (30 minutes, five uses) — it will not work again
            raise DeliveryError(f"response_url HTTP {err.code}", permanent=True) from None
        return None


def malformed(to: Target) -> str | None:
    """What makes a target unusable (no response URL, a thread without its message…), or None
    when it can be tried."""
    if to.kind in REPLY_HOOKS:
        try:
            parts = urlsplit(to.ref)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            return f"not a response URL: {to.ref!r}"
        return None
    if to.kind == THREAD:
        return None if to.address and to.ref else f"not channel:ts: {str(to)!r}"
    return None if to.address.strip() else "empty"


def _after(err) -> float | None:
    value = err.headers.get("Retry-After") if err.headers else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _classify(err: SlackApiError) -> DeliveryError:
    status = err.response.status_code
    code = err.response.get("error") if isinstance(err.response.data, dict) else None
    if status == 429:
        return DeliveryError("ratelimited", retry_after=_after(err.response) or 1.0)
    if status >= 500:
        return DeliveryError(f"Slack HTTP {status}")
    if code in TRANSIENT:
        return DeliveryError(str(code))
    return DeliveryError(str(code or f"HTTP {status}"), permanent=True)
