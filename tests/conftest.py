"""Shared fixtures: databases (SQLite always; PostgreSQL and MariaDB when asked), a fake clock,
and a ``Chat`` that drives the core as people from a small organisation.

``MAINTBOT_TEST_DATABASES`` (comma list, default ``sqlite``) chooses the backends; CI sets
``sqlite,postgresql,mariadb``. A requested backend that cannot be reached fails the run.

Every test fails when the product logged an ERROR it did not declare (``no_internal_errors``).
"""

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, delete, event, text
from sqlalchemy.engine import make_url

from handlers.clock import FakeClock
from handlers.workflows import OrgConfig
from storage import migrate
from storage.db import Database
from storage.models import Base
from tests.chat import Chat

SERVER_URLS = {
    "postgresql": os.environ.get(
        "MAINTBOT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "MAINTBOT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
    ),
}
BACKENDS = [
    b.strip() for b in os.environ.get("MAINTBOT_TEST_DATABASES", "sqlite").split(",") if b.strip()
]
ORG_FILE = Path(__file__).with_name("org.yaml")
# For modules whose behaviour does not depend on the backend: they run on SQLite only, while
# the storage, outbox, deadline and visit-transition modules (every locking and state path)
# run on every backend in MAINTBOT_TEST_DATABASES.
BACKEND_AGNOSTIC = pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
# Monday 2026-11-23 10:00 in Shanghai.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# The product's own loggers: the core, its timers and queue (handlers.*), the served bot and the
# outbox courier (bot.*), storage.*. Their ERRORs are caught failures nobody sees but in the log.
PRODUCT_LOGGERS = ("handlers", "bot", "storage")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "logs_errors(*loggers): the test provokes ERRORs from these loggers (and their children) "
        "on purpose, e.g. a delivery that gives up, in this process or in the served bot its "
        "module shares; any other ERROR still fails it",
    )


def undeclared(logger: str, allowed: tuple[str, ...]) -> bool:
    """A product logger that ``allowed`` (loggers declared by a test, children included) does
    not cover."""
    declared = any(logger == name or logger.startswith(name + ".") for name in allowed)
    return logger.split(".")[0] in PRODUCT_LOGGERS and not declared


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_internal_errors(request) -> Iterator[None]:
    """Fail a test when the product logged an ERROR: a command, a deadline firer, the outbox or
    an adapter caught an exception and answered politely, so only the log shows it. A test that
    provokes one on purpose declares its logger with ``@pytest.mark.logs_errors("bot.delivery")``.
    """
    marker = request.node.get_closest_marker("logs_errors")
    allowed = tuple(marker.args) if marker else ()
    collector = _ErrorRecords()
    loggers = [logging.getLogger(name) for name in PRODUCT_LOGGERS]
    for logger in loggers:
        logger.addHandler(collector)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(collector)
    unexpected = [r for r in collector.records if undeclared(r.name, allowed)]
    if unexpected:
        formatter = logging.Formatter("%(name)s: %(message)s")
        logged = "\n".join(formatter.format(r) for r in unexpected)
        pytest.fail(f"the product logged errors:\n{logged}", pytrace=False)


def _scratch_database(backend: str) -> Iterator[str]:
    """Create a throw-away database on a shared server and drop it afterwards."""
    admin_url = make_url(SERVER_URLS[backend])
    name = f"maintbot_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # pragma: no cover - only when a server is down
        pytest.fail(f"{backend} requested by MAINTBOT_TEST_DATABASES is unreachable: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(request, tmp_path_factory) -> Iterator[str]:
    """An empty database of each requested backend, for the whole session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'maintbot.sqlite3'}"
    else:
        yield from _scratch_database(request.param)


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path) -> Iterator[str]:
    """A brand-new, empty database of each requested backend, for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        yield from _scratch_database(request.param)


@pytest.fixture(scope="session")
def migrated_url(backend_url) -> str:
    database = Database(backend_url)
    migrate.upgrade(database.engine)
    database.dispose()
    return backend_url


def _sqlite_no_sync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


@pytest.fixture(scope="session")
def shared_database(migrated_url) -> Iterator[Database]:
    """One engine per backend for the run, so SQLAlchemy compiles each statement only once."""
    database = Database(migrated_url)
    if database.engine.dialect.name == "sqlite":
        # a throw-away file: skip the fsync on every commit (durability, not behaviour)
        event.listen(database.engine, "connect", _sqlite_no_sync)
    yield database
    database.dispose()


def _empty(database: Database) -> None:
    """Delete every row and restart the id counters, so every test's first visit is V-1."""
    tables = list(reversed(Base.metadata.sorted_tables))
    dialect = database.engine.dialect.name
    with database.unit_of_work() as session:
        if dialect == "postgresql":
            names = ", ".join(t.name for t in tables)
            session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        if dialect in ("mysql", "mariadb"):
            _empty_mariadb(session, tables)
            return
        for table in tables:
            session.execute(delete(table))


def _empty_mariadb(session, tables) -> None:
    # outbox rows refer to outbox rows (updates): MariaDB checks each deleted row at once
    session.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
    for table in tables:
        session.execute(delete(table))
    session.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    used = session.scalars(
        text(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT > 1"
        )
    ).all()
    for name in used:  # DDL: only where a counter moved
        session.execute(text(f"ALTER TABLE {name} AUTO_INCREMENT = 1"))


@pytest.fixture
def db(shared_database) -> Database:
    """A migrated database emptied before each test."""
    _empty(shared_database)
    return shared_database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def org_data() -> dict:
    return yaml.safe_load(ORG_FILE.read_text("utf-8"))


@pytest.fixture
def org(org_data) -> OrgConfig:
    """A fresh copy for each test (tests may change it); the file is parsed once."""
    return OrgConfig.model_validate(org_data)


@pytest.fixture
def chat(db, clock, org) -> Chat:
    return Chat.start(db, clock, org)


@pytest.fixture
def org_repairs(org_data) -> dict:
    """The test organisation with a repairs channel, erp-db (a database, owned by dan) and its
    specified spare parts, and a network checklist for the switches."""
    data = {**org_data}
    data["channels"] = {**org_data["channels"], "repairs": {"slack": "CREPAIRS"}}
    data["systems"] = [
        *org_data["systems"],
        {"name": "sw-core-1", "site": "SH1", "type": "network"},
    ]
    data["repairs"] = {
        "spare_parts": {"database": ["DDR4-32G-RDIMM", "SSD-960G"]},
        "checklists": {"network": ["hardware", "boot", "network", "redundancy"]},
    }
    return data


@pytest.fixture
def rchat(db, clock, org_repairs):
    return Chat.start(db, clock, OrgConfig.model_validate(org_repairs))
