"""``maintbot serve`` as a benchmark runs it: its command, an environment that configures it
completely, its database migrated beforehand where serve does not do it itself."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from benchmarks.kit.servers import ROOT, Server, SetupError, free_port

ORGANISATION = ROOT / "tests" / "org.yaml"


def command(custom: str | None = None) -> list[str]:
    """``custom`` split as a shell would (e.g. to run maintbot under a profiler), else the
    virtualenv's ``maintbot`` script."""
    if custom:
        return shlex.split(custom)
    exe = Path(sys.executable).with_name("maintbot")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any maintbot, Slack or WeCom setting, then the test
    organisation, English, warnings only, ``database_url`` and ``settings``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MAINTBOT_", "SLACK_", "WECOM_"))
    }
    return env | {
        "MAINTBOT_CONFIG": str(ORGANISATION),
        "MAINTBOT_DATABASE_URL": database_url,
        "MAINTBOT_LOG_LEVEL": "WARNING",
        "MAINTBOT_LOCALE": "en",
        **settings,
    }


def slack_settings(fake, signing_secret: str) -> dict[str, str]:
    """Slack pointed at ``fake`` (a ``tests.fake_slack.FakeSlack``)."""
    return {
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": fake.base_url,
    }


def upgrade(cmd: list[str], env: dict, workdir: Path) -> None:
    """``maintbot db upgrade`` (serve itself migrates only the embedded SQLite default)."""
    done = subprocess.run(
        [*cmd, "db", "upgrade"], env=env, cwd=workdir, capture_output=True, text=True
    )
    if done.returncode:
        raise SetupError(f"maintbot db upgrade failed:\n{done.stdout}{done.stderr}")


def served(name: str, cmd: list[str], env: dict, workdir: Path, *options: str) -> Server:
    """``maintbot serve`` on a free port, not started yet (``.start(timeout=60)``)."""
    argv = [*cmd, "serve", "--port", str(free_port()), *options]
    return Server(name, argv, workdir, env)
