"""Human references: ``V-12`` for visit 12. Each workflow's machine names its kind here: the
reference letters of the workflows announced so far (shutdowns, repairs, inspections) are
reserved, so that no two kinds ever share a letter."""

import re

from handlers.errors import UserError

PREFIXES = {"visit": "V", "shutdown": "S", "fault": "F", "repair": "R", "inspection": "I"}
_KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
_REF = re.compile(r"^\s*#?([A-Za-z])\s*-?\s*(\d{1,9})\s*$")


def ref(kind: str, ident: int) -> str:
    return f"{PREFIXES[kind]}-{ident}"


def parse_ref(text: str, expected: str | None = None) -> tuple[str, int]:
    """``V-12``, ``v12`` or ``#V-12`` → ("visit", 12); a bare number needs ``expected``."""
    bare = text.strip().lstrip("#")
    if expected and bare.isdigit() and len(bare) <= 9:
        return expected, int(bare)
    match = _REF.match(text)
    kind = match and _KINDS.get(match.group(1).upper())
    if not match or not kind or (expected and kind != expected):
        example = ref(expected or "visit", 12)
        raise UserError("error.bad_ref", value=text, example=example)
    return kind, int(match.group(2))
