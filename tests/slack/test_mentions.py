"""People in Slack's messages are mentions (`<@U…>`, which Slack shows as their name), never raw user ids."""

import json
import re
from datetime import timedelta

import pytest

from core import commands as c
from core import events as ev
from core.actor import Actor
from core.order_parts import Resolution
from tests.samples import every_event
from tests.slack.test_order_flow import make_listing
from tests.slack.world import ADMIN, BUYER, SELLER, World, text_of

pytestmark = pytest.mark.timeout(60)

IDS = (SELLER, BUYER, ADMIN)


def posted(world: World) -> list[str]:
    """Every message gigroom posted or edited on the stand-in: its text and its blocks' texts."""
    found = []
    for call in world.slack.calls_to("chat.postMessage") + world.slack.calls_to("chat.update"):
        blocks = call.params.get("blocks") or []
        found.append(text_of({"text": call.params.get("text", ""),
                              "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks}))
    return found


def raw_ids(text: str) -> list[str]:
    """The user ids a text shows outside a mention."""
    bare = re.sub(r"<@[A-Z0-9]+>", "", text)
    return [user_id for user_id in IDS if user_id in bare]


async def test_every_event_sentence_a_slack_user_sees_mentions_people_and_shows_no_raw_user_id(world: World) -> None:
    listing_id = await make_listing(world, questions="")
    await world.command(BUYER, f"order {listing_id}")
    [order] = world.gig.queries.orders(None, BUYER)
    sink, now = world.side.sink, world.gig.clock.now()
    known = {"order_id": order.id, "community_id": order.community_id, "buyer_id": BUYER, "seller_id": SELLER,
             "author_id": BUYER, "admin_id": ADMIN, "user_id": SELLER, "currency": "USD", "rating": 5}
    # before acceptance (direct messages to both parties), then in the order's channel that acceptance opens
    before = [e for e in every_event(known, now) if not isinstance(e, ev.OrderAccepted)]
    shown: set[str] = set()
    for round_, events in enumerate((before, every_event(known, now + timedelta(minutes=1)))):
        for event in events:
            seen = len(posted(world))
            await sink.deliver(event)
            if len(posted(world)) > seen:
                shown.add(type(event).__name__)
        if round_ == 0:
            await sink.deliver(next(e for e in every_event(known, now) if isinstance(e, ev.OrderAccepted)))
    texts = posted(world)
    assert texts and not [(t, raw_ids(t)) for t in texts if raw_ids(t)]
    assert shown >= set(ev.EVENT_TYPES) - {"PolicyChanged"}, set(ev.EVENT_TYPES) - shown  # policy: the admin's own
    assert any(f"<@{BUYER}>: the text" in t for t in texts), "a message's author is mentioned"
    assert any(f"<@{SELLER}> made a custom offer" in t and f"to <@{BUYER}>" in t for t in texts)


async def test_withdrawal_and_payout_messages_mention_the_seller(world: World) -> None:
    await world.command(ADMIN, "admin policy clearance 0m")
    listing_id = await make_listing(world, questions="")
    await world.command(BUYER, f"order {listing_id}")
    [order] = world.gig.queries.orders(None, BUYER)
    await world.gig.handle(c.AcceptOrder(actor=Actor(order.community_id, SELLER), order_id=order.id))
    await world.gig.handle(c.Resolve(actor=Actor(order.community_id, ADMIN, is_admin=True), order_id=order.id,
                                     resolution=Resolution.COMPLETE))
    await world.settle()
    await world.command(SELLER, "withdraw 45")
    [withdrawal] = world.gig.queries.withdrawals(None, "requested")
    await world.command(ADMIN, f"admin pay {withdrawal.id} bank-1")
    told = [text_of(m) for m in world.dm(SELLER)]
    assert any(f"<@{SELLER}> asked to withdraw 45.00 USD (withdrawal {withdrawal.id})" in t for t in told), told
    assert any(f"Withdrawal {withdrawal.id} of 45.00 USD to <@{SELLER}> was paid out" in t for t in told), told
    assert not [t for t in told if raw_ids(t)]
