"""Settings from the environment and the organisation file, validated at start-up.

Every failure is a SettingsError whose message is one line naming the variable (and, for the
organisation file, the file and the field) at fault.
"""

import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.orgfile import DEMO_ORG, load_org
from bot.settings import Settings, SettingsError, configure_logging, load_settings
from handlers.workflows import OrgConfig

SAMPLE_ORG = Path(__file__).parents[1] / "deploy" / "org.sample.yaml"

ORG_YAML = """
people:
  - handle: amy
    name: Amy Li
    roles: [engineer, oncall]
    locale: en
    slack: U0AMY
  - {handle: ben, name: Ben Wu, roles: [admin], wecom: benwu}
sites:
  - code: HQ
    name: Head office
    rooms:
      - {code: R1, name: Server room}
channels:
  visits: {slack: C0VISITS}
visits:
  lead_time_days: 1
"""

ORG_TOML = """
[[people]]
handle = "amy"
name = "Amy Li"
roles = ["engineer", "oncall"]
locale = "en"
slack = "U0AMY"

[[people]]
handle = "ben"
name = "Ben Wu"
roles = ["admin"]
wecom = "benwu"

[[sites]]
code = "HQ"
name = "Head office"
rooms = [{code = "R1", name = "Server room"}]

[channels.visits]
slack = "C0VISITS"

[visits]
lead_time_days = 1
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No MAINTBOT_* variable from the shell, and a working directory without a .env file."""
    for name in list(os.environ):
        if name.upper().startswith("MAINTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def error_of(**env: str) -> str:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- settings ------------------------------------------------------------------------------


def test_defaults():
    settings = load_settings()
    assert settings.database_url == "sqlite:///maintbot.sqlite3"
    assert settings.config is None
    assert settings.timezone == "Asia/Shanghai"
    assert settings.tz == ZoneInfo("Asia/Shanghai")
    assert settings.locale == "zh"
    assert settings.log_level == "INFO"


def test_values_from_the_environment(monkeypatch, tmp_path):
    org = tmp_path / "org.yaml"
    org.write_text(ORG_YAML, encoding="utf-8")
    monkeypatch.setenv("MAINTBOT_DATABASE_URL", "postgresql+psycopg://bot:secret@db:5432/maintbot")
    monkeypatch.setenv("MAINTBOT_CONFIG", str(org))
    monkeypatch.setenv("MAINTBOT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("MAINTBOT_LOCALE", "en")
    monkeypatch.setenv("MAINTBOT_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("MAINTBOT_SOMETHING_ELSE", "ignored")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://bot:secret@db:5432/maintbot"
    assert settings.config == org
    assert settings.tz == ZoneInfo("Europe/Berlin")
    assert (settings.locale, settings.log_level) == ("en", "DEBUG")


def test_overrides_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("MAINTBOT_LOCALE", "zh")
    assert load_settings(locale="en").locale == "en"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///relative.sqlite3",
        "sqlite:////var/lib/maintbot/maintbot.sqlite3",
        "postgresql+psycopg://postgres@127.0.0.1:5432/maintbot",
        "mysql+pymysql://root@127.0.0.1:3306/maintbot",
        "mariadb+pymysql://root@127.0.0.1:3306/maintbot",
    ],
)
def test_supported_database_urls(monkeypatch, url):
    monkeypatch.setenv("MAINTBOT_DATABASE_URL", url)
    assert load_settings().database_url == url


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MAINTBOT_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base' (e.g. Asia/Shanghai)"),
        ("MAINTBOT_TIMEZONE", "", "unknown time zone ''"),
        ("MAINTBOT_LOCALE", "fr", "Input should be 'zh' or 'en'"),
        ("MAINTBOT_LOG_LEVEL", "LOUD", "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("MAINTBOT_DATABASE_URL", "nonsense", "not a database URL"),
        ("MAINTBOT_DATABASE_URL", "oracle://scott@db/orcl", "use sqlite, postgresql+psycopg"),
        ("MAINTBOT_CONFIG", "/nonexistent path/org.yaml", "no such file: /nonexistent path"),
    ],
)
def test_each_bad_value_names_its_variable(variable, value, says):
    message = error_of(**{variable: value})
    assert message.startswith(f"invalid setting {variable}: "), message
    assert says in message
    assert "Value error" not in message


