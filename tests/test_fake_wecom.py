"""The WeCom fake and the callback encryption helpers, checked against the real wechatpy and
against vectors we did not write: wechatpy's own test vectors and WeCom's published sample."""

import base64
import io
import struct
import threading
import time
from xml.parsers.expat import ExpatError

import pytest
import requests
from wechatpy.enterprise import WeChatClient, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.events import EnterAgentEvent
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.messages import TextMessage
from wechatpy.exceptions import (
    APILimitedException,
    InvalidSignatureException,
    WeChatClientException,
)
from wechatpy.messages import UnknownMessage

from bot.wecom.client import WeComClient
from tests import fake_wecom as fw
from tests import wecom_requests as wr
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom

# wechatpy's vectors: tests/test_crypto.py in github.com/wechatpy/wechatpy (enterprise crypto).
WP_TOKEN, WP_CORP = "123456", "wx49f0ab532d5d035a"
WP_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
WP_ECHOSTR = (
    "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
)
WP_REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
WP_REPLY_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8"
    "GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPU"
    "L2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFu"
    "rDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFM"
    "NMpatF9XiKzHo3"
)
WP_MESSAGE_ENCRYPTED = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeD"
    "XzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolB"
    "ug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnY"
    "ZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5no"
    "Trb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)

# WeCom's own published sample: callback/Sample.py in github.com/sbzhu/weworkapi_python, the
# Python library linked from WeCom's 加解密方案 page (the same values are in its other languages).
WC_TOKEN, WC_CORP = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "ww1436e0e65a779aee"
WC_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
WC_VERIFY = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEk"
               "RxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
}  # fmt: skip
WC_QUERY = {"msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
            "timestamp": "1476422779", "nonce": "1597212914"}  # fmt: skip
WC_BODY = (
    "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhz"
    "TtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z"
    "5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0"
    "cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiy"
    "pE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)
WC_PLAIN = (
    "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
    "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
    "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
)

# What wechatpy raises when it decrypts garbage with a valid signature (wrong key, damaged
# ciphertext): it checks no padding, so it fails somewhere later, with one of these.
GARBAGE_ERRORS = (InvalidCorpIdException, struct.error, UnicodeDecodeError, ValueError)

BUTTONS = [{"text": "批准 Approve", "style": 1, "key": "approve"},
           {"text": "拒绝 Reject", "style": 2, "key": "reject"}]  # fmt: skip


def approval_card(task_id: str, buttons=BUTTONS, **extra) -> dict:
    return {"msgtype": "template_card", "template_card": {
        "card_type": "button_interaction", "task_id": task_id,
        "main_title": {"title": "Visit V-1 awaits approval", "desc": "SH1 A101, 2026-11-25"},
        "sub_title_text": "Alice Engineer (Acme)",
        "horizontal_content_list": [{"keyname": "Site", "value": "SH1"}],
        "button_list": buttons, "replace_text": "处理中", **extra,
    }}  # fmt: skip


class FakeableWeChatClient(WeChatClient):
    """What the adapter does: every call, gettoken included, goes to ``api_base_url``.
    (wechatpy's ``fetch_access_token`` hard-codes https://qyapi.weixin.qq.com/cgi-bin/gettoken.)"""

    def __init__(self, corp_id, secret, *, api_base_url, **kwargs):
        self.API_BASE_URL = api_base_url  # shadows the class attribute, for this client only
        super().__init__(corp_id, secret, **kwargs)

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )


@pytest.fixture
def fake():
    with FakeWeCom() as f:
        yield f


@pytest.fixture
def client(fake):
    return FakeableWeChatClient(CORP_ID, SECRET, api_base_url=fake.base_url, timeout=5)


@pytest.fixture
def cb():
    return wr.WeComCallback()


@pytest.fixture
def crypto():
    return WeChatCrypto(wr.TOKEN, wr.AES_KEY, CORP_ID)


def decrypt_with_wechatpy(crypto: WeChatCrypto, request) -> str:
    query, body = request
    return crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])


def error_of(call, *args, **kwargs) -> WeChatClientException:
    with pytest.raises(WeChatClientException) as info:
        call(*args, **kwargs)
    return info.value


# ---- vectors we did not write


