"""`maintbot serve` start-up and health, and the served app under a slow or missing database.

Start-up is checked on the real command line; the rest runs the same app (``create_app``) on a
uvicorn server in a thread of the test process, so a seam can be slowed (``Core.handle_text``)
or the clock faked (the outbox's backoff).
"""

import concurrent.futures
import logging
import subprocess
import threading
import time
import uuid
from datetime import UTC, timedelta

import pytest

from bot.answers import SHORT_QUEUE
from bot.workers import ThreadWorkers
from handlers.clock import FakeClock
from handlers.core import Core
from tests import slack_requests as sr
from tests import slack_server
from tests.chat import catalog, opening
from tests.conftest import START
from tests.fake_slack import FakeSlack, dm_channel_id
from tests.slack_server import COMMAND, serve_env, served_in_process, wait_until

pytestmark = pytest.mark.slow

served_url = slack_server.served_url
ALICE, BOB = "UALICE", "UBOB"
REQUEST = 'visit request at="+3d 10:00" duration=2h room=SH1/A101 task="{}" id=passport:1234'


def one_line(returncode: int, stdout: str, stderr: str) -> str:
    assert returncode == 2, (returncode, stdout, stderr)
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("maintbot: "), stderr
    return lines[0]


TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
REFUSALS = {  # each is a second of interpreter start-up: the main cases only
    "nothing": ({}, (), "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
    "no secret": (
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        (),
        "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
    ),
    "socket mode": (TOKENS, ("--socket-mode",), "--socket-mode needs SLACK_APP_TOKEN"),
    "no workers": (TOKENS, ("--workers", "0"), "--workers must be 1 or more"),
    "half WeCom": (
        {"WECOM_CORP_ID": "ww1", "WECOM_SECRET": "s"},
        (),
        "WeCom is half configured: set WECOM_AGENT_ID, WECOM_TOKEN, WECOM_AES_KEY",
    ),
}


def test_serve_without_slack_settings_exits_2_with_one_line(tmp_path):
    database = {"MAINTBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    running = {
        name: subprocess.Popen(
            [*COMMAND, "serve", "--port", str(slack_server.free_port()), *args],
            cwd=tmp_path,
            env=serve_env(database | env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
        )
        for name, (env, args, _) in REFUSALS.items()
    }
    for name, proc in running.items():
        stdout, stderr = proc.communicate(timeout=60)
        assert REFUSALS[name][2] in one_line(proc.returncode, stdout, stderr), name
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching the database


@pytest.fixture
def fake():
    """A fake Slack for each test: every test here has a database of its own (V-1 again)."""
    with FakeSlack() as f:
        yield f


def test_commands_run_in_worker_processes(fake, served_url, tmp_path):
    with slack_server.served(fake, served_url, tmp_path, args=("--workers", "3")) as bot:
        assert bot.log().count("core worker process") == 3  # all started before serving
        # SLACK_BOT_TOKEN is set, as in production: Bolt has nothing to warn about
        assert "WARNING slack_bolt" not in bot.log(), bot.log()
        hook = f"workers-{uuid.uuid4().hex[:6]}"
        replies = [bot.command("help", ALICE, hook=f"{hook}-{i}") for i in range(6)]
        assert all(r.status == 200 and r.json["text"] for r in replies), replies
        mention = sr.app_mention("whoami", ALICE, "CGENERAL")
        assert bot.post(sr.event(mention)).status == 200
        fake.wait_for(  # a worker queued the answer; the serving process's courier sends it
            "chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == mention["ts"]
        )


def test_building_the_slack_app_logs_no_warning(tmp_path, fake, caplog, monkeypatch):
    """Bolt warned at every start that a token would be unused: nothing an operator can act on.
    The App gets the token from ``authorize`` alone, through a client that carries none."""
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    caplog.set_level(logging.WARNING)
    with served_in_process(fake, f"sqlite:///{tmp_path / 'bot.sqlite3'}") as bot:
        assert bot.command("whoami", ALICE).status == 200  # and it still authorizes requests
    assert [r.getMessage() for r in caplog.records if r.name.startswith("slack_bolt")] == []


@pytest.mark.logs_errors("bot.runtime", "handlers.core")  # the core cannot reach the database
def test_healthz_is_503_while_the_database_is_unreachable(tmp_path, fake):
    home = tmp_path / "data"
    home.mkdir()
    with served_in_process(fake, f"sqlite:///{home / 'bot.sqlite3'}") as bot:
        assert bot.get("/healthz").status == 200
        home.rename(tmp_path / "gone")  # the database file is no longer there
        bot.runtime.db.engine.dispose()  # nor open: the pool's connections are dropped
        reply = bot.get("/healthz")
        assert reply.status == 503 and reply.json == {"database": "unreachable"}
        # Slack still gets an answer: a polite one with an incident id, not a 500
        answer = bot.command("visit list", ALICE)
        assert answer.status == 200 and answer.elapsed < 3
        assert answer.json["text"].startswith(opening("error.internal", "incident"))
        assert "Traceback" not in answer.text
        (tmp_path / "gone").rename(home)
        assert bot.get("/healthz").status == 200
        listed = bot.command("visit list", ALICE).json["text"]
        assert listed.startswith(opening("visit.list_pending", "count"))


def test_a_slow_database_still_gets_acks_and_the_answers_follow(fake, served_url, mocker):
    real = Core.handle_text

    def slow(self, *args, **kwargs):
        time.sleep(2.5)  # longer than the 1.5 s the adapter waits before acking
        return real(self, *args, **kwargs)

    mocker.patch.object(Core, "handle_text", slow)
    with served_in_process(fake, served_url) as bot:
        hook = f"slowdb-{uuid.uuid4().hex[:6]}"
        body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id=hook)
        assert bot.post(body, headers).elapsed < 1  # a form opens without the database
        view = bot.modal(hook)
        task = f"Slow database {hook}"
        values = {"at": "+3d 10:00", "duration": "1h", "room": "SH1/B201", "task": task}
        mention = sr.app_mention("whoami", ALICE, "CGENERAL")
        requests = {
            "command": lambda: bot.command("visit list", BOB, hook=hook),
            "modal": lambda: bot.submit(ALICE, view, {**values, "id": "passport:1234"}),
            "mention": lambda: bot.post(sr.event(mention)),
        }
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = {name: pool.submit(send) for name, send in requests.items()}
            replies = {name: future.result() for name, future in futures.items()}
        assert all(r.status == 200 and r.elapsed < 3 for r in replies.values()), replies
        # the command is told to wait; the real answer follows through the response URL
        assert replies["command"].elapsed > 1
        assert replies["command"].json == {
            "response_type": "ephemeral",
            "text": catalog("slack.working"),
        }
        [late] = fake.wait_for(f"hooks/{hook}", timeout=10)
        assert late.args["text"].startswith(opening("visit.list_pending", "count"))
        # the modal closes within the budget; the request is filed and its answer comes by DM
        assert replies["modal"].text == ""
        ref = bot.visit_by_task(task)
        bot.posted(dm_channel_id(ALICE), ref)
        # the mention is acked at once and answered in its thread later
        assert replies["mention"].elapsed < 1
        fake.wait_for(
            "chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == mention["ts"]
        )


def gated_whoami(mocker) -> threading.Event:
    """``whoami`` waits in the core until the returned event is set (a queue that fills)."""
    real, gate = Core.handle_text, threading.Event()

    def gated(self, origin, text, *args, **kwargs):
        if text == "whoami":
            gate.wait(20)
        return real(self, origin, text, *args, **kwargs)

    mocker.patch.object(Core, "handle_text", gated)
    return gate


def test_with_a_long_queue_a_command_is_acked_at_once_and_answered_later(fake, served_url, mocker):
    gate = gated_whoami(mocker)
    with served_in_process(fake, served_url) as bot:
        hook = f"busy-{uuid.uuid4().hex[:6]}"
        answers = bot.slack.answers
        queue = answers.workers.size * SHORT_QUEUE  # jobs an acknowledgement still waits behind
        answers.max_backlog = queue + 1
        with concurrent.futures.ThreadPoolExecutor(queue) as pool:
            stuck = [
                pool.submit(bot.command, "whoami", ALICE, hook=f"{hook}-{i}") for i in range(queue)
            ]
            wait_until(lambda: answers.busy >= queue, 5, "a long queue")
            reply = bot.command("help", BOB, hook=hook)
            # no wait for the answer (the queue is long): it did not wait the budget out (under
            # load the ack itself may wait for a thread the stuck acks still hold: seen at 1.15 s)
            assert reply.elapsed < answers.budget, reply.elapsed
            assert reply.json["text"].startswith("⏳")
            assert all(f.result().json["text"].startswith("⏳") for f in stuck)  # waited 1.5 s
            # past the backlog limit a command is refused, and nothing is queued
            refused = bot.command("visit list", BOB, hook=f"{hook}-refused")
            assert refused.json["text"] == catalog("slack.busy")
            body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id=hook)
            assert bot.post(body, headers).status == 200  # a form still opens
            view = bot.modal(hook)
            full = bot.submit(ALICE, view, {"task": "Too busy"})
            busy = catalog("slack.busy")
            assert busy in full.json["errors"]["at"]  # the modal keeps what was typed
            gate.set()
        [late] = fake.wait_for(f"hooks/{hook}", timeout=10)
        assert late.args["text"] == catalog("help.title")
        for i in range(queue):
            [answer] = fake.wait_for(f"hooks/{hook}-{i}", timeout=10)
            assert "alice" in answer.args["text"]
        assert fake.calls(f"hooks/{hook}-refused") == []


