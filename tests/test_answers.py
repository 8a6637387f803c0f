"""Answer scheduling (``bot.answers``) on its own, and the outbox targets it writes: what an
acknowledgement carries, what the job that computed an answer queues itself, and the rare answer
that comes back after the acknowledgement went."""

from concurrent.futures import Future

import pytest

from bot.answers import MESSAGES, REFUSAL, WAY_BACK, Answers, Job, answer, queue
from bot.workers import ThreadWorkers
from handlers.context import Origin
from handlers.messages import File, Text
from handlers.targets import CHANNEL, PERSON, REPLACE, RESPONSE, THREAD, Target

ALICE = Origin("slack", "UALICE", "CMAINT")
HOOK = Target.reply_hook("CMAINT", "https://hooks.example/T1/abc")
DM = Target.person("UALICE")
FILE = File("audit.csv", "a,b\n", "text/csv")


def two_texts_and_a_file(_core) -> list:
    return [Text("first"), FILE, Text("second")]


def refused(_core) -> list:
    return [Text("no such room", tone="warning", field="room")]


def filed(_core) -> list:
    return [Text("V-1 filed", tone="success")]


def queued(chat) -> list[tuple[str, str, str]]:
    """(target_kind, target, text or file name) of every outbox row, in order."""
    return [
        (r.target_kind, r.target, r.payload.get("text") or r.payload.get("name"))
        for r in chat.outbox()
    ]


def content(replies):
    return {"carried": replies}


class Counted(ThreadWorkers):
    """Threads that count the jobs they are given."""

    def __init__(self, core, size: int = 2) -> None:
        super().__init__(core, size)
        self.jobs = 0

    def submit(self, fn, *args) -> Future:
        self.jobs += 1
        return super().submit(fn, *args)


class SlowWayBack(Counted):
    """Threads whose results come back to the caller only when the test says so."""

    def __init__(self, core) -> None:
        super().__init__(core)
        self.held: list[tuple[Future, Future]] = []

    def submit(self, fn, *args) -> Future:
        back: Future = Future()
        self.held.append((super().submit(fn, *args), back))
        return back

    def come_back(self) -> None:
        while self.held:  # including the jobs that coming back starts
            done, back = self.held.pop(0)
            back.set_result(done.result(timeout=10))


@pytest.fixture
def workers(chat):
    pool = Counted(chat.core)
    yield pool
    pool.close()


@pytest.mark.parametrize(
    ("target", "columns"),
    [
        (Target.person("UALICE"), (PERSON, "UALICE")),
        (Target(CHANNEL, "webhook:KEY"), (CHANNEL, "webhook:KEY")),
        (Target.thread("CGENERAL", "1700000000.000100"), (THREAD, "CGENERAL:1700000000.000100")),
        (HOOK, (RESPONSE, "CMAINT https://hooks.example/T1/abc")),
        (Target.reply_hook("", "https://h.example/x", replace=True), (REPLACE, " https://h.example/x")),
    ],
)  # fmt: skip
def test_a_target_is_stored_in_the_outbox_columns_and_read_back(target, columns):
    assert target.encode() == columns
    assert Target.decode(*columns) == target


def test_an_answer_in_time_goes_in_the_acknowledgement_and_its_files_to_the_dm(chat, workers):
    answers = Answers(chat.core, workers, budget=30)
    pending = answers.ask(Job(ALICE, (two_texts_and_a_file,), HOOK, files=DM), MESSAGES, content)
    assert pending.settle_blocking() == {"carried": [Text("first"), Text("second")]}
    assert queued(chat) == [(PERSON, "UALICE", "audit.csv")]
    assert workers.jobs == 1


def test_a_late_answer_is_queued_by_the_job_that_computed_it(chat, workers):
    answers = Answers(chat.core, workers, budget=WAY_BACK)  # the job's deadline is now
    pending = answers.ask(Job(ALICE, (two_texts_and_a_file,), HOOK, files=DM), MESSAGES, content)
    assert pending.settle_blocking() == {"carried": None}
    workers.close()  # waits for anything else it might have been given
    assert queued(chat) == [
        (RESPONSE, str(HOOK), "first"),
        (RESPONSE, str(HOOK), "second"),
        (PERSON, "UALICE", "audit.csv"),
    ]
    assert workers.jobs == 1


def test_an_answer_back_after_the_acknowledgement_went_is_queued_then(chat):
    workers = SlowWayBack(chat.core)
    answers = Answers(chat.core, workers, budget=30)  # the job is in time...
    pending = answers.ask(Job(ALICE, (two_texts_and_a_file,), HOOK, files=DM), MESSAGES, content)
    workers.held[0][0].result(timeout=10)
    assert pending.settled() == {"carried": None}  # ...but the acknowledgement could not wait
    assert queued(chat) == [(PERSON, "UALICE", "audit.csv")]  # the job queued its files
    workers.come_back()
    workers.close()
    assert queued(chat) == [
        (PERSON, "UALICE", "audit.csv"),
        (RESPONSE, str(HOOK), "first"),
        (RESPONSE, str(HOOK), "second"),
    ]
    assert answers.busy == 0 and workers.jobs == 2  # a second job for this rare case only


def test_a_form_carries_a_lone_refusal_and_closes_on_anything_else(chat, workers):
    answers = Answers(chat.core, workers, budget=30)
    pending = answers.ask(Job(ALICE, (refused,), DM, files=DM), REFUSAL, content)
    assert pending.settle_blocking() == {"carried": refused(None)}
    assert queued(chat) == []
    pending = answers.ask(Job(ALICE, (filed,), DM, files=DM), REFUSAL, content)
    assert pending.settle_blocking() == {"carried": []}
    assert queued(chat) == [(PERSON, "UALICE", "V-1 filed")]


def test_a_click_answered_in_place_replaces_it_once_and_the_rest_follows(chat):
    replace = Target.reply_hook("CMAINT", "https://hooks.example/T1/abc", replace=True)
    queue(chat.core, Job(ALICE, (), replace), [Text("first"), Text("second")])
    assert queued(chat) == [(REPLACE, str(HOOK), "first"), (RESPONSE, str(HOOK), "second")]


def test_a_redelivered_request_is_answered_once(chat):
    mention = Job(ALICE, (filed,), Target.thread("CGENERAL", "1.2"), once="Ev1")
    assert answer(chat.core, mention) is None
    assert answer(chat.core, mention) is None
    assert queued(chat) == [(THREAD, "CGENERAL:1.2", "V-1 filed")]
