"""Slack installations and OAuth states in gigroom's own database, for Bolt's AsyncApp in many workspaces.

slack_sdk's sync `SQLAlchemyInstallationStore` and `SQLAlchemyOAuthStateStore` run on gigroom's engines,
each call in a thread (`asyncio.to_thread`), behind slack_sdk's async store interfaces. That reuses
gigroom's engine and its SQLite writer discipline instead of adding aiosqlite and a second pool: every
write goes through `database.writer`, so on SQLite it begins with BEGIN IMMEDIATE and queues behind the
order engine's writes like any other. Lookups (Bolt's authorize runs one for every request from Slack) go
through `database.reader`, so that they never take SQLite's write lock; on PostgreSQL both are one engine.
The tables (slack_installations, slack_bots, slack_oauth_states) come from migration 0003.
"""

import asyncio
from collections.abc import Sequence
from logging import Logger
from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import MetaData

from adapters.db.connect import Database
from adapters.slack.app import DEFAULT_API_URL, slack_client

INSTALLATIONS, BOTS, STATES = "slack_installations", "slack_bots", "slack_oauth_states"
INSTALL_PATH, REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
STATE_SECONDS = 600  # a state (and its browser cookie) is good for 10 minutes, Bolt's default


def slack_metadata() -> MetaData:
    """The three tables exactly as slack_sdk's stores declare them: what migration 0003 must have built."""
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS)
    SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES)
    return metadata


class InstallationStore(AsyncInstallationStore):
    """Workspaces' installations and bots: slack_sdk's SQLAlchemy store, off the event loop."""

    def __init__(self, database: Database, client_id: str) -> None:
        def store(engine: Any) -> SQLAlchemyInstallationStore:
            return SQLAlchemyInstallationStore(client_id, engine, bots_table_name=BOTS, installations_table_name=INSTALLATIONS)

        self.writes = store(database.writer)
        self.reads = self.writes if database.reader is database.writer else store(database.reader)

    @property
    def logger(self) -> Logger:
        return self.writes.logger

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.writes.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.writes.save_bot, bot)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return await asyncio.to_thread(self.reads.find_bot, enterprise_id=enterprise_id, team_id=team_id,
                                       is_enterprise_install=is_enterprise_install)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        return await asyncio.to_thread(self.reads.find_installation, enterprise_id=enterprise_id, team_id=team_id,
                                       user_id=user_id, is_enterprise_install=is_enterprise_install)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.writes.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        await asyncio.to_thread(self.writes.delete_installation, enterprise_id=enterprise_id, team_id=team_id,
                                user_id=user_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.writes.delete_all, enterprise_id=enterprise_id, team_id=team_id)


class OAuthStateStore(AsyncOAuthStateStore):
    """The install flow's single-use states; issuing and consuming both write, on the writer."""

    def __init__(self, database: Database, expiration_seconds: int = STATE_SECONDS) -> None:
        self.store = SQLAlchemyOAuthStateStore(expiration_seconds, database.writer, table_name=STATES)

    @property
    def logger(self) -> Logger:
        return self.store.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.store.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)


def oauth_settings(database: Database, client_id: str, client_secret: str, scopes: Sequence[str],
                   redirect_uri: str | None = None) -> AsyncOAuthSettings:
    """Bolt's OAuth settings on gigroom's database: /slack/install redirects straight to Slack (no install page)."""
    settings = AsyncOAuthSettings(
        client_id=client_id, client_secret=client_secret, scopes=list(scopes), user_scopes=[], redirect_uri=redirect_uri,
        install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH, install_page_rendering_enabled=False,
        installation_store=InstallationStore(database, client_id), state_store=OAuthStateStore(database),
        state_expiration_seconds=STATE_SECONDS)
    # Bolt's authorize calls auth.test for every request from Slack unless it caches the answer, by token: a
    # deleted installation is still not found in the store, so the cache never outlives an uninstall.
    settings.authorize.cache_enabled = True  # type: ignore[attr-defined]
    return settings


class NotInstalled(LookupError):
    """A workspace with no bot token in the store: it never installed gigroom (or uninstalled it)."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"gigroom is not installed in the Slack workspace {team_id}: "
                         f"a workspace admin installs it at {INSTALL_PATH}")
        self.team_id = team_id


class BotTokens:
    """A Web API client per workspace, with that workspace's bot token from the installation store."""

    def __init__(self, store: AsyncInstallationStore, api_url: str = DEFAULT_API_URL) -> None:
        self.store, self.api_url = store, api_url
        self._clients: dict[str, AsyncWebClient] = {}  # team id -> the client of its current bot token

    async def client_for(self, team_id: str) -> AsyncWebClient:
        """The workspace's bot token is looked up each time, so an uninstall or a reinstall is seen at once."""
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            self.forget(team_id)
            raise NotInstalled(team_id)
        client = self._clients.get(team_id)
        if client is None or client.token != bot.bot_token:
            client = self._clients[team_id] = slack_client(bot.bot_token, self.api_url)
        return client

    def forget(self, team_id: str) -> None:
        """Drop the cached client, after a reinstall or an uninstall."""
        self._clients.pop(team_id, None)
