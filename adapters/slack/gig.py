"""`/gig`: one slash command, with subcommands for everyone and `/gig admin ...` for admins.

An unknown or malformed subcommand answers with the help, privately.
"""

import asyncio
import shlex
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as b
from adapters.slack.admin import HELP as ADMIN_HELP
from adapters.slack.admin import AdminCommands
from adapters.slack.forms import Usage, request_key
from adapters.text import money
from core import commands as c
from core.actor import Actor
from core.errors import Refused
from core.lifecycle import OPEN
from core.money import parse_amount

if TYPE_CHECKING:
    from adapters.slack.listeners import SlackListeners

HELP = """*gigroom* runs this workspace's orders. Everything answers privately; your orders are in gigroom's Home tab too.
• `/gig browse`: the listings you can order · `/gig order LISTING [EXTRA ...]`: order one (extras by code)
• `/gig create`: a new listing · `/gig edit LISTING` · `/gig pause LISTING` · `/gig resume LISTING` · `/gig listings`
• `/gig offer`: a custom offer to one buyer · `/gig offers`: the custom offers made to you or by you
• `/gig orders`: your orders, as buyer and as seller
• `/gig balance`: your earnings, clearing and available · `/gig withdraw AMOUNT [CURRENCY]`: ask for a payout
• `/gig admin help`: the admins' commands (policy, orders, problem reports, resolutions, refunds, payouts, export)"""


class GigCommands:
    def __init__(self, listeners: "SlackListeners") -> None:
        self.listeners = listeners
        self.runtime = listeners.runtime
        self.admin = AdminCommands(self)

    async def on_command(self, ack: Any, body: dict[str, Any], command: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient, respond: Any) -> None:
        await ack()
        actor: Actor = context["actor"]
        try:
            words = shlex.split(command.get("text") or "")
        except ValueError:  # an unclosed quote
            await respond(text=f"A quote is not closed.\n{HELP}", response_type="ephemeral")
            return
        name, args = (words[0].lower(), words[1:]) if words else ("help", [])
        handler = getattr(self, f"cmd_{name}", None) if name.isalpha() else None
        try:
            if handler is None:
                raise Usage("" if name == "help" else f"There is no `/gig {name}`.")
            await handler(actor, args, body, client, respond)
        except Usage as usage:
            await respond(text=f"{usage}\n{HELP}".strip(), response_type="ephemeral")
        except Refused as refusal:
            await respond(text=refusal.reason, response_type="ephemeral")

    async def _ask(self, text: str, respond: Any, blocks: list[b.Block] | None = None) -> None:
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    # ---- everyone ------------------------------------------------------------------------------------------
    async def cmd_browse(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.listings, actor.community_id)
        await self._ask("Listings in this workspace", respond, b.listing_blocks(found, actor.user_id))

    async def cmd_order(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                     respond: Any) -> None:
        if not args:
            raise Usage("Which listing? `/gig order LISTING`, with its id from `/gig browse`.")
        outcome = await self.runtime.handle(c.PlaceOrder(actor=actor, listing_id=args[0].upper(),
                                                         extras=tuple(args[1:]), key=request_key(body)))
        await self._ask(f"Order {outcome.ref} placed: its board is in your direct messages.", respond)

    async def cmd_create(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        await client.views_open(trigger_id=body["trigger_id"], view=b.listing_modal(None, await self.listeners.currency(actor)))

    async def cmd_edit(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                    respond: Any) -> None:
        listing = await self._my_listing(actor, args)
        await client.views_open(trigger_id=body["trigger_id"], view=b.listing_modal(listing, listing.service.currency))

    async def cmd_pause(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                     respond: Any) -> None:
        listing = await self._my_listing(actor, args)
        await self.runtime.handle(c.UpdateListing(actor=actor, listing_id=listing.id, active=False, key=request_key(body)))
        await self._ask(f"Listing {listing.id} is paused: it takes no new orders.", respond)

    async def cmd_resume(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        listing = await self._my_listing(actor, args)
        await self.runtime.handle(c.UpdateListing(actor=actor, listing_id=listing.id, active=True, key=request_key(body)))
        await self._ask(f"Listing {listing.id} takes orders again.", respond)

    async def _my_listing(self, actor: Actor, args: list[str]) -> Any:
        if not args:
            raise Usage("Which listing? Give its id, from `/gig browse`.")
        listing = await asyncio.to_thread(self.runtime.queries.listing, args[0].upper())
        if listing is None or listing.community_id != actor.community_id:
            raise Refused(f"There is no listing {args[0]} here.")
        if listing.seller_id != actor.user_id:
            raise Refused(f"Listing {listing.id} is not yours: only its seller can change it.")
        return listing

    async def cmd_listings(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                           respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.listings, actor.community_id, actor.user_id, False)
        if not found:
            await self._ask("You have no listings: `/gig create` makes one.", respond)
            return
        await self._ask("Your listings", respond, b.listing_blocks(found, actor.user_id))

    async def cmd_offer(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                        respond: Any) -> None:
        await client.views_open(trigger_id=body["trigger_id"], view=b.offer_modal(await self.listeners.currency(actor)))

    async def cmd_offers(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                         respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.offers, actor.community_id, actor.user_id,
                                        self.runtime.clock.now())
        if not found:
            await self._ask("No open custom offers to you or from you.", respond)
            return
        await self._ask("Custom offers", respond, b.offer_blocks(found, actor.user_id))

    async def cmd_orders(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.read_orders, actor)
        if not found:
            await self._ask("You have no orders yet: `/gig browse` shows what you can order.", respond)
            return
        lines = [f"`{o.id}` {o.terms.title} · {'buyer' if o.buyer_id == actor.user_id else 'seller'} · "
                 f"{o.state.label}{' (open)' if o.state in OPEN else ''} · {money(o.terms.total, o.terms.currency)}"
                 for o in found[:40]]
        await self._ask("Your orders", respond, [b.section("*Your orders*\n" + "\n".join(lines))])

    async def cmd_balance(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                       respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.balances, actor.community_id, actor.user_id)
        if not found:
            await self._ask("No earnings yet.", respond)
            return
        lines = [f"*{x.currency}*: {money(x.available, x.currency)} available, {money(x.pending, x.currency)} "
                 f"clearing, {money(x.withdrawing, x.currency)} being paid out, {money(x.paid_out, x.currency)} paid out"
                 for x in found]
        await self._ask("Your balance", respond, [b.section("\n".join(lines))])

    async def cmd_withdraw(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                        respond: Any) -> None:
        if not args:
            raise Usage("How much? `/gig withdraw AMOUNT [CURRENCY]`")
        currency = (args[1] if len(args) > 1 else await self.listeners.currency(actor)).upper()
        amount = parse_amount(args[0], currency)
        outcome = await self.runtime.handle(c.RequestWithdrawal(actor=actor, amount=amount, currency=currency,
                                                                key=request_key(body)))
        await self._ask(f"Withdrawal {outcome.ref} of {money(amount, currency)} requested: an admin pays it out.",
                        respond)

    async def cmd_admin(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                     respond: Any) -> None:
        if not actor.is_admin:
            raise Refused("Only this workspace's admins and owners (or the admins gigroom is told of) can do that.")
        try:
            await self.admin.run(actor, args, body, client, respond)
        except Usage as usage:
            await respond(text=f"{usage}\n{ADMIN_HELP}".strip(), response_type="ephemeral")

