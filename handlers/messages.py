"""The neutral message model every adapter renders: plain text, cards and files.

A card action carries a stable id (``visit.approve``), the subject it acts on and its
typed-command twin (``visit approve V-12``), so anything a button does can be typed.
"""

import base64
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Tone = Literal["info", "success", "warning", "danger"]
Style = Literal["default", "primary", "danger"]


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Action:
    id: str
    label: str
    command: str
    style: Style = "default"
    subject: str | None = None
    # When set, the action needs a free-text answer (a reason) that is appended to the command.
    prompt: str | None = None


@dataclass(frozen=True)
class Text:
    text: str
    tone: Tone = "info"
    kind: Literal["text"] = "text"
    field: str | None = None  # the form field an error is about, for inline errors
    mentions: tuple[str, ...] = ()  # platform user ids to @-mention (set per platform by notify)


@dataclass(frozen=True)
class Card:
    title: str
    fields: list[Field] = field(default_factory=list)
    body: str = ""
    tone: Tone = "info"
    actions: list[Action] = field(default_factory=list)
    subject: str | None = None
    state: str | None = None
    state_label: str | None = None
    kind: Literal["card"] = "card"


@dataclass(frozen=True)
class File:
    """A file to hand over: text (``str``, sent as UTF-8) or bytes (a PDF, an image). In the
    outbox's JSON payload bytes travel as base64 (``content_b64``)."""

    name: str
    content: str | bytes
    mime: str = "text/plain"
    caption: str = ""
    kind: Literal["file"] = "file"

    @property
    def data(self) -> bytes:
        """The bytes to upload."""
        content = self.content
        return content if isinstance(content, bytes) else content.encode("utf-8")

    @property
    def binary(self) -> bool:
        return isinstance(self.content, bytes)


Message = Text | Card | File


def to_dict(message: Message) -> dict[str, Any]:
    """A JSON-safe dict (the outbox's payload)."""
    data = asdict(message)
    if isinstance(message, File) and message.binary:
        data["content_b64"] = base64.b64encode(data.pop("content")).decode("ascii")
    return data


def from_dict(data: dict[str, Any]) -> Message:
    kind = data.get("kind")
    if kind == "text":
        return Text(**{**data, "mentions": tuple(data.get("mentions", ()))})
    if kind == "file":
        values = dict(data)
        if "content_b64" in values:
            values["content"] = base64.b64decode(values.pop("content_b64"))
        return File(**values)
    if kind == "card":
        values = dict(data)
        values["fields"] = [Field(**f) for f in data.get("fields", [])]
        values["actions"] = [Action(**a) for a in data.get("actions", [])]
        return Card(**values)
    raise ValueError(f"unknown message kind: {kind!r}")


def starts_with_icon(text: str) -> bool:
    """Whether ``text`` opens with an icon of its own (an emoji or symbol: ✅ ⚠ 🚨 ⏰ ❌ …).

    Renderers put their tone icon in front of a text only when it has none, so a text never
    shows two icons (``⚠ ⚠``)."""
    first = text.lstrip()[:1]
    return bool(first) and unicodedata.category(first) == "So"


def plain_text(message: Message) -> str:
    """A readable one-block rendering, for logs, CSV captions and plain-text platforms."""
    if isinstance(message, Text):
        return message.text
    if isinstance(message, File):
        return message.caption or message.name
    lines = [message.title]
    lines += [f"{f.label}: {f.value}" for f in message.fields]
    if message.body:
        lines.append(message.body)
    return "\n".join(lines)


def refusal(replies: list[Message]) -> Text | None:
    """The warning a refused command answers with, alone (the core's answer to a user error);
    None for an answer that did something, even one with a warning beside it."""
    first = replies[0] if len(replies) == 1 else None
    return first if isinstance(first, Text) and first.tone == "warning" else None
