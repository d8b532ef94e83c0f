"""gigroom's web server: one aiohttp application, on the GIGROOM_WEB_PORT, for every platform's web endpoints."""

import logging
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import extract_content_type, parse_body

from adapters.web.uploads import Runtime as UploadRuntime
from adapters.web.uploads import UploadLinks, add_upload_page

SLACK_EVENTS = "/slack/events"
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() takes '²', which int() refuses
log = logging.getLogger(__name__)


class Unreadable(Exception):
    """A request to /slack/events that Bolt could not read: answered 4xx with this one line, not a 500."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


async def readable_bolt_request(request: web.Request) -> AsyncBoltRequest:
    """The request as Bolt reads it, or Unreadable when its timestamp, text or JSON would make Bolt fail."""
    if not TIMESTAMP.fullmatch(request.headers.get("X-Slack-Request-Timestamp", "")):
        raise Unreadable(401, "invalid request: X-Slack-Request-Timestamp is not a number")
    try:
        text = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(400, "invalid request: the body is not UTF-8 text") from None
    try:
        body = parse_body(text, extract_content_type({"content-type": [request.headers.get("Content-Type", "")]}))
    except ValueError:
        raise Unreadable(400, "invalid request: the payload is not valid JSON") from None
    if not isinstance(body, dict):
        raise Unreadable(400, "invalid request: the payload is not a JSON object")
    return AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]


class WebServer:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None

    def add_slack(self, bolt: AsyncApp, events: bool = True) -> None:
        """Slack's events, commands and interactivity at /slack/events (signed requests only), and OAuth's pages."""
        async def dispatch(request: web.Request) -> web.Response:
            try:
                bolt_request = await readable_bolt_request(request)
            except Unreadable as refused:
                log.warning("refused a request to %s: %s", SLACK_EVENTS, refused.reason)
                return web.json_response({"error": refused.reason}, status=refused.status)
            return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

        if events:
            self.app.router.add_post(SLACK_EVENTS, dispatch)
        flow = bolt.oauth_flow
        if flow is not None:
            async def install(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

            async def redirect(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

            self.app.router.add_get(flow.install_path, install)
            self.app.router.add_get(flow.redirect_uri_path, redirect)

    def add_uploads(self, links: UploadLinks, runtime: UploadRuntime) -> None:
        """gigroom's upload page, for files larger than a chat platform takes."""
        add_upload_page(self.app, links, runtime)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def start(self) -> int:
        """Listen; the port actually bound (useful with port 0)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
