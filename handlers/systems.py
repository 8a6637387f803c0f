"""The organisation's systems (``systems:`` in the organisation file): where each one runs, who
owns it (people to tell and ask, channels to tell), what depends on it, and when it may be
taken down (its agreed maintenance windows). Shutdowns read them today; faults, repairs and
inspections name the same systems.
"""

import difflib
from collections.abc import Iterable
from datetime import datetime

from handlers.errors import UserError
from handlers.orgconfig import SystemSpec, window_days


def in_window(system: SystemSpec, start: datetime, end: datetime) -> bool:
    """Whether ``start``–``end`` (local, aware) lies inside one of the system's agreed windows
    (True when it has none: nothing was agreed)."""
    return not system.windows or any(_inside(text, start, end) for text in system.windows)


def _inside(text: str, start: datetime, end: datetime) -> bool:
    days, opens, closes = window_days(text)
    same_day = start.date() == end.date()
    return same_day and start.weekday() in days and opens <= start.time() and end.time() <= closes


def find(systems: Iterable[SystemSpec], word: str) -> SystemSpec:
    """The system named ``word`` (any case); an unknown name is refused with the nearest ones."""
    known = {s.name.casefold(): s for s in systems}
    if (spec := known.get(word.strip().casefold())) is not None:
        return spec
    near = difflib.get_close_matches(word.strip().casefold(), list(known), n=3, cutoff=0.5)
    names = [known[n].name for n in near] or sorted(s.name for s in known.values())[:5]
    raise UserError("error.unknown_system", value=word, near=", ".join(names) or "—")


def affected(systems: Iterable[SystemSpec], names: Iterable[str]) -> list[SystemSpec]:
    """The systems ``names`` take down: themselves and, transitively, every system that depends
    on them, each once (a dependency cycle ends where it closes), in the file's order."""
    every = list(systems)
    down = {n.casefold() for n in names}
    grew = True
    while grew:
        grew = False
        for s in every:
            if s.name.casefold() not in down and any(d.casefold() in down for d in s.depends_on):
                down.add(s.name.casefold())
                grew = True
    return [s for s in every if s.name.casefold() in down]


def related(systems: Iterable[SystemSpec], names: Iterable[str]) -> set[str]:
    """The names (folded) a shutdown of ``names`` touches: themselves, what they depend on and
    what depends on them, each transitively. Another window on any of them clashes with it."""
    every, names = list(systems), [n.casefold() for n in names]
    needs = {s.name.casefold(): {d.casefold() for d in s.depends_on} for s in every}
    below, todo = set(names), list(names)
    while todo:
        for dependency in needs.get(todo.pop(), ()):
            if dependency not in below:
                below.add(dependency)
                todo.append(dependency)
    return below | {s.name.casefold() for s in affected(every, names)}
