"""A test driver for the core: people type commands, the test reads replies and the outbox."""

from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.console import ConsoleSender
from bot.slack.sender import SlackSender
from bot.wecom.sender import WeComSender
from handlers.clock import FakeClock
from handlers.context import Origin
from handlers.core import Core
from handlers.i18n import I18n
from handlers.messages import Card, Message, from_dict, plain_text
from handlers.orgconfig import Organisation
from handlers.platforms import Platform
from storage.db import Database
from storage.models import AuditEntry, OutboxMessage

TZ = ZoneInfo("Asia/Shanghai")


def platforms(*names: str) -> dict[str, Platform]:
    """The capabilities of the platforms ``names``, as their senders declare them."""
    declared = {s.platform.name: s.platform for s in (ConsoleSender, SlackSender, WeComSender)}
    return {name: declared[name] for name in names}


@cache
def _i18n(locale: str) -> I18n:
    """One I18n per locale for the whole run: compiling the catalogs takes a quarter second."""
    return I18n(TZ, locale)


def catalog(key: str, locale: str = "en", **params) -> str:
    """A catalog string, for tests that have no Chat (the served bot, the platform senders)."""
    return _i18n(locale).t(locale, key, **params)


def opening(key: str, param: str, locale: str = "en", **params) -> str:
    """A catalog string's fixed start, up to where ``param`` goes (for text whose value the
    test cannot know, such as a count or an incident id)."""
    return catalog(key, locale, **params, **{param: "\x00"}).split("\x00")[0]


@dataclass
class Chat:
    core: Core
    clock: FakeClock

    @classmethod
    def start(cls, db: Database, clock: FakeClock, org: Organisation, locale: str = "en") -> "Chat":
        core = Core(db, clock, _i18n(locale), org, platforms("console"))
        core.seed()
        return cls(core, clock)

    def say(self, who: str, text: str) -> list[Message]:
        return self.core.handle_text(Origin("console", who), text)

    def text(self, who: str, text: str) -> str:
        """Everything the bot answered, as one string."""
        return "\n".join(plain_text(m) for m in self.say(who, text))

    def card(self, who: str, text: str) -> Card:
        cards = [m for m in self.say(who, text) if isinstance(m, Card)]
        assert cards, f"no card in the answer to {text!r}"
        return cards[-1]

    def outbox(self, *, target: str | None = None) -> list[OutboxMessage]:
        with self.core.db.unit_of_work() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if target:
                query = query.where(OutboxMessage.target == target)
            return list(session.scalars(query))

    def notices(self, target: str) -> list[str]:
        return [plain_text(from_dict(row.payload)) for row in self.outbox(target=target)]

    def audit(self) -> list[AuditEntry]:
        with self.core.db.unit_of_work() as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
