"""The outbox delivery worker: claims due notices, sends them through their platform's sender,
retries with exponential backoff, and records the platform's message reference.

A row is claimed with a compare-and-set (pending → sending, with a lease and a claim token),
so two workers never send the same row, and a worker whose lease ran out cannot overwrite the
outcome of the claim that replaced it. A worker that dies mid-send leaves a lease that
expires; the row is then sent again — the one case where a notice can arrive twice, and only
after a crash.
"""

import logging
import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import or_, select, update

from handlers.clock import Clock
from handlers.messages import Message, from_dict
from handlers.platforms import Platform
from handlers.targets import CHANNEL, REPLY, Target
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send failed. ``permanent`` failures are not retried; ``retry_after`` is in seconds."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outgoing:
    """One claimed outbox row, detached from the database."""

    id: int
    platform: str
    to: Target
    locale: str
    subject: str | None
    message: Message
    attempt: int
    claim: str  # finishing is conditional on this claim still being the current one
    replaces: str | None = None  # for an update: the platform's reference to the message


class Sender(Protocol):
    """Delivers one platform's notices. A sender that keeps state which expires may also have
    ``housekeeping()``, which the runtime calls every few minutes."""

    platform: Platform  # what the domain may know of it (how it shows a changing card)

    def send(self, item: Outgoing) -> str | None:
        """Deliver one notice, or rewrite the message ``item.replaces`` refers to; return the
        platform's reference to the message (or None)."""
        ...


