"""Slack's side for the tests: the requests Slack sends to the app under test, and their signatures.

Each builder gives a :class:`SlackPayload` holding the payload as Socket Mode carries it (``data``, for
``SlackStandIn.socket_send(p.envelope_type, p.data)``) and as the HTTP request Slack posts to the app
(``body`` and ``content_type``; ``p.headers(signing_secret)`` signs it)::

    p = payloads.slash_command("T1", "U1", text="list", standin=slack)
    response = await http.post("/slack/events", data=p.body, headers=p.headers(SECRET))

The shapes follow what Slack sends: slash commands form-encoded, interactions as a form field ``payload``
holding JSON, events as JSON. A builder given ``standin=`` takes names from its workspace and mints the
trigger id and response URL there, so views.open and ``respond()`` work against the stand-in; otherwise
they are placeholders that the stand-in refuses, as Slack would refuse made-up ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.slack.standin import APP_ID, VERIFICATION_TOKEN, SlackStandIn

JSON = dict[str, Any]
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
UNISSUED_TRIGGER = "0000000000.0000000000.00000000000000000000000000000000"


@dataclass(frozen=True)
class SlackPayload:
    """One request from Slack: ``data`` for Socket Mode, ``body`` + ``content_type`` for HTTP."""

    envelope_type: str | None  # slash_commands, interactive, events_api; None when Socket Mode never carries it
    data: JSON
    body: bytes
    content_type: str

    def headers(self, signing_secret: str, timestamp: int | None = None) -> dict[str, str]:
        return sign(signing_secret, self.body, timestamp, content_type=self.content_type)


def sign(signing_secret: str, body: bytes, timestamp: int | None = None, *, content_type: str | None = None) -> dict[str, str]:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, plus the Content-Type."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(signing_secret.encode(), b"v0:%d:%s" % (stamp, body), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type or (JSON_TYPE if body.lstrip().startswith(b"{") else FORM),
    }


def plain(text: str) -> JSON:
    return {"type": "plain_text", "text": text, "emoji": True}


# -- who is acting ----------------------------------------------------------------------------------------------


def _names(standin: SlackStandIn | None, team_id: str, user_id: str) -> tuple[str, str]:
    """The team's domain and the user's name, from the stand-in's workspace when there is one."""
    if standin is not None and team_id in standin.workspaces:
        ws = standin.workspaces[team_id]
        user = ws.users.get(user_id, {})
        return ws.domain, str(user.get("name", user_id.lower()))
    return team_id.lower(), user_id.lower()


def _user(team_id: str, user_id: str, user_name: str) -> JSON:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _trigger(standin: SlackStandIn | None, trigger_id: str | None, team_id: str, user_id: str) -> str:
    if trigger_id is not None:
        return trigger_id
    return standin.trigger_id(team_id, user_id) if standin is not None else UNISSUED_TRIGGER


def _interactive(payload: JSON) -> SlackPayload:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return SlackPayload("interactive", payload, body, FORM)


# -- slash commands and interactions ------------------------------------------------------------------------------


def slash_command(
    team_id: str,
    user_id: str,
    command: str = "/gig",
    text: str = "",
    *,
    channel_id: str | None = None,
    channel_name: str = "general",
    trigger_id: str | None = None,
    response_url: str | None = None,
    enterprise_id: str | None = None,
    standin: SlackStandIn | None = None,
) -> SlackPayload:
    """A slash command, form-encoded, with every field Slack sends; typed in ``#general`` unless told."""
    domain, user_name = _names(standin, team_id, user_id)
    if channel_id is None:
        channel_id = standin.channel_id(channel_name, team_id) if standin is not None else "C0GENERAL"
    if response_url is None:
        response_url = (standin.response_url(team_id, channel_id, user_id=user_id) if standin is not None
                        else f"https://hooks.slack.com/commands/{team_id}/0/standin")
    fields = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "team_domain": domain, "channel_id": channel_id,
        "channel_name": channel_name, "user_id": user_id, "user_name": user_name, "command": command, "text": text,
        "api_app_id": APP_ID, "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": _trigger(standin, trigger_id, team_id, user_id),
    }
    if enterprise_id:
        fields |= {"enterprise_id": enterprise_id, "enterprise_name": enterprise_id}
    return SlackPayload("slash_commands", fields, urlencode(fields).encode(), FORM)


