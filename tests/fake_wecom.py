"""A local fake of WeCom's (企业微信) server API over real HTTP, for the real wechatpy client:

    with FakeWeCom() as fake:
        client = SomeWeChatClientSubclass(fake.corp_id, fake.secret, api_base_url=fake.base_url)

``fake.base_url`` is ``http://127.0.0.1:PORT/cgi-bin/``, like ``https://qyapi.weixin.qq.com/cgi-bin/``
(wechatpy's ``fetch_access_token`` hard-codes WeCom's own gettoken URL: subclass it, see the tests).

Wire format as WeCom's: JSON bodies, ``access_token`` in the query, HTTP 200 with
``{"errcode": N, "errmsg": "..."}`` even for errors (errmsg carries WeCom's ``hint``/``more info``
tail). Endpoints: ``gettoken``, ``message/send``, ``message/update_template_card``,
``appchat/send``, ``webhook/send?key=`` (no token) and ``media/upload`` (multipart). Every request
is recorded as a :class:`Call`. A delayed answer (``slow``, ``fail_next(delay=)``) takes effect at
once and answers late, like a slow WeCom: a client that times out and retries sends twice.

Behaviour kept from WeCom: gettoken answers the same token while it is valid (``expires_in`` 7200);
an issued token that expired or was revoked gives 42001, an unknown one 40014. User ids are
case-insensitive and reported in lower case in ``invaliduser``; if every recipient is invalid the
send fails with 81013. Interactive template cards need a ``task_id`` unique per app (42014) and
return a ``response_code``; every click mints another one (:meth:`FakeWeCom.click`). A response
code updates a card once and for 72 hours. Group robots take 20 messages a minute (130101).
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.local_server import LocalServer

CORP_ID = "ww4d7e1c9a2b3f6058"
SECRET = "maintbot-fake-app-secret-0123456789abcdefgh"
AGENT_ID = 1000002
WEBHOOK_KEY = "3c9f1a2e-5b7d-4e8f-9a01-23456789abcd"

TOKEN_TTL = 7200
RESPONSE_CODE_TTL = 72 * 3600
WEBHOOK_PER_MINUTE = 20

# Error codes (WeCom's global list, developer.work.weixin.qq.com/document/path/90313).
OK = 0
INVALID_SECRET = 40001
INVALID_MEDIA_TYPE = 40004
INVALID_FILE_SIZE = 40006
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
MISSING_URL = 41010
MISSING_AGENTID = 41011
MISSING_DESCRIPTION = 41033
EXPIRED_TOKEN = 42001
INVALID_TASK_ID = 42014  # "taskid has existed or empty or exceed max len"
CARD_AGENT_MISMATCH = 42015
MISSING_BUTTON_NAME = 42020
# A response code used twice or after 72 h. WeCom documents the rule but not its code; 42022 is the
# global list's "code已经被使用过。只能使用一次". Treat any non-zero errcode as "cannot update".
RESPONSE_CODE_INVALID = 42022
EMPTY_MEDIA = 44001
EMPTY_CONTENT = 44004
CONTENT_TOO_LONG = 45002
TOO_MANY_ARTICLES = 45008
RATE_LIMITED = 45009
BAD_JSON = 47001
ALL_RECIPIENTS_INVALID = 81013
CHAT_NOT_FOUND = 86003
INVALID_WEBHOOK = 93000
WEBHOOK_TOO_FAST = 130101

ERRMSG = {
    INVALID_SECRET: "invalid credential", INVALID_MEDIA_TYPE: "invalid media type",
    INVALID_FILE_SIZE: "invalid file size", INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type", INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token", INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid Request Parameter", MISSING_TOKEN: "access_token missing",
    MISSING_CORPID: "corpid missing", MISSING_SECRET: "corpsecret missing",
    MISSING_URL: "url missing", MISSING_AGENTID: "agentid missing",
    MISSING_DESCRIPTION: "description missing", EXPIRED_TOKEN: "access_token expired",
    INVALID_TASK_ID: "taskid has existed or empty or exceed max len",
    CARD_AGENT_MISMATCH: "agentid not match the card", MISSING_BUTTON_NAME: "button name missing",
    RESPONSE_CODE_INVALID: "response_code has been used or expired",
    EMPTY_MEDIA: "empty media data", EMPTY_CONTENT: "empty content",
    CONTENT_TOO_LONG: "content size out of limit", TOO_MANY_ARTICLES: "article size out of limit",
    RATE_LIMITED: "api freq out of limit", BAD_JSON: "data format error",
    ALL_RECIPIENTS_INVALID: "user & party & tag all invalid", CHAT_NOT_FOUND: "chatid not found",
    INVALID_WEBHOOK: "invalid webhook url",
    WEBHOOK_TOO_FAST: "send too fast, exceed 20 times per minute",
}  # fmt: skip

APP_MSGTYPES = {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews",
                "markdown", "miniprogram_notice", "template_card"}  # fmt: skip
CHAT_MSGTYPES = {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews",
                 "markdown"}  # fmt: skip
ROBOT_MSGTYPES = {"text", "markdown", "markdown_v2", "image", "news", "file", "voice",
                  "template_card"}  # fmt: skip
CARD_TYPES = {"text_notice", "news_notice", "button_interaction", "vote_interaction",
              "multiple_interaction"}  # fmt: skip
INTERACTIVE = {"button_interaction", "vote_interaction", "multiple_interaction"}
ROBOT_CARD_TYPES = {"text_notice", "news_notice"}
MEDIA_TYPES = {"image", "voice", "video", "file"}
USERID_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
CHATID_RE = re.compile(r"[A-Za-z0-9]{1,32}")
TASK_ID_RE = re.compile(r"[A-Za-z0-9_@-]{1,128}")


class WeComError(Exception):
    """Raised inside an endpoint to answer ``{"errcode": code, "errmsg": ...}``."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code, self.detail = code, detail


