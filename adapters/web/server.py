"""gigroom's web server: one aiohttp application, on the GIGROOM_WEB_PORT, for every platform's web endpoints."""

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.web.uploads import Runtime as UploadRuntime
from adapters.web.uploads import UploadLinks, add_upload_page

SLACK_EVENTS = "/slack/events"


class WebServer:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None

    def add_slack(self, bolt: AsyncApp, events: bool = True) -> None:
        """Slack's events, commands and interactivity at /slack/events (signed requests only), and OAuth's pages."""
        async def dispatch(request: web.Request) -> web.Response:
            if not request.headers.get("X-Slack-Request-Timestamp", "").isdigit():
                return web.json_response({"error": "invalid request"}, status=401)  # Bolt would fail with a 500
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

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
