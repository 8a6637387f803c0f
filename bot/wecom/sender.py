"""Delivers outbox rows to WeCom's server API and maps WeCom's error codes onto retry decisions.

Targets: ``person`` (a WeCom user id: message/send), ``channel`` (a group chat id: appchat/send,
or ``webhook:KEY``: a group robot). A card with buttons goes to a person as a template card
(reference ``card:TASK_ID``); anything else, and anything for a group, as markdown. Messages to
a member are paced under WeCom's per-member cap (``bot.wecom.pace``).

An update rewrites a person's card with update_template_card and a response code (from the
send or from a click on it). When none is left, or WeCom refuses it, a new message says what
changed: a new card, with the buttons that still apply. A group's message is never rewritten:
its reference (``chat:ID``, ``robot:KEY``) lets a card's update through, posted anew.
"""

import logging
import secrets
from typing import Any

import requests
from wechatpy.exceptions import WeChatClientException

from bot.delivery import DeliveryError, Outgoing
from bot.wecom import render
from bot.wecom.client import WeComClient
from bot.wecom.codes import ResponseCodes
from bot.wecom.pace import MemberPace
from handlers.i18n import I18n
from handlers.messages import Card, File
from handlers.platforms import Platform
from handlers.targets import PERSON

log = logging.getLogger(__name__)

# What WeCom's error codes mean (developer.work.weixin.qq.com/document/path/90313), for the log.
MEANING = {
    -1: "system busy", 40001: "invalid secret", 40003: "invalid user id",
    40008: "invalid message type", 40013: "invalid corp id", 40014: "invalid access token",
    40056: "invalid agent id", 40058: "invalid parameter", 41001: "access token missing",
    42001: "access token expired", 42014: "task id already used",
    42022: "response code used or expired", 44004: "empty content",
    45002: "content too long", 45009: "API rate limit", 45033: "too many concurrent calls",
    48002: "API forbidden for this app", 60020: "server IP not in the app's trusted IPs",
    81013: "no valid recipient", 86003: "group chat not found", 93000: "invalid robot webhook",
    130101: "robot rate limit (20 a minute)",
}  # fmt: skip
TRANSIENT = {-1, 45009, 45033, 130101}
RETRY_AFTER = {45009: 60.0, 130101: 60.0, 45033: 5.0}
CODE_REFUSED = {42022, 40058}  # the update cannot be made: say it in a new message instead


