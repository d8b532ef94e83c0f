"""Bolt listeners: Slack's slash command, button clicks and modal submissions into core commands.

Every listener acknowledges first (Slack allows 3 seconds) and works after, except a modal's
submission, whose ack carries the errors shown in the modal: there the command runs first, which
takes milliseconds. Who is acting, in which community, is resolved once per request by a middleware.
"""

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.db.places import Places
from adapters.db.queries import Queries
from adapters.slack import blocks as b
from adapters.slack.actors import SlackActors
from adapters.slack.files import SlackFiles
from adapters.slack.forms import (
    DRAFT_FILES,
    FORMS,
    SHARED,
    Extra,
    FieldError,
    Form,
    Values,
    request_key,
    requirements_form,
)
from adapters.slack.gig import GigCommands
from adapters.slack.guard import guarded, unreadable_view
from adapters.slack.home import home_view
from adapters.terms_text import parse_extra
from adapters.text import money
from adapters.web.uploads import UploadLinks
from core import commands as c
from core.actor import Actor
from core.buttons import decode
from core.community import Community
from core.engine import Outcome
from core.errors import Refused
from core.lifecycle import Action
from core.order import Order
from core.order_parts import DeliveryKind
from core.ports import Clock, FileTooLarge
from core.terms import Service
from core.words import plural

log = logging.getLogger(__name__)
BUTTON = re.compile(r"^gr1:")
DIRECT = {Action.ACCEPT_ORDER: c.AcceptOrder, Action.ACCEPT_DELIVERY: c.AcceptDelivery,
          Action.ALREADY_SENT: c.ConfirmAlreadySent, Action.WITHDRAW_PROBLEM: c.WithdrawProblem,
          Action.CANCEL_LATE: c.CancelLateOrder}


class Runtime(Protocol):
    clock: Clock
    queries: Queries
    uploads: UploadLinks

    async def handle(self, command: c.Command) -> Outcome: ...

    def community(self, platform: str, external_id: str, name: str, admins: tuple[str, ...] = ()) -> Community: ...

    def invoice(self, order: Order, viewer: str = "") -> bytes: ...


