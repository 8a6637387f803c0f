"""The served bot (Slack and WeCom) with an organisation that has repairs: tests/org.yaml plus a
repairs channel (Slack CREPAIRS, WeCom group wrrepairs), erp-db's type (database) with its
specified spare parts. Module fixtures, for a repair e2e module to take:

    served_url, fake = slack_server.served_url, slack_server.fake
    wecom, bot, cb = wecom_server.wecom, repairs_server.bot, wecom_server.cb
"""

import re

import pytest
import yaml

from storage.models import AuditEntry, Repair
from tests import slack_server, wecom_server
from tests.conftest import ORG_FILE

SLACK_CHANNEL, WECOM_GROUP = "CREPAIRS", "wrrepairs"
SPARE_PARTS = ["DDR4-32G-RDIMM", "SSD-960G"]


def org_file(directory) -> str:
    data = yaml.safe_load(ORG_FILE.read_text("utf-8"))
    data["channels"]["repairs"] = {"slack": SLACK_CHANNEL, "wecom_chat": WECOM_GROUP}
    data["repairs"] = {"spare_parts": {"database": SPARE_PARTS}}
    path = directory / "org-repairs.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return str(path)


@pytest.fixture(scope="module")
def bot(request, fake, wecom, served_url, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("serve")
    env = {**wecom_server.wecom_env(wecom), "MAINTBOT_CONFIG": org_file(workdir)}
    errors = slack_server.declared_errors(request.node)
    with slack_server.served(fake, served_url, workdir, extra_env=env, logs_errors=errors) as b:
        yield b


def ref_in(text: str, letter: str = "R") -> str:
    found = re.search(rf"\b{letter}-\d+\b", text)
    assert found, text
    return found.group()


def repair(bot, ref: str) -> Repair:
    with bot.db.unit_of_work() as session:
        row = session.get(Repair, int(ref.split("-")[1]))
        assert row is not None, ref
        _ = (row.steps, row.parts)  # loaded before the session ends
        session.expunge_all()
        return row


def wait_repair(bot, ref: str, check, timeout: float = 10.0) -> Repair:
    """The repair once ``check(row)`` holds (the served bot commits after it answers)."""

    def ready() -> Repair | None:
        row = repair(bot, ref)
        return row if check(row) else None

    return slack_server.wait_until(ready, timeout, f"{ref} as expected")


def audit_count(bot, ref: str) -> int:
    with bot.db.unit_of_work() as session:
        return session.query(AuditEntry).filter_by(subject_type="repair",
                                                   subject_id=int(ref[2:])).count()  # fmt: skip
