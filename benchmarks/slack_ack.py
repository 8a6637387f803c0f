#!/usr/bin/env python
"""Slack acknowledgement benchmark (issue 3): maintbot's request URL against a bare Bolt "floor".

Sends signed ``/maint help`` and ``/maint visit list`` slash commands (a fresh timestamp and
signature on every request) at a fixed concurrency to servers on loopback and measures
throughput and acknowledgement latency (request written → full HTTP response read):

1. the client's own ceiling, against a do-nothing HTTP server;
2. the floor: an ack-only Bolt app on Bolt's Starlette adapter, uvicorn, uvloop + httptools
   (``--floor-config`` picks one of the slower set-ups it was once compared with);
3. maintbot itself, started as ``maintbot serve`` on a fresh SQLite file (or a scratch
   PostgreSQL database, ``--database``) with a few visits seeded, its Web API pointed at a
   FakeSlack in this process;
4. maintbot with the database locked for ``--lock`` seconds while the load runs, and with the
   fake Slack API answering ``--slow-slack`` seconds late (once with the same help/list load,
   once with a share of modal-opening commands, whose views.open is the only Slack call these
   commands make straight away).

Run from the repository root (about a minute with the defaults on a 2-core machine):

    .venv/bin/python benchmarks/slack_ack.py
    .venv/bin/python benchmarks/slack_ack.py --duration 4 --probe 2 --skip-slow   # quicker
    .venv/bin/python benchmarks/slack_ack.py --database sqlite,postgresql          # both

It prints a table and PASS/FAIL against issue 3's targets; it exits 0 whatever the figures (a
report, not a test), 1 only when the setup failed. benchmarks/README.md says what they mean.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.kit import maintbot
from benchmarks.kit.ack_runs import HELP_LIST, AckRuns
from benchmarks.kit.figures import comparisons, say, table
from benchmarks.kit.floors import SLACK_CONFIGS
from benchmarks.kit.scratch import ScratchDatabase, scratch_dir
from benchmarks.kit.servers import SetupError, floor_server
from benchmarks.kit.slash_commands import seed_visits, settle
from tests.fake_slack import FakeSlack
from tests.slack_requests import SIGNING_SECRET

TARGET_P99_MS = 100.0
TARGET_RATIO = 0.5
SLOW_RUNS = {
    "slow_db": "slow DB",
    "slow_slack": "slow Slack",
    "slow_slack_modal": "slow Slack + modals",
}
POSTGRES_URL = os.environ.get(  # the tests' server
    "MAINTBOT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
HTTPX = importlib.util.find_spec("httpx") is not None  # the [test] extra


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.runs = AckRuns(args)
        self.results: dict = {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "concurrency": args.concurrency,
            "client": args.client,
        }

    # ---- 1. the client's ceiling
    def client_ceiling(self) -> None:
        say("client ceiling (a do-nothing HTTP server; the client is the only limit):")
        with floor_server("null", self.workdir, "null") as null:
            for client in ("raw", "httpx") if HTTPX else ("raw",):
                server = f"null server, {client} client"
                figures = self.runs.measure(
                    "client ceiling", server, null.port, client=client, duration=self.args.probe
                )
                self.results[f"ceiling_{client}"] = asdict(figures)

    # ---- 2. the floor
    def floor(self) -> None:
        a = self.args
        adapter, loop, http = a.floor_config.split("-")
        name = "Bolt Starlette adapter" if adapter == "bolt" else "dispatch in thread"
        name += f", {loop}+{http}"
        say(f"floor: {name}")
        with floor_server("floor", self.workdir, "slack", "--config", a.floor_config) as floor:
            figures = self.runs.measure("floor", name, floor.port)
            if a.client == "raw" and HTTPX:  # the same floor through httpx, to compare
                httpx = dict(client="httpx", duration=a.probe, warmup=False)
                extra = self.runs.measure("floor (httpx client)", name, floor.port, **httpx)
                self.results["floor_httpx"] = asdict(extra)
        self.results["floor_config"] = name
        self.results["floor"] = asdict(figures)

    # ---- 3 and 4. maintbot, then with its database locked and with Slack slow
    def maintbot(self, fake: FakeSlack, kind: str) -> None:
        a = self.args
        with ScratchDatabase(kind, self.workdir, a.postgres_url) as db:
            env = maintbot.environment(db.url, **maintbot.slack_settings(fake, SIGNING_SECRET))
            if db.kind != "sqlite":
                maintbot.upgrade(maintbot.command(), env, self.workdir)
            cmd = maintbot.command(a.maintbot_cmd)
            server = maintbot.served(
                f"maintbot-{kind}", cmd, env, self.workdir, "--workers", str(a.workers)
            )
            say(f"maintbot on {db.label}: {' '.join(server.argv)}")
            started = time.perf_counter()
            server.start(timeout=60)
            results = self.results.setdefault("maintbot", {}).setdefault(db.kind, {})
            results["database"] = db.label
            results["startup_s"] = round(time.perf_counter() - started, 2)
            try:
                out = self._runs(server.port, fake, db)
            finally:
                server.stop(timeout=60)
                results["log_errors"] = server.log_count(" ERROR ")
                if results["log_errors"]:
                    say(
                        f"  maintbot logged {results['log_errors']} ERROR lines; the last lines "
                        f"of its log:\n{server.tail(12)}"
                    )
        results |= {key: asdict(figures) for key, figures in out.items()}

    def _runs(self, port: int, fake: FakeSlack, db: ScratchDatabase) -> dict:
        a = self.args
        blocks = seed_visits(port, a.seed)
        say(f"  seeded {a.seed} visits; bob's visit list shows them; help answers {blocks} blocks")
        out = {"normal": self.runs.answered(port, fake, db.kind)}
        if a.skip_slow:
            return out
        out["slow_db"] = self.runs.locked(port, fake, db)
        self._settle(port)
        out["slow_slack"] = self.runs.slow_slack(port, fake, db.kind, HELP_LIST, "slow Slack")
        self._settle(port)
        modals = round(10 * a.modal_share)  # of every 10 commands
        mix = ["modal" if i < modals else k for i, k in enumerate(HELP_LIST * 5)]
        out["slow_slack_modal"] = self.runs.slow_slack(
            port, fake, db.kind, mix, "slow Slack + modals"
        )
        return out

    def _settle(self, port: int, timeout: float = 60.0) -> None:
        if not settle(port, timeout):  # the backlogs of the run before are not drained
            say(f"  (maintbot did not settle within {timeout:.0f}s)")

    # ---- 5. the report
    def targets(self, kind: str, m: dict) -> list[tuple[str, bool, str]]:
        """Issue 3's targets for maintbot on one database: name, met, what was measured."""
        normal, floor = m["normal"], self.results.get("floor")
        p99 = normal["p99_ms"]
        checks = [(f"[{kind}] p99 < {TARGET_P99_MS:.0f} ms", p99 < TARGET_P99_MS, f"{p99:.1f} ms")]
        if floor:
            ratio = normal["rps"] / floor["rps"]
            name = f"[{kind}] throughput >= {TARGET_RATIO:.0%} of floor"
            checks.append((name, ratio >= TARGET_RATIO, f"{ratio:.0%}"))
        for key, label in SLOW_RUNS.items():
            if f := m.get(key):
                measured = (
                    f"max {f['max_ms'] / 1000:.2f} s, {f['over_3s']} over 3 s, {f['errors']} "
                    f"errors; {f['inline']} inline, {f['deferred']} deferred"
                )
                met = f["over_3s"] == 0 and f["errors"] == 0
                checks.append((f"[{kind}] no ack > 3 s, {label}", met, measured))
        return checks

    def report(self) -> None:
        a, r = self.args, self.results
        say(
            f"\nResults — {r['cores']} cores, Python {r['python']}, concurrency "
            f"{a.concurrency}, {a.client} asyncio client, signed slash commands on loopback"
        )
        say(table(self.runs.rows) + "\n")
        for line in comparisons(r, a.client):
            say(line)
        checks = [
            check
            for kind, m in r.get("maintbot", {}).items()
            if "normal" in m
            for check in self.targets(kind, m)
        ]
        if checks:
            say("\ntargets (issue 3):")
            for name, passed, detail in checks:
                say(f"  {'PASS' if passed else 'FAIL'}  {name:<48} {detail}")
        r["targets"] = [{"target": n, "pass": p, "measured": d} for n, p, d in checks]
        if a.json:
            Path(a.json).write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")
            say(f"\nfigures written to {a.json}")


