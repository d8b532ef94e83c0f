"""Wires the Slack adapter to a running gigroom: the Bolt app, its listeners, the sink, and how Slack reaches it."""

from dataclasses import dataclass

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.db.places import Places
from adapters.slack import manifest
from adapters.slack.app import build_app, build_oauth_app, slack_client
from adapters.slack.files import SlackFiles
from adapters.slack.installs import BotTokens, oauth_settings
from adapters.slack.listeners import SlackListeners
from adapters.slack.sink import ClientFor, SlackSink
from adapters.web.server import WebServer
from bot.app import Gigroom
from bot.settings import Settings


@dataclass
class SlackSide:
    bolt: AsyncApp
    listeners: SlackListeners
    sink: SlackSink
    socket_mode: AsyncSocketModeHandler | None = None

    @property
    def oauth(self) -> bool:
        return self.bolt.oauth_flow is not None

    async def connect(self, web: WebServer, app_token: str | None) -> None:
        """Socket Mode with an app-level token; otherwise Slack's requests come to the web server (signed)."""
        if app_token:
            self.socket_mode = AsyncSocketModeHandler(self.bolt, app_token)
            await self.socket_mode.connect_async()
        if not app_token or self.oauth:  # the OAuth install pages are served over HTTP even in Socket Mode
            web.add_slack(self.bolt, events=not app_token)

    async def close(self) -> None:
        if self.socket_mode is not None:
            await self.socket_mode.close_async()
            self.socket_mode = None


def attach_slack(gig: Gigroom, settings: Settings) -> SlackSide:
    """The Slack side, its sink added to the relay: one workspace with SLACK_BOT_TOKEN, or many through OAuth."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    api_url = settings.slack_api_url
    client_for: ClientFor
    if settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
        bolt = build_app(token, secret, api_url)
        client = slack_client(token, api_url)

        async def one_workspace(_team_id: str) -> AsyncWebClient:
            return client

        client_for = one_workspace
    elif settings.slack_client_id and settings.slack_client_secret:
        redirect = f"{settings.public_url.rstrip('/')}/slack/oauth_redirect"
        oauth = oauth_settings(gig.database, settings.slack_client_id, settings.slack_client_secret.get_secret_value(),
                               manifest.bot_scopes(), redirect_uri=redirect)
        bolt = build_oauth_app(secret, oauth, api_url)
        bolt.enable_token_revocation_listeners()  # an uninstall deletes the workspace's tokens from the store
        client_for = BotTokens(oauth.installation_store, api_url).client_for
    else:
        raise ValueError("Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (OAuth installs).")
    admins = frozenset(a.strip() for a in settings.slack_admins.split(",") if a.strip())
    places = Places(gig.database, "slack")
    listeners = SlackListeners(gig, SlackFiles(gig.files), places, admins)
    listeners.register(bolt)
    sink = SlackSink(client_for, gig.queries, places, gig.clock)
    gig.add_sink(sink)
    return SlackSide(bolt, listeners, sink)
