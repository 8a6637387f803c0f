"""A local fake of Slack's Socket Mode WebSocket: what ``apps.connections.open`` hands out.

Wire format as Slack's: on connect the server sends ``{"type": "hello", ...}``; each request is
an envelope ``{"envelope_id", "type": "slash_commands" | "interactive" | "events_api",
"payload", "accepts_response_payload", "retry_attempt", "retry_reason"}``; the app acknowledges
with ``{"envelope_id", "payload"?}`` on the same socket, within 3 seconds. Plain ``ws://`` on a
loopback port (slack_sdk's client uses TLS only on port 443).
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.fake_slack import APP_ID


class SocketModeLink:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._connection: ServerConnection | None = None
        self._acks: dict[str, dict] = {}
        self.connections = 0  # how many times the app connected
        self._server = serve(self._session, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()

    def _session(self, connection: ServerConnection) -> None:
        hello = {"type": "hello", "num_connections": 1,
                 "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                 "connection_info": {"app_id": APP_ID}}  # fmt: skip
        connection.send(json.dumps(hello))
        with self._cond:
            self._connection = connection
            self.connections += 1
            self._cond.notify_all()
        try:
            for frame in connection:
                ack = json.loads(frame)
                with self._cond:
                    self._acks[ack.get("envelope_id", "")] = ack
                    self._cond.notify_all()
        except ConnectionClosed:
            pass

    def drop(self) -> None:
        """Close the app's socket as Slack does when it refreshes one: a disconnect message
        first, then the close."""
        with self._cond:
            connection, self._connection = self._connection, None
        assert connection is not None, "no app connected"
        connection.send(json.dumps({"type": "disconnect", "reason": "refresh_requested"}))
        connection.close()

    def wait_connected(self, timeout: float = 30.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connection is not None, timeout):
                raise AssertionError("the app never connected over Socket Mode")

    def send(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Deliver one envelope; its id, to wait for the acknowledgement with."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else ""}  # fmt: skip
        self.wait_connected()
        assert self._connection is not None
        self._connection.send(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 3.0) -> dict:
        """The app's acknowledgement of an envelope (Slack gives up after 3 seconds)."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"no acknowledgement of {envelope_id} in {timeout}s")
            return self._acks[envelope_id]
