"""Wiring: settings → database (migrated) → core → outbox delivery → scheduler."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler

from bot.assembly import make_core
from bot.delivery import Deliverer, Outgoing, Sender
from bot.settings import Settings
from handlers.clock import Clock
from handlers.core import DELIVERY_SUBJECT, Core
from handlers.i18n import I18n
from handlers.orgconfig import Organisation
from handlers.targets import REPLY_HOOKS
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
# The courier is woken by every commit that queues a notice; it also looks this often for
# retries that came due (their backoff is seconds to minutes, so a little later is harmless).
COURIER_POLL = 2.0
SENDERS = 8  # recipients served at once by the courier


@dataclass
class Runtime:
    settings: Settings
    db: Database
    core: Core
    deliverer: Deliverer
    scheduler: BackgroundScheduler = field(init=False)
    _wake: threading.Event = field(init=False, default_factory=threading.Event)
    _stopping: threading.Event = field(init=False, default_factory=threading.Event)
    _courier: threading.Thread | None = field(init=False, default=None)

    def tick(self) -> None:
        """One round of background work: fire due deadlines, then send due notices."""
        self.sweep()
        self.deliver()

    def sweep(self, batch: int = 200) -> None:
        """Fire everything due, a batch per transaction (a burst is drained, not trickled)."""
        try:
            while self.core.sweep_deadlines(batch) == batch:
                pass
        except Exception:
            log.exception("deadline sweep failed; retrying on the next one")

    def deliver(self) -> None:
        try:
            while self.deliverer.run_once():
                pass
        except Exception:
            log.exception("outbox delivery failed; retrying on the next round")

    def housekeeping(self) -> None:
        """Forget what is past its use: inbound dedupe records, and whatever a sender keeps
        (its optional ``housekeeping()``: WeCom's expired response codes)."""
        senders = self.deliverer.senders.values()
        kept = [sender.housekeeping for sender in senders if hasattr(sender, "housekeeping")]
        for tidy in (self.core.forget_inbound, *kept):
            try:
                tidy()
            except Exception:
                log.exception("housekeeping failed; retrying on the next round")

    def wake(self) -> None:
        """Have the courier look at the outbox now (a notice was queued elsewhere)."""
        self._wake.set()

    def _courier_loop(self, interval: float) -> None:
        """Hand notices to the senders as soon as a unit of work queues one or a recipient is
        free again, and every ``interval`` anyway."""
        while not self._stopping.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            try:
                while self.deliverer.pump(self.wake):
                    pass
            except Exception:
                log.exception("outbox delivery failed; retrying on the next round")

    def start_background(self, interval_seconds: float = 2.0) -> None:
        self.db.after_commit_adding(OutboxMessage, self.wake)
        self._courier = threading.Thread(
            target=self._courier_loop, args=(COURIER_POLL,), name="outbox", daemon=True
        )
        self._courier.start()
        self.scheduler = BackgroundScheduler(timezone=self.settings.tz)
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=interval_seconds,
            id="deadlines",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        for job in self.core.periodic:  # the workflows' own (a countdown round)
            self.scheduler.add_job(
                self.core.run_periodic, "interval", seconds=job.every.total_seconds(),
                args=(job,), id=job.name, max_instances=1, coalesce=True, replace_existing=True,
            )  # fmt: skip
        self.scheduler.add_job(
            self.housekeeping, "interval", minutes=10, id="housekeeping",
            max_instances=1, coalesce=True, replace_existing=True,
        )  # fmt: skip
        self.scheduler.start()

    def stop(self) -> None:
        if getattr(self, "scheduler", None) and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._courier is not None:
            self._stopping.set()
            self._wake.set()
            self._courier.join()
        if self.deliverer.pool is not None:
            self.deliverer.pool.shutdown(wait=True)
        self.db.dispose()


def build(
    settings: Settings,
    *,
    senders: dict[str, Sender],
    org: Organisation | None = None,
    clock: Clock | None = None,
    db: Database | None = None,
    i18n: I18n | None = None,
) -> Runtime:
    """The runtime of the platforms ``senders`` deliver to: the core (seeded) and its outbox."""
    platforms = {name: sender.platform for name, sender in senders.items()}
    core = make_core(settings, platforms=platforms, db=db, clock=clock, i18n=i18n, org=org)
    core.seed()

    def report(item: Outgoing, reason: str) -> None:
        # Not reported: a failing report (no loop), and an expired reply hook (response URLs
        # live 30 minutes; nothing for an admin to fix, and the URL itself is a credential).
        if item.subject != DELIVERY_SUBJECT and item.to.kind not in REPLY_HOOKS:
            core.report_failure(item.platform, str(item.to), reason)

    pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="send")
    deliverer = Deliverer(core.db, core.clock, senders, on_give_up=report, pool=pool)
    return Runtime(settings, core.db, core, deliverer)
