"""Block Kit: the board, order updates, listings and the modals, as Slack's JSON.

Every text is cut to Slack's limits here, so a long title or description never makes Slack refuse a
message: sections 3,000 characters, headers 150, buttons 75, modal titles 24.
"""

from collections.abc import Callable
from typing import Any

from adapters.slack.forms import TITLE_MAX, Field, Form
from adapters.text import delivery_lines, money
from core.lifecycle import Action, Role
from core.order_parts import Delivery
from core.terms import Extra, Listing, Offer, Service
from core.views import Board, BoardButton
from core.words import plural

Block = dict[str, Any]
LISTING_CALLBACK = "gig:listing"
OFFER_CALLBACK = "gig:offer"
ORDER_LISTING = "gig:order"  # a browse button: order this listing (its value is the listing id)
NET_BUTTON = "gig:net"  # gig:net:<order id>: the seller's figures, answered to the seller only
OFFER_BUTTON = "gig:offer"  # gig:offer:<a|d|w>:<offer id>, accept, decline or withdraw a custom offer
OFFER_ANSWERS = {"a": "Accept offer", "d": "Decline", "w": "Withdraw offer"}
MAX_BLOCKS = 50
HOME_MAX_BLOCKS = 100


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, 3000) or " "}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def button(label: str, action_id: str, value: str = "", style: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "button", "text": plain(label, 75), "action_id": action_id,
                             "value": value or action_id}
    if style:
        found["style"] = style
    return found


def actions(elements: list[dict[str, Any]], block_id: str | None = None) -> Block:
    found: Block = {"type": "actions", "elements": elements[:25]}
    if block_id:
        found["block_id"] = block_id
    return found


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


_PRIMARY = {Action.ACCEPT_ORDER, Action.DELIVER, Action.ACCEPT_DELIVERY, Action.SUBMIT_REQUIREMENTS,
            Action.LEAVE_REVIEW, Action.SEND_FINAL_WORK}
_DANGER = {Action.DECLINE_ORDER, Action.CANCEL, Action.CANCEL_LATE}


def board_blocks(board: Board, by_role: dict[Role, tuple[BoardButton, ...]], show_net: bool = False) -> list[Block]:
    """An order's board: the shared facts, then each party's buttons under their role."""
    due = board.countdown or "-"
    if board.due_at is not None:  # Slack shows the date in each reader's own time zone
        stamp = int(board.due_at.timestamp())
        due = f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{board.due_at:%Y-%m-%d %H:%M} UTC>\n{due}"
    blocks: list[Block] = [
        header(f"{board.title} · order {board.order_id}"),
        {"type": "section", "fields": [
            mrkdwn(f"*Status*\n{board.status}"), mrkdwn(f"*Due*\n{due}"),
            mrkdwn(f"*Buyer*\n{mention(board.buyer_id)}"), mrkdwn(f"*Seller*\n{mention(board.seller_id)}"),
            mrkdwn(f"*Total*\n{board.total}"),
            mrkdwn(f"*Deliveries*\n{board.deliveries_used} used, {board.deliveries_left} left"),
        ]},
        section("\n".join(f"• {name}: {amount}" for name, amount in board.items) + f"\n*Licence:* {board.licence}"),
    ]
    if show_net and board.net is not None:
        blocks.append(context(f"Your net earnings after the community's fee: *{board.net}* (only you see this)"))
    if board.answers:
        blocks.append(section("*Requirements*\n" + "\n".join(f"• {cut(q, 300)} {cut(a, 1200)}" for q, a in board.answers)))
    for delivery in board.deliveries[-3:]:
        blocks.append(section(_delivery_text(delivery)))
    if board.notes:
        blocks.append(context(*board.notes))
    # a button both parties have with the same label is shown once; a label that differs by viewer, in each row
    shared = set.intersection(*({(x.action, x.label) for x in buttons} for buttons in by_role.values())) if by_role else set()
    rows = [(f"*{role.value.capitalize()}:*", role.value, [x for x in buttons if (x.action, x.label) not in shared])
            for role, buttons in by_role.items()]
    everyone = next(iter(by_role.values()), ())
    rows.append(("*Buyer and seller:*", "both", [x for x in everyone if (x.action, x.label) in shared]))
    for label, key, buttons in rows:
        elements = [button(x.label, x.id, style=_style(x.action)) for x in buttons]
        if key == Role.SELLER.value:
            elements.append(button("My earnings", f"{NET_BUTTON}:{board.order_id}"))
        if elements:
            blocks.append(context(label))
            blocks.append(actions(elements, block_id=f"board:{board.order_id}:{key}"))
    return blocks[:MAX_BLOCKS]


