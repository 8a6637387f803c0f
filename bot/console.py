"""The console adapter: act as a person from the organisation, type commands, press card
actions by number. Reads a script from standard input when it is not a terminal.
"""

import contextlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.delivery import Outgoing
from bot.runtime import Runtime
from handlers.context import Origin
from handlers.messages import Action, Card, File, Message, Text, starts_with_icon

TONE_MARK = {"info": "", "success": "✔ ", "warning": "⚠ ", "danger": "✖ "}
QUIT = {"quit", "exit", ":q", "退出"}
SWITCH = ("as", ":as", "切换")
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
            path.write_text(message.content, encoding="utf-8")
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

    def __init__(self, output: ConsoleOutput) -> None:
        self.output = output

    def send(self, item: Outgoing) -> str:
        to = f"@{item.target}" if item.target_kind == "person" else item.target
        if item.replaces:
            state = getattr(item.message, "state_label", None) or ""
            self.output.write(f"↻ {to}: {item.subject} [{state}]")
            return item.replaces
        arrow = "📨" if item.target_kind == "person" else "📢"
        self.output.show(item.message, header=f"{arrow} → {to}", compact=True)
        return f"console:{item.id}"


class Console:
    def __init__(
        self, runtime: Runtime, output: ConsoleOutput, person: str, *, interactive: bool = False
    ) -> None:
        self.runtime = runtime
        self.output = output
        self.person = person
        self.interactive = interactive

    @property
    def origin(self) -> Origin:
        return Origin("console", self.person, channel="console")

    def run(self, lines: Iterator[str], *, echo: bool) -> None:
        for raw in lines:
            line = raw.strip()
            if echo and line:
                self.output.write(f"{self.person}> {line}")
            if not line or line.startswith("#"):
                continue
            if line.lower() in QUIT:
                break
            self.handle(line, lines)

    def handle(self, line: str, lines: Iterator[str]) -> None:
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
        if not handle:
            self.show([self.runtime.core.notice_for(self.origin, "console.as_usage")])
            return
        replies = self.runtime.core.handle_text(Origin("console", handle), "whoami")
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
        if self.interactive:
            try:
                return input(f"{prompt}: ")
            except (EOFError, KeyboardInterrupt):
                return ""
        answer = next(lines, "").strip()
        self.output.write(f"{prompt}: {answer}")
        return answer

    def show(self, replies: list[Message]) -> None:
        self.output.new_batch()
        for message in replies:
            self.output.show(message)
        self.runtime.tick()


def interactive_lines(prompt) -> Iterator[str]:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history where available)
    while True:
        try:
            yield input(prompt())
        except (EOFError, KeyboardInterrupt):
            print()
            return


def run_console(runtime: Runtime, output: ConsoleOutput, person: str, stdin: TextIO) -> None:
    console = Console(runtime, output, person, interactive=stdin.isatty())
    if console.interactive:
        output.write(runtime.core.i18n.t(None, "console.welcome", person=person))
        runtime.start_background()
        console.run(interactive_lines(lambda: f"{console.person}> "), echo=False)
    else:
        console.run(iter(stdin.readline, ""), echo=True)
        runtime.tick()
