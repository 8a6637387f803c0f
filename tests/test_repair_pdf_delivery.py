"""The maintenance report's PDF through the outbox to Slack and WeCom (issue 13, item 7): the
bytes the core made are queued (base64 in the row's JSON), claimed by the courier and uploaded
— Slack's three-step upload, WeCom's media upload then a file message — and the fakes receive
exactly those bytes. The rows are the core's own (an engineer's copies of the report); a relay
at the sender seam sends them to a Slack channel and a WeCom member of the fakes."""

import dataclasses

import pytest
from slack_sdk import WebClient
from sqlalchemy import update

from bot.delivery import Deliverer, Outgoing
from bot.slack.sender import SlackSender
from bot.wecom.client import WeComClient
from bot.wecom.codes import ResponseCodes
from bot.wecom.sender import WeComSender
from handlers.messages import File
from handlers.targets import Target
from storage.models import OutboxMessage
from tests.conftest import BACKEND_AGNOSTIC
from tests.fake_slack import FakeSlack
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom
from tests.repairs_kit import ok, start
from tests.test_repair_pdf import pdf_text, squeeze

pytestmark = BACKEND_AGNOSTIC  # the backend is the storage tests' and the records' concern


class Relay:
    """The console's rows, sent on by a real platform sender to one target of its fake."""

    def __init__(self, sender, to: Target) -> None:
        self.sender, self.to, self.platform = sender, to, sender.platform

    def send(self, item: Outgoing) -> str | None:
        return self.sender.send(dataclasses.replace(item, to=self.to))


def completed(rchat) -> tuple[str, File]:
    """A repair completed by alice with erin on it: erin's copies wait in the outbox."""
    ref = start(rchat, "erp-db engineers=erin")
    ok(rchat, "alice", f'repair step {ref} diagnosis "PSU 2 fan stalled; 电源风扇停转"')
    ok(rchat, "alice", f"repair part {ref} model=PSU-800W old=PSU-7781 new=PSU-9912")
    ok(rchat, "alice", f"repair check {ref} hardware=pass boot=pass selftest=pass network=pass "
                       "business=pass")  # fmt: skip
    messages = rchat.say("alice", f"repair complete {ref}")
    (pdf,) = [m for m in messages if isinstance(m, File) and m.name.endswith(".pdf")]
    return ref, pdf


def deliver(rchat, clock, sender) -> None:
    """Only erin's files (the other notices go nowhere in this test)."""
    with rchat.core.db.unit_of_work() as session:
        others = (OutboxMessage.target != "erin") | (OutboxMessage.kind != "file")
        session.execute(update(OutboxMessage).where(others).values(status="sent"))
    assert Deliverer(rchat.core.db, clock, {"console": sender}).run_once() == 2


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def wecom():
    with FakeWeCom() as fake:
        yield fake


def test_the_pdf_reaches_slack_as_uploaded(rchat, clock, slack):
    ref, pdf = completed(rchat)
    sender = SlackSender(WebClient(token="xoxb-test", base_url=slack.base_url))
    deliver(rchat, clock, Relay(sender, Target("channel", "CREPAIRS")))
    done = slack.calls("files.completeUploadExternal")
    uploaded = [slack.file(c.args["files"][0]["id"]) for c in done]
    assert [f["name"] for f in uploaded] == [f"{ref}-report.md", f"{ref}-report.pdf"]
    assert uploaded[1]["data"] == pdf.content  # the very bytes, not their base64 nor str()
    assert uploaded[1]["channel_id"] == "CREPAIRS"
    _, text = pdf_text(uploaded[1]["data"])
    assert squeeze("PSU 2 fan stalled; 电源风扇停转") in "".join(text)


def test_the_pdf_reaches_wecom_as_media_then_a_file_message(rchat, clock, wecom):
    ref, pdf = completed(rchat)
    client = WeComClient(CORP_ID, SECRET, api_base_url=wecom.base_url, timeout=5)
    sender = WeComSender(client, AGENT_ID, ResponseCodes(rchat.core.db, clock), rchat.core.i18n)
    deliver(rchat, clock, Relay(sender, Target("person", "alice.w")))
    files = [m["file"]["media_id"] for m in wecom.messages("alice.w")]
    media = [wecom.media(media_id) for media_id in files]
    assert [m["filename"] for m in media] == [f"{ref}-report.md", f"{ref}-report.pdf"]
    assert media[1]["data"] == pdf.content
    assert media[1]["content_type"] == "application/pdf"
