"""The WeCom adapter's parts on their own: WeCom's published sample through the adapter, the
client's token handling, the sender's error mapping and updates, the response codes, and the
cards' limits. The fake WeCom runs for real on loopback; the database is each test backend."""

import concurrent.futures
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

from bot.answers import Answers
from bot.assembly import open_database
from bot.delivery import DeliveryError, Outgoing
from bot.runtime import build
from bot.settings import Settings
from bot.wecom import render
from bot.wecom.adapter import Refused, WeComAdapter, handle
from bot.wecom.client import WeComClient
from bot.wecom.codes import ResponseCodes
from bot.wecom.pace import MemberPace
from bot.wecom.sender import WeComSender
from bot.workers import ThreadWorkers
from handlers.context import Origin
from handlers.messages import Action, Card, Field, File, Text
from handlers.targets import Target
from storage.models import CardResponse
from tests import fake_wecom as fw
from tests.chat import catalog
from tests.conftest import ORG_FILE
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom
from tests.test_fake_wecom import WC_BODY, WC_CORP, WC_KEY, WC_QUERY, WC_TOKEN, WC_VERIFY


@pytest.fixture
def wecom():
    with FakeWeCom() as f:
        yield f


@pytest.fixture
def client(wecom):
    return WeComClient(CORP_ID, SECRET, api_base_url=wecom.base_url, timeout=5)


@pytest.fixture
def codes(db, clock):
    return ResponseCodes(db, clock)


@pytest.fixture
def sender(client, codes, chat):
    return WeComSender(client, AGENT_ID, codes, chat.core.i18n)


def card(*actions: Action, state="awaiting admin review", fields=2) -> Card:
    return Card(
        title="V-7 Machine-room visit: swap a fan",
        fields=[Field(f"Field {i}", f"value {i}") for i in range(fields)],
        body="Bring the spare fan.",
        actions=list(actions),
        subject="V-7",
        state_label=state,
    )


APPROVE = Action("visit.approve", "Approve", "visit approve V-7", "primary", "V-7")
REJECT = Action("visit.reject", "Reject", "visit reject V-7 reason=", "danger", "V-7", "Why?")


def item(message, *, target="alice.w", kind="person", replaces=None, id=1) -> Outgoing:
    return Outgoing(id, "wecom", Target(kind, target), "en", "V-7", message, 1, "claim", replaces)


# ---- WeCom's own published sample, through the adapter


def test_the_published_sample_passes_the_adapters_checks(chat):
    crypto = WeChatCrypto(WC_TOKEN, WC_KEY, WC_CORP)
    workers = ThreadWorkers(chat.core, 1)
    answers = Answers(chat.core, workers)
    at_sample_time = WeComAdapter(crypto, agent_id=1000002, answers=answers)
    try:
        verify = {**WC_VERIFY}
        at_sample_time.now = lambda: int(verify["timestamp"])
        assert at_sample_time.verify_url(verify) == "1288432023552776189"
        at_sample_time.now = lambda: int(WC_QUERY["timestamp"])
        at_sample_time.receive(WC_QUERY, WC_BODY.encode())  # "你好" from ChenJiaShun
        # the same capture a day later is a replay, refused however well it is signed
        late = WeComAdapter(crypto, agent_id=1000002, answers=answers,
                            now=lambda: int(WC_QUERY["timestamp"]) + 86400)  # fmt: skip
        with pytest.raises(Refused) as refused:
            late.receive(WC_QUERY, WC_BODY.encode())
    finally:
        workers.close()  # waits for the callback's work
    assert refused.value.status == 403
    [reply] = chat.outbox(target="ChenJiaShun")  # "你好" is no command: the help is offered
    assert reply.platform == "wecom" and "help" in reply.payload["text"]


# ---- the client


def test_one_token_is_fetched_for_many_threads(wecom, client):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(lambda _: client.access_token, range(32)))
    assert len(tokens) == 1 and len(wecom.calls("gettoken")) == 1


def test_a_token_error_refreshes_once_then_gives_up(wecom, client):
    client.calling(lambda: client.message.send_text(AGENT_ID, ["alice.w"], "warm-up"))
    wecom.fail_next("message/send", fw.INVALID_TOKEN, times=5)
    with pytest.raises(WeChatClientException) as err:
        client.calling(lambda: client.message.send_text(AGENT_ID, ["alice.w"], "stuck"))
    assert err.value.errcode == fw.INVALID_TOKEN
    assert [c.errcode for c in wecom.calls("message/send")] == [0, 40014, 40014]
    assert len(wecom.calls("gettoken")) == 2  # one refresh, not one per failure


