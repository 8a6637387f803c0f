"""The repairs section of the organisation file (``repairs:``): the test checklist (document 000
§5's items unless the organisation names its own, per system type), the specified spare parts
per system type, and how long a repaired system is watched before it is confirmed stable."""

import re

from pydantic import Field, field_validator

from handlers.orgconfig import Organisation, Section, SystemSpec
from handlers.repairs.words import DEFAULT_ITEMS, RESULTS

_ITEM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
RESERVED = {"note", "ref", *RESULTS}  # option names an item may not take


class RepairRules(Section):
    # at least 24 hours of watching after a repair (000 §8)
    followup_hours: int = Field(default=24, ge=1, le=24 * 30)
    # the checklist of a system whose type is not under ``checklists``
    checklist: list[str] = Field(default_factory=lambda: list(DEFAULT_ITEMS), min_length=1)
    checklists: dict[str, list[str]] = Field(default_factory=dict)  # system type → items
    # the specified spare parts (their models) per system type; a type not listed is unchecked
    spare_parts: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("checklist")
    @classmethod
    def _items(cls, items: list[str]) -> list[str]:
        return _checked(items)

    @field_validator("checklists")
    @classmethod
    def _lists(cls, lists: dict[str, list[str]]) -> dict[str, list[str]]:
        return {kind: _checked(items) for kind, items in lists.items()}

    def check(self, org: Organisation) -> None:
        types = {s.type for s in org.systems if s.type}
        named = set(self.checklists) | set(self.spare_parts)
        if org.systems and (unknown := sorted(named - types)):
            raise ValueError(f"repairs: no system has the type {unknown} (types: {sorted(types)})")

    def items_for(self, system: SystemSpec | None) -> list[str]:
        """The checklist of a repair on ``system`` (None: a system the file does not list)."""
        kind = system.type if system else None
        return list(self.checklists.get(kind, self.checklist) if kind else self.checklist)

    def listed(self, system_type: str | None, model: str) -> bool | None:
        """Whether ``model`` is a specified spare part for the type (None: no list for it)."""
        models = self.spare_parts.get(system_type or "")
        if not models:
            return None
        return model.strip().casefold() in {m.strip().casefold() for m in models}


def _checked(items: list[str]) -> list[str]:
    """Item names become options (``boot=pass``): short lower-case words, each once."""
    for item in items:
        if not _ITEM.match(item) or item in RESERVED:
            raise ValueError(f"checklist item {item!r}: a short lower-case word, not {RESERVED}")
    if len(set(items)) != len(items):
        raise ValueError(f"checklist {items}: an item is named twice")
    return items
