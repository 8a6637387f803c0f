"""The command table: areas, verbs, their Chinese aliases and options, and word resolution.

Each module declares its commands on a ``Commands``; the core builds one ``Registry`` from the
workflow list (handlers/workflows.py), and every adapter's typed words are resolved there.
"""

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.context import Context
from handlers.errors import UserError
from handlers.forms import Form
from handlers.grammar import Parsed
from handlers.refs import parse_ref, ref


@dataclass(frozen=True)
class Area:
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    area: str
    verb: str | None
    func: Callable[["Context", "Invocation"], None]
    aliases: tuple[str, ...] = ()
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    public: bool = False  # usable by someone the organisation does not know
    form: Form | None = None  # the fields it takes, for a platform that asks for them
    words: int | None = None  # the most words it takes besides options; None: free text
    # options besides its own are passed on as typed (lower-cased), for a command whose names
    # come from the organisation file (a checklist's items); the command refuses the unknown
    open_options: bool = False

    @property
    def key(self) -> str:
        return f"{self.area}.{self.verb}" if self.verb else self.area


@dataclass
class Invocation:
    spec: Spec
    args: list[str]
    options: dict[str, str]

    def arg(self, index: int, name: str) -> str:
        if index >= len(self.args) or not self.args[index].strip():
            raise UserError("error.missing_arg", name=name, usage=self.spec.key, **self._ref())
        return self.args[index]

    def _ref(self) -> dict[str, str]:
        """The reference typed first (``f1`` → ``F-1``), for a usage example naming it."""
        try:
            return {"ref": ref(*parse_ref(self.args[0]))} if self.args else {}
        except UserError:
            return {}

    def rest(self, start: int) -> str:
        return " ".join(self.args[start:]).strip()

    def free_text(self, name: str, start: int) -> str:
        """A free-text option with the words typed after it: ``cause=disk firmware bug``
        unquoted reads as the whole phrase, as does the phrase with no ``cause=`` at all."""
        return " ".join(p for p in (self.opt(name), self.rest(start)) if p).strip()

    def opt(self, name: str, default: str | None = None) -> str | None:
        value = self.options.get(name)
        return value if value not in (None, "") else default


class Commands:
    """A module's commands: its areas and the handlers it declares with ``@commands(...)``.
    A workflow lists its ``Commands`` in its ``WORKFLOW``; nothing registers itself on import."""

    def __init__(self, *areas: Area) -> None:
        self.areas = areas
        self.specs: list[Spec] = []

    def __call__(
        self,
        area_name: str,
        verb: str | None = None,
        *,
        aliases: tuple[str, ...] = (),
        options: dict[str, tuple[str, ...]] | None = None,
        form: Form | None = None,
        public: bool = False,
        words: int | None = None,
        open_options: bool = False,
    ):
        """Declare the handler ``func(ctx, invocation)`` of ``area_name verb``; a form's fields
        are its options (with their aliases), besides any ``options`` of its own. ``words``:
        how many words it reads besides its options (a reference, a schedule…): more are
        refused, never dropped (``tools=a, b`` unquoted leaves ``b`` over); None: it reads
        free text. ``open_options``: options it does not declare reach it as typed (it refuses
        the unknown ones itself, naming those it knows)."""

        def declare(func):
            every = {**(form.options if form else {}), **(options or {})}
            self.specs.append(
                Spec(area_name, verb, func, aliases, every, public, form, words, open_options)
            )
            return func

        return declare


def _fold(word: str) -> str:
    return word.strip().casefold()


# How alike a typed word and a known one must be (difflib's ratio) for a suggestion: a letter
# left out, doubled or swapped in a word of four letters or more passes (``vist``, ``aprove``,
# ``故障申``); one character of two in common (``周报`` and ``报障``: 0.5) does not, so a one- or
# two-character word is suggested only a word holding all of its characters.
NEAR = 0.75


def _suggest(word: str, candidates: list[str]) -> str:
    """The known word nearest to ``word`` when it is near enough to help, else ""."""
    match = difflib.get_close_matches(_fold(word), candidates, n=1, cutoff=NEAR)
    return match[0] if match else ""