@dataclass
class Deliverer:
    db: Database
    clock: Clock
    senders: dict[str, Sender]
    max_attempts: int = 10
    base_delay: float = 2.0
    max_delay: float = 900.0
    lease: float = 120.0
    # told about every notice given up on (failed or dead), e.g. to report it to the admins
    on_give_up: Callable[[Outgoing, str], None] | None = None
    pool: Executor | None = None  # for ``pump``: several recipients served at once
    _serving: set[str] = field(default_factory=set, init=False)  # recipients being sent to
    _serving_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def pump(self, on_free: Callable[[], None], limit: int = 50) -> int:
        """Hand what is due to the ``pool`` and return at once: each recipient's messages go out
        as one task, in order. A recipient still being served is left out of the claim (its
        next messages wait their turn, so its order holds) while others go on; ``on_free`` is
        called when it is free again. Returns how many rows were claimed."""
        with self._serving_lock:
            busy = set(self._serving)
            items = self._claim(limit, skip=busy)
            queues: dict[str, list[Outgoing]] = {}
            for item in items:
                queues.setdefault(str(item.to), []).append(item)
            self._serving.update(queues)
        for target, queue in queues.items():
            self.pool.submit(self._serve, target, queue, on_free)
        return len(items)

    def _serve(self, target: str, queue: list[Outgoing], on_free: Callable[[], None]) -> None:
        try:
            for item in queue:
                self._deliver(item)
        finally:
            with self._serving_lock:
                self._serving.discard(target)
            on_free()

    def run_once(self, limit: int = 50) -> int:
        """Send what is due now, here, in order, and return how many rows were attempted (the
        console's turn-by-turn delivery and the tests; a served bot's courier uses ``pump``)."""
        items = self._claim(limit)
        for item in items:
            self._deliver(item)
        return len(items)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 15 min."""
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * random.uniform(0.8, 1.2)

    def _claimable(self, now):
        return or_(
            OutboxMessage.status == "pending",
            (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < now),
        )

    def _claim(self, limit: int, skip: set[str] = frozenset()) -> list[Outgoing]:
        now = self.clock.now()
        claimed: list[Outgoing] = []
        # an outbox row is at least once anyway: a claim or a "sent" forgotten by a crashed
        # database server means a lease that expires and a notice that may go out again
        with self.db.unit_of_work(durable=False) as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(
                    self._claimable(now),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.platform.in_(list(self.senders)),
                    OutboxMessage.target.not_in(list(skip)),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            ).all()
            for row in rows:
                replaces = self._original_ref(session, row, now) if row.replaces_id else None
                if row.replaces_id and replaces is None:
                    continue
                if row.target_kind == REPLY and not self._thread_of(session, row, now):
                    continue
                if row.target in skip:  # a reply now in a thread being served: its turn waits
                    continue
                token = uuid.uuid4().hex
                won = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, self._claimable(now))
                    .values(
                        status="sending",
                        claim=token,
                        lease_until=now + timedelta(seconds=self.lease),
                        attempts=OutboxMessage.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won == 1:
                    claimed.append(
                        Outgoing(
                            row.id,
                            row.platform,
                            Target.decode(row.target_kind, row.target),
                            row.locale,
                            row.subject,
                            from_dict(row.payload),
                            row.attempts + 1,
                            token,
                            replaces,
                        )
                    )
        return claimed

    def _original_ref(self, session, row: OutboxMessage, now) -> str | None:
        """The platform reference an update rewrites, once its original is sent.

        Only the newest pending update of a message matters: older ones are superseded. An
        update whose original could not be delivered fails with it; one whose original is
        still on its way waits for it.
        """
        newer = session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.replaces_id == row.replaces_id,
                OutboxMessage.id > row.id,
                OutboxMessage.status == "pending",
            )
        )
        original = session.get(OutboxMessage, row.replaces_id)
        if newer is not None or original.status in ("failed", "dead"):
            row.status = "superseded" if newer is not None else "failed"
            row.last_error = None if newer is not None else "the original message was not sent"
        elif original.status == "sent" and original.external_ref:
            return original.external_ref
        elif original.status == "sent":
            row.status, row.last_error = "failed", "the original message has no reference"
        else:
            row.next_attempt_at = max(original.next_attempt_at, now + timedelta(seconds=1))
        return None

    def _thread_of(self, session, row: OutboxMessage, now) -> bool:
        """Make a reply under a posted message a THREAD row once that message is sent (the
        channel itself when it was sent without a reference or never will be); False while it
        is still on its way (the reply waits for it)."""
        parent = session.get(OutboxMessage, int(row.target)) if row.target.isdigit() else None
        if parent is None:
            row.status, row.last_error = "failed", f"no message {row.target} to reply under"
            return False
        channel, _, ts = (parent.external_ref or "").partition(":")
        if parent.status == "sent" and channel and ts:
            to = Target.thread(channel, ts)
        elif parent.status in ("sent", "failed", "dead"):
            to = Target(CHANNEL, parent.target)
        else:
            row.next_attempt_at = max(parent.next_attempt_at, now + timedelta(seconds=1))
            return False
        row.target_kind, row.target = to.encode()
        return True

    def _deliver(self, item: Outgoing) -> None:
        try:
            reference = self.senders[item.platform].send(item)
        except DeliveryError as err:
            self._failed(item, str(err), err.permanent, err.retry_after)
        except Exception as err:  # a bug or an unexpected transport error: retry, loudly
            log.exception("outbox %s: sender raised", item.id)
            self._failed(item, repr(err), False, None)
        else:
            self._finish(item, status="sent", external_ref=reference, sent_at=self.clock.now())

    def _failed(self, item: Outgoing, reason: str, permanent: bool, retry_after) -> None:
        if permanent or item.attempt >= self.max_attempts:
            status = "failed" if permanent else "dead"
            log.error("outbox %s to %s:%s %s: %s", item.id, item.platform, item.to, status, reason)
            self._finish(item, status=status, last_error=reason[:2000])
            if self.on_give_up is not None:
                self.on_give_up(item, reason)
            return
        delay = max(retry_after or 0.0, self.backoff(item.attempt))
        log.warning(
            "outbox %s attempt %s failed (%s); retry in %.0f s",
            item.id,
            item.attempt,
            reason,
            delay,
        )
        self._finish(
            item,
            status="pending",
            last_error=reason[:2000],
            next_attempt_at=self.clock.now() + timedelta(seconds=delay),
        )

    def _finish(self, item: Outgoing, **values) -> None:
        with self.db.unit_of_work(durable=False) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id, OutboxMessage.claim == item.claim)
                .values(lease_until=None, claim=None, **values)
                .execution_options(synchronize_session=False)
            )