def block_actions(
    team_id: str,
    user_id: str,
    action_id: str,
    value: str | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    text: str = "Button",
    selected_option: JSON | None = None,
    message: JSON | None = None,
    channel_id: str | None = None,
    channel_name: str = "",
    trigger_id: str | None = None,
    response_url: str | None = None,
    container: JSON | None = None,
    view: JSON | None = None,
    state_values: Mapping[str, Mapping[str, Any]] | None = None,
    standin: SlackStandIn | None = None,
) -> SlackPayload:
    """A click on an element: in a message (give ``message`` and ``channel_id``) or in a view (give ``view``)."""
    domain, user_name = _names(standin, team_id, user_id)
    action: JSON = {"action_id": action_id, "block_id": block_id, "type": action_type, "action_ts": f"{time.time():.6f}"}
    if action_type == "button":
        action["text"] = plain(text)
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option
    payload: JSON = {
        "type": "block_actions", "user": _user(team_id, user_id, user_name), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": _trigger(standin, trigger_id, team_id, user_id),
        "team": {"id": team_id, "domain": domain}, "enterprise": None, "is_enterprise_install": False,
        "state": {"values": state(state_values or {})}, "actions": [action],
    }
    if view is not None:
        payload["container"] = container or {"type": "view", "view_id": view["id"]}
        payload["view"] = view
        return _interactive(payload)
    message_ts = message["ts"] if message else None
    payload["container"] = container or {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                                         "is_ephemeral": False}
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_name}
    if message is not None:
        payload["message"] = message
    if response_url is None:
        response_url = (standin.response_url(team_id, channel_id, message_ts, user_id) if standin is not None
                        else f"https://hooks.slack.com/actions/{team_id}/0/standin")
    payload["response_url"] = response_url
    return _interactive(payload)


def view_submission(
    team_id: str,
    user_id: str,
    callback_id: str | None = None,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    private_metadata: str | None = None,
    view_id: str | None = None,
    hash: str | None = None,
    view: JSON | None = None,
    trigger_id: str | None = None,
    standin: SlackStandIn | None = None,
) -> SlackPayload:
    """A modal submitted. ``view`` (e.g. ``slack.views[view_id]``) supplies what is not given; ``values`` is
    ``{block_id: {action_id: value}}`` where a value is a string (a text input) or one of the ``*_value``
    helpers' dicts."""
    domain, user_name = _names(standin, team_id, user_id)
    base = dict(view or {})
    shown: JSON = {
        "id": view_id or base.get("id", "V0STANDIN"), "team_id": team_id, "type": "modal",
        "blocks": base.get("blocks", []),
        "private_metadata": base.get("private_metadata", "") if private_metadata is None else private_metadata,
        "callback_id": callback_id if callback_id is not None else base.get("callback_id", ""),
        "state": {"values": state(values or {})}, "hash": hash or base.get("hash", "1700000000.standin"),
        "title": base.get("title", plain("Modal")), "clear_on_close": base.get("clear_on_close", False),
        "notify_on_close": base.get("notify_on_close", False), "close": base.get("close"),
        "submit": base.get("submit", plain("Submit")), "previous_view_id": base.get("previous_view_id"),
        "root_view_id": base.get("root_view_id", view_id or base.get("id")), "app_id": APP_ID,
        "external_id": base.get("external_id", ""), "app_installed_team_id": team_id,
        "bot_id": base.get("bot_id", f"B{team_id}"),
    }
    payload = {
        "type": "view_submission", "team": {"id": team_id, "domain": domain},
        "user": _user(team_id, user_id, user_name), "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "trigger_id": _trigger(standin, trigger_id, team_id, user_id), "view": shown, "response_urls": [],
        "is_enterprise_install": False, "enterprise": None,
    }
    return _interactive(payload)


# -- view state values ------------------------------------------------------------------------------------------


