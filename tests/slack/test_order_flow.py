"""A whole order from listing to withdrawal, driven only by what Slack sends: commands, clicks, modals, events."""

from datetime import timedelta

import pytest
import time_machine

from adapters.slack import manifest
from tests.slack import payloads
from tests.slack.world import ADMIN, BUYER, SELLER, STRANGER, World, labels, text_of

pytestmark = pytest.mark.timeout(60)

LISTING = {"title": "Logo design", "description": "Three logo concepts", "price": "50", "delivery_days": "3",
           "deliveries": "2", "licence": "Commercial use", "extras": "nda:Non-disclosure agreement:10:nda",
           "questions": "What is your brand called?"}


async def make_listing(world: World, **changes: str) -> str:
    await world.command(SELLER, "create")
    modal = world.modal(SELLER)
    assert modal["title"]["text"] == "New listing"
    answer = await world.submit(SELLER, modal, LISTING | changes)
    assert answer.text == "", answer.json
    listing = world.gig.queries.listings(world.gig.queries.communities()[0].id)[-1]
    return listing.id


async def place_order(world: World, listing_id: str) -> str:
    """The buyer orders from `/gig browse` (no extras ticked in its modal), then gives the requirements."""
    await world.command(BUYER, "browse")
    listing_message = world.responses_to(BUYER)[-1]
    assert "Logo design" in text_of(listing_message)
    await world.click(BUYER, listing_message, world.slack.channel_id("general"), "Order")
    extras = world.modal(BUYER)  # the listing has an extra: the buyer ticks none
    await world.submit(BUYER, extras, {"extras-0": payloads.checkboxes_value([])})
    order = world.gig.queries.orders(None, BUYER)[0]
    return order.id


async def test_a_whole_order_from_listing_to_withdrawal(both: World) -> None:
    world = both
    listing_id = await make_listing(world)
    assert world.heard(SELLER, f"Listing {listing_id}")

    order_id = await place_order(world, listing_id)
    prompt = world.last_dm(BUYER)
    assert "submit the requirements" in prompt["text"]
    await world.click(BUYER, prompt, world.dm_channel(BUYER), "Submit requirements")
    requirements = world.modal(BUYER)
    await world.submit(BUYER, requirements, {"q0": "Acme Bakery"})

    invitation = world.last_dm(SELLER)
    assert {"Accept", "Decline"} <= set(labels(invitation)), labels(invitation)
    assert "Acme Bakery" in "\n".join(text_of(m) for m in world.dm(SELLER))
    await world.click(SELLER, invitation, world.dm_channel(SELLER), "Accept")

    channel = world.order_channel(order_id)
    assert set(world.slack.channel(channel)["members"]) >= {SELLER, BUYER}
    assert world.slack.channel(channel)["is_private"]
    board = world.board(order_id)
    assert board.get("pinned_to") == [channel], "the board is pinned in the order's channel"
    assert "In progress" in text_of(board)
    assert "Deliver" in labels(board)
    await world.event("T1", payloads.message(channel, BUYER, "Blue and gold, please", channel_type="group"))
    assert [e.text for e in world.gig.queries.history(order_id) if type(e).__name__ == "MessagePosted"] == [
        "Blue and gold, please"]

    file_id = world.slack.add_file("T1", SELLER, "concept.png", b"\x89PNG" + b"x" * 5000, channel)
    await world.click(SELLER, board, channel, "Deliver")
    deliver = world.modal(SELLER)
    answer = await world.submit(SELLER, deliver, {"description": "First concepts",
                                                  "shared": payloads.checkboxes_value([file_id])})
    assert answer.status == 200
    order = world.gig.queries.order(order_id)
    assert order is not None and order.state.value == "delivered", order and order.state
    assert order.deliveries[-1].files[0].name == "concept.png"
    assert order.deliveries[-1].files[0].size == 5004

    board = world.board(order_id)
    assert "Accept delivery" in labels(board)
    refused = await world.click(SELLER, board, channel, "Accept delivery")
    assert refused.status == 200
    assert world.heard(SELLER, "Only the buyer")
    await world.click(BUYER, world.board(order_id), channel, "Accept delivery")
    assert world.gig.queries.order(order_id).state.value == "accepted"

    await world.click(SELLER, world.board(order_id), channel, "Already sent work")
    await world.click(BUYER, world.board(order_id), channel, "Leave review")
    review = world.modal(BUYER)
    await world.submit(BUYER, review, {"rating": payloads.select_value("5"), "text": "Lovely work"})
    order = world.gig.queries.order(order_id)
    assert order.state.value == "completed" and order.review and order.review.rating == 5

    await world.click(SELLER, world.board(order_id), channel, "Download invoice")
    assert world.slack.last("files.completeUploadExternal").ok

    await world.click(SELLER, world.board(order_id), channel, "Respond to review")
    await world.submit(SELLER, world.modal(SELLER), {"reason": "Thank you!"})
    assert world.gig.queries.order(order_id).review.reply == "Thank you!"
    assert world.slack.channel(channel)["is_archived"]

    await world.command(SELLER, "balance")
    assert world.heard(SELLER, "clearing")
    await world.event("T1", payloads.app_home_opened(SELLER))
    assert "45.00 USD clearing" in text_of({"blocks": world.slack.home(SELLER)["blocks"]})
    with time_machine.travel(world.gig.clock.now() + timedelta(days=5, minutes=1), tick=True):
        await world.settle()
        await world.command(SELLER, "withdraw 45")
        withdrawals = world.gig.queries.withdrawals(None, "requested")
        assert len(withdrawals) == 1 and withdrawals[0].amount == 4500
        await world.command(ADMIN, f"admin pay {withdrawals[0].id} bank-1")
        assert world.gig.queries.withdrawals(None, "paid")
        await world.command(STRANGER, f"admin pay {withdrawals[0].id}")
        assert world.heard(STRANGER, "Only this workspace's admins")
    used = {SCOPE_OF[call.method] for call in world.slack.calls if SCOPE_OF.get(call.method)}
    assert used | {"commands", "groups:history"} == set(manifest.bot_scopes()), "the manifest asks for what is used"


# The bot scope each Web API method needs (Slack's method pages); views.* and auth.test need none.
SCOPE_OF = {"chat.postMessage": "chat:write", "chat.update": "chat:write", "conversations.open": "im:write",
            "conversations.create": "groups:write", "conversations.invite": "groups:write",
            "conversations.archive": "groups:write", "pins.add": "pins:write", "users.info": "users:read",
            "files.info": "files:read",
            "files.list": "files:read", "files.getUploadURLExternal": "files:write",
            "files.completeUploadExternal": "files:write", "views.open": "", "views.update": "", "views.publish": "",
            "auth.test": ""}
