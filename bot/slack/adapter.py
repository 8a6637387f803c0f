"""The Slack adapter: Bolt listeners that translate Slack's requests into jobs for the core.

Listeners never block: ``bot.answers`` runs each job on the core's workers and decides whether
its answer goes in the acknowledgement or through the outbox, so every request is acknowledged
within Slack's 3 seconds whatever the database is doing. A command's quick answer comes back
ephemeral in the acknowledgement, and a form's refusal as an error on its field; clicks and
events are acknowledged at once, and an event is handled once per ``event_id`` however often
Slack retries it. The HTTP server awaits the acknowledgement's content on its event loop (the
request context's ``ANSWERS``); Socket Mode, which acknowledges from a thread, waits here.
"""

import json
import logging
import re
from typing import Any

from slack_sdk import WebClient

from bot.answers import MESSAGES, REFUSAL, Answers, Job, notice
from bot.slack import files, inbound
from bot.slack.blocks import blocks, fallback
from bot.slack.markup import slack_text
from bot.slack.views import Views
from handlers.context import Origin
from handlers.core import Core
from handlers.messages import Message, refusal
from handlers.targets import Target

log = logging.getLogger(__name__)

ANSWERS = "maintbot.answers"  # the request context's list of answers its ack may carry


class SlackAdapter:
    def __init__(self, client: WebClient, *, signing_secret: str, answers: Answers) -> None:
        self.core = answers.core  # here for what needs no database: parsing, the catalog
        self.token, self.api_url = client.token or "", client.base_url  # downloads files
        self.signing_secret = signing_secret
        self.answers = answers
        self.views = Views(client, answers)
        self.app = inbound.bolt_app(client, signing_secret)
        self.app.command(re.compile(r"^/"))(self.on_command)
        self.app.action(re.compile(r".+"))(self.on_action)
        self.app.view("form")(self.on_form)
        self.app.view("prompt")(self.on_prompt)
        self.app.event("app_mention")(self.on_mention)
        self.app.event("message")(self.on_message)
        self.app.event("app_home_opened")(self.on_home)
        self.app.error(self.on_error)

    def close(self) -> None:
        self.views.close()

    def _job(self, origin: Origin, call: tuple, to: Target) -> Job:
        """A job whose files go to the person's DM, where Slack shows files."""
        return Job(origin, call, to, files=Target.person(origin.user or ""))

    def _ask(self, ack, context, job: Job, carry: str, content) -> None:
        """Over HTTP the server settles the ack on its event loop (the context's ANSWERS list);
        Socket Mode has no such list and waits here."""
        pending = self.answers.ask(job, carry, content)
        answers = context.get(ANSWERS)
        if answers is not None:
            answers.append(pending)
            ack()  # a placeholder: the server answers with what pending settles to
        else:
            ack(**pending.settle_blocking())

    # --- slash command ------------------------------------------------------------------------

    def on_command(self, ack, body: dict[str, Any], context) -> None:
        origin = Origin("slack", body.get("user_id"), body.get("channel_id"))
        text = slack_text(body.get("text") or "")
        form = self.core.form_for(text) if body.get("trigger_id") else None
        if form is not None:
            ack()
            metadata = json.dumps({"command": form.command, "channel": body.get("channel_id")})
            self.views.open_form(body["trigger_id"], origin, form, metadata)
            return
        if self.answers.overloaded:
            ack(response_type="ephemeral", text=self.core.i18n.t(None, "slack.busy"))
            return
        to = inbound.hook(origin, body.get("response_url"))
        job = self._job(origin, (Core.handle_text, origin, text), to)
        self._ask(ack, context, job, MESSAGES, self._ephemeral)

    def _ephemeral(self, replies: list[Message] | None) -> dict:
        if replies is None:  # not ready in time: it follows through the response URL
            return {"response_type": "ephemeral", "text": self.core.i18n.t(None, "slack.working")}
        return {
            "response_type": "ephemeral",
            "text": "\n".join(fallback(m) for m in replies)[:3000] or " ",
            "blocks": [b for m in replies for b in blocks(m)][:50],
        }

    # --- buttons and modals ------------------------------------------------------------------

    def on_action(self, ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        origin = inbound.clicker(body)
        # a card that only the clicker sees is replaced by the answer, so no stale buttons stay
        ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
        to = inbound.hook(origin, body.get("response_url"), replace=ephemeral)
        if (clicked := inbound.button(action)) is None:
            log.warning("button %r with an unreadable value", action.get("action_id"))
            self.answers.later(self._job(origin, (notice, origin, "slack.bad_action"), to))
            return
        command, prompt = clicked
        if prompt and body.get("trigger_id"):
            metadata = json.dumps({"command": command, "late": to.encode()}, ensure_ascii=False)
            self.views.open_prompt(body["trigger_id"], origin, prompt, metadata)
            return
        self.answers.later(self._job(origin, (Core.handle_action, origin, command), to))

    def on_form(self, ack, body: dict[str, Any], view: dict[str, Any], context) -> None:
        origin = inbound.clicker(body)
        command = inbound.metadata(view).get("command")
        form = self.core.registry.form(command) if isinstance(command, str) else None
        if form is None:
            ack(response_action="clear")
            return
        call = (Core.handle_text, origin, form.command, inbound.form_values(view, form))
        job = self._job(origin, call, Target.person(origin.user or ""))
        self._submit(ack, context, job, [f.key for f in form.fields])

    def on_prompt(self, ack, body: dict[str, Any], view: dict[str, Any], context) -> None:
        origin, metadata = inbound.clicker(body), inbound.metadata(view)
        command = metadata.get("command")
        if not command or not isinstance(command, str):
            ack(response_action="clear")
            return
        late = metadata.get("late")  # the click's reply hook
        to = Target.decode(*late) if late else Target.person(origin.user or "")
        call = (Core.handle_action, origin, command, inbound.prompt_answer(view))
        job = self._job(origin, call, to)
        self._submit(ack, context, job, ["answer"])

    def _submit(self, ack, context, job: Job, block_ids: list[str]) -> None:
        """A modal submission: an error on its field when the core refuses in time; else the
        modal closes and the answer follows through the outbox."""

        def content(replies: list[Message] | None) -> dict:
            if (refused := refusal(replies or [])) is None:
                return {}
            block = refused.field if refused.field in block_ids else block_ids[0]
            return {"response_action": "errors", "errors": {block: refused.text[:3000]}}

        if self.answers.overloaded:  # the modal stays open with what the user typed
            busy = self.core.i18n.t(None, "slack.busy")
            ack(response_action="errors", errors={block_ids[0]: busy})
            return
        self._ask(ack, context, job, REFUSAL, content)

    # --- events ------------------------------------------------------------------------------

    def on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        self._event(body, event)

    def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        if event.get("subtype") == "file_share":  # in a card's thread, or in the DM
            for job in files.jobs(body, event, self.token, self.api_url):
                self.answers.later(job)
        elif event.get("channel_type") == "im" and not event.get("subtype"):
            self._event(body, event)

    def _event(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Answered in the message's thread, once however often Slack delivers the event."""
        origin = Origin("slack", event.get("user"), event.get("channel"))
        call = (Core.handle_text, origin, slack_text(event.get("text") or ""))
        once = body.get("event_id") or event.get("ts", "")
        self.answers.later(Job(origin, call, inbound.thread_of(event), once=once))

    def on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            self.views.publish_home(event.get("user"))

    def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack listener failed: %s", error, exc_info=error)
