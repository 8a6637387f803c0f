"""Two ``maintbot serve`` processes on one PostgreSQL or MariaDB database: every fault's clocks
fire once, whichever process claims them (SQLite runs one process, so it is not served twice).

Faults are declared by this test with a clock 40 minutes in the past, so that their response
deadlines have passed when both servers sweep: each escalates exactly once.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from bot.orgfile import load_org
from handlers.clock import FakeClock
from handlers.context import Origin
from handlers.core import Core
from handlers.i18n import I18n
from storage.db import Database
from storage.models import AuditEntry, Deadline
from tests import slack_server
from tests.chat import platforms
from tests.conftest import BACKENDS, ORG_FILE
from tests.fake_slack import FakeSlack
from tests.slack_server import wait_until

FAULTS = 120
SERVED_BACKENDS = [b for b in BACKENDS if b != "sqlite"]


@pytest.fixture
def org_file(tmp_path):
    """The test organisation with Erin on call (and in Slack)."""
    data = yaml.safe_load(ORG_FILE.read_text("utf-8"))
    for person in data["people"]:
        if person["handle"] == "erin":
            person.update(roles=["engineer", "oncall"], slack="UERIN")
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


@pytest.mark.skipif(not SERVED_BACKENDS, reason="needs postgresql or mariadb requested")
@pytest.mark.parametrize("backend", SERVED_BACKENDS)
def test_two_served_processes_fire_each_escalation_once(backend, org_file, tmp_path):
    env = {"MAINTBOT_CONFIG": str(org_file)}
    with (
        slack_server.database(backend, tmp_path) as url,
        FakeSlack() as fake,
        slack_server.served(fake, url, tmp_path, extra_env=env),
        slack_server.served(fake, url, tmp_path, extra_env=env) as bot,
    ):
        db = Database(url)
        try:
            clock = FakeClock(datetime.now(UTC) - timedelta(minutes=40))
            i18n = I18n(ZoneInfo("Asia/Shanghai"), "en")
            core = Core(db, clock, i18n, load_org(org_file), platforms("slack"))
            alice = Origin("slack", "UALICE", "CFAULTS")
            for n in range(FAULTS):  # both servers sweep while these are declared
                core.handle_text(alice, f"fault declare 1 Array {n} offline")

            def escalations() -> list[AuditEntry]:
                with db.unit_of_work() as session:
                    query = select(AuditEntry).where(AuditEntry.action == "fault.escalate")
                    return list(session.scalars(query))

            wait_until(lambda: len({a.subject_id for a in escalations()}) == FAULTS, 60, "all")
            wait_until(lambda: not _overdue(db), 30, "every due clock fired")
            bot.settle(30)
            fired = escalations()
            assert len(fired) == FAULTS  # once each: the next round is 5 minutes away
            assert Counter(a.subject_id for a in fired).most_common(1)[0][1] == 1
            rounds = {(a.details["level"], a.details["round"]) for a in fired}
            assert rounds == {(1, 0)}  # level 1, its first round
            sweepers = {a.platform_user for a in fired}
            assert len(sweepers) == 2, f"one process fired everything: {sweepers}"
            # Erin gets one direct message per fault
            dms = [r for r in bot.outbox(target="UERIN") if "fault ack F-" in str(r.payload)]
            assert len(dms) == FAULTS
            assert {r.status for r in dms} == {"sent"}
            # and is @-mentioned once per fault in the faults channel
            channel = fake.calls("chat.postMessage")
            at_erin = [c for c in channel if "<@UERIN>" in c.args.get("text", "")]
            assert len(at_erin) == FAULTS and {c.args["channel"] for c in at_erin} == {"CFAULTS"}
        finally:
            db.dispose()


def _overdue(db: Database) -> int:
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        query = select(Deadline).where(Deadline.status == "pending", Deadline.due_at <= now)
        return len(list(session.scalars(query)))
