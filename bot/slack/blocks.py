"""Neutral messages → Block Kit, within Slack's limits; forms → modals.

Message text is plain text: everything of it that Slack parses as mrkdwn (a message's ``text``,
mrkdwn sections, fields, context, a file's comment) is escaped (&, <, >), so it can mention
nobody and make no link. The only live markup is the renderer's own: the ``<@U…>`` mentions of
``Text.mentions``, bold field labels, tone emoji. Headers, buttons and modal labels are
``plain_text``: Slack does not parse them.
"""

import json
from typing import Any

from handlers.forms import Form
from handlers.i18n import I18n
from handlers.messages import Card, File, Message, Text, starts_with_icon

TONE_EMOJI = {
    "info": "",
    "success": ":white_check_mark: ",
    "warning": ":warning: ",
    "danger": ":x: ",
}
STYLE = {"primary": "primary", "danger": "danger"}
# Slack's limits (Block Kit reference): header 150, section text 3000, field 2000, 10 fields,
# button text 75, button value 2000, 25 elements per actions block, 50 blocks a message.
HEADER, SECTION, FIELD, FIELDS, BUTTON, VALUE = 150, 3000, 2000, 10, 75, 2000


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: &, < and > only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback(message: Message) -> str:
    """The message's ``text``: what Slack shows in notifications and where blocks cannot be
    shown. Slack parses it as mrkdwn, so it is escaped like the blocks."""
    if isinstance(message, Text):
        return cut(_at(message) + escape(message.text), 3000)
    if isinstance(message, File):
        return escape(message.caption or message.name)
    state = f" [{message.state_label}]" if message.state_label else ""
    return cut(escape(message.title + state), 3000)


def tone_icon(tone: str, text: str) -> str:
    """The tone's emoji in front of ``text``, unless the text opens with an icon of its own."""
    return "" if starts_with_icon(text) else TONE_EMOJI[tone]


def _at(message: Text) -> str:
    """Slack's @-mentions of the message's people (they are notified)."""
    return "".join(f"<@{user}> " for user in message.mentions)


def action_value(command: str, prompt: str | None) -> str:
    return cut(json.dumps({"c": command, "p": prompt}, ensure_ascii=False), VALUE)


def blocks(message: Message) -> list[dict[str, Any]]:
    if isinstance(message, Text):
        text = tone_icon(message.tone, message.text) + _at(message) + escape(message.text)
        return [{"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION)}}]
    if isinstance(message, File):
        return [{"type": "section", "text": {"type": "mrkdwn", "text": fallback(message)}}]
    return card_blocks(message)


def card_blocks(card: Card) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(card.title, HEADER)}}
    ]
    fields = [
        {"type": "mrkdwn", "text": cut(f"*{escape(f.label)}*\n{escape(f.value)}", FIELD)}
        for f in card.fields
    ]
    for start in range(0, len(fields), FIELDS):
        result.append({"type": "section", "fields": fields[start : start + FIELDS]})
    if card.body:
        text = cut(escape(card.body), SECTION)
        result.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    state = card.state_label and tone_icon(card.tone, card.state_label) + escape(card.state_label)
    context = " · ".join(part for part in (card.subject and escape(card.subject), state) if part)
    if context:
        result.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    if card.actions:
        buttons = []
        for action in card.actions[:25]:
            button = {
                "type": "button",
                "action_id": action.id,
                "text": {"type": "plain_text", "text": cut(action.label, BUTTON)},
                "value": action_value(action.command, action.prompt),
            }
            if action.style in STYLE:
                button["style"] = STYLE[action.style]
            buttons.append(button)
        block_id = f"actions:{card.subject or 'card'}:{card.state or ''}"
        result.append({"type": "actions", "block_id": block_id[:255], "elements": buttons})
    return result


def _input(form: Form, field, i18n: I18n, locale: str) -> dict[str, Any]:
    hint = cut(i18n.t(locale, form.hint_key(field)), 150)
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": field.kind == "multiline",
        "placeholder": {"type": "plain_text", "text": hint},
    }
    return {
        "type": "input",
        "block_id": field.key,
        "optional": field.optional,
        "label": {"type": "plain_text", "text": cut(i18n.t(locale, form.label_key(field)), 2000)},
        "element": element,
    }


def form_modal(form: Form, i18n: I18n, locale: str, metadata: str) -> dict[str, Any]:
    """A modal for a form: one plain-text input per field; the block id is the option name."""
    return {
        "type": "modal",
        "callback_id": "form",
        "private_metadata": metadata[:3000],
        "title": {"type": "plain_text", "text": cut(i18n.t(locale, form.title_key), 24)},
        "submit": {"type": "plain_text", "text": cut(i18n.t(locale, "form.submit"), 24)},
        "close": {"type": "plain_text", "text": cut(i18n.t(locale, "form.cancel"), 24)},
        "blocks": [_input(form, field, i18n, locale) for field in form.fields],
    }


def prompt_modal(prompt: str, i18n: I18n, locale: str, metadata: str) -> dict[str, Any]:
    """A modal asking the free-text answer a card action needs (a reason, check-in details)."""
    return {
        "type": "modal",
        "callback_id": "prompt",
        "private_metadata": metadata[:3000],
        "title": {"type": "plain_text", "text": cut(i18n.t(locale, "form.reason"), 24)},
        "submit": {"type": "plain_text", "text": cut(i18n.t(locale, "form.submit"), 24)},
        "close": {"type": "plain_text", "text": cut(i18n.t(locale, "form.cancel"), 24)},
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": {"type": "plain_text", "text": cut(prompt, 2000)},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            }
        ],
    }


def home_view(messages: list[Message]) -> dict[str, Any]:
    result: list[dict[str, Any]] = []
    for message in messages:
        result += [*blocks(message), {"type": "divider"}]
    return {"type": "home", "blocks": result[:100]}
