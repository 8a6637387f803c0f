"""A local fake of Slack's Web API over real HTTP: ``WebClient(token=fake.token,
base_url=fake.base_url)`` talks to it as to slack.com.

Wire format as Slack's: ``POST /api/<method>``, form-encoded or JSON body, token in
``Authorization: Bearer`` (or a ``token`` argument); HTTP 200 ``{"ok": ...}``; 429 with
``Retry-After``. Upload URLs (``/upload/v1/<file_id>``) and response URLs (``/hooks/<name>``) live
on the fake too. Every request is recorded as a :class:`Call` (method ``"upload"`` for file bytes,
``"hooks/<name>"`` for response_url posts). A delayed answer takes effect at once and answers late,
like a slow Slack: a client that times out and retries posts twice.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import mimetypes
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.local_server import LocalServer

TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-A0MAINT01-test"  # app-level: apps.connections.open (Socket Mode) only
TEAM_ID, TEAM_NAME, TEAM_DOMAIN = "T0MAINT01", "Maint Test", "maint-test"
APP_ID, BOT_ID, BOT_USER_ID, BOT_NAME = "A0MAINT01", "B0MAINT01", "U0MAINTBOT", "maintbot"
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
CONTENT = ("text", "blocks", "attachments")
VIEW_FIELDS = {"type": None, "blocks": [], "private_metadata": "", "callback_id": "", "title": None,
               "close": None, "submit": None, "external_id": "", "clear_on_close": False,
               "notify_on_close": False}  # fmt: skip


def dm_channel_id(user_id: str) -> str:
    """The D-id of the bot's DM with ``user_id`` (stable across fakes and runs)."""
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()


@dataclass
class Call:
    method: str  # "chat.postMessage", "upload", "hooks/<name>"
    args: dict  # decoded arguments (JSON strings in forms decoded), token removed
    headers: dict  # request headers, names lower-cased
    at: float  # time.monotonic() on arrival
    status: int = 200  # HTTP status answered
    response: Any = None  # the JSON answered (a str for hooks/uploads and error pages)

    @property
    def ok(self) -> bool:
        return self.status == 200 and (
            not isinstance(self.response, dict) or self.response.get("ok") is True
        )


@dataclass
class _Rule:
    status: int | None
    error: str | None
    retry_after: int
    delay: float
    times: int


class SlackError(Exception):
    """Raised inside a method to answer ``{"ok": false, "error": code}``."""


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake  # type: ignore[attr-defined]
        status, headers, payload = fake._serve(self.path, dict(self.headers.items()), body)
        with contextlib.suppress(ConnectionError):  # the client gave up waiting (timeout)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        pass


