"""Settings from the environment (and a ``.env`` file), validated once at start-up."""

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class SettingsError(Exception):
    """One clear line naming the bad setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MAINTBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///maintbot.sqlite3"
    config: Path | None = None
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh", "en"] = "zh"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except Exception as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in ("sqlite", "postgresql", "mysql", "mariadb"):
            raise ValueError("use sqlite, postgresql+psycopg or mysql+pymysql")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _config_unset(cls, value):
        """``MAINTBOT_CONFIG=`` (empty, as a .env template leaves it) means no file, not "."."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("config")
    @classmethod
    def _config(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides) -> Settings:
    """Settings, or a SettingsError whose message names the environment variable at fault."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        name = "MAINTBOT_" + str(first["loc"][0]).upper() if first["loc"] else "MAINTBOT_*"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {name}: {message}") from None
