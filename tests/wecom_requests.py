"""What WeCom SENDS to the bot's callback URL, encrypted as WeCom encrypts it.

Written from WeCom's 加解密方案 with the ``cryptography`` package alone, so that tests check
wechatpy (and the adapter) against code that is not theirs:

    cb = WeComCallback()                       # TOKEN, AES_KEY, CORP_ID, AGENT_ID
    query = cb.verify_url("1288432023552776189")    # GET /wecom/callback?...&echostr=...
    query, body = cb.text("alice.w", "visit list", msg_id=1)
    query, body = cb.template_card_event("carol.w", **fake.click(task_id, "carol.w", "approve"))
    query, body = bad_signature(cb.text(...))  # and truncated(), cb.tampered(), ...

Scheme: ``key = base64decode(EncodingAESKey + "=")`` (32 bytes), AES-256-CBC with ``IV = key[:16]``;
plaintext ``16 random bytes + 4-byte big-endian length + message + receiveid`` (the CorpID),
PKCS#7-padded to a multiple of 32 (not AES's 16); ``Encrypt`` is its base64.
``msg_signature = sha1(''.join(sorted([token, timestamp, nonce, Encrypt]))).hexdigest()``.
A message is POSTed with the query ``msg_signature, timestamp, nonce`` and the body
``<xml><ToUserName>corpid</ToUserName><Encrypt>...</Encrypt><AgentID>agentid</AgentID></xml>``; the
URL check is a GET with the same query plus ``echostr`` (encrypted; the answer is its plaintext).
A passive reply is ``<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.fake_wecom import AGENT_ID, CORP_ID

TOKEN = "maintbotCallbackToken2026"  # 3-32 letters or digits, set in WeCom's admin console
AES_KEY = "yfYPNY77G12sPdG6wZj6j3AHygwze7OpY2sSXzUvrB4"  # EncodingAESKey: 43 characters
OTHER_AES_KEY = "DeIFKRMIGsXyNPdPRuKM3qatbMhs4QtRgQMMEFYQqPM"  # a valid key, not the bot's
BLOCK = 32  # WeCom pads to 32 bytes

Query = dict[str, str]
Request = tuple[Query, bytes]  # (query string parameters, POST body)
_msg_ids = itertools.count(7_300_000_000_000_000_001)


class WeComCryptoError(ValueError):
    """A reply (or request) that does not check out: signature, padding, length or receiveid."""


# ---- the primitives


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise WeComCryptoError("an EncodingAESKey is 43 characters, 32 bytes once decoded")
    return key


def _cipher(aes_key: str) -> Cipher:
    key = aes_key_bytes(aes_key)
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(message: str | bytes, aes_key: str, receive_id: str, *, prefix: bytes | None = None):
    """Base64 ciphertext of ``message`` for ``receive_id`` (``prefix``: the 16 random bytes)."""
    raw = message.encode() if isinstance(message, str) else message
    prefix = os.urandom(16) if prefix is None else prefix
    assert len(prefix) == 16, "the random prefix is 16 bytes"
    plain = prefix + struct.pack(">I", len(raw)) + raw + receive_id.encode()
    pad = BLOCK - len(plain) % BLOCK  # 1..32: a whole block of 32 when already aligned
    plain += bytes([pad]) * pad
    encryptor = _cipher(aes_key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def decrypt(encrypted: str, aes_key: str) -> tuple[str, str]:
    """``(message, receive_id)`` from a base64 ciphertext, checking everything it can."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError as exc:
        raise WeComCryptoError(f"not base64: {exc}") from exc
    if not data or len(data) % 16:
        raise WeComCryptoError(f"ciphertext of {len(data)} bytes is not whole AES blocks")
    decryptor = _cipher(aes_key).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise WeComCryptoError("bad PKCS#7 padding (wrong key or damaged ciphertext)")
    content = plain[16:-pad]
    if len(content) < 4:
        raise WeComCryptoError("too short for a length field")
    (length,) = struct.unpack(">I", content[:4])
    if length > len(content) - 4:
        raise WeComCryptoError(f"length field {length} exceeds the {len(content) - 4} bytes")
    try:
        return content[4 : 4 + length].decode(), content[4 + length :].decode()
    except UnicodeDecodeError as exc:
        raise WeComCryptoError(f"not UTF-8: {exc}") from exc


