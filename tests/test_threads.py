"""A subject's thread (handlers.notify.thread): a notice goes under the subject's card in its
channel where the platform has threads (Slack), to the channel itself where it has none (WeCom's
group, the console); the deliverer replies under the card once the card is sent, and posts to
the channel when it never will be.

The repair workflow is the one that logs into its thread; what is tested here is the kit."""

from datetime import timedelta

import pytest

from bot.delivery import Deliverer, DeliveryError, Outgoing
from handlers import notify
from handlers.context import SYSTEM, Origin
from handlers.core import Core
from handlers.messages import Text
from handlers.targets import CHANNEL, REPLY, THREAD
from handlers.workflows import OrgConfig
from storage.models import OutboxMessage
from tests.chat import Chat, _i18n, platforms

SLACK_CHANNEL, WECOM_GROUP = "CREPAIRS", "wrrepairs"


class Slack:
    """Posts as Slack does: a channel's message is referred to as ``channel:ts``."""

    def __init__(self, *, refuse_cards: bool = False) -> None:
        self.sent: list[Outgoing] = []
        self.refuse_cards = refuse_cards

    def send(self, item: Outgoing) -> str | None:
        if self.refuse_cards and item.message.kind == "card":
            raise DeliveryError("invalid_blocks", permanent=True)
        self.sent.append(item)
        return f"{item.to.address}:1700000000.{len(self.sent):06d}"


@pytest.fixture
def tchat(db, clock, org_repairs) -> Chat:
    data = {**org_repairs}
    data["channels"] = {**data["channels"], "repairs": {"slack": SLACK_CHANNEL,
                                                        "wecom_chat": WECOM_GROUP}}  # fmt: skip
    core = Core(
        db, clock, _i18n("en"), OrgConfig.model_validate(data),
        platforms("slack", "wecom", "console"),
    )  # fmt: skip
    core.seed()
    return Chat(core, clock)


def rows(chat: Chat, **where) -> list[OutboxMessage]:
    return [r for r in chat.outbox() if all(getattr(r, k) == v for k, v in where.items())]


def started(chat: Chat) -> OutboxMessage:
    """alice starts R-1; the card posted to the Slack channel."""
    chat.say("alice", "repair start erp-db")
    [card] = rows(chat, platform="slack", target=SLACK_CHANNEL, kind="card")
    return card


def test_a_step_goes_under_the_card_in_slack_and_to_the_channel_elsewhere(tchat):
    card = started(tchat)
    before = len(tchat.outbox())
    tchat.say("alice", 'repair step R-1 diagnosis "BMC log shows DIMM B2 ECC errors"')
    logged = [r for r in tchat.outbox()[before:] if r.kind == "text" and r.person_id is None]
    where = sorted((r.platform, r.target_kind, r.target) for r in logged)
    assert where == [
        ("console", CHANNEL, "#repairs"),
        ("slack", REPLY, str(card.id)),
        ("wecom", CHANNEL, WECOM_GROUP),
    ]
    line = "R-1 · #1 Diagnosis · Alice Engineer: BMC log shows DIMM B2 ECC errors"
    assert {r.payload["text"] for r in logged} == {line}
    assert {r.subject for r in logged} == {"R-1"}


def test_the_reply_waits_for_its_card_then_goes_in_its_thread(tchat, db, clock):
    started(tchat)
    tchat.say("alice", 'repair step R-1 diagnosis "fans at full speed"')
    slack = Slack()
    deliverer = Deliverer(db, clock, {"slack": slack})
    deliverer.run_once()  # the card goes; the reply, claimed with it, waits its turn
    assert [(i.to.kind, i.message.kind) for i in slack.sent] == [(CHANNEL, "card")]
    [reply] = rows(tchat, platform="slack", kind="text", person_id=None)
    assert reply.status == "pending" and reply.target_kind == REPLY
    clock.advance(timedelta(seconds=2))
    deliverer.run_once()
    sent = slack.sent[-1]
    assert (sent.to.kind, sent.to.address, sent.to.ref) == (
        THREAD,
        SLACK_CHANNEL,
        "1700000000.000001",
    )
    assert isinstance(sent.message, Text) and "fans at full speed" in sent.message.text
    [reply] = rows(tchat, id=reply.id)
    assert (reply.status, reply.target_kind, reply.target) == (
        "sent",
        THREAD,
        f"{SLACK_CHANNEL}:1700000000.000001",
    )


@pytest.mark.logs_errors("bot.delivery")
def test_a_reply_whose_card_was_never_posted_goes_to_the_channel(tchat, db, clock):
    started(tchat)
    tchat.say("alice", 'repair step R-1 safety "power isolated"')
    slack = Slack(refuse_cards=True)  # the card: refused once and for all
    deliverer = Deliverer(db, clock, {"slack": slack})
    deliverer.run_once()
    clock.advance(timedelta(seconds=2))
    deliverer.run_once()
    [sent] = slack.sent
    assert (sent.to.kind, sent.to.address) == (CHANNEL, SLACK_CHANNEL)
    assert "power isolated" in sent.message.text


def test_without_a_card_in_the_channel_the_thread_is_the_channel(tchat, db, clock):
    with db.unit_of_work() as session:
        ctx = tchat.core.context(session, SYSTEM, Origin("system", None))
        count = notify.thread(ctx, "repairs", lambda _l, _v: Text("hello"), "R-9")
    assert count == 3
    assert sorted((r.platform, r.target_kind) for r in tchat.outbox()) == [
        ("console", CHANNEL), ("slack", CHANNEL), ("wecom", CHANNEL)
    ]  # fmt: skip


def test_the_report_and_its_file_go_in_the_thread(tchat):
    card = started(tchat)
    tchat.say("alice", "repair check R-1 hardware=pass boot=pass selftest=pass network=pass "
                       "business=pass")  # fmt: skip
    before = len(tchat.outbox())
    tchat.say("alice", "repair complete R-1")
    replies = [r for r in tchat.outbox()[before:] if r.target_kind == REPLY]
    assert [r.kind for r in replies] == ["text", "file", "file"]
    assert {r.target for r in replies} == {str(card.id)}
    assert replies[0].payload["text"].startswith("# Maintenance report R-1")
    assert [r.payload["name"] for r in replies[1:]] == ["R-1-report.md", "R-1-report.pdf"]
    group = [r.kind for r in tchat.outbox()[before:] if r.target == WECOM_GROUP]
    assert group[-3:] == ["text", "file", "file"]  # WeCom's group: the same, in the group
