"""Bolt's AsyncApp for gigroom: one workspace with a bot token, or many installed through OAuth; every client at SLACK_API_URL."""

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_API_URL = "https://slack.com/api/"


def slack_client(token: str | None, api_url: str = DEFAULT_API_URL) -> AsyncWebClient:
    """A Web API client that waits out rate limits (HTTP 429 with Retry-After) and retries dropped connections."""
    return AsyncWebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                          retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=3),
                                          AsyncRateLimitErrorRetryHandler(max_retry_count=10)])


def build_app(token: str, signing_secret: str, api_url: str = DEFAULT_API_URL) -> AsyncApp:
    """The Bolt app; requests are verified with the signing secret (HTTP mode) before any listener runs."""
    return AsyncApp(client=slack_client(token, api_url), signing_secret=signing_secret,
                    process_before_response=False)


def build_oauth_app(signing_secret: str, oauth_settings: AsyncOAuthSettings, api_url: str = DEFAULT_API_URL) -> AsyncApp:
    """The Bolt app for many workspaces: its client has no token, so each request's bot token comes from the store.

    AsyncApp hands this very client to its AsyncOAuthFlow, so the install's oauth.v2.access and auth.test go to
    api_url too, and every listener's client is a copy of it with the workspace's token.
    """
    return AsyncApp(client=slack_client(None, api_url), signing_secret=signing_secret, oauth_settings=oauth_settings,
                    process_before_response=False)