class Registry:
    """Every command of the bot, read from the modules' ``Commands``: word resolution, help."""

    def __init__(
        self,
        groups: Iterable[Commands],
        *,
        home: Iterable[str] = (),
        examples: Iterable[Callable[[Any, date], dict[str, str]]] = (),
    ) -> None:
        self.home = tuple(home)  # the typed commands whose answers make up a person's Home
        self._examples = tuple(examples)
        self.areas: dict[str, Area] = {}
        self.commands: dict[tuple[str, str | None], Spec] = {}
        groups = list(groups)
        for a in (a for group in groups for a in group.areas):
            if a.name in self.areas:
                raise ValueError(f"area {a.name!r} is declared twice")
            self.areas[a.name] = a
        for spec in (spec for group in groups for spec in group.specs):
            if spec.area not in self.areas or (spec.area, spec.verb) in self.commands:
                raise ValueError(f"command {spec.key!r}: unknown area or declared twice")
            self.commands[(spec.area, spec.verb)] = spec

    def examples(self, org, today: date) -> dict[str, str]:
        """Dates for the examples in usage strings and hints (their ``ex``), counted from today
        so that no example is ever in the past: ``today`` and ``month_start``, and what each
        workflow adds (the first day a visit may be requested for: ``day``)."""
        found = {"today": today.isoformat(), "month_start": today.replace(day=1).isoformat()}
        for make in self._examples:
            found.update(make(org, today))
        return found

    def area_of(self, word: str) -> str | None:
        folded = _fold(word)
        for a in self.areas.values():
            if folded == a.name or folded in a.aliases:
                return a.name
        return None

    def area_words(self) -> list[str]:
        return [w for a in self.areas.values() for w in (a.name, *a.aliases)]

    def verbs_of(self, area_name: str) -> list[Spec]:
        return [s for (a, _), s in self.commands.items() if a == area_name]

    def form(self, command: str) -> Form | None:
        """The form of ``command`` ("visit request"), if it has one."""
        area_name, _, verb = command.partition(" ")
        spec = self.commands.get((area_name, verb or None))
        return spec.form if spec else None

    def resolve(self, parsed: Parsed) -> Invocation:
        """Map typed words to a command; an unknown word gets a near one as a suggestion."""
        words = parsed.words or ["help"]
        area_name = self.area_of(words[0])
        if area_name is None:
            raise UserError(
                "error.unknown_command",
                word=words[0],
                suggestion=_suggest(words[0], self.area_words()),
            )
        specs = self.verbs_of(area_name)
        rest = words[1:]
        spec = None
        if rest:
            folded = _fold(rest[0])
            spec = next((s for s in specs if s.verb and folded in (s.verb, *s.aliases)), None)
            if spec:
                rest = rest[1:]
        if spec is None:
            spec = self.commands.get((area_name, None))
        if spec is None and not rest:  # an area alone (`visit`): its help
            return Invocation(self.commands[("help", None)], [area_name], {})
        if spec is None:
            verb_words = [w for s in specs if s.verb for w in (s.verb, *s.aliases)]
            word = rest[0] if rest else ""
            raise UserError(
                "error.unknown_verb",
                area=area_name,
                word=word,
                suggestion=_suggest(word, verb_words) if word else "",
                verbs=", ".join(s.verb for s in specs if s.verb),
            )
        if spec.words is not None and len(rest) > spec.words:
            raise UserError("error.extra_words", extra=" ".join(rest[spec.words :]), usage=spec.key)
        return Invocation(spec, rest, _canonical_options(spec, parsed.options))


def _canonical_options(spec: Spec, given: dict[str, str]) -> dict[str, str]:
    lookup = {_fold(alias): name for name, aliases in spec.options.items() for alias in aliases}
    lookup.update({name: name for name in spec.options})
    result: dict[str, str] = {}
    for key, value in given.items():
        name = lookup.get(_fold(key))
        if name is None and spec.open_options:
            name = _fold(key)
        if name is None:  # the near word's documented name: aliases are not in the usage
            near = _suggest(key, list(lookup))
            raise UserError(
                "error.unknown_option",
                option=key,
                suggestion=lookup.get(near, ""),
                options=", ".join(spec.options),
                usage=spec.key,
            )
        result[name] = value.strip()
    return result
