"""A custom offer's extras on Slack: the offer's Accept button opens a modal to tick them, and the total paid
includes them; an offer without extras is accepted at once, as before."""

from dataclasses import replace

import pytest

from core import commands as c
from core.actor import Actor
from tests.market import SERVICE
from tests.slack import payloads
from tests.slack.test_order_flow import LISTING
from tests.slack.world import BUYER, SELLER, STRANGER, World, labels, text_of

pytestmark = pytest.mark.timeout(60)

EXTRAS = "nda:Non-disclosure agreement:10:nda\nfast:24h delivery:15:days=-2"


async def make_offer(world: World, extras: str = EXTRAS) -> dict:
    """The seller sends a custom offer of 120.00 from `/gig offer`; the buyer's direct message with its buttons."""
    await world.command(SELLER, "offer")
    values = LISTING | {"buyer": payloads.users_value(BUYER), "price": "120", "questions": "", "extras": extras}
    answer = await world.submit(SELLER, world.modal(SELLER), values)
    assert answer.text == "", answer.json
    offer = world.last_dm(BUYER)
    assert labels(offer) == ["Accept offer", "Decline"]
    return offer


def extras_boxes(modal: dict) -> list[dict]:
    return [blk for blk in modal["blocks"] if blk["type"] == "input" and blk["element"]["type"] == "checkboxes"]


async def test_accepting_an_offer_on_slack_lets_the_buyer_choose_its_extras(world: World) -> None:
    offer = await make_offer(world)
    assert "24h delivery" in text_of(offer), "the offer names the extras the buyer may add"
    await world.click(BUYER, offer, world.dm_channel(BUYER), "Accept offer")
    assert not world.gig.queries.orders(None, BUYER), "nothing is ordered before the buyer picks the extras"
    modal = world.modal(BUYER)
    assert modal["submit"]["text"] == "Accept offer"
    [box] = extras_boxes(modal)
    assert [o["value"] for o in box["element"]["options"]] == ["nda", "fast"]
    assert "120.00" in text_of(modal)

    answer = await world.submit(BUYER, modal, {box["block_id"]: payloads.checkboxes_value(["fast"])})
    assert answer.status == 200 and answer.json.get("response_action") != "errors", answer.json
    [order] = world.gig.queries.orders(None, BUYER)
    assert order.offer_id and [item.name for item in order.terms.items] == ["Logo design", "24h delivery"]
    assert order.terms.total == 12000 + 1500 and order.terms.delivery_days == 1
    assert world.heard(BUYER, f"Order {order.id} placed from offer {order.offer_id}")
    assert world.heard(BUYER, "135.00"), "the buyer is told the total paid into escrow, extras included"


async def test_an_offer_accepted_with_no_extra_ticked_costs_its_own_price(world: World) -> None:
    offer = await make_offer(world)
    await world.click(BUYER, offer, world.dm_channel(BUYER), "Accept offer")
    modal = world.modal(BUYER)
    await world.submit(BUYER, modal, {extras_boxes(modal)[0]["block_id"]: payloads.checkboxes_value([])})
    assert [o.terms.total for o in world.gig.queries.orders(None, BUYER)] == [12000]


async def test_an_offer_without_extras_is_accepted_at_once_with_no_modal(world: World) -> None:
    offer = await make_offer(world, extras="")
    await world.click(BUYER, offer, world.dm_channel(BUYER), "Accept offer")
    assert world.slack.modal_stack(BUYER) == []
    assert [o.terms.total for o in world.gig.queries.orders(None, BUYER)] == [12000]


async def test_an_offer_s_extras_modal_opens_only_for_its_buyer(world: World) -> None:
    offer = await make_offer(world)
    await world.click(STRANGER, offer, world.dm_channel(BUYER), "Accept offer")
    assert world.slack.modal_stack(STRANGER) == [], "a stranger is refused before any modal shows the offer"
    assert world.heard(STRANGER, "Only the buyer")
    assert not world.gig.queries.orders(None, STRANGER)


async def test_an_offer_withdrawn_while_its_extras_modal_is_open_is_refused_in_the_modal(world: World) -> None:
    offer = await make_offer(world)
    await world.click(BUYER, offer, world.dm_channel(BUYER), "Accept offer")
    modal = world.modal(BUYER)
    [open_offer] = world.gig.queries.offers(world.gig.queries.communities()[0].id, BUYER, world.gig.clock.now())
    await world.command(SELLER, "offers")
    await world.click(SELLER, world.responses_to(SELLER)[-1], world.slack.channel_id("general"), "Withdraw offer")
    box = extras_boxes(modal)[0]["block_id"]
    answer = await world.submit(BUYER, modal, {box: payloads.checkboxes_value(["nda"])})
    assert answer.json["response_action"] == "errors"
    assert f"Offer {open_offer.id} is already withdrawn" in answer.json["errors"][box]
    assert not world.gig.queries.orders(None, BUYER)


async def test_an_offer_s_extras_modal_offers_only_the_extras_the_seller_did_not_include(world: World) -> None:
    await world.command(SELLER, "help")  # the workspace's community comes with its first request
    community_id = world.gig.queries.communities()[0].id
    service = replace(SERVICE, title="Logo for Bea", price=7000, questions=())
    await world.gig.handle(c.MakeOffer(actor=Actor(community_id, SELLER), buyer_id=BUYER, service=service,
                                       extras=("nda",)))
    await world.settle()
    await world.click(BUYER, world.last_dm(BUYER), world.dm_channel(BUYER), "Accept offer")
    modal = world.modal(BUYER)
    [box] = extras_boxes(modal)
    assert [o["value"] for o in box["element"]["options"]] == ["fast", "rev"]
    assert "80.00" in text_of(modal) and "includes Non-disclosure agreement" in text_of(modal)
    await world.submit(BUYER, modal, {box["block_id"]: payloads.checkboxes_value(["rev"])})
    [order] = world.gig.queries.orders(None, BUYER)
    assert order.terms.total == 7000 + 1000 + 500 and order.terms.nda
