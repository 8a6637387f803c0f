"""The console end to end: the real ``maintbot console`` command, fed a script on stdin.

Every test runs the installed console script in its own working directory with a clean
environment (no MAINTBOT_* variable leaks in from the developer's shell), so what it sees is
what a newcomer sees after ``pip install -e .``.
"""

import contextlib
import csv
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pyte
import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output.plain_text import PlainTextOutput

from bot import runtime
from bot.console import (
    CommandCompleter,
    Console,
    ConsoleOutput,
    ConsoleSender,
    interact,
    prompt_session,
)
from bot.orgfile import DEMO_ORG, load_org
from bot.settings import Settings
from handlers.clock import SystemClock
from handlers.context import Origin
from handlers.core import Core
from handlers.i18n import I18n
from handlers.messages import plain_text
from storage.db import Database
from tests.chat import catalog, platforms
from tests.slack_server import wait_until

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).with_name("maintbot")
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "bot.cli"]
PROMPT = re.compile(r"^([a-z0-9][a-z0-9._-]*)> (.*)$")

REQUEST = (
    'visit request at="+2d 10:00" duration=2h room=SH1/A101 task="更换硬盘" '
    'id=身份证:1234 tools="笔记本, 螺丝刀"'
)


@dataclass
class Turn:
    """One echoed script line and everything printed until the next one."""

    who: str
    typed: str
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Session:
    returncode: int
    stdout: str
    stderr: str

    @property
    def turns(self) -> list[Turn]:
        turns: list[Turn] = []
        for line in self.stdout.splitlines():
            if m := PROMPT.match(line):
                turns.append(Turn(m[1], m[2]))
            elif turns:
                turns[-1].lines.append(line)
        return turns

    def turn(self, who: str, typed: str, nth: int = 0) -> Turn:
        """The ``nth`` time ``who`` typed exactly ``typed``."""
        found = [t for t in self.turns if (t.who, t.typed) == (who, typed)]
        assert len(found) > nth, f"{who}> {typed} not in the transcript:\n{self.stdout}"
        return found[nth]

    def assert_clean(self) -> None:
        assert self.returncode == 0, self.stderr
        assert "Traceback" not in self.stderr, self.stderr
        assert " ERROR " not in self.stderr, self.stderr


