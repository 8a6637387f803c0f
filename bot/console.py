"""The console adapter: act as a person from the organisation, type commands, press card
actions by number. Reads a script from standard input when it is not a terminal.

At a terminal, prompt_toolkit edits the line: history, Tab completion of command words and of
references seen, and notices printed by the background courier appear above the prompt, which
is drawn again below them. Lines pasted from a transcript work: a leading ``bob> `` (a known
handle's prompt) and a trailing ``# comment`` are dropped.
"""

import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from bot.delivery import Outgoing
from bot.runtime import Runtime
from handlers.context import Origin
from handlers.grammar import strip_comment
from handlers.messages import Action, Card, File, Message, Text, plain_text, starts_with_icon
from handlers.platforms import Platform
from handlers.targets import PERSON

TONE_MARK = {"info": "", "success": "✔ ", "warning": "⚠ ", "danger": "✖ "}
QUIT = {"quit", "exit", ":q", "退出"}
SWITCH = ("as", ":as", "切换")
PASTED_PROMPT = re.compile(r"([a-z0-9][a-z0-9._-]*)>\s+(.*)", re.IGNORECASE | re.DOTALL)
REFERENCE = re.compile(r"\b[VSFR]-\d+\b")
SEEN = 50  # references offered for completion, the latest first

# terminal escape sequences (CSI, OSC and the like), then any other C0/C1 control but \t and \n
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without what would drive the terminal: escape sequences and control characters
    (a carriage return too); line breaks and tabs stay."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def tone_mark(tone: str, text: str) -> str:
    """The tone's mark in front of ``text``, unless the text opens with an icon of its own."""
    return "" if starts_with_icon(text) else TONE_MARK[tone]


class ConsoleOutput:
    """Prints messages as text and numbers every card action it shows."""

    def __init__(self, stream: TextIO, files_dir: Path) -> None:
        self.stream = stream
        self.files_dir = files_dir
        self.actions: list[Action] = []
        self.lock = threading.Lock()

    def new_batch(self) -> None:
        self.actions = []

    def write(self, text: str) -> None:
        with self.lock:
            print(printable(text), file=self.stream, flush=True)

    def show(self, message: Message, header: str = "", *, compact: bool = False) -> None:
        with self.lock:
            if header:
                print(printable(header), file=self.stream)
            print(printable(self._render(message, compact)), file=self.stream, flush=True)

    def _render(self, message: Message, compact: bool) -> str:
        if isinstance(message, Text):
            return tone_mark(message.tone, message.text) + message.text
        if isinstance(message, File):
            path = self.files_dir / Path(message.name).name
            path.write_bytes(message.data)
            return f"📎 {message.caption} → {path}"
        return self._card(message, compact)

    def _card(self, card: Card, compact: bool) -> str:
        """A card as a box; ``compact`` keeps only the title, state and buttons."""
        state = f"  [{card.state_label}]" if card.state_label else ""
        lines = [f"┌─ {tone_mark(card.tone, card.title)}{card.title}{state}"]
        if not compact:
            lines += [f"│ {f.label}: {f.value}" for f in card.fields]
        if card.body and not compact:
            lines += ["│"] + [f"│ {line}" for line in card.body.splitlines()]
        buttons = []
        for action in card.actions:
            self.actions.append(action)
            buttons.append(f"[{len(self.actions)}] {action.label}  (/maint {action.command})")
        lines += [f"│ {b}" for b in buttons]
        lines.append("└─")
        return "\n".join(lines)


class ConsoleSender:
    """Delivers outbox notices to the terminal, saying who would receive them."""

    # a card shown again whenever it changes; no countdown repainted every minute
    platform = Platform("console", edits_at_will=True)

    def __init__(self, output: ConsoleOutput) -> None:
        self.output = output

    def send(self, item: Outgoing) -> str:
        to = f"@{item.to.address}" if item.to.kind == PERSON else item.to.address
        if item.replaces:
            state = getattr(item.message, "state_label", None) or ""
            self.output.write(f"↻ {to}: {item.subject} [{state}]")
            return item.replaces
        arrow = "📨" if item.to.kind == PERSON else "📢"
        self.output.show(item.message, header=f"{arrow} → {to}", compact=True)
        return f"console:{item.id}"


