"""A stand-in of Slack for the tests: a real aiohttp server on 127.0.0.1 that the real slack_sdk talks to.

It is a fake, not a mock: it keeps workspaces, users, channels, messages, views, files and tokens, answers
the Web API with Slack's JSON shapes and error codes, and serves Socket Mode's websocket::

    async with SlackStandIn() as slack:
        slack.add_workspace("T1", name="Acme", bot_token="xoxb-1", users={"U1": {"name": "sam"}})
        client = AsyncWebClient(token="xoxb-1", base_url=slack.base_url)
        await client.chat_postMessage(channel="general", text="hi")
        assert slack.messages(slack.channel_id("general"))[0]["text"] == "hi"

Modelled (each method checks the token, ``Authorization: Bearer`` or a ``token`` field, and its workspace):
``auth.test``, ``team.info``, ``users.info``; ``conversations.create|invite|archive|unarchive|info|members|
open|join|setTopic|setPurpose``; ``chat.postMessage|update|postEphemeral|delete|getPermalink``, ``pins.add``; ``views.open|
push|update|publish`` (single-use trigger ids that expire, hashes, external ids, the three-view stack);
``files.info``, ``files.list`` (by channel and user), the ``files_upload_v2`` flow (``files.getUploadURLExternal``,
the POST to the upload URL, ``files.completeUploadExternal``) and authenticated, streamed downloads of ``url_private_download``;
``apps.connections.open`` and the Socket Mode websocket (hello, envelopes, acks, disconnect);
``oauth.v2.access`` with single-use codes; response URLs (``respond()``: replace, delete, in_channel,
ephemeral, at most 5 uses); rate limits on demand (HTTP 429 with ``Retry-After``). Block Kit limits are
checked by :mod:`tests.slack.blockkit`. Every Web API call is recorded in :attr:`SlackStandIn.calls`.

Not modelled: scopes (every token may call every method; public channels accept the bot's posts unless a
workspace says ``chat_write_public=False``), pagination (one page holds everything), Enterprise Grid, user
tokens, ``conversations.history``, reactions, the automatic per-channel rate limit of chat.postMessage,
event delivery over HTTP (the tests post those to the app themselves with :mod:`tests.slack.payloads`), and
the asynchronous side of file sharing (here a completed upload is shared at once).

Where Slack's behaviour is stranger than a test would like, the stand-in follows Slack, except for one
kindness: a download with a bad token answers 401/403 where Slack answers a 200 HTML sign-in page.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, web

from tests.slack import blockkit

JSON = dict[str, Any]
TokenKind = Literal["bot", "app", "client"]

APP_ID = "A0GIGROOM1"
VERIFICATION_TOKEN = "standin-verification-token"  # the deprecated token Slack still puts in payloads
MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_TOPIC = 250
MAX_VIEW_STACK = 3
RESPONSE_URL_USES = 5
CHUNK = 64 * 1024
CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


class SlackError(Exception):
    """An ``{"ok": false, "error": ...}`` answer, with Slack's extra fields (``response_metadata``...)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> JSON:
        return {"ok": False, "error": self.error, **self.extra}


def _invalid(code: str, messages: list[str]) -> SlackError:
    return SlackError(code, response_metadata={"messages": messages})


def _missing(name: str) -> SlackError:
    return _invalid("invalid_arguments", [f"[ERROR] missing required field: {name}"])


# -- records --------------------------------------------------------------------------------------------------


@dataclass
class Workspace:
    """One Slack workspace (team) with the app installed: its bot and its people."""

    team_id: str
    name: str
    domain: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    users: dict[str, JSON] = field(default_factory=dict)
    enterprise_id: str | None = None
    chat_write_public: bool = True  # the bot may post in public channels it is not a member of

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"


@dataclass
class Call:
    """One Web API call as the stand-in saw it."""

    method: str
    params: JSON
    team_id: str | None
    status: int
    response: JSON
    http_method: str = "POST"

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    created: int
    creator: str
    members: list[str]
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""
    messages: list[JSON] = field(default_factory=list)

    def to_json(self, viewer: str) -> JSON:
        if self.is_im:
            other = next((m for m in self.members if m != viewer), viewer)
            return {"id": self.id, "created": self.created, "is_im": True, "is_org_shared": False, "user": other,
                    "is_user_deleted": False, "priority": 0, "is_open": True, "is_archived": False}
        return {
            "id": self.id, "name": self.name, "name_normalized": self.name, "is_channel": not self.is_mpim,
            "is_group": False, "is_im": False, "is_mpim": self.is_mpim, "is_private": self.is_private or self.is_mpim,
            "created": self.created, "creator": self.creator, "is_archived": self.is_archived,
            "is_general": self.is_general, "unlinked": 0, "is_shared": False, "is_org_shared": False,
            "is_ext_shared": False, "is_pending_ext_shared": False, "pending_shared": [], "context_team_id": self.team_id,
            "updated": self.created * 1000, "parent_conversation": None, "is_member": viewer in self.members,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0}, "previous_names": [],
        }

    def find(self, ts: Any) -> JSON | None:
        return next((m for m in self.messages if m["ts"] == ts), None)


@dataclass
class StoredFile:
    """A file in a workspace: uploaded (``content`` set) or only announced by files.getUploadURLExternal."""

    id: str
    team_id: str
    user: str
    name: str
    title: str
    mimetype: str
    created: int
    content: bytes | None = None
    declared_length: int | None = None
    shares: dict[str, list[str]] = field(default_factory=dict)  # channel id -> message ts

    @property
    def uploaded(self) -> bool:
        return self.content is not None


@dataclass
class Trigger:
    team_id: str | None
    user_id: str | None
    expires_at: float  # time.monotonic(), so that a test moving the wall clock does not expire it
    used: bool = False


@dataclass
class ResponseUrl:
    id: str
    team_id: str | None
    channel: str | None
    message_ts: str | None
    user_id: str | None
    posts: list[JSON] = field(default_factory=list)


@dataclass
class OAuthGrant:
    team_id: str
    user_id: str
    scope: str
    redirect_uri: str | None


@dataclass
class Download:
    file_id: str
    status: int
    team_id: str | None


@dataclass
class _Req:
    """One API request on its way through a handler."""

    params: JSON
    team: Workspace | None
    request: web.Request

    @property
    def ws(self) -> Workspace:
        assert self.team is not None, "a bot-token method ran without a workspace"
        return self.team

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def need(self, name: str) -> Any:
        value = self.params.get(name)
        if value in (None, ""):
            raise _missing(name)
        return value


