"""The OAuth install in many workspaces, over HTTP, with the installations kept in gigroom's database."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from sqlalchemy import text

from adapters.db.connect import Database
from adapters.slack import manifest
from adapters.slack.app import build_oauth_app
from adapters.slack.installs import BOTS, INSTALLATIONS, STATES, BotTokens, NotInstalled, oauth_settings, slack_metadata
from adapters.web.server import SLACK_EVENTS, WebServer
from tests.slack import payloads
from tests.slack.standin import SlackStandIn

pytestmark = pytest.mark.timeout(30)
SECRET = "test-signing-secret"
COOKIE = "slack-app-oauth-state"


@dataclass
class Site:
    slack: SlackStandIn
    database: Database
    bolt: AsyncApp
    tokens: BotTokens
    http: aiohttp.ClientSession
    seen: asyncio.Queue[dict[str, Any]]

    async def start_install(self) -> str:
        """GET /slack/install: a redirect to Slack's authorize page; the state it carries, also set as a cookie."""
        async with self.http.get("/slack/install", allow_redirects=False) as response:
            assert response.status == 302
            location = urlsplit(response.headers["Location"])
            cookies = response.headers.getall("Set-Cookie")
        assert (location.scheme, location.netloc, location.path) == ("https", "slack.com", "/oauth/v2/authorize")
        query = parse_qs(location.query)
        assert query["client_id"] == [self.slack.client_id]
        assert query["scope"] == [",".join(manifest.bot_scopes())]
        state = query["state"][0]
        assert any(c.startswith(f"{COOKIE}={state};") for c in cookies)
        return state

    async def finish_install(self, code: str, state: str, cookie: str | None = None) -> int:
        """GET /slack/oauth_redirect, as the browser Slack sent back (with the state cookie)."""
        headers = {"Cookie": f"{COOKIE}={state if cookie is None else cookie}"}
        async with self.http.get("/slack/oauth_redirect", params={"code": code, "state": state}, headers=headers,
                                 allow_redirects=False) as response:
            await response.read()
            return response.status

    async def install(self, team_id: str) -> None:
        code = f"code-{team_id}"
        self.slack.add_oauth_code(code, team_id=team_id, scope=",".join(manifest.bot_scopes()))
        assert await self.finish_install(code, await self.start_install()) == 200

    async def command(self, team_id: str, user_id: str) -> int:
        p = payloads.slash_command(team_id, user_id, text="hello", standin=self.slack)
        async with self.http.post(SLACK_EVENTS, data=p.body, headers=p.headers(SECRET)) as response:
            await response.read()
            return response.status


@pytest.fixture
async def site(database: Database) -> AsyncIterator[Site]:
    with database.writer.begin() as connection:  # on PostgreSQL one database serves the whole session
        for table in (INSTALLATIONS, BOTS, STATES):
            connection.execute(text(f"DELETE FROM {table}"))
    async with SlackStandIn() as slack:
        slack.add_workspace("T1", name="Acme", bot_token="xoxb-t1", bot_user_id="UBOT1", users={"U1": {"name": "sam"}})
        slack.add_workspace("T2", name="Globex", bot_token="xoxb-t2", bot_user_id="UBOT2", users={"U9": {"name": "zed"}})
        slack.add_workspace("T3", name="Initech", bot_token="xoxb-t3", users={"U7": {"name": "ivy"}})  # never installs
        settings = oauth_settings(database, slack.client_id, slack.client_secret, manifest.bot_scopes())
        bolt = build_oauth_app(SECRET, settings, slack.base_url)
        seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        @bolt.command("/gig")
        async def gig(ack: Any, context: AsyncBoltContext) -> None:
            await seen.put({"team_id": context.team_id, "bot_token": context.bot_token, "client_token": context.client.token})
            await ack()

        server = WebServer("127.0.0.1", 0)
        server.add_slack(bolt)
        port = await server.start()
        try:
            async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
                yield Site(slack, database, bolt, BotTokens(settings.installation_store, slack.base_url), http, seen)
        finally:
            await server.stop()
        assert slack.errors == []