def test_each_answer_reaches_the_outbox_from_the_job_that_computed_it(fake, served_url, mocker):
    """One worker job per request, whether its answer is late or closes a form: the job queues
    the answer itself (it went back to the serving process, then out again in a second job)."""
    jobs, submit = [], ThreadWorkers.submit

    def counted(self, fn, *args):
        jobs.append(fn)
        return submit(self, fn, *args)

    mocker.patch.object(ThreadWorkers, "submit", counted)
    gate = gated_whoami(mocker)
    with served_in_process(fake, served_url, budget=0.3) as bot:
        hook = f"once-{uuid.uuid4().hex[:6]}"
        assert bot.command(REQUEST.format(hook), ALICE, hook=f"{hook}-filed").status == 200
        ref = bot.visit_by_task(hook)
        channel, ts = bot.card(ref)
        before = len(jobs)
        assert bot.click(BOB, channel, ts, "visit.approve", f"{hook}-click").status == 200
        [answer] = fake.wait_for(f"hooks/{hook}-click", timeout=10)
        assert ref in answer.args["text"] and len(jobs) == before + 1  # the click's answer
        before = len(jobs)
        late = bot.command("whoami", ALICE, hook=f"{hook}-late")
        assert late.json["text"].startswith("⏳")  # the answer missed the acknowledgement
        gate.set()
        [answer] = fake.wait_for(f"hooks/{hook}-late", timeout=10)
        assert "alice" in answer.args["text"] and len(jobs) == before + 1
        body, headers = sr.slash_command("visit request", ALICE, "CMAINT", trigger_id=hook)
        assert bot.post(body, headers).status == 200
        view = bot.modal(hook)
        before = len(jobs)
        values = {"at": "+3d 11:00", "duration": "1h", "room": "SH1/B201", "task": f"{hook} form",
                  "id": "passport:1234"}  # fmt: skip
        assert bot.submit(ALICE, view, values).text == ""  # filed: the form closes
        filed = bot.visit_by_task(f"{hook} form")
        bot.posted(dm_channel_id(ALICE), filed)  # the answer, by DM
        assert len(jobs) == before + 1


