"""The lifecycle the fake platform servers share: a stdlib HTTP server on a free loopback port,
served from a daemon thread, stopped quickly."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    """Subclasses set ``handler`` (its requests reach the fake as ``self.server.fake``)."""

    handler: type[BaseHTTPRequestHandler]
    _rules: dict[str, list]  # programmed failures by call name, "*" for any

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> Self:
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        serve.start()  # a short poll interval makes stop() quick
        return self

    def _take_rule(self, key: str):
        """The next failure programmed into ``self._rules`` for ``key`` (or for any call), used
        up by this call. Callers hold their own lock."""
        queue = self._rules.get(key) or self._rules.get("*") or []
        rule = queue[0] if queue else None
        if rule:
            rule.times -= 1
            if rule.times <= 0:
                queue.pop(0)
        return rule

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
