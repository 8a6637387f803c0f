"""The Slack adapter: Bolt listeners that translate Slack's requests into core calls.

Listeners never block: the core runs elsewhere (``bot.workers``: worker processes when served,
threads in tests), each call a ``fn(core, *args)``. Every request is acknowledged within
Slack's 3 seconds whatever the database is doing. When the queue is short, the acknowledgement
waits up to ``budget`` seconds for the answer and carries it (an ephemeral reply, inline modal
errors); when it is long, or the answer is late, the request is acknowledged at once and the
answer leaves through the outbox. Past ``max_backlog`` queued jobs a command or a form is
refused with a "try again" instead of joining a queue it would wait minutes in (clicks and
events are still queued: Slack does not resend a click, and an event was already seen). The
HTTP server awaits answers on its event loop; Socket Mode, which acknowledges from a thread,
waits in the listener. Events are acknowledged at once and handled once per ``event_id``,
however often Slack retries them.
"""

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.slack.blocks import blocks, fallback, form_modal, home_view, prompt_modal
from bot.slack.markup import slack_text
from bot.workers import CoreWorkers
from handlers.context import Origin
from handlers.core import Core
from handlers.forms import FORMS
from handlers.messages import File, Message, refusal

log = logging.getLogger(__name__)

ANSWERS = "maintbot.answers"  # the request context's list of answers its ack may carry
SHORT_QUEUE = 8  # jobs per worker (a few ms each) an acknowledgement still waits behind

LOCALE_WAIT = 0.5  # seconds a modal waits for the user's language before using the default


@dataclass
class Pending:
    """Core work whose answer may still go back in the acknowledgement."""

    future: Future
    wait: float  # how long the acknowledgement may wait for it (0: a worker was not free)
    inline: Callable[[list[Message]], dict]  # the ack's content, made from the answer
    late_ack: dict  # the ack's content when the answer is not ready in time
    later: Callable[[Future], None]  # delivers an answer that came too late for the ack

    def settled(self, ready: bool) -> dict:
        if ready:
            try:
                return self.inline(self.future.result())
            except Exception:
                log.exception("slack work failed")
                return {}
        self.future.add_done_callback(self.later)  # runs at once if it has just finished
        return self.late_ack

    def settle_blocking(self) -> dict:
        try:
            self.future.result(timeout=self.wait)
        except FutureTimeout:
            return self.settled(False)
        except Exception:
            pass  # reported by settled()
        return self.settled(True)

    async def settle(self) -> dict:
        """The same as settle_blocking, awaited on an event loop."""
        if self.wait > 0 and not self.future.done():
            await asyncio.wait([asyncio.wrap_future(self.future)], timeout=self.wait)
        return self.settled(self.future.done())


