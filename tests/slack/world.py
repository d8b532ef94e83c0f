"""gigroom on Slack, for tests: the stand-in, a real Gigroom on a SQLite file, the real Bolt app served over HTTP.

Everything a person does arrives as Slack would send it (signed HTTP requests built by
:mod:`tests.slack.payloads`); everything gigroom says is read back from the stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from adapters.slack import manifest
from adapters.web.server import SLACK_EVENTS, WebServer
from bot.app import Gigroom
from bot.settings import Settings
from bot.slack import SlackSide, attach_slack
from tests.slack import payloads
from tests.slack.payloads import SlackPayload
from tests.slack.standin import SlackStandIn

JSON = dict[str, Any]
# tasks that live as long as a connection: Socket Mode's own, and a server's for each connection (a websocket's)
LONG_LIVED = {"SocketModeClient.monitor_current_session", "SocketModeClient.receive_messages",
              "SocketModeClient.process_messages", "RequestHandler.start", "RequestHandler._handle_request"}
SECRET = "standin-signing-secret"
TEAM = "T1"
SELLER, BUYER, ADMIN, STRANGER = "USAM", "UBEA", "UADA", "UEVE"
PEOPLE = {SELLER: {"name": "sam"}, BUYER: {"name": "bea"}, ADMIN: {"name": "ada", "is_admin": True},
          STRANGER: {"name": "eve"}}


@dataclass
class Answer:
    """Gigroom's HTTP answer to one request from Slack: the ack."""

    status: int
    text: str

    @property
    def json(self) -> JSON:
        return json.loads(self.text) if self.text.strip() else {}


def add_team(slack: SlackStandIn, team_id: str = TEAM, name: str = "Acme", token: str = "xoxb-acme") -> None:
    slack.add_workspace(team_id, name=name, bot_token=token, bot_user_id=f"UB{team_id}", users=PEOPLE)


def settings_for(slack: SlackStandIn, tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'gigroom.db'}", "files_dir": tmp_path / "files",
        "slack_bot_token": "xoxb-acme", "slack_signing_secret": SECRET, "slack_api_url": slack.base_url,
        "web_port": 0, "sqlite_synchronous": "NORMAL",
    }
    values.update(changes)
    return Settings.model_validate(values)