def console(
    cwd: Path, script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> Session:
    """Run ``maintbot console ARGS`` in ``cwd`` with ``script`` on a piped stdin."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("MAINTBOT_")}
    environ.update(env or {})
    proc = subprocess.run(
        [*COMMAND, "console", *args],
        cwd=cwd,
        env=environ,
        input=script,
        capture_output=True,
        encoding="utf-8",
        timeout=timeout,
    )
    return Session(proc.returncode, proc.stdout, proc.stderr)


def script(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_newcomer_walkthrough(tmp_path):
    """The README's walk-through with --demo: request, review, approve, check in and out, audit."""
    run = console(
        tmp_path,
        script(
            REQUEST,
            "as bob",
            "visit show V-1",
            "1",
            "as carol",
            "visit show V-1",
            "1",
            "as bob",
            "visit checkin V-1 card=A-07 verified=是 briefing=是 early=演示",
            "visit checkout V-1 tools=全部 card=是",
            "audit V-1",
            "visit export today",
        ),
        "--demo",
    )
    run.assert_clean()
    assert (tmp_path / "maintbot-demo.sqlite3").is_file()

    filed = run.turn("alice", REQUEST).text
    assert "已提交访问申请 V-1，等待管理员审核。" in filed
    assert "[待管理员审核]" in filed
    # The notices the request caused are shown, each saying who would receive it.
    assert "📢 → #visits" in filed
    assert "📨 → @bob" in filed
    assert filed.index("📨 → @bob") > filed.index("已提交访问申请 V-1")

    assert run.turn("alice", "as bob").text == "→ 李管理员 Bob (@bob)"
    shown = run.turn("bob", "visit show V-1").text
    assert "[1] 批准  (/maint visit review V-1)" in shown
    reviewed = run.turn("bob", "1").text
    assert "✔ V-1 已审核通过，已提交机房主管批准。" in reviewed
    assert "📨 → @carol" in reviewed and "📨 → @alice" in reviewed

    assert run.turn("bob", "as carol").text == "→ 王主管 Carol (@carol)"
    shown = run.turn("carol", "visit show V-1").text
    assert "[待主管批准]" in shown and "[1] 批准" in shown
    approved = run.turn("carol", "1").text
    assert "✔ V-1 已批准，已通知申请人。" in approved
    assert "📨 → @alice" in approved and "已批准（批准人：王主管 Carol）" in approved

    checkin = run.turn("bob", "visit checkin V-1 card=A-07 verified=是 briefing=是 early=演示").text
    assert "✔ V-1 已签到，临时访问卡 A-07。" in checkin
    assert "[已签到（在机房）]" in checkin
    checkout = run.turn("bob", "visit checkout V-1 tools=全部 card=是").text
    assert "✔ V-1 已签出。" in checkout and "[已签出]" in checkout

    trail = [line for line in run.turn("bob", "audit V-1").lines if " 通过 控制台" in line]
    expected = [  # the actions in words, never as keys (visit.review)
        ("张工 Alice", "提交申请"),
        ("李管理员 Bob", "审核通过"),
        ("王主管 Carol", "批准"),
        ("李管理员 Bob", "签到"),
        ("李管理员 Bob", "签出"),
    ]
    assert len(trail) == len(expected), trail
    for line, (name, action) in zip(trail, expected, strict=True):
        assert name in line and f"：{action}　" in line and "visit." not in line, line

    exported = run.turn("bob", "visit export today").text
    assert exported.startswith("📎 ")
    files = list(tmp_path.glob("visitor-log_*.csv"))
    assert len(files) == 1 and str(files[0]) in exported
    rows = list(csv.DictReader(files[0].read_text("utf-8-sig").splitlines()))  # headers in zh
    assert [(r["编号"], r["状态"], r["临时访问卡"]) for r in rows] == [
        ("V-1", "checked_out", "A-07")
    ]


def readme_first_session() -> str:
    """The console transcript in the README's "A first session", exactly as written there."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    start = readme.index("```text\n", readme.index("## A first session")) + len("```text\n")
    return readme[start : readme.index("```", start)]


def test_the_readmes_first_session_pasted_as_it_stands(tmp_path):
    """Each line of the README's example, prompt and comment included, pasted into the console:
    the prompt (a known handle's) and the comment are dropped, and every command works."""
    pasted = readme_first_session()
    lines = pasted.splitlines()
    assert lines[1].startswith("alice> as bob") and "# the admin" in lines[1]
    run = console(tmp_path, pasted, "--demo")
    run.assert_clean()
    turns = run.turns
    assert [f"{t.who}> {t.typed}" for t in turns] == lines  # each line ran, as whom it says
    assert "已提交访问申请 V-1" in turns[0].text
    assert turns[1].text == "→ 李管理员 Bob (@bob)"
    assert "[1] 批准" in turns[2].text
    assert "✔ V-1 已审核通过" in turns[3].text
    assert turns[4].text == "→ 王主管 Carol (@carol)"
    assert "✔ V-1 已批准" in turns[5].text
    assert "[已签出]" in run.turn("bob", "visit checkout V-1 tools=全部 card=是").text
    assert "不认识" not in run.stdout and "⚠" not in run.stdout


def test_console_conveniences_and_mistakes(tmp_path):
    """Comments, unknown numbers and people, bad quoting, a prompted action, quit; the demo
    database starts afresh on every --demo run."""
    first = console(tmp_path, script(REQUEST), "--demo")
    first.assert_clean()
    assert "V-1" in first.turn("alice", REQUEST).text

    run = console(
        tmp_path,
        script(
            "# visit request is not run: this is a comment",
            "visit show V-1",  # a fresh demo database: V-1 from the first run is gone
            "whoami",
            "7",
            "①",  # a digit, but not a number to press: just an unknown command
            "as zed",
            "whoami",
            "zed> whoami",  # not a known person's prompt: the line is run as it is
            "alice> whoami   # a pasted prompt and comment",
            'visit show "V-1',
            REQUEST,
            "as @Bob",
            "visit show V-1",
            "３",  # a full-width digit from a Chinese input method presses [3] too
            "",  # the reason the reject button asks for: none given
            "visit show V-1",
            "3",
            "备件未到，改期",
            "visit show V-1",
            "carol> whoami   # another person's pasted prompt: run as carol",
            "quit",
            "whoami",
        ),
        "--demo",
    )
    run.assert_clean()
    turns = run.turns
    assert turns[0].typed.startswith("# visit request") and turns[0].lines == []
    assert run.turn("alice", "visit show V-1").text == "⚠ 没有找到 V-1。"
    assert run.turn("alice", "7").text == "⚠ 屏幕上没有按钮 [7]。"
    assert run.turn("alice", "①").text.startswith("⚠ 不认识的命令「①」。")

    refused = run.turn("alice", "as zed").text  # says nobody is zed, not "I don't know you"
    assert refused == "⚠ 没有用户名为「zed」的人员。现有：alice, erin, bob, carol, dan, olivia"
    assert run.turn("alice", "whoami").text.startswith("┌─ 张工 Alice (@alice)")
    assert run.turn("alice", "whoami", 1).text.startswith("┌─ 张工 Alice (@alice)")
    assert run.turn("alice", "zed> whoami").text.startswith("⚠ 不认识的命令「zed>」。")
    pasted = run.turn("alice", "whoami   # a pasted prompt and comment").text
    assert pasted.startswith("┌─ 张工 Alice (@alice)")

    syntax = run.turn("alice", 'visit show "V-1').text
    assert syntax.startswith("⚠ 命令格式有误：") and "带空格的内容请用引号括起来" in syntax
    assert "已提交访问申请 V-1" in run.turn("alice", REQUEST).text  # it carried on

    assert "[3] 驳回  (/maint visit reject V-1 reason=)" in run.turn("bob", "visit show V-1").text
    assert run.turn("alice", "as @Bob").text == "→ 李管理员 Bob (@bob)"
    no_reason = run.turn("bob", "３")
    assert no_reason.text == "请输入原因: \n⚠ 请写明原因。"
    rejected = run.turn("bob", "3")
    assert rejected.lines[0] == "请输入原因: 备件未到，改期"  # the next script line, not a command
    assert "✔ V-1 已驳回，已通知申请人。" in rejected.text
    assert "📨 → @alice" in rejected.text and "原因：备件未到，改期" in rejected.text
    carol = run.turn("carol", "whoami   # another person's pasted prompt: run as carol")
    assert carol.text.startswith("┌─ 王主管 Carol (@carol)")
    final = run.turn("bob", "visit show V-1", 2).text
    assert "[已驳回]" in final and "备件未到，改期" in final
    assert "[1]" not in final  # nothing left to press on a rejected request

    assert turns[-1].typed == "quit" and turns[-1].lines == []
    assert not any(t.who == "bob" and t.typed == "whoami" for t in turns)


def test_english_speakers(tmp_path):
    """--as picks the person; erin's locale (en) in the demo file, or MAINTBOT_LOCALE=en for
    people without one, gives English text; each notice is in its recipient's language."""
    run = console(
        tmp_path,
        script(
            "whoami",
            'visit request at="+2d 10:00" duration=2h room=A101 task="replace disk" '
            "id=passport:9876",
            "as alice",
            "whoami",
        ),
        "--demo",
        "--as",
        "erin",
    )
    run.assert_clean()
    assert run.turns[0].who == "erin"
    me = run.turn("erin", "whoami").text
    assert "Roles: engineer" in me and "Language: en" in me
    filed = run.turns[1].text
    assert f"✔ {catalog('visit.filed', ref='V-1')}" in filed
    assert "│ When: " in filed and f"[{catalog('state.requested')}]" in filed
    to_bob = filed[filed.index("📨 → @bob") :]
    assert "机房访问申请：replace disk  [待管理员审核]" in to_bob
    assert "角色: 工程师" in run.turn("alice", "whoami").text

    run = console(
        tmp_path,
        script("help", "as alice", "whoami"),
        "--demo",
        "--as",
        "@Bob",  # a handle is lower case; the @ is optional
        env={"MAINTBOT_LOCALE": "en"},
    )
    run.assert_clean()
    assert run.turns[0].who == "bob"
    assert run.turn("bob", "help").text.startswith("┌─ maintbot commands")
    assert "Roles: engineer" in run.turn("alice", "whoami").text


def test_own_organisation_file_and_database_persist_across_runs(tmp_path):
    """MAINTBOT_CONFIG and MAINTBOT_DATABASE_URL: a request filed in one run is approved in the
    next, from another working directory."""
    org = tmp_path / "org.yaml"
    org.write_text(
        """
people:
  - {handle: amy, name: Amy Li, roles: [engineer], company: Acme, phone: "13900000001"}
  - {handle: ben, name: Ben Wu, roles: [admin]}
  - {handle: cho, name: Cho Ma, roles: [supervisor], locale: en}
sites:
  - {code: HQ, name: Head office, rooms: [{code: R1, name: Server room}]}
""",
        encoding="utf-8",
    )
    database = tmp_path / "state" / "maintbot.sqlite3"
    database.parent.mkdir()
    env = {"MAINTBOT_CONFIG": str(org), "MAINTBOT_DATABASE_URL": f"sqlite:///{database}"}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()

    first = console(
        tmp_path / "one",
        script('visit request at="+3d 09:30" duration=90m room=R1 task="换电源" id=身份证:4321'),
        env=env,
    )
    first.assert_clean()
    assert first.turns[0].who == "amy"  # the file's first person
    assert "已提交访问申请 V-1" in first.stdout
    assert database.is_file()
    assert list((tmp_path / "one").iterdir()) == []  # nothing written where it ran

    second = console(
        tmp_path / "two",
        script("visit list pending", "visit approve V-1", "as cho", "visit approve V-1"),
        "--as",
        "ben",
        env=env,
    )
    second.assert_clean()
    assert "V-1" in second.turn("ben", "visit list pending").text
    assert "V-1 已审核通过" in second.turn("ben", "visit approve V-1").text
    assert (
        "✔ V-1 approved; the requester has been told."
        in second.turn("cho", "visit approve V-1").text
    )


# ---- at a terminal: prompt_toolkit reads from a pipe, the screen is captured as plain text


@dataclass
class Terminal:
    """The interactive console running in a thread of this process, typed at through a pipe."""

    console: Console
    keys: PipeInput
    screen: io.StringIO
    sessions: list[PromptSession]

    @property
    def line(self) -> str:
        """What is typed at the prompt and not yet entered."""
        return self.sessions[0].default_buffer.text if self.sessions else ""

    def shown(self) -> str:
        return self.screen.getvalue()

    def type(self, text: str, *, until: str | None = None) -> None:
        """Type ``text``; with ``until``, wait until the screen shows that much more of it."""
        before = self.shown().count(until) if until else 0
        self.keys.send_text(text)
        if until:
            wait_until(lambda: self.shown().count(until) > before, what=f"{until!r} shown")

    def history(self) -> list[str]:
        return list(self.sessions[0].history.get_strings())


@contextlib.contextmanager
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """``maintbot console --demo`` at a terminal, as alice, with the background courier."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}", config=DEMO_ORG)
    screen = io.StringIO()
    output = ConsoleOutput(io.StringIO(), tmp_path)  # interact() prints through the prompt
    rt = runtime.build(settings, senders={"console": ConsoleSender(output)})
    rt.start_background()
    console = Console(rt, output, "alice")
    sessions: list[PromptSession] = []
    with create_pipe_input() as keys:

        def run() -> None:
            with create_app_session(input=keys, output=PlainTextOutput(screen)):
                sessions.append(prompt_session(console))
                interact(console, sessions[0])

        thread = threading.Thread(target=run, name="terminal", daemon=True)
        thread.start()
        term = Terminal(console, keys, screen, sessions)
        try:
            wait_until(lambda: "alice>" in term.shown(), what="the prompt")
            yield term
        finally:
            keys.send_text("quit\r")
            thread.join(10)
            rt.stop()
    assert not thread.is_alive()


def test_typed_commands_run_with_history_and_completion(tmp_path):
    with terminal(tmp_path) as term:
        term.type("whoa\t")  # Tab completes a command word...
        wait_until(lambda: term.line == "whoami", what="whoami completed")
        term.type("\r", until="(@alice)")
        term.type(REQUEST + "\r", until="V-1")
        term.type("\x1b[A\x1b[A")  # up, up: the line typed two commands ago
        wait_until(lambda: term.line == "whoami", what="whoami from the history")
        term.type("\x15visit sh\t")  # Ctrl-U clears the line; Tab completes verbs...
        wait_until(lambda: term.line == "visit show", what="verb completed")
        term.type(" V\t")  # ...and the references shown
        wait_until(lambda: term.line == "visit show V-1", what="reference completed")
        term.type("\r", until="[待管理员审核]")
        assert term.history() == ["whoami", REQUEST, "visit show V-1"]
        term.type("as b\t")
        wait_until(lambda: term.line == "as bob", what="handle completed")
        term.type("\r", until="→ 李管理员 Bob (@bob)")
        term.type("visit show V-1\r", until="[1] 批准")
        term.type("3\r", until="请输入原因:")  # a button that asks for a reason prompts for it
        term.type("改期\r", until="已驳回")


def test_a_notice_arriving_while_a_line_is_typed_leaves_the_line_intact(tmp_path):
    """Bob reviews alice's request while she types: the courier's thread prints the notice to
    her above the prompt, and the half-typed line is still hers to finish and run."""
    with terminal(tmp_path) as term:
        term.type(REQUEST + "\r", until="[待管理员审核]")
        term.type("visit sh")
        wait_until(lambda: term.line == "visit sh", what="the half-typed line")
        reviewed = term.console.runtime.core.handle_text(
            Origin("console", "bob"), "visit approve V-1"
        )
        assert "V-1" in plain_text(reviewed[0])
        wait_until(lambda: "📨 → @alice" in term.shown(), what="the notice, printed by the courier")
        assert term.line == "visit sh"
        term.type("ow V-1\r", until="[待主管批准]")
        assert term.history()[-1] == "visit show V-1"
        assert term.shown().rindex("[待主管批准]") > term.shown().index("📨 → @alice")


def test_completion_offers_chinese_words_handles_and_recent_references(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}", config=DEMO_ORG)
    rt = runtime.build(settings, senders={})
    try:
        console = Console(rt, ConsoleOutput(io.StringIO(), tmp_path), "alice")
        completer = CommandCompleter(console)

        def offered(text: str) -> list[str]:
            found = completer.get_completions(Document(text), CompleteEvent(True))
            return [c.text for c in found]

        assert {"访问", "访问申请"} <= set(offered("访"))
        assert "approve" in offered("visit ap") and "批准" in offered("访问 批")
        assert offered("as c") == ["carol"]
        console.remember("V-3 and F-2, then V-12")
        assert offered("visit show ") == ["V-12", "F-2", "V-3"]
        assert offered("fault ack F") == ["F-2"]
    finally:
        rt.stop()


# ---- at a real terminal: the console as a subprocess on a pseudo-terminal

CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@dataclass
class Pty:
    proc: subprocess.Popen
    master: int
    received: bytearray = field(default_factory=bytearray)

    def screen(self, since: int = 0) -> str:
        """What the terminal received since byte ``since``, without control sequences."""
        return CSI.sub("", self.received[since:].decode("utf-8", "replace"))

    def display(self) -> list[str]:
        """The terminal's rows as a person sees them now (a VT100 emulator plays the bytes)."""
        screen = pyte.Screen(120, 40)
        pyte.ByteStream(screen).feed(bytes(self.received))
        return [row.rstrip() for row in screen.display if row.strip()]

    def type(self, text: str, *, until: str) -> None:
        mark = len(self.received)
        os.write(self.master, text.encode())
        wait_until(lambda: until in self.screen(mark), timeout=15, what=f"{until!r} shown")

    def prompt(self, line: str = "") -> None:
        """Wait until the last row is the prompt with ``line`` typed: keys sent before that
        would be echoed by the terminal itself, as in any program, not by the prompt."""
        last = f"alice> {line}".rstrip()
        wait_until(lambda: self.display()[-1:] == [last], timeout=15, what=f"{last!r} last")


@contextlib.contextmanager
def at_a_terminal(cwd: Path, *args: str) -> Iterator[Pty]:
    """``maintbot console ARGS`` with a pseudo-terminal (120×40) for its standard streams."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("MAINTBOT_")}
    proc = subprocess.Popen(
        [*COMMAND, "console", *args],
        cwd=cwd,
        env=environ | {"TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},  # no cursor queries
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    term = Pty(proc, master)

    def read() -> None:
        with contextlib.suppress(OSError):  # EIO once the console has exited
            while data := os.read(master, 4096):
                term.received.extend(data)

    reader = threading.Thread(target=read, name="pty", daemon=True)
    reader.start()
    try:
        wait_until(lambda: "alice>" in term.screen(), timeout=30, what="the prompt")
        yield term
        os.write(master, b"\x15quit\r")
        assert proc.wait(30) == 0, term.screen()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        reader.join(5)


def test_at_a_terminal_a_notice_goes_above_the_line_being_typed(tmp_path):
    """The courier prints a notice while alice types: it appears above her prompt, which is
    drawn again below it with what she had typed, and the line she finishes runs intact."""
    with at_a_terminal(tmp_path, "--demo") as term:
        term.type(REQUEST + "\r", until="[待管理员审核]")
        term.prompt()
        term.type("visit sh", until="visit sh")
        term.prompt("visit sh")
        typing = len(term.received)
        org = load_org(DEMO_ORG)  # bob, in another process, reviews her request
        db = Database(f"sqlite:///{tmp_path / 'maintbot-demo.sqlite3'}")
        try:
            i18n = I18n(ZoneInfo("Asia/Shanghai"))
            core = Core(db, SystemClock(), i18n, org, platforms("console"))
            core.handle_text(Origin("console", "bob"), "visit approve V-1")
        finally:
            db.dispose()
        # alice's courier finds the notices (it looks every 2 s) and prints them
        wait_until(lambda: "📨 → @alice" in term.screen(typing), timeout=15, what="the notice")

        def below() -> str:
            shown = term.screen(typing)
            return shown[shown.index("📨 → @alice") :]

        wait_until(lambda: "alice> visit sh" in below(), timeout=15, what="the prompt redrawn")
        rows = term.display()
        assert rows[-1] == "alice> visit sh"  # the line being typed, below everything printed
        assert "📨 → @alice" in rows  # the notice, a row of its own
        assert [row for row in rows if "visit sh" in row] == ["alice> visit sh"]  # nothing glued
        term.type("ow V-1\r", until="[待主管批准]")  # the finished line runs intact
