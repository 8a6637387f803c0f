"""Shutdown calendar feed benchmark (issue 12): how long the feed people subscribe to takes to
build with many windows on it, next to the floor — the database alone, loading the same rows.

    .venv/bin/python benchmarks/calendar_feed.py                     # 1,000 windows, SQLite
    .venv/bin/python benchmarks/calendar_feed.py --windows 200 --repeat 50
    .venv/bin/python benchmarks/calendar_feed.py --database postgresql+psycopg://postgres@127.0.0.1/test

Calendar clients poll a subscribed feed (Outlook about every 3 hours, Google every 8 to 24), so
one build a few times a second is plenty; what matters is that a year of windows stays quick
and that the build costs a small multiple of reading the rows. Writes nothing in the checkout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, select

from benchmarks.kit import maintbot
from benchmarks.kit.figures import say
from benchmarks.kit.scratch import scratch_dir
from bot.assembly import make_core
from bot.settings import Settings
from handlers.shutdowns import states as s
from handlers.shutdowns.calendar import KEPT
from storage import migrate
from storage.db import Database
from storage.models import Person, Shutdown


def seed(db: Database, count: int) -> None:
    """``count`` approved windows, one every 7 hours from 30 days ago (about a year at 1,000)."""
    with db.unit_of_work() as session:
        session.execute(delete(Shutdown))
        alice = session.scalar(select(Person.id).where(Person.handle == "alice"))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    rows = [
        dict(
            state=s.APPROVED,
            requester_id=alice,
            site_code="SH1",
            systems=["erp-db"],
            starts_at=(at := start + timedelta(hours=7 * i)),
            ends_at=at + timedelta(hours=3),
            planned_end_at=at + timedelta(hours=3),
            reason="固件升级 firmware upgrade " * 3,
            impact="ERP 停用",
            rollback="回刷旧固件",
            backup=f"job-{i}",
            notify=[],
            engineer_ids=[alice],
            emergency=False,
            chain=[{"role": "supervisor"}],
            approved_steps=1,
            approver_ids=[alice],
            sequence=0,
            created_at=start,
            updated_at=start,
        )
        for i in range(count)
    ]
    with db.unit_of_work() as session:
        session.execute(insert(Shutdown), rows)


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm: templates compiled, statements cached
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", help="a SQLAlchemy URL (default: a scratch SQLite file)")
    args = parser.parse_args()
    with scratch_dir("maintbot-feed-") as workdir:
        url = args.database or f"sqlite:///{workdir / 'feed.sqlite3'}"
        settings = Settings(database_url=url, config=maintbot.ORGANISATION, locale="en")
        db = Database(url)
        migrate.upgrade(db.engine)
        core = make_core(settings, platforms={}, db=db)
        core.seed()
        seed(db, args.windows)

        def floor() -> int:
            with db.unit_of_work() as session:
                query = select(Shutdown).where(
                    Shutdown.state.in_(s.ON_CALENDAR),
                    Shutdown.ends_at >= datetime.now(UTC) - KEPT,
                )
                return len(session.scalars(query).all())

        events = floor()
        text = core.feed("shutdowns.ics")[1]
        assert text.count("BEGIN:VEVENT") == events, "the feed lost windows"
        feed_times = timed(lambda: core.feed("shutdowns.ics"), args.repeat)
        floor_times = timed(floor, args.repeat)
        db.dispose()
    built, read = statistics.median(feed_times), statistics.median(floor_times)
    say(f"calendar feed: {events} events on it ({args.windows} windows stored), "
        f"{len(text.encode()) / 1024:.0f} KiB, {db.engine.dialect.name}")  # fmt: skip
    say(f"  feed built      median {built * 1000:8.1f} ms   max {max(feed_times) * 1000:8.1f} ms")
    say(f"  floor (rows)    median {read * 1000:8.1f} ms   max {max(floor_times) * 1000:8.1f} ms")
    say(f"  ratio feed / floor: {built / read:.1f}x;  {events / built:,.0f} events a second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
