"""The Slack stand-in, driven by the real slack_sdk clients as the app under test will drive it."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
import time_machine
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.slack import payloads
from tests.slack.standin import SlackStandIn

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        standin.add_workspace("T1", name="Acme", bot_token="xoxb-1", bot_user_id="UBOT1",
                              users={"U1": {"name": "sam"}, "U2": {"name": "bea", "is_admin": True}})
        standin.add_workspace("T2", name="Globex", bot_token="xoxb-2", bot_user_id="UBOT2", users={"U9": {"name": "zed"}})
        yield standin
        assert standin.errors == [], "the stand-in failed on its own (answered 500 internal_error)"


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-1", base_url=slack.base_url)


async def refused(call: Any) -> dict[str, Any]:
    """The body of a refused Web API call."""
    with pytest.raises(SlackApiError) as caught:
        await call
    return dict(caught.value.response.data)


def general(slack: SlackStandIn) -> str:
    return slack.channel_id("general", "T1")


def section(text: str, **fields: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **fields}


def button(action_id: str, text: str = "Go", **fields: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, **fields}


def modal(title: str = "Order", **fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [section("hi")], **fields}


# -- identity and tokens ------------------------------------------------------------------------------------------


async def test_auth_test_and_users_info_answer_for_the_tokens_workspace(slack: SlackStandIn, client: AsyncWebClient) -> None:
    me = await client.auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"], me["url"]) == ("T1", "UBOT1", "BT1", "https://acme.slack.com/")
    bea = (await client.users_info(user="U2"))["user"]
    assert (bea["name"], bea["is_admin"], bea["is_bot"], bea["team_id"]) == ("bea", True, False, "T1")
    assert (await refused(client.users_info(user="U9")))["error"] == "user_not_found"  # U9 is in T2
    assert slack.last("users.info").team_id == "T1"


async def test_missing_and_unknown_tokens_are_refused_like_slack(slack: SlackStandIn) -> None:
    assert (await refused(AsyncWebClient(base_url=slack.base_url).auth_test()))["error"] == "not_authed"
    assert (await refused(AsyncWebClient(token="xoxb-nope", base_url=slack.base_url).auth_test()))["error"] == "invalid_auth"
    slack.revoke_token("xoxb-2")
    assert (await refused(AsyncWebClient(token="xoxb-2", base_url=slack.base_url).auth_test()))["error"] == "token_revoked"
    assert [c.status for c in slack.calls] == [200, 200, 200]


async def test_a_workspaces_token_cannot_reach_another_workspaces_channel(slack: SlackStandIn) -> None:
    acme = AsyncWebClient(token="xoxb-1", base_url=slack.base_url)
    globex = AsyncWebClient(token="xoxb-2", base_url=slack.base_url)
    channel = (await acme.conversations_create(name="order-1"))["channel"]["id"]
    assert (await refused(globex.chat_postMessage(channel=channel, text="hi")))["error"] == "channel_not_found"
    assert slack.last("chat.postMessage").team_id == "T2"
    assert slack.messages(channel) == []


async def test_unknown_methods_are_refused_and_recorded(slack: SlackStandIn, client: AsyncWebClient) -> None:
    body = await refused(client.api_call("reactions.add", params={"name": "tada"}))
    assert body["error"] == "unknown_method"
    assert slack.last().method == "reactions.add"
    assert slack.last().params == {"name": "tada"}


# -- messages -----------------------------------------------------------------------------------------------------


async def test_a_message_posted_then_updated_reads_back_updated(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = (await client.conversations_create(name="order-ob8w0m2c", is_private=True))["channel"]["id"]
    posted = await client.chat_postMessage(channel=channel, text="Order placed", blocks=[section("*Order* placed")])
    await client.chat_update(channel=channel, ts=posted["ts"], text="Order accepted")
    [message] = slack.messages(channel)
    assert (message["ts"], message["text"], message["user"]) == (posted["ts"], "Order accepted", "UBOT1")
    assert message["blocks"] == [section("*Order* placed")]  # chat.update keeps blocks it was not given
    assert message["edited"]["user"] == "UBOT1"
    assert slack.last("chat.postMessage").params["blocks"] == [section("*Order* placed")]
    assert (await refused(client.chat_update(channel=channel, ts="1.000001", text="x")))["error"] == "message_not_found"


async def test_ts_stay_unique_and_increasing_when_the_clock_goes_back(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = general(slack)
    first = (await client.chat_postMessage(channel=channel, text="one"))["ts"]
    with time_machine.travel(datetime(2001, 1, 1, tzinfo=UTC), tick=False):
        second = (await client.chat_postMessage(channel=channel, text="two"))["ts"]
        third = (await client.chat_postMessage(channel=channel, text="three"))["ts"]
    assert float(first) < float(second) < float(third)
    assert [m["ts"] for m in slack.messages(channel)] == [first, second, third]


async def test_form_and_multipart_bodies_are_read_and_json_fields_decoded(slack: SlackStandIn, client: AsyncWebClient) -> None:
    blocks = [section("form")]
    channel = general(slack)
    await client.api_call("chat.postMessage", data={"channel": channel, "blocks": json.dumps(blocks)})
    await client.api_call("chat.postMessage", data={"channel": channel, "text": "multipart"}, files={"file": io.BytesIO(b"x")})
    assert slack.calls_to("chat.postMessage")[0].params["blocks"] == blocks
    assert [m.get("blocks", m["text"]) for m in slack.messages(channel)] == [blocks, "multipart"]


async def test_message_content_is_checked(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = general(slack)
    assert (await refused(client.api_call("chat.postMessage", json={"channel": channel})))["error"] == "no_text"
    assert (await refused(client.chat_postMessage(channel=channel, text="x" * 40_001)))["error"] == "msg_too_long"
    await client.chat_postMessage(channel=channel, text="x" * 40_000)
    assert len(slack.messages(channel)) == 1


async def test_51_blocks_are_refused_with_slacks_messages(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = general(slack)
    body = await refused(client.chat_postMessage(channel=channel, text="x", blocks=[section("b")] * 51))
    assert body["error"] == "invalid_blocks"
    assert body["response_metadata"]["messages"] == ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    await client.chat_postMessage(channel=channel, text="x", blocks=[section("b")] * 50)
    assert len(slack.messages(channel)) == 1


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "/blocks/0/text/type"),
        ([{"type": "actions", "elements": [button("a", "x" * 76)]}], "/blocks/0/elements/0/text/text"),
        ([{"type": "actions", "elements": [button("a" * 256)]}], "/blocks/0/elements/0/action_id"),
        ([{"type": "actions", "elements": [button("a"), button("a")]}], "/blocks/0/elements/1/action_id"),
        ([{"type": "actions", "elements": [button("a", value="v" * 2001)]}], "/blocks/0/elements/0/value"),
        ([{"type": "actions", "elements": [button("a", url="u" * 3001)]}], "/blocks/0/elements/0/url"),
        ([{"type": "actions", "elements": [button(f"a{i}") for i in range(26)]}], "/blocks/0/elements"),
        ([section("x", fields=[{"type": "mrkdwn", "text": "f"}] * 11)], "/blocks/0/fields"),
        ([section("x", fields=[{"type": "mrkdwn", "text": "f" * 2001}])], "/blocks/0/fields/0/text"),
        ([section("x", block_id="b" * 256)], "/blocks/0/block_id"),
        ([section("x", block_id="b"), section("y", block_id="b")], "/blocks/1/block_id"),
        ([{"type": "carousel"}], "/blocks/0"),
    ],
)
async def test_block_kit_limits(slack: SlackStandIn, client: AsyncWebClient, blocks: list[Any], pointer: str) -> None:
    body = await refused(client.chat_postMessage(channel=general(slack), text="x", blocks=blocks))
    assert body["error"] == "invalid_blocks"
    [problem] = body["response_metadata"]["messages"]
    assert problem.startswith("[ERROR] ") and problem.endswith(f"[json-pointer:{pointer}]")


async def test_the_same_action_id_in_different_blocks_is_fine(slack: SlackStandIn, client: AsyncWebClient) -> None:
    blocks = [{"type": "actions", "elements": [button("deliver")]}, {"type": "actions", "elements": [button("deliver")]}]
    await client.chat_postMessage(channel=general(slack), text="x", blocks=blocks)


async def test_ephemeral_permalink_and_delete(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = (await client.conversations_create(name="order-2"))["channel"]["id"]
    assert (await refused(client.chat_postEphemeral(channel=channel, user="U1", text="psst")))["error"] == "user_not_in_channel"
    await client.conversations_invite(channel=channel, users="U1")
    sent = await client.chat_postEphemeral(channel=channel, user="U1", text="psst")
    assert [(e["text"], e["ts"]) for e in slack.ephemerals("U1")] == [("psst", sent["message_ts"])]
    ts = (await client.chat_postMessage(channel=channel, text="hello"))["ts"]
    link = await client.chat_getPermalink(channel=channel, message_ts=ts)
    assert link["permalink"] == f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    await client.chat_delete(channel=channel, ts=ts)
    assert slack.messages(channel) == []


# -- conversations ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [("Order #1", "invalid_name_specials"), ("o" * 81, "invalid_name_maxlength"), ("", "invalid_name_required"),
     ("---", "invalid_name_punctuation"), ("general", "name_taken")],
)
async def test_bad_channel_names_are_refused(slack: SlackStandIn, client: AsyncWebClient, name: str, error: str) -> None:
    assert (await refused(client.conversations_create(name=name, is_private=True)))["error"] == error


async def test_a_channel_name_is_taken_in_its_workspace_only(slack: SlackStandIn) -> None:
    acme = AsyncWebClient(token="xoxb-1", base_url=slack.base_url)
    created = (await acme.conversations_create(name="o" * 80, is_private=True))["channel"]
    assert (created["is_private"], created["is_member"], created["name"]) == (True, True, "o" * 80)
    assert (await refused(acme.conversations_create(name="o" * 80)))["error"] == "name_taken"
    await AsyncWebClient(token="xoxb-2", base_url=slack.base_url).conversations_create(name="o" * 80)


async def test_invite_and_archive(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = (await client.conversations_create(name="order-3", is_private=True))["channel"]["id"]
    await client.conversations_invite(channel=channel, users="U1,U2")
    assert (await client.conversations_members(channel=channel))["members"] == ["UBOT1", "U1", "U2"]
    assert (await refused(client.conversations_invite(channel=channel, users="U1")))["error"] == "already_in_channel"
    assert (await refused(client.conversations_invite(channel=channel, users="U9")))["error"] == "user_not_found"
    assert (await refused(client.conversations_invite(channel="C404", users="U1")))["error"] == "channel_not_found"
    await client.conversations_archive(channel=channel)
    assert (await refused(client.conversations_archive(channel=channel)))["error"] == "already_archived"
    assert (await refused(client.chat_postMessage(channel=channel, text="x")))["error"] == "is_archived"
    assert (await refused(client.conversations_invite(channel=channel, users="U1")))["error"] == "is_archived"
    await client.conversations_unarchive(channel=channel)
    assert (await client.conversations_info(channel=channel))["channel"]["is_archived"] is False


async def test_the_bot_must_be_in_a_private_channel_to_post(slack: SlackStandIn, client: AsyncWebClient) -> None:
    secret = slack.add_channel("T1", "secret", is_private=True, members=["U1"], bot_member=False)
    assert (await refused(client.chat_postMessage(channel=secret, text="x")))["error"] == "not_in_channel"
    assert (await refused(client.conversations_info(channel=secret)))["error"] == "channel_not_found"
    await client.chat_postMessage(channel=general(slack), text="public is fine")


async def test_a_dm_is_stable_per_person_and_a_user_id_means_it(slack: SlackStandIn, client: AsyncWebClient) -> None:
    first = (await client.conversations_open(users="U1"))["channel"]["id"]
    again = await client.conversations_open(users=["U1"])
    assert first.startswith("D") and again["channel"]["id"] == first and again["already_open"] is True
    assert (await client.conversations_open(users="U2"))["channel"]["id"] != first
    posted = await client.chat_postMessage(channel="U1", text="your turn")
    assert posted["channel"] == first
    assert [m["text"] for m in slack.messages(first)] == ["your turn"]


# -- views --------------------------------------------------------------------------------------------------------


async def test_a_trigger_opens_one_modal_only(slack: SlackStandIn, client: AsyncWebClient) -> None:
    trigger = slack.trigger_id("T1", "U1")
    view = (await client.views_open(trigger_id=trigger, view=modal(callback_id="order")))["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "order"
    assert [v["id"] for v in slack.modal_stack("U1", "T1")] == [view["id"]]
    assert (await refused(client.views_open(trigger_id=trigger, view=modal())))["error"] == "exchanged_trigger_id"
    assert (await refused(client.views_open(trigger_id="1.2.3", view=modal())))["error"] == "invalid_trigger_id"
    globex = AsyncWebClient(token="xoxb-2", base_url=slack.base_url)
    assert (await refused(globex.views_open(trigger_id=slack.trigger_id("T1"), view=modal())))["error"] == "invalid_trigger_id"


async def test_a_trigger_expires(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.trigger_lifetime = 0.01
    trigger = slack.trigger_id("T1", "U1")
    await asyncio.sleep(0.05)
    assert (await refused(client.views_open(trigger_id=trigger, view=modal())))["error"] == "expired_trigger_id"


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal("t" * 25), "/view/title/text"),
        (modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (modal(callback_id="c" * 256), "/view/callback_id"),
        ({**modal(), "blocks": [section("b")] * 101}, "/view/blocks"),
        ({**modal(), "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "Brand"},
                                 "element": {"type": "plain_text_input", "action_id": "brand"}}]}, "/view/submit"),
        ({**modal(), "type": "home"}, "/view/type"),
    ],
)
async def test_views_are_checked(slack: SlackStandIn, client: AsyncWebClient, view: dict[str, Any], pointer: str) -> None:
    body = await refused(client.views_open(trigger_id=slack.trigger_id("T1", "U1"), view=view))
    assert body["error"] == "invalid_arguments"
    assert body["response_metadata"]["messages"][0].endswith(f"[json-pointer:{pointer}]")


async def test_views_update_push_and_publish(slack: SlackStandIn, client: AsyncWebClient) -> None:
    opened = (await client.views_open(trigger_id=slack.trigger_id("T1", "U1"), view=modal(external_id="o-1")))["view"]
    assert (await refused(client.views_open(trigger_id=slack.trigger_id("T1", "U2"), view=modal(external_id="o-1"))))[
        "error"
    ] == "duplicate_external_id"
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2")))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = await refused(client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert stale["error"] == "hash_conflict"
    await client.views_update(external_id="o-1", view=modal("Step 3"))
    pushed = (await client.views_push(trigger_id=slack.trigger_id("T1", "U1"), view=modal("Sure?")))["view"]
    assert pushed["previous_view_id"] == opened["id"] and pushed["root_view_id"] == opened["id"]
    assert [v["title"]["text"] for v in slack.modal_stack("U1", "T1")] == ["Step 3", "Sure?"]
    home = {"type": "home", "blocks": [section("Your orders")]}
    await client.views_publish(user_id="U2", view=home)
    assert slack.home("U2", "T1")["blocks"] == home["blocks"]  # type: ignore[index]
    assert (await refused(client.views_publish(user_id="U2", view=modal())))["error"] == "invalid_arguments"


# -- rate limits --------------------------------------------------------------------------------------------------


async def test_a_429_is_waited_out_by_the_rate_limit_retry_handler(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token="xoxb-1", base_url=slack.base_url, retry_handlers=[AsyncRateLimitErrorRetryHandler()])
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.chat_postMessage(channel=general(slack), text="after the wait")
    assert loop.time() - started >= 1
    assert [(c.status, c.error) for c in slack.calls_to("chat.postMessage")] == [(429, "ratelimited"), (200, None)]
    assert len(slack.messages(general(slack))) == 1


async def test_a_429_without_a_retry_handler_surfaces_with_retry_after(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.rate_limit("conversations.create", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_create(name="order-4")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert slack.channels("T1")[-1]["name"] == "general"  # nothing was created


# -- files --------------------------------------------------------------------------------------------------------


async def test_files_upload_v2_round_trip(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = (await client.conversations_create(name="order-5", is_private=True))["channel"]["id"]
    done = await client.files_upload_v2(channel=channel, content=b"%PDF-1.7 final", filename="final.pdf",
                                        title="Final work", initial_comment="Here it is")
    file_id = done["file"]["id"]
    assert slack.files[file_id].content == b"%PDF-1.7 final"
    assert [c.method for c in slack.calls] == [
        "conversations.create", "files.getUploadURLExternal", "files.completeUploadExternal"]
    [shared] = slack.messages(channel)
    assert (shared["text"], shared["user"], shared["files"][0]["id"]) == ("Here it is", "UBOT1", file_id)
    info = (await client.files_info(file=file_id))["file"]
    assert (info["name"], info["title"], info["size"], info["mimetype"]) == ("final.pdf", "Final work", 14, "application/pdf")
    assert info["groups"] == [channel]


async def test_a_download_needs_a_bot_token_of_the_files_workspace(slack: SlackStandIn, client: AsyncWebClient) -> None:
    content = bytes(range(256)) * 1024
    file_id = slack.add_file("T1", "U1", "brief.bin", content, channel=general(slack))
    url = (await client.files_info(file=file_id))["file"]["url_private_download"]
    assert url.startswith(slack.url)
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": "Bearer xoxb-1"}) as ok:
            assert (ok.status, await ok.read()) == (200, content)
        async with http.get(url, headers={"Authorization": "Bearer xoxb-2"}) as other_workspace:
            assert other_workspace.status == 403
        async with http.get(url) as anonymous:
            assert anonymous.status == 401
    assert [d.status for d in slack.downloads] == [200, 403, 401]
    globex = AsyncWebClient(token="xoxb-2", base_url=slack.base_url)
    assert (await refused(globex.files_info(file=file_id)))["error"] == "file_not_found"
    assert slack.messages(general(slack))[0]["files"][0]["id"] == file_id


# -- Socket Mode --------------------------------------------------------------------------------------------------


async def test_socket_mode_client_connects_receives_an_envelope_and_acks(slack: SlackStandIn) -> None:
    slack.add_app_token("xapp-1")
    web = AsyncWebClient(base_url=slack.base_url)
    socket = SocketModeClient(app_token="xapp-1", web_client=web, auto_reconnect_enabled=False)

    async def answer(client: Any, request: SocketModeRequest) -> None:
        reply = {"text": f"you said {request.payload['text']}"}
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload=reply))

    socket.socket_mode_request_listeners.append(answer)
    try:
        await socket.connect()
        await slack.wait_socket()
        command = payloads.slash_command("T1", "U1", text="list", standin=slack)
        ack = await slack.socket_send(command.envelope_type or "", command.data)
        assert ack["payload"] == {"text": "you said list"}
        assert slack.socket_messages == [ack]
        assert slack.last("apps.connections.open").ok
    finally:
        await socket.close()


async def eventually(check: Any, timeout: float = 2.0) -> None:
    """Waits until ``check()`` is true: what an app does after its ack happens a little later."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def test_a_bolt_app_in_socket_mode_takes_the_payloads(slack: SlackStandIn) -> None:
    slack.add_app_token("xapp-1")
    app = AsyncApp(client=AsyncWebClient(token="xoxb-1", base_url=slack.base_url))
    form = {"type": "modal", "callback_id": "requirements", "title": {"type": "plain_text", "text": "Requirements"},
            "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [{"type": "input", "block_id": "brand", "label": {"type": "plain_text", "text": "Brand"},
                        "element": {"type": "plain_text_input", "action_id": "name"}}]}

    @app.command("/gig")
    async def gig(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=form)
        await respond(text="Tell us more", response_type="ephemeral")

    @app.view("requirements")
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        await ack(response_action="errors", errors={"brand": f"{view['state']['values']['brand']['name']['value']}?"})

    handler = AsyncSocketModeHandler(app, "xapp-1", web_client=AsyncWebClient(base_url=slack.base_url))
    await handler.connect_async()
    try:
        await slack.wait_socket()
        command = payloads.slash_command("T1", "U1", text="order", standin=slack)
        await slack.socket_send("slash_commands", command.data)
        await eventually(lambda: slack.ephemerals("U1"))
        [view] = slack.modal_stack("U1", "T1")
        submission = payloads.view_submission("T1", "U1", values={"brand": {"name": "Acme"}}, view=view, standin=slack)
        ack = await slack.socket_send("interactive", submission.data)
        assert ack["payload"] == {"response_action": "errors", "errors": {"brand": "Acme?"}}
        assert slack.ephemerals("U1")[0]["channel"] == general(slack)
    finally:
        await handler.close_async()