def test_wechatpy_vector_url_verification():
    assert wr.signature(WP_TOKEN, "1411443780", "437374425", WP_ECHOSTR) == (
        "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    )
    assert wr.decrypt(WP_ECHOSTR, WP_KEY) == ("5927782489442352469", WP_CORP)
    crypto = WeChatCrypto(WP_TOKEN, WP_KEY, WP_CORP)
    sig = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    assert crypto.check_signature(sig, "1411443780", "437374425", WP_ECHOSTR) == (
        "5927782489442352469"
    )
    with pytest.raises(InvalidSignatureException):  # wechatpy's "should fail": another nonce
        crypto.check_signature(sig, "1411443780", "437374424", WP_ECHOSTR)


def test_wechatpy_vector_encrypt_reply_with_fixed_random_prefix():
    encrypted = wr.encrypt(WP_REPLY, WP_KEY, WP_CORP, prefix=b"1234567890123456")
    assert encrypted == WP_REPLY_ENCRYPTED
    assert wr.signature(WP_TOKEN, "1411525903", "461056294", encrypted) == (
        "407518b7649e86ef23978113f92d27afa9296533"
    )
    ours = wr.WeComCallback(WP_TOKEN, WP_KEY, WP_CORP, random_bytes=lambda n: b"1234567890123456")
    reply = ours.reply(WP_REPLY, timestamp="1411525903", nonce="461056294")
    assert wr.parse_xml(reply)["Encrypt"] == WP_REPLY_ENCRYPTED
    assert ours.decrypt_reply(reply) == WP_REPLY


def test_wechatpy_vector_decrypt_message():
    assert wr.signature(WP_TOKEN, "1411525903", "461056294", WP_MESSAGE_ENCRYPTED) == (
        "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    )
    plain, receive_id = wr.decrypt(WP_MESSAGE_ENCRYPTED, WP_KEY)
    fields = wr.parse_xml(plain)
    assert receive_id == WP_CORP
    assert fields["Content"] == "test" and fields["FromUserName"] == "messense"


def test_wecom_published_sample_url_verification():
    query = WC_VERIFY
    assert (
        wr.signature(WC_TOKEN, query["timestamp"], query["nonce"], query["echostr"])
        == (query["msg_signature"])
    )
    assert wr.decrypt(query["echostr"], WC_KEY) == ("1288432023552776189", WC_CORP)
    crypto = WeChatCrypto(WC_TOKEN, WC_KEY, WC_CORP)
    answer = crypto.check_signature(
        query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
    )
    assert answer == "1288432023552776189"


def test_wecom_published_sample_message():
    request = (WC_QUERY, WC_BODY.encode())
    sample = wr.WeComCallback(WC_TOKEN, WC_KEY, WC_CORP, agent_id=1000002)
    assert sample.plaintext(request) == WC_PLAIN
    crypto = WeChatCrypto(WC_TOKEN, WC_KEY, WC_CORP)
    assert decrypt_with_wechatpy(crypto, request) == WC_PLAIN
    message = parse_message(WC_PLAIN)
    assert isinstance(message, TextMessage)
    assert (message.source, message.content, message.agent) == ("ChenJiaShun", "你好", 1000002)


# ---- our encryption against wechatpy's


def test_text_message_round_trip_through_wechatpy(cb, crypto):
    request = cb.text("alice.w", "/maint visit list <all> & ]]> 中文", msg_id=42, create_time=1700)
    query, body = request
    assert set(query) == {"msg_signature", "timestamp", "nonce"}
    envelope = wr.parse_xml(body)
    assert list(envelope) == ["ToUserName", "Encrypt", "AgentID"]
    assert envelope["ToUserName"] == CORP_ID and envelope["AgentID"] == str(AGENT_ID)
    message = parse_message(decrypt_with_wechatpy(crypto, request))
    assert isinstance(message, TextMessage)
    assert message.content == "/maint visit list <all> & ]]> 中文"
    assert (message.source, message.target, message.id, message.time, message.agent) == (
        "alice.w", CORP_ID, 42, 1700, AGENT_ID,
    )  # fmt: skip


def test_template_card_event_is_unknown_to_wechatpy_but_readable(cb, crypto):
    request = cb.template_card_event("carol.w", "approve", "V-1-a", "rc-1", create_time=1700)
    message = parse_message(decrypt_with_wechatpy(crypto, request))
    assert isinstance(message, UnknownMessage)  # wechatpy has no class for this event
    assert message._data == {
        "ToUserName": CORP_ID, "FromUserName": "carol.w", "CreateTime": "1700",
        "MsgType": "event", "Event": "template_card_event", "EventKey": "approve",
        "TaskId": "V-1-a", "CardType": "button_interaction", "ResponseCode": "rc-1",
        "AgentID": str(AGENT_ID),
    }  # fmt: skip
    assert "SelectedItems" not in cb.plaintext(request)


def test_vote_card_event_carries_selected_items(cb, crypto):
    request = cb.template_card_event(
        "carol.w", "submit", "T-2", "rc-2", card_type="vote_interaction",
        selected_items={"slot": ["am", "pm"]},
    )  # fmt: skip
    plain = decrypt_with_wechatpy(crypto, request)
    assert (
        "<SelectedItems><SelectedItem><QuestionKey><![CDATA[slot]]></QuestionKey><OptionIds>"
        "<OptionId><![CDATA[am]]></OptionId><OptionId><![CDATA[pm]]></OptionId>"
    ) in plain


def test_enter_agent_and_generic_events(cb, crypto):
    message = parse_message(decrypt_with_wechatpy(crypto, cb.enter_agent("alice.w")))
    assert isinstance(message, EnterAgentEvent) and message.source == "alice.w"
    plain = decrypt_with_wechatpy(crypto, cb.event("alice.w", "click", EventKey="menu_help"))
    assert parse_message(plain)._data["EventKey"] == "menu_help"
    unknown = parse_message(decrypt_with_wechatpy(crypto, cb.event("alice.w", "brand_new")))
    assert isinstance(unknown, UnknownMessage)


def test_url_verification_through_wechatpy(cb, crypto):
    query = cb.verify_url("8866442200")
    assert set(query) == {"msg_signature", "timestamp", "nonce", "echostr"}
    answer = crypto.check_signature(
        query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
    )
    assert answer == "8866442200"
    bad = wr.bad_url_signature(query)
    with pytest.raises(InvalidSignatureException):
        crypto.check_signature(bad["msg_signature"], bad["timestamp"], bad["nonce"], bad["echostr"])


def test_wechatpy_reply_decrypted_by_us(cb, crypto):
    reply = crypto.encrypt_message("<xml><Content><![CDATA[已收到]]></Content></xml>", "123456")
    assert cb.decrypt_reply(reply) == "<xml><Content><![CDATA[已收到]]></Content></xml>"
    fields = wr.parse_xml(reply)
    damaged = reply.replace(fields["MsgSignature"], "0" * 40)
    with pytest.raises(wr.WeComCryptoError, match="MsgSignature"):
        cb.decrypt_reply(damaged)
    other = WeChatCrypto(wr.TOKEN, wr.AES_KEY, "wwsomeoneelse").encrypt_message("<xml/>", "1")
    with pytest.raises(wr.WeComCryptoError, match="wwsomeoneelse"):
        cb.decrypt_reply(other)


@pytest.mark.parametrize("length", range(0, 70))
def test_padding_is_to_32_bytes(length, crypto):
    message = "x" * length
    encrypted = wr.encrypt(message, wr.AES_KEY, CORP_ID)
    raw = base64.b64decode(encrypted)
    assert len(raw) % 32 == 0  # 16 + 4 + message + corp id, padded with 1..32 bytes
    assert len(raw) == (20 + length + len(CORP_ID)) // 32 * 32 + 32
    sig = wr.signature(wr.TOKEN, "1", "2", encrypted)
    assert crypto.decrypt_message({"Encrypt": encrypted}, sig, "1", "2") == message


def test_retries_repeat_the_message(cb, crypto):
    first = cb.text("alice.w", "visit list")
    assert cb.retry(first) == first
    again = cb.retry(first, reencrypt=True)
    assert again[1] != first[1]  # new nonce and ciphertext, same plaintext (same MsgId)
    assert decrypt_with_wechatpy(crypto, again) == decrypt_with_wechatpy(crypto, first)


# ---- broken inputs, as wechatpy rejects them


def test_bad_signature_rejected(cb, crypto):
    with pytest.raises(InvalidSignatureException):
        decrypt_with_wechatpy(crypto, wr.bad_signature(cb.text("alice.w", "hi")))
    with pytest.raises(InvalidSignatureException):  # another app's token
        decrypt_with_wechatpy(crypto, cb.with_token("someOtherToken").text("alice.w", "hi"))


def test_wrong_aes_key_fails_without_a_clean_exception(cb, crypto):
    """A correctly signed message under another key: wechatpy checks no padding, so it fails
    while parsing garbage (struct.error or UnicodeDecodeError, seldom InvalidCorpIdException)."""
    seen = set()
    for _ in range(40):
        with pytest.raises(GARBAGE_ERRORS) as info:
            decrypt_with_wechatpy(crypto, cb.with_aes_key(wr.OTHER_AES_KEY).text("alice.w", "hi"))
        seen.add(type(info.value))
    assert seen & {struct.error, UnicodeDecodeError}
    with pytest.raises(wr.WeComCryptoError):  # our strict decryption names the problem
        cb.plaintext(cb.with_aes_key(wr.OTHER_AES_KEY).text("alice.w", "hi"))


def test_wrong_corp_id_rejected(cb, crypto):
    with pytest.raises(InvalidCorpIdException):
        decrypt_with_wechatpy(crypto, cb.with_corp_id("wwanothercorp").text("alice.w", "hi"))


def test_truncated_and_incomplete_bodies_rejected(cb, crypto):
    request = cb.text("alice.w", "hi")
    for keep in (0.2, 0.5, 0.9):
        with pytest.raises(ExpatError):
            decrypt_with_wechatpy(crypto, wr.truncated(request, keep))
    with pytest.raises(KeyError):
        decrypt_with_wechatpy(crypto, wr.body_without_encrypt(request))


def test_tampered_ciphertext(cb, crypto):
    request = cb.text("alice.w", "visit approve V-1")
    with pytest.raises(InvalidSignatureException):  # the signature covers the ciphertext
        decrypt_with_wechatpy(crypto, cb.tampered(request, resign=False))
    with pytest.raises(GARBAGE_ERRORS):  # re-signed: the padding is garbage
        decrypt_with_wechatpy(crypto, cb.tampered(request))
    # AES-CBC is malleable: a bit flipped in block 0 flips the same bit of block 1 (the XML's
    # first bytes); re-signed, wechatpy hands over the altered XML. Only the token protects.
    altered = decrypt_with_wechatpy(crypto, cb.tampered(request, index=4))
    assert altered.startswith("=xml>") and altered != cb.plaintext(request)


def test_wechatpy_checks_no_timestamp(cb, crypto):
    """A year-old request decrypts: the adapter must add a replay window itself."""
    stale = cb.text("alice.w", "hi", timestamp=int(time.time()) - 365 * 86400)
    assert "hi" in decrypt_with_wechatpy(crypto, stale)


# ---- the fake API driven by wechatpy's client


def test_stock_client_ignores_api_base_url_for_gettoken(fake, monkeypatch):
    class Stock(WeChatClient):
        API_BASE_URL = fake.base_url

    stock = Stock(CORP_ID, SECRET, timeout=5)
    asked = []

    def record(url, **kwargs):
        asked.append(url)
        raise requests.ConnectionError("no network in tests")

    monkeypatch.setattr(stock._http, "get", record)
    with pytest.raises(requests.ConnectionError):
        stock.message.send_text(AGENT_ID, ["alice.w"], "hi")
    assert asked == ["https://qyapi.weixin.qq.com/cgi-bin/gettoken"]
    assert fake.calls() == []


def test_gettoken(fake, client):
    result = client.fetch_access_token()
    assert result["errcode"] == 0 and result["errmsg"] == "ok" and result["expires_in"] == 7200
    assert client.fetch_access_token()["access_token"] == result["access_token"]  # still valid
    [call, _] = fake.calls("gettoken")
    assert call.method == "GET" and call.query == {"corpid": CORP_ID, "corpsecret": SECRET}
    wrong = FakeableWeChatClient(CORP_ID, "wrong", api_base_url=fake.base_url, timeout=5)
    assert error_of(wrong.fetch_access_token).errcode == fw.INVALID_SECRET
    other = FakeableWeChatClient("wwother", SECRET, api_base_url=fake.base_url, timeout=5)
    assert error_of(other.fetch_access_token).errcode == fw.INVALID_CORPID
    assert "more info at https://open.work.weixin.qq.com/devtool/query?e=40013" in (
        error_of(other.fetch_access_token).errmsg
    )


def test_unknown_and_missing_tokens(fake):
    url = fake.base_url + "message/send"
    body = {"touser": "alice.w", "agentid": AGENT_ID, "msgtype": "text", "text": {"content": "x"}}
    answer = requests.post(url, params={"access_token": "made-up"}, json=body, timeout=5)
    assert answer.status_code == 200 and answer.json()["errcode"] == fw.INVALID_TOKEN
    assert requests.post(url, json=body, timeout=5).json()["errcode"] == fw.MISSING_TOKEN


def test_send_each_message_type(fake, client):
    text = client.message.send_text(AGENT_ID, ["alice.w"], "Visit V-1 approved")
    assert text["errcode"] == 0 and text["invaliduser"] == "" and text["msgid"]
    assert "response_code" not in text
    client.message.send_markdown(
        AGENT_ID, "alice.w|carol.w", '**V-1** <font color="info">ok</font>'
    )
    client.message.send_text_card(
        AGENT_ID, ["carol.w"], "V-1", "Alice, SH1", "https://x.example/v/1"
    )
    card = client.message.send(AGENT_ID, ["carol.w"], msg=approval_card("V-1-approval"))
    assert card["response_code"] and card["msgid"]
    notice = {"msgtype": "template_card", "template_card": {
        "card_type": "text_notice", "main_title": {"title": "V-1 starts at 10:00"},
        "card_action": {"type": 1, "url": "https://x.example/v/1"}}}  # fmt: skip
    assert "response_code" not in client.message.send(AGENT_ID, ["alice.w"], msg=notice)
    assert [m["msgtype"] for m in fake.messages()] == [
        "text", "markdown", "textcard", "template_card", "template_card",
    ]  # fmt: skip
    assert [m["msgtype"] for m in fake.messages("CAROL.W")] == [
        "markdown", "textcard", "template_card",
    ]  # fmt: skip
    state = fake.card("V-1-approval")
    assert state["recipients"] == ["carol.w"] and state["response_code"] == card["response_code"]
    assert state["sent"]["button_list"] == BUTTONS
    assert fake.card_view("V-1-approval", "carol.w")["replace_name"] is None
    [call] = fake.calls("message/send")[:1]
    assert (
        call.body["text"] == {"content": "Visit V-1 approved"} and call.body["touser"] == "alice.w"
    )
    assert call.query["access_token"] == fake.issued_tokens()[0]


def test_invalid_and_unknown_recipients():
    with FakeWeCom(users=["alice.w", "Carol.W"]) as fake:
        client = FakeableWeChatClient(CORP_ID, SECRET, api_base_url=fake.base_url, timeout=5)
        answer = client.message.send_text(AGENT_ID, ["carol.w", "Ghost", "alice.w"], "hi")
        assert answer["invaliduser"] == "ghost"  # lower case, like WeCom
        assert fake.messages()[0]["recipients"] == ["carol.w", "alice.w"]
        fake.remove_user("alice.w")
        err = error_of(client.message.send_text, AGENT_ID, ["alice.w", "ghost"], "hi")
        assert err.errcode == fw.ALL_RECIPIENTS_INVALID
        assert error_of(client.message.send_text, 999, ["carol.w"], "hi").errcode == 40056


def test_content_checks(fake, client):
    assert error_of(client.message.send_text, AGENT_ID, ["a"], "").errcode == fw.EMPTY_CONTENT
    long = "长" * 700  # 2100 bytes
    assert error_of(client.message.send_markdown, AGENT_ID, ["a"], long).errcode == 45002
    bad_type = {"msgtype": "interactive_taskcard", "interactive_taskcard": {}}
    assert error_of(client.message.send, AGENT_ID, ["a"], msg=bad_type).errcode == 40008
    image = {"msgtype": "image", "image": {"media_id": "never-uploaded"}}
    assert error_of(client.message.send, AGENT_ID, ["a"], msg=image).errcode == 40007


def test_template_card_checks_and_duplicate_task_id(fake, client):
    client.message.send(AGENT_ID, ["carol.w"], msg=approval_card("V-1-approval"))
    err = error_of(client.message.send, AGENT_ID, ["carol.w"], msg=approval_card("V-1-approval"))
    assert err.errcode == fw.INVALID_TASK_ID == 42014
    assert "taskid has existed" in err.errmsg
    for task_id in ("", "has space", "x" * 129, "slash/no"):
        err = error_of(client.message.send, AGENT_ID, ["carol.w"], msg=approval_card(task_id))
        assert err.errcode == 42014
    seven = [{"text": f"b{i}", "key": f"k{i}"} for i in range(7)]
    err = error_of(client.message.send, AGENT_ID, ["carol.w"], msg=approval_card("T7", seven))
    assert err.errcode == fw.INVALID_PARAMETER
    same_keys = [{"text": "a", "key": "k"}, {"text": "b", "key": "k"}]
    err = error_of(client.message.send, AGENT_ID, ["carol.w"], msg=approval_card("T8", same_keys))
    assert err.errcode == fw.INVALID_PARAMETER
    client.message.send(AGENT_ID, ["carol.w"], msg=approval_card("T9", seven[:6]))  # 6 is fine
    assert [m["template_card"]["task_id"] for m in fake.messages()] == ["V-1-approval", "T9"]


def test_update_template_card_once_then_refused(fake, client):
    sent = client.message.send(AGENT_ID, ["carol.w", "amy.w"], msg=approval_card("V-2-approval"))
    update = {
        "userids": ["carol.w", "amy.w"],
        "agentid": AGENT_ID,
        "response_code": sent["response_code"],
        "button": {"replace_name": "已批准 Approved"},
    }
    answer = client.post("message/update_template_card", data=update)
    assert answer["errcode"] == 0 and answer["invaliduser"] == []
    for user in ("carol.w", "amy.w"):
        assert fake.card_view("V-2-approval", user)["replace_name"] == "已批准 Approved"
    err = error_of(client.post, "message/update_template_card", data=update)
    assert err.errcode == fw.RESPONSE_CODE_INVALID
    assert len(fake.card("V-2-approval")["updates"]) == 1


def test_click_codes_update_the_clickers_card(fake, client, cb, crypto):
    client.message.send(AGENT_ID, ["carol.w", "amy.w"], msg=approval_card("V-3-approval"))
    click = fake.click("V-3-approval", "carol.w", "approve")
    assert fake.card_view("V-3-approval", "carol.w")["replace_name"] == "处理中"  # greyed out
    # the callback WeCom sends for that click, as the bot decrypts it
    event = parse_message(decrypt_with_wechatpy(crypto, cb.template_card_event("carol.w", **click)))
    assert event._data["ResponseCode"] == click["response_code"]
    assert event._data["EventKey"] == "approve" and event._data["TaskId"] == "V-3-approval"
    outcome = {"card_type": "text_notice", "main_title": {"title": "V-3 approved by Carol"},
               "card_action": {"type": 1, "url": "https://x.example/v/3"}}  # fmt: skip
    client.post("message/update_template_card", data={
        "agentid": AGENT_ID, "response_code": click["response_code"], "template_card": outcome,
    })  # fmt: skip
    assert fake.card_view("V-3-approval", "carol.w") == {"card": outcome, "replace_name": None}
    assert fake.card_view("V-3-approval", "amy.w")["card"]["card_type"] == "button_interaction"
    again = {"agentid": AGENT_ID, "response_code": click["response_code"],
             "button": {"replace_name": "x"}}  # fmt: skip
    assert error_of(client.post, "message/update_template_card", data=again).errcode == 42022
    with pytest.raises(KeyError):
        fake.click("V-3-approval", "carol.w", "no-such-button")


def test_response_codes_expire_after_72_hours(fake, client):
    sent = client.message.send(AGENT_ID, ["carol.w"], msg=approval_card("V-4-approval"))
    click = fake.click("V-4-approval", "carol.w", "reject")
    fake.advance(72 * 3600 + 1)  # the token (2 h) expires too: wechatpy refreshes it
    for code in (sent["response_code"], click["response_code"]):
        update = {"agentid": AGENT_ID, "response_code": code, "button": {"replace_name": "x"}}
        assert error_of(client.post, "message/update_template_card", data=update).errcode == 42022
    assert len(fake.issued_tokens()) == 2
    fresh = client.message.send(AGENT_ID, ["carol.w"], msg=approval_card("V-5-approval"))
    fake.expire_response_codes()  # the same, without moving the clock
    update = {
        "agentid": AGENT_ID,
        "response_code": fresh["response_code"],
        "button": {"replace_name": "x"},
    }
    assert error_of(client.post, "message/update_template_card", data=update).errcode == 42022


def test_token_expiry_mid_run_is_refreshed_and_replayed(fake, client):
    client.message.send_text(AGENT_ID, ["alice.w"], "one")
    fake.expire_tokens()
    client.message.send_text(AGENT_ID, ["alice.w"], "two")
    sends = fake.calls("message/send")
    assert [c.errcode for c in sends] == [0, fw.EXPIRED_TOKEN, 0]
    assert sends[1].query["access_token"] == sends[0].query["access_token"]
    assert sends[2].query["access_token"] != sends[1].query["access_token"]
    assert len(fake.calls("gettoken")) == 2
    assert [m["text"]["content"] for m in fake.messages()] == ["one", "two"]


def test_wechatpy_retries_token_errors_without_a_cap(fake, client):
    client.message.send_text(AGENT_ID, ["alice.w"], "warm-up")
    fake.fail_next("message/send", fw.INVALID_TOKEN, times=4)
    client.message.send_text(AGENT_ID, ["alice.w"], "persistent")
    assert [c.errcode for c in fake.calls("message/send")] == [0, 40014, 40014, 40014, 40014, 0]
    assert len(fake.calls("gettoken")) == 5  # one fetch per failure: no cap, no backoff


def test_rate_limit_and_server_errors(fake, client):
    fake.fail_next("message/send", fw.RATE_LIMITED)
    with pytest.raises(APILimitedException) as info:
        client.message.send_text(AGENT_ID, ["alice.w"], "hi")
    assert info.value.errcode == 45009 and "api freq out of limit" in info.value.errmsg
    fake.fail_next("message/send", status=500)
    err = error_of(client.message.send_text, AGENT_ID, ["alice.w"], "hi")
    assert err.errcode is None and err.response.status_code == 500
    fake.fail_next("*")
    assert error_of(client.message.send_text, AGENT_ID, ["alice.w"], "hi").errcode == -1
    client.message.send_text(AGENT_ID, ["alice.w"], "finally")
    assert [c.status for c in fake.calls("message/send")] == [200, 500, 200, 200]


def test_slow_answers_and_timeouts(fake):
    slow_client = FakeableWeChatClient(CORP_ID, SECRET, api_base_url=fake.base_url, timeout=0.3)
    slow_client.fetch_access_token()
    fake.fail_next("message/send", delay=1.0)
    with pytest.raises(requests.exceptions.Timeout):
        slow_client.message.send_text(AGENT_ID, ["alice.w"], "late")
    assert fake.messages()[0]["text"]["content"] == "late"  # it took effect, and answered late


def test_gettoken_ignores_the_client_timeout(fake):
    naive = FakeableWeChatClient(CORP_ID, SECRET, api_base_url=fake.base_url, timeout=0.2)
    fake.fail_next("gettoken", delay=0.8)
    started = time.monotonic()
    naive.fetch_access_token()  # no timeout is passed: it waits however long gettoken takes
    assert time.monotonic() - started >= 0.8
    careful = WeComClient(CORP_ID, SECRET, api_base_url=fake.base_url, timeout=0.2)  # the bot's
    fake.fail_next("gettoken", delay=0.8)
    with pytest.raises(requests.exceptions.Timeout):
        careful.fetch_access_token()


def test_media_upload_and_file_message(fake, client):
    uploaded = client.media.upload("file", ("visit-V-1.pdf", io.BytesIO(b"%PDF-1.4 report")))
    assert uploaded["type"] == "file" and uploaded["created_at"].isdigit()
    media = fake.media(uploaded["media_id"])
    assert media["filename"] == "visit-V-1.pdf" and media["data"] == b"%PDF-1.4 report"
    client.message.send_file(AGENT_ID, ["alice.w"], uploaded["media_id"])
    assert fake.messages()[0]["file"] == {"media_id": uploaded["media_id"]}
    assert error_of(client.media.upload, "file", io.BytesIO(b"")).errcode == fw.EMPTY_MEDIA
    assert error_of(client.media.upload, "pdf", io.BytesIO(b"123456")).errcode == 40004


def test_wechatpy_replays_an_upload_with_the_file_already_read(fake, client):
    client.fetch_access_token()
    fake.expire_tokens()
    err = error_of(client.media.upload, "file", ("report.pdf", io.BytesIO(b"%PDF-1.4 report")))
    assert err.errcode == fw.EMPTY_MEDIA  # the replay after 42001 sent 0 bytes
    assert [c.body["size"] for c in fake.calls("media/upload")] == [15, 0]


def test_appchat(fake, client):
    client.appchat.send_text("wrvisits", "Visit V-1 approved")
    client.appchat.send("wrvisits", "markdown", content="**V-1** approved")
    assert [m["msgtype"] for m in fake.chat_messages("wrvisits")] == ["text", "markdown"]
    with pytest.raises(TypeError):  # wechatpy refuses template_card before any request
        client.appchat.send("wrvisits", "template_card", card_type="text_notice")
    card = {"chatid": "wrvisits", **approval_card("V-5-approval")}
    assert error_of(client.post, "appchat/send", data=card).errcode == fw.INVALID_MSGTYPE
    fake.remove_chat("wrvisits")
    assert error_of(client.appchat.send_text, "wrvisits", "hi").errcode == fw.CHAT_NOT_FOUND


def test_group_robot_webhook(fake):
    url = fake.webhook_url()
    for body in (
        {"msgtype": "text", "text": {"content": "V-1 approved", "mentioned_list": ["alice.w"]}},
        {"msgtype": "markdown", "markdown": {"content": "**V-1** approved"}},
        {"msgtype": "template_card", "template_card": {
            "card_type": "text_notice", "main_title": {"title": "V-1 approved"},
            "card_action": {"type": 1, "url": "https://x.example/v/1"}}},
    ):  # fmt: skip
        answer = requests.post(url, json=body, timeout=5)
        assert answer.status_code == 200 and answer.json() == {"errcode": 0, "errmsg": "ok"}
    assert [m["msgtype"] for m in fake.robot_messages(fw.WEBHOOK_KEY)] == [
        "text", "markdown", "template_card",
    ]  # fmt: skip
    [call] = fake.calls("webhook/send")[:1]
    assert call.query == {"key": fw.WEBHOOK_KEY} and "access_token" not in call.query
    buttons = {"msgtype": "template_card", "template_card": approval_card("R1")["template_card"]}
    assert requests.post(url, json=buttons, timeout=5).json()["errcode"] == 40058
    bad_key = requests.post(fake.webhook_url("nope"), json=body, timeout=5).json()
    assert bad_key["errcode"] == fw.INVALID_WEBHOOK and "invalid webhook url" in bad_key["errmsg"]


def robot_text(url: str, content: str) -> int:
    body = {"msgtype": "text", "text": {"content": content}}
    return requests.post(url, json=body, timeout=5).json()["errcode"]


def test_group_robot_rate_limit(fake):
    url = fake.webhook_url()
    codes = [robot_text(url, f"n{i}") for i in range(21)]
    assert codes == [0] * 20 + [fw.WEBHOOK_TOO_FAST]  # 20 a minute per robot
    fake.advance(60)
    fake.fail_next("webhook/send", fw.WEBHOOK_TOO_FAST)  # or on demand
    assert [robot_text(url, "x"), robot_text(url, "y")] == [130101, 0]
    assert len(fake.robot_messages()) == 21


def test_wait_for_and_reset(fake, client):
    threading.Timer(0.2, client.message.send_text, (AGENT_ID, ["alice.w"], "later")).start()
    [call] = fake.wait_for("message/send", predicate=lambda c: c.body["text"]["content"] == "later")
    assert call.ok
    with pytest.raises(AssertionError, match="expected 1 x appchat/send"):
        fake.wait_for("appchat/send", timeout=0.1)
    fake.reset()
    assert fake.calls() == [] and fake.messages() == [] and fake.issued_tokens() == []
    client.message.send_text(AGENT_ID, ["alice.w"], "after reset")  # its token is unknown now
    assert [c.errcode for c in fake.calls("message/send")] == [fw.INVALID_TOKEN, 0]


def test_unknown_path_and_bad_json(fake, client):
    token = client.access_token
    assert requests.get(fake.base_url + "nope", timeout=5).status_code == 404
    answer = requests.post(
        fake.base_url + "message/send", params={"access_token": token}, data=b"{no", timeout=5
    )
    assert answer.json()["errcode"] == fw.BAD_JSON
