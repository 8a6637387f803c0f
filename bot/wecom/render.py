"""Neutral messages → WeCom messages: interactive cards as ``button_interaction`` template cards,
everything else (and anything sent to a group, where cards cannot be clicked) as markdown.

Each button's ``key`` is its typed-command twin; a button that needs an answer (a reason, a
step's text) has a ``?`` in front and what it asks for after a line break, and the click is
answered with both: what to give, and the command to type.

Message text is plain text. WeCom markdown has mentions (``<@userid>``, group robots), ``<font>``
tags and ``[text](url)`` links, and no escape: in markdown, the text's ``< > [ ]`` become their
full-width look-alikes (＜ ＞ ［ ］), so only the renderer's own markup is live. Template cards
are not parsed as markup: their text is left as it is.
"""

from typing import Any

from handlers.messages import Card, File, Message, Text

PROMPT = "?"
HINT = "\n"  # between a button's command and what it asks for
STYLE = {"primary": 1, "default": 2, "danger": 3}  # blue, grey, red
MARKDOWN = 2048  # bytes, message/send and appchat/send
TITLE, DESC, KEYNAME, VALUE, SUB_TITLE, BUTTON, KEY = 60, 60, 10, 60, 500, 16, 1024
FONT = {"success": "info", "warning": "warning", "danger": "warning", "info": "comment"}
INERT = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］"})  # markup → look-alikes


def inert(text: str) -> str:
    """Plain text that WeCom markdown shows as it is: no mention, tag or link in it is live."""
    return text.translate(INERT)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_bytes(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, cut on a character boundary."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"


def button_key(command: str, prompt: str | None) -> str:
    return f"{PROMPT}{command}{HINT}{prompt}" if prompt else command


def is_card(message: Message) -> bool:
    """Sent as a clickable template card (to a person); otherwise as markdown."""
    return isinstance(message, Card) and bool(message.actions)


def template_card(card: Card, task_id: str) -> dict[str, Any]:
    """A ``button_interaction`` card: title, state, up to six fields, and up to six buttons."""
    shown, rest = card.fields[:6], card.fields[6:]
    lines = [f"{f.label}: {f.value}" for f in rest] + ([card.body] if card.body else [])
    desc = " · ".join(p for p in (card.state_label, card.subject) if p)
    result: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "maintbot"},
        "main_title": {"title": cut(card.title, TITLE), "desc": cut(desc, DESC)},
        "horizontal_content_list": [
            {"keyname": cut(f.label, KEYNAME), "value": cut(f.value, VALUE)} for f in shown
        ],
        "task_id": task_id,
        "button_list": [
            {
                "text": cut(a.label, BUTTON),
                "style": STYLE.get(a.style, 2),
                "key": cut(button_key(a.command, a.prompt), KEY),
            }
            for a in card.actions[:6]
        ],
    }
    if lines:
        result["sub_title_text"] = cut("\n".join(lines), SUB_TITLE)
    return result


def markdown(message: Message, type_hint: str, *, mentions: bool = False) -> str:
    """WeCom markdown; a card's buttons become the commands to type (``type_hint`` leads).
    With ``mentions`` (a group robot: the only sender whose markdown can mention), a text
    @-mentions its ``mentions``."""
    if isinstance(message, Text):
        text = inert(message.text)
        if message.tone in ("warning", "danger"):
            text = f'<font color="warning">{text}</font>'
        if mentions:
            text = "".join(f"<@{user}> " for user in message.mentions) + text
        return cut_bytes(text, MARKDOWN)
    if isinstance(message, File):
        caption = inert(message.caption or message.name)
        if message.binary:  # a robot gets no file: the caption and the file's name
            return cut_bytes(f"**{caption}**\n{inert(message.name)}", MARKDOWN)
        return cut_bytes(f"**{caption}**\n{inert(message.content)}", MARKDOWN)
    lines = [f"**{inert(message.title)}**"]
    lines += [f"> {inert(f.label)}: {inert(f.value)}" for f in message.fields]
    if message.body:
        lines.append(inert(message.body))
    context = inert(" · ".join(p for p in (message.subject, message.state_label) if p))
    if context:
        lines.append(f'<font color="{FONT[message.tone]}">{context}</font>')
    if message.actions:
        commands = " / ".join(f"`{a.command}`" for a in message.actions)
        lines.append(f"{type_hint} {commands}")
    return cut_bytes("\n".join(lines), MARKDOWN)