class WeComSender:
    # a card is rewritten only with a click's (or the send's) response code, once each
    platform = Platform("wecom", edits_at_will=False)

    def __init__(
        self,
        client: WeComClient,
        agent_id: int,
        codes: ResponseCodes,
        i18n: I18n,
        pace: MemberPace | None = None,
    ) -> None:
        self.client = client
        self.agent_id = agent_id
        self.codes = codes
        self.i18n = i18n
        self.pace = pace or MemberPace()

    def housekeeping(self) -> None:
        """Forget the response codes past their 72 hours."""
        self.codes.forget_expired()

    def send(self, item: Outgoing) -> str | None:
        try:
            return self._send(item)
        except WeChatClientException as err:
            raise classify(err) from None
        except requests.RequestException as err:  # timeouts, refused connections
            raise DeliveryError(f"{err.__class__.__name__}: {err}") from None

    def _send(self, item: Outgoing) -> str | None:
        to_person, address = item.to.kind == PERSON, item.to.address
        if item.replaces and item.replaces.startswith("card:") and to_person:
            updated = self._update(item, item.replaces.removeprefix("card:"))
            if updated:
                return item.replaces
        if to_person:
            return self._to_person(item)
        if address.startswith("webhook:"):
            return self._to_robot(address.removeprefix("webhook:"), item)
        return self._to_chat(address, item)

    # --- people ------------------------------------------------------------------------------

    def _to_person(self, item: Outgoing) -> str | None:
        message, user = item.message, item.to.address
        if wait := self.pace.reserve(user):
            raise DeliveryError(f"{user} reached WeCom's cap on messages", retry_after=wait)
        if render.is_card(message):
            task_id = f"mb{item.id}_{secrets.token_hex(4)}"  # unique per app, even on a resend
            answer = self._post(
                "message/send",
                {"touser": user, "msgtype": "template_card",
                 "template_card": render.template_card(message, task_id)},
            )  # fmt: skip
            if answer.get("response_code"):
                self.codes.remember(task_id, user, answer["response_code"])
            return f"card:{task_id}"
        if isinstance(message, File):
            media_id = self._upload(message)
            answer = self._post("message/send", {"touser": user, "msgtype": "file",
                                                 "file": {"media_id": media_id}})  # fmt: skip
        else:
            answer = self._post("message/send", self._markdown(item, touser=user))
        return f"msg:{answer['msgid']}" if answer.get("msgid") else None

    def _update(self, item: Outgoing, task_id: str) -> bool:
        """Rewrite the person's card in place; False when there is no usable response code."""
        code = self.codes.take(task_id, item.to.address)
        if code is None:
            return False
        card = item.message
        body: dict[str, Any] = {"userids": [item.to.address], "response_code": code}
        if isinstance(card, Card) and card.actions:
            body["template_card"] = render.template_card(card, task_id)
        else:  # no buttons left: grey them out under the outcome
            label = card.state_label if isinstance(card, Card) else None
            body["button"] = {"replace_name": render.cut(label or "✓", render.BUTTON)}
        try:
            self._post("message/update_template_card", body)
        except WeChatClientException as err:
            if err.errcode not in CODE_REFUSED:
                raise
            log.info("card %s: update refused (%s); sending a new message", task_id, err.errcode)
            return False
        return True

    # --- groups ------------------------------------------------------------------------------

    def _to_chat(self, chat_id: str, item: Outgoing) -> str | None:
        if isinstance(item.message, File):
            body = {"chatid": chat_id, "msgtype": "file",
                    "file": {"media_id": self._upload(item.message)}}  # fmt: skip
        else:
            body = self._markdown(item, chatid=chat_id)
        self.client.calling(lambda: self.client.post("appchat/send", data=body))
        return f"chat:{chat_id}"  # not rewritable, but a card's update gets posted anew

    def _to_robot(self, key: str, item: Outgoing) -> str | None:
        """A group robot: no token, no encryption, just the key in the URL."""
        response = self.client._http.post(
            self.client.API_BASE_URL + "webhook/send",
            params={"key": key},
            json=self._markdown(item, mentions=True),  # a robot's markdown can @-mention
            timeout=self.client.timeout,
        )
        response.raise_for_status()
        result = response.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self.client)
        return f"robot:{key}"

    # --- helpers -----------------------------------------------------------------------------

    def _markdown(self, item: Outgoing, *, mentions: bool = False, **target) -> dict[str, Any]:
        hint = self.i18n.t(item.locale, "wecom.type_to_act")
        content = render.markdown(item.message, hint, mentions=mentions)
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        if "touser" in target:
            body["agentid"] = self.agent_id
        return {**target, **body}

    def _post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "agentid": self.agent_id}
        return self.client.calling(lambda: self.client.post(endpoint, data=body))

    def _upload(self, file: File) -> str:
        data = file.data  # bytes, not a file object: a replay must resend them
        answer = self.client.calling(
            lambda: self.client.media.upload("file", (file.name, data, file.mime))
        )
        return answer["media_id"]


def classify(err: WeChatClientException) -> DeliveryError:
    code = err.errcode
    if code is None:  # an HTTP error status: WeCom's front end, worth another try
        status = getattr(getattr(err, "response", None), "status_code", "?")
        return DeliveryError(f"HTTP {status}")
    reason = f"errcode {code} ({MEANING.get(code, 'see WeCom error code list')}): {err.errmsg}"
    if code in TRANSIENT:
        return DeliveryError(reason, retry_after=RETRY_AFTER.get(code))
    return DeliveryError(reason, permanent=True)
