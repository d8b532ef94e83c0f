"""Wires the Slack adapter to a running gigroom: the Bolt app, its listeners, the sink and the web server."""

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.db.places import Places
from adapters.slack.app import build_app, slack_client
from adapters.slack.files import SlackFiles
from adapters.slack.listeners import SlackListeners
from adapters.slack.sink import SlackSink
from bot.app import Gigroom
from bot.settings import Settings


@dataclass
class SlackSide:
    bolt: AsyncApp
    listeners: SlackListeners
    sink: SlackSink


def attach_slack(gig: Gigroom, settings: Settings) -> SlackSide:
    """The Slack side for one workspace (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET), its sink added to the relay."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    token = settings.slack_bot_token.get_secret_value()
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bolt = build_app(token, secret, settings.slack_api_url)
    admins = frozenset(a.strip() for a in settings.slack_admins.split(",") if a.strip())
    places = Places(gig.database, "slack")
    listeners = SlackListeners(gig, SlackFiles(gig.files), places, admins)
    listeners.register(bolt)
    client = slack_client(token, settings.slack_api_url)

    async def client_for(_team_id: str) -> AsyncWebClient:
        return client

    sink = SlackSink(client_for, gig.queries, places, gig.clock)
    gig.add_sink(sink)
    return SlackSide(bolt, listeners, sink)
