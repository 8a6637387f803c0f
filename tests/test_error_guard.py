"""The internal-error guard of tests/conftest.py: a test fails when the product logged an ERROR
it did not declare, whether a command, a deadline firer or the outbox courier caught it."""

import pytest

pytest_plugins = ["pytester"]

INNER = """
from datetime import timedelta

import pytest

from bot.delivery import Deliverer, DeliveryError
from handlers import deadlines


def boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_a_crashing_deadline_firer(chat, clock, monkeypatch):
    monkeypatch.setitem(deadlines.FIRERS, "fault.respond", boom)
    chat.text("alice", "fault declare 1 Core switch down")
    clock.advance(timedelta(minutes=5))
    assert chat.core.sweep_deadlines() >= 1  # the sweep goes on; only the log shows it


def test_a_crashing_command(chat, monkeypatch):
    monkeypatch.setattr("handlers.core.tokenize", boom)
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
def test_a_declared_logger_allows_no_other(chat, clock, monkeypatch):
    deliver_to_nobody(chat, clock)
    monkeypatch.setitem(deadlines.FIRERS, "fault.respond", boom)
    clock.advance(timedelta(minutes=5))
    chat.core.sweep_deadlines()
"""


@pytest.mark.logs_errors("handlers", "bot")  # the inner run logs them, in this process
def test_undeclared_errors_fail_the_test_and_declared_ones_do_not(pytester):
    pytester.makeconftest("from tests.conftest import *  # noqa: F403")
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=4)  # each ran through, then failed at teardown
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
