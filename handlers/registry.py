"""The command table: areas, verbs, their Chinese aliases and options, and word resolution.

Domain modules register commands with ``@command``; every adapter resolves typed words here.
"""

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from handlers.context import Context
from handlers.errors import UserError
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


AREAS: dict[str, Area] = {}
COMMANDS: dict[tuple[str, str | None], Spec] = {}


def area(name: str, *aliases: str) -> None:
    AREAS[name] = Area(name, aliases)


def command(
    area_name: str,
    verb: str | None = None,
    *,
    aliases: tuple[str, ...] = (),
    options: dict[str, tuple[str, ...]] | None = None,
    public: bool = False,
):
    """Register a command handler ``func(ctx, invocation)``."""

    def register(func):
        COMMANDS[(area_name, verb)] = Spec(area_name, verb, func, aliases, options or {}, public)
        return func

    return register


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


def area_of(word: str) -> str | None:
    folded = _fold(word)
    for a in AREAS.values():
        if folded == a.name or folded in a.aliases:
            return a.name
    return None


def area_words() -> list[str]:
    return [w for a in AREAS.values() for w in (a.name, *a.aliases)]


def verbs_of(area_name: str) -> list[Spec]:
    return [s for (a, _), s in COMMANDS.items() if a == area_name]


def resolve(parsed: Parsed) -> Invocation:
    """Map typed words to a command; an unknown word gets a near one as a suggestion."""
    words = parsed.words or ["help"]
    area_name = area_of(words[0])
    if area_name is None:
        raise UserError(
            "error.unknown_command", word=words[0], suggestion=_suggest(words[0], area_words())
        )
    specs = verbs_of(area_name)
    rest = words[1:]
    spec = None
    if rest:
        folded = _fold(rest[0])
        spec = next((s for s in specs if s.verb and folded in (s.verb, *s.aliases)), None)
        if spec:
            rest = rest[1:]
    if spec is None:
        spec = COMMANDS.get((area_name, None))
    if spec is None and not rest:  # an area alone (`visit`): its help
        return Invocation(COMMANDS[("help", None)], [area_name], {})
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
    return Invocation(spec, rest, _canonical_options(spec, parsed.options))


def _canonical_options(spec: Spec, given: dict[str, str]) -> dict[str, str]:
    lookup = {_fold(alias): name for name, aliases in spec.options.items() for alias in aliases}
    lookup.update({name: name for name in spec.options})
    result: dict[str, str] = {}
    for key, value in given.items():
        name = lookup.get(_fold(key))
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
