"""Settings from the environment (and a ``.env`` file), validated once at start-up."""

import logging
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from handlers.attachments.files import CATEGORIES, DEFAULT_TYPES, MB, FileRules


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
    # the secret part of the feeds' URLs (/feeds/<token>/<name>, e.g. the shutdown calendar
    # people subscribe to): unset, no feed is served
    feed_token: str | None = Field(None, min_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    # attachments (photos, logs posted to a repair): where the files are kept (default: a
    # maintbot-files directory beside the SQLite database file; for PostgreSQL and MariaDB, in
    # the working directory), the largest file taken (MB) and the types taken (categories:
    # image, pdf, text, office, zip; or extensions such as .dwg), comma-separated
    files_dir: Path | None = None
    attachment_max_mb: float = Field(25.0, gt=0, le=1024)
    attachment_types: str = ",".join(DEFAULT_TYPES)
    # Slack: the bot token (xoxb-), the signing secret, the app-level token (xapp-) for
    # Socket Mode, and the Web API's base URL (tests point it at a local fake).
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # WeCom (企业微信): the corp, the app (agent id and secret), the callback's token and
    # EncodingAESKey, and the server API's base URL (tests point it at a local fake).
    wecom_corp_id: str | None = Field(None, validation_alias="WECOM_CORP_ID")
    wecom_agent_id: int | None = Field(None, validation_alias="WECOM_AGENT_ID")
    wecom_secret: str | None = Field(None, validation_alias="WECOM_SECRET")
    wecom_token: str | None = Field(None, validation_alias="WECOM_TOKEN")
    wecom_aes_key: str | None = Field(None, validation_alias="WECOM_AES_KEY")
    wecom_api_url: str = Field(
        "https://qyapi.weixin.qq.com/cgi-bin/", validation_alias="WECOM_API_URL"
    )

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

    @field_validator("files_dir", mode="before")
    @classmethod
    def _files_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("attachment_types")
    @classmethod
    def _types(cls, value: str) -> str:
        types = [t.strip().lower() for t in value.split(",") if t.strip()]
        wrong = [t for t in types if t not in CATEGORIES and not (t.startswith(".") and len(t) > 1)]
        if wrong or not types:
            known = ", ".join(CATEGORIES)
            raise ValueError(f"unknown type {', '.join(wrong) or '(none)'}: {known} or .ext")
        return ",".join(types)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb-")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        return value or None

    @field_validator("slack_api_url", "wecom_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http(s) URL, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("wecom_corp_id", "wecom_secret", "wecom_token", "wecom_aes_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("wecom_agent_id", mode="before")
    @classmethod
    def _agent_id(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("wecom_aes_key")
    @classmethod
    def _aes_key(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 43:
            raise ValueError("the EncodingAESKey is 43 characters (WeCom's admin console)")
        return value

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def wecom_enabled(self) -> bool:
        return self.wecom_corp_id is not None and not self.wecom_missing()

    def wecom_missing(self) -> list[str]:
        """The WeCom variables still unset once any of them is set (a half configuration)."""
        values = {
            "WECOM_CORP_ID": self.wecom_corp_id,
            "WECOM_AGENT_ID": self.wecom_agent_id,
            "WECOM_SECRET": self.wecom_secret,
            "WECOM_TOKEN": self.wecom_token,
            "WECOM_AES_KEY": self.wecom_aes_key,
        }
        if not any(v is not None for v in values.values()):
            return []
        return [name for name, value in values.items() if value is None]

    def files_directory(self) -> Path:
        """Where attachments are kept: the setting; else beside the SQLite database file (it
        is backed up with it); else (PostgreSQL, MariaDB, in memory) the working directory."""
        if self.files_dir is not None:
            return self.files_dir.resolve()
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return (Path(url.database).resolve().parent / "maintbot-files").resolve()
        return Path("maintbot-files").resolve()

    def file_rules(self) -> FileRules:
        return FileRules(
            self.files_directory(),
            int(self.attachment_max_mb * MB),
            tuple(self.attachment_types.split(",")),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides) -> Settings:
    """Settings, or a SettingsError whose message names the environment variable at fault."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        loc = str(first["loc"][0]) if first["loc"] else "*"
        name = loc if loc.isupper() else "MAINTBOT_" + loc.upper()
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {name}: {message}") from None


def configure_logging(level: str) -> None:
    """The log format and levels of every maintbot process."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic logs seven "setup plugin" lines at INFO on every run; keep "Running upgrade".
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line a second otherwise
    logging.getLogger("apscheduler.scheduler").addFilter(_coalesced)


def _coalesced(record: logging.LogRecord) -> bool:
    """Drop APScheduler's "skipped: maximum number of running instances reached": that is how
    a sweep longer than its interval coalesces, not a fault; its other warnings stay."""
    return "maximum number of running instances" not in record.getMessage()
