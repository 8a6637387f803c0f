"""slack_ack's measured runs: signed slash commands against one server (a warm-up, the load, its
figures, a line printed as it ends), and against a served maintbot with a slowed dependency: its
database locked, the fake Slack API answering late."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence

from benchmarks.kit.figures import Figures, say
from benchmarks.kit.load import Load
from benchmarks.kit.scratch import HeldLock, ScratchDatabase
from benchmarks.kit.servers import http_request
from benchmarks.kit.slash_commands import answer_kind, commands
from tests.fake_slack import FakeSlack

HELP_LIST = ("help", "list")


class AckRuns:
    """Runs with slack_ack's options (``args``); ``rows`` holds every run's figures."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Figures] = []

    def measure(
        self,
        phase: str,
        server: str,
        port: int,
        mix: Sequence[str] = HELP_LIST,
        *,
        warmup: bool = True,
        duration: float | None = None,
        client: str | None = None,
        hook_url: str | None = None,
        timed: bool = False,
    ) -> Figures:
        """One run, after ``--warmup`` requests; ``timed`` runs are always ``duration`` long (a
        lock or a slowness lasts a fixed time), others take ``--requests`` when it is given."""
        a = self.args
        options = dict(concurrency=a.concurrency, client=client or a.client, classify=answer_kind)
        if warmup and a.warmup:  # its answers are not counted with the run's
            warmup_hook = hook_url and hook_url + "-warmup"
            Load(port, commands(mix, warmup_hook), requests=a.warmup, **options).run()
        by_count = bool(a.requests) and not timed
        samples, seconds = Load(
            port,
            commands(mix, hook_url),
            duration=None if by_count else duration or a.duration,
            requests=a.requests if by_count else None,
            **options,
        ).run()
        figures = Figures.of(phase, server, samples, seconds)
        self.rows.append(figures)
        say(figures.line())
        return figures

    def answered(self, port: int, fake: FakeSlack, kind: str) -> Figures:
        """maintbot's run, then its deferred answers awaited at the response_url."""
        hook = f"bench-{kind}-normal"
        figures = self.measure(
            "maintbot", f"maintbot serve [{kind}]", port, hook_url=fake.response_url(hook)
        )
        notes = self._await_answers(fake, hook, figures)
        say(
            f"    {notes['late_answers_delivered']} of {figures.deferred} deferred answers "
            f"reached the response_url, the last {notes['late_answers_after_s']} s after the "
            "load stopped"
        )
        return figures

    def locked(self, port: int, fake: FakeSlack, db: ScratchDatabase) -> Figures:
        """The database locked for ``--lock`` seconds, ``--lock-after`` seconds into the run; a
        health check sent meanwhile; the answers deferred during the lock awaited afterwards."""
        a = self.args
        health: dict = {}

        def check_health() -> None:  # what a load balancer's health check sees meanwhile
            time.sleep(a.lock_after + min(1.0, a.lock / 2))
            t0 = time.perf_counter()
            try:
                health["status"] = http_request(port, "GET", "/healthz", timeout=40)[0]
            except OSError as exc:
                health["status"] = f"{exc.__class__.__name__}"
            health["seconds"] = round(time.perf_counter() - t0, 2)

        checker = threading.Thread(target=check_health, daemon=True)
        holder = HeldLock(db, a.lock, after=a.lock_after)
        checker.start()
        holder.start()
        hook = f"bench-{db.kind}-slow-db"
        figures = self.measure(
            "slow DB",
            f"maintbot [{db.kind}], {db.lock_name} {a.lock:.0f}s",
            port,
            warmup=False,
            timed=True,
            hook_url=fake.response_url(hook),
            duration=a.lock_after + a.lock + a.after_lock,
        )
        holder.join()
        checker.join()
        figures.notes |= {"lock": holder.times, "healthz_during_lock": health}
        self._await_answers(fake, hook, figures)
        say(
            f"    lock held from {holder.times.get('acquired_at', 0):.1f}s to "
            f"{holder.times.get('released_at', 0):.1f}s of the run; "
            f"{figures.notes['late_answers_delivered']} of {figures.deferred} deferred answers "
            "reached the response_url afterwards"
        )
        say(
            f"    GET /healthz sent during the lock: {health.get('status')} after "
            f"{health.get('seconds', 0):.1f}s"
        )
        return figures

    def slow_slack(self, port: int, fake: FakeSlack, kind: str, mix, phase: str) -> Figures:
        """Every fake Slack API answer ``--slow-slack`` seconds late for ``--slow-duration``."""
        a = self.args
        hook = f"bench-{kind}-" + phase.replace(" ", "-").replace("+", "")
        opened = len(fake.calls("views.open"))
        fake.slow(a.slow_slack)
        try:
            figures = self.measure(
                phase,
                f"maintbot [{kind}], Slack API +{a.slow_slack:.0f}s",
                port,
                mix,
                warmup=False,
                timed=True,
                hook_url=fake.response_url(hook),
                duration=a.slow_duration or a.duration,
            )
        finally:
            fake.slow(0)
        figures.notes["views_open_calls_during_run"] = len(fake.calls("views.open")) - opened
        figures.notes["late_answers_delivered"] = len(fake.calls(f"hooks/{hook}"))
        if "modal" in figures.kinds:
            per_kind = (
                f"{k} {v['requests']} ({v['deferred']} deferred, p50 {v['p50_ms']:.0f} ms)"
                for k, v in figures.kinds.items()
            )
            say("    per kind: " + ", ".join(per_kind))
        return figures

    def _await_answers(self, fake: FakeSlack, hook: str, figures: Figures) -> dict:
        """Wait for the deferred answers to reach the response_url; note how many, how late."""
        stopped = time.perf_counter()
        while time.perf_counter() < stopped + self.args.late_wait:
            if len(fake.calls(f"hooks/{hook}")) >= figures.deferred:
                break
            time.sleep(0.25)
        figures.notes["late_answers_delivered"] = len(fake.calls(f"hooks/{hook}"))
        figures.notes["late_answers_after_s"] = round(time.perf_counter() - stopped, 1)
        return figures.notes
