"""The internal-error guard of tests/conftest.py: a test fails when the product logged an ERROR
it did not declare, whether a command, a deadline firer or the outbox courier caught it, in the
tests' own process or in a served bot's log."""

import pytest

from tests.conftest import BACKENDS
from tests.slack_server import served_errors

pytest_plugins = ["pytester"]

INNER = """
from datetime import timedelta

import pytest

from bot.delivery import Deliverer, DeliveryError
from storage.models import Deadline


def break_the_fault_timers(chat):
    # declare a fault and take the mark out of its timers' payload: its real firer crashes
    chat.text("alice", "fault declare 1 Core switch down")
    with chat.core.db.unit_of_work() as session:
        for row in session.query(Deadline).filter_by(kind="fault.respond"):
            row.payload = {}
    chat.clock.advance(timedelta(minutes=5))


def test_a_crashing_deadline_firer(chat):
    break_the_fault_timers(chat)
    assert chat.core.sweep_deadlines() >= 1  # the sweep goes on; only the log shows it


def test_a_crashing_command(chat, monkeypatch):
    monkeypatch.setattr("handlers.core.tokenize", lambda text: 1 / 0)
    chat.say("alice", "whoami")  # answered with an incident id


class Refusing:
    def send(self, item):
        raise DeliveryError("channel_not_found", permanent=True)


def deliver_to_nobody(chat, clock):
    chat.text("alice", "fault declare 1 Core switch down")
    assert Deliverer(chat.core.db, clock, {"console": Refusing()}).run_once() >= 1


def test_a_delivery_that_gives_up(chat, clock):
    deliver_to_nobody(chat, clock)


@pytest.mark.logs_errors("bot.delivery")
def test_a_delivery_that_gives_up_on_purpose(chat, clock):
    deliver_to_nobody(chat, clock)


@pytest.mark.logs_errors("bot.delivery")
def test_a_declared_logger_allows_no_other(chat, clock):
    deliver_to_nobody(chat, clock)
    break_the_fault_timers(chat)
    chat.core.sweep_deadlines()
"""


@pytest.mark.logs_errors("handlers", "bot")  # the inner run logs them, in this process
def test_undeclared_errors_fail_the_test_and_declared_ones_do_not(pytester):
    pytester.makeconftest("from tests.conftest import *  # noqa: F403")
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    runs = len(BACKENDS)  # each test runs on every backend asked for
    result.assert_outcomes(passed=5 * runs, errors=4 * runs)  # errors: failed at teardown
    failed = {
        line.split("::")[1].split("[")[0]
        for line in result.outlines
        if line.startswith("ERROR test_inner.py::")
    }
    assert failed == {
        "test_a_crashing_deadline_firer",
        "test_a_crashing_command",
        "test_a_delivery_that_gives_up",
        "test_a_declared_logger_allows_no_other",
    }
    result.stdout.fnmatch_lines(["*the product logged errors:*", "*handlers.deadlines: *"])


SERVED_LOG = """\
2026-12-02 08:34:36,100 INFO bot.server: listening
2026-12-02 08:34:36,378 ERROR bot.delivery: outbox 12 to slack:CVISITS failed: not_in_channel
2026-12-02 08:34:36,400 ERROR slack_sdk.web.base_client: Failed to decode Slack API response
2026-12-02 08:34:36,500 WARNING bot.server: unreadable Slack request
2026-12-02 08:34:36,600 ERROR handlers.core: command failed [0a1b2c3d]: 'whoami' from slack
Traceback (most recent call last):
RuntimeError: ERROR bot.delivery: not a log line
"""


def test_a_served_bots_log_is_read_for_the_products_errors():
    delivery, core = SERVED_LOG.splitlines()[1], SERVED_LOG.splitlines()[4]
    assert served_errors(SERVED_LOG) == [delivery, core]
    assert served_errors(SERVED_LOG, ("bot.delivery",)) == [core]
    assert served_errors(SERVED_LOG, ("bot", "handlers")) == []
