"""Attachments end to end: `maintbot serve` runs for real with Slack and WeCom; a file shared in
the thread of a repair's card in Slack, and an image sent to the bot in WeCom, are downloaded
from the fakes (url_private_download with the bot token; media/get), kept in the files directory
with their checksum and recorded with an audit entry; an oversize file, a type not taken, a
thread that is not under a card and a file for nobody's repair are answered, nothing stored.

People (tests/org.yaml): alice (UALICE in Slack, alice.w in WeCom) and zhang (ZhangWei in WeCom,
Chinese) are engineers; amy (amy.w) is an admin with no repair of her own.
"""

import hashlib
import re
import time
import uuid

import pytest
import yaml
from sqlalchemy import select

from handlers.attachments import TooLarge, Unavailable
from storage.models import Attachment
from tests import slack_requests as sr
from tests import slack_server, wecom_server
from tests.chat import catalog
from tests.conftest import ORG_FILE
from tests.slack_server import texts, wait_until
from tests.wecom_server import content, wait_message

served_url, fake = slack_server.served_url, slack_server.fake
wecom, cb = wecom_server.wecom, wecom_server.cb

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("served_url", ["sqlite"], indirect=True)]

ALICE, REPAIRS = "UALICE", "CREPAIRS"
PNG = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"rack").digest() * 64  # 2 KB
LIMIT_MB = "0.05"  # 51 KB: the oversize file stays small


@pytest.fixture(scope="module")
def served(request, fake, wecom, served_url, tmp_path_factory):
    """The bot, with a repairs channel in its organisation file and its own files directory."""
    workdir = tmp_path_factory.mktemp("serve")
    data = yaml.safe_load(ORG_FILE.read_text("utf-8"))
    data["channels"]["repairs"] = {"slack": REPAIRS}
    org = workdir / "org.yaml"
    org.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    env = {**wecom_server.wecom_env(wecom), "MAINTBOT_CONFIG": str(org)}
    env |= {"MAINTBOT_FILES_DIR": str(workdir / "files"), "MAINTBOT_ATTACHMENT_MAX_MB": LIMIT_MB}
    with slack_server.served(fake, served_url, workdir, extra_env=env) as bot:
        bot.files = workdir / "files"  # type: ignore[attr-defined]
        yield bot


def attachments(bot) -> list[Attachment]:
    with bot.db.unit_of_work() as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def stored(bot) -> list:
    return sorted(p for p in bot.files.rglob("*") if p.is_file()) if bot.files.exists() else []


def start_repair(bot, task: str) -> tuple[str, str]:
    """alice starts a repair of erp-db in Slack: its reference and its card's ts in #repairs,
    once the outbox has recorded where the card went."""
    bot.answer(f'repair start erp-db task="{task}"', ALICE)
    [posted] = bot.fake.wait_for(
        "chat.postMessage", 1, 10,
        lambda c: c.ok and c.response["channel"] == REPAIRS and task in texts(c.args.get("blocks")),
    )  # fmt: skip
    ts = posted.response["ts"]
    row = wait_until(lambda: next(iter(bot.outbox(external_ref=f"{REPAIRS}:{ts}")), None))
    return row.subject, ts


def in_thread(bot, ts: str, *words: str) -> dict:
    [call] = bot.fake.wait_for(
        "chat.postMessage", 1, 10,
        lambda c: c.ok and c.args.get("thread_ts") == ts and all(w in c.args["text"] for w in words),  # noqa: E501
    )  # fmt: skip
    return call.args


def share(bot, name: str, data: bytes, ts: str, **kw):
    file = bot.fake.share(ALICE, name, data, kw.pop("mimetype", None))
    request = sr.event(sr.file_share([file], ALICE, REPAIRS, thread_ts=ts), **kw)
    assert bot.post(request).status == 200
    return file, request


def test_a_file_shared_in_the_cards_thread_becomes_an_attachment(served, fake):
    ref, ts = start_repair(served, f"DIMM {uuid.uuid4().hex[:6]}")
    file, request = share(served, "rack.png", PNG, ts)
    sha = hashlib.sha256(PNG).hexdigest()
    said = in_thread(served, ts, "rack.png", sha[:12], ref)
    assert said["channel"] == REPAIRS
    [row] = [a for a in attachments(served) if a.platform_file_id == file["id"]]
    assert (row.sha256, row.size, row.mime_type, row.platform) == (
        sha,
        len(PNG),
        "image/png",
        "slack",
    )
    assert (served.files / row.path).read_bytes() == PNG
    [entry] = served.audit(ref, "repair.attach")
    assert entry.platform_user == ALICE and entry.details["sha256"] == sha
    downloads = [c for c in fake.calls() if "files-pri" in c.method]
    assert downloads and downloads[-1].headers["authorization"] == f"Bearer {fake.token}"
    # the card in #repairs now shows its file
    wait_until(lambda: "(repair files" in texts((fake.message(REPAIRS, ts) or {}).get("blocks")))
    # Slack retries the event: handled once
    served.post(request[0], {**request[1], **sr.retry_headers(1)})
    served.settle()
    assert len([a for a in attachments(served) if a.sha256 == sha]) == 1