def wecom_errmsg(code: int, detail: str = "") -> str:
    """An errmsg in WeCom's shape: text, ``hint`` (a request id), caller ip, link to the code."""
    text = ERRMSG.get(code, f"error {code}") + (f" ({detail})" if detail else "")
    hint = f"{int(time.time() * 1000)}{secrets.randbelow(10**12):012d}"
    return (f"{text}, hint: [{hint}], from ip: 127.0.0.1, "
            f"more info at https://open.work.weixin.qq.com/devtool/query?e={code}")  # fmt: skip


@dataclass
class Call:
    path: str  # relative to /cgi-bin/: "gettoken", "message/send", "webhook/send", ...
    method: str  # "GET" or "POST"
    query: dict  # the query string (access_token, key, type ... included)
    body: Any  # decoded JSON; for media/upload the file part as a dict; None for GET
    headers: dict  # names lower-cased
    at: float  # time.monotonic() on arrival
    status: int = 200
    response: Any = None  # the JSON answered (a str for an HTML error page)

    @property
    def errcode(self) -> int | None:
        return self.response.get("errcode") if isinstance(self.response, dict) else None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.errcode == 0


@dataclass
class _Rule:
    errcode: int | None
    errmsg: str | None
    status: int | None
    delay: float
    times: int


class _Handler(BaseHTTPRequestHandler):
    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake  # type: ignore[attr-defined]
        status, headers, payload = fake._serve(
            self.command, self.path, dict(self.headers.items()), body
        )
        with contextlib.suppress(ConnectionError):  # the client gave up waiting (timeout)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    do_GET = do_POST = _handle

    def log_message(self, *args: Any) -> None:
        pass