Handler = Callable[["SlackStandIn", _Req], JSON]
_HANDLERS: dict[str, tuple[Handler, TokenKind]] = {}


def _api(method: str, token: TokenKind = "bot") -> Callable[[Handler], Handler]:
    """Registers a Web API method; ``token`` is the kind of token it needs."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[method] = (handler, token)
        return handler

    return register


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _split(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :].strip() or None


def _decode_json_fields(params: JSON) -> JSON:
    for name in JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)
    return params


async def _read_params(request: web.Request) -> JSON:
    """Query string, then the body: JSON, form-encoded or multipart (a file part becomes bytes)."""
    params: JSON = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            params.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                params[name] = value if isinstance(value, str | bytes | bytearray) else value.file.read()
    return _decode_json_fields(params)


# -- the stand-in ---------------------------------------------------------------------------------------------


class SlackStandIn:
    """Slack's Web API, file hosts, response URLs and Socket Mode, on one local port."""

    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        client_id: str = "1111.2222",
        client_secret: str = "standin-client-secret",
        trigger_lifetime: float = 30.0,
        ack_timeout: float = 3.0,
    ) -> None:
        self.app_id = app_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.trigger_lifetime = trigger_lifetime  # Slack's is 3 s; tests get more, but each trigger works once
        self.ack_timeout = ack_timeout
        self.calls: list[Call] = []
        self.downloads: list[Download] = []
        self.socket_messages: list[JSON] = []  # everything Socket Mode clients sent (acks)
        self.errors: list[Exception] = []  # the stand-in's own failures (answered 500 internal_error)
        self.socket_connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._workspaces: dict[str, Workspace] = {}
        self._bot_tokens: dict[str, Workspace] = {}
        self._app_tokens: set[str] = set()
        self._revoked: set[str] = set()
        self._channels: dict[str, Channel] = {}
        self._dms: dict[tuple[str, frozenset[str]], str] = {}
        self._ephemerals: list[JSON] = []
        self._views: dict[str, JSON] = {}
        self._view_owner: dict[str, tuple[str, str | None]] = {}
        self._stacks: dict[tuple[str, str | None], list[str]] = {}
        self._homes: dict[tuple[str, str], str] = {}
        self._external_ids: dict[tuple[str, str], str] = {}
        self._triggers: dict[str, Trigger] = {}
        self._files: dict[str, StoredFile] = {}
        self._upload_tickets: dict[str, str] = {}
        self._oauth_codes: dict[str, OAuthGrant] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._rate_limits: dict[str, list[int]] = {}  # method -> [calls still refused, retry_after]
        self._socket_tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[JSON]] = {}

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> SlackStandIn:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api_route)
        app.router.add_get("/files-pri/{key}/download/{name}", self._download_route)
        app.router.add_get("/files-pri/{key}/{name}", self._download_route)
        app.router.add_post("/upload/v1/{ticket}", self._upload_route)
        app.router.add_post("/respond/{id}", self._respond_route)
        app.router.add_get("/link/", self._socket_route)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"stand-in stopping")
        for future in self._acks.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The root, ``http://127.0.0.1:PORT/``."""
        if not self._port:
            raise RuntimeError("the Slack stand-in is not started")
        return f"http://127.0.0.1:{self._port}/"

    @property
    def base_url(self) -> str:
        """For ``AsyncWebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.url}api/"

    # -- setting the scene ----------------------------------------------------------------------------------

    def add_workspace(
        self,
        team_id: str,
        *,
        name: str | None = None,
        bot_token: str | None = None,
        bot_user_id: str | None = None,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        domain: str | None = None,
        bot_id: str | None = None,
        enterprise_id: str | None = None,
        chat_write_public: bool = True,
    ) -> Workspace:
        """A workspace with the app installed, its ``#general`` channel (every user, not the bot) and users."""
        if team_id in self._workspaces:
            raise ValueError(f"workspace {team_id} exists already")
        name = name or team_id
        ws = Workspace(
            team_id=team_id,
            name=name,
            domain=domain or re.sub(r"[^a-z0-9-]", "", name.lower().replace(" ", "-")) or team_id.lower(),
            bot_token=bot_token or f"xoxb-{team_id.lower()}-standin",
            bot_user_id=bot_user_id or f"UB{team_id}",
            bot_id=bot_id or f"B{team_id}",
            enterprise_id=enterprise_id,
            chat_write_public=chat_write_public,
        )
        if ws.bot_token in self._bot_tokens:
            raise ValueError(f"bot token {ws.bot_token} belongs to another workspace")
        self._workspaces[team_id] = ws
        self._bot_tokens[ws.bot_token] = ws
        ws.users[ws.bot_user_id] = self._user_json(ws, ws.bot_user_id, {"name": "gigroom", "is_bot": True})
        self.add_channel(team_id, "general", members=(), bot_member=False, is_general=True)
        for user_id, fields in (users or {}).items():
            self.add_user(team_id, user_id, **fields)
        return ws

    @property
    def workspaces(self) -> dict[str, Workspace]:
        return dict(self._workspaces)

    def workspace(self, team_id: str | None = None) -> Workspace:
        """A workspace by id; without one, the only workspace there is."""
        if team_id is not None:
            return self._workspaces[team_id]
        if len(self._workspaces) != 1:
            raise ValueError(f"say which workspace: there are {len(self._workspaces)}")
        return next(iter(self._workspaces.values()))

    def add_user(self, team_id: str, user_id: str, **fields: Any) -> JSON:
        """A person: ``name``, ``real_name``, ``tz``, ``is_admin``, ``is_owner``, ``is_bot``... Joins ``#general``."""
        ws = self.workspace(team_id)
        ws.users[user_id] = self._user_json(ws, user_id, fields)
        general = self._channel_named(ws, "general")
        if general is not None and user_id not in general.members:
            general.members.append(user_id)
        return copy.deepcopy(ws.users[user_id])

    def add_channel(
        self,
        team_id: str,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        bot_member: bool = True,
        is_general: bool = False,
    ) -> str:
        """A channel made by someone else (no API call recorded); gives its id."""
        ws = self.workspace(team_id)
        people = [*members, *([ws.bot_user_id] if bot_member else [])]
        channel = Channel(id=self._new_id("C"), team_id=ws.team_id, name=name, created=int(time.time()),
                          creator=people[0] if people else ws.bot_user_id, members=people,
                          is_private=is_private, is_general=is_general)
        self._channels[channel.id] = channel
        return channel.id

    def add_app_token(self, token: str) -> None:
        """An app-level token (``xapp-...``) that may call apps.connections.open."""
        if not token.startswith("xapp-"):
            raise ValueError("app-level tokens start with xapp-")
        self._app_tokens.add(token)

    def revoke_token(self, token: str) -> None:
        """From now on the token gets ``token_revoked`` (the app was uninstalled)."""
        self._revoked.add(token)

    def add_oauth_code(
        self, code: str, *, team_id: str, user_id: str | None = None, scope: str = "commands,chat:write",
        redirect_uri: str | None = None,
    ) -> None:
        """A code that oauth.v2.access exchanges once for the workspace's bot token; ``user_id`` installed it."""
        ws = self.workspace(team_id)
        installer = user_id or next((u for u, j in ws.users.items() if not j["is_bot"]), ws.bot_user_id)
        self._oauth_codes[code] = OAuthGrant(ws.team_id, installer, scope, redirect_uri)

    def add_file(
        self, team_id: str, user_id: str, name: str, content: bytes, channel: str | None = None, *,
        title: str | None = None, mimetype: str | None = None,
    ) -> str:
        """A file a person uploaded (and shared in ``channel``, as a message of theirs); gives its id."""
        ws = self.workspace(team_id)
        stored = self._new_file(ws, user_id, name, title, mimetype)
        stored.content = bytes(content)
        if channel is not None:
            self._share(ws, stored, self._channels[channel], user_id=user_id, text="")
        return stored.id

    def add_message(self, channel: str, user_id: str, text: str, **fields: Any) -> str:
        """A message a person wrote (no API call recorded); gives its ts."""
        ch = self._channels[channel]
        ts = self._next_ts()
        self._append(ch, {"type": "message", "user": user_id, "text": text, "ts": ts, "team": ch.team_id, **fields})
        return ts

    def trigger_id(self, team_id: str | None = None, user_id: str | None = None) -> str:
        """A trigger id as Slack puts in an interaction payload: views.open takes it once, before it expires."""
        trigger = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"
        self._triggers[trigger] = Trigger(team_id, user_id, time.monotonic() + self.trigger_lifetime)
        return trigger

    def response_url(
        self, team_id: str | None = None, channel: str | None = None, message_ts: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """A response URL for a payload; what is posted to it is recorded and, where it can be, applied."""
        rid = secrets.token_hex(8)
        self._response_urls[rid] = ResponseUrl(rid, team_id, channel, message_ts, user_id)
        return f"{self.url}respond/{rid}"

    def delete_channel(self, channel_id: str) -> None:
        """Someone deletes the channel in Slack: from now on every call naming it answers channel_not_found."""
        del self._channels[channel_id]

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls to ``method`` answer 429 with ``Retry-After: retry_after``, doing nothing."""
        self._rate_limits[method] = [times, retry_after]

    # -- reading what happened ------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def last(self, method: str | None = None) -> Call:
        calls = self.calls if method is None else self.calls_to(method)
        if not calls:
            raise AssertionError(f"no call to {method or 'any method'}; calls: {[c.method for c in self.calls]}")
        return calls[-1]

    def clear(self) -> None:
        """Forgets the records (calls, downloads, socket messages); the workspaces' state stays."""
        self.calls.clear()
        self.downloads.clear()
        self.socket_messages.clear()

    def channel(self, channel_id: str) -> JSON:
        ch = self._channels[channel_id]
        return {**ch.to_json(self._workspaces[ch.team_id].bot_user_id), "members": list(ch.members)}

    def channel_id(self, name: str, team_id: str | None = None) -> str:
        ch = self._channel_named(self.workspace(team_id), name.lstrip("#"))
        if ch is None:
            raise KeyError(f"no channel named {name}")
        return ch.id

    def channels(self, team_id: str | None = None) -> list[JSON]:
        return [self.channel(c.id) for c in self._channels.values() if team_id in (None, c.team_id)]

    def messages(self, channel: str) -> list[JSON]:
        """The channel's messages, oldest first, as they are now (updates applied, deleted ones gone)."""
        return copy.deepcopy(self._channels[channel].messages)

    def message(self, channel: str, ts: str) -> JSON:
        found = self._channels[channel].find(ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}")
        return copy.deepcopy(found)

    def dm(self, user_id: str, team_id: str | None = None) -> str | None:
        """The id of the bot's direct message with a person, once the app opened it."""
        ws = self.workspace(team_id)
        return self._dms.get((ws.team_id, frozenset([user_id, ws.bot_user_id])))

    def ephemerals(self, user_id: str | None = None, channel: str | None = None) -> list[JSON]:
        return [copy.deepcopy(e) for e in self._ephemerals if user_id in (None, e["user"]) and channel in (None, e["channel"])]

    @property
    def views(self) -> dict[str, JSON]:
        """Every view the app opened, pushed or published, by id, as it is now."""
        return copy.deepcopy(self._views)

    def modal_stack(self, user_id: str | None, team_id: str | None = None) -> list[JSON]:
        """The modals shown to a person, the root first."""
        key = (self.workspace(team_id).team_id, user_id)
        return [copy.deepcopy(self._views[v]) for v in self._stacks.get(key, [])]

    def home(self, user_id: str, team_id: str | None = None) -> JSON | None:
        """The Home tab the app published for a person, or None."""
        view_id = self._homes.get((self.workspace(team_id).team_id, user_id))
        return None if view_id is None else copy.deepcopy(self._views[view_id])

    @property
    def files(self) -> dict[str, StoredFile]:
        return self._files

    def file_json(self, file_id: str) -> JSON:
        return self._file_json(self._files[file_id])

    def responses(self, url_or_id: str) -> list[JSON]:
        """The JSON bodies posted to a response URL, in order."""
        return copy.deepcopy(self._response_urls[url_or_id.rstrip("/").rsplit("/", 1)[-1]].posts)

    # -- Socket Mode ----------------------------------------------------------------------------------------

    async def wait_socket(self, timeout: float = 5.0) -> None:
        """Waits until a Socket Mode client is connected (and has been sent its hello)."""
        await asyncio.wait_for(self.socket_connected.wait(), timeout)

    async def socket_send(
        self,
        envelope_type: str,
        payload: JSON,
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float | None = None,
    ) -> JSON:
        """Sends an envelope to the newest connection and gives back the client's ack message.

        ``envelope_type`` is ``slash_commands``, ``interactive`` or ``events_api``. Raises TimeoutError when no
        ack comes within ``timeout`` (Slack's 3 seconds by default).
        """
        open_sockets = [ws for ws in self._sockets if not ws.closed]
        if not open_sockets:
            raise RuntimeError("no Socket Mode client is connected")
        if accepts_response_payload is None:
            accepts_response_payload = _accepts_response_payload(envelope_type, payload)
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                    "accepts_response_payload": accepts_response_payload,
                    "retry_attempt": retry_attempt, "retry_reason": retry_reason}
        ack: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = ack
        try:
            await open_sockets[-1].send_json(envelope)
            wait = self.ack_timeout if timeout is None else timeout
            try:
                return await asyncio.wait_for(ack, wait)
            except TimeoutError:
                raise TimeoutError(f"no ack for the {envelope_type} envelope within {wait} s") from None
        finally:
            self._acks.pop(envelope_id, None)

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Asks every connected client to reconnect, as Slack does every few hours."""
        for ws in list(self._sockets):
            await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}})

    async def _socket_route(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._socket_tickets:
            raise web.HTTPUnauthorized(text="invalid ticket")
        ws = web.WebSocketResponse(timeout=1.0)
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_json({"type": "hello", "num_connections": len(self._sockets),
                                "debug_info": {"host": "applink-standin", "build_number": 1,
                                               "approximate_connection_time": 18060},
                                "connection_info": {"app_id": self.app_id}})
            self.socket_connected.set()
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._on_socket_text(frame.data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self.socket_connected.clear()
        return ws

    def _on_socket_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            message = {"raw": text}
        self.socket_messages.append(message)
        ack = self._acks.get(message.get("envelope_id", ""))
        if ack is not None and not ack.done():
            ack.set_result(message)

    # -- HTTP routes ----------------------------------------------------------------------------------------

    async def _api_route(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method=method, params={}, team_id=None, status=200, response={}, http_method=request.method)
        headers: dict[str, str] = {}
        try:
            call.params = await _read_params(request)
            token = _bearer(request) or call.params.get("token")
            call.params.pop("token", None)
            team = self._bot_tokens.get(token or "")
            call.team_id = team.team_id if team else None
            retry_after = self._take_rate_limit(method)
            if retry_after is not None:
                call.status, headers["Retry-After"] = 429, str(retry_after)
                raise SlackError("ratelimited")
            call.response = {"ok": True, **self._dispatch(call, token, request)}
        except SlackError as refusal:
            call.response = refusal.body()
        except Exception as bug:  # a bug of the stand-in's: answer like Slack's own failures, and keep it
            self.errors.append(bug)
            call.status, call.response = 500, {"ok": False, "error": "internal_error", "standin_bug": repr(bug)}
        self.calls.append(call)
        return web.json_response(call.response, status=call.status, headers=headers)

    def _dispatch(self, call: Call, token: str | None, request: web.Request) -> JSON:
        entry = _HANDLERS.get(call.method)
        if entry is None:
            raise SlackError("unknown_method", req_method=call.method)
        handler, kind = entry
        req = _Req(call.params, self._authenticate(token, kind), request)
        try:
            return handler(self, req)
        finally:
            call.team_id = req.team.team_id if req.team else call.team_id

    def _authenticate(self, token: str | None, kind: TokenKind) -> Workspace | None:
        if kind == "client":
            return None
        if not token:
            raise SlackError("not_authed")
        if token in self._revoked:
            raise SlackError("token_revoked")
        team = self._bot_tokens.get(token)
        if kind == "app":
            if token in self._app_tokens:
                return None
            raise SlackError("not_allowed_token_type" if team else "invalid_auth")
        if team is None:
            raise SlackError("not_allowed_token_type" if token in self._app_tokens else "invalid_auth")
        return team

    def _take_rate_limit(self, method: str) -> int | None:
        limit = self._rate_limits.get(method)
        if not limit or limit[0] <= 0:
            return None
        limit[0] -= 1
        return limit[1]

    async def _download_route(self, request: web.Request) -> web.StreamResponse:
        team_id, _, file_id = request.match_info["key"].partition("-")
        stored = self._files.get(file_id)
        if stored is None or stored.team_id != team_id or stored.content is None:
            raise web.HTTPNotFound(text="file not found")
        token = _bearer(request)
        team = None if token in self._revoked else self._bot_tokens.get(token or "")
        status = 401 if team is None else 403 if team.team_id != stored.team_id else 200
        self.downloads.append(Download(file_id, status, team.team_id if team else None))
        if status != 200:
            return web.Response(status=status, text="not allowed")
        disposition = f"attachment; filename*=UTF-8''{quote(stored.name)}"
        response = web.StreamResponse(headers={"Content-Type": stored.mimetype, "Content-Disposition": disposition})
        response.content_length = len(stored.content)
        await response.prepare(request)
        for start in range(0, len(stored.content), CHUNK):
            await response.write(stored.content[start : start + CHUNK])
        await response.write_eof()
        return response

    async def _upload_route(self, request: web.Request) -> web.Response:
        file_id = self._upload_tickets.pop(request.match_info["ticket"], None)
        if file_id is None:
            raise web.HTTPNotFound(text="invalid upload url")
        content = await _read_upload(request)
        self._files[file_id].content = content
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _respond_route(self, request: web.Request) -> web.Response:
        target = self._response_urls.get(request.match_info["id"])
        if target is None:
            raise web.HTTPNotFound(text="no_active_hooks")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="invalid_payload") from None
        target.posts.append(body)
        if len(target.posts) > RESPONSE_URL_USES:
            raise web.HTTPNotFound(text="used_url")
        if not _flag(body.get("delete_original")):
            try:
                _check_message_content(body)
            except SlackError as refusal:
                raise web.HTTPBadRequest(text=refusal.error) from None
        self._apply_response(target, body)
        return web.Response(text="ok", content_type="text/plain")

    def _apply_response(self, target: ResponseUrl, body: JSON) -> None:
        ch = self._channels.get(target.channel or "")
        ws = self._workspaces.get(target.team_id or (ch.team_id if ch else ""))
        original = ch.find(target.message_ts) if ch and target.message_ts else None
        if _flag(body.get("delete_original")) and ch and original:
            ch.messages.remove(original)
        elif _flag(body.get("replace_original")) and original:
            _apply_edit(original, body)
        elif body.get("response_type") == "in_channel" and ch and ws:
            self._append(ch, self._bot_message(ws, body))
        elif target.user_id:
            self._ephemerals.append({**_message_fields(body), "channel": target.channel, "user": target.user_id,
                                     "ts": self._next_ts(), "team": target.team_id})

    # -- helpers ----------------------------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09X}"

    def _next_ts(self) -> str:
        """Slack's message ts from the wall clock, unique and increasing even when the clock jumps back."""
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _user_json(self, ws: Workspace, user_id: str, fields: Mapping[str, Any]) -> JSON:
        name = str(fields.get("name", user_id.lower()))
        real_name = str(fields.get("real_name", name.title()))
        user = {
            "id": user_id, "team_id": ws.team_id, "name": name, "deleted": False, "color": "9f69e7",
            "real_name": real_name, "tz": "Europe/London", "tz_label": "Greenwich Mean Time", "tz_offset": 0,
            "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": int(time.time()),
        }
        user.update({k: v for k, v in fields.items() if k != "profile"})
        profile = {"real_name": real_name, "display_name": name, "team": ws.team_id,
                   "image_72": f"https://avatars.example/{user_id}.png"}
        if user["is_bot"]:
            profile["bot_id"] = ws.bot_id
        else:
            profile["email"] = f"{name}@{ws.domain}.example"
        user["profile"] = {**profile, **fields.get("profile", {})}
        return user

    def _channel_named(self, ws: Workspace, name: str) -> Channel | None:
        return next((c for c in self._channels.values() if name and c.team_id == ws.team_id and c.name == name), None)

    def _channel(self, ws: Workspace, ref: Any) -> Channel:
        """A channel of the workspace by id (or ``#name``); a user id means the bot's DM with that person."""
        if not ref:
            raise SlackError("channel_not_found")
        ref = str(ref)
        found = self._channels.get(ref)
        if found is None and ref in ws.users and ref != ws.bot_user_id:
            found = self._open_conversation(ws, [ref])[0]
        if found is None:
            found = self._channel_named(ws, ref.lstrip("#"))
        if found is None or found.team_id != ws.team_id:
            raise SlackError("channel_not_found")
        return found

    def _postable(self, ws: Workspace, ref: Any) -> Channel:
        """A channel the bot may post into: not archived, and a member unless it is public and that is allowed."""
        ch = self._channel(ws, ref)
        if ch.is_archived:
            raise SlackError("is_archived")
        public = not (ch.is_private or ch.is_im or ch.is_mpim)
        if ws.bot_user_id not in ch.members and not (public and ws.chat_write_public):
            raise SlackError("not_in_channel")
        return ch

    def _visible(self, ws: Workspace, ref: Any) -> Channel:
        """A channel the bot can see: private ones only when it is a member."""
        ch = self._channel(ws, ref)
        if (ch.is_private or ch.is_mpim) and ws.bot_user_id not in ch.members:
            raise SlackError("channel_not_found")
        return ch

    def _managed(self, ws: Workspace, ref: Any) -> Channel:
        """A channel the bot manages (invite, archive, topic): a real channel, with the bot in it."""
        ch = self._channel(ws, ref)
        if ch.is_im or ch.is_mpim:
            raise SlackError("method_not_supported_for_channel_type")
        if ws.bot_user_id not in ch.members:
            raise SlackError("channel_not_found" if ch.is_private else "not_in_channel")
        return ch

    def _bot_message(self, ws: Workspace, params: JSON) -> JSON:
        message = {"type": "message", "user": ws.bot_user_id, "bot_id": ws.bot_id, "app_id": self.app_id,
                   "team": ws.team_id, "ts": self._next_ts(), **_message_fields(params),
                   "bot_profile": {"id": ws.bot_id, "app_id": self.app_id, "name": "gigroom", "team_id": ws.team_id,
                                   "deleted": False}}
        for name in ("thread_ts", "metadata", "reply_broadcast"):
            if params.get(name) is not None:
                message[name] = params[name]
        return message

    def _append(self, ch: Channel, message: JSON) -> None:
        parent = ch.find(message.get("thread_ts"))
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent.setdefault("reply_users", []).append(message["user"])
        ch.messages.append(message)

    def _open_conversation(self, ws: Workspace, users: list[str]) -> tuple[Channel, bool]:
        """The bot's DM (one person) or group DM (several); gives it and whether it existed."""
        people = frozenset([*users, ws.bot_user_id])
        existing = self._dms.get((ws.team_id, people))
        if existing is not None:
            return self._channels[existing], True
        is_im = len(users) == 1
        ch = Channel(id=self._new_id("D" if is_im else "G"), team_id=ws.team_id, created=int(time.time()),
                     name="" if is_im else "mpdm-" + "--".join(sorted(users)) + "-1", creator=ws.bot_user_id,
                     members=[*users, ws.bot_user_id], is_private=True, is_im=is_im, is_mpim=not is_im)
        self._channels[ch.id] = ch
        self._dms[(ws.team_id, people)] = ch.id
        return ch, False

    def _new_file(self, ws: Workspace, user_id: str, name: str, title: str | None, mimetype: str | None) -> StoredFile:
        stored = StoredFile(id=self._new_id("F"), team_id=ws.team_id, user=user_id, name=name, title=title or name,
                            mimetype=mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream",
                            created=int(time.time()))
        self._files[stored.id] = stored
        return stored

    def _share(self, ws: Workspace, stored: StoredFile, ch: Channel, *, user_id: str, text: str,
               thread_ts: str | None = None) -> None:
        """Posts the message that shares a file in a channel, as Slack does when an upload is shared."""
        ts = self._next_ts()
        stored.shares.setdefault(ch.id, []).append(ts)
        message: JSON = {"type": "message", "subtype": "file_share", "user": user_id, "text": text, "ts": ts,
                         "team": ws.team_id, "upload": True, "display_as_bot": False,
                         "files": [self._file_json(stored)]}
        if user_id == ws.bot_user_id:
            message.update(bot_id=ws.bot_id, app_id=self.app_id)
        if thread_ts:
            message["thread_ts"] = thread_ts
        self._append(ch, message)

    def _file_json(self, stored: StoredFile) -> JSON:
        ws = self._workspaces[stored.team_id]
        name = quote(stored.name)
        base = f"{self.url}files-pri/{stored.team_id}-{stored.id}"
        shares: JSON = {"public": {}, "private": {}}
        for channel_id, stamps in stored.shares.items():
            ch = self._channels[channel_id]
            kind = "private" if ch.is_private or ch.is_im or ch.is_mpim else "public"
            shares[kind][channel_id] = [{"ts": ts, "channel_name": ch.name, "team_id": ws.team_id, "reply_users": [],
                                         "reply_count": 0, "share_user_id": stored.user} for ts in stamps]
        by_kind = {kind: [c for c in stored.shares if self._channel_kind(c) == kind] for kind in ("channels", "groups", "ims")}
        extension = stored.name.rsplit(".", 1)[-1].lower() if "." in stored.name else "binary"
        return {
            "id": stored.id, "created": stored.created, "timestamp": stored.created, "name": stored.name,
            "title": stored.title, "mimetype": stored.mimetype, "filetype": extension, "pretty_type": extension.upper(),
            "user": stored.user, "user_team": stored.team_id, "editable": False, "size": len(stored.content or b""),
            "mode": "hosted", "is_external": False, "external_type": "", "is_public": bool(by_kind["channels"]),
            "public_url_shared": False, "display_as_bot": False, "username": "", "url_private": f"{base}/{name}",
            "url_private_download": f"{base}/download/{name}",
            "permalink": f"{ws.url}files/{stored.user}/{stored.id}/{name}", "file_access": "visible",
            "comments_count": 0, "has_rich_preview": False, "shares": shares, **by_kind,
        }

    def _channel_kind(self, channel_id: str) -> str:
        ch = self._channels[channel_id]
        return "ims" if ch.is_im else "groups" if ch.is_private or ch.is_mpim else "channels"

    def _use_trigger(self, ws: Workspace, trigger_id: Any) -> Trigger:
        trigger = self._triggers.get(str(trigger_id or ""))
        if trigger is None or trigger.team_id not in (None, ws.team_id):
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() > trigger.expires_at:
            raise SlackError("expired_trigger_id")
        return trigger

    def _store_view(self, ws: Workspace, owner: str | None, payload: JSON, *, view_id: str | None = None,
                    previous: str | None = None, root: str | None = None) -> JSON:
        view_id = view_id or self._new_id("V")
        old = self._views.get(view_id, {})
        external_id = payload.get("external_id") or old.get("external_id", "")
        if external_id:
            holder = self._external_ids.setdefault((ws.team_id, external_id), view_id)
            if holder != view_id:
                raise SlackError("duplicate_external_id")
        view = {
            "id": view_id, "team_id": ws.team_id, "type": payload["type"], "blocks": payload.get("blocks", []),
            "private_metadata": payload.get("private_metadata", ""), "callback_id": payload.get("callback_id", ""),
            "state": old.get("state", {"values": {}}), "hash": f"{int(time.time())}.{secrets.token_hex(6)}",
            "title": payload.get("title"), "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)), "close": payload.get("close"),
            "submit": payload.get("submit"), "previous_view_id": old.get("previous_view_id", previous),
            "root_view_id": old.get("root_view_id", root or view_id), "app_id": self.app_id,
            "external_id": external_id, "app_installed_team_id": ws.team_id, "bot_id": ws.bot_id,
        }
        self._views[view_id] = view
        self._view_owner[view_id] = (ws.team_id, owner)
        return copy.deepcopy(view)

    def _view_to_update(self, req: _Req) -> str:
        ws = req.ws
        view_id = req.get("view_id") or self._external_ids.get((ws.team_id, str(req.get("external_id", ""))))
        if not view_id or view_id not in self._views or self._view_owner[view_id][0] != ws.team_id:
            raise SlackError("not_found")
        if req.get("hash") and req.get("hash") != self._views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        return str(view_id)

    # -- Web API: identity --------------------------------------------------------------------------------------

    @_api("auth.test")
    def _auth_test(self, req: _Req) -> JSON:
        ws = req.ws
        answer = {"url": ws.url, "team": ws.name, "user": ws.users[ws.bot_user_id]["name"], "team_id": ws.team_id,
                  "user_id": ws.bot_user_id, "bot_id": ws.bot_id, "is_enterprise_install": False}
        if ws.enterprise_id:
            answer["enterprise_id"] = ws.enterprise_id
        return answer

    @_api("team.info")
    def _team_info(self, req: _Req) -> JSON:
        ws = req.ws
        return {"team": {"id": ws.team_id, "name": ws.name, "domain": ws.domain, "url": ws.url,
                         "email_domain": "", "icon": {"image_default": True}, "enterprise_id": ws.enterprise_id,
                         "avatar_base_url": "https://ca.slack-edge.com/", "is_verified": False}}

    @_api("users.info")
    def _users_info(self, req: _Req) -> JSON:
        user = req.ws.users.get(str(req.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    # -- Web API: conversations -----------------------------------------------------------------------------

    @_api("conversations.create")
    def _conversations_create(self, req: _Req) -> JSON:
        ws, name = req.ws, str(req.get("name", ""))
        _check_channel_name(name)
        if self._channel_named(ws, name) is not None:
            raise SlackError("name_taken")
        channel_id = self.add_channel(ws.team_id, name, is_private=_flag(req.get("is_private")))
        return {"channel": self._channels[channel_id].to_json(ws.bot_user_id)}

    @_api("conversations.invite")
    def _conversations_invite(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._managed(ws, req.get("channel"))
        if ch.is_archived:
            raise SlackError("is_archived")
        users = _split(req.get("users"))
        if not users:
            raise SlackError("no_user")
        for user in users:
            problem = ("cant_invite_self" if user == ws.bot_user_id else "user_not_found" if user not in ws.users
                       else "already_in_channel" if user in ch.members else None)
            if problem:
                raise SlackError(problem, errors=[{"user": user, "ok": False, "error": problem}])
        ch.members.extend(u for u in users if u not in ch.members)
        return {"channel": ch.to_json(ws.bot_user_id)}

    @_api("conversations.archive")
    def _conversations_archive(self, req: _Req) -> JSON:
        ch = self._managed(req.ws, req.get("channel"))
        if ch.is_general:
            raise SlackError("cant_archive_general")
        if ch.is_archived:
            raise SlackError("already_archived")
        ch.is_archived = True
        return {}

    @_api("conversations.unarchive")
    def _conversations_unarchive(self, req: _Req) -> JSON:
        ch = self._managed(req.ws, req.get("channel"))
        if not ch.is_archived:
            raise SlackError("not_archived")
        ch.is_archived = False
        return {}

    @_api("conversations.info")
    def _conversations_info(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._visible(ws, req.get("channel"))
        info = ch.to_json(ws.bot_user_id)
        if _flag(req.get("include_num_members")):
            info["num_members"] = len(ch.members)
        return {"channel": info}

    @_api("conversations.members")
    def _conversations_members(self, req: _Req) -> JSON:
        ch = self._visible(req.ws, req.get("channel"))
        return {"members": list(ch.members), "response_metadata": {"next_cursor": ""}}

    @_api("conversations.open")
    def _conversations_open(self, req: _Req) -> JSON:
        ws = req.ws
        if req.get("channel"):
            ch = self._visible(ws, req.get("channel"))
            return {"channel": {"id": ch.id}, "no_op": True, "already_open": True}
        users = [u for u in _split(req.get("users")) if u != ws.bot_user_id]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")
        if any(u not in ws.users for u in users):
            raise SlackError("user_not_found")
        ch, existed = self._open_conversation(ws, users)
        shown = ch.to_json(ws.bot_user_id) if _flag(req.get("return_im")) else {"id": ch.id}
        return {"channel": shown, **({"no_op": True, "already_open": True} if existed else {})}

    @_api("conversations.join")
    def _conversations_join(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._visible(ws, req.get("channel"))
        if ch.is_private or ch.is_im or ch.is_mpim:
            raise SlackError("method_not_supported_for_channel_type")
        if ch.is_archived:
            raise SlackError("is_archived")
        already = ws.bot_user_id in ch.members
        if not already:
            ch.members.append(ws.bot_user_id)
        return {"channel": ch.to_json(ws.bot_user_id), **({"warning": "already_in_channel"} if already else {})}

    @_api("conversations.setTopic")
    def _conversations_set_topic(self, req: _Req) -> JSON:
        return self._set_channel_text(req, "topic")

    @_api("conversations.setPurpose")
    def _conversations_set_purpose(self, req: _Req) -> JSON:
        return self._set_channel_text(req, "purpose")

    def _set_channel_text(self, req: _Req, which: Literal["topic", "purpose"]) -> JSON:
        ch = self._managed(req.ws, req.get("channel"))
        if ch.is_archived:
            raise SlackError("is_archived")
        value = str(req.get(which, ""))
        if len(value) > MAX_TOPIC:
            raise SlackError("too_long")
        setattr(ch, which, value)
        return {"channel": ch.to_json(req.ws.bot_user_id)}

    # -- Web API: chat ----------------------------------------------------------------------------------------

    @_api("chat.postMessage")
    def _chat_post_message(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._postable(ws, req.get("channel"))
        _check_message_content(req.params)
        message = self._bot_message(ws, req.params)
        self._append(ch, message)
        return {"channel": ch.id, "ts": message["ts"], "message": copy.deepcopy(message)}

    @_api("chat.update")
    def _chat_update(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._channel(ws, req.get("channel"))
        message = ch.find(req.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != ws.bot_user_id:
            raise SlackError("cant_update_message")
        if ch.is_archived:
            raise SlackError("is_archived")
        _check_message_content(req.params)
        _apply_edit(message, req.params)
        message["edited"] = {"user": ws.bot_user_id, "ts": self._next_ts()}
        return {"channel": ch.id, "ts": message["ts"], "text": message.get("text", ""), "message": copy.deepcopy(message)}

    @_api("chat.postEphemeral")
    def _chat_post_ephemeral(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._postable(ws, req.get("channel"))
        user = str(req.get("user", ""))
        if user not in ws.users:
            raise SlackError("user_not_found")
        if user not in ch.members:
            raise SlackError("user_not_in_channel")
        _check_message_content(req.params)
        ts = self._next_ts()
        self._ephemerals.append({**_message_fields(req.params), "channel": ch.id, "user": user, "ts": ts, "team": ws.team_id})
        return {"message_ts": ts}

    @_api("chat.delete")
    def _chat_delete(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._channel(ws, req.get("channel"))
        message = ch.find(req.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != ws.bot_user_id:
            raise SlackError("cant_delete_message")
        ch.messages.remove(message)
        return {"channel": ch.id, "ts": message["ts"]}

    @_api("pins.add")
    def _pins_add(self, req: _Req) -> JSON:
        ch = self._postable(req.ws, req.get("channel"))
        message = ch.find(req.need("timestamp"))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("pinned_to"):
            raise SlackError("already_pinned")
        message["pinned_to"] = [ch.id]
        return {}

    @_api("chat.getPermalink")
    def _chat_get_permalink(self, req: _Req) -> JSON:
        ws = req.ws
        ch = self._visible(ws, req.get("channel"))
        ts = str(req.get("message_ts", ""))
        if ch.find(ts) is None:
            raise SlackError("message_not_found")
        return {"channel": ch.id, "permalink": f"{ws.url}archives/{ch.id}/p{ts.replace('.', '')}"}

    # -- Web API: views -------------------------------------------------------------------------------------

    @_api("views.open")
    def _views_open(self, req: _Req) -> JSON:
        ws = req.ws
        trigger = self._use_trigger(ws, req.get("trigger_id"))
        view = _checked_view(req.get("view"), ("modal",))
        stored = self._store_view(ws, trigger.user_id, view)
        trigger.used = True
        self._stacks[(ws.team_id, trigger.user_id)] = [stored["id"]]
        return {"view": stored}

    @_api("views.push")
    def _views_push(self, req: _Req) -> JSON:
        ws = req.ws
        trigger = self._use_trigger(ws, req.get("trigger_id"))
        stack = self._stacks.get((ws.team_id, trigger.user_id))
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        view = _checked_view(req.get("view"), ("modal",))
        stored = self._store_view(ws, trigger.user_id, view, previous=stack[-1], root=stack[0])
        trigger.used = True
        stack.append(stored["id"])
        return {"view": stored}

    @_api("views.update")
    def _views_update(self, req: _Req) -> JSON:
        ws = req.ws
        view_id = self._view_to_update(req)
        view = _checked_view(req.get("view"), (self._views[view_id]["type"],))
        return {"view": self._store_view(ws, self._view_owner[view_id][1], view, view_id=view_id)}

    @_api("views.publish")
    def _views_publish(self, req: _Req) -> JSON:
        ws = req.ws
        user = str(req.need("user_id"))
        if user not in ws.users:
            raise SlackError("user_not_found")
        current = self._homes.get((ws.team_id, user))
        if current and req.get("hash") and req.get("hash") != self._views[current]["hash"]:
            raise SlackError("hash_conflict")
        view = _checked_view(req.get("view"), ("home",))
        stored = self._store_view(ws, user, view, view_id=current)
        self._homes[(ws.team_id, user)] = stored["id"]
        return {"view": stored}

    # -- Web API: files -------------------------------------------------------------------------------------

    @_api("files.info")
    def _files_info(self, req: _Req) -> JSON:
        stored = self._files.get(str(req.get("file", "")))
        if stored is None or stored.team_id != req.ws.team_id or not stored.uploaded:
            raise SlackError("file_not_found")
        return {"file": self._file_json(stored), "comments": [], "response_metadata": {"next_cursor": ""}}

    @_api("files.list")
    def _files_list(self, req: _Req) -> JSON:
        ws = req.ws
        channel, user = req.get("channel"), req.get("user")
        if channel:
            self._visible(ws, channel)
        found = [f for f in self._files.values() if f.team_id == ws.team_id and f.uploaded
                 and (not channel or str(channel) in f.shares) and (not user or f.user == user)]
        found.sort(key=lambda f: f.created, reverse=True)
        count = int(req.get("count") or 100)
        return {"files": [self._file_json(f) for f in found[:count]],
                "paging": {"count": count, "total": len(found), "page": 1, "pages": 1}}

    @_api("files.getUploadURLExternal")
    def _files_get_upload_url(self, req: _Req) -> JSON:
        ws = req.ws
        filename = str(req.need("filename"))
        try:
            length = int(req.need("length"))
        except ValueError:
            raise _invalid("invalid_arguments", ["[ERROR] must be an integer [json-pointer:/length]"]) from None
        stored = self._new_file(ws, ws.bot_user_id, filename, None, None)
        stored.declared_length = length
        ticket = secrets.token_urlsafe(16)
        self._upload_tickets[ticket] = stored.id
        return {"upload_url": f"{self.url}upload/v1/{ticket}", "file_id": stored.id}

    @_api("files.completeUploadExternal")
    def _files_complete_upload(self, req: _Req) -> JSON:
        ws = req.ws
        entries = req.need("files")
        if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("id") for e in entries):
            raise _invalid("invalid_arguments", ["[ERROR] must be an array of {id, title} [json-pointer:/files]"])
        stored = [self._files.get(str(e["id"])) for e in entries]
        if any(f is None or f.team_id != ws.team_id or not f.uploaded for f in stored):
            raise SlackError("file_not_found")
        targets = [self._postable(ws, c) for c in [*_split(req.get("channel_id")), *_split(req.get("channels"))]]
        for entry, upload in zip(entries, stored, strict=True):
            assert upload is not None
            upload.title = str(entry.get("title") or upload.name)
            for ch in targets:
                self._share(ws, upload, ch, user_id=ws.bot_user_id, text=str(req.get("initial_comment") or ""),
                            thread_ts=req.get("thread_ts"))
        return {"files": [self._file_json(f) for f in stored if f is not None]}

    @_api("files.upload")
    def _files_upload(self, req: _Req) -> JSON:
        raise SlackError("method_deprecated")  # retired in 2025; files_upload_v2 is the way

    # -- Web API: apps and OAuth ------------------------------------------------------------------------------

    @_api("apps.connections.open", token="app")
    def _apps_connections_open(self, req: _Req) -> JSON:
        ticket = secrets.token_hex(16)
        self._socket_tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"}

    @_api("oauth.v2.access", token="client")
    def _oauth_v2_access(self, req: _Req) -> JSON:
        client_id, client_secret = _client_credentials(req)
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackError("bad_client_secret")
        grant = self._oauth_codes.pop(str(req.get("code", "")), None)
        if grant is None:
            raise SlackError("invalid_code")
        if grant.redirect_uri is not None and req.get("redirect_uri") != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        ws = req.team = self._workspaces[grant.team_id]
        enterprise = {"id": ws.enterprise_id, "name": ws.enterprise_id} if ws.enterprise_id else None
        return {"app_id": self.app_id, "authed_user": {"id": grant.user_id}, "scope": grant.scope, "token_type": "bot",
                "access_token": ws.bot_token, "bot_user_id": ws.bot_user_id, "team": {"id": ws.team_id, "name": ws.name},
                "enterprise": enterprise, "is_enterprise_install": False}


# -- module helpers -------------------------------------------------------------------------------------------


def _accepts_response_payload(envelope_type: str, payload: JSON) -> bool:
    if envelope_type == "slash_commands":
        return True
    return envelope_type == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")


def _check_channel_name(name: str) -> None:
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise SlackError("invalid_name_punctuation")


def _check_message_content(params: Mapping[str, Any]) -> None:
    """What Slack checks of a message's text, blocks and attachments."""
    text, blocks, attachments = params.get("text"), params.get("blocks"), params.get("attachments")
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text is not None and len(str(text)) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        errors = blockkit.check_message_blocks(blocks)
        if errors:
            raise _invalid("invalid_blocks", errors)
    if attachments is not None:
        if not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise SlackError("too_many_attachments")
        for index, attachment in enumerate(attachments):
            if isinstance(attachment, dict) and attachment.get("blocks") is not None:
                errors = blockkit.check_message_blocks(attachment["blocks"], f"/attachments/{index}/blocks")
                if errors:
                    raise _invalid("invalid_attachments", errors)


def _message_fields(params: Mapping[str, Any]) -> JSON:
    fields: JSON = {"text": params.get("text") or ""}
    for name in ("blocks", "attachments"):
        if params.get(name) is not None:
            fields[name] = copy.deepcopy(params[name])
    return fields


def _apply_edit(message: JSON, params: Mapping[str, Any]) -> None:
    """chat.update's rule: fields left out keep their value; an empty list removes blocks or attachments."""
    if params.get("text") is not None:
        message["text"] = params["text"]
    for name in ("blocks", "attachments"):
        if params.get(name) is not None:
            if params[name]:
                message[name] = copy.deepcopy(params[name])
            else:
                message.pop(name, None)


def _checked_view(view: Any, types: Iterable[str]) -> JSON:
    if view is None:
        raise _missing("view")
    errors = blockkit.check_view(view, types)
    if errors:
        raise _invalid("invalid_arguments", errors)
    return dict(view)


def _client_credentials(req: _Req) -> tuple[str, str]:
    header = req.request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            login, _, password = base64.b64decode(header[len("Basic ") :], validate=True).decode().partition(":")
        except ValueError:
            raise SlackError("invalid_client_id") from None
        return login, password
    return str(req.get("client_id", "")), str(req.get("client_secret", ""))


async def _read_upload(request: web.Request) -> bytes:
    """The uploaded bytes, read in chunks: the raw body, or the first file part of a multipart body."""
    content = bytearray()
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.filename:
                while chunk := await part.read_chunk(CHUNK):
                    content.extend(chunk)
                break
        return bytes(content)
    async for chunk in request.content.iter_chunked(CHUNK):
        content.extend(chunk)
    return bytes(content)