def _style(action: Action) -> str | None:
    return "primary" if action in _PRIMARY else "danger" if action in _DANGER else None


def _delivery_text(delivery: Delivery) -> str:
    kind = "final work" if delivery.final_work else f"delivery {delivery.number} ({delivery.kind.value})"
    return f"*{kind.capitalize()}*\n" + "\n".join(line.strip() for line in delivery_lines(delivery))


def update_blocks(text: str, order_id: str, buttons: tuple[BoardButton, ...] = ()) -> list[Block]:
    blocks = [section(text)]
    if buttons:
        blocks.append(actions([button(b.label, b.id, style=_style(b.action)) for b in buttons],
                              block_id=f"update:{order_id}"))
    return blocks


def listing_blocks(listings: list[Listing], viewer: str) -> list[Block]:
    if not listings:
        return [section("No listings yet. A seller creates one with `/gig create`.")]
    blocks: list[Block] = []
    for listing in listings[:15]:
        s = listing.service
        extras = ""
        if s.extras:
            extras = (f"\n*Extras* (to order one by its code: `/gig order {listing.id} {s.extras[0].code}`):"
                      + "".join(f"\n• `{e.code}` {extra_text(e, s.currency)}" for e in s.extras))
        text = (f"*{s.title}* · {money(s.price, s.currency)} · {plural(s.delivery_days, 'day')} · "
                f"{plural(s.deliveries, 'delivery', 'deliveries')} · by {mention(listing.seller_id)}\n"
                f"{cut(s.description, 500)}{extras}\n`{listing.id}`")
        if not listing.active:
            text += " · paused"
        block = section(text)
        if listing.seller_id != viewer and listing.active:
            block["accessory"] = button("Order", f"{ORDER_LISTING}:{listing.id}", listing.id, "primary")
        blocks.append(block)
    return blocks


def extra_text(extra: Extra, currency: str) -> str:
    """An extra as a buyer weighs it: its name, what it adds to the price, and what else it changes."""
    changes = [f"{abs(extra.days)} day{'s' if abs(extra.days) != 1 else ''} {'sooner' if extra.days < 0 else 'more'}"
               if extra.days else "",
               f"{extra.deliveries} more deliver{'ies' if extra.deliveries != 1 else 'y'}" if extra.deliveries else "",
               "with an NDA" if extra.nda else ""]
    said = ", ".join(change for change in changes if change)
    return f"{extra.name}: +{money(extra.price, currency)}" + (f" ({said})" if said else "")


EXTRAS_BLOCK = "extras"  # extras-0, extras-1, ...: one checkbox list per ten extras, Slack's most in one
ORDER_EXTRAS_CALLBACK = "gig:order-extras"  # the Order button's modal; its private_metadata is the listing id
OFFER_EXTRAS_CALLBACK = "gig:offer-extras"  # an offer's Accept button's modal; its private_metadata is the offer id


