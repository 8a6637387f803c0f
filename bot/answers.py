"""Answer scheduling, one for every adapter: where a core call runs and where its answer goes.

An adapter turns a request into a ``Job`` (a core call, who made it, where its answer goes) and
hands it to ``Answers``, which runs it on the core's workers (``bot.workers``), counting the jobs
not finished yet (the queue):

- ``later(job)``: the request was acknowledged at once (WeCom's callbacks, Slack's clicks and
  events); the job queues the answer in the outbox.
- ``ask(job, carry, ack)``: the acknowledgement may carry the answer (Slack's commands and
  forms). When the queue is short the job gets a deadline: finished by then, it returns what the
  acknowledgement can carry (``carry``) and queues the rest; finished later, it queues it all.
  The acknowledgement waits until a little past the deadline (the answer's way back); an answer
  that comes back after it went anyway is queued then, by a job of its own. When the queue is
  long the acknowledgement does not wait: the job queues the answer.
- past ``max_backlog`` jobs the adapter is ``overloaded`` and refuses a command or a form with a
  "try again" rather than queue it for minutes (clicks and events are queued anyway: Slack does
  not resend a click, and an event was already seen).

So an answer reaches the outbox from the job that computed it: one crossing, one transaction.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace

from bot.workers import CoreWorkers
from handlers.context import Origin
from handlers.core import Core
from handlers.messages import File, Message, refusal
from handlers.targets import REPLACE, RESPONSE, Target

log = logging.getLogger(__name__)

SHORT_QUEUE = 8  # jobs per worker (a few ms each) an acknowledgement still waits behind
WAY_BACK = 0.2  # seconds allowed for an answer to come back from a worker to the acknowledgement

# What an acknowledgement carries of an answer; the rest goes through the outbox.
MESSAGES = "messages"  # all but files (Slack's ephemeral answer to a command)
REFUSAL = "refusal"  # a lone refusal (a form's error on its field; anything else closes the form)


@dataclass(frozen=True)
class Job:
    """A core call made for ``origin``, and where its answer goes when it is not carried."""

    origin: Origin
    call: tuple  # (fn, *args): ``fn(core, *args)`` returns the answer, a list of messages
    to: Target
    files: Target | None = None  # where its files go instead (Slack shows them in the DM)
    once: str | None = None  # the delivery's key on its platform: a redelivery is not run again


def answer(
    core: Core, job: Job, deadline: float | None = None, carry: str | None = None
) -> list[Message] | None:
    """Run ``job`` (on a worker). Finished by ``deadline`` (wall-clock), return what the
    acknowledgement carries and queue the rest; finished later, or with no deadline, queue it
    all and return None."""
    if job.once is not None and not core.first_time(job.origin.platform, job.once):
        return None
    fn, *args = job.call
    replies = fn(core, *args)
    if deadline is None or time.time() > deadline:
        queue(core, job, replies)
        return None
    if carry == REFUSAL:
        carried = replies if refusal(replies) is not None else []
    else:
        carried = [m for m in replies if not isinstance(m, File)]
    queue(core, job, [m for m in replies if not any(m is c for c in carried)])
    return carried


def queue(core: Core, job: Job, messages: list[Message]) -> None:
    """Queue ``messages`` where ``job`` says, in one transaction. On a hook that replaces the
    clicked message the first one replaces it and the others follow it."""
    to, addressed = job.to, []
    for message in messages:
        if job.files is not None and isinstance(message, File):
            continue
        addressed.append((to, message))
        if to.kind == REPLACE:
            to = replace(to, kind=RESPONSE)
    if job.files is not None:
        addressed += [(job.files, m) for m in messages if isinstance(m, File)]
    addressed = [(target, m) for target, m in addressed if str(target).strip()]
    if addressed:
        core.reply_later(job.origin, addressed)


def notice(core: Core, origin: Origin, key: str, **params) -> list[Message]:
    """A catalog message as an answer (a call for a ``Job``)."""
    return [core.notice_for(origin, key, **params)]


@dataclass
class Pending:
    """A job whose answer may still go in the acknowledgement."""

    future: Future  # of ``answer``: what the acknowledgement carries, or None
    until: float  # the wall-clock time the acknowledgement waits until
    ack: Callable[[list[Message] | None], dict]  # its content: the answer carried, or None
    late: Callable[[list[Message]], None]  # queues an answer that came back too late

    def settled(self) -> dict:
        """The acknowledgement's content now; an answer still to come is queued when it does."""
        if not self.future.done():
            self.future.add_done_callback(self._too_late)  # at once if it has just finished
            return self.ack(None)
        if self.future.exception() is not None:  # logged by Answers: a bare acknowledgement
            return {}
        return self.ack(self.future.result())

    def _too_late(self, done: Future) -> None:
        if done.exception() is None and (replies := done.result()):
            self.late(replies)

    def settle_blocking(self) -> dict:
        with contextlib.suppress(Exception):  # not in time, or failed: settled() says which
            self.future.result(timeout=max(0.0, self.until - time.time()))
        return self.settled()

    async def settle(self) -> dict:
        """The same as settle_blocking, awaited on an event loop."""
        wait = self.until - time.time()
        if wait > 0 and not self.future.done():
            await asyncio.wait([asyncio.wrap_future(self.future)], timeout=wait)
        return self.settled()


class Answers:
    """Runs the adapters' jobs on the core's workers and decides where each answer goes."""

    def __init__(
        self,
        core: Core,
        workers: CoreWorkers,
        *,
        budget: float = 1.5,
        max_backlog: int = 200,
    ) -> None:
        self.core = core  # runs a job here and now once the workers are shutting down
        self.workers = workers
        self.budget = budget  # seconds an acknowledgement may wait for its answer
        self.max_backlog = max_backlog
        self.busy = 0  # jobs submitted and not finished
        self._lock = threading.Lock()

    @property
    def overloaded(self) -> bool:
        return self.busy >= self.max_backlog

    def run(self, fn: Callable, *args) -> Future:
        """``fn(core, *args)`` on the workers, counted; a failure is logged."""
        with self._lock:
            self.busy += 1
        try:
            future = self.workers.submit(fn, *args)
        except RuntimeError:  # shutting down: a late answer is still queued, here and now
            future = Future()
            try:
                future.set_result(fn(self.core, *args))
            except Exception as exc:
                future.set_exception(exc)
        future.add_done_callback(self._done)
        return future

    def _done(self, done: Future) -> None:
        with self._lock:
            self.busy -= 1
        if (error := done.exception()) is not None:
            log.error("core call failed", exc_info=error)

    def later(self, job: Job) -> None:
        """Run ``job``; its answer goes through the outbox."""
        self.run(answer, job)

    def ask(self, job: Job, carry: str, ack: Callable[[list[Message] | None], dict]) -> Pending:
        """Run ``job``; the acknowledgement ``ack`` makes may carry its answer (``carry``)."""
        now = time.time()
        if self.busy < self.workers.size * SHORT_QUEUE:
            until = now + self.budget
            future = self.run(answer, job, until - WAY_BACK, carry)
        else:
            until, future = now, self.run(answer, job)
        return Pending(future, until, ack, lambda replies: self.run(queue, job, replies))
