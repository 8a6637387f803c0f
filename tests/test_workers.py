"""The core's worker processes (``bot.workers``): calls run in other processes, a call that
queued a notice wakes the courier, and a worker that dies is replaced."""

import os
import threading
from concurrent.futures.process import BrokenProcessPool

import pytest

from bot import runtime
from bot.settings import Settings
from bot.workers import ProcessWorkers
from handlers.context import Origin
from handlers.core import Core
from handlers.messages import Text
from handlers.targets import Target
from tests.chat import platforms
from tests.conftest import ORG_FILE


def _pid(_core: Core) -> int:
    return os.getpid()


def _die(_core: Core) -> None:
    os._exit(3)  # as the kernel's OOM killer would


@pytest.fixture
def workers(tmp_path):
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    settings = Settings(database_url=url, config=ORG_FILE, locale="en")
    runtime.build(settings, senders={}).db.dispose()  # migrated and seeded, as by serve
    woken = threading.Event()
    pool = ProcessWorkers(settings, platforms("console"), 2, woken.set)
    pool.woken = woken  # type: ignore[attr-defined]
    yield pool
    pool.close()


def test_calls_run_in_worker_processes_all_started_at_once(workers):
    pids = {workers.submit(_pid).result(timeout=30) for _ in range(20)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_a_call_that_queued_a_notice_wakes_the_courier(workers):
    answer = workers.submit(Core.handle_text, Origin("console", "alice"), "whoami")
    assert "Alice Engineer" in str(answer.result(timeout=30))
    assert not workers.woken.is_set()  # an answer only: nothing queued
    later = [(Target.person("alice"), Text("later"))]
    queued = workers.submit(Core.reply_later, Origin("console", "alice"), later)
    queued.result(timeout=30)
    assert workers.woken.is_set()


@pytest.mark.logs_errors("bot.workers")
def test_a_worker_that_dies_is_replaced(workers):
    with pytest.raises(BrokenProcessPool):
        workers.submit(_die).result(timeout=30)
    assert workers.submit(_pid).result(timeout=60) != os.getpid()  # a fresh pool took over