def extras_modal(service: Service, seller_id: str, callback_id: str, metadata: str,
                 submit: str = "Place order", included: tuple[str, ...] = ()) -> dict[str, Any]:
    """A modal in which the buyer ticks the extras to order with a service: their prices are added to its own.
    `included` are the codes of the extras a custom offer already holds: in its price, not offered again."""
    kept = [e for e in service.extras if e.code in included]
    addable = [e for e in service.extras if e.code not in included]
    price = service.price + sum(e.price for e in kept)
    holds = f" · includes {', '.join(e.name for e in kept)}" if kept else ""
    intro = section(f"*{service.title}* · {money(price, service.currency)}{holds} · by {mention(seller_id)}\n"
                    "Tick the extras you want: each one's price is added to the total paid into escrow.")
    fields = [Field(f"{EXTRAS_BLOCK}-{n}", "Extras" if n == 0 else "More extras", "checkboxes", optional=True,
                    options=tuple((e.code, extra_text(e, service.currency)) for e in addable[start:start + 10]))
              for n, start in enumerate(range(0, len(addable), 10))]
    return modal(f"Order {service.title}", submit, [intro, *(input_block(f) for f in fields)], callback_id, metadata)


def chosen_extras(view: dict[str, Any], chosen: Callable[[str], list[str]]) -> tuple[str, ...]:
    """The codes ticked in an extras modal, in the order the modal lists them."""
    blocks = [blk.get("block_id", "") for blk in view.get("blocks") or [] if isinstance(blk, dict)]
    return tuple(code for block_id in blocks if block_id.startswith(f"{EXTRAS_BLOCK}-") for code in chosen(block_id))


# ---- modals --------------------------------------------------------------------------------------------
def modal(title: str, submit: str, blocks: list[Block], callback_id: str, metadata: str = "") -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": plain(title, TITLE_MAX),
            "submit": plain(submit, TITLE_MAX), "close": plain("Cancel", TITLE_MAX), "blocks": blocks[:100],
            "private_metadata": metadata[:3000]}


def input_block(field: Field, initial: str | list[str] = "", options: tuple[tuple[str, str], ...] = ()) -> Block:
    element: dict[str, Any]
    options = options or field.options
    if field.kind in ("text", "multiline"):
        element = {"type": "plain_text_input", "action_id": field.key, "multiline": field.kind == "multiline",
                   "max_length": field.max_length}
        if field.placeholder:
            element["placeholder"] = plain(field.placeholder, 150)
        if initial:
            element["initial_value"] = str(initial)[: field.max_length]
    elif field.kind == "choice":
        element = {"type": "static_select", "action_id": field.key,
                   "options": [{"text": plain(label, 75), "value": value} for value, label in options[:100]]}
    elif field.kind == "checkboxes":
        shown = [{"text": plain(label, 75), "value": value} for value, label in options[:10]]
        element = {"type": "checkboxes", "action_id": field.key, "options": shown}
        ticked = [o for o in shown if o["value"] in initial]
        if ticked:
            element["initial_options"] = ticked
    elif field.kind == "user":
        element = {"type": "users_select", "action_id": field.key}
    elif field.kind == "files":
        element = {"type": "file_input", "action_id": field.key, "max_files": 10}
    else:
        raise ValueError(f"no input for a field of kind {field.kind}")
    block: Block = {"type": "input", "block_id": field.key, "label": plain(field.label, 2000), "element": element,
                    "optional": field.optional}
    if field.hint:
        block["hint"] = plain(field.hint, 2000)
    return block


def form_modal(form: Form, callback_id: str, order_id: str, order_title: str,
               choices: dict[str, tuple[tuple[str, str], ...]] | None = None,
               initial: dict[str, str | list[str]] | None = None, notes: tuple[str, ...] = ()) -> dict[str, Any]:
    """A form's modal; `choices` fills the options known only when it opens (a choice without any is left out),
    `initial` what its inputs start with, `notes` lines shown under them."""
    choices, initial = choices or {}, initial or {}
    blocks: list[Block] = [context(f"Order {order_id} · {order_title}")]
    if form.intro:
        blocks.append(section(form.intro))
    blocks += [input_block(field, initial.get(field.key, ""), choices.get(field.key, ())) for field in form.fields
               if field.kind not in ("choice", "checkboxes") or field.options or choices.get(field.key)]
    blocks += [context(note) for note in notes]
    return modal(form.title, form.submit, blocks, callback_id=callback_id)