def test_a_queued_notice_is_sent_at_once_not_at_the_next_tick(fake, served_url):
    with served_in_process(fake, served_url, tick_seconds=60) as bot:
        mention = sr.app_mention("whoami", ALICE, "CGENERAL")
        assert bot.post(sr.event(mention)).status == 200
        # well before the first 60 s round: the answer's commit woke the outbox courier
        fake.wait_for(
            "chat.postMessage",
            predicate=lambda c: c.args.get("thread_ts") == mention["ts"],
            timeout=5,
        )


def test_server_errors_are_retried_with_growing_backoff(tmp_path, fake):
    clock = FakeClock(START)
    url = f"sqlite:///{tmp_path / 'backoff.sqlite3'}"
    with served_in_process(fake, url, clock=clock, tick_seconds=0.1) as bot:
        fake.fail_next("chat.postMessage", status=503, times=3)
        mention = sr.app_mention("whoami", ALICE, "CGENERAL")
        assert bot.post(sr.event(mention)).status == 200
        target = f"CGENERAL:{mention['ts']}"

        def attempts():
            return [
                c
                for c in fake.calls("chat.postMessage")
                if c.args.get("thread_ts") == mention["ts"]
            ]

        delays = []
        for n in (1, 2, 3):
            [row] = slack_server.wait_until(
                lambda n=n: [
                    r
                    for r in bot.outbox(target=target)
                    if r.attempts == n and r.status == "pending"
                ],
                10,
                f"retry {n} scheduled",
            )
            delays.append((as_utc(row.next_attempt_at) - clock.now()).total_seconds())
            time.sleep(0.3)  # three ticks with the clock standing still: no early retry
            assert len(attempts()) == n
            clock.advance(timedelta(seconds=delays[-1] + 0.001))
        fake.wait_for(
            "chat.postMessage",
            predicate=lambda c: c.ok and c.args.get("thread_ts") == mention["ts"],
        )
        bot.settle()
        # 2 s, 4 s, 8 s, each ±20 %
        for delay, base in zip(delays, (2, 4, 8), strict=True):
            assert 0.8 * base <= delay <= 1.2 * base, delays
        assert [c.status for c in attempts()] == [503, 503, 503, 200]
        [row] = bot.outbox(target=target)
        assert row.status == "sent" and row.attempts == 4


def as_utc(value):
    return value if value.tzinfo else value.replace(tzinfo=UTC)
