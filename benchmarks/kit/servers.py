"""Servers run as subprocesses (the load client must not share a GIL with them), free ports, and
one-off HTTP requests to them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]  # the checkout: benchmarks import tests/ fakes


class SetupError(Exception):
    """The benchmark could not be set up (a server did not start, a sanity request failed)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_request(
    port: int, method: str, path: str, headers: dict | None = None, body: bytes = b"", timeout=10.0
) -> tuple[int, bytes]:
    """One request on its own connection: the status and the body (``Content-Length`` long, or
    up to the server closing the connection)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((HOST, port), timeout) as s:
        s.settimeout(timeout)
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while (length := _response_length(data)) is None or len(data) < length:
            if not (chunk := s.recv(65536)):
                break
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload


def _response_length(data: bytes) -> int | None:
    """The length of the response that ``data`` begins, once its head says it."""
    head, end, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:] if end else []:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + len(end) + int(value)
    return None


class Server:
    """A server subprocess, its port and its log; ``start`` returns once ``GET /healthz``
    answers (200, or 404 from a server that has no such route)."""

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
            # its own process group, so that stop() ends its children too; not a new session,
            # which would put it in a scheduler autogroup of its own, sharing CPU unlike before
            process_group=0,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError, IndexError, ValueError):
                if http_request(self.port, "GET", "/healthz", timeout=5)[0] in (200, 404):
                    return self
            time.sleep(0.1)
        self.stop()
        raise SetupError(f"{self.name} did not start within {timeout:.0f}s:\n{self.tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then after ``timeout`` SIGKILL; and whatever
        of its process group is left (a killed ``maintbot serve``'s core workers) is killed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(AttributeError):
            self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

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


def floor_server(name: str, workdir: Path, kind: str, *options: str) -> Server:
    """One of ``benchmarks.kit.floors``'s servers (``null``, ``slack`` or ``wecom``), started."""
    argv = [sys.executable, "-m", "benchmarks.kit.floors", kind, "--port", str(free_port())]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return Server(name, [*argv, *options], workdir, os.environ | {"PYTHONPATH": path}).start()
