"""The served app, started for real on loopback, for end-to-end Slack tests.

``served(fake, database_url, workdir)`` runs ``maintbot serve --port P`` as a subprocess with the
Slack settings pointing at a :class:`~tests.fake_slack.FakeSlack`, waits for ``GET /healthz`` and
stops it (terminate, wait) at the end. ``served_in_process(...)`` runs the same app
(``bot.server.create_app``) on a uvicorn server in a thread, for tests that patch a seam in the
process or need a fake clock. Both yield a :class:`ServedBot`: a small HTTP client signing requests
as Slack does, plus readers of the database state.

Module fixtures, for a test module to take (one server per module and backend: tests use
distinct visits): ``served_url`` (a migrated database of each backend chosen by
``MAINTBOT_TEST_DATABASES``), ``fake`` (a FakeSlack) and ``bot`` (the subprocess server on both).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import Clock
from handlers.refs import parse_ref
from storage import migrate
from storage.db import Database
from storage.models import AuditEntry, Fault, OutboxMessage, Shutdown, Visit
from tests import slack_requests as sr
from tests.conftest import BACKENDS, ORG_FILE, _scratch_database, undeclared
from tests.fake_slack import FakeSlack, dm_channel_id

BIN = Path(sys.executable).with_name("maintbot")
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "bot.cli"]
HOST = "127.0.0.1"
ACTIONS = "actions"
SUBJECTS = {"visit": Visit, "fault": Fault, "shutdown": Shutdown}  # a reference's row
# an ERROR (or worse) line of the served log, in bot.settings.configure_logging's format
ERROR_LINE = re.compile(r"^\S+ \S+ (?:ERROR|CRITICAL) (\S+): .*$", re.M)


def served_errors(log: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The ERROR lines the product's loggers wrote to a served log, but those of ``allowed``."""
    return [m.group() for m in ERROR_LINE.finditer(log) if undeclared(m[1], allowed)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def mentions(text: str, ref: str) -> bool:
    """``ref`` (``V-1``) appears in ``text`` as a whole reference (not inside ``V-12``)."""
    return re.search(rf"(?<![\w-]){re.escape(ref)}(?!\d)", text or "") is not None


def texts(value: Any) -> str:
    """Every string inside a JSON value (blocks, a view), one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return "\n".join(texts(v) for v in value)
    return ""


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str]
    elapsed: float  # seconds from sending the request to reading the whole answer

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


@dataclass
class ServedBot:
    url: str  # http://127.0.0.1:PORT
    fake: FakeSlack
    db: Database  # the served database, read by the test
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    # ---- HTTP
    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None, timeout=10.0
    ) -> Reply:
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            text = answer.read().decode("utf-8", "replace")
            return Reply(
                answer.status,
                text,
                {k.lower(): v for k, v in answer.getheaders()},
                time.monotonic() - started,
            )
        finally:
            conn.close()

    def post(
        self, body: bytes | tuple[bytes, dict], headers: dict | None = None, *, timeout=10.0
    ) -> Reply:
        """POST /slack/events; ``body`` may be a ``(body, headers)`` pair from slack_requests."""
        if isinstance(body, tuple):
            body, signed = body
            headers = {**signed, **(headers or {})}
        return self.request("POST", "/slack/events", body, headers, timeout)

    def get(self, path: str, *, timeout=10.0) -> Reply:
        return self.request("GET", path, timeout=timeout)

    # ---- WeCom callbacks (requests made by tests.wecom_requests.WeComCallback)
    def wecom(self, request: tuple[dict, bytes], *, timeout=10.0) -> Reply:
        """POST an encrypted callback to /wecom/callback as WeCom does."""
        query, body = request
        path = "/wecom/callback?" + urllib.parse.urlencode(query)
        return self.request("POST", path, body, {"Content-Type": "text/xml"}, timeout)

    def wecom_verify(self, query: dict, *, timeout=10.0) -> Reply:
        return self.get("/wecom/callback?" + urllib.parse.urlencode(query), timeout=timeout)

    # ---- Slack gestures
    def command(self, text: str, user: str, channel: str = "CMAINT", hook: str | None = None):
        """``/maint text`` typed by ``user``; a late answer goes to ``fake.responses(hook)``."""
        url = self.fake.response_url(hook) if hook else None
        return self.post(sr.slash_command(text, user, channel, response_url=url))

    def answer(self, text: str, user: str, channel: str = "CMAINT") -> dict:
        """The answer to ``/maint text``: in the acknowledgement, or at its response URL when it
        comes late (the ack then says "working on it")."""
        hook = f"cmd-{uuid.uuid4().hex[:10]}"
        reply = self.command(text, user, channel, hook=hook)
        assert reply.status == 200, reply.text
        if reply.json and reply.json.get("blocks"):  # not the "working on it" placeholder
            return reply.json
        return self.fake.wait_for(f"hooks/{hook}")[0].args

    def button(self, channel: str, ts: str, action_id: str) -> tuple[dict, dict]:
        """The (actions block, button) with ``action_id`` in the message as the fake holds it."""
        message = self.fake.message(channel, ts)
        assert message is not None, f"no message {channel}:{ts} on the fake"
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block["type"] == ACTIONS else []:
                if element.get("action_id") == action_id:
                    return block, element
        ids = [
            e.get("action_id")
            for b in message.get("blocks", [])
            if b["type"] == ACTIONS
            for e in b["elements"]
        ]
        raise AssertionError(f"no button {action_id} in {channel}:{ts}; buttons: {ids}")

    def click_request(
        self, user: str, channel: str, ts: str, action_id: str, hook: str, **kw
    ) -> tuple[bytes, dict]:
        """The signed block_actions request of ``user`` clicking a button of a posted card."""
        block, button = self.button(channel, ts, action_id)
        return sr.block_actions(
            user,
            action_id,
            button["value"],
            channel_id=channel,
            message_ts=ts,
            block_id=block["block_id"],
            message=self.fake.message(channel, ts),
            response_url=self.fake.response_url(hook, channel=channel, ts=ts),
            **kw,
        )

    def click(self, user: str, channel: str, ts: str, action_id: str, hook: str, **kw) -> Reply:
        return self.post(self.click_request(user, channel, ts, action_id, hook, **kw))

    def modal(self, trigger_id: str, timeout: float = 10.0) -> dict:
        """The view the bot opened (views.open) with ``trigger_id``."""
        calls = self.fake.wait_for(
            "views.open", 1, timeout, lambda c: c.ok and c.args.get("trigger_id") == trigger_id
        )
        return calls[0].args["view"]

    def submit(self, user: str, view: dict, values: dict[str, str | None]) -> Reply:
        """Submit the modal ``view`` as ``user`` filled it: ``{block_id: text or None}`` (None:
        left empty, sent as Slack does with ``value: null``)."""
        state = {
            block: {"value": {"type": "plain_text_input", "value": text}}
            for block, text in values.items()
        }
        return self.post(
            sr.view_submission(
                user, view["callback_id"], state, private_metadata=view["private_metadata"]
            )
        )

    # ---- what the fake received
    def posted(self, channel: str, ref: str, count: int = 1, timeout: float = 10.0) -> list:
        """Wait for ``count`` successful chat.postMessage calls to ``channel`` naming ``ref``."""
        return self.fake.wait_for(
            "chat.postMessage",
            count,
            timeout,
            lambda c: c.ok and c.response["channel"] == channel and mentions(c.args["text"], ref),
        )

    def card(self, ref: str, channel: str = "CVISITS", timeout: float = 10.0) -> tuple[str, str]:
        """(channel, ts) of the card of ``ref`` posted to ``channel``."""
        call = self.posted(channel, ref, timeout=timeout)[0]
        return call.response["channel"], call.response["ts"]

    # ---- the database
    def visit(self, ref: str) -> Visit | None:
        with self.db.unit_of_work() as session:
            return session.get(Visit, parse_ref(ref, expected="visit")[1])

    def state(self, ref: str) -> str | None:
        """The state of a visit, a fault or a shutdown, by its reference."""
        kind, ident = parse_ref(ref)
        with self.db.unit_of_work() as session:
            subject = session.get(SUBJECTS[kind], ident)
            return subject.state if subject else None

    def wait_state(self, ref: str, state: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (current := self.state(ref)) != state:
            if time.monotonic() > deadline:
                raise AssertionError(f"{ref} is {current}, not {state} after {timeout}s")
            time.sleep(0.05)

    def visit_by_task(self, task: str, timeout: float = 10.0) -> str:
        """The reference of the visit with this task, once it exists."""
        deadline = time.monotonic() + timeout
        while True:
            with self.db.unit_of_work() as session:
                ident = session.scalar(select(Visit.id).where(Visit.task == task))
            if ident is not None:
                return f"V-{ident}"
            if time.monotonic() > deadline:
                raise AssertionError(f"no visit with task {task!r} after {timeout}s")
            time.sleep(0.05)

    def audit(self, ref: str, action: str | None = None) -> list[AuditEntry]:
        kind, ident = parse_ref(ref)
        query = select(AuditEntry).where(
            AuditEntry.subject_type == kind, AuditEntry.subject_id == ident
        )
        if action:
            query = query.where(AuditEntry.action == action)
        with self.db.unit_of_work() as session:
            return list(session.scalars(query.order_by(AuditEntry.id)))

    def outbox(self, **where) -> list[OutboxMessage]:
        query = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        with self.db.unit_of_work() as session:
            return list(session.scalars(query))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox has nothing left to send (nothing pending or being sent)."""
        deadline = time.monotonic() + timeout
        while busy := [r for r in self.outbox() if r.status in ("pending", "sending")]:
            if time.monotonic() > deadline:
                rows = [(r.id, r.target_kind, r.target, r.status, r.last_error) for r in busy]
                raise AssertionError(f"outbox not drained after {timeout}s: {rows}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path else ""


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met after {timeout}s")
        time.sleep(0.05)
    return result


# ---- what a person sees at the fake Slack: direct messages, cards and their buttons


def dms(fake: FakeSlack, user: str, ref: str) -> list:
    """Successful chat.postMessage calls into the bot's DM with ``user`` naming ``ref``."""
    channel = dm_channel_id(user)
    return [
        c
        for c in fake.calls("chat.postMessage")
        if c.ok and c.args.get("channel") == channel and mentions(c.args.get("text", ""), ref)
    ]


def wait_dm(fake: FakeSlack, user: str, ref: str, *words: str, timeout: float = 10.0) -> list:
    """Wait for a DM to ``user`` naming ``ref`` (and showing ``words``); all such DMs."""
    channel = dm_channel_id(user)
    return fake.wait_for(
        "chat.postMessage",
        1,
        timeout,
        lambda c: (
            c.ok
            and c.args.get("channel") == channel
            and mentions(c.args["text"], ref)
            and all(w in texts(c.args) for w in words)
        ),
    )


def buttons(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def context_text(message: dict) -> str:
    return " ".join(
        e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
    )


def wait_updated(fake: FakeSlack, channel: str, ts: str, state_label: str, timeout: float = 10.0):
    """Wait for chat.update of the message (channel, ts) showing ``state_label``."""
    fake.wait_for(
        "chat.update",
        1,
        timeout,
        lambda c: (
            c.ok
            and c.args["channel"] == channel
            and c.args["ts"] == ts
            and state_label in texts(c.args.get("blocks"))
        ),
    )
    return fake.message(channel, ts)


def serve_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without any MAINTBOT_* or SLACK_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("MAINTBOT_", "SLACK_"))}
    return env | (extra or {})


@contextlib.contextmanager
def served(
    fake: FakeSlack,
    database_url: str,
    workdir: Path,
    *,
    extra_env: dict | None = None,
    args: tuple[str, ...] = (),
    logs_errors: tuple[str, ...] = (),
) -> Iterator[ServedBot]:
    """``maintbot serve --port P [args]`` in a subprocess, ready when ``/healthz`` answers 200.
    Its log must hold no ERROR from the product's loggers but those of ``logs_errors``, as
    the internal-error guard asks of the tests' own process."""
    port = free_port()
    env = serve_env(
        {
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
            "SLACK_API_URL": fake.base_url,
            "MAINTBOT_CONFIG": str(ORG_FILE),
            "MAINTBOT_DATABASE_URL": database_url,
            "MAINTBOT_LOCALE": "en",
            "MAINTBOT_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",  # the log file is read by tests while the server runs
            **(extra_env or {}),
        }
    )
    log_path = workdir / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(port), *args],
            cwd=workdir,  # no .env from the repository
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    bot = ServedBot(f"http://{HOST}:{port}", fake, Database(database_url), log_path, proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"maintbot serve exited {proc.returncode}:\n{bot.log()}")
            with contextlib.suppress(OSError):
                if bot.get("/healthz", timeout=1).status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"maintbot serve did not come up in 30 s:\n{bot.log()}")
            time.sleep(0.05)
        yield bot
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung shutdown
            proc.kill()
            proc.wait()
        bot.db.dispose()
    errors = served_errors(bot.log(), logs_errors)
    if errors:
        pytest.fail("the served bot logged errors:\n" + "\n".join(errors), pytrace=False)


