"""Signed ``/maint`` slash commands, as Slack sends them, and what maintbot's acknowledgements
say: answered inline, deferred ("⏳ working on it") or refused ("overloaded, try again")."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from benchmarks.kit.load import Request
from benchmarks.kit.servers import SetupError, http_request
from tests.slack_requests import slash_command

CHANNEL = "CBENCH"
# the "working on it" acknowledgement starts with this in every catalog (slack.working)
WORKING_MARKS = ("⏳".encode(), b"\\u23f3")
# a command refused because the bot is overloaded (slack.busy, MAINTBOT_LOCALE=en)
BUSY_MARK = b"overloaded"
KINDS = {  # a kind of request: its text and who sends it
    "help": ("help", "UALICE"),
    "list": ("visit list", "UBOB"),  # bob sees the seeded visits
    "modal": ("visit request", "UALICE"),  # a bare form command: acked at once, views.open after
}


def commands(mix: Sequence[str], hook_url: str | None) -> Callable[[], Request]:
    """A request builder for ``Load``: the kinds of ``mix`` in turn, each freshly signed (current
    timestamp, new trigger_id), answering to ``hook_url``."""
    kinds = itertools.cycle(mix)

    def next_request() -> Request:
        kind = next(kinds)
        text, user = KINDS[kind]
        body, headers = slash_command(text, user, CHANNEL, response_url=hook_url)
        return kind, "/slack/events", headers, body

    return next_request


def answer_kind(body: bytes) -> str:
    """``deferred``, ``refused``, or ``""`` for an answer given inline."""
    if any(mark in body for mark in WORKING_MARKS):
        return "deferred"
    return "refused" if BUSY_MARK in body else ""


def post(port: int, text: str, user: str, hook: str | None = None) -> tuple[int, dict]:
    """One command on its own connection: the HTTP status and the acknowledgement's JSON."""
    body, headers = slash_command(text, user, CHANNEL, response_url=hook)
    status, payload = http_request(port, "POST", "/slack/events", headers, body)
    try:
        return status, json.loads(payload or b"{}")
    except ValueError:
        return status, {"text": payload.decode(errors="replace")}


def seed_visits(port: int, count: int) -> int:
    """File ``count`` visit requests as alice, check that bob's ``visit list`` shows them and
    that help answers; returns help's number of blocks."""
    day = (datetime.now() + timedelta(days=4)).strftime("%Y-%m-%d")
    for i in range(count):
        text = (
            f'visit request at="{day} {9 + i % 8:02d}:00" duration=1h room=SH1/A101 '
            f'task="benchmark seed {i + 1}" id=passport:E1234{i:04d}'
        )
        status, answer = post(port, text, "UALICE")
        if status != 200 or "V-" not in json.dumps(answer, ensure_ascii=False):
            raise SetupError(f"seeding failed: HTTP {status} {answer}")
    status, answer = post(port, "visit list", "UBOB")
    rows = json.dumps(answer, ensure_ascii=False).count("V-")
    if status != 200 or rows < count:
        raise SetupError(f"visit list after seeding: HTTP {status}, {rows} refs: {answer}")
    status, answer = post(port, "help", "UALICE")
    if status != 200 or not answer.get("blocks"):
        raise SetupError(f"help: HTTP {status} {answer}")
    return len(answer["blocks"])


def settle(port: int, timeout: float = 60.0) -> bool:
    """Wait until a help command is answered inline and quickly again (backlogs drained)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        t0 = time.perf_counter()
        status, answer = post(port, "help", "UALICE")
        if status == 200 and time.perf_counter() - t0 < 0.2 and answer.get("blocks"):
            return True
        time.sleep(0.5)
    return False