LISTING_FIELDS = (
    Field("title", "Title", max_length=80, placeholder="Logo design"),
    Field("description", "What you offer", "multiline"),
    Field("price", "Price", placeholder="50.00", max_length=20),
    Field("delivery_days", "Delivery time in days", placeholder="3", max_length=4),
    Field("deliveries", "Deliveries included (revisions + 1)", placeholder="2", max_length=3),
    Field("licence", "Licence", optional=True, placeholder="Commercial use", max_length=200),
    Field("extras", "Extras, one per line: code:name:price[:days=N][:deliveries=N][:nda]", "multiline", optional=True,
          placeholder="fast:24h delivery:15:days=-2"),
    Field("questions", "Requirement questions for the buyer, one per line", "multiline", optional=True),
)


def offer_blocks(offers: list[Offer], viewer: str) -> list[Block]:
    """Open custom offers: the buyer may accept or decline each, the seller withdraw it."""
    blocks: list[Block] = []
    for offer in offers[:15]:
        s = offer.service
        total = s.terms(offer.extras, 0).total  # the fee does not change what the buyer pays
        text = (f"*{s.title}* · {money(total, s.currency)} · {plural(s.delivery_days, 'day')} · from "
                f"{mention(offer.seller_id)} to {mention(offer.buyer_id)}, open until {offer.expires_at:%Y-%m-%d %H:%M} UTC"
                f"\n{cut(s.description, 500)}\n`{offer.id}`")
        addable = [f"`{x.code}` {x.name} +{money(x.price, s.currency)}" for x in s.extras if x.code not in offer.extras]
        if addable:
            text += "\nExtras you may add when accepting: " + ", ".join(addable)
        blocks.append(section(cut(text, 2900)))
        blocks.append(offer_buttons(offer.id, "w" if offer.seller_id == viewer else "ad"))
    return blocks


def offer_buttons(offer_id: str, which: str) -> Block:
    styles = {"a": "primary", "d": "danger"}
    return actions([button(OFFER_ANSWERS[k], f"{OFFER_BUTTON}:{k}:{offer_id}", offer_id, styles.get(k)) for k in which],
                   block_id=f"offer:{offer_id}")


OFFER_FIELDS = (Field("buyer", "Buyer", "user"),)


def offer_modal(currency: str) -> dict[str, Any]:
    """The seller's custom offer: a listing's inputs and the buyer; its extras are the buyer's to add on accepting."""
    fields = OFFER_FIELDS + LISTING_FIELDS
    blocks = [context(f"A custom offer to one buyer. Prices are in {currency}. The buyer may add any of its extras "
                      "when accepting it.")] + [input_block(f) for f in fields]
    return modal("Custom offer", "Send offer", blocks, OFFER_CALLBACK)


def listing_modal(listing: Listing | None, currency: str) -> dict[str, Any]:
    initial: dict[str, str] = {}
    if listing:
        s = listing.service
        initial = {"title": s.title, "description": s.description, "price": money(s.price, s.currency).split()[0],
                   "delivery_days": str(s.delivery_days), "deliveries": str(s.deliveries), "licence": s.licence,
                   "extras": "\n".join(_extra_line(e, s.currency) for e in s.extras),
                   "questions": "\n".join(s.questions)}
    blocks = [context(f"Prices are in {currency}.")] + [input_block(f, initial.get(f.key, "")) for f in LISTING_FIELDS]
    return modal("Edit listing" if listing else "New listing", "Save", blocks, LISTING_CALLBACK,
                 metadata=listing.id if listing else "")


def _extra_line(extra: Any, currency: str) -> str:
    options = "".join([f":days={extra.days}" if extra.days else "", f":deliveries={extra.deliveries}"
                       if extra.deliveries else "", ":nda" if extra.nda else ""])
    return f"{extra.code}:{extra.name}:{money(extra.price, currency).split()[0]}{options}"
