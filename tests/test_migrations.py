"""The migrations build exactly the schema the models describe, on every backend."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from storage import migrate
from storage.db import Database
from storage.models import Base


@pytest.fixture
def empty_db(empty_url):
    database = Database(empty_url)
    yield database
    database.dispose()


def _tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names())


def _differences(database: Database, metadata: MetaData) -> list:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "target_metadata": metadata}
        )
        return compare_metadata(context, metadata)


def test_upgrade_from_empty_reaches_head(empty_db):
    assert _tables(empty_db) == set()
    assert migrate.current(empty_db.engine) is None

    migrate.upgrade(empty_db.engine)

    assert migrate.head() is not None
    assert migrate.current(empty_db.engine) == migrate.head()
    assert _tables(empty_db) == set(Base.metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_the_models(empty_db):
    migrate.upgrade(empty_db.engine)

    assert _differences(empty_db, Base.metadata) == []


def test_the_comparison_would_notice_a_difference(empty_db):
    """Guard against a vacuous comparison: a column the migrations lack is reported."""
    migrate.upgrade(empty_db.engine)
    extended = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(extended)
    Table("deadlines", extended, Column("extra", Integer), extend_existing=True)

    diffs = _differences(empty_db, extended)

    assert [(d[0], d[3].name) for d in diffs if d[0] == "add_column"] == [("add_column", "extra")]


def test_downgrade_to_base_leaves_only_the_version_table(empty_db):
    migrate.upgrade(empty_db.engine)

    migrate.downgrade(empty_db.engine, "base")

    assert _tables(empty_db) == {"alembic_version"}
    assert migrate.current(empty_db.engine) is None


def test_upgrade_again_after_downgrade(empty_db):
    migrate.upgrade(empty_db.engine)
    migrate.downgrade(empty_db.engine, "base")
    migrate.upgrade(empty_db.engine)

    assert migrate.current(empty_db.engine) == migrate.head()
    assert _differences(empty_db, Base.metadata) == []


def test_upgrade_is_idempotent(empty_db):
    migrate.upgrade(empty_db.engine)
    migrate.upgrade(empty_db.engine)

    assert migrate.current(empty_db.engine) == migrate.head()
    assert _tables(empty_db) == set(Base.metadata.tables) | {"alembic_version"}
    assert _differences(empty_db, Base.metadata) == []
