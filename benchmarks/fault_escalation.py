"""Fault escalation benchmark (issue 5): open faults whose response deadlines fall due over a
window, checked by the real background runtime, escalating to a fake Slack in real time.

    .venv/bin/python benchmarks/fault_escalation.py                          # 10,000 in 10 min
    .venv/bin/python benchmarks/fault_escalation.py --faults 2000 --window 120   # same rate

For each escalation it reports the lateness from the deadline to its outbox row and to the fake
API (the DM to the on-call engineer), p50/p99; and, first, the CPU the checking costs while
nothing is due (with every fault open), next to the floor: the same process doing nothing.
Runs from a checkout (it uses tests/fake_slack.py); SQLite by default, --database URL for another.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from benchmarks.slack_ack import pct, say  # noqa: E402
from bot import runtime  # noqa: E402
from bot.settings import Settings, configure_logging  # noqa: E402
from bot.slack.sender import SlackSender  # noqa: E402
from handlers.faults import clocks  # noqa: E402
from handlers.orgconfig import OrgConfig  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Deadline, Fault, OutboxMessage, Person  # noqa: E402
from tests.fake_slack import FakeSlack, dm_channel_id  # noqa: E402

ONCALL = "UCAROL"


def organisation() -> OrgConfig:
    data = yaml.safe_load((ROOT / "tests" / "org.yaml").read_text("utf-8"))
    for person in data["people"]:
        if person["handle"] == "carol":
            person["roles"] = ["supervisor", "oncall"]
    data["channels"]["faults"] = {"slack": "CFAULTS"}
    data["faults"] = {"escalation": [{"notify": ["oncall"]}]}  # one ping each, to measure
    return OrgConfig.model_validate(data)


def seed(db: Database, count: int, first_due: datetime, window: float) -> None:
    """``count`` open tier-1 faults whose response deadlines spread evenly over ``window``."""
    with db.unit_of_work() as session:
        alice = session.scalar(select(Person.id).where(Person.handle == "alice"))
    now = datetime.now(UTC)
    faults, deadlines = [], []
    for i in range(count):
        due = first_due + timedelta(seconds=window * i / count)
        faults.append(
            {
                "id": i + 1,
                "tier": 1,
                "title": f"bench fault {i + 1}",
                "state": "declared",
                "declared_by_id": alice,
                "declared_at": now,
                "updated_at": now,
                "respond_due_at": due,
                "resolve_due_at": due + timedelta(hours=2),
                "escalation_level": 0,
            }
        )
        deadlines.append(
            {
                "kind": clocks.RESPOND,
                "subject_type": "fault",
                "subject_id": i + 1,
                "due_at": due,
                "status": "pending",
                "created_at": now,
                "payload": {"mark": 100},
            }
        )
    with db.unit_of_work() as session:
        for start in range(0, count, 1000):
            session.execute(insert(Fault), faults[start : start + 1000])
            session.execute(insert(Deadline), deadlines[start : start + 1000])


def cpu_share(seconds: float) -> float:
    """This process's CPU over ``seconds`` of wall time, as a share of one core."""
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - cpu0) / (time.monotonic() - wall0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--faults", type=int, default=10_000)
    p.add_argument("--window", type=float, default=600.0, help="seconds the deadlines span")
    p.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measurement")
    p.add_argument("--tick", type=float, default=0.5, help="the runtime's sweep interval")
    p.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    a = p.parse_args(argv)
    configure_logging("WARNING")
    workdir = Path(tempfile.mkdtemp(prefix="maintbot-fault-bench-"))
    url = a.database or f"sqlite:///{workdir / 'bench.sqlite3'}"
    say(
        f"fault_escalation benchmark: {os.cpu_count()} cores, {a.faults} faults due over "
        f"{a.window:.0f} s ({a.faults / a.window:.1f}/s), sweep every {a.tick} s, {url}"
    )
    floor = cpu_share(min(a.idle, 5.0))
    db = Database(url)
    migrate.upgrade(db.engine)
    with FakeSlack() as fake:
        client = WebClient(token=fake.token, base_url=fake.base_url, timeout=10)
        settings = Settings(database_url=url, locale="en")
        rt = runtime.build(
            settings, senders={"slack": SlackSender(client)}, org=organisation(), db=db
        )
        lead = a.idle + 5.0  # nothing falls due while the idle CPU is measured
        first_due = datetime.now(UTC) + timedelta(seconds=lead)
        started_wall, started_mono = datetime.now(UTC), time.monotonic()
        seed(db, a.faults, first_due, a.window)
        rt.start_background(a.tick)
        try:
            idle = cpu_share(a.idle)
            say(
                f"  idle checking, {a.faults} faults open: {idle * 100:.2f}% of a core "
                f"(the floor, an idle process: {floor * 100:.2f}%)"
            )
            deadline = time.monotonic() + lead + a.window + 120
            dm = dm_channel_id(ONCALL)
            while time.monotonic() < deadline:
                sent = [c for c in fake.calls("chat.postMessage") if c.args.get("channel") == dm]
                if len(sent) >= a.faults:
                    break
                time.sleep(1.0)
            with db.unit_of_work() as session:
                dues = dict(session.execute(select(Fault.id, Fault.respond_due_at)).all())
                queued = session.execute(
                    select(OutboxMessage.subject, OutboxMessage.created_at).where(
                        OutboxMessage.target == ONCALL
                    )
                ).all()
        finally:
            rt.stop()

        def mono(due: datetime) -> float:
            return started_mono + (due - started_wall).total_seconds()

        to_outbox = sorted(
            (created - dues[int(subject[2:])]).total_seconds() for subject, created in queued
        )
        to_api = sorted(
            c.at - mono(dues[int(c.args["text"].split()[1].split("-")[1])]) for c in sent if c.ok
        )
    say(
        f"  lateness to the outbox: p50 {pct(to_outbox, 50) * 1e3:.0f} ms, "
        f"p99 {pct(to_outbox, 99) * 1e3:.0f} ms, max {to_outbox[-1] * 1e3:.0f} ms "
        f"({len(to_outbox)} of {a.faults})"
    )
    say(
        f"  lateness to the fake API: p50 {pct(to_api, 50) * 1e3:.0f} ms, "
        f"p99 {pct(to_api, 99) * 1e3:.0f} ms, max {to_api[-1] * 1e3:.0f} ms "
        f"({len(to_api)} of {a.faults})"
    )
    say("targets (issue 5):")
    p99 = pct(to_api, 99)
    say(f"  {'PASS' if p99 < 1.0 else 'FAIL'}  p99 lateness < 1 s (to the API)   {p99:.2f} s")
    say(f"  {'PASS' if idle < 0.02 else 'FAIL'}  idle checking < 2% of a core   {idle * 100:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