class FakeWeCom(LocalServer):
    handler = None  # set below, once _Handler is defined

    def __init__(
        self,
        corp_id: str = CORP_ID,
        secret: str = SECRET,
        agent_id: int = AGENT_ID,
        *,
        users: Iterable[str] | None = None,
        chats: Iterable[str] | None = None,
        webhook_keys: Iterable[str] = (WEBHOOK_KEY,),
        token_ttl: int = TOKEN_TTL,
        webhook_per_minute: int | None = WEBHOOK_PER_MINUTE,
    ) -> None:
        """``users``/``chats``: the directory; None (the default) means every well-formed id
        exists except those removed with :meth:`remove_user`/:meth:`remove_chat`."""
        self.corp_id, self.secret, self.agent_id = corp_id, secret, int(agent_id)
        self.token_ttl = token_ttl
        self.webhook_per_minute = webhook_per_minute
        self._users = None if users is None else {u.lower() for u in users}
        self._chats = None if chats is None else set(chats)
        self._removed_users: set[str] = set()
        self._removed_chats: set[str] = set()
        self._webhook_keys = set(webhook_keys)
        self._cond = threading.Condition(threading.RLock())
        super().__init__()
        self._offset = 0.0
        self.reset()

    @property
    def base_url(self) -> str:
        return self.url + "cgi-bin/"

    def webhook_url(self, key: str = WEBHOOK_KEY) -> str:
        return f"{self.base_url}webhook/send?key={key}"

    # ---- programming the fake
    def reset(self) -> None:
        """Forget calls, tokens, messages, cards, media, failures and slowness (the directory and
        the webhook keys are kept)."""
        with self._cond:
            self._calls: list[Call] = []
            self._tokens: dict[str, dict] = {}
            self._current_token: str | None = None
            self._messages: list[dict] = []
            self._chat_messages: list[dict] = []
            self._robot_messages: list[dict] = []
            self._cards: dict[str, dict] = {}
            self._codes: dict[str, dict] = {}
            self._media: dict[str, dict] = {}
            self._robot_sends: dict[str, deque] = {}
            self._rules: dict[str, list[_Rule]] = {}
            self._slow = 0.0
            self._ids = itertools.count(1)

    def fail_next(self, path, errcode=None, *, errmsg=None, status=None, delay=0.0, times=1):
        """The next ``times`` requests to ``path`` ("*": any) get ``errcode`` (HTTP 200, before
        any other check), or HTTP ``status`` (an HTML error page); ``delay`` alone delays the
        normal answer. Without arguments: errcode -1, "system busy"."""
        if errcode is None and status is None and not delay:
            errcode, errmsg = -1, errmsg or "system busy"
        with self._cond:
            self._rules.setdefault(path, []).append(_Rule(errcode, errmsg, status, delay, times))

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` (0 to stop)."""
        self._slow = seconds

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on: tokens (2 h) and response codes (72 h) expire."""
        with self._cond:
            self._offset += seconds

    def expire_tokens(self) -> None:
        """WeCom invalidates every issued token early: their next use gives 42001."""
        with self._cond:
            for token in self._tokens.values():
                token["revoked"] = True
            self._current_token = None

    def expire_response_codes(self) -> None:
        """Every response code issued so far is past its 72 hours."""
        with self._cond:
            for code in self._codes.values():
                code["issued"] -= RESPONSE_CODE_TTL + 1

    def add_user(self, userid: str) -> None:
        with self._cond:
            self._removed_users.discard(userid.lower())
            if self._users is not None:
                self._users.add(userid.lower())

    def remove_user(self, userid: str) -> None:
        with self._cond:
            self._removed_users.add(userid.lower())

    def add_chat(self, chatid: str) -> None:
        with self._cond:
            self._removed_chats.discard(chatid)
            if self._chats is not None:
                self._chats.add(chatid)

    def remove_chat(self, chatid: str) -> None:
        with self._cond:
            self._removed_chats.add(chatid)

    def add_webhook(self, key: str) -> str:
        with self._cond:
            self._webhook_keys.add(key)
        return self.webhook_url(key)

    def click(self, task_id: str, userid: str, key: str | None = None) -> dict:
        """``userid`` clicks button ``key`` (default: the first) on the card ``task_id``: WeCom
        greys the buttons out with the card's ``replace_text`` (if any) and mints a response
        code. Returns the fields of the ``template_card_event`` callback WeCom would send:
        ``event_key``, ``task_id``, ``response_code``, ``card_type``."""
        with self._cond:
            card = self._cards.get(task_id)
            if card is None:
                raise KeyError(f"no card with task_id {task_id!r}")
            view = card["views"].get(userid.lower())
            if view is None:
                raise KeyError(f"{userid!r} did not receive card {task_id!r}")
            keys = [b.get("key") for b in card["sent"].get("button_list", [])]
            if key is None:
                key = keys[0] if keys else ""
            elif keys and key not in keys:
                raise KeyError(f"card {task_id!r} has no button {key!r} (has {keys})")
            code = self._new_code(task_id, userid.lower())
            card["clicks"].append({"userid": userid.lower(), "key": key, "response_code": code})
            if card["sent"].get("replace_text") and view["replace_name"] is None:
                view["replace_name"] = card["sent"]["replace_text"]
            return {"event_key": key, "task_id": task_id, "response_code": code,
                    "card_type": card["card_type"]}  # fmt: skip

    # ---- reading what happened
    def calls(self, path: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if path is None or c.path == path]

    def wait_for(self, path, count=1, timeout=5.0, predicate=None) -> list[Call]:
        """Wait until ``count`` calls to ``path`` (matching ``predicate(call)``) arrived; return all
        matching calls so far, or raise AssertionError listing what was received."""

        def matching() -> list[Call]:
            return [c for c in self.calls(path) if not predicate or predicate(c)]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                return matching()
            seen = [f"{c.method} {c.path} -> {c.status} {str(c.response)[:160]}"
                    for c in self._calls]  # fmt: skip
        got = "\n  ".join(seen) or "(nothing)"
        raise AssertionError(f"expected {count} x {path} in {timeout}s; received:\n  {got}")

    def messages(self, userid: str | None = None, msgtype: str | None = None) -> list[dict]:
        """App messages accepted by message/send (to ``userid``, of ``msgtype``), oldest first:
        the request body plus ``msgid`` and ``recipients`` (valid user ids, lower case)."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._messages
                    if (userid is None or userid.lower() in m["recipients"]
                        or "@all" in m["recipients"])
                    and (msgtype is None or m["msgtype"] == msgtype)]  # fmt: skip

    def chat_messages(self, chatid: str | None = None) -> list[dict]:
        with self._cond:
            return [copy.deepcopy(m) for m in self._chat_messages
                    if chatid is None or m["chatid"] == chatid]  # fmt: skip

    def robot_messages(self, key: str | None = None) -> list[dict]:
        """Group robot (webhook) messages accepted, each with its ``key``."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._robot_messages
                    if key is None or m["key"] == key]  # fmt: skip

    def card(self, task_id: str) -> dict | None:
        """A template card's state: ``card_type``, ``agentid``, ``msgid``, ``recipients``,
        ``sent`` (the card as sent), ``response_code`` (the send's), ``views`` (per user:
        ``card`` shown and ``replace_name``, the greyed button text or None), ``clicks`` and
        ``updates`` (the update_template_card bodies accepted)."""
        with self._cond:
            return copy.deepcopy(self._cards.get(task_id))

    def card_view(self, task_id: str, userid: str) -> dict | None:
        """What ``userid`` sees of card ``task_id``: ``{"card": ..., "replace_name": ...}``."""
        with self._cond:
            card = self._cards.get(task_id)
            view = card and card["views"].get(userid.lower())
            return copy.deepcopy(view) if view else None

    def media(self, media_id: str) -> dict | None:
        """An uploaded file: ``type``, ``filename``, ``content_type``, ``data`` (bytes)."""
        with self._cond:
            return copy.deepcopy(self._media.get(media_id))

    def receive_media(self, data: bytes, filename: str, content_type: str) -> str:
        """A photo or a file a user sends the app: its MediaId, which ``media/get`` serves (to
        the app's valid token) for three days, as WeCom does."""
        with self._cond:
            media_id = f"2recv{next(self._ids):06d}{secrets.token_urlsafe(32)}"
            self._media[media_id] = {"type": "file", "filename": filename, "data": data,
                                     "content_type": content_type, "size": len(data),
                                     "expires_at": self._now() + 3 * 24 * 3600}  # fmt: skip
            return media_id

    def issued_tokens(self) -> list[str]:
        with self._cond:
            return list(self._tokens)

    # ---- HTTP
    def _now(self) -> float:
        return time.time() + self._offset

    def _serve(self, verb: str, raw_path: str, raw_headers: dict, body: bytes):
        url = urlsplit(raw_path)
        headers = {k.lower(): v for k, v in raw_headers.items()}
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        path = url.path.removeprefix("/cgi-bin/") if url.path.startswith("/cgi-bin/") else url.path
        at = time.monotonic()
        decoded, parse_error = self._decode(headers.get("content-type", ""), body)
        with self._cond:
            rule = self._take_rule(path)
            try:
                status, answer = self._answer(verb, path, query, decoded, parse_error, rule)
            except Exception as exc:  # a bug in the fake: answer 500 and show it in calls()
                status, answer = 500, f"fake_wecom crashed: {exc!r}"
            self._calls.append(Call(path, verb, query, decoded, headers, at, status, answer))
            self._cond.notify_all()
        delay = self._slow + (rule.delay if rule else 0.0)
        if delay:
            self._stopping.wait(delay)
        if isinstance(answer, _Raw):
            return status, answer.headers, answer.data
        if isinstance(answer, dict):
            payload = json.dumps(answer, ensure_ascii=False).encode()
            return status, {"Content-Type": "application/json; charset=UTF-8"}, payload
        return status, {"Content-Type": "text/html; charset=UTF-8"}, str(answer).encode()

    @staticmethod
    def _decode(content_type: str, body: bytes) -> tuple[Any, bool]:
        if not body:
            return None, False
        if content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                data = part.get_payload(decode=True) or b""
                name = part.get_param("name", header="content-disposition")
                info = {"name": name, "filename": part.get_filename(), "data": data,
                        "content_type": part.get_content_type(), "size": len(data)}  # fmt: skip
                return info, False
            return None, True
        try:  # wechatpy posts JSON bytes without a Content-Type
            return json.loads(body.decode("utf-8")), False
        except (UnicodeDecodeError, ValueError):
            return body.decode("utf-8", "replace"), True

    def _answer(self, verb, path, query, body, parse_error, rule) -> tuple[int, Any]:
        if rule and rule.status:
            return rule.status, f"<html><body><h1>{rule.status} Server Error</h1></body></html>"
        endpoint = getattr(self, "_e_" + path.replace("/", "_"), None)
        if endpoint is None:
            return 404, "<html><body><h1>404 Not Found</h1></body></html>"
        if rule and rule.errcode is not None:
            return 200, {
                "errcode": rule.errcode,
                "errmsg": rule.errmsg or wecom_errmsg(rule.errcode),
            }
        try:
            if path not in ("gettoken", "webhook/send"):
                self._check_token(query.get("access_token"))
            if (
                verb == "POST"
                and path != "media/upload"
                and (parse_error or not isinstance(body, dict))
            ):
                raise WeComError(BAD_JSON)
            if path == "media/get":  # the file itself, not JSON
                return 200, endpoint(query, body)
            return 200, {"errcode": OK, "errmsg": "ok", **endpoint(query, body)}
        except WeComError as err:
            return 200, {"errcode": err.code, "errmsg": wecom_errmsg(err.code, err.detail)}

    # ---- checks shared by endpoints
    def _check_token(self, token: str | None) -> None:
        if not token:
            raise WeComError(MISSING_TOKEN)
        info = self._tokens.get(token)
        if info is None:
            raise WeComError(INVALID_TOKEN)
        if info["revoked"] or self._now() >= info["expires_at"]:
            raise WeComError(EXPIRED_TOKEN)

    def _check_agent(self, body: dict) -> None:
        if body.get("agentid") in (None, ""):
            raise WeComError(MISSING_AGENTID)
        if str(body["agentid"]) != str(self.agent_id):
            raise WeComError(INVALID_AGENTID)

    def _user_exists(self, userid: str) -> bool:
        uid = userid.lower()
        if not USERID_RE.fullmatch(userid) or uid in self._removed_users:
            return False
        return self._users is None or uid in self._users

    def _chat_exists(self, chatid: str) -> bool:
        if not CHATID_RE.fullmatch(chatid) or chatid in self._removed_chats:
            return False
        return self._chats is None or chatid in self._chats

    @staticmethod
    def _ids_of(value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(v) for v in value if str(v)]
        return [v for v in str(value or "").split("|") if v]

    def _new_code(self, task_id: str, userid: str | None) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"task_id": task_id, "userid": userid, "issued": self._now(),
                             "used": False}  # fmt: skip
        return code

    @staticmethod
    def _text_limit(field: Any, limit: int) -> None:
        content = (field or {}).get("content") if isinstance(field, dict) else None
        if not content:
            raise WeComError(EMPTY_CONTENT)
        if len(str(content).encode()) > limit:
            raise WeComError(CONTENT_TOO_LONG, f"{len(str(content).encode())} > {limit} bytes")

    def _check_content(self, msg: dict, allowed: set[str], *, robot: bool = False) -> str:
        """Validate the message part of a send; returns its msgtype."""
        msgtype = msg.get("msgtype")
        if msgtype not in allowed:
            raise WeComError(INVALID_MSGTYPE, f"msgtype {msgtype!r}")
        part = msg.get(msgtype)
        if msgtype == "text":
            self._text_limit(part, 2048)
        elif msgtype in ("markdown", "markdown_v2"):
            self._text_limit(part, 4096 if robot else 2048)
        elif msgtype == "textcard":
            part = part or {}
            if not part.get("title"):
                raise WeComError(INVALID_PARAMETER, "textcard.title")
            if not part.get("description"):
                raise WeComError(MISSING_DESCRIPTION)
            if not part.get("url"):
                raise WeComError(MISSING_URL)
        elif msgtype in ("news", "mpnews"):
            articles = (part or {}).get("articles") or []
            if not articles:
                raise WeComError(INVALID_PARAMETER, f"{msgtype}.articles")
            if len(articles) > 8:
                raise WeComError(TOO_MANY_ARTICLES)
        elif msgtype in MEDIA_TYPES and not robot:
            media = self._media.get((part or {}).get("media_id", ""))
            if media is None or (msgtype != "file" and media["type"] != msgtype):
                raise WeComError(INVALID_MEDIA_ID)
        elif msgtype == "template_card":
            self._check_card(part, ROBOT_CARD_TYPES if robot else CARD_TYPES)
        return msgtype

    @staticmethod
    def _check_card(card: Any, types: set[str]) -> None:
        """The basics WeCom checks on a template card (not every rule of every card type)."""
        if not isinstance(card, dict):
            raise WeComError(INVALID_PARAMETER, "template_card")
        card_type = card.get("card_type")
        if card_type not in types:
            raise WeComError(INVALID_PARAMETER, f"card_type {card_type!r}")
        if card_type in INTERACTIVE or card.get("action_menu"):
            task_id = card.get("task_id")
            if not isinstance(task_id, str) or not TASK_ID_RE.fullmatch(task_id):
                raise WeComError(INVALID_TASK_ID)
        title = (card.get("main_title") or {}).get("title")
        if card_type in ("button_interaction", "news_notice") and not title:
            raise WeComError(INVALID_PARAMETER, "main_title.title")
        if card_type == "text_notice" and not (title or card.get("sub_title_text")):
            raise WeComError(INVALID_PARAMETER, "main_title.title or sub_title_text")
        if card_type in ("text_notice", "news_notice"):
            action = card.get("card_action") or {}
            if action.get("type") not in (1, 2) or not (action.get("url") or action.get("appid")):
                raise WeComError(INVALID_PARAMETER, "card_action")
        if len(card.get("horizontal_content_list") or []) > 6:
            raise WeComError(INVALID_PARAMETER, "horizontal_content_list > 6")
        if card_type == "button_interaction":
            buttons = card.get("button_list") or []
            if not 1 <= len(buttons) <= 6:
                raise WeComError(INVALID_PARAMETER, f"button_list has {len(buttons)} buttons")
            keys = [b.get("key") for b in buttons if isinstance(b, dict)]
            if len(keys) != len(buttons) or not all(keys) or len(set(keys)) != len(keys):
                raise WeComError(INVALID_PARAMETER, "button_list keys missing or repeated")
            for button in buttons:
                if not button.get("text"):
                    raise WeComError(MISSING_BUTTON_NAME)
                if button.get("style", 1) not in (1, 2, 3, 4):
                    raise WeComError(INVALID_PARAMETER, "button style")

    # ---- endpoints: _e_<path with / as _>(query, body) -> extra response fields
    def _e_gettoken(self, query: dict, body: Any) -> dict:
        if not query.get("corpid"):
            raise WeComError(MISSING_CORPID)
        if not query.get("corpsecret"):
            raise WeComError(MISSING_SECRET)
        if query["corpid"] != self.corp_id:
            raise WeComError(INVALID_CORPID)
        if query["corpsecret"] != self.secret:
            raise WeComError(INVALID_SECRET)
        current = self._tokens.get(self._current_token or "")
        if current is None or current["revoked"] or self._now() >= current["expires_at"]:
            token = secrets.token_urlsafe(48)  # WeCom's tokens are opaque, up to 512 bytes
            self._tokens[token] = {"issued": self._now(), "revoked": False,
                                   "expires_at": self._now() + self.token_ttl}  # fmt: skip
            self._current_token = token
        # Within its validity WeCom answers the same token, and expires_in 7200 again.
        return {"access_token": self._current_token, "expires_in": self.token_ttl}

    def _e_message_send(self, query: dict, body: dict) -> dict:
        self._check_agent(body)
        msgtype = self._check_content(body, APP_MSGTYPES)
        users = self._ids_of(body.get("touser"))
        parties, tags = self._ids_of(body.get("toparty")), self._ids_of(body.get("totag"))
        if not (users or parties or tags):
            raise WeComError(INVALID_PARAMETER, "touser, toparty and totag all empty")
        if users == ["@all"]:
            valid, invalid = ["@all"], []
        else:
            valid = list(dict.fromkeys(u.lower() for u in users if self._user_exists(u)))
            invalid = list(dict.fromkeys(u.lower() for u in users if not self._user_exists(u)))
        if not valid:  # departments and tags are not modelled: they count as invalid
            raise WeComError(ALL_RECIPIENTS_INVALID)
        card = body.get("template_card") if msgtype == "template_card" else None
        task_id = card.get("task_id") if card else None
        if task_id and task_id in self._cards:
            raise WeComError(INVALID_TASK_ID, f"task_id {task_id!r} has existed")
        msgid = f"fakemsg{next(self._ids):08d}{secrets.token_hex(6)}"
        self._messages.append({**copy.deepcopy(body), "msgid": msgid, "recipients": valid})
        answer: dict[str, Any] = {"invaliduser": "|".join(invalid), "msgid": msgid}
        if parties:
            answer["invalidparty"] = "|".join(parties)
        if tags:
            answer["invalidtag"] = "|".join(tags)
        if card and task_id:
            self._cards[task_id] = {
                "task_id": task_id, "card_type": card["card_type"], "agentid": self.agent_id,
                "msgid": msgid, "recipients": valid, "sent": copy.deepcopy(card),
                "views": {u: {"card": copy.deepcopy(card), "replace_name": None} for u in valid},
                "clicks": [], "updates": [], "response_code": None,
            }  # fmt: skip
            if card["card_type"] in INTERACTIVE:
                code = self._new_code(task_id, None)
                self._cards[task_id]["response_code"] = answer["response_code"] = code
        return answer

    def _e_message_update_template_card(self, query: dict, body: dict) -> dict:
        self._check_agent(body)
        code = body.get("response_code")
        if not code:
            raise WeComError(INVALID_PARAMETER, "response_code missing")
        info = self._codes.get(code)
        if info is None or info["used"] or self._now() - info["issued"] > RESPONSE_CODE_TTL:
            raise WeComError(RESPONSE_CODE_INVALID)
        card = self._cards[info["task_id"]]
        if str(card["agentid"]) != str(body["agentid"]):
            raise WeComError(CARD_AGENT_MISMATCH)
        if body.get("atall") in (1, "1", True):
            targets, invalid = list(card["views"]), []
        elif body.get("userids"):
            asked = [u.lower() for u in self._ids_of(body["userids"])]
            targets = [u for u in asked if u in card["views"]]
            invalid = [u for u in asked if u not in card["views"]]
            if not targets:
                raise WeComError(ALL_RECIPIENTS_INVALID)
        else:  # nobody named: the clicker for a click's code, everyone for the send's
            targets, invalid = [info["userid"]] if info["userid"] else list(card["views"]), []
        if "button" in body:
            name = (body.get("button") or {}).get("replace_name")
            if card["card_type"] not in INTERACTIVE:
                raise WeComError(INVALID_PARAMETER, "button: the card has no buttons")
            if not name:
                raise WeComError(MISSING_BUTTON_NAME)
            change = {"replace_name": name}
        elif "template_card" in body:
            self._check_card(body["template_card"], CARD_TYPES)
            change = {"card": copy.deepcopy(body["template_card"]), "replace_name": None}
        else:
            raise WeComError(INVALID_PARAMETER, "button or template_card needed")
        info["used"] = True
        for userid in targets:
            card["views"][userid].update(copy.deepcopy(change))
        card["updates"].append(copy.deepcopy(body))
        return {"invaliduser": invalid}

    def _e_appchat_send(self, query: dict, body: dict) -> dict:
        chatid = str(body.get("chatid") or "")
        if not self._chat_exists(chatid):
            raise WeComError(CHAT_NOT_FOUND, f"chatid {chatid!r}")
        self._check_content(body, CHAT_MSGTYPES)
        self._chat_messages.append(copy.deepcopy(body))
        return {}

    def _e_webhook_send(self, query: dict, body: dict) -> dict:
        key = query.get("key", "")
        if key not in self._webhook_keys:
            raise WeComError(INVALID_WEBHOOK)
        sent = self._robot_sends.setdefault(key, deque())
        now = self._now()
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if self.webhook_per_minute is not None and len(sent) >= self.webhook_per_minute:
            raise WeComError(WEBHOOK_TOO_FAST)
        self._check_content(body, ROBOT_MSGTYPES, robot=True)
        sent.append(now)
        self._robot_messages.append({**copy.deepcopy(body), "key": key})
        return {}

    def _e_media_upload(self, query: dict, body: Any) -> dict:
        media_type = query.get("type")
        if media_type not in MEDIA_TYPES:
            raise WeComError(INVALID_MEDIA_TYPE, f"type {media_type!r}")
        if not isinstance(body, dict) or not body.get("data"):
            raise WeComError(EMPTY_MEDIA)
        if body["size"] <= 5:  # "all files must be larger than 5 bytes"
            raise WeComError(INVALID_FILE_SIZE)
        media_id = f"3fake{next(self._ids):06d}{secrets.token_urlsafe(32)}"
        self._media[media_id] = {"type": media_type, **body}
        return {"type": media_type, "media_id": media_id, "created_at": str(int(self._now()))}

    def _e_media_get(self, query: dict, body: Any) -> _Raw:
        media = self._media.get(query.get("media_id") or "")
        if media is None or self._now() >= media.get("expires_at", float("inf")):
            raise WeComError(INVALID_MEDIA_ID)
        disposition = f'attachment; filename="{media["filename"]}"'
        headers = {"Content-Type": media["content_type"], "Content-Disposition": disposition}
        return _Raw(media["data"], headers)


@dataclass
class _Raw:
    """A download's bytes and headers (media/get answers the file, not JSON)."""

    data: bytes
    headers: dict


FakeWeCom.handler = _Handler