async def test_socket_send_times_out_without_an_ack_and_apps_connections_open_wants_an_app_token(slack: SlackStandIn) -> None:
    bot = AsyncWebClient(base_url=slack.base_url)
    assert (await refused(bot.apps_connections_open(app_token="xoxb-1")))["error"] == "not_allowed_token_type"
    slack.add_app_token("xapp-2")
    url = (await bot.apps_connections_open(app_token="xapp-2"))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        assert (await ws.receive_json())["type"] == "hello"
        with pytest.raises(TimeoutError):
            await slack.socket_send("events_api", payloads.event_callback("T1", payloads.app_home_opened("U1")).data, timeout=0.1)
        envelope = await ws.receive_json()
        assert (envelope["type"], envelope["accepts_response_payload"], envelope["retry_attempt"]) == ("events_api", False, 0)


# -- OAuth and response URLs --------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")  # slack_sdk's own use of aiohttp
async def test_an_oauth_code_is_exchanged_once(slack: SlackStandIn) -> None:
    slack.add_oauth_code("code-1", team_id="T2", user_id="U9")
    anonymous = AsyncWebClient(base_url=slack.base_url)
    assert (await refused(anonymous.oauth_v2_access(client_id=slack.client_id, client_secret="wrong", code="code-1")))[
        "error"
    ] == "bad_client_secret"
    granted = await anonymous.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret, code="code-1")
    assert (granted["access_token"], granted["token_type"], granted["bot_user_id"]) == ("xoxb-2", "bot", "UBOT2")
    assert granted["team"] == {"id": "T2", "name": "Globex"}
    assert (granted["authed_user"], granted["enterprise"], granted["is_enterprise_install"]) == ({"id": "U9"}, None, False)
    assert slack.last("oauth.v2.access").team_id == "T2"
    again = await refused(anonymous.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret, code="code-1"))
    assert again["error"] == "invalid_code"


