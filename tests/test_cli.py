"""The ``maintbot`` command line: help, migrations, and start-up refusing bad settings.

Each test runs the installed console script as a subprocess in its own working directory with a
clean environment. A bad setting must stop start-up with exit code 2 and one line on stderr that
names what to fix — never a traceback.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from storage import migrate

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).with_name("maintbot")
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "bot.cli"]
TEST_DATABASES = {
    b.strip() for b in os.environ.get("MAINTBOT_TEST_DATABASES", "sqlite").split(",") if b.strip()
}
POSTGRESQL_ADMIN_URL = os.environ.get(
    "MAINTBOT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ORG = """
people:
  - {handle: amy, name: Amy Li, roles: [engineer]}
  - {handle: ben, name: Ben Wu, roles: [admin]}
sites:
  - {code: HQ, name: Head office, rooms: [{code: R1, name: Server room}]}
"""


def maintbot(
    cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``maintbot ARGS`` in ``cwd``; only the MAINTBOT_* variables given in ``env`` are set."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("MAINTBOT_")}
    environ.update(env or {})
    return subprocess.run(
        [*COMMAND, *args],
        cwd=cwd,
        env=environ,
        input=stdin,  # always a pipe: a terminal would make the console interactive
        capture_output=True,
        encoding="utf-8",
        timeout=60,
    )


def refused(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start-up printed on stderr."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("maintbot: "), lines[0]
    assert proc.stdout == ""
    return lines[0]


def test_help_lists_the_commands(tmp_path):
    proc = maintbot(tmp_path, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "console" in proc.stdout and "db" in proc.stdout
    console = maintbot(tmp_path, "console", "--help")
    assert console.returncode == 0
    assert "--as HANDLE" in console.stdout and "--demo" in console.stdout


def test_version_is_the_installed_packages(tmp_path):
    proc = maintbot(tmp_path, "--version")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"maintbot {version('maintbot')}\n"


def test_db_upgrade_creates_the_schema_on_a_fresh_sqlite_file(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    env = {"MAINTBOT_DATABASE_URL": f"sqlite:///{database}", "MAINTBOT_LOG_LEVEL": "WARNING"}
    head = migrate.head()

    before = maintbot(tmp_path, "db", "current", env=env)
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == f"database at revision none (empty database) (head {head})"

    upgraded = maintbot(tmp_path, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"database at revision {head} (head {head})"
    assert upgraded.stderr == ""  # quiet at WARNING
    engine = create_engine(f"sqlite:///{database}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "people", "visits", "audit_log", "outbox"} <= tables, tables

    bogus = refused(maintbot(tmp_path, "db", "upgrade", "no-such-revision", env=env))
    assert "no-such-revision" in bogus


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MAINTBOT_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base'"),
        ("MAINTBOT_LOCALE", "fr", "'zh' or 'en'"),
        ("MAINTBOT_DATABASE_URL", "nonsense", "not a database URL"),
        ("MAINTBOT_DATABASE_URL", "oracle://scott@db/orcl", "postgresql+psycopg"),
        ("MAINTBOT_CONFIG", "/nonexistent path/org.yaml", "no such file: /nonexistent path"),
        ("MAINTBOT_LOG_LEVEL", "LOUD", "'WARNING'"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line(tmp_path, variable, value, says):
    line = refused(maintbot(tmp_path, "console", "--demo", env={variable: value}))
    assert line.startswith(f"maintbot: invalid setting {variable}: "), line
    assert says in line


def test_the_db_command_checks_settings_too(tmp_path):
    line = refused(maintbot(tmp_path, "db", "upgrade", env={"MAINTBOT_DATABASE_URL": "nonsense"}))
    assert "MAINTBOT_DATABASE_URL" in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "dup.yaml",
            "people:\n - {handle: amy, name: A}\n - {handle: amy, name: B}\n",
            "people: duplicate handle: amy",
        ),
        (
            "role.yaml",
            "people:\n - {handle: amy, name: A, roles: [engineer]}\n"
            " - {handle: ben, name: B, roles: [janitor]}\n",
            "people.1.roles.0: Input should be 'engineer', 'admin'",
        ),
        ("broken.yaml", "people: [\n  {handle: amy\n", "line 3, column 1: "),  # PyYAML: 5 lines
    ],
)
def test_a_bad_organisation_file_names_the_file_and_the_field(tmp_path, name, content, says):
    (tmp_path / name).write_text(content, encoding="utf-8")
    line = refused(maintbot(tmp_path, "console", env={"MAINTBOT_CONFIG": name}))
    assert line.startswith(f"maintbot: invalid organisation file {name} (MAINTBOT_CONFIG): ")
    assert says in line, line


def test_console_without_an_organisation_says_how_to_fix_it(tmp_path):
    line = refused(maintbot(tmp_path, "console", stdin="whoami\n"))
    assert "MAINTBOT_CONFIG" in line and "maintbot console --demo" in line
    # An empty value, as a .env template leaves it, counts as not set (not as the directory ".").
    assert refused(maintbot(tmp_path, "console", env={"MAINTBOT_CONFIG": ""})) == line


def test_console_as_somebody_unknown_is_refused(tmp_path):
    line = refused(maintbot(tmp_path, "console", "--demo", "--as", "zed", stdin="whoami\n"))
    assert line == "maintbot: --as zed: nobody has that handle; known: " + (
        "alice, erin, bob, carol, dan, olivia"
    )


def test_unreachable_database_server_is_one_line(tmp_path):
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    env = {
        "MAINTBOT_CONFIG": "org.yaml",
        "MAINTBOT_DATABASE_URL": "postgresql+psycopg://maintbot@127.0.0.1:1/maintbot",
    }
    line = refused(maintbot(tmp_path, "console", env=env))
    assert line.startswith("maintbot: cannot reach MAINTBOT_DATABASE_URL: OperationalError: ")
    assert "sqlalche.me" not in line
    line = refused(maintbot(tmp_path, "db", "current", env=env))
    assert "127.0.0.1:1" in line and "OperationalError" in line


def test_dotenv_in_the_working_directory_is_read(tmp_path):
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    (tmp_path / ".env").write_text(
        "# settings for this checkout\n"
        "MAINTBOT_CONFIG=org.yaml\n"
        "MAINTBOT_DATABASE_URL=sqlite:///from-dotenv.sqlite3\n"
        "MAINTBOT_LOCALE=fr\n",
        encoding="utf-8",
    )
    line = refused(maintbot(tmp_path, "console", stdin="whoami\n"))
    assert "MAINTBOT_LOCALE" in line  # the .env value was read ...
    proc = maintbot(tmp_path, "console", env={"MAINTBOT_LOCALE": "en"}, stdin="whoami\n")
    assert proc.returncode == 0, proc.stderr  # ... and the environment wins over it
    assert "amy> whoami\n┌─ Amy Li (@amy)\n│ Roles: engineer" in proc.stdout
    assert (tmp_path / "from-dotenv.sqlite3").is_file()


@pytest.fixture
def scratch_postgresql() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    if "postgresql" not in TEST_DATABASES:
        pytest.skip("PostgreSQL not requested: add postgresql to MAINTBOT_TEST_DATABASES")
    admin_url = make_url(POSTGRESQL_ADMIN_URL)
    name = f"maintbot_cli_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()


def test_postgresql_must_be_migrated_before_the_console_starts(tmp_path, scratch_postgresql):
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    env = {
        "MAINTBOT_CONFIG": "org.yaml",
        "MAINTBOT_DATABASE_URL": scratch_postgresql,
        "MAINTBOT_LOG_LEVEL": "WARNING",
    }
    head = migrate.head()
    line = refused(maintbot(tmp_path, "console", env=env, stdin="whoami\n"))
    assert f"the database is at revision none, not {head}" in line
    assert "run `maintbot db upgrade` first" in line

    upgraded = maintbot(tmp_path, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"database at revision {head} (head {head})"

    proc = maintbot(tmp_path, "console", "--as", "ben", env=env, stdin="whoami\npeople\n")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "ben> whoami\n┌─ Ben Wu (@ben)" in proc.stdout
    assert "@amy — Amy Li" in proc.stdout