def test_gettoken_respects_the_timeout_and_the_base_url(wecom):
    slow = WeComClient(CORP_ID, SECRET, api_base_url=wecom.base_url, timeout=0.2)
    wecom.fail_next("gettoken", delay=1.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        slow.fetch_access_token()
    assert time.monotonic() - started < 0.9
    assert wecom.calls("gettoken")  # it went to the fake, not to WeCom's own host


# ---- the sender


def test_a_card_with_buttons_goes_to_a_person_as_a_template_card(wecom, sender, codes):
    ref = sender.send(item(card(APPROVE, REJECT)))
    assert ref.startswith("card:")
    task_id = ref.removeprefix("card:")
    sent = wecom.card(task_id)["sent"]
    assert sent["card_type"] == "button_interaction"
    keys = [b["key"] for b in sent["button_list"]]
    assert keys == ["visit approve V-7", "?visit reject V-7 reason=\nWhy?"]  # what it asks, after
    assert codes.take(task_id, "alice.w") == wecom.card(task_id)["response_code"]


def test_text_files_and_group_messages_are_markdown_or_files(wecom, sender):
    sender.send(item(Text("hello 你好")))
    assert wecom.messages("alice.w")[-1]["markdown"]["content"] == "hello 你好"
    sender.send(item(card(APPROVE), kind="channel", target="wrvisits"))
    group = wecom.chat_messages("wrvisits")[-1]["markdown"]["content"]
    hint = catalog("wecom.type_to_act")
    assert f"{hint} `visit approve V-7`" in group  # no buttons in a group: the command
    key = "9c2b1e40-0000-4aaa-8bbb-0123456789ab"
    wecom.add_webhook(key)
    sender.send(item(Text("robot"), kind="channel", target=f"webhook:{key}"))
    assert wecom.robot_messages(key)[-1]["markdown"]["content"] == "robot"
    sender.send(item(File("visits.csv", "ref,state\nV-7,approved\n", "text/csv")))
    media_id = wecom.messages("alice.w")[-1]["file"]["media_id"]
    assert wecom.media(media_id)["data"] == b"ref,state\nV-7,approved\n"


def test_a_group_card_that_changes_is_posted_anew_saying_what_changed(wecom, sender):
    # a group message cannot be rewritten: an update is a new message with the new state
    key = "7d1e2f30-0000-4aaa-8bbb-0123456789ab"
    wecom.add_webhook(key)
    for target in ("wrvisits", f"webhook:{key}"):
        first = sender.send(item(card(APPROVE), kind="channel", target=target))
        assert first  # a reference, so that the delivery can send the card's updates
        changed = item(card(state="approved"), kind="channel", target=target, replaces=first)
        assert sender.send(changed) == first
    for group in (wecom.chat_messages("wrvisits"), wecom.robot_messages(key)):
        *_, before, after = [m["markdown"]["content"] for m in group]
        assert "awaiting admin review" in before and "approved" in after


def test_a_member_gets_at_most_30_messages_a_minute_and_the_rest_wait(wecom, client, codes, chat):
    now = [1000.0]
    sender = WeComSender(client, AGENT_ID, codes, chat.core.i18n, MemberPace(lambda: now[0]))
    for n in range(30):
        now[0] += 1  # t = 1001 ... 1030
        sender.send(item(Text(f"notice {n}")))
    with pytest.raises(DeliveryError) as waiting:  # WeCom would drop it without a word
        sender.send(item(Text("one too many")))
    assert not waiting.value.permanent and waiting.value.retry_after == pytest.approx(31.0)
    assert len(wecom.messages("alice.w")) == 30
    sender.send(item(Text("for someone else"), target="dan.w"))  # others are not held up
    now[0] += 31
    sender.send(item(Text("in the next minute")))
    assert wecom.messages("alice.w")[-1]["markdown"]["content"] == "in the next minute"


def test_the_hourly_cap_of_1000_is_kept_too():
    now = [0.0]
    pace = MemberPace(lambda: now[0])
    for _ in range(1000):
        assert pace.reserve("Alice.W") == 0  # 24 a minute: under the minute's cap
        now[0] += 2.5
    assert pace.reserve("alice.w") == pytest.approx(3600 - 2500)  # the first leaves the hour
    now[0] = 3600.0
    assert pace.reserve("alice.w") == 0


def test_an_update_uses_a_response_code_then_falls_back_to_a_new_message(wecom, sender):
    ref = sender.send(item(card(APPROVE, REJECT)))
    task_id = ref.removeprefix("card:")
    # the send's code: the card is rewritten, buttons and all
    assert sender.send(item(card(APPROVE, state="reviewed"), replaces=ref, id=2)) == ref
    assert wecom.card_view(task_id, "alice.w")["card"]["main_title"]["desc"].startswith("reviewed")
    # no code left: a new card says what changed
    sends = len(wecom.messages("alice.w"))
    new = sender.send(item(card(state="approved"), replaces=ref, id=3))
    assert new != ref and len(wecom.messages("alice.w")) == sends + 1
    assert "approved" in wecom.messages("alice.w")[-1]["markdown"]["content"]


def test_a_used_up_code_falls_back_to_a_new_message(wecom, sender, codes):
    ref = sender.send(item(card(APPROVE)))
    task_id = ref.removeprefix("card:")
    wecom.expire_response_codes()
    sender.send(item(card(state="approved"), replaces=ref, id=2))
    assert [c.errcode for c in wecom.calls("message/update_template_card")] == [42022]
    assert "approved" in wecom.messages("alice.w")[-1]["markdown"]["content"]
    assert codes.take(task_id, "alice.w") is None


@pytest.mark.parametrize(
    ("errcode", "permanent", "retry_after"),
    [
        (fw.RATE_LIMITED, False, 60.0),
        (-1, False, None),
        (fw.ALL_RECIPIENTS_INVALID, True, None),
        (fw.INVALID_MSGTYPE, True, None),
    ],
)
def test_errors_map_to_retry_decisions_with_their_meaning(
    wecom, sender, errcode, permanent, retry_after
):
    wecom.fail_next("message/send", errcode)
    with pytest.raises(DeliveryError) as err:
        sender.send(item(Text("hi")))
    assert err.value.permanent is permanent and err.value.retry_after == retry_after
    assert f"errcode {errcode}" in str(err.value)


def test_server_errors_and_timeouts_are_retried(wecom, client, sender):
    wecom.fail_next("message/send", status=502)
    with pytest.raises(DeliveryError) as err:
        sender.send(item(Text("hi")))
    assert not err.value.permanent
    client.timeout = 0.2
    wecom.fail_next("message/send", delay=1.0)
    with pytest.raises(DeliveryError) as err:
        sender.send(item(Text("late")))
    assert not err.value.permanent and "Timeout" in str(err.value)


# ---- response codes


def test_a_code_is_taken_once_newest_first_and_expires_after_72_hours(codes, clock):
    codes.remember("task-1", "Alice.W", "send-code")
    clock.advance(timedelta(minutes=1))
    codes.remember("task-1", "alice.w", "click-code")
    assert codes.take("task-1", "ALICE.W") == "click-code"
    assert codes.take("task-1", "alice.w") == "send-code"
    assert codes.take("task-1", "alice.w") is None
    codes.remember("task-2", "alice.w", "old")
    clock.advance(timedelta(hours=72, seconds=1))
    assert codes.take("task-2", "alice.w") is None
    assert codes.forget_expired() == 3


def test_the_runtime_forgets_the_expired_codes_every_few_minutes(tmp_path, client, clock, chat):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'codes.sqlite3'}", config=ORG_FILE)
    db = open_database(settings)
    codes = ResponseCodes(db, clock)
    sender = WeComSender(client, AGENT_ID, codes, chat.core.i18n)
    runtime = build(settings, senders={"wecom": sender}, db=db, clock=clock)
    runtime.start_background()
    try:
        assert runtime.scheduler.get_job("housekeeping").func == runtime.housekeeping
    finally:
        runtime.scheduler.shutdown()
    codes.remember("task-1", "alice.w", "old")
    clock.advance(timedelta(hours=71))
    codes.remember("task-2", "alice.w", "fresh")
    clock.advance(timedelta(hours=2))
    runtime.housekeeping()
    with db.unit_of_work() as session:
        assert session.scalars(select(CardResponse.code)).all() == ["fresh"]
    runtime.stop()


# ---- cards within WeCom's limits


def test_a_big_card_stays_within_the_template_card_limits():
    many = [Action(f"a{i}", f"Action number {i} with a long label", f"cmd {i}") for i in range(9)]
    result = render.template_card(card(*many, fields=9), "t1")
    assert len(result["horizontal_content_list"]) == 6 and len(result["button_list"]) == 6
    assert "Field 8: value 8" in result["sub_title_text"]  # the fields that did not fit
    assert all(len(b["text"]) <= render.BUTTON for b in result["button_list"])
    long = render.markdown(Text("长" * 2000), "Reply with:")
    assert len(long.encode()) <= render.MARKDOWN


def test_a_click_from_the_adapter_keeps_its_code(chat, codes):
    handle(chat.core, {"FromUserName": "alice.w", "MsgType": "event",
                       "Event": "template_card_event", "EventKey": "whoami",
                       "TaskId": "task-9", "ResponseCode": "code-9"})  # fmt: skip
    assert codes.take("task-9", "alice.w") == "code-9"
    assert chat.outbox(target="alice.w")[-1].platform == "wecom"
    assert Origin("wecom", "alice.w").platform == "wecom"
