"""What every command, action and timer runs with: who, from where, when, and one transaction."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handlers import roles
from handlers.clock import Clock
from handlers.i18n import I18n
from handlers.messages import Message
from handlers.orgconfig import Organisation
from handlers.platforms import Platform


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the platform, the user's id there and the channel."""

    platform: str  # console | slack | wecom | system
    user: str | None
    channel: str | None = None


@dataclass(frozen=True)
class Actor:
    id: int | None
    handle: str
    name: str
    roles: frozenset[str]
    locale: str

    def has(self, role: str) -> bool:
        return roles.acts_as(self.roles, role)


SYSTEM = Actor(id=None, handle="maintbot", name="maintbot", roles=frozenset(), locale="zh")


@dataclass
class Context:
    session: Session
    actor: Actor
    origin: Origin
    clock: Clock
    i18n: I18n
    org: Organisation
    platforms: Mapping[str, Platform]  # the platforms served, by name
    registry: Any  # the command table (handlers.registry.Registry, which reads this module)
    replies: list[Message] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def locale(self) -> str:
        return self.actor.locale

    def t(self, key: str, **params) -> str:
        """A catalog string in the actor's language; examples in it are dated from today."""
        ex = self.registry.examples(self.org, self.i18n.local(self.now()).date())
        return self.i18n.t(self.actor.locale, key, ex=ex, **params)

    def reply(self, message: Message) -> None:
        self.replies.append(message)