def test_config_must_be_a_file(tmp_path):
    assert error_of(MAINTBOT_CONFIG=str(tmp_path)) == (
        f"invalid setting MAINTBOT_CONFIG: no such file: {tmp_path}"
    )


def test_an_empty_config_means_none(monkeypatch):
    """``MAINTBOT_CONFIG=`` as a .env template leaves it: no file, not the directory "."."""
    monkeypatch.setenv("MAINTBOT_CONFIG", "")
    assert load_settings().config is None
    monkeypatch.setenv("MAINTBOT_CONFIG", "  ")
    assert load_settings().config is None


def test_the_first_of_several_errors_is_reported():
    message = error_of(MAINTBOT_TIMEZONE="Mars/Base", MAINTBOT_LOCALE="fr")
    assert message.startswith("invalid setting MAINTBOT_")


def test_dotenv_file_in_the_working_directory(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(
        "# local settings\nMAINTBOT_LOCALE=en\nMAINTBOT_TIMEZONE=UTC\nOTHER_TOOL=x\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert (settings.locale, settings.timezone) == ("en", "UTC")
    monkeypatch.setenv("MAINTBOT_LOCALE", "zh")  # the environment wins over .env
    assert load_settings().locale == "zh"


def test_a_bad_value_in_dotenv_names_the_variable(tmp_path):
    (tmp_path / ".env").write_text("MAINTBOT_LOCALE=fr\n", encoding="utf-8")
    assert error_of().startswith("invalid setting MAINTBOT_LOCALE: ")


def test_settings_are_a_pydantic_model():
    assert isinstance(load_settings(), Settings)


# --- organisation file ---------------------------------------------------------------------


def test_no_file_is_an_empty_organisation():
    assert load_org(None) == OrgConfig()


@pytest.mark.parametrize(("suffix", "content"), [(".yaml", ORG_YAML), (".toml", ORG_TOML)])
def test_yaml_and_toml_read_the_same(tmp_path, suffix, content):
    path = tmp_path / f"org{suffix}"
    path.write_text(content, encoding="utf-8")
    org = load_org(path)
    assert [(p.handle, p.roles, p.locale) for p in org.people] == [
        ("amy", ["engineer", "oncall"], "en"),
        ("ben", ["admin"], None),
    ]
    assert org.people[0].slack == "U0AMY" and org.people[1].wecom == "benwu"
    assert [(s.code, [r.code for r in s.rooms]) for s in org.sites] == [("HQ", ["R1"])]
    assert org.channels["visits"].slack == "C0VISITS"
    assert org.visits.lead_time_days == 1
    assert org.visits.overrun_grace_minutes == 30  # default


def test_the_yaml_and_toml_organisations_are_equal(tmp_path):
    (tmp_path / "a.yaml").write_text(ORG_YAML, encoding="utf-8")
    (tmp_path / "a.toml").write_text(ORG_TOML, encoding="utf-8")
    assert load_org(tmp_path / "a.yaml") == load_org(tmp_path / "a.toml")


def test_an_empty_file_is_an_empty_organisation(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nobody yet\n", encoding="utf-8")
    assert load_org(tmp_path / "empty.yaml") == OrgConfig()


def test_the_demo_and_the_sample_load():
    demo = load_org(DEMO_ORG)
    assert [p.handle for p in demo.people] == ["alice", "erin", "bob", "carol", "dan", "olivia"]
    assert {p.handle for p in demo.people if "admin" in p.roles} == {"bob"}
    assert load_org(SAMPLE_ORG) == demo  # the sample says --demo runs with exactly it


def org_error(tmp_path: Path, content: str, name: str = "org.yaml") -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_org(path)
    message = str(caught.value)
    assert message.startswith(f"invalid organisation file {path} (MAINTBOT_CONFIG): "), message
    assert "\n" not in message
    assert "Value error" not in message
    return message.split("(MAINTBOT_CONFIG): ", 1)[1]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            "people:\n - {handle: amy, name: A}\n - {handle: amy, name: B}\n",
            "people: duplicate handle: amy",
        ),
        (
            "people:\n - {handle: amy, name: A, slack: U1}\n - {handle: ben, name: B, slack: U1}\n",
            "people: duplicate slack: U1",
        ),
        (
            "people:\n - {handle: amy, name: A, wecom: w}\n - {handle: ben, name: B, wecom: w}\n",
            "people: duplicate wecom: w",
        ),
        (
            "people:\n - {handle: amy, name: A, roles: [engineer]}\n"
            " - {handle: ben, name: B, roles: [janitor]}\n",
            "people.1.roles.0: Input should be 'engineer', 'admin', 'supervisor', 'manager' or "
            "'oncall'",
        ),
        ("people:\n - {handle: Amy, name: A}\n", "people.0.handle: String should match pattern"),
        ("people:\n - {handle: amy}\n", "people.0.name: Field required"),
        ("people:\n - {handle: amy, name: A, emial: a@x}\n", "people.0.emial: Extra inputs"),
        ("people:\n - {handle: amy, name: A, locale: fr}\n", "people.0.locale: Input should be"),
        ("sites:\n - {code: HQ, name: H, rooms: []}\n", "sites.0.rooms: List should have at least"),
        (
            "sites:\n - {code: HQ, name: H, rooms: [{code: R1, name: R}]}\n"
            " - {code: hq, name: H2, rooms: [{code: R2, name: R}]}\n",
            "sites: duplicate site code",
        ),
        ("channels:\n  lobby: {slack: C1}\n", "channels.lobby.[key]: Input should be"),
        ("visits:\n  lead_time_days: 99\n", "visits.lead_time_days: Input should be less than"),
        ("peeple: []\n", "peeple: Extra inputs are not permitted"),
        ("- alice\n- bob\n", "top level: Input should be a valid dictionary"),
        ("people: [\n  {handle: amy\n", "line 3, column 1: "),
        ("people:\n  - handle: a\n    name: x\n   roles: [admin]\n", "line 4, column 4: "),
    ],
)
def test_yaml_errors_name_the_field(tmp_path, content, says):
    assert says in org_error(tmp_path, content)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('[[people]]\nhandle = "amy\n', "(at line 2, column 14)"),
        ('[[people]]\nhandle = "amy"\nname = "A"\nroles = ["boss"]\n', "people.0.roles.0: "),
        ("people = 3\n", "people: Input should be a valid list"),
    ],
)
def test_toml_errors_name_the_field(tmp_path, content, says):
    assert says in org_error(tmp_path, content, name="org.toml")


