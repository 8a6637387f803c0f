"""Reading the organisation file (YAML or TOML) into the domain's OrgConfig."""

import tomllib
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.settings import SettingsError
from handlers.orgconfig import Organisation
from handlers.workflows import OrgConfig

DEMO_ORG = Path(__file__).with_name("demo_org.yaml")


def load_org(path: Path | None) -> Organisation:
    """The organisation in ``path``; an empty organisation when no file is configured."""
    if path is None:
        return OrgConfig()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        return OrgConfig.model_validate(data or {})
    except (OSError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(
            f"invalid organisation file {path} (MAINTBOT_CONFIG): {_one_line(exc)}"
        ) from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(
            f"invalid organisation file {path} (MAINTBOT_CONFIG): {where}: {message}"
        ) from None


def _one_line(exc: Exception) -> str:
    """A parse error as one line: PyYAML's own text spans several, with a source excerpt."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())
