"""The Slack fake and the signed-request helpers, checked with the real slack_sdk and slack_bolt."""

import json
import re
import threading
import time
import urllib.request
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests import slack_requests as sr
from tests.fake_slack import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack, dm_channel_id

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Visit* V-1"}}]
TS_RE = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def fake():
    with FakeSlack() as f:
        yield f


@pytest.fixture
def client(fake):
    return WebClient(token="xoxb-test", base_url=fake.base_url)


def api_error(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    return info.value


def error_of(call, *args, **kwargs) -> str:
    return api_error(call, *args, **kwargs).response["error"]


# ---- responses shaped like Slack's


def test_auth_test_and_bearer_token(fake, client):
    assert fake.base_url == fake.url + "api/" and fake.base_url.startswith("http://127.0.0.1:")
    r = client.auth_test()
    assert r.status_code == 200
    assert r["team_id"] == TEAM_ID and r["user_id"] == BOT_USER_ID and r["bot_id"] == BOT_ID
    assert {"ok", "url", "team", "user"} <= set(r.data)
    [call] = fake.calls("auth.test")
    assert call.headers["authorization"] == "Bearer xoxb-test" and "token" not in call.args


def test_missing_or_wrong_token(fake):
    e = api_error(WebClient(base_url=fake.base_url).auth_test)
    assert (e.response.status_code, e.response["error"]) == (200, "not_authed")
    e = api_error(WebClient(token="xoxb-other", base_url=fake.base_url).auth_test)
    assert (e.response.status_code, e.response["error"]) == (200, "invalid_auth")


def test_post_message_returns_channel_ts_message_and_keeps_state(fake, client):
    tss = []
    for n in range(3):
        r = client.chat_postMessage(channel="C1", text=f"hello {n}", blocks=BLOCKS)
        assert r["channel"] == "C1" and TS_RE.match(r["ts"])
        assert r["message"]["ts"] == r["ts"] and r["message"]["bot_id"] == BOT_ID
        tss.append(r["ts"])
    assert tss == sorted(set(tss), key=float)  # unique, increasing
    assert fake.message("C1", tss[1])["text"] == "hello 1"
    assert fake.message("C1", tss[1])["blocks"] == BLOCKS
    assert fake.message("C2", tss[1]) is None
    assert [m["text"] for m in fake.messages("C1")] == ["hello 0", "hello 1", "hello 2"]


def test_post_to_a_user_id_lands_in_the_dm(client):
    r = client.chat_postMessage(channel="U1", text="hi")
    assert (
        r["channel"]
        == dm_channel_id("U1")
        == client.conversations_open(users="U1")["channel"]["id"]
    )


def test_post_message_validates_like_slack(client):
    post = client.chat_postMessage
    assert error_of(post, channel="", text="x") == "channel_not_found"
    with pytest.warns(UserWarning, match="`text` argument is missing"):  # slack_sdk's own warning
        assert error_of(post, channel="C1") == "no_text"
        assert error_of(post, channel="C1", blocks=[{"text": "no type"}]) == "invalid_blocks"


def test_json_and_form_bodies_are_both_decoded(fake, client):
    client.chat_postMessage(channel="C1", text="json", blocks=BLOCKS)  # slack_sdk sends JSON
    client.api_call(  # a form, with blocks as a JSON string inside it
        "chat.postMessage", params={"channel": "C1", "text": "form", "blocks": json.dumps(BLOCKS)}
    )
    as_json, as_form = fake.calls("chat.postMessage")
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert as_json.args["blocks"] == as_form.args["blocks"] == BLOCKS
    # token as a form argument instead of the header, as Slack also accepts
    body = b"token=xoxb-test&channel=C1&text=plain&attachments=%5B%7B%22text%22%3A%22a%22%7D%5D"
    with urllib.request.urlopen(fake.base_url + "chat.postMessage", data=body) as resp:
        answer = json.load(resp)
    assert answer["ok"] and answer["message"]["attachments"] == [{"text": "a"}]
    bad = {"channel": "C1", "blocks": "[{not json"}
    assert error_of(client.api_call, "chat.postMessage", params=bad) == "invalid_blocks_format"


def test_update_keeps_blocks_unless_given(fake, client):
    ts = client.chat_postMessage(channel="C1", text="v1", blocks=BLOCKS)["ts"]
    r = client.chat_update(channel="C1", ts=ts, text="v2")
    assert (r["channel"], r["ts"], r["text"]) == ("C1", ts, "v2")
    assert fake.message("C1", ts)["blocks"] == BLOCKS  # Slack keeps omitted blocks
    client.chat_update(channel="C1", ts=ts, text="v3", blocks=[])
    assert fake.message("C1", ts)["blocks"] == [] and fake.message("C1", ts)["text"] == "v3"
    assert "edited" in fake.message("C1", ts)
    update = client.chat_update
    assert error_of(update, channel="C1", ts="1.000001", text="x") == "message_not_found"
    assert error_of(update, channel="U1", ts=ts, text="x") == "channel_not_found"  # wants a D-id


def test_post_ephemeral(client):
    r = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert TS_RE.match(r["message_ts"]) and "ts" not in r.data
    assert error_of(client.chat_postEphemeral, channel="C1", user="", text="x") == "user_not_found"


def test_conversations_open_gives_the_same_dm_every_time(client):
    first = client.conversations_open(users="U1")
    again = client.conversations_open(users="U1")
    assert first["channel"]["id"] == again["channel"]["id"] == dm_channel_id("U1")
    assert first["channel"]["id"].startswith("D") and again["already_open"] is True
    assert client.conversations_open(users="U2")["channel"]["id"] != first["channel"]["id"]


def test_views_open_update_publish(fake, client):
    modal = {"type": "modal", "callback_id": "visit", "title": {"type": "plain_text", "text": "V"}}
    view = client.views_open(trigger_id="1.2.abc", view=modal | {"blocks": BLOCKS})["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "visit" and view["hash"]
    updated = client.views_update(view_id=view["id"], view=modal | {"blocks": []})["view"]
    assert updated["id"] == view["id"] and fake.view(view["id"])["blocks"] == []
    stale = view["hash"]  # the update changed the hash
    assert error_of(client.views_update, view_id=view["id"], hash=stale, view=modal) == (
        "hash_conflict"
    )
    assert error_of(client.views_update, view_id="V404", view=modal) == "not_found"
    assert error_of(client.views_open, trigger_id="", view=modal) == "invalid_arguments"
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": BLOCKS})["view"]
    assert home["type"] == "home" and fake.home("U1")["blocks"] == BLOCKS
    assert client.views_publish(user_id="U1", view={"type": "home"})["view"]["id"] == home["id"]


def test_users_info(fake, client):
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1" and user["tz"] and user["profile"]["real_name"]
    fake.add_user("U2", real_name="Li Lei", tz="Europe/Berlin")
    user = client.users_info(user="U2")["user"]
    assert user["real_name"] == user["profile"]["real_name"] == "Li Lei"
    assert user["tz"] == "Europe/Berlin"
    assert error_of(client.users_info, user="nobody") == "user_not_found"


def test_file_upload_v2_flow(fake, client):
    r = client.files_upload_v2(
        channel="C1", content=b"rack A12\n", filename="plan.txt", title="Plan", initial_comment="Hi"
    )
    assert [c.method for c in fake.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    step1 = fake.calls("files.getUploadURLExternal")[0]
    assert step1.response["upload_url"].startswith(fake.url)
    file_id = step1.response["file_id"]
    assert r["file"]["id"] == file_id and r["files"][0]["title"] == "Plan"
    stored = fake.file(file_id)
    assert stored["data"] == b"rack A12\n" and stored["channel_id"] == "C1"
    assert stored["initial_comment"] == "Hi"
    url = client.files_getUploadURLExternal(filename="x.txt", length=1)
    not_uploaded = [{"id": url["file_id"]}]
    assert error_of(client.files_completeUploadExternal, files=not_uploaded) == "file_not_found"


def test_unknown_method(client):
    assert error_of(client.api_call, "chat.fly") == "unknown_method"


# ---- programmable failures


def test_429_is_raised_with_retry_after_by_default(fake, client):
    fake.fail_next("chat.postMessage", retry_after=7)
    e = api_error(client.chat_postMessage, channel="C1", text="x")
    assert e.response.status_code == 429 and e.response["error"] == "ratelimited"
    assert e.response.headers["Retry-After"] == "7"
    assert fake.messages("C1") == []  # nothing posted
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # consumed once


def test_429_retried_by_rate_limit_handler(fake):
    client = WebClient(
        token="xoxb-test",
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", retry_after=1)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    limited, passed = fake.calls("chat.postMessage")
    assert (limited.status, limited.ok, passed.ok) == (429, False, True)
    assert passed.at - limited.at >= 1.0  # it waited Retry-After seconds
    assert len(fake.messages("C1")) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(fake, client, status):
    fake.fail_next("chat.update", status=status)
    e = api_error(client.chat_update, channel="C1", ts="1.1", text="x")
    assert e.response.status_code == status
    retrying = WebClient(
        token="xoxb-test", base_url=fake.base_url, retry_handlers=[ServerErrorRetryHandler()]
    )
    fake.fail_next("auth.test", status=status)
    assert retrying.auth_test()["ok"]
    assert [c.status for c in fake.calls("auth.test")] == [status, 200]


def test_error_codes_once_or_n_times_and_per_channel(fake, client):
    fake.fail_next("chat.postMessage", error="not_in_channel", times=2)
    for _ in range(2):
        e = api_error(client.chat_postMessage, channel="C1", text="x")
        assert (e.response.status_code, e.response["error"]) == (200, "not_in_channel")
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    fake.fail_next("*", error="invalid_blocks")
    assert error_of(client.auth_test) == "invalid_blocks"
    fake.channel_error("C404", "channel_not_found")
    assert error_of(client.chat_postMessage, channel="C404", text="x") == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    ephemeral = client.chat_postEphemeral
    assert error_of(ephemeral, channel="C404", user="U1", text="x") == "channel_not_found"


def test_delay_and_slow(fake, client):
    fake.fail_next("auth.test", delay=0.6)
    started = time.monotonic()
    assert client.auth_test()["ok"]
    assert time.monotonic() - started >= 0.6
    fake.slow(0.3)
    started = time.monotonic()
    client.auth_test()
    client.auth_test()
    assert time.monotonic() - started >= 0.6
    fake.slow(0)


def test_a_slow_slack_still_posts_when_the_client_times_out(fake):
    impatient = WebClient(token="xoxb-test", base_url=fake.base_url, timeout=1)
    fake.fail_next("chat.postMessage", delay=3.0)
    with pytest.raises(TimeoutError):  # a read timeout: not retried by the default handlers
        impatient.chat_postMessage(channel="C1", text="x")
    assert len(fake.calls("chat.postMessage")) == 1
    assert len(fake.messages("C1")) == 1  # posted all the same: retrying would post twice


# ---- recording


def test_wait_for_calls_made_from_another_thread(fake, client):
    def later():
        time.sleep(0.2)
        client.chat_postMessage(channel="C1", text="first")
        client.chat_postMessage(channel="C2", text="second")

    threading.Thread(target=later).start()
    [call] = fake.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == "C2")
    assert call.args["text"] == "second" and call.ok
    assert [c.args["text"] for c in fake.calls("chat.postMessage")] == ["first", "second"]
    with pytest.raises(AssertionError, match=r"chat\.update.*\n.*chat\.postMessage -> 200"):
        fake.wait_for("chat.update", timeout=0.2)
    fake.reset()
    assert fake.calls() == [] and fake.messages("C1") == []


# ---- response_url


def test_response_url_records_posts_and_answers_ok(fake):
    url = fake.response_url("cmd-1")
    assert url == fake.url + "hooks/cmd-1"
    r = WebhookClient(url).send(text="Visit V-1 booked", response_type="ephemeral")
    assert (r.status_code, r.body) == (200, "ok")
    assert fake.responses("cmd-1") == [{"text": "Visit V-1 booked", "response_type": "ephemeral"}]
    fake.wait_for("hooks/cmd-1")


def test_response_url_can_replace_or_delete_the_original(fake, client):
    ts = client.chat_postMessage(channel="C1", text="approve?", blocks=BLOCKS)["ts"]
    url = fake.response_url("act-1", channel="C1", ts=ts)
    WebhookClient(url).send(text="approved", replace_original=True)
    assert fake.message("C1", ts)["text"] == "approved" and "blocks" not in fake.message("C1", ts)
    WebhookClient(url).send(delete_original=True)
    assert fake.message("C1", ts) is None


# ---- signed requests


KAT_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmi"
    "bIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


def test_signing_known_answer_from_slack_sdk_tests():
    headers = sr.sign(KAT_BODY, "8f742231b10e8888abcd99yyyzzz85a5", 1531420618)
    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


def all_requests():
    return {
        "slash": sr.slash_command("visit list", "U1", "C1"),
        "action": sr.block_actions("U1", "approve", "V-1", channel_id="C1", message_ts="1.2"),
        "view": sr.view_submission("U1", "visit", {"b": {"a": "x"}}),
        "event": sr.event(sr.app_mention("help", "U1", "C1")),
        "challenge": sr.url_verification("abc"),
    }


def test_signed_requests_verify_with_slack_sdk():
    verifier = SignatureVerifier(sr.SIGNING_SECRET)
    for name, (body, headers) in all_requests().items():
        assert verifier.is_valid_request(body, headers), name
        assert not verifier.is_valid_request(body + b"x", headers), name
    body, headers = sr.slash_command("x", "U1", "C1", timestamp=int(time.time()) - 301)
    assert not verifier.is_valid_request(body, headers)  # too old
    body, headers = sr.slash_command("x", "U1", "C1", secret="other")
    assert not verifier.is_valid_request(body, headers)


def test_payload_shapes():
    reqs = all_requests()
    slash = {
        k: v[0] for k, v in parse_qs(reqs["slash"][0].decode(), keep_blank_values=True).items()
    }
    assert set(slash) == {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    }  # fmt: skip
    assert (slash["command"], slash["text"]) == ("/maint", "visit list")
    action = json.loads(parse_qs(reqs["action"][0].decode())["payload"][0])
    assert action["type"] == "block_actions" and action["container"]["channel_id"] == "C1"
    assert action["actions"][0].items() >= {"action_id": "approve", "type": "button"}.items()
    assert action["message"]["ts"] == "1.2" and action["user"]["id"] == "U1"
    view = json.loads(parse_qs(reqs["view"][0].decode())["payload"][0])["view"]
    assert view["type"] == "modal" and view["callback_id"] == "visit"
    assert view["state"]["values"] == {"b": {"a": {"type": "plain_text_input", "value": "x"}}}
    envelope = json.loads(reqs["event"][0])
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["event"]["text"] == f"<@{BOT_USER_ID}> help"
    assert envelope["authorizations"][0]["user_id"] == BOT_USER_ID
    assert reqs["event"][1]["Content-Type"] == "application/json"
    assert sr.message_im("hi", "U1")["channel"] == dm_channel_id("U1")
    assert sr.retry_headers(2) == {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}


def test_bolt_accepts_our_requests_and_talks_to_the_fake(fake):
    app = App(
        client=WebClient(token="xoxb-test", base_url=fake.base_url),
        signing_secret=sr.SIGNING_SECRET,
        process_before_response=True,
    )  # App calls auth.test at once: on the fake
    seen = []

    @app.command("/maint")
    def command(ack, respond, command):
        ack()
        respond(f"got {command['text']}")

    @app.action("approve")
    def approve(ack, body, client):
        ack()
        client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="done")

    @app.view("visit")
    def visit(ack, view):
        typed = view["state"]["values"]["b"]["a"]["value"]
        ack(response_action="errors", errors={"b": f"bad {typed}"})

    @app.event("app_mention")
    def mention(event, say):
        seen.append(event["text"])
        say("hello")

    def dispatch(req):
        body, headers = req
        return app.dispatch(BoltRequest(body=body.decode(), headers=headers))

    resp = dispatch(sr.slash_command("list", "U1", "C1", response_url=fake.response_url("c")))
    assert resp.status == 200 and fake.responses("c")[0]["text"] == "got list"

    ts = app.client.chat_postMessage(channel="C1", text="approve?")["ts"]
    resp = dispatch(sr.block_actions("U1", "approve", "V-1", channel_id="C1", message_ts=ts))
    assert resp.status == 200 and fake.message("C1", ts)["text"] == "done"

    resp = dispatch(sr.view_submission("U1", "visit", {"b": {"a": "x"}}))
    assert resp.status == 200
    assert json.loads(resp.body) == {"response_action": "errors", "errors": {"b": "bad x"}}

    assert dispatch(sr.event(sr.app_mention("help", "U1", "C1"))).status == 200
    assert seen == [f"<@{BOT_USER_ID}> help"] and fake.messages("C1")[-1]["text"] == "hello"

    resp = dispatch(sr.url_verification("chal"))
    assert (resp.status, json.loads(resp.body)) == (200, {"challenge": "chal"})
    assert dispatch(sr.slash_command("x", "U1", "C1", secret="wrong")).status == 401
    assert fake.calls()[0].method == "auth.test"