class FakeSlack(LocalServer):
    handler = None  # set below, once _Handler is defined

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.socket_url: str | None = None  # what apps.connections.open hands out, when set
        self._cond = threading.Condition(threading.RLock())
        super().__init__()
        self._users: dict[str, dict] = {}
        self.reset()

    @property
    def base_url(self) -> str:
        return self.url + "api/"

    # ---- programming the fake
    def reset(self) -> None:
        """Forget calls, messages, views, files, failures and slowness (users are kept)."""
        with self._cond:
            self._calls: list[Call] = []
            self._messages: dict[tuple[str, str], dict] = {}
            self._views: dict[str, dict] = {}
            self._files: dict[str, dict] = {}
            self._hooks: dict[str, tuple[str | None, str | None]] = {}
            self._opened: set[str] = set()
            self._rules: dict[str, list[_Rule]] = {}
            self._channel_errors: dict[str, str] = {}
            self._slow = 0.0
            self._ts = 0
            self._ids = itertools.count(1)

    def fail_next(self, method, *, status=None, error=None, retry_after=1, delay=0.0, times=1):
        """The next ``times`` calls of ``method`` ("*": any) get: ``status=429`` (the default) with
        ``Retry-After``; ``status=500``/``503``, an HTML page; ``error="code"``, HTTP 200 ok false;
        ``delay`` alone, the normal answer ``delay`` seconds late."""
        if status is None and error is None and not delay:
            status = 429
        with self._cond:
            self._rules.setdefault(method, []).append(
                _Rule(status, error, retry_after, delay, times)
            )

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` (0 to stop)."""
        self._slow = seconds

    def channel_error(self, channel: str, error: str) -> None:
        """Every call naming ``channel`` (or ``channel_id``) fails with ``error`` until reset."""
        self._channel_errors[channel] = error

    def add_user(self, user_id: str, **fields: Any) -> dict:
        """Set fields of what ``users.info`` answers for ``user_id``."""
        user = self._users.setdefault(user_id, self._default_user(user_id))
        user.update(fields)
        for key in ("real_name", "display_name", "email"):
            if key in fields:
                user["profile"][key] = fields[key]
        return user

    def response_url(self, name: str, *, channel: str | None = None, ts: str | None = None) -> str:
        """A response_url on the fake; with channel/ts, ``replace_original``/``delete_original``
        posts change that message."""
        with self._cond:
            self._hooks[name] = (channel, ts)
        return f"{self.url}hooks/{name}"

    # ---- reading what happened
    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(self, method, count=1, timeout=5.0, predicate=None) -> list[Call]:
        """Wait until ``count`` calls of ``method`` (matching ``predicate(call)``) arrived; return
        all matching calls so far, or raise AssertionError listing what was received."""

        def matching() -> list[Call]:
            return [c for c in self.calls(method) if not predicate or predicate(c)]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                return matching()
            seen = [f"{c.method} -> {c.status} {str(c.args)[:200]}" for c in self._calls]
        got = "\n  ".join(seen) or "(nothing)"
        raise AssertionError(f"expected {count} x {method} in {timeout}s; received:\n  {got}")

    def message(self, channel: str, ts: str) -> dict | None:
        """The current state of a posted message, or None (never posted, or deleted)."""
        with self._cond:
            return copy.deepcopy(self._messages.get((channel, ts)))

    def messages(self, channel: str) -> list[dict]:
        with self._cond:
            return [copy.deepcopy(m) for (ch, _), m in self._messages.items() if ch == channel]

    def view(self, view_id: str) -> dict | None:
        with self._cond:
            return copy.deepcopy(self._views.get(view_id))

    def home(self, user_id: str) -> dict | None:
        """The Home tab last published for ``user_id``."""
        return self.view(self._home_id(user_id))

    def file(self, file_id: str) -> dict | None:
        """An uploaded file: ``name``, ``length``, ``data`` (bytes), and after completion
        ``title``, ``channel_id``, ``initial_comment``, ``thread_ts``."""
        with self._cond:
            return copy.deepcopy(self._files.get(file_id))

    def share(self, user: str, name: str, data: bytes, mimetype: str | None = None) -> dict:
        """A file ``user`` shares: the file object of its ``file_share`` event, whose
        ``url_private_download`` the fake serves to the bot token (to any other, the sign-in
        page, as Slack does)."""
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        with self._cond:
            fid = self._new_id("F")
            path = f"files-pri/{TEAM_ID}-{fid}"
            self._files[fid] = {"id": fid, "name": name, "length": len(data), "data": data,
                                "mimetype": mimetype, "user": user}  # fmt: skip
        return {
            "id": fid, "created": int(time.time()), "timestamp": int(time.time()), "name": name,
            "title": name, "mimetype": mimetype, "filetype": name.rpartition(".")[2],
            "user": user, "mode": "hosted", "size": len(data), "is_external": False,
            "url_private": f"{self.url}{path}/{name}",
            "url_private_download": f"{self.url}{path}/download/{name}",
        }  # fmt: skip

    def responses(self, name: str) -> list[dict]:
        """The JSON bodies posted to ``response_url(name)``."""
        return [c.args for c in self.calls(f"hooks/{name}")]

    # ---- HTTP
    def _serve(self, path: str, raw_headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        url = urlsplit(path)
        headers = {k.lower(): v for k, v in raw_headers.items()}
        at = time.monotonic()
        kind, _, name = url.path.lstrip("/").partition("/")
        method = {"api": name, "hooks": f"hooks/{name}", "upload": "upload"}.get(kind, url.path)
        if kind == "upload":
            args = {"file_id": name.rpartition("/")[2], "size": len(body)}
        else:
            args = self._decode(url.query, headers.get("content-type", ""), body, kind)
        with self._cond:
            rule = self._take_rule(method)
            try:
                status, extra, answer = self._answer(kind, method, args, headers, body, rule)
            except Exception as exc:  # a bug in the fake: answer 500 and show it in calls()
                status, extra, answer = 500, {}, f"fake_slack crashed: {exc!r}"
            self._calls.append(Call(method, args, headers, at, status, answer))
            self._cond.notify_all()
        delay = self._slow + (rule.delay if rule else 0.0)
        if delay:
            self._stopping.wait(delay)
        if isinstance(answer, bytes):
            return status, extra, answer
        if isinstance(answer, dict):
            extra["Content-Type"] = "application/json; charset=utf-8"
            return status, extra, json.dumps(answer).encode()
        extra.setdefault("Content-Type", "text/plain; charset=utf-8")
        return status, extra, str(answer).encode()

    @staticmethod
    def _decode(query: str, content_type: str, body: bytes, kind: str) -> dict:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        if content_type.split(";")[0].strip() == "application/json" or kind == "hooks":
            try:
                args.update(json.loads(body or b"{}"))
            except (ValueError, TypeError):
                args["_raw"] = body.decode("utf-8", "replace")
        else:
            args.update(parse_qsl(body.decode(), keep_blank_values=True))
        for key in JSON_FIELDS:
            with contextlib.suppress(KeyError, TypeError, ValueError):  # a bad one stays a string
                args[key] = json.loads(args[key])
        return args

    def _answer(self, kind, method, args, headers, body, rule) -> tuple[int, dict, Any]:
        status, error = (rule.status, rule.error) if rule else (None, None)
        if status == 429:
            limited = {"ok": False, "error": "ratelimited"}
            return 429, {"Retry-After": str(rule.retry_after)}, limited
        if status:
            page = f"<html><body><h1>{status} Server Error</h1></body></html>"
            return status, {"Content-Type": "text/html"}, page
        if kind == "hooks":
            return (404, {}, error) if error else self._hook(method[6:], args)
        if kind == "upload":
            return self._upload(args["file_id"], body)
        if kind == "files-pri":
            return self._download(
                method.lstrip("/").partition("/")[2], headers.get("authorization", "")
            )
        if kind != "api":
            return 404, {}, "not found"
        bearer = headers.get("authorization", "")
        token = args.pop("token", None) or bearer.removeprefix("Bearer ").strip() or None
        try:
            if token is None:
                raise SlackError("not_authed")
            app_level = method == "apps.connections.open"
            if token != (APP_TOKEN if app_level else self.token):
                known = token in (APP_TOKEN, self.token)
                raise SlackError("not_allowed_token_type" if known else "invalid_auth")
            if error:
                raise SlackError(error)
            for key in ("channel", "channel_id"):
                if args.get(key) in self._channel_errors:
                    raise SlackError(self._channel_errors[args[key]])
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                raise SlackError("unknown_method")
            return 200, {}, {"ok": True, **handler(args)}
        except SlackError as err:
            return 200, {}, {"ok": False, "error": str(err)}

    def _hook(self, name: str, payload: dict) -> tuple[int, dict, str]:
        if "_raw" in payload:
            return 400, {}, "invalid_payload"
        channel, ts = self._hooks.get(name, (None, None))
        if channel and ts and (channel, ts) in self._messages:
            if payload.get("delete_original") in (True, "true"):
                del self._messages[(channel, ts)]
            elif payload.get("replace_original") in (True, "true"):
                msg = self._messages[(channel, ts)]
                for key in CONTENT:  # the whole content is replaced
                    msg.pop(key, None)
                msg.update({k: payload[k] for k in CONTENT if k in payload})
        return 200, {}, "ok"

    # ---- helpers for methods
    def _next_ts(self) -> str:
        self._ts = max(self._ts + 100, int(time.time() * 1_000_000))
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08X}"

    @staticmethod
    def _check_content(a: dict) -> None:
        blocks = a.get("blocks", [])
        if isinstance(blocks, str):
            raise SlackError("invalid_blocks_format")  # a form field that is not valid JSON
        if len(blocks) > 50 or not all(isinstance(b, dict) and b.get("type") for b in blocks):
            raise SlackError("invalid_blocks")
        if not (a.get("text") or blocks or a.get("attachments")):
            raise SlackError("no_text")

    def _channel(self, a: dict) -> str:
        channel = a.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        return dm_channel_id(channel) if channel[0] in "UW" else channel

    @staticmethod
    def _default_user(user_id: str) -> dict:
        name = user_id.lower()
        return {
            "id": user_id, "team_id": TEAM_ID, "name": name, "deleted": False,
            "real_name": f"User {user_id}", "tz": "Asia/Shanghai", "tz_offset": 28800,
            "is_admin": False, "is_bot": False, "is_app_user": False,
            "profile": {"real_name": f"User {user_id}", "display_name": name,
                        "email": f"{name}@example.com"},
        }  # fmt: skip

    def _home_id(self, user_id: str) -> str:
        return "V" + hashlib.sha1(f"home:{user_id}".encode()).hexdigest()[:10].upper()

    def _store_view(self, a: dict, view_id: str, kind: str, previous: dict | None) -> dict:
        view = a.get("view")
        if not isinstance(view, dict) or view.get("type") != kind:
            raise SlackError("invalid_arguments")
        if previous and a.get("hash") and a["hash"] != previous["hash"]:
            raise SlackError("hash_conflict")
        stored = {k: view.get(k, default) for k, default in VIEW_FIELDS.items()} | {
            "id": view_id, "team_id": TEAM_ID, "state": {"values": {}}, "root_view_id": view_id,
            "hash": f"{time.time():.6f}.{next(self._ids):08x}", "previous_view_id": None,
            "app_id": APP_ID, "app_installed_team_id": TEAM_ID, "bot_id": BOT_ID,
        }  # fmt: skip
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    # ---- Web API methods: _m_<method with dots as underscores>(args) -> extra response fields
    def _m_apps_connections_open(self, a: dict) -> dict:
        if self.socket_url is None:
            raise SlackError("internal_error")
        return {"url": self.socket_url}

    def _m_auth_test(self, a: dict) -> dict:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/", "team": TEAM_NAME, "user": BOT_NAME,
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }  # fmt: skip

    def _m_chat_postMessage(self, a: dict) -> dict:
        channel = self._channel(a)
        self._check_content(a)
        ts = self._next_ts()
        msg = {"type": "message", "text": a.get("text", ""), "user": BOT_USER_ID, "bot_id": BOT_ID,
               "app_id": APP_ID, "team": TEAM_ID, "ts": ts}  # fmt: skip
        msg.update({k: a[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in a})
        self._messages[(channel, ts)] = msg
        return {"channel": channel, "ts": ts, "message": copy.deepcopy(msg)}

    def _m_chat_update(self, a: dict) -> dict:
        channel, ts = a.get("channel") or "", a.get("ts") or ""
        if not channel or channel[0] in "UW":
            raise SlackError("channel_not_found")  # chat.update needs the D-id, not a user id
        msg = self._messages.get((channel, ts))
        if msg is None:
            raise SlackError("message_not_found")
        self._check_content(a)
        msg.update({k: a[k] for k in CONTENT if k in a})  # omitted blocks/attachments are kept
        msg["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"channel": channel, "ts": ts, "text": msg["text"], "message": copy.deepcopy(msg)}

    def _m_chat_delete(self, a: dict) -> dict:
        if self._messages.pop((a.get("channel"), a.get("ts")), None) is None:
            raise SlackError("message_not_found")
        return {"channel": a["channel"], "ts": a["ts"]}

    def _m_chat_postEphemeral(self, a: dict) -> dict:
        self._channel(a)
        if not a.get("user"):
            raise SlackError("user_not_found")
        self._check_content(a)
        return {"message_ts": self._next_ts()}  # not stored: ephemeral messages can't be updated

    def _m_conversations_open(self, a: dict) -> dict:
        users = [u for u in str(a.get("users") or "").split(",") if u]
        if not users:
            if a.get("channel"):
                return {"channel": {"id": a["channel"]}}
            raise SlackError("users_list_not_supplied")
        key = ",".join(sorted(users))  # several users: a group DM
        cid = dm_channel_id(key) if len(users) == 1 else "G" + dm_channel_id(key)[1:]
        extra = {"no_op": True, "already_open": True} if key in self._opened else {}
        self._opened.add(key)
        return {**extra, "channel": {"id": cid}}

    def _m_views_open(self, a: dict) -> dict:
        if not a.get("trigger_id") and not a.get("interactivity_pointer"):
            raise SlackError("invalid_arguments")
        return self._store_view(a, self._new_id("V"), "modal", None)

    _m_views_push = _m_views_open

    def _m_views_update(self, a: dict) -> dict:
        old = self._views.get(a.get("view_id", "")) or next(
            (v for v in self._views.values() if a.get("external_id") == v["external_id"] != ""),
            None,
        )
        if old is None:
            raise SlackError("not_found")
        return self._store_view(a, old["id"], old["type"], old)

    def _m_views_publish(self, a: dict) -> dict:
        if not a.get("user_id"):
            raise SlackError("invalid_arguments")
        view_id = self._home_id(a["user_id"])
        return self._store_view(a, view_id, "home", self._views.get(view_id))

    def _m_users_info(self, a: dict) -> dict:
        uid = a.get("user", "")
        if uid not in self._users and not re.fullmatch(r"[UW][A-Z0-9]+", uid):
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(self._users.get(uid) or self._default_user(uid))}

    def _m_files_getUploadURLExternal(self, a: dict) -> dict:
        if not a.get("filename") or not str(a.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        fid = self._new_id("F")
        self._files[fid] = {"id": fid, "name": a["filename"], "length": int(a["length"])}
        return {"upload_url": f"{self.url}upload/v1/{fid}", "file_id": fid}

    def _upload(self, file_id: str, body: bytes) -> tuple[int, dict, str]:
        if file_id not in self._files:
            return 404, {}, "file_not_found"
        self._files[file_id]["data"] = body
        return 200, {}, f"OK - {len(body)}"

    def _download(self, path: str, authorization: str) -> tuple[int, dict, Any]:
        file = self._files.get(path.partition("/")[0].rpartition("-")[2])
        if file is None or "mimetype" not in file:
            return 404, {}, "file_not_found"
        if authorization != f"Bearer {self.token}":  # Slack answers its sign-in page
            page = "<!DOCTYPE html><html><body>Sign in to Maint Test</body></html>"
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        return 200, {"Content-Type": file["mimetype"]}, file["data"]

    def _m_files_completeUploadExternal(self, a: dict) -> dict:
        files = a.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        out = []
        for item in files:
            rec = self._files.get(item.get("id", ""))
            if rec is None or "data" not in rec:
                raise SlackError("file_not_found")
            rec["title"] = item.get("title") or rec["name"]
            rec.update({k: a.get(k) for k in ("channel_id", "initial_comment", "thread_ts")})
            mimetype = mimetypes.guess_type(rec["name"])[0] or "application/octet-stream"
            out.append({
                "id": rec["id"], "created": int(time.time()), "name": rec["name"],
                "title": rec["title"], "mimetype": mimetype, "user": BOT_USER_ID,
                "size": len(rec["data"]), "url_private":
                f"https://files.slack.com/files-pri/{TEAM_ID}-{rec['id']}/{rec['name']}",
            })  # fmt: skip
        return {"files": out}


FakeSlack.handler = _Handler
