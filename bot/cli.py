"""The ``maintbot`` command line: console, db upgrade / current."""

import argparse
import dataclasses
import os
import sys
from importlib.metadata import version
from pathlib import Path

from bot.settings import Settings, SettingsError, configure_logging, load_settings

DEMO_DB = "maintbot-demo.sqlite3"


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot import runtime
    from bot.console import ConsoleOutput, ConsoleSender, run_console
    from bot.orgfile import DEMO_ORG, load_org

    org_path = DEMO_ORG if args.demo else settings.config
    if args.demo:
        Path(DEMO_DB).unlink(missing_ok=True)
        settings = settings.model_copy(update={"database_url": f"sqlite:///{DEMO_DB}"})
    org = load_org(org_path)
    if not org.people:
        raise SettingsError(
            "no people configured: set MAINTBOT_CONFIG to an organisation file "
            "(see deploy/org.sample.yaml) or try `maintbot console --demo`"
        )
    person = (args.as_person or org.people[0].handle).lstrip("@").lower()
    handles = [p.handle for p in org.people]
    if person not in handles:
        known = ", ".join(handles)
        raise SettingsError(f"--as {args.as_person}: nobody has that handle; known: {known}")
    output = ConsoleOutput(sys.stdout, Path.cwd())
    rt = runtime.build(settings, senders={"console": ConsoleSender(output)}, org=org)
    try:
        run_console(rt, output, person, sys.stdin)
    finally:
        rt.stop()
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if missing := settings.wecom_missing():
        raise SettingsError(f"WeCom is half configured: set {', '.join(missing)}")
    if not (settings.slack_enabled or settings.wecom_enabled):
        raise SettingsError(
            "nothing to serve: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or the WECOM_* "
            "variables (see README, Connect to Slack / Connect to WeCom)"
        )
    if args.socket_mode and not (settings.slack_enabled and settings.slack_app_token):
        raise SettingsError("--socket-mode needs SLACK_APP_TOKEN (an xapp- app-level token)")
    if args.workers < 1:
        raise SettingsError("--workers must be 1 or more")
    import uvicorn

    from bot.server import create_app, wire

    # The bot token reaches Slack through the clients built from the settings. Bolt would also
    # read SLACK_BOT_TOKEN from the environment on its own and warn, at every start, that the
    # token it was given wins: nothing an operator can act on.
    os.environ.pop("SLACK_BOT_TOKEN", None)

    # also checks the settings, the database and the worker processes before serving
    served = wire(settings, args.workers)
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": settings.log_level.lower(),
        "access_log": settings.log_level == "DEBUG",
    }
    if args.socket_mode:  # Slack over its WebSocket; HTTP still serves WeCom and /healthz
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(served.slack.app, settings.slack_app_token)
        handler.connect()
        try:
            uvicorn.run(create_app(dataclasses.replace(served, slack=None)), **options)
        finally:
            handler.close()
            served.slack.close()
        return 0
    uvicorn.run(create_app(served), **options)
    return 0


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            migrate.upgrade(db.engine, args.revision)
        current = migrate.current(db.engine) or "none (empty database)"
        print(f"database at revision {current} (head {migrate.head()})")
    except Exception as exc:
        exc = getattr(exc, "orig", None) or exc  # the driver's words, not SQLAlchemy's wrapper
        raise SettingsError(f"database {db.engine.url!r}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        db.dispose()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="maintbot",
        description="Chat-ops for machine-room maintenance: Slack, WeCom and a console.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version('maintbot')}")
    sub = p.add_subparsers(dest="command", required=True)
    console = sub.add_parser("console", help="an interactive shell acting as one person")
    console.add_argument("--as", dest="as_person", metavar="HANDLE", help="who you are")
    console.add_argument(
        "--demo", action="store_true", help=f"a sample organisation in a fresh ./{DEMO_DB}"
    )
    console.set_defaults(run=_console)
    serve = sub.add_parser("serve", help="serve Slack and/or WeCom (Slack also over Socket Mode)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    serve.add_argument(
        "--workers", type=int, default=2,
        help="processes running commands (default 2; this one only answers the platforms)",
    )  # fmt: skip
    serve.add_argument(
        "--socket-mode", action="store_true", help="connect to Slack over Socket Mode instead"
    )
    serve.set_defaults(run=_serve)
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("revision", nargs="?", default="head")
    db.set_defaults(run=_db)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        level = settings.log_level
        if args.command == "console" and level in ("DEBUG", "INFO"):
            level = "WARNING"  # the console's screen is for the conversation, not the log
        configure_logging(level)
        return args.run(args, settings)
    except SettingsError as err:
        one_line = "; ".join(line.strip() for line in str(err).splitlines() if line.strip())
        print(f"maintbot: {one_line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
