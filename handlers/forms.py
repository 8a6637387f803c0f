"""Forms: the fields a command takes, described once so every adapter can ask for them.

Slack shows a form as a modal; WeCom and the console ask for ``key=value`` text and list what
is missing. Submitting a form runs the command with the fields as options. Typed, its required
fields may also be given without their names, in order (``with_positionals``).
"""

from dataclasses import dataclass
from typing import Literal

from handlers.errors import UserError
from handlers.grammar import is_time_of_day, starts_a_time
from handlers.values import parse_duration

Kind = Literal["text", "multiline", "datetime", "duration", "bool", "list"]


@dataclass(frozen=True)
class FormField:
    key: str  # the command's canonical option name
    kind: Kind = "text"
    required: bool = False

    @property
    def label_key(self) -> str:
        return f"formlabel.{self.key}"

    @property
    def hint_key(self) -> str:
        return f"formhint.{self.key}"


@dataclass(frozen=True)
class Form:
    command: str  # the typed command the form completes, e.g. "visit request"
    fields: tuple[FormField, ...]

    @property
    def title_key(self) -> str:
        return "form." + self.command.replace(" ", ".")


FORMS: dict[str, Form] = {}


def form(command: str, *fields: FormField) -> Form:
    """Register the form for ``command`` (its canonical area and verb)."""
    FORMS[command] = Form(command, fields)
    return FORMS[command]


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


def with_positionals(form: Form, words: list[str], options: dict[str, str]) -> dict[str, str]:
    """``options`` completed with the words typed without a name: they fill the required fields
    not named, in the form's order, and a time of day after a date joins it (``2026-12-05
    09:00``). A named field wins. A word without the shape of its field (a room where the date
    goes), or a word left over, is refused with the order the words are read in."""
    values = dict(options)
    slots = [f for f in form.fields if f.required and f.key not in options]
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
