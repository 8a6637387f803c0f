"""Durable timers: scheduled, cancelled, claimed and fired exactly once, even across restarts."""

import threading
import time
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers import audit, deadlines
from handlers.context import SYSTEM, Origin
from handlers.core import Core
from handlers.i18n import I18n
from handlers.kit import Workflow
from handlers.workflows import WORKFLOWS
from storage.db import Database
from storage.models import AuditEntry, Deadline
from tests.chat import platforms
from tests.conftest import BACKENDS

RECORD = "test.record"
BOOM = "test.boom"
WORKING = "test.working"


class Recorder:
    """A firer that records the ids it fired, from any thread."""

    def __init__(self, pause: float = 0.0):
        self.pause = pause
        self.ids: list[int] = []
        self.threads: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, ctx, row: Deadline) -> None:
        if self.pause:
            time.sleep(self.pause)
        with self._lock:
            self.ids.append(row.id)
            self.threads[threading.current_thread().name] += 1


TIMERS: dict = {}  # the tests' own firers, by kind, while a test needs them
TESTING = Workflow("testing", commands=(), timers=TIMERS)


@pytest.fixture
def fired():
    """Register a test-only firer kind; unregister it afterwards."""
    recorder = Recorder()
    TIMERS[RECORD] = recorder
    yield recorder
    TIMERS.pop(RECORD, None)


def core_with_test_timers(db, clock, org) -> Core:
    """A core whose workflows include the tests' own firers."""
    i18n = I18n(ZoneInfo("Asia/Shanghai"), "en")
    return Core(db, clock, i18n, org, platforms("console"), (*WORKFLOWS, TESTING))


@pytest.fixture
def core(db, clock, org) -> Core:
    return core_with_test_timers(db, clock, org)


def schedule(core: Core, due_in: timedelta, *, kind=RECORD, subject_id=1, payload=None) -> int:
    with core.db.unit_of_work() as session:
        ctx = core.context(session, SYSTEM, Origin("system", "test"))
        deadlines.schedule(
            ctx,
            kind,
            subject_type="visit",
            subject_id=subject_id,
            due_at=ctx.now() + due_in,
            payload=payload,
        )
        session.flush()
        return session.scalars(select(Deadline.id).order_by(Deadline.id.desc())).first()


def cancel(core: Core, subject_id: int, kinds: tuple[str, ...]) -> None:
    with core.db.unit_of_work() as session:
        ctx = core.context(session, SYSTEM, Origin("system", "test"))
        deadlines.cancel(ctx, subject_type="visit", subject_id=subject_id, kinds=kinds)


def row(db, deadline_id) -> Deadline:
    with db.unit_of_work() as session:
        return session.get(Deadline, deadline_id)


def statuses(db) -> Counter:
    with db.unit_of_work() as session:
        return Counter(session.scalars(select(Deadline.status)))


# --- Schedule and cancel ------------------------------------------------------------------


def test_schedule_stores_a_pending_row(core, clock):
    did = schedule(core, timedelta(hours=2), subject_id=7, payload={"备注": "机房"})

    r = row(core.db, did)
    assert (r.kind, r.subject_type, r.subject_id, r.status) == (RECORD, "visit", 7, "pending")
    assert r.due_at == clock.now() + timedelta(hours=2)
    assert r.created_at == clock.now()
    assert r.fired_at is None
    assert r.payload == {"备注": "机房"}