class Console:
    def __init__(self, runtime: Runtime, output: ConsoleOutput, person: str) -> None:
        self.runtime = runtime
        self.output = output
        self.person = person
        # an answer an action asks for, typed at a prompt; None: a script's next line
        self.read: Callable[[str], str] | None = None
        self.seen: dict[str, None] = {}  # references shown or typed, the latest last

    @property
    def origin(self) -> Origin:
        return Origin("console", self.person, channel="console")

    def run(self, lines: Iterator[str], *, echo: bool) -> None:
        for raw in lines:
            line = self.unprompted(raw.strip())
            if echo and line:
                self.output.write(f"{self.person}> {line}")
            command = strip_comment(line)
            if not command or command.startswith("#"):
                continue
            if command.lower() in QUIT:
                break
            self.handle(command, lines)

    def unprompted(self, line: str) -> str:
        """``line`` without a prompt pasted with it (``bob> visit show V-1``), run as the person
        it names (switching to them, as ``as bob`` would): only a known handle's prompt, so that
        ``x> 1`` typed on purpose still reaches the core."""
        pasted = PASTED_PROMPT.fullmatch(line)
        if not pasted or (handle := pasted[1].lower()) not in self.runtime.core.handles():
            return line
        if handle != self.person:
            self.switch(handle)
        return pasted[2].strip()

    def handle(self, line: str, lines: Iterator[str]) -> None:
        self.remember(line)
        first, _, rest = line.partition(" ")
        if first.lower() in SWITCH:
            self.switch(rest.strip())
            return
        if line.isdecimal():  # not isdigit(): "①" and "²" are digits that int() refuses
            self.press(int(line), lines)
            return
        self.show(self.runtime.core.handle_text(self.origin, line))

    def switch(self, handle: str) -> None:
        handle = handle.lstrip("@").lower()  # handles are lower case; `as Bob` means @bob
        core = self.runtime.core
        if not handle:
            self.show([core.notice_for(self.origin, "console.as_usage")])
            return
        if handle not in (known := core.handles()):
            notice = "console.unknown_handle"
            self.show([core.notice_for(self.origin, notice, handle=handle, known=", ".join(known))])
            return
        replies = core.handle_text(Origin("console", handle), "whoami")
        if replies and isinstance(replies[0], Card):
            self.person = handle
            self.output.write(f"→ {replies[0].title}")
        else:
            self.show(replies)

    def press(self, number: int, lines: Iterator[str]) -> None:
        if not 1 <= number <= len(self.output.actions):
            self.show([self.runtime.core.notice_for(self.origin, "console.no_action", n=number)])
            return
        action = self.output.actions[number - 1]
        answer = self.ask(action.prompt, lines) if action.prompt else None
        self.show(self.runtime.core.handle_action(self.origin, action.command, answer))

    def ask(self, prompt: str, lines: Iterator[str]) -> str:
        """The free-text answer an action asks for: typed at a prompt, or a script's next line."""
        if self.read is not None:
            try:
                return self.read(f"{prompt}: ")
            except (EOFError, KeyboardInterrupt):
                return ""
        answer = next(lines, "").strip()
        self.output.write(f"{prompt}: {answer}")
        return answer

    def show(self, replies: list[Message]) -> None:
        self.output.new_batch()
        for message in replies:
            self.remember(plain_text(message))
            self.output.show(message)
        self.runtime.tick()

    def remember(self, text: str) -> None:
        """Keep the references in ``text`` for completion, the latest last."""
        for found in REFERENCE.findall(text):
            self.seen.pop(found, None)
            self.seen[found] = None
        while len(self.seen) > SEEN:
            del self.seen[next(iter(self.seen))]


class CommandCompleter(Completer):
    """Tab completes command words (English and Chinese, from the command table), handles after
    ``as``, and then references seen in this session, the latest first."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def get_completions(self, document, complete_event):
        word = document.get_word_before_cursor(WORD=True)
        before = document.text_before_cursor.split()
        done = before[:-1] if word else before  # the words before the one being typed
        folded = word.casefold()
        for candidate in dict.fromkeys(self.candidates(done)):
            if candidate.casefold().startswith(folded) and candidate != word:
                yield Completion(candidate, start_position=-len(word))

    def candidates(self, done: list[str]) -> list[str]:
        registry = self.console.runtime.core.registry
        if not done:
            return [*registry.area_words(), SWITCH[0], "quit"]
        if done[0].lower() in SWITCH:
            return self.console.runtime.core.handles() if len(done) == 1 else []
        area = registry.area_of(done[0])
        if area and len(done) == 1:
            verbs = registry.verbs_of(area)
            return [w for spec in verbs if spec.verb for w in (spec.verb, *spec.aliases)]
        return list(reversed(self.console.seen))


def prompt_session(console: Console) -> PromptSession:
    """Line editing for ``console``: history kept in memory only (a command may hold a full
    identity number, which must never be written to disk), Tab completion."""
    return PromptSession(
        history=InMemoryHistory(),
        completer=CommandCompleter(console),
        complete_while_typing=False,
    )


def interactive_lines(session: PromptSession, prompt: Callable[[], str]) -> Iterator[str]:
    """Lines typed at ``session``'s prompt until end of input (Ctrl-D) or Ctrl-C."""
    while True:
        try:
            yield session.prompt(prompt())
        except (EOFError, KeyboardInterrupt):
            return


def interact(console: Console, session: PromptSession) -> None:
    """Run what is typed at the prompt; whatever is printed meanwhile, by the console or by the
    background courier's thread, goes above the prompt, which is drawn again below it."""
    with patch_stdout():
        stream, console.output.stream = console.output.stream, sys.stdout
        console.read = session.prompt
        try:
            console.run(interactive_lines(session, lambda: f"{console.person}> "), echo=False)
        finally:
            console.output.stream, console.read = stream, None


def run_console(runtime: Runtime, output: ConsoleOutput, person: str, stdin: TextIO) -> None:
    console = Console(runtime, output, person)
    if stdin.isatty():
        output.write(runtime.core.i18n.t(None, "console.welcome", person=person))
        runtime.start_background()
        interact(console, prompt_session(console))
    else:
        console.run(iter(stdin.readline, ""), echo=True)
        runtime.tick()