async def test_a_response_url_replaces_the_original_and_works_five_times(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = general(slack)
    ts = (await client.chat_postMessage(channel=channel, text="Deliver?"))["ts"]
    url = slack.response_url("T1", channel, ts, "U1")
    hook = AsyncWebhookClient(url)
    assert (await hook.send(text="Delivered", replace_original=True)).body == "ok"
    assert slack.message(channel, ts)["text"] == "Delivered"
    await hook.send(text="only you see this")
    assert [e["text"] for e in slack.ephemerals("U1")] == ["only you see this"]
    for _ in range(3):
        await hook.send(text="again")
    assert (await hook.send(text="sixth")).status_code == 404
    assert [p["text"] for p in slack.responses(url)][:2] == ["Delivered", "only you see this"]


async def test_a_response_url_posts_in_channel_and_deletes_the_original(slack: SlackStandIn, client: AsyncWebClient) -> None:
    channel = general(slack)
    ts = (await client.chat_postMessage(channel=channel, text="Offer"))["ts"]
    hook = AsyncWebhookClient(slack.response_url("T1", channel, ts, "U1"))
    await hook.send(text="Offer accepted", response_type="in_channel")
    assert [m["text"] for m in slack.messages(channel)] == ["Offer", "Offer accepted"]
    assert (await hook.send(text="x", blocks=[section("b")] * 51)).status_code == 400
    await hook.send_dict({"delete_original": True})
    assert [m["text"] for m in slack.messages(channel)] == ["Offer accepted"]


# -- payloads -----------------------------------------------------------------------------------------------------


def test_signatures_verify_with_slack_sdk() -> None:
    body = payloads.slash_command("T1", "U1", text="list").body
    headers = payloads.sign("s3cret", body)
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert payloads.sign("s3cret", b'{"type": "event_callback"}')["Content-Type"] == "application/json"


def test_interaction_payloads_have_slacks_shape(slack: SlackStandIn) -> None:
    click = payloads.block_actions("T1", "U1", "accept", "OB8W", message={"ts": "1.000001", "text": "x"},
                                   channel_id="C1", standin=slack)
    assert json.loads(parse_qs(click.body.decode())["payload"][0]) == click.data
    data = click.data
    assert (data["user"]["name"], data["team"]["domain"], data["container"]["message_ts"]) == ("sam", "acme", "1.000001")
    assert click.data["response_url"].startswith(slack.url)
    submitted = payloads.view_submission("T1", "U2", "requirements", {"brand": {"name": "Acme"},
                                                                      "size": {"pick": payloads.select_value("L")}})
    values = submitted.data["view"]["state"]["values"]
    assert values["brand"]["name"] == {"type": "plain_text_input", "value": "Acme"}
    assert values["size"]["pick"]["selected_option"]["value"] == "L"
    event = payloads.event_callback("T1", payloads.message("C1", "U1", "hi"), event_id="Ev1")
    assert (event.data["authorizations"][0]["user_id"], event.data["event_id"]) == ("UBT1", "Ev1")
    assert event.envelope_type == "events_api"