def state(values: Mapping[str, Mapping[str, Any]]) -> JSON:
    """``view.state.values`` in Slack's shape: a string or None stands for a plain_text_input's value."""
    return {
        block_id: {action_id: value if isinstance(value, dict) else text_value(value) for action_id, value in actions.items()}
        for block_id, actions in values.items()
    }


def text_value(value: str | None) -> JSON:
    return {"type": "plain_text_input", "value": value}


def option(value: str, text: str | None = None) -> JSON:
    return {"text": plain(text or value), "value": value}


def select_value(value: str | None, text: str | None = None, *, kind: str = "static_select") -> JSON:
    return {"type": kind, "selected_option": None if value is None else option(value, text)}


def multi_select_value(values: Iterable[str], *, kind: str = "multi_static_select") -> JSON:
    return {"type": kind, "selected_options": [option(v) for v in values]}


def checkboxes_value(values: Iterable[str]) -> JSON:
    return {"type": "checkboxes", "selected_options": [option(v) for v in values]}


def radio_value(value: str | None) -> JSON:
    return {"type": "radio_buttons", "selected_option": None if value is None else option(value)}


def users_value(user_id: str | None) -> JSON:
    return {"type": "users_select", "selected_user": user_id}


def date_value(day: str | None) -> JSON:
    return {"type": "datepicker", "selected_date": day}  # "YYYY-MM-DD"


def number_value(number: float | str | None, *, decimal: bool = True) -> JSON:
    return {"type": "number_input", "value": None if number is None else str(number), "is_decimal_allowed": decimal}


def files_value(files: Iterable[JSON]) -> JSON:
    """A file_input's state; give file objects such as ``slack.file_json(file_id)``."""
    return {"type": "file_input", "files": list(files)}


# -- events -----------------------------------------------------------------------------------------------------


def event_callback(
    team_id: str,
    event: JSON,
    *,
    event_id: str | None = None,
    event_time: int | None = None,
    bot_user_id: str | None = None,
    enterprise_id: str | None = None,
) -> SlackPayload:
    """An Events API delivery wrapping ``event``; ``event_id`` is what retries share."""
    payload = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "enterprise_id": enterprise_id, "api_app_id": APP_ID,
        "event": event, "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [{"enterprise_id": enterprise_id, "team_id": team_id, "user_id": bot_user_id or f"UB{team_id}",
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-{uuid.uuid4().hex}",
    }
    return SlackPayload("events_api", payload, json.dumps(payload).encode(), JSON_TYPE)


def url_verification(challenge: str) -> SlackPayload:
    """The handshake Slack posts when the Events request URL is set (HTTP only)."""
    payload = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return SlackPayload(None, payload, json.dumps(payload).encode(), JSON_TYPE)


def _event_ts() -> str:
    return f"{time.time():.6f}"


def app_home_opened(user_id: str, *, channel: str | None = None, tab: str = "home", view: JSON | None = None) -> JSON:
    event: JSON = {"type": "app_home_opened", "user": user_id, "channel": channel or f"D{user_id}", "tab": tab,
                   "event_ts": _event_ts()}
    if view is not None:
        event["view"] = view
    return event


def file_shared(file_id: str, user_id: str, channel_id: str) -> JSON:
    return {"type": "file_shared", "channel_id": channel_id, "file_id": file_id, "user_id": user_id,
            "file": {"id": file_id}, "event_ts": _event_ts()}


def message(
    channel: str,
    user: str,
    text: str,
    *,
    ts: str | None = None,
    channel_type: str = "channel",
    thread_ts: str | None = None,
    files: list[JSON] | None = None,
    team: str | None = None,
) -> JSON:
    """A ``message`` event (``channel_type`` is channel, group, im or mpim); with files it is a file_share."""
    stamp = ts or _event_ts()
    event: JSON = {"type": "message", "channel": channel, "user": user, "text": text, "ts": stamp, "event_ts": stamp,
                   "channel_type": channel_type, "client_msg_id": str(uuid.uuid4())}
    if team:
        event["team"] = team
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event |= {"subtype": "file_share", "files": files, "upload": True, "display_as_bot": False}
    return event
