"""Slack's rules: signed requests only, one effect per retry or double click, rate limits waited out, restarts,
clicks by the wrong person or from another workspace, oversized files, Socket Mode reconnects."""

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from adapters.relay import LEASE, letters, outbox_counts
from bot.app import Gigroom
from core import commands as c
from core.actor import Actor
from core.lifecycle import OrderState
from core.order_parts import DeliveryKind
from tests.slack import payloads
from tests.slack.standin import SlackStandIn
from tests.slack.test_commands import accepted_order
from tests.slack.test_order_flow import make_listing
from tests.slack.world import (
    BUYER,
    OAUTH,
    SECRET,
    SELLER,
    SOCKET_MODE,
    STRANGER,
    World,
    add_team,
    labels,
    running,
)

pytestmark = pytest.mark.timeout(60)


def _listing_command() -> payloads.SlackPayload:
    return payloads.slash_command("T1", SELLER, text="browse")


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "from the future", "unsigned", "body changed"])
async def test_a_forged_or_stale_request_is_refused_with_401_and_does_nothing(world: World, forgery: str) -> None:
    import time

    request = payloads.slash_command("T1", SELLER, text="create", standin=world.slack)
    now = int(time.time())
    headers = None
    secret, stamp = SECRET, None
    if forgery == "wrong secret":
        secret = "not-the-secret"
    elif forgery == "stale":
        stamp = now - 6 * 60
    elif forgery == "from the future":
        stamp = now + 6 * 60
    elif forgery == "unsigned":
        headers = {"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""}
    elif forgery == "body changed":
        signed = request.headers(SECRET)
        request = payloads.slash_command("T1", STRANGER, text="create", standin=world.slack)
        headers = {k: v for k, v in signed.items() if k.startswith("X-Slack")}
    answer = await world.post(request, secret=secret, timestamp=stamp, headers=headers)
    await world.settle()
    assert answer.status == 401
    assert world.slack.calls == [], "a refused request reaches no listener"
    assert world.gig.queries.communities() == []


async def test_a_double_click_accepts_the_order_once_and_tells_the_loser(world: World) -> None:
    listing_id = await make_listing(world, questions="")
    await world.command(BUYER, f"order {listing_id}")
    invitation = world.last_dm(SELLER)
    dm = world.dm_channel(SELLER)
    answers = await asyncio.gather(*(world.click(SELLER, invitation, dm, "Accept", settle=False) for _ in range(3)))
    assert [a.status for a in answers] == [200, 200, 200]
    await world.settle()
    order = world.gig.queries.orders(None, BUYER)[0]
    accepted = [e for e in world.gig.queries.history(order.id) if type(e).__name__ == "OrderAccepted"]
    assert len(accepted) == 1
    assert len(world.slack.calls_to("conversations.create")) == 1
    assert world.heard(SELLER, "already")


async def test_a_click_by_someone_else_is_refused_privately(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    board = world.board(order_id)
    before = world.gig.queries.order(order_id)
    await world.click(BUYER, board, channel, "Deliver")
    await world.click(STRANGER, board, channel, "Problem with order")
    assert world.heard(BUYER, "Only the seller")
    assert world.heard(STRANGER, "not yours")
    assert world.gig.queries.order(order_id).version == before.version
    assert world.slack.modal_stack(BUYER) == [] and world.slack.modal_stack(STRANGER) == []
    assert all(m["text"] == world.slack.messages(channel)[i]["text"] for i, m in enumerate(world.slack.messages(channel)))


async def test_rate_limits_are_waited_out_and_nothing_is_lost(world: World) -> None:
    listing_id = await make_listing(world, questions="")
    await world.command(BUYER, f"order {listing_id}")
    world.slack.rate_limit("conversations.create", times=2, retry_after=1)
    world.slack.rate_limit("chat.postMessage", times=3, retry_after=1)
    await world.click(SELLER, world.last_dm(SELLER), world.dm_channel(SELLER), "Accept")
    order_id = world.gig.queries.orders(None, BUYER)[0].id
    assert "Deliver" in labels(world.board(order_id))
    statuses = [c.status for c in world.slack.calls_to("chat.postMessage")]
    assert statuses.count(429) == 3 and statuses[-1] == 200
    assert world.gig.queries.unsent() == 0


async def test_a_storm_longer_than_the_client_waits_is_retried_later_by_the_relay(world: World) -> None:
    listing_id = await make_listing(world, questions="")
    world.slack.rate_limit("conversations.open", times=11, retry_after=0)
    await world.command(BUYER, f"order {listing_id}", settle=False)
    await world.settle()
    assert world.gig.queries.unsent() > 0, "the event waits for the relay's next attempt"
    with time_machine.travel(world.gig.clock.now() + timedelta(minutes=1), tick=True):
        await world.settle()
        assert world.gig.queries.unsent() == 0
    assert {"Accept", "Decline"} <= set(labels(world.last_dm(SELLER)))


async def test_a_retry_after_a_failure_halfway_posts_nothing_twice(world: World) -> None:
    listing_id = await make_listing(world, questions="")
    await world.command(BUYER, f"order {listing_id}")
    world.slack.rate_limit("pins.add", times=11, retry_after=0)  # more than the client waits out
    await world.click(SELLER, world.last_dm(SELLER), world.dm_channel(SELLER), "Accept")
    order_id = world.gig.queries.orders(None, BUYER)[0].id
    channel = world.order_channel(order_id)
    assert world.gig.queries.unsent() > 0, "the acceptance waits for the relay's next try"
    with time_machine.travel(world.gig.clock.now() + timedelta(minutes=1), tick=True):
        await world.settle()
    assert world.gig.queries.unsent() == 0
    texts = [m["text"] for m in world.slack.messages(channel)]
    assert len([t for t in texts if "accepted: work has started" in t]) == 1, texts
    assert len([t for t in texts if t.startswith(f"Order {order_id}:")]) == 1, "one board"
    assert world.board(order_id).get("pinned_to") == [channel]
    assert len([m for m in world.dm(BUYER) if "deliver" in m["text"]]) <= 1


async def test_a_sigkill_while_an_update_is_shown_repeats_none_of_its_steps_after_the_restart(
        world: World, tmp_path: Path) -> None:
    """A real `gigroom run` is killed while the board edit waits out a 429, the update already posted."""
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await world.stop()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-acme", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": world.slack.base_url, "GIGROOM_WEB_PORT": "0", "GIGROOM_LOG_LEVEL": "ERROR",
           "DATABASE_URL": world.settings.database_url, "GIGROOM_FILES_DIR": str(world.settings.files_dir),
           "GIGROOM_RELAY_INTERVAL": "0.1"}
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "DISCORD_TOKEN"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
                                                   stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        world.slack.rate_limit("chat.update", times=1, retry_after=60)  # the client waits a minute: held
        engine = Gigroom(world.settings)
        order = engine.queries.order(order_id)
        await engine.handle(c.DeliverOrder(actor=Actor(order.community_id, SELLER), order_id=order_id,
                                           kind=DeliveryKind.PREVIEW, description="Concepts", confirm_no_file=True))
        engine.database.dispose()
        for _ in range(300):
            if any(call.status == 429 for call in world.slack.calls_to("chat.update")):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the board edit was never tried")
    finally:
        process.kill()  # SIGKILL: no handler runs
        await process.wait()
    with time_machine.travel(datetime.now(UTC) + LEASE + timedelta(seconds=1), tick=True):  # the dead one's lease ends
        await world.start()
        await world.settle()
    texts = [m["text"] for m in world.slack.messages(channel)]
    assert len([t for t in texts if t.startswith(f"Delivery 1 of order {order_id}")]) == 1, texts
    assert world.gig.queries.unsent() == 0
    assert world.gig.queries.order(order_id).state is OrderState.DELIVERED
    assert "Accept delivery" in labels(world.board(order_id))


async def test_an_update_for_a_deleted_channel_is_a_dead_letter_and_holds_back_nothing(world: World) -> None:
    order_id = await accepted_order(world)
    world.slack.delete_channel(world.order_channel(order_id))
    order = world.gig.queries.order(order_id)
    seller = Actor(order.community_id, SELLER)
    await world.gig.handle(c.DeliverOrder(actor=seller, order_id=order_id, kind=DeliveryKind.PREVIEW,
                                          description="Concepts", confirm_no_file=True))
    await world.settle()
    await world.gig.handle(c.AcceptDelivery(actor=Actor(order.community_id, BUYER), order_id=order_id))
    await world.settle()
    assert outbox_counts(world.gig.database) == (0, 2)  # not retried for ever, not lost: kept, for an operator
    dead = letters(world.gig.database)
    assert [d.type for d in dead] == ["OrderDelivered", "DeliveryAccepted"]
    assert all(d.error == "Undeliverable: Slack refused it for good: channel_not_found" for d in dead)


async def test_a_restart_in_the_middle_of_an_order_keeps_its_buttons_working(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await world.click(SELLER, world.board(order_id), channel, "Deliver")
    modal = world.modal(SELLER)
    refused = await world.submit(SELLER, modal, {"description": "Concepts", "links": "https://example.com/a"})
    assert "no file" in str(refused.json["errors"]).lower(), refused.json
    await world.submit(SELLER, modal, {"description": "Concepts", "links": "https://example.com/a",
                                       "options": payloads.checkboxes_value(["no_file"])})
    board = world.board(order_id)
    await world.restart()
    await world.click(BUYER, board, channel, "Accept delivery")
    assert world.gig.queries.order(order_id).state is OrderState.ACCEPTED
    assert "Already sent work" in labels(world.board(order_id))
    assert len(world.slack.calls_to("conversations.create")) == 1


async def test_an_oversized_file_is_refused_in_the_modal_and_nothing_is_lost(world: World) -> None:
    from tests.slack.world import ADMIN

    await world.command(ADMIN, "admin policy max_file_bytes 1000")
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    world.slack.add_file("T1", SELLER, "huge.zip", b"z" * 5000, channel)
    await world.click(SELLER, world.board(order_id), channel, "Deliver")
    modal = world.modal(SELLER)
    shared = next(b for b in modal["blocks"] if b.get("block_id") == "shared")
    file_id = shared["element"]["options"][0]["value"]
    await world.submit(SELLER, modal, {"description": "All files", "shared": payloads.checkboxes_value([file_id])})
    shown = world.slack.views[modal["id"]]
    assert "1,000 bytes" in str(shown["blocks"])
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.IN_PROGRESS and not order.deliveries
    stored = [p for p in Path(world.settings.files_dir).rglob("*") if p.is_file()]
    assert stored == []


async def test_socket_mode_reconnects_when_slack_asks_and_keeps_working(slack: SlackStandIn, tmp_path: Path) -> None:
    async with running(slack, tmp_path, **SOCKET_MODE) as world:
        await world.slack.socket_disconnect()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len([c for c in slack.calls_to("apps.connections.open") if c.ok]) >= 2 and slack.socket_connected.is_set():
                break
        listing_id = await make_listing(world)
        assert world.gig.queries.listing(listing_id) is not None
        assert slack.socket_messages, "the requests came over the websocket"


async def test_two_workspaces_install_gigroom_and_their_orders_stay_apart(slack: SlackStandIn, tmp_path: Path) -> None:
    add_team(slack, "T2", name="Globex", token="xoxb-globex")
    async with running(slack, tmp_path, **OAUTH) as world:
        await world.install("T1")
        await world.install("T2")
        listing_id = await make_listing(world, questions="")
        await world.command(BUYER, f"order {listing_id}", team="T2")
        assert world.heard(BUYER, f"There is no listing {listing_id}")
        await world.command(BUYER, f"order {listing_id}", team="T1")
        order = world.gig.queries.orders(None, BUYER)[0]
        assert order.community_id == "slack:T1"
        invitation = world.last_dm(SELLER, "T1")
        assert world.dm(SELLER, "T2") == []
        forged = payloads.block_actions("T2", SELLER, next(e["action_id"] for blk in invitation["blocks"]
                                                           if blk["type"] == "actions" for e in blk["elements"]),
                                        standin=slack, channel_id=slack.channel_id("general", "T2"))
        assert (await world.post(forged)).status == 200
        await world.settle()
        assert world.gig.queries.order(order.id).state is OrderState.AWAITING_ACCEPTANCE
        assert any(f"There is no order {order.id} here" in p.get("text", "") for p in world.responses_to(SELLER))
        await world.click(SELLER, invitation, world.dm_channel(SELLER, "T1"), "Accept", team="T1")
        assert world.order_channel(order.id, "T1")
        assert not [c for c in slack.channels("T2") if c.get("name", "").startswith("order-")]
        calls = {c.team_id for c in slack.calls_to("conversations.create")}
        assert calls == {"T1"}
        checks = len(slack.calls_to("auth.test"))
        await world.command(SELLER, "listings", team="T2")
        assert world.heard(SELLER, "You have no listings")
        assert len(slack.calls_to("auth.test")) == checks, "each workspace's bot is checked once, not per request"

        store = world.side.bolt.installation_store
        assert await store.async_find_bot(enterprise_id=None, team_id="T2") is not None
        await world.event("T2", {"type": "app_uninstalled", "event_ts": "1700000000.000100"})
        assert await store.async_find_bot(enterprise_id=None, team_id="T2") is None, "an uninstall forgets the tokens"
        assert await store.async_find_bot(enterprise_id=None, team_id="T1") is not None
