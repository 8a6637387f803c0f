"""The outbox: notices are written with their cause and delivered once, with retries and leases."""

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.delivery import Deliverer, DeliveryError, Outgoing
from handlers.errors import UserError
from handlers.messages import Text, plain_text, to_dict
from handlers.visits import commands as visit_commands
from storage.db import Database
from storage.models import AuditEntry, OutboxMessage, Visit

REQUEST = (
    'visit request at="2026-11-25 09:00" duration=2h room=SH1/A101 task="replace disk" '
    "id=passport:1234"
)


class Crash(BaseException):
    """The worker process dying mid-send (not an Exception: nothing in the worker catches it)."""


class FakeSender:
    """Records every send; ``script`` gives the outcome of successive calls (exceptions raised)."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls: list[Outgoing] = []
        self.sent: list[Outgoing] = []
        self._lock = threading.Lock()

    def send(self, item: Outgoing) -> str | None:
        with self._lock:
            self.calls.append(item)
            outcome = self.script.pop(0) if self.script else None
            if isinstance(outcome, BaseException):
                raise outcome
            self.sent.append(item)
            return f"ref-{item.id}-{len(self.calls)}"

    def sends_per_id(self) -> Counter:
        return Counter(item.id for item in self.sent)


def queue(db, clock, count=1, *, platform="console", target="alice") -> list[int]:
    """Queue ``count`` plain notices directly, as notify would."""
    now = clock.now()
    with db.unit_of_work() as session:
        rows = [
            OutboxMessage(
                created_at=now,
                platform=platform,
                target_kind="person",
                target=target,
                locale="en",
                subject=None,
                kind="text",
                payload=to_dict(Text(f"notice {n}")),
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def row(db, outbox_id) -> OutboxMessage:
    with db.unit_of_work() as session:
        return session.get(OutboxMessage, outbox_id)


def count(db, model) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def sender():
    return FakeSender()


@pytest.fixture
def deliverer(db, clock, sender):
    return Deliverer(db, clock, {"console": sender})


# --- Delivery -----------------------------------------------------------------------------


def filed(answer: str) -> str:
    """The visit reference in a "request filed" answer (ids are not reset between tests)."""
    assert "filed" in answer, answer
    return re.search(r"V-\d+", answer).group(0)


def test_a_notice_queued_by_a_command_is_delivered_once(chat, db, clock, sender, deliverer):
    visit = filed(chat.text("alice", REQUEST))
    queued = chat.outbox()
    assert queued and all(r.status == "pending" and r.platform == "console" for r in queued)
    targets = {r.target for r in queued}
    assert {"#visits", "bob", "amy"} <= targets

    assert deliverer.run_once() == len(queued)
    assert deliverer.run_once() == 0
    clock.advance(timedelta(days=1))
    assert deliverer.run_once() == 0

    assert sender.sends_per_id() == Counter({r.id: 1 for r in queued})
    for r in chat.outbox():
        assert r.status == "sent"
        assert r.attempts == 1
        assert r.external_ref == f"ref-{r.id}-{[c.id for c in sender.calls].index(r.id) + 1}"
        assert r.sent_at == clock.now() - timedelta(days=1)
        assert r.lease_until is None and r.last_error is None
    item = next(c for c in sender.calls if c.to.address == "#visits")
    assert item.to.kind == "channel" and item.attempt == 1 and item.subject == visit
    assert visit in plain_text(item.message)


def test_sent_rows_record_the_senders_reference(db, clock):
    ids = queue(db, clock, 2)

    class Referencing:
        def send(self, item):
            return None if item.id == ids[1] else "slack-ts-1732329600.000100"

    Deliverer(db, clock, {"console": Referencing()}).run_once()

    assert row(db, ids[0]).external_ref == "slack-ts-1732329600.000100"
    assert row(db, ids[1]).status == "sent" and row(db, ids[1]).external_ref is None


def test_only_due_rows_are_sent(db, clock, sender, deliverer):
    (later,) = queue(db, clock)
    with db.unit_of_work() as session:
        session.execute(
            update(OutboxMessage).values(next_attempt_at=clock.now() + timedelta(minutes=5))
        )

    assert deliverer.run_once() == 0
    clock.advance(timedelta(minutes=5))
    assert deliverer.run_once() == 1
    assert sender.sends_per_id() == Counter({later: 1})


# --- Retries ------------------------------------------------------------------------------


def test_a_transient_failure_is_retried_after_the_backoff(db, clock):
    (oid,) = queue(db, clock)
    sender = FakeSender(DeliveryError("502 from the API"))
    deliverer = Deliverer(db, clock, {"console": sender})
    failed_at = clock.now()

    assert deliverer.run_once() == 1
    r = row(db, oid)
    assert (r.status, r.attempts, r.last_error) == ("pending", 1, "502 from the API")
    assert r.lease_until is None
    delay = (r.next_attempt_at - failed_at).total_seconds()
    assert 1.6 <= delay <= 2.4  # base 2 s with ±20 % jitter

    assert deliverer.run_once() == 0
    clock.set(r.next_attempt_at - timedelta(microseconds=1))
    assert deliverer.run_once() == 0
    assert len(sender.calls) == 1

    clock.set(r.next_attempt_at)
    assert deliverer.run_once() == 1
    clock.advance(timedelta(hours=1))
    assert deliverer.run_once() == 0

    r = row(db, oid)
    assert (r.status, r.attempts, r.sent_at) == ("sent", 2, clock.now() - timedelta(hours=1))
    assert r.external_ref == f"ref-{oid}-2"
    assert [c.attempt for c in sender.calls] == [1, 2]
    assert sender.sends_per_id() == Counter({oid: 1})


def test_backoff_grows_exponentially_and_is_capped(db, clock):
    deliverer = Deliverer(db, clock, {})
    for attempt, base in [(1, 2), (2, 4), (3, 8), (6, 64), (10, 900), (30, 900)]:
        assert 0.8 * base <= deliverer.backoff(attempt) <= 1.2 * base


def test_retry_after_is_honoured(db, clock):
    (oid,) = queue(db, clock)
    sender = FakeSender(DeliveryError("rate limited", retry_after=60))
    deliverer = Deliverer(db, clock, {"console": sender})

    deliverer.run_once()
    assert row(db, oid).next_attempt_at == clock.now() + timedelta(seconds=60)

    for wait in (3, 30, 59):  # well past the 2 s backoff, still before retry_after
        clock.set(row(db, oid).created_at + timedelta(seconds=wait))
        assert deliverer.run_once() == 0
    assert len(sender.calls) == 1

    clock.set(row(db, oid).created_at + timedelta(seconds=60))
    assert deliverer.run_once() == 1
    assert row(db, oid).status == "sent"
    assert sender.sends_per_id() == Counter({oid: 1})


def test_a_short_retry_after_never_shortens_the_backoff(db, clock):
    (oid,) = queue(db, clock)
    sender = FakeSender(DeliveryError("slow down", retry_after=0.01))
    Deliverer(db, clock, {"console": sender}).run_once()
    assert (row(db, oid).next_attempt_at - clock.now()).total_seconds() >= 1.6


@pytest.mark.logs_errors("bot.delivery")
def test_a_permanent_error_is_failed_and_never_retried(db, clock):
    (oid,) = queue(db, clock)
    sender = FakeSender(DeliveryError("channel_not_found", permanent=True))
    deliverer = Deliverer(db, clock, {"console": sender})

    assert deliverer.run_once() == 1
    for _ in range(3):
        clock.advance(timedelta(days=1))
        assert deliverer.run_once() == 0

    r = row(db, oid)
    assert (r.status, r.attempts, r.last_error) == ("failed", 1, "channel_not_found")
    assert r.sent_at is None and r.lease_until is None
    assert len(sender.calls) == 1 and sender.sent == []


@pytest.mark.logs_errors("bot.delivery")
def test_max_attempts_makes_a_row_dead(db, clock):
    (oid,) = queue(db, clock)
    sender = FakeSender(*[DeliveryError(f"timeout {n}") for n in range(10)])
    deliverer = Deliverer(db, clock, {"console": sender}, max_attempts=3)

    for expected in (1, 2, 3):
        assert deliverer.run_once() == 1
        assert row(db, oid).attempts == expected
        clock.advance(timedelta(hours=1))
    for _ in range(3):
        assert deliverer.run_once() == 0
        clock.advance(timedelta(days=1))

    r = row(db, oid)
    assert (r.status, r.attempts, r.last_error) == ("dead", 3, "timeout 2")
    assert len(sender.calls) == 3 and sender.sent == []


@pytest.mark.logs_errors("bot.delivery")
def test_a_generic_exception_from_the_sender_is_retried(db, clock, caplog):
    (oid,) = queue(db, clock)
    sender = FakeSender(RuntimeError("connection reset"))
    deliverer = Deliverer(db, clock, {"console": sender})

    deliverer.run_once()
    r = row(db, oid)
    assert (r.status, r.attempts) == ("pending", 1)
    assert "RuntimeError" in r.last_error and "connection reset" in r.last_error
    assert "sender raised" in caplog.text

    clock.advance(timedelta(seconds=3))
    assert deliverer.run_once() == 1
    assert row(db, oid).status == "sent"
    assert sender.sends_per_id() == Counter({oid: 1})


def test_rows_for_a_platform_without_a_sender_are_left_alone(db, clock, sender, deliverer):
    slack = queue(db, clock, 2, platform="slack", target="UALICE")
    (console,) = queue(db, clock)

    assert deliverer.run_once() == 1
    clock.advance(timedelta(days=1))
    assert deliverer.run_once() == 0

    assert sender.sends_per_id() == Counter({console: 1})
    for oid in slack:
        r = row(db, oid)
        assert (r.status, r.attempts, r.lease_until, r.last_error) == ("pending", 0, None, None)


# --- Leases -------------------------------------------------------------------------------


def test_a_crashed_workers_lease_is_reclaimed_and_sent(db, clock):
    (oid,) = queue(db, clock)
    dying = Deliverer(db, clock, {"console": FakeSender(Crash())}, lease=120)
    with pytest.raises(Crash):
        dying.run_once()
    r = row(db, oid)
    assert (r.status, r.attempts) == ("sending", 1)
    assert r.lease_until == clock.now() + timedelta(seconds=120)

    sender = FakeSender()
    survivor = Deliverer(db, clock, {"console": sender}, lease=120)
    assert survivor.run_once() == 0  # the lease is still held
    clock.advance(timedelta(seconds=120))
    assert survivor.run_once() == 0  # held until it has passed
    clock.advance(timedelta(seconds=1))
    assert survivor.run_once() == 1

    r = row(db, oid)
    assert (r.status, r.attempts, r.lease_until) == ("sent", 2, None)
    assert [c.attempt for c in sender.calls] == [2]
    assert sender.sends_per_id() == Counter({oid: 1})


class SlowSender(FakeSender):
    """A send that outlasts its lease: while it hangs, another worker reclaims the row."""

    def __init__(self, clock, rival: Deliverer):
        super().__init__()
        self.clock, self.rival = clock, rival

    def send(self, item: Outgoing) -> str | None:
        self.clock.advance(timedelta(seconds=121))
        assert self.rival.run_once() == 1
        super().send(item)
        return "stale-ref"


def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_newer_claim(db, clock):
    (oid,) = queue(db, clock)
    rival_sender = FakeSender()
    rival = Deliverer(db, clock, {"console": rival_sender}, lease=120)
    slow = Deliverer(db, clock, {"console": SlowSender(clock, rival)}, lease=120)
    assert slow.run_once() == 1

    r = row(db, oid)
    assert (r.status, r.attempts, r.claim) == ("sent", 2, None)
    assert r.external_ref == f"ref-{oid}-1"  # the rival's reference survives the slow finish
    assert rival_sender.sends_per_id() == Counter({oid: 1})


def _drain(deliverer: Deliverer, db: Database, start: threading.Barrier, errors: list) -> None:
    try:
        start.wait()
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            if deliverer.run_once(limit=7):
                continue
            with db.unit_of_work() as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("pending", "sending")))
                )
            if not left:
                return
        raise TimeoutError("outbox not drained in 60 s")
    except Exception as exc:  # reported by the test thread
        errors.append(exc)


def test_two_racing_deliverers_send_each_notice_exactly_once(db, clock):
    ids = queue(db, clock, 200)
    start = threading.Barrier(2)
    errors: list[Exception] = []
    senders = [FakeSender(), FakeSender()]
    databases = [Database(db.url), Database(db.url)]
    workers = [Deliverer(d, clock, {"console": s}) for d, s in zip(databases, senders, strict=True)]
    threads = [
        threading.Thread(target=_drain, args=(w, d, start, errors))
        for w, d in zip(workers, databases, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    finally:
        for d in databases:
            d.dispose()

    assert errors == []
    assert all(s.sent for s in senders), "no race happened: one worker sent everything"
    total = senders[0].sends_per_id() + senders[1].sends_per_id()
    assert total == Counter({oid: 1 for oid in ids})
    with db.unit_of_work() as session:
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
        assert statuses == Counter({"sent": 200})
        assert session.scalar(select(func.max(OutboxMessage.attempts))) == 1


# --- Transactions -------------------------------------------------------------------------


def test_a_refused_command_leaves_no_outbox_row_and_no_audit_row(chat, db):
    visit = filed(chat.text("amy", REQUEST + " company=Acme contact=13800000002"))
    outbox, audit = count(db, OutboxMessage), count(db, AuditEntry)
    assert outbox

    answer = chat.text("amy", f"visit approve {visit}")  # amy is an admin, but it is her request

    assert "own request" in answer
    assert (count(db, OutboxMessage), count(db, AuditEntry)) == (outbox, audit)
    assert "requested" in chat.text("amy", f"visit show {visit}").lower()


def test_a_command_failing_after_its_writes_leaves_nothing_behind(chat, db, monkeypatch):
    """The visit row, its audit entry and its queued notices all go, not just the last write."""
    real = visit_commands.announce

    def announce_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise UserError("error.internal", incident="test")

    audit = count(db, AuditEntry)  # seeding the organisation is audited too
    monkeypatch.setattr(visit_commands, "announce", announce_then_fail)
    chat.say("alice", REQUEST)

    assert (count(db, Visit), count(db, OutboxMessage), count(db, AuditEntry)) == (0, 0, audit)
    monkeypatch.undo()
    filed(chat.text("alice", REQUEST))
    assert count(db, Visit) == 1 and count(db, OutboxMessage) > 0
    assert count(db, AuditEntry) == audit + 1


def _update(db, clock, original_id: int, text: str) -> int:
    with db.unit_of_work() as session:
        original = session.get(OutboxMessage, original_id)
        row = OutboxMessage(
            created_at=clock.now(),
            platform=original.platform,
            target_kind=original.target_kind,
            target=original.target,
            locale="en",
            subject=None,
            kind="text",
            payload=to_dict(Text(text)),
            replaces_id=original_id,
            status="pending",
            attempts=0,
            next_attempt_at=clock.now(),
        )
        session.add(row)
        session.flush()
        return row.id


def test_an_update_rewrites_the_message_its_original_posted(db, clock):
    (oid,) = queue(db, clock)
    sender = FakeSender()
    deliverer = Deliverer(db, clock, {"console": sender})
    deliverer.run_once()
    uid = _update(db, clock, oid, "changed")
    assert deliverer.run_once() == 1
    assert sender.calls[-1].replaces == f"ref-{oid}-1"
    assert plain_text(sender.calls[-1].message) == "changed"
    assert row(db, uid).status == "sent"


def test_an_update_waits_for_its_original_and_only_the_newest_is_sent(db, clock):
    (oid,) = queue(db, clock)
    failing = Deliverer(db, clock, {"console": FakeSender(DeliveryError("busy"))})
    failing.run_once()  # the original is now waiting for its retry
    first, newest = _update(db, clock, oid, "first"), _update(db, clock, oid, "newest")
    sender = FakeSender()
    deliverer = Deliverer(db, clock, {"console": sender})
    assert deliverer.run_once() == 0  # nothing to rewrite yet
    assert row(db, first).status == "superseded"
    clock.advance(timedelta(minutes=1))
    assert deliverer.run_once() == 1  # the original; its update waits a second behind it
    clock.advance(timedelta(seconds=2))
    assert deliverer.run_once() == 1
    assert [plain_text(c.message) for c in sender.calls] == ["notice 0", "newest"]
    assert row(db, newest).status == "sent"


@pytest.mark.logs_errors("bot.delivery")
def test_an_update_of_a_message_that_was_never_sent_fails_with_it(db, clock):
    (oid,) = queue(db, clock)
    Deliverer(db, clock, {"console": FakeSender(DeliveryError("gone", permanent=True))}).run_once()
    uid = _update(db, clock, oid, "changed")
    assert Deliverer(db, clock, {"console": FakeSender()}).run_once() == 0
    assert row(db, uid).status == "failed"


def test_pump_serves_others_while_one_recipient_is_slow_and_keeps_each_ones_order(db, clock):
    gate, freed = threading.Event(), threading.Event()

    class Gated(FakeSender):
        def send(self, item: Outgoing) -> str | None:
            if item.to.address == "alice":
                assert gate.wait(10)
            return super().send(item)

    first, bob = queue(db, clock, 2, target="alice"), queue(db, clock, 1, target="bob")
    sender = Gated()
    with ThreadPoolExecutor(4) as pool:
        deliverer = Deliverer(db, clock, {"console": sender}, pool=pool)
        assert deliverer.pump(freed.set) == 3
        wait_for(lambda: row(db, bob[0]).status == "sent")  # not held up behind alice
        later = queue(db, clock, 1, target="alice")
        assert deliverer.pump(freed.set) == 0  # alice is being served: hers waits its turn
        gate.set()
        wait_for(lambda: not deliverer._serving)
        assert freed.is_set() and deliverer.pump(freed.set) == 1
    assert [i.id for i in sender.sent if i.to.address == "alice"] == [*first, *later]


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
