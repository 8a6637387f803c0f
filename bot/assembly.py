"""The core, assembled from the settings in one place: for ``maintbot serve`` (its serving process
and its worker processes) and the console alike."""

from collections.abc import Mapping

from bot.orgfile import load_org
from bot.settings import Settings, SettingsError
from handlers.clock import Clock, SystemClock
from handlers.core import Core
from handlers.i18n import I18n
from handlers.orgconfig import Organisation
from handlers.platforms import Platform
from storage import migrate
from storage.db import Database


def open_database(settings: Settings) -> Database:
    """The database, migrated when it is the embedded SQLite default; checked otherwise."""
    db = Database(settings.database_url)
    if db.engine.dialect.name == "sqlite":
        migrate.upgrade(db.engine)
        return db
    try:
        current = migrate.current(db.engine)
    except Exception as exc:
        exc = getattr(exc, "orig", None) or exc  # the driver's words, not SQLAlchemy's wrapper
        raise SettingsError(
            f"cannot reach MAINTBOT_DATABASE_URL: {exc.__class__.__name__}: {exc}"
        ) from None
    if current != migrate.head():
        raise SettingsError(
            f"the database is at revision {current or 'none'}, not {migrate.head()}: "
            "run `maintbot db upgrade` first"
        )
    return db


def make_core(
    settings: Settings,
    *,
    platforms: Mapping[str, Platform],
    db: Database | None = None,
    clock: Clock | None = None,
    i18n: I18n | None = None,
    org: Organisation | None = None,
) -> Core:
    """The core for the ``platforms`` served (their capabilities, as their senders declare
    them); what is not given comes from the settings (the database opened, and migrated or
    checked, by ``open_database``)."""
    org = org if org is not None else load_org(settings.config)  # a bad file fails first
    db = db if db is not None else open_database(settings)
    i18n = i18n or I18n(settings.tz, settings.locale)
    return Core(db, clock or SystemClock(), i18n, org, platforms, files=settings.file_rules())
