"""Files attached to a workflow's rows, for any workflow that declares it takes them
(``kit.Workflow.attachments``): a photo or a log posted in the thread of a row's card, or sent
to the bot, is downloaded, checked (size, type), kept in the files directory with its SHA-256
and recorded on the row, with an audit entry, in one transaction.

An adapter only translates: it describes the file as an ``Incoming`` (its name, type and size
as the platform says, the card whose thread it was posted in, and a ``Source`` that fetches its
bytes with the platform's credentials) and calls ``Core.attach``; the rules are here."""

from dataclasses import dataclass
from typing import Protocol


class TooLarge(Exception):
    """The file is larger than the limit a source was given (it stopped reading)."""


class Unavailable(Exception):
    """The platform would not give the file (expired, no permission, not reachable)."""


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime: str | None = None  # as the download says (Content-Type)
    name: str | None = None  # as the download says (Content-Disposition)


class Source(Protocol):
    """Fetches one file's bytes from its platform (on a core worker: it must pickle)."""

    def read(self, limit: int) -> Fetched:
        """The file, or TooLarge past ``limit`` bytes, or Unavailable."""
        ...


@dataclass(frozen=True)
class Incoming:
    """A file sent to the bot, as its platform describes it."""

    file_id: str  # the platform's id of the file (Slack's F…, WeCom's MediaId)
    source: Source
    name: str | None = None
    mime: str | None = None
    size: int | None = None  # as the platform declares it; None: known once downloaded
    card: str | None = None  # the platform reference of the message it was posted under
    caption: str = ""  # the words sent with it: a reference there names the subject
