"""Storage behaves the same on every backend: UTC timestamps, JSON, constraints, transactions."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from storage.models import Deadline, OutboxMessage, Person

NOW = datetime(2026, 11, 23, 2, 0, 0, 123456, tzinfo=UTC)


def _deadline(due_at: datetime, **overrides) -> Deadline:
    values = {
        "kind": "test",
        "subject_type": "visit",
        "subject_id": 1,
        "due_at": due_at,
        "status": "pending",
        "created_at": NOW,
        "payload": None,
    }
    return Deadline(**{**values, **overrides})


def _store(db, row):
    with db.unit_of_work() as session:
        session.add(row)
        session.flush()
        row_id = row.id
    return row_id


def _load(db, model, row_id):
    with db.unit_of_work() as session:
        return session.get(model, row_id)


# --- UTCDateTime --------------------------------------------------------------------------


def test_aware_utc_round_trips_with_microseconds(db):
    due = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    row = _load(db, Deadline, _store(db, _deadline(due)))

    assert row.due_at == due
    assert row.due_at.tzinfo is UTC
    assert row.due_at.microsecond == 999999
    assert row.created_at == NOW and row.created_at.microsecond == 123456


def test_other_zones_are_stored_as_the_same_instant_in_utc(db):
    shanghai = datetime(2026, 11, 25, 9, 30, 0, 500, tzinfo=ZoneInfo("Asia/Shanghai"))
    fixed = datetime(2026, 11, 24, 20, 30, 0, 500, tzinfo=timezone(timedelta(hours=-5)))
    row = _load(db, Deadline, _store(db, _deadline(shanghai, created_at=fixed)))

    assert row.due_at == datetime(2026, 11, 25, 1, 30, 0, 500, tzinfo=UTC)
    assert row.due_at.tzinfo is UTC
    assert (row.due_at.hour, row.due_at.microsecond) == (1, 500)
    assert row.created_at == row.due_at


def test_comparisons_in_queries_use_the_instant_not_the_wall_clock(db):
    _store(db, _deadline(datetime(2026, 11, 25, 1, 30, tzinfo=UTC)))
    # 09:29 in Shanghai is 01:29 UTC: before the deadline. 09:31 is after it.
    before = datetime(2026, 11, 25, 9, 29, tzinfo=ZoneInfo("Asia/Shanghai"))
    after = datetime(2026, 11, 25, 9, 31, tzinfo=ZoneInfo("Asia/Shanghai"))
    with db.unit_of_work() as session:
        due = select(func.count()).select_from(Deadline).where(Deadline.due_at <= before)
        assert session.scalar(due) == 0
        due = select(func.count()).select_from(Deadline).where(Deadline.due_at <= after)
        assert session.scalar(due) == 1


def test_microseconds_order_rows(db):
    first = datetime(2026, 11, 25, 1, 30, 0, 1, tzinfo=UTC)
    ids = [_store(db, _deadline(first + timedelta(microseconds=n))) for n in (2, 0, 1)]
    with db.unit_of_work() as session:
        ordered = session.scalars(select(Deadline.id).order_by(Deadline.due_at)).all()
    assert ordered == [ids[1], ids[2], ids[0]]


def test_naive_datetimes_are_rejected(db):
    with pytest.raises(StatementError) as err, db.unit_of_work() as session:
        session.add(_deadline(datetime(2026, 11, 25, 9, 30)))
        session.flush()
    assert isinstance(err.value.orig, ValueError)
    assert "naive" in str(err.value.orig)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_naive_datetimes_are_rejected_in_queries_too(db):
    with pytest.raises(StatementError), db.unit_of_work() as session:
        session.scalars(select(Deadline).where(Deadline.due_at <= datetime(2026, 1, 1))).all()


def test_null_timestamps_stay_null(db):
    row = _load(db, Deadline, _store(db, _deadline(NOW, fired_at=None)))
    assert row.fired_at is None


# --- JSON and text ------------------------------------------------------------------------

CHINESE = {
    "kind": "text",
    "text": "访问申请 V-12 已批准：张伟，上海一号机房 A101。工具：笔记本电脑、螺丝刀 🔧",
    "tone": "success",
    "nested": {"列表": ["硬盘", "内存条"], "数量": 2, "ok": True, "none": None},
}


def test_json_round_trips_chinese_text(db):
    row_id = _store(
        db,
        OutboxMessage(
            created_at=NOW,
            platform="wecom",
            target_kind="person",
            target="zhang.w",
            locale="zh",
            subject="V-12",
            kind="text",
            payload=CHINESE,
            status="pending",
            attempts=0,
            next_attempt_at=NOW,
        ),
    )
    deadline_id = _store(db, _deadline(NOW, payload={"备注": ["一", "二"]}))

    assert _load(db, OutboxMessage, row_id).payload == CHINESE
    assert _load(db, Deadline, deadline_id).payload == {"备注": ["一", "二"]}


def test_string_columns_round_trip_chinese_and_emoji(db):
    row_id = _store(db, Person(handle="zhangwei", name="张伟 🛠", company="某某科技有限公司"))
    person = _load(db, Person, row_id)
    assert (person.name, person.company) == ("张伟 🛠", "某某科技有限公司")
    with db.unit_of_work() as session:
        assert session.scalar(select(Person.id).where(Person.name == "张伟 🛠")) == row_id


# --- Constraints --------------------------------------------------------------------------


def test_person_handle_is_unique(db):
    _store(db, Person(handle="alice", name="Alice"))
    with pytest.raises(IntegrityError):
        _store(db, Person(handle="alice", name="Another Alice"))
    with db.unit_of_work() as session:
        assert session.scalars(select(Person.name)).all() == ["Alice"]


def test_slack_id_is_unique_but_many_people_have_none(db):
    _store(db, Person(handle="alice", name="Alice", slack_user_id="UALICE"))
    _store(db, Person(handle="erin", name="Erin", slack_user_id=None))
    _store(db, Person(handle="zhang", name="张伟", slack_user_id=None))
    with pytest.raises(IntegrityError):
        _store(db, Person(handle="mallory", name="Mallory", slack_user_id="UALICE"))
    with db.unit_of_work() as session:
        handles = session.scalars(select(Person.handle).order_by(Person.handle)).all()
    assert handles == ["alice", "erin", "zhang"]


def test_wecom_id_is_unique(db):
    _store(db, Person(handle="alice", name="Alice", wecom_user_id="alice.w"))
    with pytest.raises(IntegrityError):
        _store(db, Person(handle="alice2", name="Alice 2", wecom_user_id="alice.w"))


# --- Unit of work -------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_unit_of_work_commits_on_success(db):
    with db.unit_of_work() as session:
        session.add(Person(handle="alice", name="Alice"))
        session.add(_deadline(NOW))

    other = type(db)(db.url)  # a separate engine sees the committed rows
    try:
        with other.unit_of_work() as session:
            assert session.scalars(select(Person.handle)).all() == ["alice"]
            assert session.scalar(select(func.count()).select_from(Deadline)) == 1
    finally:
        other.dispose()


def test_unit_of_work_rolls_back_everything_on_an_exception(db):
    _store(db, Person(handle="before", name="Committed earlier"))

    with pytest.raises(Boom), db.unit_of_work() as session:
        session.add(Person(handle="alice", name="Alice"))
        session.flush()  # already sent to the database
        session.add(_deadline(NOW))
        session.flush()
        existing = session.scalar(select(Person).where(Person.handle == "before"))
        existing.name = "Changed"
        session.flush()
        session.add(Person(handle="erin", name="Erin"))  # still pending in the session
        raise Boom

    with db.unit_of_work() as session:
        assert session.scalars(select(Person.handle)).all() == ["before"]
        assert session.scalar(select(Person.name)) == "Committed earlier"
        assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_unit_of_work_rolls_back_on_a_database_error(db):
    _store(db, Person(handle="alice", name="Alice"))
    with pytest.raises(IntegrityError), db.unit_of_work() as session:
        session.add(_deadline(NOW))
        session.flush()
        session.add(Person(handle="alice", name="Duplicate"))
        session.flush()
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_unit_of_work_rolls_back_released_savepoints_too(db):
    """Work done in a savepoint (as each deadline firer is) belongs to the outer transaction."""
    with pytest.raises(Boom), db.unit_of_work() as session:
        with session.begin_nested():
            session.add(Person(handle="alice", name="Alice"))
        with session.begin_nested():
            session.add(_deadline(NOW))
        raise Boom

    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
        assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_a_rolled_back_savepoint_keeps_the_rest_of_the_transaction(db):
    with db.unit_of_work() as session:
        session.add(Person(handle="alice", name="Alice"))
        with pytest.raises(Boom), session.begin_nested():
            session.add(Person(handle="erin", name="Erin"))
            session.flush()
            raise Boom
        session.add(Person(handle="zhang", name="张伟"))

    with db.unit_of_work() as session:
        assert session.scalars(select(Person.handle).order_by(Person.handle)).all() == [
            "alice",
            "zhang",
        ]


def test_inbound_deliveries_are_recognised_once_and_forgotten_after_a_day(chat):
    core = chat.core
    assert core.first_time("slack", "Ev1") is True
    assert core.first_time("slack", "Ev1") is False  # Slack's retry of the same event
    assert core.first_time("wecom", "Ev1") is True  # keys are per platform
    chat.clock.advance(timedelta(hours=23))
    assert core.forget_inbound() == 0
    chat.clock.advance(timedelta(hours=2))
    assert core.forget_inbound() == 2
    assert core.first_time("slack", "Ev1") is True
