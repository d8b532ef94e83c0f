"""Order updates into Slack: each order's private channel, its board kept in place, direct messages.

Before the seller accepts, an order has no channel: its updates go to the buyer and the seller
directly. On acceptance the order gets a private channel named after it, with both parties invited
and the board pinned in it; each update is posted there and the board is edited in
place. Whoever owes the next action gets a direct message with their buttons. When the order ends
its channel is archived; the record stays. The relay calls `deliver` at least once per event: a
failure here (Slack down, rate limited past the client's retries) is retried later, nothing lost.
"""

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.db.places import Place, Places, Sends
from adapters.db.queries import Queries
from adapters.relay import RetryLater, Undeliverable
from adapters.slack import blocks as b
from adapters.text import describe, money
from core import events as ev
from core.actor import Actor
from core.lifecycle import Role
from core.order import Order
from core.ports import Clock
from core.views import BoardButton, board

log = logging.getLogger(__name__)
PLATFORM = "slack"
NAME_MAX = 80
# Errors no retry can change: the channel or the person is gone, the app was uninstalled or lost a scope.
REFUSED_FOR_GOOD = frozenset({"channel_not_found", "is_archived", "not_in_channel", "invalid_auth", "account_inactive",
                              "token_revoked", "missing_scope", "team_not_found"})
DM_GONE = frozenset({"user_not_found", "user_disabled", "cannot_dm_bot"})  # that person cannot be written to
ClientFor = Callable[[str], Awaitable[AsyncWebClient]]  # a workspace's team id -> a client with its bot token