def test_cancel_touches_only_pending_rows_of_that_subject_and_kind(core, clock, fired):
    mine = schedule(core, timedelta(minutes=5), subject_id=1)
    other_kind = schedule(core, timedelta(minutes=5), kind=BOOM, subject_id=1)
    other_subject = schedule(core, timedelta(minutes=5), subject_id=2)
    already = schedule(core, timedelta(seconds=0), subject_id=1)
    assert core.sweep_deadlines() == 1  # fires `already`

    cancel(core, 1, (RECORD,))

    assert row(core.db, mine).status == "cancelled"
    assert row(core.db, other_kind).status == "pending"
    assert row(core.db, other_subject).status == "pending"
    assert row(core.db, already).status == "fired"

    clock.advance(timedelta(minutes=5))
    TIMERS[BOOM] = fired
    try:
        assert core.sweep_deadlines() == 2
    finally:
        TIMERS.pop(BOOM, None)
    assert sorted(fired.ids) == sorted([already, other_kind, other_subject])
    assert row(core.db, mine).status == "cancelled" and row(core.db, mine).fired_at is None


# --- Claim and fire -----------------------------------------------------------------------


def test_not_fired_before_it_is_due(core, clock, fired):
    did = schedule(core, timedelta(minutes=30))

    assert core.sweep_deadlines() == 0
    clock.advance(timedelta(minutes=30) - timedelta(microseconds=1))
    assert core.sweep_deadlines() == 0
    assert fired.ids == []
    assert row(core.db, did).status == "pending"

    clock.advance(timedelta(microseconds=1))
    assert core.sweep_deadlines() == 1
    assert fired.ids == [did]


def test_fired_exactly_once(core, clock, fired):
    did = schedule(core, timedelta(minutes=1))
    clock.advance(timedelta(minutes=1))
    fired_at = clock.now()

    assert core.sweep_deadlines() == 1
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        assert core.sweep_deadlines() == 0

    assert fired.ids == [did]
    r = row(core.db, did)
    assert (r.status, r.fired_at) == ("fired", fired_at)


def test_claim_due_takes_the_earliest_rows_up_to_the_limit(core, clock, fired):
    late = schedule(core, timedelta(minutes=3))
    early = schedule(core, timedelta(minutes=1))
    middle = schedule(core, timedelta(minutes=2))
    future = schedule(core, timedelta(days=1))
    clock.advance(timedelta(minutes=5))

    with core.db.unit_of_work() as session:
        ctx = core.context(session, SYSTEM, Origin("system", "test"))
        assert [d.id for d in deadlines.claim_due(ctx, 2)] == [early, middle]
        assert [d.id for d in deadlines.claim_due(ctx, 10)] == [early, middle, late]

    assert core.sweep_deadlines(limit=2) == 2
    assert core.sweep_deadlines(limit=2) == 1
    assert core.sweep_deadlines(limit=2) == 0
    assert fired.ids == [early, middle, late]
    assert row(core.db, future).status == "pending"


def test_deadlines_missed_while_the_bot_was_down_fire_on_the_next_sweep(core, clock, fired):
    ids = [schedule(core, timedelta(hours=h)) for h in (30, 1, 6)]
    not_yet = schedule(core, timedelta(days=45))

    clock.advance(timedelta(days=30))  # the bot was down for a month
    assert core.sweep_deadlines() == 3

    assert fired.ids == [ids[1], ids[2], ids[0]]  # in due order
    assert statuses(core.db) == Counter({"fired": 3, "pending": 1})
    assert row(core.db, not_yet).status == "pending"
    assert all(row(core.db, d).fired_at == clock.now() for d in ids)


def _working(ctx, row: Deadline) -> None:
    audit.record(ctx, subject_type="visit", subject_id=row.subject_id, action="test.fired")


def _failing(ctx, row: Deadline) -> None:
    audit.record(ctx, subject_type="visit", subject_id=row.subject_id, action="test.half_done")
    ctx.session.flush()
    raise RuntimeError("firer broke")


@pytest.fixture
def working_and_failing():
    TIMERS[WORKING] = _working
    TIMERS[BOOM] = _failing
    yield
    TIMERS.pop(WORKING, None)
    TIMERS.pop(BOOM, None)


