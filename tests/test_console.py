"""The console end to end: the real ``maintbot console`` command, fed a script on stdin.

Every test runs the installed console script in its own working directory with a clean
environment (no MAINTBOT_* variable leaks in from the developer's shell), so what it sees is
what a newcomer sees after ``pip install -e .``.
"""

import csv
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

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

    refused = run.turn("alice", "as zed").text
    assert refused == "⚠ 抱歉，我还不认识你（zed）。请联系管理员把你加入组织配置文件。"
    assert run.turn("alice", "whoami").text.startswith("┌─ 张工 Alice (@alice)")
    assert run.turn("alice", "whoami", 1).text.startswith("┌─ 张工 Alice (@alice)")

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
    assert "✔ Visit request V-1 filed; it now waits for admin review." in filed
    assert "│ When: " in filed and "[awaiting admin review]" in filed
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
