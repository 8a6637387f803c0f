"""Every user-facing word comes from Jinja2 templates in ``templates/<locale>/``.

Short strings (labels, state names, errors) live in ``catalog.yaml``, one Jinja2 string per
key; longer messages are whole templates named ``<domain>_<event>.j2``.
"""

import re
from datetime import datetime, timedelta
from functools import cached_property
from importlib.resources import files
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FunctionLoader, StrictUndefined, Template, pass_context

from handlers import mdtext

LOCALES = ("zh", "en")


def _template_dir():
    return files("templates")


def _load_template(name: str) -> str | None:
    path = _template_dir().joinpath(name)
    return keep_line_breaks(path.read_text(encoding="utf-8")) if path.is_file() else None


_BLOCK_TAG = re.compile(r"\{%.*?%\}")


def keep_line_breaks(source: str) -> str:
    """Jinja's ``trim_blocks`` drops the line break after every block tag: right for a line of
    tags alone, wrong for a tag that ends a line of text (``…{% endif %}``), whose line would run
    into the next. Such a tag keeps its line break (it becomes ``+%}``)."""
    lines = source.split("\n")
    for i, line in enumerate(lines[:-1]):
        if line.endswith("%}") and line[-3] not in "+-" and _BLOCK_TAG.sub("", line).strip():
            lines[i] = line[:-2] + "+%}"
    return "\n".join(lines)


class I18n:
    """Renders catalog strings and templates in a locale, showing times in one time zone."""

    def __init__(self, tz: ZoneInfo, default_locale: str = "zh") -> None:
        self.tz = tz
        self.default_locale = default_locale if default_locale in LOCALES else "zh"
        self.env = Environment(
            loader=FunctionLoader(_load_template),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["dt"] = self.fmt
        self.env.filters["date"] = lambda value: self.local(value).strftime("%Y-%m-%d")
        self.env.filters["minutes"] = self._filter_minutes
        self.env.filters["md"] = mdtext.markdown_filter  # user text in a Markdown report
        self.env.globals["t"] = self._global_t

    @cached_property
    def catalogs(self) -> dict[str, dict[str, Template]]:
        result: dict[str, dict[str, Template]] = {}
        for locale in LOCALES:
            path = _template_dir().joinpath(locale, "catalog.yaml")
            raw = yaml.safe_load(path.read_text("utf-8"))
            result[locale] = {key: self.env.from_string(str(text)) for key, text in raw.items()}
        return result

    def locale(self, requested: str | None) -> str:
        return requested if requested in LOCALES else self.default_locale

    def has(self, locale: str, key: str) -> bool:
        return key in self.catalogs[self.locale(locale)]

    def t(self, locale: str | None, key: str, **params) -> str:
        """One catalog string; a missing key falls back to English, then to the key itself."""
        loc = self.locale(locale)
        template = self.catalogs[loc].get(key) or self.catalogs["en"].get(key)
        if template is None:
            return key
        return template.render(locale=loc, **params).strip()

    def render(self, locale: str | None, name: str, **params) -> str:
        loc = self.locale(locale)
        return self.env.get_template(f"{loc}/{name}.j2").render(locale=loc, **params).strip()

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.tz)

    def fmt(self, value: datetime | None) -> str:
        return "" if value is None else self.local(value).strftime("%Y-%m-%d %H:%M")

    @pass_context
    def _filter_minutes(self, ctx, value: int | timedelta) -> str:
        minutes = int(value.total_seconds() // 60) if isinstance(value, timedelta) else int(value)
        return self.t(ctx.get("locale"), "duration", hours=minutes // 60, minutes=minutes % 60)

    @pass_context
    def _global_t(self, ctx, key: str, **params) -> str:
        return self.t(ctx.get("locale"), key, **params)