@pytest.mark.logs_errors("handlers.deadlines")
def test_a_failing_firer_fails_only_its_own_row(core, clock, working_and_failing, caplog):
    first = schedule(core, timedelta(minutes=1), kind=WORKING, subject_id=1)
    broken = schedule(core, timedelta(minutes=2), kind=BOOM, subject_id=2)
    last = schedule(core, timedelta(minutes=3), kind=WORKING, subject_id=3)
    clock.advance(timedelta(minutes=5))

    assert core.sweep_deadlines() == 3

    assert [row(core.db, d).status for d in (first, broken, last)] == ["fired", "failed", "fired"]
    assert all(row(core.db, d).fired_at == clock.now() for d in (first, broken, last))
    with core.db.unit_of_work() as session:
        actions = session.execute(
            select(AuditEntry.action, AuditEntry.subject_id).order_by(AuditEntry.id)
        ).all()
    assert actions == [("test.fired", 1), ("test.fired", 3)]  # the broken firer's write is undone
    assert "firer broke" in caplog.text

    clock.advance(timedelta(days=1))
    assert core.sweep_deadlines() == 0  # a failed row is not retried


@pytest.mark.logs_errors("handlers.deadlines")
def test_an_unknown_kind_is_marked_failed(core, clock, fired, caplog):
    unknown = schedule(core, timedelta(minutes=1), kind="test.nobody-fires-this")
    known = schedule(core, timedelta(minutes=1))
    clock.advance(timedelta(minutes=1))

    assert core.sweep_deadlines() == 2

    assert row(core.db, unknown).status == "failed"
    assert row(core.db, known).status == "fired"
    assert fired.ids == [known]
    assert "no firer for deadline kind 'test.nobody-fires-this'" in caplog.text


def test_a_sweep_is_one_transaction_with_its_firers_work(core, clock, working_and_failing):
    """If the sweep's transaction is lost, neither the status nor the firer's work survives."""
    did = schedule(core, timedelta(minutes=1), kind=WORKING)
    clock.advance(timedelta(minutes=1))

    class Lost(Exception):
        pass

    with pytest.raises(Lost), core.db.unit_of_work() as session:
        ctx = core.context(session, SYSTEM, Origin("system", "scheduler"))
        assert deadlines.fire_claimed(ctx, deadlines.claim_due(ctx, 10), core.firers) == 1
        session.flush()
        raise Lost

    assert row(core.db, did).status == "pending"
    with core.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- Concurrency --------------------------------------------------------------------------

SERVER_BACKENDS = [
    pytest.param(
        backend,
        marks=pytest.mark.skipif(
            backend == "sqlite",
            reason="SQLite runs one bot process: it has no SKIP LOCKED, so one sweeper only",
        ),
    )
    for backend in BACKENDS
]


def _sweep_until_done(core: Core, start: threading.Barrier, errors: list) -> None:
    try:
        start.wait()
        while core.sweep_deadlines(limit=15):
            pass
    except Exception as exc:  # reported by the test thread
        errors.append(exc)


@pytest.mark.parametrize("backend_url", SERVER_BACKENDS, indirect=True)
def test_concurrent_sweepers_fire_each_deadline_exactly_once(db, clock, org, fired):
    fired.pause = 0.002
    core = core_with_test_timers(db, clock, org)
    ids = [schedule(core, timedelta(minutes=n % 7), subject_id=n) for n in range(300)]
    clock.advance(timedelta(hours=1))

    sweepers = 4
    start = threading.Barrier(sweepers)
    errors: list[Exception] = []
    databases = [Database(db.url) for _ in range(sweepers)]
    cores = [core_with_test_timers(d, clock, org) for d in databases]
    threads = [threading.Thread(target=_sweep_until_done, args=(c, start, errors)) for c in cores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for d in databases:
            d.dispose()

    assert errors == []
    assert Counter(fired.ids) == Counter({did: 1 for did in ids})
    assert statuses(db) == Counter({"fired": 300})
    assert len(fired.threads) > 1, f"no race happened: {fired.threads}"
