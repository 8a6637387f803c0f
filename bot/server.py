"""The HTTP server: one ASGI app with Slack's request URL, WeCom's callback and a health check.

Bolt dispatches on the event loop, as its own Starlette adapter does: the adapter's listeners
never block (``bot.answers`` runs the core on its workers), and an answer that may go back in
the acknowledgement is awaited here, on the loop, for at most the answers' budget.
"""

import contextlib
import hmac
import logging
from dataclasses import dataclass

import anyio
from slack_bolt import BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.answers import Answers
from bot.assembly import open_database
from bot.runtime import Runtime, build
from bot.settings import Settings
from bot.slack import inbound
from bot.slack.adapter import ANSWERS, SlackAdapter
from bot.slack.sender import SlackSender
from bot.wecom.adapter import Refused, WeComAdapter
from bot.wecom.client import WeComClient
from bot.wecom.codes import ResponseCodes
from bot.wecom.media import MediaAccess
from bot.wecom.sender import WeComSender
from bot.workers import CoreWorkers, ProcessWorkers, ThreadWorkers
from handlers.clock import SystemClock
from handlers.i18n import I18n

log = logging.getLogger(__name__)
HEALTH_TIMEOUT = 2.0  # seconds; load balancers time out around 5
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not from Slack


@dataclass
class Served:
    """What ``maintbot serve`` runs: the runtime, the core's workers, an adapter per platform."""

    runtime: Runtime
    workers: CoreWorkers
    slack: SlackAdapter | None = None
    wecom: WeComAdapter | None = None

    def close(self) -> None:
        if self.slack is not None:
            self.slack.close()
        self.workers.close()
        self.runtime.stop()


def wire(settings: Settings, workers: int = 2) -> Served:
    """The runtime, ``workers`` core worker processes (threads for an in-memory database) and
    the adapters of the platforms the settings configure."""
    clock, i18n = SystemClock(), I18n(settings.tz, settings.locale)
    db = open_database(settings)
    senders: dict = {}
    if settings.slack_enabled:
        slack_client = WebClient(
            token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10
        )
        senders["slack"] = SlackSender(slack_client)
    if settings.wecom_enabled:
        wecom_client = WeComClient(
            settings.wecom_corp_id, settings.wecom_secret, api_base_url=settings.wecom_api_url
        )
        codes = ResponseCodes(db, clock)
        senders["wecom"] = WeComSender(wecom_client, settings.wecom_agent_id, codes, i18n)
    rt = build(settings, senders=senders, clock=clock, db=db, i18n=i18n)
    if db.in_memory:  # nothing another process could open
        pool = ThreadWorkers(rt.core, 1)
    else:
        pool = ProcessWorkers(settings, rt.core.platforms, workers, rt.wake)
    served, answers = Served(rt, pool), Answers(rt.core, pool)
    if settings.slack_enabled:
        secret = settings.slack_signing_secret
        served.slack = SlackAdapter(slack_client, signing_secret=secret, answers=answers)
    if settings.wecom_enabled:
        crypto = WeChatCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
        access = MediaAccess(settings.wecom_corp_id, settings.wecom_secret, settings.wecom_api_url)
        served.wecom = WeComAdapter(
            crypto, agent_id=settings.wecom_agent_id, answers=answers, media=access
        )
    return served


def create_app(served: Served, *, tick_seconds: float = 0.5):
    """The ASGI app; its lifespan runs the runtime's background work and closes it all."""
    runtime, slack, wecom = served.runtime, served.slack, served.wecom
    limiter = anyio.CapacityLimiter(64)
    verifier = SignatureVerifier(slack.signing_secret) if slack is not None else None

    async def slack_events(request: Request, body: bytes) -> Response:
        if slack is None:
            return PlainTextResponse("Slack is not configured", status_code=404)
        # Checked before the body is parsed: an unsigned request gets 401 whatever its body
        # (Bolt checks again, but only after parsing, and a body it cannot parse raises).
        if not _signed(verifier, body, request.headers):
            return PlainTextResponse("invalid request signature", status_code=401)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("body is not UTF-8", status_code=400)
        answers: list = []
        try:
            bolt_request = BoltRequest(
                body=text,
                query=request.url.query,
                headers=dict(request.headers),
                context={ANSWERS: answers},
            )
            if not inbound.well_formed(bolt_request.body):  # Bolt itself would choke on it
                log.warning("malformed Slack payload refused")
                return PlainTextResponse("malformed payload", status_code=400)
            answer = slack.app.dispatch(bolt_request)
        except Exception:  # a payload Bolt could not even parse
            log.warning("unreadable Slack request", exc_info=True)
            return PlainTextResponse("bad request", status_code=400)
        if answers:
            return _ack(await answers[0].settle())
        status = 400 if answer.status >= 500 else answer.status
        return Response(
            content=answer.body,
            status_code=status,
            headers=answer.first_headers_without_set_cookie(),
        )

    async def wecom_verify(request: Request) -> Response:
        if wecom is None:
            return PlainTextResponse("WeCom is not configured", status_code=404)
        try:
            return PlainTextResponse(wecom.verify_url(dict(request.query_params)))
        except Refused as refused:
            log.warning("WeCom URL check refused: %s", refused)
            return PlainTextResponse("forbidden", status_code=refused.status)

    async def wecom_callback(request: Request, body: bytes) -> Response:
        """Answered at once with an empty 200 (WeCom's "received"); the work follows."""
        if wecom is None:
            return PlainTextResponse("WeCom is not configured", status_code=404)
        try:
            wecom.receive(dict(request.query_params), body)
        except Refused as refused:
            log.warning("WeCom callback refused: %s", refused)
            return PlainTextResponse("forbidden", status_code=refused.status)
        return PlainTextResponse("")

    async def feed(request: Request) -> Response:
        """A workflow's feed at an unguessable URL (the token from the settings): 404 for any
        other token, or when no token is set."""
        token = runtime.settings.feed_token
        typed = request.path_params["token"]
        if not token or not hmac.compare_digest(typed.encode(), token.encode()):
            return PlainTextResponse("not found", status_code=404)
        name = request.path_params["name"]
        found = await anyio.to_thread.run_sync(runtime.core.feed, name, limiter=limiter)
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        media_type, text = found
        return Response(text, media_type=media_type)

    async def healthz(_request: Request) -> Response:
        ok = False
        with anyio.move_on_after(HEALTH_TIMEOUT):  # a locked database is not a healthy one
            ok = await anyio.to_thread.run_sync(
                runtime.db.ping, limiter=limiter, abandon_on_cancel=True
            )
        return JSONResponse({"database": "ok" if ok else "unreachable"}, 200 if ok else 503)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        runtime.start_background(tick_seconds)
        try:
            yield
        finally:
            served.close()

    routes = [
        Route("/slack/events", _capped(slack_events), methods=["POST"]),
        Route("/wecom/callback", wecom_verify, methods=["GET"]),
        Route("/wecom/callback", _capped(wecom_callback), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/feeds/{token}/{name}", feed, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _capped(handler):
    """``handler(request, body)`` behind a route that refuses a body bigger than any platform's."""

    async def route(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("payload too large", status_code=413)
        return await handler(request, body)

    return route


def _ack(content: dict) -> Response:
    """An acknowledgement carrying ``content`` (empty: a bare 200, as Bolt's ack() gives)."""
    return JSONResponse(content) if content else Response(status_code=200)


def _signed(verifier: SignatureVerifier, body: bytes, headers) -> bool:
    try:
        return verifier.is_valid_request(body, dict(headers))
    except (ValueError, TypeError):  # a timestamp that is not a number, a non-ASCII signature
        return False
