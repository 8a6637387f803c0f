"""The servers maintbot is measured against, each run in its own process:

    python -m benchmarks.kit.floors null --port N     # answers 200 {}: the client's ceiling
    python -m benchmarks.kit.floors slack --port N [--config bolt-uvloop-httptools]
    python -m benchmarks.kit.floors wecom --port N

``slack`` is an ack-only Bolt app (``process_before_response=True``, signature verification on, a
custom ``authorize``, so no ``auth.test``); ``wecom`` checks and decrypts each callback with
wechatpy and answers. Both run on uvicorn + Starlette, like ``maintbot serve``.
"""

from __future__ import annotations

import argparse
import asyncio

from benchmarks.kit.servers import HOST

# adapter-loop-http; the first always measured fastest and is the floor (benchmarks/README.md)
SLACK_CONFIGS = [
    "bolt-uvloop-httptools",
    "bolt-asyncio-h11",
    "thread-uvloop-httptools",
    "thread-asyncio-h11",
]


def serve_null(port: int) -> None:
    """A do-nothing HTTP/1.1 server: the client's ceiling. Answers every request ``200 {}``."""
    import uvloop

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

    uvloop.run(main())


def slack_floor(config: str):
    """The ack-only Bolt app. ``bolt``: Bolt's own Starlette adapter, dispatching on the event
    loop; ``thread``: dispatching in a worker thread, as maintbot's server once did."""
    import anyio
    from slack_bolt import App, BoltRequest
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from slack_bolt.authorization import AuthorizeResult
    from starlette.requests import Request
    from starlette.responses import Response

    from tests.slack_requests import SIGNING_SECRET

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

    if config.startswith("bolt-"):
        handler = SlackRequestHandler(app)

        async def events(request: Request) -> Response:
            return await handler.handle(request)

    else:
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

    return _app("/slack/events", events)


def wecom_floor():
    """Check, decrypt, answer: what any correct WeCom callback must do, and nothing else."""
    from starlette.responses import PlainTextResponse
    from wechatpy.enterprise.crypto import WeChatCrypto

    from tests import wecom_requests as wr
    from tests.fake_wecom import CORP_ID

    crypto = WeChatCrypto(wr.TOKEN, wr.AES_KEY, CORP_ID)

    async def callback(request):
        q = request.query_params
        body = (await request.body()).decode()
        crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        return PlainTextResponse("")

    return _app("/wecom/callback", callback)


def _app(path: str, endpoint):
    """A Starlette app: ``POST path`` and ``GET /healthz``."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def healthz(_request):
        return PlainTextResponse("ok")

    routes = [Route(path, endpoint, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.kit.floors", description=__doc__)
    p.add_argument("kind", choices=["null", "slack", "wecom"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--config", choices=SLACK_CONFIGS, default=SLACK_CONFIGS[0])
    a = p.parse_args(argv)
    if a.kind == "null":
        return serve_null(a.port)
    import uvicorn

    _adapter, loop, http = a.config.split("-") if a.kind == "slack" else ("", "auto", "auto")
    app = slack_floor(a.config) if a.kind == "slack" else wecom_floor()
    uvicorn.run(
        app, host=HOST, port=a.port, loop=loop, http=http, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
