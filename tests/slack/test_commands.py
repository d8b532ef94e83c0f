"""`/gig` and `/gig admin`: help, custom offers, listings, App Home, the chat transcript, and the admins' commands."""

import csv
import io
from pathlib import Path

import pytest

from core import commands as c
from core.actor import Actor
from core.lifecycle import OrderState
from tests.slack import payloads
from tests.slack.standin import SlackStandIn
from tests.slack.test_order_flow import LISTING, make_listing
from tests.slack.world import ADMIN, BUYER, SELLER, STRANGER, World, labels, running, text_of

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("text", ["", "help", "frobnicate", "ask me", "order", "withdraw", "edit", "'unclosed",
                                  "admin frobnicate", "admin resolve"])
async def test_unknown_or_malformed_subcommands_answer_with_the_help_privately(world: World, text: str) -> None:
    who = ADMIN if text.startswith("admin") else BUYER
    await world.command(who, text)
    answers = world.responses_to(who)
    assert answers, "no answer"
    assert answers[-1]["response_type"] == "ephemeral"
    assert "/gig" in text_of(answers[-1])
    assert not world.slack.calls_to("chat.postMessage"), "nothing is said in public"


async def test_admin_commands_refuse_people_who_are_not_admins(world: World) -> None:
    await world.command(STRANGER, "admin orders")
    assert world.heard(STRANGER, "Only this workspace's admins")


async def test_named_admins_are_admins_without_being_workspace_admins(tmp_path: Path, slack: SlackStandIn) -> None:
    async with running(slack, tmp_path, slack_admins=STRANGER) as world:
        await world.command(STRANGER, "admin policy")
        assert world.heard(STRANGER, "review_window")


async def test_a_custom_offer_accepted_by_its_buyer_becomes_an_order(world: World) -> None:
    await world.command(SELLER, "offer")
    modal = world.modal(SELLER)
    values = {k: v for k, v in LISTING.items() if k != "extras"} | {"buyer": payloads.users_value(BUYER),
                                                                    "price": "120", "questions": ""}
    no_buyer = await world.submit(SELLER, modal, values | {"buyer": payloads.users_value(None)})
    assert no_buyer.json["response_action"] == "errors" and "buyer" in no_buyer.json["errors"]
    bad_price = await world.submit(SELLER, modal, values | {"price": "lots"})
    assert "price" in bad_price.json["errors"]
    assert (await world.submit(SELLER, modal, values)).text == ""

    offer = world.last_dm(BUYER)
    assert "120.00" in text_of(offer) and f"<@{SELLER}>" in text_of(offer)
    assert labels(offer) == ["Accept offer", "Decline"]
    await world.click(STRANGER, offer, world.dm_channel(BUYER), "Accept offer")
    assert world.heard(STRANGER, "There is no offer") or world.heard(STRANGER, "Only the buyer")
    await world.click(BUYER, offer, world.dm_channel(BUYER), "Accept offer")
    orders = world.gig.queries.orders(None, BUYER)
    assert len(orders) == 1 and orders[0].terms.total == 12000
    assert orders[0].state is OrderState.AWAITING_ACCEPTANCE  # no requirement questions
    assert {"Accept", "Decline"} <= set(labels(world.last_dm(SELLER)))
    await world.click(BUYER, offer, world.dm_channel(BUYER), "Accept offer")  # a second click
    assert len(world.gig.queries.orders(None, BUYER)) == 1


async def test_a_seller_withdraws_an_offer_and_the_buyer_can_no_longer_accept_it(world: World) -> None:
    await world.command(SELLER, "offer")
    values = {k: v for k, v in LISTING.items() if k != "extras"} | {"buyer": payloads.users_value(BUYER)}
    await world.submit(SELLER, world.modal(SELLER), values)
    offer_to_buyer = world.last_dm(BUYER)
    await world.command(SELLER, "offers")
    listed = world.responses_to(SELLER)[-1]
    await world.click(SELLER, listed, world.slack.channel_id("general"), "Withdraw offer")
    assert "withdrawn" in world.last_dm(BUYER)["text"]
    await world.click(BUYER, offer_to_buyer, world.dm_channel(BUYER), "Accept offer")
    assert not world.gig.queries.orders(None, BUYER)
    assert world.heard(BUYER, "withdrawn") or world.heard(BUYER, "no longer open")


