"""News that asks no action still reaches the party it is for as a direct message (events' `direct_to`)."""

import pytest

from core.lifecycle import OrderState
from tests.slack import payloads
from tests.slack.test_board_actions import deliver
from tests.slack.test_commands import accepted_order
from tests.slack.world import BUYER, SELLER, World, labels, text_of

pytestmark = pytest.mark.timeout(60)


async def test_a_review_extension_reaches_the_seller_as_a_direct_message(world: World) -> None:
    order_id = await accepted_order(world)
    await deliver(world, order_id)
    before = len(world.dm(SELLER))
    await world.click(BUYER, world.board(order_id), world.order_channel(order_id), "Extend review time")
    await world.submit(BUYER, world.modal(BUYER), {"extra": "1d"})
    news = [text_of(m) for m in world.dm(SELLER)[before:]]
    assert any("added 1d to the review period" in text for text in news), news


async def test_a_tip_reaches_the_seller_as_a_direct_message(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await deliver(world, order_id, options=payloads.checkboxes_value(["no_file", "final"]))
    await world.click(BUYER, world.board(order_id), channel, "Accept delivery")
    assert world.gig.queries.order(order_id).state is OrderState.COMPLETED
    before = len(world.dm(SELLER))
    await world.click(BUYER, world.board(order_id), channel, "Tip")
    await world.submit(BUYER, world.modal(BUYER), {"amount": "5"})
    news = [text_of(m) for m in world.dm(SELLER)[before:]]
    assert any("tipped 5.00 USD" in text for text in news), news
    assert not any("tipped" in text_of(m) for m in world.dm(BUYER)), "the buyer sees it in the channel only"


async def test_the_requester_of_a_cancellation_sees_withdraw_cancellation_request_on_the_board(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await world.click(BUYER, world.board(order_id), channel, "Ask to cancel")
    await world.submit(BUYER, world.modal(BUYER), {"reason": "Plans changed"})
    board = world.board(order_id)
    assert "Withdraw cancellation request" in labels(board) and "Answer cancellation" in labels(board)
    await world.click(BUYER, board, channel, "Withdraw cancellation request")
    await world.submit(BUYER, world.modal(BUYER), {"agree": payloads.select_value("no")})
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.IN_PROGRESS and order.cancellation is None
    assert "withdrew the request to cancel" in str(world.slack.messages(channel))
