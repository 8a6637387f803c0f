"""Files people send to the bot in WeCom (an image or a file message): the core's ``Incoming``,
with a ``WeComMedia`` that downloads ``media/get?media_id=`` with the app's token. WeCom keeps a
media id for three days only, which is why the core keeps the bytes.

A worker process gets the app's credentials (``MediaAccess``, which pickles) and makes its own
client, one per process (``bot.wecom.client``: one token, refreshed once after a token error)."""

import functools
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import requests
from wechatpy.exceptions import WeChatClientException

from bot.wecom.client import WeComClient
from handlers.attachments import Fetched, Incoming, TooLarge, Unavailable

_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


@dataclass(frozen=True)
class MediaAccess:
    corp_id: str
    secret: str
    api_url: str
    timeout: float = 30.0


@functools.cache
def _client(access: MediaAccess) -> WeComClient:
    return WeComClient(access.corp_id, access.secret, api_base_url=access.api_url)


def _error(mime: str, data: bytes, client: WeComClient) -> WeChatClientException | None:
    """WeCom's JSON error in place of the file (an unknown or expired media id, a token)."""
    if mime.split(";")[0].strip() not in ("application/json", "text/plain"):
        return None
    try:
        result = json.loads(data or b"{}")
    except ValueError:
        return None
    if isinstance(result, dict) and result.get("errcode"):
        return WeChatClientException(result["errcode"], result.get("errmsg"), client=client)
    return None


@dataclass(frozen=True)
class WeComMedia:
    access: MediaAccess
    media_id: str

    def read(self, limit: int) -> Fetched:
        client = _client(self.access)

        def download() -> Fetched:
            params = {"access_token": client.access_token, "media_id": self.media_id}
            url = client.API_BASE_URL + "media/get"
            with client._http.get(url, params=params, timeout=self.access.timeout,
                                  stream=True) as answer:  # fmt: skip
                answer.raise_for_status()
                length = answer.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > limit:
                    raise TooLarge(length)
                chunks, size = [], 0
                for chunk in answer.iter_content(64 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(size)
                data, mime = b"".join(chunks), answer.headers.get("Content-Type", "")
                if (error := _error(mime, data, client)) is not None:
                    raise error
                disposition = _FILENAME.search(answer.headers.get("Content-Disposition", ""))
                name = unquote(disposition.group(1)) if disposition else None
                return Fetched(data, mime or None, name)

        try:
            return client.calling(download)
        except WeChatClientException as err:
            raise Unavailable(f"WeCom {err.errcode}: {err.errmsg}") from None
        except requests.RequestException as err:
            raise Unavailable(f"{err.__class__.__name__}: {err}") from None


def incoming(message: dict[str, Any], access: MediaAccess) -> Incoming:
    """An image or a file message as the core's Incoming (WeCom has no threads: no card)."""
    media_id = str(message.get("MediaId") or "")
    name = str(message.get("FileName") or "") or None
    return Incoming(file_id=media_id, source=WeComMedia(access, media_id), name=name)
