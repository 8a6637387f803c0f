"""What the Slack adapter shows at once rather than through the outbox: modals and the Home tab.

A trigger_id expires 3 s after the click, so modals open from a pool of their own, never behind
core work that waits on a slow database; the user's language is asked of the core but not waited
for past ``LOCALE_WAIT``: a modal in the default language beats an expired trigger_id.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from slack_sdk import WebClient

from bot.answers import Answers
from bot.slack.blocks import form_modal, home_view, prompt_modal
from handlers.context import Origin
from handlers.core import Core
from handlers.forms import Form

log = logging.getLogger(__name__)

LOCALE_WAIT = 0.5  # seconds a modal waits for the user's language before using the default


class Views:
    def __init__(self, client: WebClient, answers: Answers) -> None:
        self.client = client
        self.answers = answers
        self.i18n = answers.core.i18n
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="slack-ui")

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)

    def open_form(self, trigger_id: str, origin: Origin, form: Form, metadata: str) -> None:
        self.pool.submit(self._open, trigger_id, origin, form_modal, form, metadata)

    def open_prompt(self, trigger_id: str, origin: Origin, prompt: str, metadata: str) -> None:
        self.pool.submit(self._open, trigger_id, origin, prompt_modal, prompt, metadata)

    def _open(self, trigger_id: str, origin: Origin, modal: Callable, what, metadata: str) -> None:
        lookup = self.answers.run(Core.locale_of, origin)
        try:
            locale = lookup.result(timeout=LOCALE_WAIT)
        except Exception:  # too slow, or the database is down
            locale = self.i18n.default_locale
        try:
            self.client.views_open(
                trigger_id=trigger_id, view=modal(what, self.i18n, locale, metadata)
            )
        except Exception:
            log.exception("views.open failed")

    def publish_home(self, user: str) -> None:
        home = self.answers.run(Core.handle_text, Origin("slack", user), "home")
        home.add_done_callback(lambda done: self.pool.submit(self._publish, user, done))

    def _publish(self, user: str, done: Future) -> None:
        try:
            self.client.views_publish(user_id=user, view=home_view(done.result()))
        except Exception:
            log.exception("views.publish failed for %s", user)
