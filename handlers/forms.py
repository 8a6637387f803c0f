"""Forms: the fields a command takes, described once so every adapter can ask for them.

Slack shows a form as a modal; WeCom and the console ask for ``key=value`` text and list what
is missing. Submitting a form runs the command with the fields as options.
"""

from dataclasses import dataclass
from typing import Literal

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