OPTIONS = [  # flag, default (its type is the option's; False: a switch; a list: the choices)
    ("--concurrency", 50, "requests in flight"),
    ("--duration", 8.0, "seconds per measured run"),
    ("--requests", 0, "measure N requests per run instead of --duration seconds"),
    ("--probe", 3.0, "seconds per client-ceiling run and per httpx run of the floor"),
    ("--warmup", 300, "requests before each measured run"),
    ("--client", ["raw", "httpx"], "raw asyncio streams on uvloop, or httpx (it collapses)"),
    ("--floor-config", SLACK_CONFIGS, "the floor's server (the default always was the fastest)"),
    ("--postgres-url", POSTGRES_URL, "the scratch database's server; or set it in the env"),
    ("--workers", 2, "maintbot serve --workers (core processes)"),
    ("--seed", 6, "visit requests filed before the load"),
    ("--skip-ceiling", False, "skip the client ceiling run"),
    ("--skip-floor", False, "skip the floor (maintbot only)"),
    ("--skip-slow", False, "skip the slow DB / slow Slack runs"),
    ("--lock", 10.0, "seconds the database lock is held in the slow-DB run"),
    ("--lock-after", 1.0, "seconds into the slow-DB run at which the lock is taken"),
    ("--after-lock", 4.0, "seconds the slow-DB run goes on after the lock is released"),
    ("--late-wait", 10.0, "at most this long to wait for deferred answers after a run"),
    ("--slow-slack", 5.0, "seconds every fake Slack API answer is late in the slow-Slack runs"),
    ("--slow-duration", 6.0, "seconds per slow-Slack run"),
    ("--modal-share", 0.1, "share of modal-opening commands in the second slow-Slack run"),
    ("--maintbot-cmd", None, "how to run maintbot (e.g. under a profiler); + 'serve ...'"),
    ("--json", None, "also write every figure as JSON to this path"),
    ("--keep", False, "keep the temporary directory (logs, db)"),
]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python benchmarks/slack_ack.py",
        description="Acknowledgement latency and throughput of maintbot's Slack request URL, "
        "side by side with an ack-only Bolt app (the floor). Run from the repository root with "
        "the project's virtualenv: .venv/bin/python benchmarks/slack_ack.py",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for flag, default, text in OPTIONS:
        if default is False:
            p.add_argument(flag, action="store_true", help=text)
        elif isinstance(default, list):
            p.add_argument(flag, choices=default, default=default[0], help=text)
        else:
            p.add_argument(
                flag, type=str if default is None else type(default), default=default, help=text
            )
    p.add_argument(
        "--database",
        default="sqlite",
        type=_databases,
        metavar="sqlite|postgresql[,...]",
        help="maintbot's database: a fresh SQLite file, a scratch PostgreSQL database on "
        "--postgres-url's server, or both one after the other (sqlite,postgresql)",
    )
    return p


def _databases(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    if not kinds or any(k not in ("sqlite", "postgresql") for k in kinds):
        raise argparse.ArgumentTypeError("sqlite, postgresql or both, comma-separated")
    return kinds


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with scratch_dir("maintbot-bench-", keep=args.keep) as workdir:
        bench = Bench(args, workdir)
        say(
            f"slack_ack benchmark: {os.cpu_count()} cores, concurrency {args.concurrency}, "
            f"{args.client} client; work dir {workdir}"
        )
        load = bench.results["loadavg_before"] = round(os.getloadavg()[0], 2)
        if load > 0.5:
            say(
                f"note: the 1-minute load average is already {load:.1f}; other work on the "
                "machine lowers every figure"
            )
        started = time.perf_counter()
        try:
            with FakeSlack() as fake:
                if not args.skip_ceiling:
                    bench.client_ceiling()
                if not args.skip_floor:
                    bench.floor()
                for kind in args.database:
                    bench.maintbot(fake, kind)
        except SetupError as err:
            say(f"setup failed: {err}")
            bench.report()
            return 1
    bench.results["elapsed_s"] = round(time.perf_counter() - started, 1)
    bench.report()
    say(f"\n(benchmark took {bench.results['elapsed_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
