"""Forms: the fields a command takes, declared once. From one ``Form`` come the command's typed
options (with their aliases, in English and Chinese), the words typed without a name that fill
its required fields in order, the Slack modal, the list of what is missing that WeCom and the
console answer with, and the validation that turns typed text into the row's columns.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from handlers.errors import UserError
from handlers.grammar import is_time_of_day, parse_when, starts_a_time
from handlers.values import parse_bool, parse_duration, parse_list

Kind = Literal["text", "multiline", "datetime", "duration", "bool", "list"]
# (ctx, the typed values) -> columns; ctx is the handlers.context.Context of the command
Parser = Callable[[Any, dict[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class FormField:
    """One field: its option name and the words users may type for it, its kind (how a form
    asks for it and how its text is read), whether it is required, and where it goes: the
    ``column`` its value is stored in (cut to ``limit`` characters), or a ``parse`` of its own
    returning columns. ``instead``: options (of the command, typed only) that together may stand
    in for it; ``default``: the text it takes when left out (a form may then leave it empty)."""

    key: str
    kind: Kind = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    column: str | None = None
    limit: int | None = None
    parse: Parser | None = None
    instead: tuple[str, ...] = ()
    default: Callable[[Any], str | None] | None = None

    @property
    def optional(self) -> bool:
        """Whether a form may leave it empty."""
        return not self.required or self.default is not None

    def read(self, ctx: Any, values: dict[str, str]) -> dict[str, Any]:
        """The columns this field's typed text gives."""
        if self.parse is not None:
            return self.parse(ctx, values)
        text = values[self.key]
        value: Any = {
            "datetime": lambda: parse_when(text, now=ctx.now(), tz=ctx.i18n.tz),
            "duration": lambda: parse_duration(text),
            "bool": lambda: parse_bool(text),
            "list": lambda: parse_list(text),
        }.get(self.kind, lambda: text[: self.limit] if self.limit else text)()
        return {self.column or self.key: value}


@dataclass(frozen=True)
class Form:
    command: str  # the typed command the form completes, e.g. "visit request"
    fields: tuple[FormField, ...]
    words: str = ""  # the prefix of its fields' catalog keys (formlabel.<words><key>…)

    def label_key(self, field: FormField) -> str:
        return f"formlabel.{self.words}{field.key}"

    def hint_key(self, field: FormField) -> str:
        return f"formhint.{self.words}{field.key}"

    @property
    def title_key(self) -> str:
        return "form." + self.command.replace(" ", ".")

    @property
    def options(self) -> dict[str, tuple[str, ...]]:
        return {f.key: f.aliases for f in self.fields}

    def validate(
        self, ctx: Any, values: dict[str, str], *, partial: bool = False
    ) -> dict[str, Any]:
        """The columns of the fields given (all required ones unless ``partial``), read in the
        form's order; a field's error names the field (for a modal's inline error)."""
        values = {k: v for k, v in values.items() if v != ""}
        if not partial:
            for f in self.fields:
                if f.default is not None and not _given(f, values) and (text := f.default(ctx)):
                    values[f.key] = text
            missing = [f for f in self.fields if f.required and not _given(f, values)]
            if missing:
                named = [f"{self.words}{f.key}" for f in missing]
                raise UserError("error.missing_fields", fields=named, field=missing[0].key)
        columns: dict[str, Any] = {}
        for f in self.fields:
            if f.key in values or values.keys() & set(f.instead):
                with about(f.key):
                    columns.update(f.read(ctx, values))
        return columns

    def with_positionals(self, words: list[str], options: dict[str, str]) -> dict[str, str]:
        """``options`` completed with the words typed without a name: they fill the required
        fields not named, in order, and a time of day after a date joins it (``2026-12-05
        09:00``). A named field wins. A word without the shape of its field (a room where the
        date goes), or a word left over, is refused with the order the words are read in."""
        values = dict(options)
        slots = [f for f in self.fields if not f.optional and not _given(f, options)]
        order = ", ".join(f.key for f in slots)
        rest = list(words)
        for field in slots:
            if not rest:
                break
            word = rest.pop(0)
            if not _fits(field, word):
                raise UserError("error.positional_mismatch", word=word, slot=field.key, order=order)
            if field.kind == "datetime" and rest and is_time_of_day(rest[0]):
                word = f"{word} {rest.pop(0)}"
            values[field.key] = word
        if rest:
            raise UserError("error.positional_too_many", extra=" ".join(rest), order=order)
        return values


def _given(field: FormField, values: dict[str, str]) -> bool:
    return field.key in values or (bool(field.instead) and set(field.instead) <= values.keys())


def _fits(field: FormField, word: str) -> bool:
    """Whether ``word`` has the shape of ``field``'s kind (only dates and durations have one)."""
    if field.kind == "datetime":
        return starts_a_time(word)
    if field.kind == "duration":
        try:
            parse_duration(word)
        except UserError:
            return False
    return True


@contextmanager
def about(key: str) -> Iterator[None]:
    """Attribute a user error raised inside to form field ``key`` (for inline errors)."""
    try:
        yield
    except UserError as err:
        err.field = err.field or key
        raise
