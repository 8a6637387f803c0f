"""Shared fixtures: databases (SQLite always; PostgreSQL and MariaDB when asked), a fake clock,
and a ``Chat`` that drives the core as people from a small organisation.

``MAINTBOT_TEST_DATABASES`` (comma list, default ``sqlite``) chooses the backends; CI sets
``sqlite,postgresql,mariadb``. A requested backend that cannot be reached fails the run.
"""

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from handlers.clock import FakeClock
from handlers.orgconfig import OrgConfig
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
# Monday 2026-11-23 10:00 in Shanghai.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


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


@pytest.fixture(scope="session")
def migrated_url(backend_url) -> str:
    database = Database(backend_url)
    migrate.upgrade(database.engine)
    database.dispose()
    return backend_url


@pytest.fixture
def db(migrated_url) -> Iterator[Database]:
    """A migrated database emptied before each test."""
    database = Database(migrated_url)
    with database.unit_of_work() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def org() -> OrgConfig:
    return OrgConfig.model_validate(yaml.safe_load(ORG_FILE.read_text("utf-8")))


@pytest.fixture
def chat(db, clock, org) -> Chat:
    return Chat.start(db, clock, org)
