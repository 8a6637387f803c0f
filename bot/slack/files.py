"""Files people share in Slack (a ``message`` event of subtype ``file_share``): each file becomes
a job for ``Core.attach`` — the card whose thread it was posted in (``channel:thread_ts``, the
reference the outbox keeps of every card it posted), its name, type and size as Slack gives
them, and a ``SlackFile`` that downloads ``url_private_download`` with the bot token.

Only a file in a thread, or in the bot's DM, is for the bot: one posted in a channel is not.
The token goes only to Slack's own hosts (or the configured API's, a test's fake), never
through a redirect."""

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.answers import Job
from handlers.attachments import Fetched, Incoming, TooLarge, Unavailable
from handlers.context import Origin
from handlers.core import Core
from handlers.targets import Target


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect would carry the token along
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class SlackFile:
    """A file's bytes at ``url`` (its url_private_download), read with ``token``."""

    url: str
    token: str
    timeout: float = 30.0

    def read(self, limit: int) -> Fetched:
        if not self.url:
            raise Unavailable("Slack gave no download URL (an external or deleted file)")
        request = urllib.request.Request(
            self.url, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                length = answer.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > limit:
                    raise TooLarge(length)
                mime = answer.headers.get_content_type()
                data = answer.read(limit + 1)
        except urllib.error.HTTPError as err:
            raise Unavailable(f"HTTP {err.code}") from None
        except (urllib.error.URLError, OSError) as err:
            raise Unavailable(f"{err.__class__.__name__}: {err}") from None
        if len(data) > limit:
            raise TooLarge(len(data))
        if mime == "text/html":  # Slack's sign-in page: the token may not read files
            raise Unavailable("an HTML page instead of the file (is files:read granted?)")
        return Fetched(data, mime)


def trusted(url: str, api_url: str) -> bool:
    """Whether the bot token may go to ``url``: Slack's hosts over https, or the API's own."""
    parts, api = urlsplit(url), urlsplit(api_url)
    host = parts.hostname or ""
    if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
        return True
    return bool(host) and (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


def incoming(file: dict[str, Any], card: str | None, caption: str, token: str, api_url: str):
    url = file.get("url_private_download") or file.get("url_private") or ""
    size = file.get("size")
    return Incoming(
        file_id=str(file.get("id") or ""),
        source=SlackFile(url if isinstance(url, str) and trusted(url, api_url) else "", token),
        name=str(file.get("name") or file.get("title") or "") or None,
        mime=str(file.get("mimetype") or "") or None,
        size=size if isinstance(size, int) else None,
        card=card,
        caption=caption,
    )


def jobs(body: dict[str, Any], event: dict[str, Any], token: str, api_url: str) -> list[Job]:
    """A job per file of a file_share event, each handled once however often Slack retries."""
    channel, thread = event.get("channel") or "", event.get("thread_ts")
    in_dm = event.get("channel_type") == "im"
    if not (thread and thread != event.get("ts")) and not in_dm:
        return []  # a file posted in a channel, not in a thread: not for the bot
    card = f"{channel}:{thread}" if thread and not in_dm else None
    origin = Origin("slack", event.get("user"), channel or None)
    to = Target.thread(channel, thread or event.get("ts") or "")
    once = body.get("event_id") or event.get("ts", "")
    found = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]
    caption = event.get("text") if isinstance(event.get("text"), str) else ""
    made = []
    for file in found:
        attached = incoming(file, card, caption or "", token, api_url)
        call = (Core.attach, origin, attached)
        made.append(Job(origin, call, to, once=f"{once}:{attached.file_id}"[:128]))
    return made
