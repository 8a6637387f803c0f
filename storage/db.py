"""Engine creation and the unit of work: one transaction per command, action or timer."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with the per-backend settings the bot relies on."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        if url not in ("sqlite://", "sqlite:///:memory:"):
            # SQLite has one writer and every unit of work writes-locks (BEGIN IMMEDIATE): one
            # pooled connection hands the lock over in order, instead of threads polling
            # SQLite's busy handler with growing sleeps (the benchmark's p99 fell about 3x).
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 300)  # under overload a turn can take a while
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith(("mysql", "mariadb")):
        kwargs.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The sqlite3 driver's own transaction handling opens no transaction for SELECT or SAVEPOINT,
    # so work in a released savepoint (each deadline firer's) committed on its own. We begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL's recommended level: a commit survives a crash of the bot, and only the last ones can
    # be lost to a power cut; FULL would fsync every commit (each notice is three of them)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout): units of work run one
    # at a time, so a read-then-write never fails on a stale snapshot, and what PostgreSQL and
    # MariaDB get from FOR UPDATE (ignored by SQLite) holds here too.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        pool = self.engine.pool
        # how many units of work can run at once: more threads than this only queue for the pool
        self.connections = (
            pool.size() + max(0, pool._max_overflow) if hasattr(pool, "_max_overflow") else 1
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def in_memory(self) -> bool:
        """A SQLite database that lives in this process only."""
        url = self.engine.url
        return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")

    def after_commit_adding(self, model: type, callback) -> None:
        """Call ``callback()`` after every commit that added ``model`` rows (a wake-up)."""
        key = ("added", model)

        def flushing(session, _context, _instances) -> None:
            if any(isinstance(obj, model) for obj in session.new):
                session.info[key] = True

        def committed(session) -> None:
            if session.info.pop(key, False):
                callback()

        event.listen(self._sessions, "before_flush", flushing)
        event.listen(self._sessions, "after_commit", committed)
        event.listen(self._sessions, "after_rollback", lambda s: s.info.pop(key, None))

    @contextmanager
    def unit_of_work(self, *, durable: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        ``durable=False`` is for bookkeeping that is safe to redo: on PostgreSQL its commit does
        not wait for the disk (a crash of the database server may forget the last such commits,
        never corrupt anything)."""
        with self._sessions.begin() as session:
            if not durable and self.engine.dialect.name == "postgresql":
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