async def test_listings_are_edited_paused_and_resumed(world: World) -> None:
    listing_id = await make_listing(world)
    await world.command(SELLER, f"edit {listing_id}")
    modal = world.modal(SELLER)
    initial = {blk["block_id"]: blk["element"].get("initial_value") for blk in modal["blocks"] if blk["type"] == "input"}
    assert initial["title"] == "Logo design" and initial["price"] == "50.00"
    assert (await world.submit(SELLER, modal, LISTING | {"title": "Logo and card"})).text == ""
    assert world.gig.queries.listing(listing_id).service.title == "Logo and card"

    await world.command(SELLER, f"pause {listing_id}")
    await world.command(BUYER, f"order {listing_id}")
    assert world.heard(BUYER, "paused") or world.heard(BUYER, "not taking orders")
    await world.command(SELLER, f"resume {listing_id}")
    await world.command(BUYER, f"order {listing_id}")
    assert len(world.gig.queries.orders(None, BUYER)) == 1
    await world.command(BUYER, f"edit {listing_id}")
    assert world.heard(BUYER, "not yours") or world.heard(BUYER, "Only the seller")


async def test_a_listing_modal_shows_what_is_wrong_under_its_input(world: World) -> None:
    await world.command(SELLER, "create")
    modal = world.modal(SELLER)
    for field, value in (("price", "-5"), ("delivery_days", "soon"), ("extras", "nonsense")):
        answer = await world.submit(SELLER, modal, LISTING | {field: value})
        assert answer.json["response_action"] == "errors", (field, answer.json)
        assert field in answer.json["errors"], (field, answer.json)
    assert not world.gig.queries.listings(world.gig.queries.communities()[0].id)


async def test_the_home_tab_shows_orders_as_buyer_and_seller_balance_and_listings(world: World) -> None:
    listing_id = await make_listing(world)
    await world.command(BUYER, f"order {listing_id} nda")
    await world.event("T1", payloads.app_home_opened(SELLER))
    home = world.slack.home(SELLER)
    assert home is not None
    shown = text_of({"blocks": home["blocks"]})
    assert "Orders you sell" in shown and "Logo design" in shown and "you earn 54.00" in shown
    await world.event("T1", payloads.app_home_opened(BUYER))
    buyer_home = text_of({"blocks": world.slack.home(BUYER)["blocks"]})
    assert "Orders you buy" in buyer_home and "you earn" not in buyer_home


async def test_what_people_write_in_an_order_channel_is_kept_in_its_record_once(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    event = payloads.message(channel, BUYER, "Could the logo be blue?", channel_type="group")
    await world.event("T1", event, event_id="Ev1")
    await world.event("T1", event, event_id="Ev1", headers={"X-Slack-Retry-Num": "1",
                                                             "X-Slack-Retry-Reason": "http_timeout"})
    await world.event("T1", payloads.message(channel, STRANGER, "hello?", channel_type="group"))
    posted = [e for e in world.gig.queries.history(order_id) if type(e).__name__ == "MessagePosted"]
    assert [(e.author_id, e.text) for e in posted] == [(BUYER, "Could the logo be blue?")]
    said = [m["text"] for m in world.slack.messages(channel)]
    assert not any("Could the logo be blue?" in t for t in said), "gigroom does not echo the chat"


async def test_admins_resolve_refund_list_and_export(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await world.click(BUYER, world.board(order_id), channel, "Problem with order")
    await world.submit(BUYER, world.modal(BUYER), {"reason": "No word from the seller"})
    assert world.gig.queries.order(order_id).problem is not None

    await world.command(ADMIN, "admin problems")
    assert world.heard(ADMIN, "No word from the seller")
    await world.command(ADMIN, f"admin resolve {order_id} extend --by 2d more time given")
    order = world.gig.queries.order(order_id)
    assert order.problem is None and order.state is OrderState.IN_PROGRESS
    await world.command(ADMIN, f"admin resolve {order_id} sideways")
    assert world.heard(ADMIN, "not a resolution")

    await world.command(ADMIN, f"admin refund {order_id} 20 partial refund")
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.CANCELLED and order.refunded == 2000
    assert world.slack.channel(channel)["is_archived"]

    await world.command(ADMIN, "admin export orders")
    upload = world.slack.last("files.completeUploadExternal")
    assert upload.ok
    stored = world.slack.files[upload.params["files"][0]["id"]]
    rows = list(csv.DictReader(io.StringIO(stored.content.decode())))
    assert [r["id"] for r in rows] == [order_id]
    await world.command(ADMIN, "admin export ledger json")
    assert world.slack.last("files.completeUploadExternal").ok
    await world.command(ADMIN, "admin orders")
    assert world.heard(ADMIN, order_id)


async def accepted_order(world: World) -> str:
    """An order in progress, placed and accepted through the engine, its channel open."""
    listing_id = await make_listing(world, questions="")
    await world.command(BUYER, f"order {listing_id}")
    order = world.gig.queries.orders(None, BUYER)[0]
    await world.gig.handle(c.AcceptOrder(actor=Actor(order.community_id, SELLER), order_id=order.id))
    await world.settle()
    return order.id
