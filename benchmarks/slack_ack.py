#!/usr/bin/env python
"""Slack acknowledgement benchmark: maintbot's request URL against a bare Bolt "floor".

Sends signed ``/maint help`` and ``/maint visit list`` slash commands (a fresh timestamp and
signature on every request) at a fixed concurrency to servers on loopback and measures
throughput and acknowledgement latency (request written → full HTTP response read):

1. the client's own ceiling, against a do-nothing HTTP server;
2. the floor: a bare Bolt app (``process_before_response=True``, signature verification on,
   a custom ``authorize``) whose only listener acks ``/maint``, served by uvicorn + Starlette in
   every configuration below; the fastest is then measured properly:
   Bolt's own sync Starlette adapter or a dispatch-in-a-worker-thread endpoint like maintbot's,
   × uvicorn on uvloop + httptools or on asyncio + h11;
3. maintbot itself, started as ``maintbot serve`` on a fresh SQLite file (or a scratch
   PostgreSQL database, ``--database``) with a few visits seeded, its Web API pointed at a
   FakeSlack in this process;
4. maintbot with the database locked (SQLite: ``BEGIN EXCLUSIVE`` on a second connection;
   PostgreSQL: ``LOCK TABLE people IN ACCESS EXCLUSIVE MODE``) for ``--lock`` seconds while the
   load runs, and with the fake Slack API answering ``--slow-slack`` seconds late (once with the
   same help/list load, once with a share of modal-opening commands, since their views.open is
   the only Slack call these commands make straight away).

Run from the repository root (about 1.5 minutes with the defaults on a 2-core machine):

    .venv/bin/python benchmarks/slack_ack.py
    .venv/bin/python benchmarks/slack_ack.py --duration 5 --probe 2 --skip-slow   # quicker
    .venv/bin/python benchmarks/slack_ack.py --database sqlite,postgresql          # both

See benchmarks/README.md for what the figures mean and the last measured ones.

It prints a table and PASS/FAIL against the targets of issue 3; it exits 0 whatever the
figures (it is a report, not a test) and 1 only when the setup itself failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shlex
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import SIGNING_SECRET, slash_command  # noqa: E402

HOST = "127.0.0.1"
# the "working on it" acknowledgement starts with this in every catalog (slack.working)
WORKING_MARKS = ("⏳".encode(), b"\\u23f3")
# a command refused because the bot is overloaded (slack.busy, MAINTBOT_LOCALE=en)
BUSY_MARK = b"overloaded"
ACK_LIMIT = 3.0  # Slack's acknowledgement deadline


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


FLOOR_CONFIGS = [
    (adapter, loop, http)
    for adapter in ("bolt", "thread")
    for loop, http in (("uvloop", "httptools"), ("asyncio", "h11"))
    if loop == "asyncio" or (_installed("uvloop") and _installed("httptools"))
]
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.5


class SetupError(Exception):
    """The benchmark could not be set up (a server did not start, a sanity request failed)."""


# --------------------------------------------------------------------------------------------
# Servers run in their own processes (the client must not share a GIL with them)
# --------------------------------------------------------------------------------------------


def serve_null(port: int) -> None:
    """A do-nothing HTTP/1.1 server: the client's ceiling. Answers every request ``200 {}``."""
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

    class Null(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""

        def data_received(self, data):
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                length = 0
                for line in self.buffer[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length :]
                self.transport.write(answer)

    async def main():
        server = await asyncio.get_running_loop().create_server(Null, HOST, port, backlog=1024)
        async with server:
            await server.serve_forever()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def serve_floor(port: int, adapter: str, loop: str, http: str) -> None:
    """The floor: an ack-only Bolt app on uvicorn + Starlette."""
    import anyio
    import uvicorn
    from slack_bolt import App, BoltRequest
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from slack_bolt.authorization import AuthorizeResult
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    app = App(
        signing_secret=SIGNING_SECRET,
        authorize=lambda **kw: AuthorizeResult(
            enterprise_id=kw.get("enterprise_id"), team_id=kw.get("team_id"), bot_token="xoxb-x"
        ),
        process_before_response=True,
    )

    @app.command("/maint")
    def maint(ack):
        ack()

    if adapter == "bolt":  # Bolt's adapter: app.dispatch() on the event loop
        handler = SlackRequestHandler(app)

        async def events(request: Request) -> Response:
            return await handler.handle(request)

    else:  # like bot/server.py: app.dispatch() in a worker thread
        limiter = anyio.CapacityLimiter(64)

        async def events(request: Request) -> Response:
            body = await request.body()
            bolt_request = BoltRequest(
                body=body.decode("utf-8"), query=request.url.query, headers=dict(request.headers)
            )
            answer = await anyio.to_thread.run_sync(app.dispatch, bolt_request, limiter=limiter)
            return Response(
                content=answer.body,
                status_code=answer.status,
                headers=answer.first_headers_without_set_cookie(),
            )

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/slack/events", events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    uvicorn.run(
        Starlette(routes=routes),
        host=HOST,
        port=port,
        loop=loop,
        http=http,
        log_level="warning",
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess, its port and its log."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict | None = None):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = workdir / f"{name}.log"
        self.port = int(argv[argv.index("--port") + 1])
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> Server:
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.log_path.parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                if self._healthy():
                    return self
            time.sleep(0.1)
        self.stop()
        raise SetupError(f"{self.name} did not start within {timeout:.0f}s:\n{self.tail()}")

    def _healthy(self) -> bool:
        with socket.create_connection((HOST, self.port), 2) as s:
            s.sendall(
                f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            s.settimeout(5)
            head = s.recv(100)
        return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.1 404")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # uvicorn shuts down gracefully on SIGTERM
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(AttributeError):
            self.log.close()

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def log_count(self, word: str) -> int:
        with contextlib.suppress(OSError):
            return sum(
                word in line for line in self.log_path.read_text(errors="replace").splitlines()
            )
        return 0


def internal_server(name: str, port: int, workdir: Path, *spec: str) -> Server:
    argv = [sys.executable, __file__, "--internal-serve", ":".join(spec), "--port", str(port)]
    return Server(name, argv, workdir)


class ScratchDatabase:
    """maintbot's database for one run: a fresh SQLite file, or a scratch PostgreSQL database
    created on ``admin_url``'s server and dropped afterwards. ``locked()`` holds a lock that
    stops every maintbot unit of work until it is released."""

    def __init__(self, kind: str, workdir: Path, admin_url: str) -> None:
        self.kind, self.workdir, self.admin_url = kind, workdir, admin_url

    def __enter__(self) -> ScratchDatabase:
        if self.kind == "sqlite":
            self.path = self.workdir / "maintbot.sqlite3"
            self.url = f"sqlite:///{self.path}"
            self.label, self.lock_name = f"SQLite {self.path}", "SQLite locked"
            return self
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = make_url(self.admin_url)
        self.name = f"maintbot_bench_{os.getpid()}_{int(time.time())}"
        self.engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {self.name}"))
        except Exception as exc:
            raise SetupError(f"cannot create a scratch database on {admin!r}: {exc}") from None
        url = admin.set(database=self.name)
        self.url = url.render_as_string(hide_password=False)
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.label = f"PostgreSQL {url.render_as_string(hide_password=True)}"
        self.lock_name = "table people locked"
        return self

    def __exit__(self, *exc) -> None:
        if self.kind != "sqlite":
            from sqlalchemy import text

            with self.engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
            self.engine.dispose()

    @contextlib.contextmanager
    def locked(self):
        """Hold the lock; yields the seconds it took to get it."""
        t0 = time.perf_counter()
        if self.kind == "sqlite":
            # every maintbot unit of work begins with BEGIN IMMEDIATE: they all wait on this
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            try:
                con.execute("BEGIN EXCLUSIVE")
                yield round(time.perf_counter() - t0, 3)
                con.execute("ROLLBACK")
            finally:
                con.close()
            return
        import psycopg

        # every command starts by finding its caller in people; ACCESS EXCLUSIVE stops reads too
        with psycopg.connect(self.conninfo) as con:
            con.execute("LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
            yield round(time.perf_counter() - t0, 3)
            con.rollback()


# --------------------------------------------------------------------------------------------
# The load generator
# --------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    start: float  # perf_counter when the request was written
    latency: float  # seconds to the full response
    status: int  # HTTP status, 0 for a transport error
    deferred: bool  # answered "working on it" (the real answer follows later)
    refused: bool = False  # answered "overloaded, try again" (nothing was run)


def make_request(kind: str, hook_url: str | None) -> tuple[bytes, dict]:
    """A freshly signed slash command (current timestamp, new trigger_id)."""
    if kind == "help":
        return slash_command("help", "UALICE", "CBENCH", response_url=hook_url)
    if kind == "list":
        return slash_command("visit list", "UBOB", "CBENCH", response_url=hook_url)
    if kind == "modal":  # a bare form command: acked at once, views.open afterwards
        return slash_command("visit request", "UALICE", "CBENCH", response_url=hook_url)
    raise ValueError(kind)


def is_deferred(body: bytes) -> bool:
    return any(mark in body for mark in WORKING_MARKS)


class Load:
    """A closed-loop load: ``concurrency`` workers, one keep-alive connection each, sending the
    request kinds of ``mix`` in turn until ``duration`` seconds or ``requests`` have passed."""

    def __init__(
        self,
        port,
        mix,
        *,
        concurrency,
        duration=None,
        requests=None,
        client="raw",
        hook_url=None,
        timeout=30.0,
    ):
        self.port, self.concurrency, self.client = port, concurrency, client
        self.duration, self.requests, self.hook_url, self.timeout = (
            duration,
            requests,
            hook_url,
            timeout,
        )
        self.kinds = itertools.cycle(mix)
        self.samples: list[Sample] = []
        self.issued = 0

    def _next(self) -> tuple[str, bytes, dict] | None:
        if self.requests is not None and self.issued >= self.requests:
            return None
        if self.duration is not None and time.perf_counter() >= self.deadline:
            return None
        self.issued += 1
        kind = next(self.kinds)
        return (kind, *make_request(kind, self.hook_url))

    async def run(self) -> tuple[list[Sample], float]:
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + (self.duration or 0)
        worker = self._raw_worker if self.client == "raw" else self._httpx_worker
        if self.client == "httpx":
            import httpx

            limits = httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
            async with httpx.AsyncClient(
                base_url=f"http://{HOST}:{self.port}", limits=limits, timeout=self.timeout
            ) as self.httpx:
                await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        else:
            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        end = max((s.start + s.latency for s in self.samples), default=self.t0)
        return self.samples, end - self.t0

    async def _raw_worker(self) -> None:
        reader = writer = None
        while (item := self._next()) is not None:
            kind, body, headers = item
            head = (
                f"POST /slack/events HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            start = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, self.port)
                writer.write(head + body)
                async with asyncio.timeout(self.timeout):
                    status, answer, close = await _read_response(reader)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status, answer, close = 0, b"", True
            latency = time.perf_counter() - start
            self.samples.append(
                Sample(kind, start, latency, status, is_deferred(answer), BUSY_MARK in answer)
            )
            if close and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def _httpx_worker(self) -> None:
        import httpx

        while (item := self._next()) is not None:
            kind, body, headers = item
            start = time.perf_counter()
            try:
                response = await self.httpx.post("/slack/events", content=body, headers=headers)
                status, answer = response.status_code, response.content
            except httpx.HTTPError:
                status, answer = 0, b""
            latency = time.perf_counter() - start
            self.samples.append(
                Sample(kind, start, latency, status, is_deferred(answer), BUSY_MARK in answer)
            )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    if not chunked:
        return status, await reader.readexactly(length), close
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
        body += (await reader.readexactly(size + 2))[:-2]
    await reader.readuntil(b"\r\n")
    return status, body, close


def run_load(port, mix, **kwargs) -> tuple[list[Sample], float]:
    load = Load(port, mix, **kwargs)
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(load.run())
    except ImportError:
        return asyncio.run(load.run())


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@dataclass
class Figures:
    phase: str
    server: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    over_3s: int
    inline: int
    deferred: int
    refused: int
    kinds: dict = field(default_factory=dict)  # per request kind: count, p50, p99, deferred
    notes: dict = field(default_factory=dict)

    @classmethod
    def of(cls, phase: str, server: str, samples: list[Sample], seconds: float) -> Figures:
        ok = [s for s in samples if s.status == 200]
        lat = sorted(s.latency for s in samples)
        kinds = {}
        for kind in sorted({s.kind for s in samples}):
            mine = sorted(s.latency for s in samples if s.kind == kind)
            kinds[kind] = {
                "requests": len(mine),
                "p50_ms": round(pct(mine, 50) * 1000, 1),
                "p99_ms": round(pct(mine, 99) * 1000, 1),
                "max_ms": round(mine[-1] * 1000, 1),
                "deferred": sum(s.deferred for s in samples if s.kind == kind),
            }
        return cls(
            phase=phase,
            server=server,
            requests=len(samples),
            errors=len(samples) - len(ok),
            seconds=round(seconds, 2),
            rps=round(len(ok) / seconds, 1) if seconds > 0 else 0.0,
            p50_ms=round(pct(lat, 50) * 1000, 1),
            p90_ms=round(pct(lat, 90) * 1000, 1),
            p99_ms=round(pct(lat, 99) * 1000, 1),
            max_ms=round((lat[-1] if lat else float("nan")) * 1000, 1),
            over_3s=sum(s.latency > ACK_LIMIT for s in samples),
            inline=sum(not (s.deferred or s.refused) for s in ok),
            deferred=sum(s.deferred for s in ok),
            refused=sum(s.refused for s in ok),
            kinds=kinds,
        )


COLUMNS = [
    ("phase", 20, "{}"),
    ("server", 46, "{}"),
    ("requests", 8, "{}"),
    ("errors", 6, "{}"),
    ("rps", 8, "{:.0f}"),
    ("p50_ms", 8, "{:.1f}"),
    ("p90_ms", 8, "{:.1f}"),
    ("p99_ms", 8, "{:.1f}"),
    ("max_ms", 8, "{:.0f}"),
    ("over_3s", 7, "{}"),
    ("inline", 7, "{}"),
    ("deferred", 8, "{}"),
    ("refused", 7, "{}"),
]


def table(rows: list[Figures]) -> str:
    head = " ".join(
        f"{name:<{w}}" if i < 2 else f"{name:>{w}}" for i, (name, w, _) in enumerate(COLUMNS)
    )
    out = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for i, (name, w, fmt) in enumerate(COLUMNS):
            text = fmt.format(getattr(row, name))
            cells.append(f"{text:<{w}}" if i < 2 else f"{text:>{w}}")
        out.append(" ".join(cells))
    return "\n".join(out)


def say(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------------------------
# The phases
# --------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.rows: list[Figures] = []
        self.results: dict = {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "concurrency": args.concurrency,
            "client": args.client,
        }

    def measure(
        self,
        phase: str,
        server: str,
        port: int,
        mix,
        *,
        warmup=True,
        duration=None,
        client=None,
        hook_url=None,
        record=True,
        timed=False,
    ) -> Figures:
        """One run; ``timed`` runs are always ``duration`` long (the slow-dependency ones, whose
        lock or slowness lasts a fixed time), others take ``--requests`` when it is given."""
        a = self.args
        client = client or a.client
        if warmup and a.warmup:
            run_load(
                port,
                mix,
                concurrency=a.concurrency,
                requests=a.warmup,
                client=client,
                hook_url=hook_url and hook_url + "-warmup",  # not counted with the run's answers
            )
        duration = duration or a.duration
        by_count = bool(a.requests) and not timed
        samples, seconds = run_load(
            port,
            mix,
            concurrency=a.concurrency,
            client=client,
            hook_url=hook_url,
            duration=None if by_count else duration,
            requests=a.requests if by_count else None,
        )
        figures = Figures.of(phase, server, samples, seconds)
        if record:
            self.rows.append(figures)
        say(
            f"  {phase:<20} {server:<46} {figures.rps:6.0f} req/s  p50 {figures.p50_ms:6.1f} ms"
            f"  p99 {figures.p99_ms:7.1f} ms  max {figures.max_ms:6.0f} ms"
            f"  errors {figures.errors}  deferred {figures.deferred}  refused {figures.refused}"
        )
        return figures

    # ---- 1. the client's ceiling
    def client_ceiling(self) -> None:
        say("client ceiling (a do-nothing HTTP server; the client is the only limit):")
        port = free_port()
        server = internal_server("null", port, self.workdir, "null").start()
        try:
            for client in ("raw", "httpx") if _installed("httpx") else ("raw",):
                figures = self.measure(
                    "client ceiling",
                    f"null server, {client} client",
                    port,
                    ["help", "list"],
                    client=client,
                    duration=self.args.probe,
                )
                self.results[f"ceiling_{client}"] = asdict(figures)
        finally:
            server.stop()

    # ---- 2. the floor
    def floor(self) -> Figures:
        a = self.args
        configs = FLOOR_CONFIGS if a.floor_config == "auto" else [tuple(a.floor_config.split("-"))]
        probes: list[tuple[Figures, tuple]] = []
        if len(configs) > 1:
            say(f"floor configurations ({a.probe:.0f}s each):")
            for config in configs:
                port = free_port()
                server = internal_server("floor", port, self.workdir, "floor", *config).start()
                try:
                    figures = self.measure(
                        "floor probe", _floor_name(config), port, ["help", "list"], duration=a.probe
                    )
                finally:
                    server.stop()
                probes.append((figures, config))
            self.results["floor_probes"] = [asdict(f) for f, _ in probes]
        best = max(probes, key=lambda fc: (fc[0].rps, -fc[0].p99_ms))[1] if probes else configs[0]
        say(f"floor: {_floor_name(best)}")
        port = free_port()
        server = internal_server("floor", port, self.workdir, "floor", *best).start()
        try:
            figures = self.measure("floor", _floor_name(best), port, ["help", "list"])
            if a.client == "raw" and _installed("httpx"):
                extra = self.measure(
                    "floor (httpx client)",
                    _floor_name(best),
                    port,
                    ["help", "list"],
                    client="httpx",
                    duration=a.probe,
                    warmup=False,
                )
                self.results["floor_httpx"] = asdict(extra)
        finally:
            server.stop()
        self.results["floor_config"] = _floor_name(best)
        self.results["floor"] = asdict(figures)
        return figures

    # ---- 3 and 4. maintbot
    def maintbot(self, fake: FakeSlack, kind: str) -> dict[str, Figures]:
        a = self.args
        with ScratchDatabase(kind, self.workdir, a.postgres_url) as db:
            return self._maintbot(fake, db)

    def _maintbot(self, fake: FakeSlack, db: ScratchDatabase) -> dict[str, Figures]:
        a = self.args
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAINTBOT_", "SLACK_"))}
        env |= {
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.base_url,
            "MAINTBOT_CONFIG": str(ROOT / "tests" / "org.yaml"),
            "MAINTBOT_DATABASE_URL": db.url,
            "MAINTBOT_LOG_LEVEL": "WARNING",
            "MAINTBOT_LOCALE": "en",
        }
        exe = Path(sys.executable).with_name("maintbot")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]
        if db.kind != "sqlite":  # only the embedded SQLite default is migrated by serve itself
            done = subprocess.run(
                [*cmd, "db", "upgrade"], env=env, cwd=self.workdir, capture_output=True, text=True
            )
            if done.returncode:
                raise SetupError(f"maintbot db upgrade failed:\n{done.stdout}{done.stderr}")
        if a.maintbot_cmd:
            cmd = shlex.split(a.maintbot_cmd)
        port = free_port()
        serve = [*cmd, "serve", "--port", str(port), "--workers", str(a.workers)]
        server = Server(f"maintbot-{db.kind}", serve, self.workdir, env)
        say(f"maintbot on {db.label}: {' '.join(serve)}")
        started = time.perf_counter()
        server.start(timeout=60)
        results = self.results.setdefault("maintbot", {}).setdefault(db.kind, {})
        results["database"] = db.label
        results["startup_s"] = round(time.perf_counter() - started, 2)
        name = f"maintbot serve [{db.kind}]"
        out: dict[str, Figures] = {}
        try:
            self._seed(port)
            hook = fake.response_url(f"bench-{db.kind}-normal")
            out["normal"] = self.measure("maintbot", name, port, ["help", "list"], hook_url=hook)
            self._await_answers(fake, f"bench-{db.kind}-normal", out["normal"])
            notes = out["normal"].notes
            say(
                f"    {notes['late_answers_delivered']} of {out['normal'].deferred} deferred "
                f"answers reached the response_url, the last {notes['late_answers_after_s']} s "
                "after the load stopped"
            )
            if not a.skip_slow:
                out["slow_db"] = self._slow_db(port, fake, db)
                self._settle(port)
                out["slow_slack"] = self._slow_slack(port, fake, db, ["help", "list"], "slow Slack")
                fake.slow(0)
                self._settle(port)
                mix = [
                    "modal" if i < round(10 * a.modal_share) else k
                    for i, k in enumerate(["help", "list"] * 5)
                ]
                out["slow_slack_modal"] = self._slow_slack(
                    port, fake, db, mix, "slow Slack + modals"
                )
        finally:
            fake.slow(0)
            server.stop(timeout=60)
            results["log_errors"] = server.log_count(" ERROR ")
            if results["log_errors"]:
                say(
                    f"  maintbot logged {results['log_errors']} ERROR lines; the last lines of "
                    f"its log:\n{server.tail(12)}"
                )
        for key, figures in out.items():
            results[key] = asdict(figures)
        return out

    def _post(self, port: int, text: str, user: str, hook: str | None = None) -> tuple[int, dict]:
        body, headers = slash_command(text, user, "CBENCH", response_url=hook)
        with socket.create_connection((HOST, port), 10) as s:
            s.settimeout(10)
            s.sendall(
                f"POST /slack/events HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n".encode()
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        try:
            return status, json.loads(payload or b"{}")
        except ValueError:
            return status, {"text": payload.decode(errors="replace")}

    def _get(self, port: int, path: str, timeout: float) -> int:
        with socket.create_connection((HOST, port), timeout) as s:
            s.settimeout(timeout)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            return int(s.recv(100).split()[1])

    def _seed(self, port: int) -> None:
        """File a few visit requests as alice (so bob's ``visit list`` has rows)."""
        day = (datetime.now() + timedelta(days=4)).strftime("%Y-%m-%d")
        for i in range(self.args.seed):
            text = (
                f'visit request at="{day} {9 + i % 8:02d}:00" duration=1h room=SH1/A101 '
                f'task="benchmark seed {i + 1}" id=passport:E1234{i:04d}'
            )
            status, answer = self._post(port, text, "UALICE")
            if status != 200 or "V-" not in json.dumps(answer, ensure_ascii=False):
                raise SetupError(f"seeding failed: HTTP {status} {answer}")
        status, answer = self._post(port, "visit list", "UBOB")
        rows = json.dumps(answer, ensure_ascii=False).count("V-")
        if status != 200 or rows < self.args.seed:
            raise SetupError(f"visit list after seeding: HTTP {status}, {rows} refs: {answer}")
        status, answer = self._post(port, "help", "UALICE")
        if status != 200 or not answer.get("blocks"):
            raise SetupError(f"help: HTTP {status} {answer}")
        say(
            f"  seeded {self.args.seed} visits; bob's visit list shows them; help answers "
            f"{len(answer['blocks'])} blocks"
        )

    def _settle(self, port: int, timeout: float = 60.0) -> float:
        """Wait until a help command is answered inline and quickly again (backlogs drained)."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            t0 = time.perf_counter()
            status, answer = self._post(port, "help", "UALICE")
            if status == 200 and time.perf_counter() - t0 < 0.2 and answer.get("blocks"):
                return time.perf_counter() - started
            time.sleep(0.5)
        say(f"  (maintbot did not settle within {timeout:.0f}s)")
        return timeout

    def _slow_db(self, port: int, fake: FakeSlack, db: ScratchDatabase) -> Figures:
        a = self.args
        lock: dict = {}
        t_base = time.perf_counter()

        def hold() -> None:
            time.sleep(a.lock_after)
            with db.locked() as waited:
                lock["acquired_at"] = time.perf_counter() - t_base
                lock["waited_for_lock_s"] = waited
                time.sleep(a.lock)
            lock["released_at"] = time.perf_counter() - t_base

        health: dict = {}

        def probe_health() -> None:  # what a load balancer's health check sees meanwhile
            time.sleep(a.lock_after + min(1.0, a.lock / 2))
            t0 = time.perf_counter()
            try:
                health["status"] = self._get(port, "/healthz", timeout=40)
            except OSError as exc:
                health["status"] = f"{exc.__class__.__name__}"
            health["seconds"] = round(time.perf_counter() - t0, 2)

        holder = threading.Thread(target=hold, daemon=True)
        prober = threading.Thread(target=probe_health, daemon=True)
        prober.start()
        name = f"bench-{db.kind}-slow-db"
        hook = fake.response_url(name)
        holder.start()
        figures = self.measure(
            "slow DB",
            f"maintbot [{db.kind}], {db.lock_name} {a.lock:.0f}s",
            port,
            ["help", "list"],
            warmup=False,
            timed=True,
            hook_url=hook,
            duration=a.lock_after + a.lock + a.after_lock,
        )
        holder.join()
        prober.join()
        figures.notes["lock"] = {k: round(v, 2) for k, v in lock.items()}
        figures.notes["healthz_during_lock"] = health
        # the answers deferred during the lock arrive later on the response_url
        self._await_answers(fake, name, figures)
        say(
            f"    lock held from {lock.get('acquired_at', 0):.1f}s to "
            f"{lock.get('released_at', 0):.1f}s of the run; "
            f"{figures.notes['late_answers_delivered']} of {figures.deferred} deferred answers "
            "reached the response_url afterwards"
        )
        say(
            f"    GET /healthz sent during the lock: {health.get('status')} after "
            f"{health.get('seconds', 0):.1f}s"
        )
        return figures

    def _await_answers(self, fake: FakeSlack, name: str, figures: Figures) -> None:
        """Wait for the deferred answers to reach the response_url; note how many, how late."""
        stopped = time.perf_counter()
        deadline = stopped + self.args.late_wait
        while time.perf_counter() < deadline:
            if len(fake.calls(f"hooks/{name}")) >= figures.deferred:
                break
            time.sleep(0.25)
        figures.notes["late_answers_delivered"] = len(fake.calls(f"hooks/{name}"))
        figures.notes["late_answers_after_s"] = round(time.perf_counter() - stopped, 1)

    def _slow_slack(self, port, fake: FakeSlack, db, mix: list[str], phase: str) -> Figures:
        a = self.args
        name = f"bench-{db.kind}-" + phase.replace(" ", "-").replace("+", "")
        hook = fake.response_url(name)
        opened = len(fake.calls("views.open"))
        fake.slow(a.slow_slack)
        figures = self.measure(
            phase,
            f"maintbot [{db.kind}], Slack API +{a.slow_slack:.0f}s",
            port,
            mix,
            warmup=False,
            timed=True,
            hook_url=hook,
            duration=a.slow_duration or a.duration,
        )
        figures.notes["views_open_calls_during_run"] = len(fake.calls("views.open")) - opened
        figures.notes["late_answers_delivered"] = len(fake.calls(f"hooks/{name}"))
        if "modal" in figures.kinds:
            k = figures.kinds
            say(
                "    per kind: "
                + ", ".join(
                    f"{kind} {v['requests']} ({v['deferred']} deferred, p50 {v['p50_ms']:.0f} ms)"
                    for kind, v in k.items()
                )
            )
        return figures

    # ---- 5. report
    def report(self) -> None:
        a = self.args
        r = self.results
        say()
        say(
            f"Results — {r['cores']} cores, Python {r['python']}, concurrency {a.concurrency}, "
            f"{a.client} asyncio client, signed slash commands on loopback"
        )
        say(table(self.rows))
        floor = r.get("floor")
        checks: list[tuple[str, bool, str]] = []
        say()
        if "ceiling_raw" in r:
            say(
                f"client ceiling (null server): raw asyncio {r['ceiling_raw']['rps']:.0f} req/s, "
                f"httpx {r.get('ceiling_httpx', {}).get('rps', float('nan')):.0f} req/s"
            )
            if floor:
                ceiling = r[f"ceiling_{a.client}"]["rps"]
                share = floor["rps"] / ceiling if ceiling else float("nan")
                say(
                    f"  the floor runs at {share:.0%} of the {a.client} client's ceiling"
                    + (
                        ": the client limits the floor figures"
                        if share > 0.7
                        else ": the client is not the limit"
                    )
                )
            if "floor_httpx" in r:
                say(
                    f"  the floor measured with httpx instead: {r['floor_httpx']['rps']:.0f} "
                    f"req/s, p99 {r['floor_httpx']['p99_ms']:.1f} ms"
                )
        if floor:
            say(f"floor configuration (fastest): {r['floor_config']}")
        for kind, m in r.get("maintbot", {}).items():
            normal = m.get("normal")
            if not normal:
                continue
            say(
                f"maintbot [{kind}] per command: "
                + ", ".join(
                    f"{k} p50 {v['p50_ms']} ms / p99 {v['p99_ms']} ms"
                    for k, v in normal["kinds"].items()
                )
            )
            checks.append(
                (
                    f"[{kind}] p99 < {TARGET_P99_MS:.0f} ms",
                    normal["p99_ms"] < TARGET_P99_MS,
                    f"{normal['p99_ms']:.1f} ms",
                )
            )
            if floor:
                rps_ratio = normal["rps"] / floor["rps"]
                p99_ratio = normal["p99_ms"] / floor["p99_ms"]
                say(
                    f"maintbot [{kind}] / floor: throughput {rps_ratio:.2f} "
                    f"({normal['rps']:.0f} / {floor['rps']:.0f} req/s), p99 {p99_ratio:.1f}x "
                    f"({normal['p99_ms']:.1f} / {floor['p99_ms']:.1f} ms)"
                )
                m["ratio_rps"], m["ratio_p99"] = round(rps_ratio, 3), round(p99_ratio, 2)
                checks.append(
                    (
                        f"[{kind}] throughput >= {TARGET_RATIO:.0%} of floor",
                        rps_ratio >= TARGET_RATIO,
                        f"{rps_ratio:.0%}",
                    )
                )
            for key, label in (
                ("slow_db", "slow DB"),
                ("slow_slack", "slow Slack"),
                ("slow_slack_modal", "slow Slack + modals"),
            ):
                if key in m:
                    f = m[key]
                    checks.append(
                        (
                            f"[{kind}] no ack > 3 s, {label}",
                            f["over_3s"] == 0 and f["errors"] == 0,
                            f"max {f['max_ms'] / 1000:.2f} s, {f['over_3s']} over 3 s, "
                            f"{f['errors']} errors; {f['inline']} inline, "
                            f"{f['deferred']} deferred",
                        )
                    )
        if checks:
            say()
            say("targets (issue 3):")
            for name, passed, detail in checks:
                say(f"  {'PASS' if passed else 'FAIL'}  {name:<48} {detail}")
        r["targets"] = [{"target": n, "pass": p, "measured": d} for n, p, d in checks]
        if a.json:
            Path(a.json).write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")
            say(f"\nfigures written to {a.json}")


def _floor_name(config: tuple) -> str:
    adapter, loop, http = config
    return (
        f"{'Bolt Starlette adapter' if adapter == 'bolt' else 'dispatch in thread'}, {loop}+{http}"
    )


# --------------------------------------------------------------------------------------------


def _databases(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    if not kinds or any(k not in ("sqlite", "postgresql") for k in kinds):
        raise argparse.ArgumentTypeError("sqlite, postgresql or both, comma-separated")
    return kinds


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python benchmarks/slack_ack.py",
        description="Acknowledgement latency and throughput of maintbot's Slack request URL, "
        "side by side with an ack-only Bolt app (the floor). Run from the repository root with "
        "the project's virtualenv: .venv/bin/python benchmarks/slack_ack.py",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    p.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    p.add_argument(
        "--requests",
        type=int,
        default=0,
        help="measure N requests per run instead of --duration seconds",
    )
    p.add_argument(
        "--probe",
        type=float,
        default=3.0,
        help="seconds per floor configuration probe and client-ceiling run",
    )
    p.add_argument("--warmup", type=int, default=300, help="requests before each measured run")
    p.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="load client: raw asyncio streams (on uvloop when installed), or httpx.AsyncClient "
        "(the [test] extra; it collapses at this concurrency, see the client ceiling)",
    )
    p.add_argument(
        "--floor-config",
        default="auto",
        choices=["auto", *("-".join(c) for c in FLOOR_CONFIGS)],
        help="floor server configuration; auto probes them all and keeps the fastest",
    )
    p.add_argument(
        "--database",
        default="sqlite",
        type=_databases,
        metavar="sqlite|postgresql[,...]",
        help="maintbot's database: a fresh SQLite file, a scratch PostgreSQL "
        "database, or both one after the other (sqlite,postgresql)",
    )
    p.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "MAINTBOT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server (any database on it) where the scratch database "
        "is created and dropped; MAINTBOT_TEST_POSTGRESQL_URL sets the default",
    )
    p.add_argument(
        "--workers", type=int, default=2, help="maintbot serve --workers (core processes)"
    )
    p.add_argument("--seed", type=int, default=6, help="visit requests filed before the load")
    p.add_argument("--skip-ceiling", action="store_true", help="skip the client ceiling run")
    p.add_argument("--skip-floor", action="store_true", help="skip the floor (maintbot only)")
    p.add_argument("--skip-slow", action="store_true", help="skip the slow DB / slow Slack runs")
    p.add_argument(
        "--lock",
        type=float,
        default=10.0,
        help="seconds the database lock is held in the slow-DB run",
    )
    p.add_argument(
        "--lock-after",
        type=float,
        default=1.0,
        help="seconds into the slow-DB run at which the lock is taken",
    )
    p.add_argument(
        "--after-lock",
        type=float,
        default=4.0,
        help="seconds the slow-DB run goes on after the lock is released",
    )
    p.add_argument(
        "--late-wait",
        type=float,
        default=10.0,
        help="at most this long to wait for deferred answers after the slow-DB run",
    )
    p.add_argument(
        "--slow-slack",
        type=float,
        default=5.0,
        help="seconds every fake Slack API answer is delayed in the slow-Slack runs",
    )
    p.add_argument("--slow-duration", type=float, default=6.0, help="seconds per slow-Slack run")
    p.add_argument(
        "--modal-share",
        type=float,
        default=0.1,
        help="share of modal-opening '/maint visit request' commands in the second "
        "slow-Slack run (they call views.open, the only Slack call on this path)",
    )
    p.add_argument(
        "--maintbot-cmd",
        metavar="CMD",
        help="command that runs maintbot, 'serve --port N' appended (default: the "
        "virtualenv's maintbot script), e.g. to run it under a profiler",
    )
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, db)")
    p.add_argument("--internal-serve", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.internal_serve:
        kind, *spec = args.internal_serve.split(":")
        serve_null(args.port) if kind == "null" else serve_floor(args.port, *spec)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="maintbot-bench-"))
    bench = Bench(args, workdir)
    say(
        f"slack_ack benchmark: {os.cpu_count()} cores, concurrency {args.concurrency}, "
        f"{args.client} client; work dir {workdir}"
    )
    load = os.getloadavg()[0]
    if load > 0.5:
        say(
            f"note: the 1-minute load average is already {load:.1f}; other work on the machine "
            "lowers every figure"
        )
    bench.results["loadavg_before"] = round(load, 2)
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
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    bench.results["elapsed_s"] = round(time.perf_counter() - started, 1)
    bench.report()
    say(f"\n(benchmark took {bench.results['elapsed_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