def test_oversize_and_wrong_type_are_refused_in_the_thread(served, fake):
    ref, ts = start_repair(served, f"PSU {uuid.uuid4().hex[:6]}")
    before = (len(attachments(served)), stored(served))
    share(served, "dump.log", b"x" * 60_000, ts)
    in_thread(served, ts, "too large", "58.6 KB", "51.2 KB")
    share(served, "setup.exe", b"MZ" * 500, ts, mimetype="application/x-msdownload")
    in_thread(served, ts, "(.exe) are not taken")
    served.settle()
    assert (len(attachments(served)), stored(served)) == before
    assert served.audit(ref, "repair.attach") == []


def test_a_thread_that_is_not_a_card_is_answered(served, fake):
    ts = f"{time.time():.6f}"
    before = len(attachments(served))
    share(served, "rack2.png", PNG[::-1], ts)
    in_thread(served, ts, catalog("attach.not_a_card", command="repair attach R-3")[:40])
    assert len(attachments(served)) == before


def test_a_wecom_image_becomes_an_attachment_through_media_get(served, wecom, cb):
    served.wecom(cb.text("ZhangWei", '维修 开始 erp-db 任务="风扇"'))
    wait_message(wecom, "ZhangWei", "R-")
    photo = b"\xff\xd8\xff\xe0" + hashlib.sha256(b"fan").digest() * 100
    media_id = wecom.receive_media(photo, "IMG_0001.jpg", "image/jpeg")
    request = cb.media("ZhangWei", media_id)
    assert served.wecom(request).status == 200
    said = wait_message(wecom, "ZhangWei", "📎", "IMG_0001.jpg")
    sha = hashlib.sha256(photo).hexdigest()
    assert sha[:12] in str(said)
    [row] = [a for a in attachments(served) if a.sha256 == sha]
    assert (row.platform, row.platform_file_id, row.mime_type) == ("wecom", media_id, "image/jpeg")
    assert (served.files / row.path).read_bytes() == photo
    assert wecom.calls("media/get")[-1].query["media_id"] == media_id
    assert served.audit(f"R-{row.subject_id}", "repair.attach")[0].platform_user == "ZhangWei"
    served.wecom(cb.retry(request))  # WeCom retries with the same MsgId: handled once
    served.settle()
    assert len([a for a in attachments(served) if a.sha256 == sha]) == 1


def test_a_wecom_image_for_nobodys_repair_is_answered_with_how_to_attach(served, wecom, cb):
    before = (len(attachments(served)), stored(served))
    media_id = wecom.receive_media(b"\xff\xd8\xff\xe0" * 300, "IMG_0002.jpg", "image/jpeg")
    assert served.wecom(cb.media("amy.w", media_id)).status == 200
    wait_message(wecom, "amy.w", "repair attach R-3")
    served.settle()
    assert (len(attachments(served)), stored(served)) == before


def test_the_slack_download_sends_the_token_only_to_slack_and_reads_no_sign_in_page(fake):
    from bot.slack.files import SlackFile, trusted

    file = fake.share(ALICE, "a.txt", b"hello world")
    assert SlackFile(file["url_private_download"], fake.token).read(100).data == b"hello world"
    with pytest.raises(Unavailable, match="HTML"):
        SlackFile(file["url_private_download"], "xoxb-wrong").read(100)
    with pytest.raises(TooLarge):
        SlackFile(file["url_private_download"], fake.token).read(5)
    assert trusted("https://files.slack.com/files-pri/T-F/download/a.txt", fake.base_url)
    assert not trusted("https://evil.example/files-pri/a.txt", fake.base_url)
    assert not trusted("http://files.slack.com/a.txt", fake.base_url)


def test_a_wecom_file_message_keeps_its_name_and_an_expired_media_id_is_answered(served, wecom, cb):
    served.wecom(cb.text("alice.w", 'repair start erp-db task="logs"'))
    ref = re.search(r"R-\d+", content(wait_message(wecom, "alice.w", "R-"))).group()
    pdf = b"%PDF-1.4\n" + b"0" * 3000
    media_id = wecom.receive_media(pdf, "ignored.bin", "application/octet-stream")
    # alice has other repairs open (from Slack, earlier): which one is asked, nothing stored
    served.wecom(cb.media("alice.w", media_id, "file", file_name="BMC-log 2026.pdf"))
    wait_message(wecom, "alice.w", "Which record is the file for", ref)
    served.wecom(cb.text("alice.w", f"repair attach {ref}"))
    wait_message(wecom, "alice.w", catalog("attach.chosen", ref=ref, hours=12))
    served.wecom(cb.media("alice.w", media_id, "file", file_name="BMC-log 2026.pdf"))
    wait_message(wecom, "alice.w", "📎", "BMC-log 2026.pdf")
    [row] = [a for a in attachments(served) if a.platform_file_id == media_id]
    assert (
        f"R-{row.subject_id}" == ref
        and row.name == "BMC-log 2026.pdf"
        and (served.files / row.path).read_bytes() == pdf
    )
    before = (len(attachments(served)), stored(served))
    wecom.advance(3 * 24 * 3600 + 1)  # WeCom forgets a media id after three days
    try:
        served.wecom(cb.media("alice.w", media_id, "file", file_name="again.pdf"))
        wait_message(wecom, "alice.w", catalog("attach.unavailable")[:30])
    finally:
        wecom.advance(-(3 * 24 * 3600 + 1))
    served.settle()
    assert (len(attachments(served)), stored(served)) == before