# ---- plaintext XML as WeCom writes it


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _element(tag: str, value: Any) -> str:
    """Strings in CDATA, numbers bare, dicts as children, lists as repeated elements."""
    if isinstance(value, list):
        return "".join(_element(tag, v) for v in value)
    if isinstance(value, dict):
        inner = "".join(_element(k, v) for k, v in value.items())
    elif isinstance(value, bool):
        inner = str(int(value))
    elif isinstance(value, int):
        inner = str(value)
    else:
        inner = _cdata(str(value))
    return f"<{tag}>{inner}</{tag}>"


def xml_message(fields: dict) -> str:
    return "<xml>" + "".join(_element(k, v) for k, v in fields.items() if v is not None) + "</xml>"


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Top-level elements of a flat XML message (what the bot would read)."""
    return {child.tag: child.text or "" for child in ET.fromstring(text)}


# ---- the requests


def _nonce() -> str:
    return str(secrets.randbelow(9 * 10**9) + 10**9)  # WeCom's nonces are 10 digits


@dataclasses.dataclass(frozen=True)
class WeComCallback:
    """Builds the callback requests of one WeCom app (token, key, corp id, agent id)."""

    token: str = TOKEN
    aes_key: str = AES_KEY
    corp_id: str = CORP_ID
    agent_id: int = AGENT_ID
    random_bytes: Callable[[int], bytes] = os.urandom  # the 16-byte prefix; fix it to replay

    def with_aes_key(self, aes_key: str) -> WeComCallback:
        """The same app with another EncodingAESKey (signatures stay valid: same token)."""
        return dataclasses.replace(self, aes_key=aes_key)

    def with_corp_id(self, corp_id: str) -> WeComCallback:
        """Messages encrypted for another corp (receiveid), still validly signed."""
        return dataclasses.replace(self, corp_id=corp_id)

    def with_token(self, token: str) -> WeComCallback:
        return dataclasses.replace(self, token=token)

    # -- building blocks
    def encrypt(self, message: str) -> str:
        return encrypt(message, self.aes_key, self.corp_id, prefix=self.random_bytes(16))

    def query(self, encrypted: str, *, timestamp=None, nonce=None) -> Query:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = _nonce() if nonce is None else str(nonce)
        return {"msg_signature": signature(self.token, ts, nonce, encrypted), "timestamp": ts,
                "nonce": nonce}  # fmt: skip

    def envelope(self, message: str, *, timestamp=None, nonce=None) -> Request:
        """Encrypt, sign and wrap a plaintext XML message as WeCom POSTs it."""
        encrypted = self.encrypt(message)
        body = (f"<xml><ToUserName>{_cdata(self.corp_id)}</ToUserName>\n"
                f"<Encrypt>{_cdata(encrypted)}</Encrypt>\n"
                f"<AgentID>{_cdata(str(self.agent_id))}</AgentID>\n</xml>")  # fmt: skip
        return self.query(encrypted, timestamp=timestamp, nonce=nonce), body.encode()

    def verify_url(self, echostr_plain: str | None = None, *, timestamp=None, nonce=None):
        """The GET WeCom sends when the callback URL is saved; the bot answers ``echostr_plain``
        (WeCom's are random digit strings). Pass the dict as query params: it is not encoded."""
        plain = echostr_plain or str(secrets.randbelow(10**19))
        encrypted = self.encrypt(plain)
        return {**self.query(encrypted, timestamp=timestamp, nonce=nonce), "echostr": encrypted}

    # -- messages and events (plaintext field order as in WeCom's documentation)
    def message(self, fields: dict, *, timestamp=None, nonce=None) -> Request:
        return self.envelope(xml_message(fields), timestamp=timestamp, nonce=nonce)

    def text(self, from_user, content, *, msg_id=None, create_time=None, **envelope) -> Request:
        """A text message to the app. Same ``msg_id`` = the same message (WeCom's retries)."""
        return self.message({
            "ToUserName": self.corp_id, "FromUserName": from_user,
            "CreateTime": int(time.time()) if create_time is None else int(create_time),
            "MsgType": "text", "Content": content,
            "MsgId": next(_msg_ids) if msg_id is None else int(msg_id), "AgentID": self.agent_id,
        }, **envelope)  # fmt: skip

    def media(self, from_user, media_id, kind="image", *, msg_id=None, file_name=None, **envelope):
        """An image (``PicUrl``, ``MediaId``) or a file (``MediaId``, ``FileName``) message."""
        extra = {"PicUrl": f"https://wework.qpic.cn/{media_id[:12]}/0"} if kind == "image" else {}
        return self.message({
            "ToUserName": self.corp_id, "FromUserName": from_user,
            "CreateTime": int(time.time()), "MsgType": kind, **extra, "MediaId": media_id,
            **({"FileName": file_name} if file_name else {}),
            "MsgId": next(_msg_ids) if msg_id is None else int(msg_id), "AgentID": self.agent_id,
        }, **envelope)  # fmt: skip

    def event(self, from_user, event, *, create_time=None, timestamp=None, nonce=None, **fields):
        """Any event; ``fields`` go between ``Event`` and ``AgentID`` (str as CDATA, int bare,
        dict as child elements, list as repeated elements). Events have no MsgId: WeCom's
        retries repeat ``FromUserName`` + ``CreateTime``."""
        return self.message({
            "ToUserName": self.corp_id, "FromUserName": from_user,
            "CreateTime": int(time.time()) if create_time is None else int(create_time),
            "MsgType": "event", "Event": event, **fields, "AgentID": self.agent_id,
        }, timestamp=timestamp, nonce=nonce)  # fmt: skip

    def template_card_event(
        self,
        from_user: str,
        event_key: str,
        task_id: str,
        response_code: str,
        *,
        card_type: str = "button_interaction",
        selected_items: dict[str, list[str]] | None = None,
        create_time: int | None = None,
        **envelope: Any,
    ) -> Request:
        """A click on a template card (``fake.click(...)`` gives event_key, task_id,
        response_code and card_type). ``SelectedItems`` ({question key: option ids}) is only
        sent for vote and multiple-choice cards, never for buttons."""
        fields: dict[str, Any] = {"EventKey": event_key, "TaskId": task_id,
                                  "CardType": card_type, "ResponseCode": response_code}  # fmt: skip
        if selected_items is not None:
            fields["SelectedItems"] = {"SelectedItem": [
                {"QuestionKey": q, "OptionIds": {"OptionId": list(o)}}
                for q, o in selected_items.items()
            ]}  # fmt: skip
        return self.event(
            from_user, "template_card_event", create_time=create_time, **fields, **envelope
        )

    def enter_agent(self, from_user: str, *, create_time: int | None = None, **envelope):
        """The user opened the app's chat (sent at most once a day per user)."""
        return self.event(
            from_user, "enter_agent", create_time=create_time, EventKey="", **envelope
        )

    # -- reading
    def plaintext(self, request: Request) -> str:
        """The plaintext XML inside one of these requests (after checking its signature)."""
        query, body = request
        encrypted = parse_xml(body)["Encrypt"]
        expected = signature(self.token, query["timestamp"], query["nonce"], encrypted)
        if expected != query["msg_signature"]:
            raise WeComCryptoError("bad msg_signature")
        message, receive_id = decrypt(encrypted, self.aes_key)
        if receive_id != self.corp_id:
            raise WeComCryptoError(f"receiveid {receive_id!r} is not {self.corp_id!r}")
        return message

    def retry(self, request: Request, *, reencrypt: bool = False) -> Request:
        """WeCom re-sending a request it got no answer to in 5 s: byte for byte, or (with
        ``reencrypt``) the same plaintext with a new nonce, timestamp and ciphertext."""
        return self.envelope(self.plaintext(request)) if reencrypt else request

    def reply(self, message: str, *, timestamp=None, nonce=None) -> str:
        """A passive reply as the bot would encrypt it (the reverse of :meth:`decrypt_reply`)."""
        encrypted = self.encrypt(message)
        query = self.query(encrypted, timestamp=timestamp, nonce=nonce)
        return (f"<xml>\n<Encrypt>{_cdata(encrypted)}</Encrypt>\n"
                f"<MsgSignature>{_cdata(query['msg_signature'])}</MsgSignature>\n"
                f"<TimeStamp>{query['timestamp']}</TimeStamp>\n"
                f"<Nonce>{_cdata(query['nonce'])}</Nonce>\n</xml>")  # fmt: skip

    def decrypt_reply(self, body: str | bytes) -> str:
        """The plaintext XML of an encrypted passive reply the bot returned; raises
        WeComCryptoError if its signature, padding, length or receiveid is wrong."""
        try:
            fields = parse_xml(body)
        except ET.ParseError as exc:
            raise WeComCryptoError(f"reply is not XML: {exc}") from exc
        missing = {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"} - set(fields)
        if missing:
            raise WeComCryptoError(f"reply lacks {sorted(missing)}")
        expected = signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        if expected != fields["MsgSignature"]:
            raise WeComCryptoError("bad MsgSignature in the reply")
        message, receive_id = decrypt(fields["Encrypt"], self.aes_key)
        if receive_id != self.corp_id:
            raise WeComCryptoError(f"reply is for {receive_id!r}, not {self.corp_id!r}")
        return message

    # -- broken inputs that need the token
    def tampered(self, request: Request, *, index: int = -1, resign: bool = True) -> Request:
        """Flip the low bit of ciphertext byte ``index`` (default: the last, so the padding
        breaks); ``resign`` signs the damaged ciphertext again, as someone holding the token
        but not the key could. AES-CBC has no integrity: only the signature protects it."""
        query, body = request
        fields = parse_xml(body)
        data = bytearray(base64.b64decode(fields["Encrypt"]))
        data[index] ^= 0x01
        damaged = base64.b64encode(bytes(data)).decode()
        new_body = body.replace(fields["Encrypt"].encode(), damaged.encode())
        if not resign:
            return dict(query), new_body
        return self.query(damaged, timestamp=query["timestamp"], nonce=query["nonce"]), new_body


# ---- broken inputs that need nothing secret


def bad_signature(request: Request) -> Request:
    """The same request with a msg_signature that does not match."""
    query, body = request
    sig = query["msg_signature"]
    return {**query, "msg_signature": ("0" if sig[0] != "0" else "1") + sig[1:]}, body


def bad_url_signature(query: Query) -> Query:
    return bad_signature((query, b""))[0]


def truncated(request: Request, keep: float = 0.5) -> Request:
    """The body cut short (a broken connection): not well-formed XML any more."""
    query, body = request
    return query, body[: int(len(body) * keep)]


def without(request: Request, *params: str) -> Request:
    """The request with query parameters left out."""
    query, body = request
    return {k: v for k, v in query.items() if k not in params}, body


def body_without_encrypt(request: Request) -> Request:
    """Well-formed XML with no Encrypt element."""
    query, body = request
    fields = parse_xml(body)
    return query, xml_message({k: v for k, v in fields.items() if k != "Encrypt"}).encode()
