"""The one entry point every adapter calls: typed text or a card action in, replies out."""

import logging
import os
import socket
import uuid
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from handlers import deadlines, notify, people
from handlers.attachments import Incoming, commands, intake, routes
from handlers.attachments.files import FileRules
from handlers.clock import Clock
from handlers.context import SYSTEM, Actor, Context, Origin
from handlers.errors import UserError
from handlers.forms import Form
from handlers.grammar import Parsed, redact, tokenize
from handlers.i18n import I18n
from handlers.kit import Periodic, Workflow
from handlers.messages import Message, Text
from handlers.orgconfig import Organisation
from handlers.platforms import Platform
from handlers.registry import Commands, Registry
from handlers.targets import Target
from handlers.workflows import BASICS, WORKFLOWS
from storage.db import Database
from storage.models import InboundEvent

log = logging.getLogger(__name__)

SWEEPER = f"scheduler:{os.getpid()}@{socket.gethostname()}"[:64]  # an audit platform_user
# Notices about failed deliveries carry this subject, so a failing report is never reported.
DELIVERY_SUBJECT = "delivery"


@dataclass
class Core:
    """The domain, for the platforms it serves (their capabilities, by name), with the commands,
    timers, periodic jobs and Home sections of ``workflows`` and ``basics``."""

    db: Database
    clock: Clock
    i18n: I18n
    org: Organisation
    platforms: Mapping[str, Platform]
    workflows: tuple[Workflow, ...] = WORKFLOWS
    basics: tuple[Commands, ...] = BASICS
    files: FileRules | None = None  # where attachments are kept, and what is taken; None: none

    def __post_init__(self) -> None:
        self.attachable = routes.attachable(self.workflows)
        groups = [*self.basics, *(c for w in self.workflows for c in w.commands)]
        groups.append(commands.commands(self.attachable))
        self.registry = Registry(
            groups,
            home=[h for w in self.workflows for h in w.home],
            examples=[w.examples for w in self.workflows if w.examples],
        )
        self.firers = ChainMap(*(w.timers for w in self.workflows))
        self.periodic: tuple[Periodic, ...] = tuple(p for w in self.workflows for p in w.periodic)

    def context(self, session, actor: Actor, origin: Origin) -> Context:
        return Context(
            session, actor, origin, self.clock, self.i18n, self.org, self.platforms, self.registry
        )

    def seed(self) -> None:
        """Load the organisation file into the database (idempotent)."""
        with self.db.unit_of_work() as session:
            people.seed(self.context(session, SYSTEM, Origin("system", "org-file")), self.org)

    def sweep_deadlines(self, limit: int = 200) -> int:
        """Fire every deadline that is due (including those missed while the bot was down).

        The audit names the sweeping process (host:pid), so that a deadline fired by one of
        several bot processes can be traced to it."""
        with self.db.unit_of_work() as session:
            ctx = self.context(session, SYSTEM, Origin("system", SWEEPER))
            return deadlines.fire_claimed(ctx, deadlines.claim_due(ctx, limit), self.firers)

    def feed(self, name: str) -> tuple[str, str] | None:
        """A workflow's feed (its media type and text) by name, as it is now; None: no such."""
        build = next((w.feeds[name] for w in self.workflows if name in w.feeds), None)
        if build is None:
            return None
        with self.db.unit_of_work() as session:
            return build(self.context(session, SYSTEM, Origin("system", "feed")))

    def run_periodic(self, job: Periodic) -> int:
        """One round of a workflow's periodic job, in one unit of work."""
        with self.db.unit_of_work() as session:
            return job.run(self.context(session, SYSTEM, Origin("system", SWEEPER)))

    def handle_text(
        self, origin: Origin, text: str, options: dict[str, str] | None = None
    ) -> list[Message]:
        """Run one typed command (plus already-separated options) in one transaction.

        Never raises: user errors become a message in the user's language, anything else is
        logged with an incident id that the user is given.
        """
        locale = self.i18n.default_locale
        try:
            with self.db.unit_of_work() as session:
                person = people.identify(session, origin)
                if person is not None and origin.platform in ("slack", "wecom"):
                    person.last_platform = origin.platform  # written only when it changes
                actor = (
                    people.actor_of(person, self.i18n.default_locale)
                    if person
                    else Actor(None, origin.user or "?", origin.user or "?", frozenset(), locale)
                )
                locale = actor.locale
                parsed = tokenize(text)
                every = {**parsed.options, **(options or {})}
                invocation = self.registry.resolve(Parsed(parsed.words, every))
                if person is None and not invocation.spec.public:
                    return [self.unknown_user(origin, locale)]
                ctx = self.context(session, actor, origin)
                invocation.spec.func(ctx, invocation)
                return ctx.replies
        except UserError as err:
            text = self.i18n.t(locale, err.key, ex=self.examples(), **err.params)
            return [Text(text, tone="warning", field=err.field)]
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("command failed [%s]: %r from %s", incident, redact(text), origin)
            return [Text(self.i18n.t(locale, "error.internal", incident=incident), tone="danger")]

    def handle_action(
        self, origin: Origin, command: str, answer: str | None = None
    ) -> list[Message]:
        """A card button press: its typed-command twin, completed with the answer it asked for.

        A twin ending in ``key=`` takes the answer verbatim as that option's value (no quoting
        games with what the user wrote); any other twin takes it as further typed arguments.
        """
        if answer is None:
            return self.handle_text(origin, command)
        if not command.endswith("="):
            return self.handle_text(origin, f"{command} {answer}")
        if not answer.strip():
            return [self.notice_for(origin, "error.reason_required")]
        head, _, key = command[:-1].rpartition(" ")
        return self.handle_text(origin, head, {key: answer.strip()})

    def attach(self, origin: Origin, incoming: Incoming) -> list[Message]:
        """A file sent to the bot (posted in a card's thread, or to the bot), attached to its
        row (``handlers.attachments``). Never raises, as ``handle_text``."""
        return intake.attach(self, origin, incoming)

    def examples(self) -> dict[str, str]:
        """The dates that examples in usage strings and hints show (see i18n.examples)."""
        return self.registry.examples(self.org, self.i18n.local(self.clock.now()).date())

    def unknown_user(self, origin: Origin, locale: str) -> Text:
        return Text(self.i18n.t(locale, "error.unknown_user", user=origin.user or "?"), "warning")

    def notice_for(self, origin: Origin, key: str, **params) -> Text:
        """A catalog message in the language of whoever ``origin`` is (adapters use it too)."""
        return Text(self.i18n.t(self.locale_of(origin), key, **params), tone="warning")

    def form_for(self, text: str) -> Form | None:
        """The form a typed command opens: one with a form and no options typed yet. Only an
        area and a verb can be that, so anything longer is not parsed here (the worker that runs
        the command parses it)."""
        if "=" in text or len(text.split()) > 2:
            return None
        try:
            invocation = self.registry.resolve(tokenize(text))
        except UserError:
            return None
        if invocation.options or invocation.args:
            return None
        return invocation.spec.form

    def handles(self) -> list[str]:
        """Everyone's handle, in the organisation's order (the console's ``as`` names them)."""
        with self.db.unit_of_work() as session:
            return people.handles(session)

    def locale_of(self, origin: Origin) -> str:
        """The language of whoever ``origin`` is; the default for strangers."""
        with self.db.unit_of_work() as session:
            person = people.identify(session, origin)
            return (person and person.locale) or self.i18n.default_locale

    def first_time(self, platform: str, key: str) -> bool:
        """Record an inbound delivery; False when the same one was handled before (a retry)."""
        try:
            with self.db.unit_of_work() as session:
                session.add(InboundEvent(platform=platform, key=key, received_at=self.clock.now()))
            return True
        except IntegrityError:
            return False

    def forget_inbound(self, older_than: timedelta = timedelta(days=1)) -> int:
        """Drop dedupe records past any platform's retry window (Slack retries for minutes)."""
        cutoff = self.clock.now() - older_than
        with self.db.unit_of_work() as session:
            return session.execute(
                delete(InboundEvent).where(InboundEvent.received_at < cutoff)
            ).rowcount

    def reply_later(self, origin: Origin, answer: Sequence[tuple[Target, Message]]) -> None:
        """Queue an answer to ``origin`` that was not given at once (after an adapter's quick
        ack), each message to its target, in one transaction, in its person's language."""
        with self.db.unit_of_work() as session:
            person = people.identify(session, origin)
            locale = (person and person.locale) or self.i18n.default_locale
            ctx = self.context(session, SYSTEM, Origin(origin.platform, None))
            for target, message in answer:
                notify.direct(ctx, origin.platform, target, locale, message)

    def report_failure(self, platform: str, target: str, reason: str) -> None:
        """Tell the admins that a notice could not be delivered (a permanent platform error)."""
        with self.db.unit_of_work() as session:
            ctx = self.context(session, SYSTEM, Origin("system", "outbox"))

            def build(locale, _viewer):
                text = self.i18n.t(
                    locale, "delivery.failed", platform=platform, target=target, reason=reason
                )
                return Text(text, tone="danger")

            notify.role(ctx, "admin", build, DELIVERY_SUBJECT)
            notify.channel(ctx, "admin", build, DELIVERY_SUBJECT)