def channel_name(order: Order, attempt: int = 0) -> str:
    """A readable, valid, unique name: lowercase letters, digits and hyphens, at most 80 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", order.terms.title.lower()).strip("-")
    suffix = f"-{attempt + 1}" if attempt else ""
    name = f"order-{order.id.lower()}-{slug}".strip("-")
    return name[: NAME_MAX - len(suffix)].rstrip("-") + suffix


@dataclass
class Attempt:
    """One try at showing an event: the steps an earlier try already did are not done again.

    Each step is recorded as soon as it is done, before the next one starts: a retry after a
    failure, and a restart after a crash (even a SIGKILL, which runs no handler), repeats none.
    """

    client: AsyncWebClient
    done: set[str]
    record: Callable[[str], Awaitable[None]]

    def did(self, step: str) -> bool:
        return step in self.done

    async def mark(self, step: str) -> None:
        self.done.add(step)
        await self.record(step)

    async def once(self, step: str, action: Callable[[], Awaitable[object]]) -> None:
        if not self.did(step):
            await action()
            await self.mark(step)


class SlackSink:
    platform = PLATFORM

    def __init__(self, client_for: ClientFor, queries: Queries, places: Places, clock: Clock) -> None:
        self.client_for, self.queries, self.places, self.clock = client_for, queries, places, clock
        self.sends = Sends(places.database, PLATFORM)

    async def deliver(self, event: ev.Event) -> None:
        """Show an event; the steps done are kept as they are done, and the relay's next try skips them.

        What Slack refuses for good (the channel deleted, the app uninstalled) is `Undeliverable`: the
        relay keeps it as a dead letter instead of retrying it; a rate limit past the client's own
        retries is retried after the time Slack asked for.
        """
        platform, _, team_id = event.community_id.partition(":")
        if platform != PLATFORM:
            return
        key = hashlib.sha256(repr(event).encode()).hexdigest()

        async def record(step: str) -> None:
            await asyncio.to_thread(self.sends.keep, key, {step}, self.clock.now())

        attempt = Attempt(await self.client_for(team_id), await asyncio.to_thread(self.sends.done, key), record)
        try:
            await self._show(attempt, event)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code in REFUSED_FOR_GOOD:
                raise Undeliverable(f"Slack refused it for good: {code}") from error
            if error.response.status_code == 429:
                raise RetryLater(f"rate limited by Slack: {code or 429}",
                                 float(error.response.headers.get("Retry-After", 0) or 0)) from error
            raise

    async def _show(self, attempt: Attempt, event: ev.Event) -> None:
        if isinstance(event, ev.OrderEvent):
            await self._order_event(attempt, event)
        elif isinstance(event, ev.ListingSaved):
            verb = "created" if event.created else "saved"
            state = "takes orders" if event.active else "is paused"
            await self._dm(attempt, event.seller_id, f"Listing {event.listing_id} ({event.title}) {verb}: it {state}.")
        elif isinstance(event, ev.WithdrawalRequested | ev.WithdrawalPaid):
            await self._dm(attempt, event.seller_id, describe(event, b.mention))
        elif isinstance(event, ev.OfferMade):
            text = describe(event, b.mention)
            await self._dm(attempt, event.buyer_id, text, blocks=[b.section(text), b.offer_buttons(event.offer_id, "ad")])
            await self._dm(attempt, event.seller_id, text, blocks=[b.section(text), b.offer_buttons(event.offer_id, "w")])
        elif isinstance(event, ev.OfferClosed):
            for user_id in (event.buyer_id, event.seller_id):
                await self._dm(attempt, user_id, describe(event, b.mention))

    async def _order_event(self, attempt: Attempt, event: ev.OrderEvent) -> None:
        client = attempt.client
        order = await asyncio.to_thread(self.queries.order, event.order_id)
        if order is None:
            return
        place = await asyncio.to_thread(self.places.get, order.id)
        if isinstance(event, ev.MessagePosted) and place is not None:
            return  # written in the order's channel: it is there already, and now in the record too
        if place is None and isinstance(event, ev.OrderAccepted):
            place = await self._open_channel(client, order)
        text = describe(event, b.mention)
        if event.seller_only:
            await self._dm(attempt, order.seller_id, text)
            return
        if place is not None and not place.archived:
            channel = place.channel_id
            await attempt.once("update", lambda: client.chat_postMessage(
                channel=channel, text=text, blocks=b.update_blocks(text, order.id)))
            await self._show_board(attempt, order, place)
            for user_id in event.direct_ids:  # news for them: a direct message too, as the event says
                await self._dm(attempt, user_id, text, step="direct")
        else:
            for user_id in dict.fromkeys((order.buyer_id, order.seller_id)):
                await self._dm(attempt, user_id, text)
        for owed in event.owed:
            if not order.readable(Actor(order.community_id, owed.user_id)):
                continue  # a direct message about an order is a read of it: only for those who may read it
            where = f" in <#{place.channel_id}>" if place is not None and not place.archived else ""
            note = f"Your turn on order {order.id} ({order.terms.title}){where}: {owed.what}."
            if owed.user_id == order.seller_id and isinstance(event, ev.OrderPlaced | ev.RequirementsSubmitted):
                note += f" Your net earnings after the community's fee: {money(order.terms.net, order.terms.currency)}."
            await self._dm(attempt, owed.user_id, note, self._buttons(order, owed.user_id), step="owed")
        if order.workspace_done and place is not None and not place.archived:
            await self._archive(client, order.id, place)

    def _buttons(self, order: Order, user_id: str) -> tuple[BoardButton, ...]:
        return board(order, Actor(order.community_id, user_id), self.clock.now()).buttons

    def board_blocks(self, order: Order) -> list[b.Block]:
        now = self.clock.now()
        seen_by = {Role.BUYER: Actor(order.community_id, order.buyer_id),
                   Role.SELLER: Actor(order.community_id, order.seller_id)}
        shared = board(order, seen_by[Role.BUYER], now)
        by_role = {role: board(order, who, now).buttons for role, who in seen_by.items()}
        return b.board_blocks(shared, by_role)

    async def _show_board(self, attempt: Attempt, order: Order, place: Place) -> None:
        """Edit the board in place; the first time, post it and pin it, found at the channel's top."""
        client = attempt.client
        text = f"Order {order.id}: {order.terms.title}, {order.state.label}, {money(order.terms.total, order.terms.currency)}"
        blocks = self.board_blocks(order)
        board_ref = place.board_ref
        if board_ref:
            await client.chat_update(channel=place.channel_id, ts=board_ref, text=text, blocks=blocks)
        else:
            posted = await client.chat_postMessage(channel=place.channel_id, text=text, blocks=blocks)
            board_ref = posted["ts"]
            await asyncio.to_thread(self.places.set_board, order.id, board_ref)
            await attempt.mark("board")
        if attempt.did("board"):
            await attempt.once("pin", lambda: client.pins_add(channel=place.channel_id, timestamp=board_ref))

    async def _open_channel(self, client: AsyncWebClient, order: Order) -> Place:
        for attempt in range(5):
            try:
                made = await client.conversations_create(name=channel_name(order, attempt), is_private=True)
                break
            except SlackApiError as error:
                if error.response.get("error") != "name_taken":
                    raise
        else:
            made = await client.conversations_create(name=channel_name(order, 99), is_private=True)
        channel_id = made["channel"]["id"]
        place = await asyncio.to_thread(self.places.add, order.id, order.community_id, channel_id, self.clock.now())
        try:
            await client.conversations_invite(channel=place.channel_id, users=f"{order.buyer_id},{order.seller_id}")
        except SlackApiError as error:
            if error.response.get("error") != "already_in_channel":
                raise
        return place

    async def _archive(self, client: AsyncWebClient, order_id: str, place: Place) -> None:
        try:
            await client.conversations_archive(channel=place.channel_id)
        except SlackApiError as error:
            if error.response.get("error") != "already_archived":
                raise
        await asyncio.to_thread(self.places.set_archived, order_id)

    async def _dm(self, attempt: Attempt, user_id: str, text: str, buttons: tuple[BoardButton, ...] = (),
                  blocks: list[b.Block] | None = None, step: str = "dm") -> None:
        client = attempt.client
        order_id = buttons[0].id.split(":")[2] if buttons else "dm"

        async def send() -> None:
            try:
                dm = await client.conversations_open(users=user_id)
                await client.chat_postMessage(channel=dm["channel"]["id"], text=text,
                                              blocks=blocks or b.update_blocks(text, order_id, buttons))
            except SlackApiError as error:
                if error.response.get("error") not in DM_GONE:
                    raise
                log.warning("no direct message to %s: %s", user_id, error.response.get("error"))

        await attempt.once(f"{step}:{user_id}", send)
