"""A Slack modal whose command succeeds with a warning beside the answer (a request that cannot
complete with the organisation's people) closes: only a refused command keeps it open with an
inline error. Served for real, in an organisation where bob is the only admin."""

import pytest
import yaml

from tests import slack_requests as sr
from tests.chat import catalog
from tests.fake_slack import FakeSlack, dm_channel_id
from tests.slack_server import ORG_FILE, served, texts

pytestmark = pytest.mark.slow
BOB = "UBOB"
FORM = {
    "at": "+3d 10:00",
    "duration": "2h",
    "room": "SH1/A101",
    "task": "Replace the PDU",
    "id": "passport:E1234567",
    "company": "Acme",
    "contact": "13800000002",
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("only-admin")
    org = yaml.safe_load(ORG_FILE.read_text("utf-8"))
    for person in org["people"]:
        if person["handle"] == "amy":
            person["roles"] = ["supervisor"]  # bob is now the only admin
    org_file = workdir / "org.yaml"
    org_file.write_text(yaml.safe_dump(org, allow_unicode=True), "utf-8")
    database = f"sqlite:///{workdir / 'served.sqlite3'}"
    with (
        FakeSlack() as fake,
        served(fake, database, workdir, extra_env={"MAINTBOT_CONFIG": str(org_file)}) as served_bot,
    ):
        yield served_bot


def test_a_form_that_files_with_a_warning_closes_and_the_warning_reaches_the_requester(bot):
    body, headers = sr.slash_command("visit request", BOB, "CMAINT", trigger_id="only-admin")
    bot.post(body, headers)
    reply = bot.submit(BOB, bot.modal("only-admin"), FORM)
    assert reply.status == 200 and reply.text == ""  # closed: the visit was filed
    ref = bot.visit_by_task(FORM["task"])
    assert bot.state(ref) == "requested"
    dm = bot.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: (
            c.args.get("channel") == dm_channel_id(BOB)
            and catalog("visit.supervisor_reviews") in texts(c.args)
        ),
    )
    assert dm
