"""Reading the organisation file (YAML or TOML) into the domain's OrgConfig."""

import tomllib
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.settings import SettingsError
from handlers.orgconfig import OrgConfig

DEMO_ORG = Path(__file__).with_name("demo_org.yaml")


def load_org(path: Path | None) -> OrgConfig:
    """The organisation in ``path``; an empty organisation when no file is configured."""
    if path is None:
        return OrgConfig()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        return OrgConfig.model_validate(data or {})
    except (OSError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"invalid organisation file {path} (MAINTBOT_CONFIG): {exc}") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise SettingsError(
            f"invalid organisation file {path} (MAINTBOT_CONFIG): {where}: {first['msg']}"
        ) from None
