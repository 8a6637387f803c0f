"""Scratch space for one run: a temporary directory, and maintbot's database (a fresh SQLite
file or a scratch PostgreSQL database) with a lock that stops every maintbot unit of work."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.kit.servers import SetupError


@contextlib.contextmanager
def scratch_dir(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A temporary directory for servers' logs and databases, removed afterwards unless
    ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


class ScratchDatabase:
    """maintbot's database for one run: a fresh SQLite file in ``workdir``, or a scratch
    PostgreSQL database created on ``admin_url``'s server and dropped afterwards."""

    def __init__(self, kind: str, workdir: Path, admin_url: str | None = None) -> None:
        self.kind, self.workdir, self.admin_url = kind, workdir, admin_url

    def __enter__(self) -> ScratchDatabase:
        if self.kind == "sqlite":
            self.path = self.workdir / "maintbot.sqlite3"
            self.url = f"sqlite:///{self.path}"
            self.label, self.lock_name = f"SQLite {self.path}", "SQLite locked"
            return self
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = make_url(self.admin_url)
        self.name = f"maintbot_bench_{os.getpid()}_{int(time.time())}"
        self.engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {self.name}"))
        except Exception as exc:
            raise SetupError(f"cannot create a scratch database on {admin!r}: {exc}") from None
        url = admin.set(database=self.name)
        self.url = url.render_as_string(hide_password=False)
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.label = f"PostgreSQL {url.render_as_string(hide_password=True)}"
        self.lock_name = "table people locked"
        return self

    def __exit__(self, *exc) -> None:
        if self.kind != "sqlite":
            from sqlalchemy import text

            with self.engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
            self.engine.dispose()

    @contextlib.contextmanager
    def locked(self) -> Iterator[float]:
        """Hold the lock; yields the seconds it took to get it."""
        t0 = time.perf_counter()
        if self.kind == "sqlite":
            # every maintbot unit of work begins with BEGIN IMMEDIATE: they all wait on this
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            try:
                con.execute("BEGIN EXCLUSIVE")
                yield round(time.perf_counter() - t0, 3)
                con.execute("ROLLBACK")
            finally:
                con.close()
            return
        import psycopg

        # every command starts by finding its caller in people; ACCESS EXCLUSIVE stops reads too
        with psycopg.connect(self.conninfo) as con:
            con.execute("LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
            yield round(time.perf_counter() - t0, 3)
            con.rollback()


class HeldLock(threading.Thread):
    """Takes ``db``'s lock ``after`` seconds from ``start()`` and holds it for ``seconds``;
    ``times`` says when (seconds from ``start()``) and how long getting it took."""

    def __init__(self, db: ScratchDatabase, seconds: float, after: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.db, self.seconds, self.after = db, seconds, after
        self.acquired = threading.Event()
        self.times: dict[str, float] = {}

    def start(self) -> None:
        self.started_at = time.perf_counter()
        super().start()

    def run(self) -> None:
        time.sleep(self.after)
        with self.db.locked() as waited:
            self.times["acquired_at"] = round(time.perf_counter() - self.started_at, 2)
            self.times["waited_for_lock_s"] = round(waited, 2)
            self.acquired.set()
            time.sleep(self.seconds)
        self.times["released_at"] = round(time.perf_counter() - self.started_at, 2)
