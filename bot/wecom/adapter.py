"""The WeCom adapter: encrypted callbacks in, core calls, replies out through the outbox.

WeCom waits 5 seconds for an answer and then retries, so a callback is checked, decrypted and
answered with an empty 200 at once; the core runs afterwards (``bot.answers``) and the reply
goes to the person through the outbox. Retries carry the same ``MsgId`` (messages) or the same
sender, time and event (events) and are handled once.
A card click brings a response code, kept so that the clicked card can be updated.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.answers import Answers, Job, answer
from bot.wecom import media
from bot.wecom.codes import ResponseCodes
from bot.wecom.render import HINT, PROMPT
from handlers.context import Origin
from handlers.core import Core
from handlers.messages import Message
from handlers.targets import Target

log = logging.getLogger(__name__)

REPLAY_WINDOW = 300  # seconds: wechatpy checks no timestamp, so an old capture would replay
QUIET_EVENTS = {"enter_agent", "subscribe", "unsubscribe", "view", "location", "LOCATION"}


class Refused(Exception):
    """A callback that is not WeCom's (403) or cannot be read (400)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class WeComAdapter:
    def __init__(
        self,
        crypto: WeChatCrypto,
        *,
        agent_id: int,
        answers: Answers,
        now: Callable[[], float] = time.time,
        media: media.MediaAccess | None = None,
    ) -> None:
        self.crypto = crypto
        self.media = media  # the app's credentials to download the files people send
        self.agent_id = agent_id
        self.now = now
        self.answers = answers

    # --- the callback URL ----------------------------------------------------------------------

    def verify_url(self, query: dict[str, str]) -> str:
        """The URL check WeCom makes when the callback is configured: the decrypted echostr."""
        self._fresh(query)
        try:
            return self.crypto.check_signature(
                query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
            )
        except Exception as exc:  # wechatpy raises whatever its parsing hits
            raise Refused(403, f"URL check failed: {exc.__class__.__name__}") from None

    def receive(self, query: dict[str, str], body: bytes) -> None:
        """Check, decrypt and queue one callback; Refused when it must not be handled."""
        self._fresh(query)
        try:
            plain = self.crypto.decrypt_message(
                body.decode(), query["msg_signature"], query["timestamp"], query["nonce"]
            )
        except Exception as exc:  # bad signature, key, corp id, XML, padding, UTF-8 ...
            raise Refused(403, f"undecryptable callback: {exc.__class__.__name__}") from None
        try:
            message = xmltodict.parse(plain)["xml"]
            if not isinstance(message, dict) or not message.get("FromUserName"):
                raise ValueError("no sender")
        except Exception as exc:
            raise Refused(400, f"unreadable callback XML: {exc.__class__.__name__}") from None
        self.answers.run(handle, message, self.media)

    def _fresh(self, query: dict[str, str]) -> None:
        missing = [k for k in ("msg_signature", "timestamp", "nonce") if not query.get(k)]
        if missing:
            raise Refused(403, f"missing {', '.join(missing)}")
        try:
            age = abs(self.now() - int(query["timestamp"]))
        except ValueError:
            raise Refused(403, "timestamp is not a number") from None
        if age > REPLAY_WINDOW:
            raise Refused(403, f"stale timestamp ({age:.0f} s)")


# --- after the answer, on the core's workers ---------------------------------------------------


def handle(core: Core, message: dict[str, Any], access: media.MediaAccess | None = None) -> None:
    """One decrypted callback, once however often WeCom retries it; the reply goes to the
    person through the outbox."""
    origin = Origin("wecom", str(message["FromUserName"]))
    to, once = Target.person(origin.user), _dedupe_key(message)
    answer(core, Job(origin, (dispatch, origin, message, access), to, once=once))


def dispatch(
    core: Core, origin: Origin, message: dict[str, Any], access: media.MediaAccess | None = None
) -> list[Message]:
    """The answer to one decrypted callback from ``origin``."""
    kind, event = message.get("MsgType"), str(message.get("Event") or "")
    if kind == "text":
        return core.handle_text(origin, str(message.get("Content") or ""))
    if kind in ("image", "file") and access is not None and message.get("MediaId"):
        return core.attach(origin, media.incoming(message, access))
    if kind == "event" and event == "template_card_event":
        return _click(core, origin, message)
    if kind == "event" and event in QUIET_EVENTS:
        return []
    log.info("WeCom %s/%s from %s: not a command", kind, event or "-", origin.user)
    return [core.notice_for(origin, "wecom.text_only")]


def _click(core: Core, origin: Origin, message: dict[str, Any]) -> list[Message]:
    key, task_id = str(message.get("EventKey") or ""), str(message.get("TaskId") or "")
    if message.get("ResponseCode") and task_id:
        codes = ResponseCodes(core.db, core.clock)
        codes.remember(task_id, origin.user, str(message["ResponseCode"]))
    if not key:
        return [core.notice_for(origin, "slack.bad_action")]
    if key.startswith(PROMPT):  # an answer is needed: WeCom has no form, so say what to type
        command, _, hint = key.removeprefix(PROMPT).partition(HINT)
        if hint:
            return [core.notice_for(origin, "wecom.type_answer", command=command, hint=hint)]
        return [core.notice_for(origin, "wecom.type_reason", command=command)]  # an older card
    return core.handle_action(origin, key)


def _dedupe_key(message: dict[str, Any]) -> str:
    """``MsgId`` for messages; sender, time and event for events (WeCom's retry keys)."""
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    fields = ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")
    joined = "\x1f".join(str(message.get(k) or "") for k in fields)
    return "event:" + hashlib.sha1(joined.encode()).hexdigest()