class SlackAdapter:
    def __init__(
        self,
        core: Core,
        client: WebClient,
        *,
        signing_secret: str,
        workers: CoreWorkers,
        budget: float = 1.5,
        max_backlog: int = 200,
    ) -> None:
        self.core = core  # here for what needs no database: parsing, the message catalog
        self.budget = budget
        self.signing_secret = signing_secret
        self.client = client
        token = client.token
        self.pool = workers
        self.workers = workers.size
        self.max_backlog = max_backlog
        self._busy = 0  # core jobs submitted and not finished
        self._busy_lock = threading.Lock()
        # views.open only: a trigger_id expires 3 s after the click, so opening a modal never
        # queues behind core work that waits on a slow database
        self.ui = ThreadPoolExecutor(4, thread_name_prefix="slack-ui")
        # The token reaches Bolt through `authorize` alone (no auth.test, no Slack call at start
        # or per request); its client has the same API address and settings but no token, or
        # Bolt warns at every start that one of two tokens goes unused.
        self.app = App(
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
        self.app.command(re.compile(r"^/"))(self.on_command)
        self.app.action(re.compile(r".+"))(self.on_action)
        self.app.view("form")(self.on_form)
        self.app.view("prompt")(self.on_prompt)
        self.app.event("app_mention")(self.on_mention)
        self.app.event("message")(self.on_message)
        self.app.event("app_home_opened")(self.on_home)
        self.app.error(self.on_error)

    def close(self) -> None:
        self.ui.shutdown(wait=True, cancel_futures=False)

    # --- slash command ------------------------------------------------------------------------

    def on_command(self, ack, body: dict[str, Any], context) -> None:
        origin = Origin("slack", body.get("user_id"), body.get("channel_id"))
        text = slack_text(body.get("text") or "")
        late = _late("response", origin, body.get("response_url"))
        form = self.core.form_for(text) if body.get("trigger_id") else None
        if form is not None:
            ack()
            metadata = json.dumps({"command": form.command, "channel": body.get("channel_id")})
            self.ui.submit(self._open, body["trigger_id"], origin, "form", form, metadata)
            return
        if self._busy >= self.max_backlog:
            ack(response_type="ephemeral", text=self.core.i18n.t(None, "slack.busy"))
            return
        working = {"response_type": "ephemeral", "text": self.core.i18n.t(None, "slack.working")}
        self._answer(
            ack, context, origin, late, (Core.handle_text, origin, text),
            lambda replies: self._ephemeral(origin, replies), working,
        )  # fmt: skip

    def _answer(self, ack, context, origin: Origin, late, call, inline, late_ack: dict) -> None:
        """Start ``call``; its answer goes in the ack if ready in time, else through the outbox.

        Over HTTP the server settles the ack on its event loop (the context's ANSWERS list);
        Socket Mode has no such list and waits here.
        """
        if self._busy < self.workers * SHORT_QUEUE:
            wait, work = self.budget, self._run(*call)
        else:  # the ack will not wait: the worker queues the answer itself, in the same job
            wait, work = 0.0, self._run(_answer_later, call, origin, *late)
        pending = Pending(work, wait, inline, late_ack,
                          lambda done: self._later(done, origin, *late))  # fmt: skip
        answers = context.get(ANSWERS)
        if answers is not None:
            answers.append(pending)
            ack()  # a placeholder: the server answers with what pending settles to
        else:
            ack(**pending.settle_blocking())

    def _run(self, fn, *args) -> Future:
        """``fn(core, *args)`` on the core's workers, counted, so that a request knows whether a
        worker is free."""
        with self._busy_lock:
            self._busy += 1
        try:
            future = self.pool.submit(fn, *args)
        except RuntimeError:  # shutting down: a late answer is still delivered, here and now
            future = Future()
            try:
                future.set_result(fn(self.core, *args))
            except Exception as exc:
                future.set_exception(exc)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._busy_lock:
            self._busy -= 1

    def _ephemeral(self, origin: Origin, replies: list[Message]) -> dict:
        quick = [m for m in replies if not isinstance(m, File)]
        files = [m for m in replies if isinstance(m, File)]
        self._deliver(origin, "person", origin.user, files)
        return {
            "response_type": "ephemeral",
            "text": "\n".join(fallback(m) for m in quick)[:3000] or " ",
            "blocks": [b for m in quick for b in blocks(m)][:50],
        }

    def _later(self, done: Future, origin: Origin, target_kind: str, target: str) -> None:
        """Queue the answer of finished work that did not make it into the acknowledgement."""
        try:
            replies = done.result()
        except Exception:
            log.exception("slack work failed after the ack")
            return
        if replies:
            self._run(_reply_all, origin, target_kind, target, replies)

    def _deliver(self, origin: Origin, target_kind: str, target: str, messages: list[Message]):
        if messages and target:
            self._run(_reply, origin, target_kind, target, messages)

    # --- buttons and modals ------------------------------------------------------------------

    def on_action(self, ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        origin = Origin("slack", body.get("user", {}).get("id"), _channel_of(body))
        # a card that only the clicker sees is replaced by the answer, so no stale buttons stay
        kind = "replace" if (body.get("container") or {}).get("is_ephemeral") else "response"
        late = _late(kind, origin, body.get("response_url"))
        try:
            value = json.loads(action.get("value") or "")
            command, prompt = value["c"], value.get("p")
            if not isinstance(command, str) or not isinstance(prompt, str | None):
                raise TypeError("not a button of ours")
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("button %r with an unreadable value", action.get("action_id"))
            self._run(_notice, origin, late, "slack.bad_action")
            return
        if prompt and body.get("trigger_id"):
            metadata = json.dumps({"command": command, "late": late}, ensure_ascii=False)
            self.ui.submit(self._open, body["trigger_id"], origin, "prompt", prompt, metadata)
            return
        future = self._run(Core.handle_action, origin, command)
        future.add_done_callback(lambda done: self._later(done, origin, *late))

    def _open(self, trigger_id: str, origin: Origin, kind: str, what, metadata: str) -> None:
        # the user's language if the database says it in time, else the default one: a modal in
        # the default language beats a trigger_id expired while waiting for the database
        lookup = self._run(Core.locale_of, origin)
        try:
            locale = lookup.result(timeout=LOCALE_WAIT)
        except Exception:  # too slow, or the database is down
            locale = self.core.i18n.default_locale
        if kind == "form":
            view = form_modal(what, self.core.i18n, locale, metadata)
        else:
            view = prompt_modal(what, self.core.i18n, locale, metadata)
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except Exception:
            log.exception("views.open failed")

    def on_form(self, ack, body: dict[str, Any], view: dict[str, Any], context) -> None:
        origin = Origin("slack", body.get("user", {}).get("id"))
        metadata = _json(view.get("private_metadata"))
        command = metadata.get("command")
        form = FORMS.get(command) if isinstance(command, str) else None
        if form is None:
            ack(response_action="clear")
            return
        values = {
            block_id: (fields.get("value") or {}).get("value") or ""
            for block_id, fields in view.get("state", {}).get("values", {}).items()
        }
        values = {k: v.strip() for k, v in values.items() if k in {f.key for f in form.fields}}
        self._submit(
            ack,
            context,
            origin,
            ("person", origin.user),
            (Core.handle_text, origin, form.command, values),
            [f.key for f in form.fields],
        )

    def on_prompt(self, ack, body: dict[str, Any], view: dict[str, Any], context) -> None:
        origin = Origin("slack", body.get("user", {}).get("id"))
        metadata = _json(view.get("private_metadata"))
        answer = (
            view.get("state", {}).get("values", {}).get("answer", {}).get("value", {}).get("value")
        )
        command = metadata.get("command")
        if not command or not isinstance(command, str):
            ack(response_action="clear")
            return
        late = tuple(metadata.get("late") or ("person", origin.user))
        self._submit(
            ack,
            context,
            origin,
            late,
            (Core.handle_action, origin, command, answer or ""),
            ["answer"],
        )

    def _submit(self, ack, context, origin: Origin, late, call, block_ids: list[str]) -> None:
        """A modal submission: inline errors when the core refuses in time, else close it."""

        def inline(replies: list[Message]) -> dict:
            if (refused := refusal(replies)) is not None:
                block = refused.field if refused.field in block_ids else block_ids[0]
                return {"response_action": "errors", "errors": {block: refused.text[:3000]}}
            self._deliver(origin, *late, replies)
            return {}

        if self._busy >= self.max_backlog:  # the modal stays open with what the user typed
            busy = self.core.i18n.t(None, "slack.busy")
            ack(response_action="errors", errors={block_ids[0]: busy})
            return
        self._answer(ack, context, origin, late, call, inline, {})

    # --- events ------------------------------------------------------------------------------

    def on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        self._run(_event, body.get("event_id"), event)

    def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if (
            event.get("channel_type") == "im"
            and not event.get("bot_id")
            and not event.get("subtype")
        ):
            self._run(_event, body.get("event_id"), event)

    def on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            user = event.get("user")
            home = self._run(Core.handle_text, Origin("slack", user), "home")
            home.add_done_callback(lambda done: self.ui.submit(self._publish_home, user, done))

    def _publish_home(self, user: str, done: Future) -> None:
        try:
            self.client.views_publish(user_id=user, view=home_view(done.result()))
        except Exception:
            log.exception("views.publish failed for %s", user)

    def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack listener failed: %s", error, exc_info=error)


# --- core work (module functions: a worker process receives them by name) --------------------


def _event(core: Core, event_id: str | None, event: dict[str, Any]) -> None:
    if not core.first_time("slack", event_id or event.get("ts", "")):
        return
    origin = Origin("slack", event.get("user"), event.get("channel"))
    replies = core.handle_text(origin, slack_text(event.get("text") or ""))
    thread = f"{event.get('channel')}:{event.get('thread_ts') or event.get('ts')}"
    if replies:
        core.reply_later(origin, "thread", thread, replies)


def _answer_later(core: Core, call: tuple, origin: Origin, target_kind: str, target: str) -> list:
    """Run ``call`` and queue its answer: nothing is left for the acknowledgement to carry."""
    fn, *args = call
    _reply_all(core, origin, target_kind, target, fn(core, *args))
    return []


def _reply_all(core: Core, origin: Origin, target_kind: str, target: str, replies: list[Message]):
    """An answer to ``target``; its files to the person's DM, where Slack shows files."""
    files = [m for m in replies if isinstance(m, File)]
    _reply(core, origin, target_kind, target, [m for m in replies if m not in files])
    _reply(core, origin, "person", origin.user, files)


def _reply(core: Core, origin: Origin, target_kind: str, target: str, messages: list[Message]):
    if not (messages and target):
        return
    if target_kind == "replace":  # the first answer takes the clicked message's place
        core.reply_later(origin, target_kind, target, messages[:1])
        target_kind, messages = "response", messages[1:]
    if messages:
        core.reply_later(origin, target_kind, target, messages)


def _notice(core: Core, origin: Origin, late: tuple[str, str], key: str) -> None:
    _reply(core, origin, *late, [core.notice_for(origin, key)])


def _late(kind: str, origin: Origin, response_url: Any) -> tuple[str, str]:
    """Where an answer that misses the acknowledgement goes: the interaction's response URL, or
    the person's DM when Slack sent none (or something that is not one)."""
    if isinstance(response_url, str) and response_url.startswith(("https://", "http://")):
        return kind, f"{origin.channel or ''} {response_url}"
    return "person", origin.user or ""


def _channel_of(body: dict[str, Any]) -> str | None:
    return (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
