"""Bolt's AsyncApp for gigroom: one workspace with a bot token, every client pointed at SLACK_API_URL."""

from slack_bolt.async_app import AsyncApp
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
                    process_before_response=False, token_verification_enabled=False)