def test_an_unreadable_file_is_a_settings_error(tmp_path):
    (tmp_path / "org.yaml").mkdir()  # a directory where the file should be
    with pytest.raises(SettingsError) as caught:
        load_org(tmp_path / "org.yaml")
    assert str(caught.value).startswith(f"invalid organisation file {tmp_path / 'org.yaml'} ")
    with pytest.raises(SettingsError, match="No such file"):
        load_org(tmp_path / "missing.toml")


def test_only_apschedulers_coalescing_notice_is_silenced(caplog):
    configure_logging("INFO")
    scheduler = logging.getLogger("apscheduler.scheduler")
    missed = 'Run time of job "sweep" was missed by 0:00:03'
    with caplog.at_level(logging.WARNING):
        scheduler.warning(
            'Execution of job "sweep" skipped: maximum number of running instances reached (1)'
        )
        scheduler.warning(missed)
    assert [r.getMessage() for r in caplog.records if r.name == scheduler.name] == [missed]


def test_the_files_directory_follows_the_sqlite_file_else_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    beside = Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'maint.sqlite3'}")
    assert beside.files_directory() == tmp_path / "db" / "maintbot-files"
    server = Settings(database_url="postgresql+psycopg://bot@db/maint")
    assert server.files_directory() == tmp_path / "maintbot-files"
    chosen = Settings(
        files_dir=tmp_path / "elsewhere", attachment_max_mb=2, attachment_types="pdf,.DWG"
    )
    rules = chosen.file_rules()
    assert (rules.directory, rules.max_bytes, rules.types) == (
        tmp_path / "elsewhere",
        2 * 1024 * 1024,
        ("pdf", ".dwg"),
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MAINTBOT_ATTACHMENT_TYPES", "image,movies", "unknown type movies"),
        ("MAINTBOT_ATTACHMENT_MAX_MB", "0", "greater than 0"),
    ],
)
def test_bad_attachment_settings_name_their_variable(variable, value, says):
    message = error_of(**{variable: value})
    assert message.startswith(f"invalid setting {variable}: ") and says in message, message