class SlackListeners:
    """Registers gigroom's listeners on a Bolt AsyncApp."""

    def __init__(self, runtime: Runtime, files: SlackFiles, places: Places, admins: frozenset[str] = frozenset()) -> None:
        self.runtime, self.files, self.places, self.admins = runtime, files, places, admins
        self.actors = SlackActors(runtime, admins)
        self.gig = GigCommands(self)

    def register(self, app: AsyncApp) -> None:
        app.use(self.actors.middleware)  # who is acting, an admin or not: once per request
        app.command("/gig")(guarded(self.gig.on_command))
        app.action(BUTTON)(guarded(self.on_button))
        app.action(re.compile(rf"^{b.ORDER_LISTING}:"))(guarded(self.on_order_listing))
        app.action(re.compile(rf"^{b.OFFER_BUTTON}:"))(guarded(self.on_offer_button))
        app.action(re.compile(rf"^{b.NET_BUTTON}:"))(guarded(self.on_earnings))
        app.view(BUTTON)(guarded(self.on_form))
        app.view(b.LISTING_CALLBACK)(guarded(self.on_listing))
        app.view(b.OFFER_CALLBACK)(guarded(self.on_offer))
        app.view(b.ORDER_EXTRAS_CALLBACK)(guarded(self.on_order_extras))
        app.view(b.OFFER_EXTRAS_CALLBACK)(guarded(self.on_offer_extras))
        app.event("app_home_opened")(guarded(self.on_home))
        app.event("message")(guarded(self.on_message))

    async def currency(self, actor: Actor) -> str:
        """The currency of the actor's community: new listings and offers are priced in it."""
        community = await asyncio.to_thread(self.runtime.queries.community, actor.community_id)
        return community.policy.currency if community else "USD"

    # ---- buttons on boards and updates ------------------------------------------------------------------------
    async def on_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext,
                        client: AsyncWebClient, respond: Any) -> None:
        await ack()
        actor: Actor = context["actor"]
        try:
            button = decode(action.get("action_id", ""))
            order = await self.order_for(actor, button.order_id)
            order.check_read(actor)  # every click reads the order first: the one rule for every read
            if Action(button.action) not in (Action.DOWNLOAD_INVOICE,):
                order.check(button.action, actor, self.runtime.clock.now())
            await self._act(button.action, order, actor, body, client, respond)
        except ValueError:
            await self.tell(body, client, actor, "That button is not one of gigroom's.", respond)
        except Refused as refusal:
            await self.tell(body, client, actor, refusal.reason, respond)

    async def _act(self, action: Action, order: Order, actor: Actor, body: dict[str, Any], client: AsyncWebClient,
                   respond: Any) -> None:
        if action in DIRECT:
            await self.runtime.handle(DIRECT[action](actor=actor, order_id=order.id, key=request_key(body)))
        elif action is Action.DOWNLOAD_INVOICE:
            await self._send_invoice(order, actor, client, body, respond)
        else:
            form = requirements_form(order.terms.questions) if action is Action.SUBMIT_REQUIREMENTS else FORMS.get(action)
            if form is None:
                raise Refused("gigroom has no form for that yet.")
            choices: dict[str, tuple[tuple[str, str], ...]] = {}
            initial: dict[str, str | list[str]] = {}
            notes: tuple[str, ...] = ()
            if any(f.key == SHARED for f in form.fields):
                choices[SHARED] = await self._shared_files(client, order, actor)
                choices["options"], initial = _reopen_draft(form, order)
                link = self.runtime.uploads.link(actor, order.id)
                notes = (f"A file larger than Slack takes (up to {order.policy.max_file_bytes / 1e9:.1f} GB)? "
                         f"<{link}|Upload it on gigroom's page>: it joins your draft. Or give a link above.",)
            await client.views_open(trigger_id=body["trigger_id"], view=b.form_modal(
                form, f"gr1:{action.value}:{order.id}", order.id, order.terms.title, choices, initial, notes))

    async def _shared_files(self, client: AsyncWebClient, order: Order, actor: Actor) -> tuple[tuple[str, str], ...]:
        """The files the actor shared in the order's channel, newest first: what a delivery can pick from."""
        place = await asyncio.to_thread(self.places.get, order.id)
        if place is None:
            return ()
        return await self.files.shared_in(client, place.channel_id, actor.user_id)

    async def _send_invoice(self, order: Order, actor: Actor, client: AsyncWebClient, body: dict[str, Any],
                            respond: Any) -> None:
        order.check_read(actor)
        pdf = await asyncio.to_thread(self.runtime.invoice, order, actor.user_id)
        what = "statement" if actor.user_id == order.seller_id else "invoice"
        dm = await client.conversations_open(users=actor.user_id)
        await client.files_upload_v2(channel=dm["channel"]["id"], content=pdf, filename=f"{what}-{order.id}.pdf",
                                     title=f"{what.capitalize()} for order {order.id}")
        await self.tell(body, client, actor, f"The invoice for order {order.id} is in your direct messages.", respond)

    async def on_earnings(self, ack: Any, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext,
                          client: AsyncWebClient, respond: Any) -> None:
        """The seller's figures for one order, shown to the seller (or an admin) only."""
        await ack()
        actor: Actor = context["actor"]
        try:
            order = await self.order_for(actor, action.get("action_id", "").rpartition(":")[2])
            order.check_read(actor)
            if actor.user_id != order.seller_id and not actor.is_admin:
                raise Refused("Only the seller sees an order's earnings.")
            await self.tell(body, client, actor, earnings_text(order), respond)
        except Refused as refusal:
            await self.tell(body, client, actor, refusal.reason, respond)

    async def on_order_listing(self, ack: Any, body: dict[str, Any], action: dict[str, Any],
                               context: AsyncBoltContext, client: AsyncWebClient, respond: Any) -> None:
        """A browse button: a listing with extras opens a modal to tick them in; one without is ordered at once."""
        await ack()
        actor: Actor = context["actor"]
        listing_id = action.get("value", "")
        try:
            listing = await asyncio.to_thread(self.runtime.queries.listing, listing_id.upper())
            if listing is not None and listing.community_id == actor.community_id and listing.service.extras:
                await client.views_open(trigger_id=body["trigger_id"], view=b.extras_modal(
                    listing.service, listing.seller_id, b.ORDER_EXTRAS_CALLBACK, listing.id))
                return
            await self.runtime.handle(c.PlaceOrder(actor=actor, listing_id=listing_id, key=request_key(body)))
        except Refused as refusal:
            await self.tell(body, client, actor, refusal.reason, respond)

    async def on_order_extras(self, ack: Any, body: dict[str, Any], view: dict[str, Any],
                              context: AsyncBoltContext) -> None:
        """The extras modal's submission: the listing ordered with the extras ticked, or the refusal in the modal."""
        await self._extras_submitted(ack, body, view, lambda actor, extras, key: c.PlaceOrder(
            actor=actor, listing_id=view.get("private_metadata") or "", extras=extras, key=key), context["actor"])

    async def on_offer_extras(self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext,
                              client: AsyncWebClient) -> None:
        """An offer's extras modal: the offer accepted with the extras ticked added, or the refusal in the modal."""
        offer_id, actor = view.get("private_metadata") or "", context["actor"]
        outcome = await self._extras_submitted(ack, body, view, lambda actor, extras, key: c.AnswerOffer(
            actor=actor, offer_id=offer_id, accept=True, extras=extras, key=key), actor)
        if outcome is not None:
            await self.tell(body, client, actor, f"Order {outcome.ref} placed from offer {offer_id}.")

    async def _extras_submitted(self, ack: Any, body: dict[str, Any], view: dict[str, Any],
                                make: Callable[[Actor, tuple[str, ...], str], c.Command], actor: Actor) -> Outcome | None:
        """Run the command for the extras ticked before the ack: a refusal is shown in the modal, under the extras."""
        extras = b.chosen_extras(view, read_values(view).chosen)
        try:
            outcome = await self.runtime.handle(make(actor, extras, request_key(body)))
        except Refused as refusal:
            await ack(response_action="errors", errors={f"{b.EXTRAS_BLOCK}-0": refusal.reason})
            return None
        await ack()
        return outcome

    # ---- modals --------------------------------------------------------------------------------------------
    async def on_form(self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext,
                      client: AsyncWebClient) -> None:
        actor: Actor = context["actor"]
        try:
            button = decode(view.get("callback_id", ""))
            order = await self.order_for(actor, button.order_id)
        except (ValueError, Refused) as error:
            await ack(response_action="update", view=unreadable_view(
                getattr(error, "reason", "That form is not one of gigroom's: nothing was changed.")))
            return
        form = requirements_form(order.terms.questions) if button.action is Action.SUBMIT_REQUIREMENTS \
            else FORMS.get(button.action)
        if form is None:
            await ack(response_action="update", view=unreadable_view("gigroom has no form for that: nothing was changed."))
            return
        values = read_values(view)
        shared = [*({"id": file_id} for file_id in values.chosen(SHARED)), *(values.data.get("files") or [])]
        if shared:  # copying files can take longer than Slack waits for the ack: say so, copy, then answer
            await ack(response_action="update", view=b.modal(form.title, form.submit, [b.section(
                "Copying your files into gigroom…")], callback_id="gig:busy"))
            error = await self._submit(form, actor, order, values, shared, client, request_key(body))
            done = error[1] if error else "Done: the order's channel has the update."
            await client.views_update(view_id=view["id"], view=b.modal(form.title, "Close", [b.section(done)],
                                                                       callback_id="gig:done"))
            return
        error = await self._submit(form, actor, order, values, [], client, request_key(body))
        if error:
            await ack(response_action="errors", errors={_error_block(form, error): error[1]})
        else:
            await ack()

    async def _submit(self, form: Form, actor: Actor, order: Order, values: Values, shared: list[dict[str, Any]],
                      client: AsyncWebClient, key: str) -> Any:
        """Run the form's command; None, or (block_id, message) saying what was wrong."""
        try:
            limit = order.policy.max_file_bytes
            files = tuple([await self.files.copy(client, item, limit) for item in shared])
            draft = order.draft.files if order.draft else ()
            command = form.build(actor, order.id, values, Extra(order.terms.currency, files, draft))
            await self.runtime.handle(replace(command, key=key))
        except FieldError as error:
            return error.block_id, error.message
        except FileTooLarge as error:
            return "files", str(error)
        except Refused as refusal:
            return _refusal_block(form, refusal), refusal.reason
        return None

    async def on_listing(self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        listing_id = view.get("private_metadata") or ""

        def command(actor: Actor, service: Service, values: Values) -> c.Command:
            if listing_id:
                return c.UpdateListing(actor=actor, listing_id=listing_id, service=service, key=request_key(body))
            return c.CreateListing(actor=actor, service=service, key=request_key(body))

        await self._service_form(ack, view, context["actor"], command)

    async def on_offer(self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        def command(actor: Actor, service: Service, values: Values) -> c.Command:
            if not values.text("buyer"):
                raise FieldError("buyer", "Choose the buyer this offer is for.")
            return c.MakeOffer(actor=actor, buyer_id=values.text("buyer"), service=service, key=request_key(body))

        await self._service_form(ack, view, context["actor"], command, _offer_block)

    async def _service_form(self, ack: Any, view: dict[str, Any], actor: Actor,
                            command: Callable[[Actor, Service, Values], c.Command],
                            blame: Callable[[Refused], str] | None = None) -> None:
        """A listing's or an offer's modal: its service read and its command run before the ack, errors in it."""
        values = read_values(view)
        try:
            await self.runtime.handle(command(actor, listing_service(values, await self.currency(actor)), values))
        except FieldError as error:
            await ack(response_action="errors", errors={error.block_id: error.message})
            return
        except Refused as refusal:
            await ack(response_action="errors", errors={(blame or _listing_block)(refusal): refusal.reason})
            return
        await ack()

    async def on_offer_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any],
                              context: AsyncBoltContext, client: AsyncWebClient, respond: Any) -> None:
        await ack()
        actor: Actor = context["actor"]
        _, _, which, offer_id = (action.get("action_id", "") + ":::").split(":")[:4]
        try:
            if which == "w":
                await self.runtime.handle(c.WithdrawOffer(actor=actor, offer_id=offer_id, key=request_key(body)))
            elif which in ("a", "d"):
                if which == "a" and await self._choose_offer_extras(actor, offer_id, body, client):
                    return
                outcome = await self.runtime.handle(c.AnswerOffer(actor=actor, offer_id=offer_id, accept=which == "a",
                                                                  key=request_key(body)))
                if which == "a":
                    await self.tell(body, client, actor, f"Order {outcome.ref} placed from offer {offer_id}.", respond)
            else:
                raise Refused("That button is not one of gigroom's.")
        except Refused as refusal:
            await self.tell(body, client, actor, refusal.reason, respond)

    async def _choose_offer_extras(self, actor: Actor, offer_id: str, body: dict[str, Any],
                                   client: AsyncWebClient) -> bool:
        """An offer with extras to add opens a modal to tick them, once the core says this buyer may answer it now;
        False for one without, accepted at once (an unknown offer is left to the core's refusal)."""
        offer = await asyncio.to_thread(self.runtime.queries.offer, offer_id)
        if offer is None or offer.community_id != actor.community_id or not offer.addable:
            return False
        offer.check_answer(actor.user_id, self.runtime.clock.now())
        await client.views_open(trigger_id=body["trigger_id"], view=b.extras_modal(
            offer.service, offer.seller_id, b.OFFER_EXTRAS_CALLBACK, offer.id, "Accept offer", offer.extras))
        return True

    # ---- events ------------------------------------------------------------------------------------------
    async def on_home(self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        actor: Actor = context["actor"]
        view = await asyncio.to_thread(self._home, actor)
        await client.views_publish(user_id=actor.user_id, view=view)

    def _home(self, actor: Actor) -> dict[str, Any]:
        queries = self.runtime.queries
        orders = queries.read_orders(actor, limit=100)
        places = self.places.of_orders([o.id for o in orders])
        return home_view(actor.user_id, orders, queries.balances(actor.community_id, actor.user_id),
                         queries.listings(actor.community_id, actor.user_id, False), places, self.runtime.clock.now())

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """A person's message in an order's channel goes into the order's record: its chat transcript."""
        if event.get("subtype") not in (None, "file_share") or event.get("bot_id") or event.get("thread_ts"):
            return
        place = await asyncio.to_thread(self.places.by_channel, event.get("channel", ""))
        text = (event.get("text") or "").strip() or " ".join(f"[file {f.get('name', '')}]" for f in event.get("files", []))
        if place is None or place.archived or not text:
            return
        actor: Actor = context["actor"]
        if actor.community_id != place.community_id:
            return
        try:
            await self.runtime.handle(c.PostMessage(actor=actor, order_id=place.order_id, text=text[:3000],
                                                    key=f"slack:event:{body.get('event_id', event.get('ts'))}"))
        except Refused as refusal:  # someone the order does not concern, or a message too long: not in the record
            log.info("message in %s not recorded: %s", place.channel_id, refusal.reason)

    # ---- helpers -------------------------------------------------------------------------------------------
    async def order_for(self, actor: Actor, order_id: str) -> Order:
        order = await asyncio.to_thread(self.runtime.queries.order, order_id.upper())
        if order is None or order.community_id != actor.community_id:
            raise Refused(f"There is no order {order_id} here.")
        return order

    async def tell(self, body: dict[str, Any], client: AsyncWebClient, actor: Actor, text: str,
                   respond: Any = None) -> None:
        """A private answer: in place of the click where Slack allows it, else a direct message."""
        if respond is not None and body.get("response_url"):
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        dm = await client.conversations_open(users=actor.user_id)
        await client.chat_postMessage(channel=dm["channel"]["id"], text=text)


def earnings_text(order: Order) -> str:
    t, cur = order.terms, order.terms.currency
    lines = [f"*Your earnings on order {order.id}* (only you see this)",
             f"Order total {money(t.total, cur)}, the community's fee {money(t.fee, cur)}: "
             f"your forecast net earnings are *{money(t.net, cur)}*."]
    if order.pending and order.clears_at:
        lines.append(f"{money(order.pending, cur)} is clearing: available on {order.clears_at:%Y-%m-%d %H:%M} UTC.")
    if order.tips:
        lines.append(f"Tips: {money(order.tips, cur)}.")
    return "\n".join(lines)


def _reopen_draft(form: Form, order: Order) -> tuple[tuple[tuple[str, str], ...], dict[str, str | list[str]]]:
    """A saved draft reopens in the work form: its description and links filled in, its files and kind ticked."""
    options = next(f.options for f in form.fields if f.key == "options")
    draft = order.draft
    if draft is None:
        return options, {}
    ticked = ["final"] if draft.kind is DeliveryKind.FINAL else []
    if draft.files:
        options = ((DRAFT_FILES, f"Keep the saved draft's {plural(len(draft.files), 'file')}"), *options)
        ticked.append(DRAFT_FILES)
    return options, {"description": draft.description, "links": "\n".join(draft.links), "options": ticked}


def _error_block(form: Form, error: tuple[str, str]) -> str:
    block_id, _ = error
    if block_id:
        return block_id
    return next((f.key for f in form.fields if f.kind != "files"), form.fields[0].key)


_FORM_INPUTS = {"confirm_no_file": "options", "from_draft": "options"}  # the command's field -> the modal's input


def _refusal_block(form: Form, refusal: Refused) -> str:
    """The modal's input that fixes a refusal, from the field the core names; "" when the form has none."""
    key = _FORM_INPUTS.get(refusal.field, refusal.field)
    return key if any(f.key == key for f in form.fields) else ""


_LISTING_BLOCKS = {"title", "description", "price", "delivery_days", "deliveries", "extras", "questions", "licence"}


def _offer_block(refusal: Refused) -> str:
    return "buyer" if refusal.field == "buyer_id" else _listing_block(refusal)


def _listing_block(refusal: Refused) -> str:
    """The modal's input that fixes a refusal: the core names the field, no words are matched."""
    return refusal.field if refusal.field in _LISTING_BLOCKS else "title"


def read_values(view: dict[str, Any]) -> Values:
    """A submitted modal's inputs, by block id: text, the chosen option values, or the files."""
    found: dict[str, Any] = {}
    for block_id, inputs in ((view.get("state") or {}).get("values") or {}).items():
        for element in inputs.values():
            kind = element.get("type")
            if kind == "plain_text_input":
                found[block_id] = element.get("value") or ""
            elif kind in ("static_select", "radio_buttons"):
                found[block_id] = ((element.get("selected_option") or {}).get("value")) or ""
            elif kind == "checkboxes":
                found[block_id] = [o.get("value") for o in element.get("selected_options") or []]
            elif kind == "users_select":
                found[block_id] = element.get("selected_user") or ""
            elif kind == "file_input":
                found[block_id] = list(element.get("files") or [])
    return Values(found)


def _whole(values: Values, key: str, what: str) -> int:
    try:
        return int(values.text(key))
    except ValueError:
        raise FieldError(key, f"{what} is a whole number.") from None


def listing_service(values: Values, currency: str) -> Service:
    price = Values({"price": values.text("price")}).amount("price", currency)
    extras = []
    for line in values.lines("extras"):
        try:
            extras.append(parse_extra(line, currency))
        except (ValueError, Refused) as error:
            raise FieldError("extras", getattr(error, "reason", str(error))) from None
    return Service(title=values.text("title"), description=values.text("description"), price=price, currency=currency,
                   delivery_days=_whole(values, "delivery_days", "The delivery time"),
                   deliveries=_whole(values, "deliveries", "The number of deliveries") if values.text("deliveries")
                   else 1, licence=values.text("licence") or "Personal use", extras=tuple(extras),
                   questions=values.lines("questions"))
