"""Slack's requests: the Bolt app that receives them, and readers of their payloads.

The readers take what Slack sent as it is (any key may be missing or of another type) and give
the adapter maintbot's terms: who and where, the command of a button, a form's values, where an
answer goes.
"""

import json
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from handlers.context import Origin
from handlers.forms import Form
from handlers.targets import Target


def bolt_app(client: WebClient, signing_secret: str) -> App:
    """Bolt, with the token of ``client``. It reaches Bolt through ``authorize`` alone (no
    auth.test, no Slack call at start or per request); the app's own client has the same API
    address and settings but no token, or Bolt warns at every start that one of two tokens
    goes unused."""
    token = client.token
    return App(
        signing_secret=signing_secret,
        client=WebClient(
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            retry_handlers=client.retry_handlers,
        ),
        authorize=lambda **kw: AuthorizeResult(
            enterprise_id=kw.get("enterprise_id"), team_id=kw.get("team_id"), bot_token=token
        ),
        process_before_response=True,
        token_verification_enabled=False,
        request_verification_enabled=False,  # bot.server checks before parsing the body
    )


# where Slack's payloads hold objects: Bolt and the readers below call .get() on them
_OBJECTS = ("user", "container", "channel", "team", "view", "event", "message")


def well_formed(body: Any) -> bool:
    """Whether a signed payload has the shape Slack gives its payloads (objects where objects
    go: the user, the actions, a view's state), so that reading it cannot fail."""
    if not isinstance(body, dict) or any(
        key in body and not isinstance(body[key], dict) for key in _OBJECTS
    ):
        return False
    actions = body.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return False
    state = (body.get("view") or {}).get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    return isinstance(values, dict) and all(
        isinstance(block, dict) and all(isinstance(field, dict) for field in block.values())
        for block in values.values()
    )


def clicker(body: dict[str, Any]) -> Origin:
    """Who clicked or submitted, and in which channel (none for a modal)."""
    container, channel = body.get("container") or {}, body.get("channel") or {}
    user = (body.get("user") or {}).get("id")
    return Origin("slack", user, container.get("channel_id") or channel.get("id"))


def button(action: dict[str, Any]) -> tuple[str, str | None] | None:
    """A button's command and the question it asks first (or None); None when the button is
    not one of ours."""
    try:
        value = json.loads(action.get("value") or "")
        command, prompt = value["c"], value.get("p")
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if isinstance(command, str) and isinstance(prompt, str | None):
        return command, prompt
    return None


def hook(origin: Origin, response_url: Any, *, replace: bool = False) -> Target:
    """Where an answer that misses the acknowledgement goes: the interaction's response URL, or
    the person's DM when Slack sent none (or something that is not one)."""
    if isinstance(response_url, str) and response_url.startswith(("https://", "http://")):
        return Target.reply_hook(origin.channel or "", response_url, replace=replace)
    return Target.person(origin.user or "")


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the bot put in a modal's private_metadata when it opened it."""
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def form_values(view: dict[str, Any], form: Form) -> dict[str, str]:
    """The form's fields as submitted, stripped (a field left empty is "")."""
    keys = {f.key for f in form.fields}
    return {
        block_id: ((fields.get("value") or {}).get("value") or "").strip()
        for block_id, fields in view.get("state", {}).get("values", {}).items()
        if block_id in keys
    }


def prompt_answer(view: dict[str, Any]) -> str:
    """What was typed in a prompt modal's one field."""
    state = view.get("state", {}).get("values", {}).get("answer", {})
    return state.get("value", {}).get("value") or ""


def thread_of(event: dict[str, Any]) -> Target:
    """The thread an event's message is in (or would start)."""
    return Target.thread(
        event.get("channel") or "", event.get("thread_ts") or event.get("ts") or ""
    )