class World:
    """One running gigroom on Slack, and the means to act as the people of its workspaces."""

    def __init__(self, slack: SlackStandIn, settings: Settings) -> None:
        """Over HTTP, or over Socket Mode's websocket when the settings hold an app-level token."""
        self.slack, self.settings = slack, settings
        self.app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        self.gig: Gigroom
        self.side: SlackSide
        self.web: WebServer
        self.url = ""
        self.http: aiohttp.ClientSession | None = None
        self._quiet: set[asyncio.Task[Any]] = set()

    async def start(self) -> World:
        self.gig = Gigroom(self.settings)
        self.gig.migrate()
        self.side = attach_slack(self.gig, self.settings)
        self.web = WebServer("127.0.0.1", 0)
        if self.app_token:
            self.slack.add_app_token(self.app_token)
        await self.side.connect(self.web, self.app_token)
        self.web.add_uploads(self.gig.uploads, self.gig)
        if self.app_token:
            await self.slack.wait_socket()
        port = await self.web.start()
        self.url = f"http://127.0.0.1:{port}"
        # one connection per request, so that no server task outlives its request
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        self._quiet = set(asyncio.all_tasks())
        return self

    async def stop(self) -> None:
        await self.settle()
        if self.http is not None:
            await self.http.close()
        await self.side.close()
        await self.web.stop()
        await self.gig.stop()

    async def restart(self) -> None:
        """Stop this gigroom and start a new one on the same database and files: a restart of the process."""
        await self.stop()
        await self.start()

    # ---- requests from Slack ---------------------------------------------------------------------------------
    async def post(self, payload: SlackPayload, *, secret: str = SECRET, timestamp: int | None = None,
                   headers: dict[str, str] | None = None) -> Answer:
        """Send a request as Slack would: signed over HTTP, or as an envelope over Socket Mode. Gives the ack."""
        if self.app_token and payload.envelope_type:
            retry = int((headers or {}).get("X-Slack-Retry-Num", 0))
            ack = await self.slack.socket_send(payload.envelope_type, payload.data, retry_attempt=retry,
                                               retry_reason=(headers or {}).get("X-Slack-Retry-Reason", ""))
            return Answer(200, json.dumps(ack["payload"]) if ack.get("payload") else "")
        assert self.http is not None
        sent = payload.headers(secret, timestamp) | (headers or {})
        async with self.http.post(self.url + SLACK_EVENTS, data=payload.body, headers=sent) as response:
            return Answer(response.status, await response.text())

    async def command(self, user: str, text: str, team: str = TEAM, settle: bool = True, **fields: Any) -> Answer:
        answer = await self.post(payloads.slash_command(team, user, text=text, standin=self.slack, **fields))
        assert answer.status == 200, answer
        if settle:
            await self.settle()
        return answer

    async def click(self, user: str, message: JSON, channel: str, label: str, team: str = TEAM,
                    settle: bool = True) -> Answer:
        """Click the button labelled `label` on a message the stand-in holds."""
        element = button(message, label)
        ephemeral = "ts" not in message  # Slack sends no message with a click on an ephemeral one
        container = {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel,
                     "is_ephemeral": True} if ephemeral else None
        answer = await self.post(payloads.block_actions(
            team, user, element["action_id"], element.get("value"), block_id=element["_block_id"],
            text=label, message=None if ephemeral else message, channel_id=channel, container=container,
            standin=self.slack))
        assert answer.status == 200, answer
        if settle:
            await self.settle()
        return answer

    async def submit(self, user: str, view: JSON, values: dict[str, Any], team: str = TEAM,
                     settle: bool = True) -> Answer:
        """Submit a modal the stand-in shows, with `values` as {block_id: value} (its one input per block)."""
        by_block = {}
        for block in view.get("blocks", []):
            if block.get("type") == "input" and block["block_id"] in values:
                by_block[block["block_id"]] = {block["element"]["action_id"]: values[block["block_id"]]}
        missing = set(values) - set(by_block)
        assert not missing, f"the modal has no inputs {missing}"
        answer = await self.post(payloads.view_submission(team, user, values=by_block, view=view, standin=self.slack))
        assert answer.status == 200, answer
        if settle:
            await self.settle()
        return answer

    async def event(self, team: str, event: JSON, event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> Answer:
        answer = await self.post(payloads.event_callback(team, event, event_id=event_id), headers=headers)
        await self.settle()
        return answer

    async def install(self, team_id: str) -> None:
        """A workspace admin installs gigroom through Slack's OAuth flow, as their browser would."""
        assert self.http is not None
        code = f"code-{team_id}"
        self.slack.add_oauth_code(code, team_id=team_id, scope=",".join(manifest.bot_scopes()),
                                  redirect_uri=f"{self.settings.public_url.rstrip('/')}/slack/oauth_redirect")
        async with self.http.get(self.url + "/slack/install", allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
        async with self.http.get(self.url + "/slack/oauth_redirect", params={"code": code, "state": state},
                                 headers={"Cookie": f"slack-app-oauth-state={state}"}, allow_redirects=False) as done:
            assert done.status == 200, await done.text()

    # ---- waiting for gigroom ---------------------------------------------------------------------------------
    async def settle(self, rounds: int = 50) -> None:
        """Wait until gigroom has finished what it does after its acks, and the relay has sent every event."""
        for _ in range(rounds):
            busy = [t for t in asyncio.all_tasks() if t not in self._quiet and t is not asyncio.current_task()
                    and not t.done() and t.get_coro().__qualname__ not in LONG_LIVED]
            if busy:
                await asyncio.wait(busy, timeout=10)
                continue
            sent = await self.gig.relay.run_once()
            fired = await asyncio.to_thread(self.gig.engine.fire_due)
            if not sent and not fired:
                return
            if fired:
                sent = await self.gig.relay.run_once()
        raise AssertionError("gigroom did not settle")

    # ---- what people see -------------------------------------------------------------------------------------
    def dm(self, user: str, team: str = TEAM) -> list[JSON]:
        channel = self.slack.dm(user, team)
        return self.slack.messages(channel) if channel else []

    def dm_channel(self, user: str, team: str = TEAM) -> str:
        channel = self.slack.dm(user, team)
        assert channel, f"gigroom never wrote to {user}"
        return channel

    def last_dm(self, user: str, team: str = TEAM) -> JSON:
        found = self.dm(user, team)
        assert found, f"no direct message to {user}"
        return found[-1]

    def order_channel(self, order_id: str, team: str = TEAM) -> str:
        found = [c for c in self.slack.channels(team) if c.get("name", "").startswith(f"order-{order_id.lower()}")]
        assert len(found) == 1, [c.get("name") for c in self.slack.channels(team)]
        return str(found[0]["id"])

    def board(self, order_id: str, team: str = TEAM) -> JSON:
        """The order's board: the channel's message whose header names the order."""
        channel = self.order_channel(order_id, team)
        boards = [m for m in self.slack.messages(channel) if any(
            b.get("type") == "header" and order_id in b["text"]["text"] for b in m.get("blocks", []))]
        assert len(boards) == 1, f"{len(boards)} boards in the order's channel"
        return boards[0]

    def modal(self, user: str, team: str = TEAM) -> JSON:
        stack = self.slack.modal_stack(user, team)
        assert stack, f"no modal open for {user}"
        return stack[-1]

    def responses_to(self, user: str) -> list[JSON]:
        """What gigroom posted to the response URLs of a person's commands and clicks, oldest first."""
        return [post for rid, target in self.slack._response_urls.items() if target.user_id == user
                for post in self.slack.responses(rid)]

    def said_to(self, user: str) -> list[str]:
        """Everything gigroom told a person privately: ephemeral answers, response URL posts, direct messages."""
        texts = [text_of(e) for e in self.slack.ephemerals(user)]
        texts += [text_of(p) for p in self.responses_to(user)]
        texts += [text_of(m) for m in self.dm(user)]
        return texts

    def heard(self, user: str, fragment: str) -> bool:
        return any(fragment in text for text in self.said_to(user))


def button(message: JSON, label: str) -> JSON:
    """The button labelled `label` in a message's blocks (with its block id), or AssertionError."""
    seen = []
    for block in message.get("blocks", []):
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                seen.append(element["text"]["text"])
                if element["text"]["text"] == label:
                    return {**element, "_block_id": block.get("block_id", "actions")}
    raise AssertionError(f"no button {label!r}; the message has {seen}")


def labels(message: JSON) -> list[str]:
    found = []
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button":
                found.append(element["text"]["text"])
    return found


def text_of(message: JSON) -> str:
    """A message's text and its blocks' texts, joined: what a person reads."""
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(block[key].get("text", ""))
        for item in block.get("fields", []) + [e for e in block.get("elements", []) if isinstance(e, dict)]:
            if item.get("type") in ("mrkdwn", "plain_text"):
                parts.append(item.get("text", ""))
    return "\n".join(parts)


SOCKET_MODE = {"slack_app_token": "xapp-1-standin", "slack_signing_secret": None}
OAUTH = {"slack_bot_token": None, "slack_client_id": "1111.2222", "slack_client_secret": "standin-client-secret"}


@contextlib.asynccontextmanager
async def running(slack: SlackStandIn, tmp_path: Path, **changes: Any) -> Any:
    world = await World(slack, settings_for(slack, tmp_path, **changes)).start()
    try:
        yield world
    finally:
        await world.stop()
