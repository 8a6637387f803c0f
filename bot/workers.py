"""The pools that run core calls: a few threads of this process, or worker processes of its own.

Adapters hand the pool a call, ``submit(fn, *args)``, which runs ``fn(core, *args)`` and returns
a Future of its result. ``maintbot serve`` runs the core in worker processes, so that the
serving process's event loop never competes for the GIL with command work and acknowledges at
once; tests, the console and in-memory databases keep the core in threads. A call whose
transaction queued a notice wakes the outbox courier when it returns.
"""

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.assembly import make_core
from bot.settings import Settings, configure_logging
from handlers.core import Core
from handlers.platforms import Platform
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
START_TIMEOUT = 60.0  # seconds for the worker processes to import and open the database


class ThreadWorkers:
    """The core on ``size`` threads of this process."""

    def __init__(self, core: Core, size: int) -> None:
        self.core = core
        self.size = size
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="core")

    def submit(self, fn: Callable[..., Any], *args) -> Future:
        return self._pool.submit(fn, self.core, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class ProcessWorkers:
    """The core in ``size`` processes of its own, each with its own database connections."""

    def __init__(
        self,
        settings: Settings,
        platforms: Mapping[str, Platform],
        size: int,
        wake: Callable[[], None],
    ) -> None:
        self.size = size
        self._settings, self._platforms, self._wake = settings, platforms, wake
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        """A pool whose processes are all started and ready (a broken configuration shows now).

        The pool starts a process for each call that finds none idle, so ``size`` calls that
        wait for one another at a barrier start them all."""
        context = multiprocessing.get_context("spawn")  # never fork a threaded process
        everyone = context.Barrier(self.size)
        pool = ProcessPoolExecutor(
            self.size,
            mp_context=context,
            initializer=_open_core,
            initargs=(self._settings, self._platforms, everyone),
        )
        for ready in [pool.submit(_ready) for _ in range(self.size)]:
            ready.result(timeout=START_TIMEOUT)
        return pool

    def submit(self, fn: Callable[..., Any], *args) -> Future:
        outer: Future = Future()
        pool = self._pool
        try:
            inner = pool.submit(_call, fn, args)
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh
            inner = self._restart(pool).submit(_call, fn, args)
        inner.add_done_callback(lambda done: self._settle(done, outer))
        return outer

    def _restart(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is broken:
                log.error("a core worker process died; starting the workers again")
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()
            return self._pool

    def _settle(self, done: Future, outer: Future) -> None:
        try:
            result, queued = done.result()
        except BaseException as exc:
            outer.set_exception(exc)
            return
        if queued:
            self._wake()
        outer.set_result(result)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


# --- in the worker processes ----------------------------------------------------------------

_core: Core | None = None
_everyone = None  # the start-up barrier of this process's pool
_queued = False  # whether the current call's transactions queued a notice


def _open_core(settings: Settings, platforms: Mapping[str, Platform], everyone) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    configure_logging(settings.log_level)
    global _core, _everyone
    _everyone = everyone
    db = Database(settings.database_url)  # migrated by the serving process
    db.after_commit_adding(OutboxMessage, _mark_queued)
    _core = make_core(settings, platforms=platforms, db=db)
    # the catalogs compiled now (about a second), not in the first command's answer
    _core.i18n.catalogs  # noqa: B018
    log.info("core worker process %d ready", os.getpid())


def _mark_queued() -> None:
    global _queued
    _queued = True


def _ready() -> int:
    _everyone.wait(START_TIMEOUT)
    return os.getpid()


def _call(fn: Callable[..., Any], args: tuple) -> tuple[Any, bool]:
    global _queued
    _queued = False
    return fn(_core, *args), _queued


CoreWorkers = ThreadWorkers | ProcessWorkers  # what adapters submit to; whoever made it closes it