async def test_two_workspaces_install_and_each_gets_its_own_bot(site: Site) -> None:
    await site.install("T1")
    await site.install("T2")

    with site.database.reader.connect() as connection:
        installed = connection.execute(text(f"SELECT team_id, team_name, bot_token, bot_id, bot_user_id, user_id, client_id "
                                            f"FROM {INSTALLATIONS} ORDER BY team_id")).all()
        bots = connection.execute(text(f"SELECT team_id, bot_token FROM {BOTS} ORDER BY team_id")).all()
    assert [tuple(row) for row in installed] == [
        ("T1", "Acme", "xoxb-t1", "BT1", "UBOT1", "U1", site.slack.client_id),
        ("T2", "Globex", "xoxb-t2", "BT2", "UBOT2", "U9", site.slack.client_id)]
    assert [tuple(row) for row in bots] == [("T1", "xoxb-t1"), ("T2", "xoxb-t2")]
    # the flow's own client went to the stand-in: the code exchanged, then the bot's auth.test
    assert [c.method for c in site.slack.calls] == ["oauth.v2.access", "auth.test"] * 2

    t1, t2 = await site.tokens.client_for("T1"), await site.tokens.client_for("T2")
    assert (t1.token, t2.token) == ("xoxb-t1", "xoxb-t2")
    assert (await t2.auth_test())["team_id"] == "T2"  # at SLACK_API_URL, the stand-in
    assert await site.tokens.client_for("T1") is t1  # cached per team
    with pytest.raises(NotInstalled, match="T3"):
        await site.tokens.client_for("T3")


async def test_a_state_works_once_and_only_with_its_cookie(site: Site) -> None:
    state = await site.start_install()
    site.slack.add_oauth_code("code-1", team_id="T1")
    site.slack.add_oauth_code("code-2", team_id="T1")
    assert await site.finish_install("code-1", state) == 200
    assert await site.finish_install("code-2", state) == 401  # reused: consumed by the first
    assert await site.finish_install("code-2", "forged-state") == 401  # never issued, though the cookie matches
    other = await site.start_install()
    assert await site.finish_install("code-2", other, cookie=state) == 400  # another browser's state
    assert [c.method for c in site.slack.calls] == ["oauth.v2.access", "auth.test"]  # code-2 was never exchanged
    with site.database.reader.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {INSTALLATIONS}")).scalar() == 1


async def test_a_signed_command_from_a_workspace_runs_with_its_bot_token(site: Site) -> None:
    await site.install("T1")
    await site.install("T2")
    assert await site.command("T2", "U9") == 200
    seen = await asyncio.wait_for(site.seen.get(), 5)
    assert seen == {"team_id": "T2", "bot_token": "xoxb-t2", "client_token": "xoxb-t2"}
    assert await site.command("T1", "U1") == 200
    assert (await asyncio.wait_for(site.seen.get(), 5))["bot_token"] == "xoxb-t1"

    bad = payloads.slash_command("T2", "U9", standin=site.slack)
    async with site.http.post(SLACK_EVENTS, data=bad.body, headers=bad.headers("not-the-secret")) as response:
        assert response.status == 401

    never = payloads.slash_command("T3", "U7", standin=site.slack)
    async with site.http.post(SLACK_EVENTS, data=never.body, headers=never.headers(SECRET)) as response:
        assert response.status == 200
    assert site.seen.empty()  # no listener ran for a workspace that never installed gigroom
    assert "reinstall" in site.slack.responses(never.data["response_url"])[0]["text"]


async def test_an_uninstalled_workspace_has_no_bot_until_it_installs_again(site: Site) -> None:
    await site.install("T1")
    assert (await site.tokens.client_for("T1")).token == "xoxb-t1"
    await site.tokens.store.async_delete_all(enterprise_id=None, team_id="T1")
    site.tokens.forget("T1")
    with pytest.raises(NotInstalled):
        await site.tokens.client_for("T1")
    await site.install("T1")
    assert (await site.tokens.client_for("T1")).token == "xoxb-t1"


def test_the_manifest_parses_with_gig_its_only_command() -> None:
    assert manifest.slash_commands() == ["/gig"]
    assert "commands" in manifest.bot_scopes() and len(set(manifest.bot_scopes())) == len(manifest.bot_scopes())
    assert manifest.bot_events() == ["app_home_opened", "message.groups", "app_uninstalled", "tokens_revoked"]
    whole = manifest.manifest()
    assert urlsplit(whole["oauth_config"]["redirect_urls"][0]).path == "/slack/oauth_redirect"
    assert {urlsplit(u).path for u in (whole["settings"]["event_subscriptions"]["request_url"],
                                       whole["settings"]["interactivity"]["request_url"],
                                       whole["features"]["slash_commands"][0]["url"])} == {SLACK_EVENTS}
    assert set(slack_metadata().tables) == {INSTALLATIONS, BOTS, STATES}


async def test_a_reinstall_with_a_new_token_is_used_at_once(site: Site) -> None:
    from slack_sdk.oauth.installation_store import Bot

    await site.install("T1")
    assert (await site.tokens.client_for("T1")).token == "xoxb-t1"
    await site.tokens.store.async_save_bot(Bot(app_id=site.slack.app_id, enterprise_id=None, team_id="T1",
                                               bot_token="xoxb-t1-new", bot_id="BT1", bot_user_id="UBOT1",
                                               installed_at=time.time() + 1))
    assert (await site.tokens.client_for("T1")).token == "xoxb-t1-new", "no restart, no forget(), needed"