@contextlib.contextmanager
def served_in_process(
    fake: FakeSlack,
    database_url: str,
    *,
    clock: Clock | None = None,
    budget: float = 1.5,
    tick_seconds: float = 0.2,
    extra_settings: dict[str, Any] | None = None,
) -> Iterator[ServedBot]:
    """The same app as ``maintbot serve``, on uvicorn in a thread of this process
    (``extra_settings``: further settings, e.g. ``feed_token``)."""
    import uvicorn
    from slack_sdk import WebClient

    from bot import runtime
    from bot.answers import Answers
    from bot.server import Served, create_app
    from bot.settings import Settings
    from bot.slack.adapter import SlackAdapter
    from bot.slack.sender import SlackSender
    from bot.workers import ThreadWorkers

    settings = Settings(
        database_url=database_url, config=ORG_FILE, locale="en", **(extra_settings or {})
    )
    client = WebClient(token=fake.token, base_url=fake.base_url, timeout=10)
    rt = runtime.build(settings, senders={"slack": SlackSender(client)}, clock=clock)
    workers = ThreadWorkers(rt.core, min(4, rt.db.connections))
    answers = Answers(rt.core, workers, budget=budget)
    slack = SlackAdapter(client, signing_secret=sr.SIGNING_SECRET, answers=answers)
    app = create_app(Served(rt, workers, slack), tick_seconds=tick_seconds)
    port = free_port()
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    bot = ServedBot(f"http://{HOST}:{port}", fake, Database(database_url))
    bot.runtime = rt  # type: ignore[attr-defined]
    bot.slack = slack  # type: ignore[attr-defined]
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 30, "uvicorn start")
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield bot
    finally:
        server.should_exit = True
        thread.join(15)
        bot.db.dispose()


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database of ``backend`` of its own (a SQLite file in ``workdir``)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'served.sqlite3'}"  # `maintbot serve` migrates SQLite
        return
    with contextlib.contextmanager(_scratch_database)(backend) as url:
        db = Database(url)
        migrate.upgrade(db.engine)
        db.dispose()
        yield url


# ---- module fixtures; a test module takes them with
#   bot, fake, served_url = slack_server.bot, slack_server.fake, slack_server.served_url


@pytest.fixture(scope="module", params=BACKENDS)
def served_url(request, tmp_path_factory) -> Iterator[str]:
    with database(request.param, tmp_path_factory.mktemp("served-db")) as url:
        yield url


@pytest.fixture(scope="module")
def fake(served_url) -> Iterator[FakeSlack]:
    """A fake Slack per module and backend: each backend's server numbers its visits from V-1."""
    with FakeSlack() as f:
        yield f


def declared_errors(module: pytest.Module) -> tuple[str, ...]:
    """The loggers the module's tests declare they provoke ERRORs from (``logs_errors``): the
    served bot they share may log those."""
    tests = [i for i in module.session.items if i.getparent(pytest.Module) is module]
    return tuple({name for i in tests for m in i.iter_markers("logs_errors") for name in m.args})


@pytest.fixture(scope="module")
def bot(request, fake, served_url, tmp_path_factory) -> Iterator[ServedBot]:
    workdir = tmp_path_factory.mktemp("serve")
    with served(fake, served_url, workdir, logs_errors=declared_errors(request.node)) as b:
        yield b
