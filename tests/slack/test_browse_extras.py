"""Ordering a listing's extras on Slack: `/gig browse` shows each extra's code and price, and the Order button
lets the buyer tick extras in a modal when the listing has any (and orders at once when it has none)."""

import pytest

from tests.slack import payloads
from tests.slack.test_order_flow import make_listing
from tests.slack.world import BUYER, World, text_of

pytestmark = pytest.mark.timeout(60)

EXTRAS = "nda:Non-disclosure agreement:10:nda\nfast:24h delivery:15:days=-2\nmore:Two more revisions:8:deliveries=2"


async def browse(world: World) -> dict:
    await world.command(BUYER, "browse")
    return world.responses_to(BUYER)[-1]


async def test_browse_shows_each_extras_code_and_price_as_gig_order_needs_them(world: World) -> None:
    listing_id = await make_listing(world, extras=EXTRAS)
    shown = text_of(await browse(world))
    for code, name, price in (("nda", "Non-disclosure agreement", "10.00"), ("fast", "24h delivery", "15.00"),
                              ("more", "Two more revisions", "8.00")):
        line = next((line for line in shown.splitlines() if name in line), "")
        assert f"`{code}`" in line and price in line, (code, shown)
    assert f"/gig order {listing_id} nda" in shown, "the command to order with an extra is shown as it is typed"
    await world.command(BUYER, f"order {listing_id} fast more")
    order = world.gig.queries.orders(None, BUYER)[0]
    assert order.terms.total == 5000 + 1500 + 800


async def test_the_order_button_of_a_listing_with_extras_lets_the_buyer_tick_them_and_charges_them(
        world: World) -> None:
    listing_id = await make_listing(world, extras=EXTRAS)
    await world.click(BUYER, await browse(world), world.slack.channel_id("general"), "Order")
    assert not world.gig.queries.orders(None, BUYER), "nothing is ordered before the buyer picks the extras"
    modal = world.modal(BUYER)
    boxes = [blk for blk in modal["blocks"] if blk["type"] == "input" and blk["element"]["type"] == "checkboxes"]
    assert len(boxes) == 1
    options = text_of({"blocks": [{"type": "section", "fields": [o["text"] for o in boxes[0]["element"]["options"]]}]})
    assert "Non-disclosure agreement" in options and "10.00" in options and "15.00" in options

    answer = await world.submit(BUYER, modal, {boxes[0]["block_id"]: payloads.checkboxes_value(["nda", "fast"])})
    assert answer.status == 200 and answer.json.get("response_action") != "errors", answer.json
    orders = world.gig.queries.orders(None, BUYER)
    assert len(orders) == 1 and orders[0].listing_id == listing_id
    assert orders[0].terms.total == 5000 + 1000 + 1500 and orders[0].terms.nda
    assert world.heard(BUYER, "75.00"), "the buyer is told the total paid into escrow"


async def test_the_order_button_of_a_listing_with_extras_orders_none_when_none_are_ticked(world: World) -> None:
    await make_listing(world, extras=EXTRAS)
    await world.click(BUYER, await browse(world), world.slack.channel_id("general"), "Order")
    modal = world.modal(BUYER)
    box = next(blk for blk in modal["blocks"] if blk["type"] == "input")
    await world.submit(BUYER, modal, {box["block_id"]: payloads.checkboxes_value([])})
    assert [o.terms.total for o in world.gig.queries.orders(None, BUYER)] == [5000]


async def test_the_order_button_of_a_listing_without_extras_orders_at_once_with_no_modal(world: World) -> None:
    await make_listing(world, extras="")
    await world.click(BUYER, await browse(world), world.slack.channel_id("general"), "Order")
    assert world.slack.modal_stack(BUYER) == []
    assert [o.terms.total for o in world.gig.queries.orders(None, BUYER)] == [5000]


async def test_a_listing_paused_while_its_extras_modal_is_open_is_refused_in_the_modal(world: World) -> None:
    listing_id = await make_listing(world, extras=EXTRAS)
    await world.click(BUYER, await browse(world), world.slack.channel_id("general"), "Order")
    modal = world.modal(BUYER)
    await world.command("USAM", f"pause {listing_id}")
    box = next(blk for blk in modal["blocks"] if blk["type"] == "input")
    answer = await world.submit(BUYER, modal, {box["block_id"]: payloads.checkboxes_value(["nda"])})
    assert answer.json["response_action"] == "errors"
    assert "paused" in answer.json["errors"][box["block_id"]]
    assert not world.gig.queries.orders(None, BUYER)


async def test_a_listing_with_more_extras_than_one_checkbox_list_holds_shows_them_all(world: World) -> None:
    many = "\n".join(f"x{i}:Extra {i}:{i + 1}" for i in range(13))
    await make_listing(world, extras=many)
    await world.click(BUYER, await browse(world), world.slack.channel_id("general"), "Order")
    modal = world.modal(BUYER)
    boxes = [blk for blk in modal["blocks"] if blk["type"] == "input"]
    assert sum(len(blk["element"]["options"]) for blk in boxes) == 13
    await world.submit(BUYER, modal, {boxes[0]["block_id"]: payloads.checkboxes_value(["x0"]),
                                      boxes[1]["block_id"]: payloads.checkboxes_value(["x12"])})
    assert [o.terms.total for o in world.gig.queries.orders(None, BUYER)] == [5000 + 100 + 1300]
