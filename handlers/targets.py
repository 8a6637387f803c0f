"""Where an outbox message goes: a kind of address and the address, typed.

The outbox stores a target in two columns, ``target_kind`` and ``target``; ``Target.encode`` and
``Target.decode`` are the only code that writes and reads the second one's two-part forms (a
thread: ``channel:ts``; an interaction's reply hook: ``channel response_url``).
"""

from dataclasses import dataclass

PERSON = "person"  # a person's platform user id: a direct message
CHANNEL = "channel"  # a channel or group address (a Slack channel id, WeCom chat or webhook:KEY)
THREAD = "thread"  # the thread of a channel's message
RESPONSE = "response"  # an interaction's own reply hook (Slack's response_url): only they see it
REPLACE = "replace"  # the same hook, replacing the (ephemeral) message that was clicked
REPLY_HOOKS = (RESPONSE, REPLACE)
# the thread of the message another outbox row posts (its id: a card not sent yet has no ts):
# the deliverer makes it a THREAD once that message is sent (a CHANNEL post if it never is)
REPLY = "reply"  # short-lived (30 minutes) and a credential: never reported

_SEPARATOR = {THREAD: ":", RESPONSE: " ", REPLACE: " "}


@dataclass(frozen=True)
class Target:
    kind: str
    address: str  # a user id, a channel id; the channel of a thread or of a reply hook
    ref: str = ""  # a thread's parent message (its ts); a reply hook's URL

    @classmethod
    def person(cls, user: str) -> "Target":
        return cls(PERSON, user)

    @classmethod
    def thread(cls, channel: str, ts: str) -> "Target":
        return cls(THREAD, channel, ts)

    @classmethod
    def reply(cls, outbox_id: int) -> "Target":
        return cls(REPLY, str(outbox_id))

    @classmethod
    def reply_hook(cls, channel: str, url: str, *, replace: bool = False) -> "Target":
        return cls(REPLACE if replace else RESPONSE, channel, url)

    def encode(self) -> tuple[str, str]:
        """The outbox's ``target_kind`` and ``target`` columns."""
        return self.kind, str(self)

    @classmethod
    def decode(cls, kind: str, target: str) -> "Target":
        if separator := _SEPARATOR.get(kind):
            address, _, ref = target.partition(separator)
            return cls(kind, address, ref)
        return cls(kind, target)

    def __str__(self) -> str:
        """The ``target`` column: the address, and the ref where the kind has one."""
        separator = _SEPARATOR.get(self.kind)
        return f"{self.address}{separator}{self.ref}" if separator else self.address
