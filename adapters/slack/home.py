"""gigroom's Home tab: a person's orders as buyer and as seller, their balance and funds clearing, their listings."""

from datetime import datetime
from typing import Any

from adapters.db.places import Place
from adapters.db.queries import Balances
from adapters.slack import blocks as b
from adapters.text import money
from core.lifecycle import OPEN
from core.order import Order
from core.terms import Listing
from core.views import countdown

SHOWN = 12  # orders per role: the Home tab holds at most 100 blocks


def home_view(user_id: str, orders: list[Order], balances: list[Balances], listings: list[Listing],
              places: dict[str, Place], now: datetime) -> dict[str, Any]:
    blocks: list[b.Block] = [b.header("Your gigroom"), b.section(_balance(balances))]
    for role, title in (("buyer", "Orders you buy"), ("seller", "Orders you sell")):
        mine = [o for o in orders if (o.buyer_id if role == "buyer" else o.seller_id) == user_id]
        mine.sort(key=lambda o: (o.state not in OPEN, -o.placed_at.timestamp()))
        blocks += [{"type": "divider"}, b.header(title)]
        blocks += [b.section(_order_line(o, role, places.get(o.id), now)) for o in mine[:SHOWN]]
        if not mine:
            blocks.append(b.context("None yet." if role == "seller" else "None yet: `/gig browse` shows what you can order."))
        elif len(mine) > SHOWN:
            blocks.append(b.context(f"…and {len(mine) - SHOWN} more: `/gig orders` lists them all."))
    blocks += [{"type": "divider"}, b.header("Your listings")]
    blocks += b.listing_blocks(listings, user_id) if listings else [b.context("None: `/gig create` makes one.")]
    blocks.append(b.context("`/gig help` lists every command."))
    return {"type": "home", "blocks": blocks[: b.HOME_MAX_BLOCKS]}


def _balance(balances: list[Balances]) -> str:
    if not balances:
        return "*Balance*\nNo earnings yet."
    lines = [f"*{x.currency}*: {money(x.available, x.currency)} available to withdraw · {money(x.pending, x.currency)} "
             f"clearing · {money(x.withdrawing, x.currency)} being paid out · {money(x.paid_out, x.currency)} paid out"
             for x in balances]
    return "*Balance*\n" + "\n".join(lines)


def _order_line(order: Order, role: str, place: Place | None, now: datetime) -> str:
    cur = order.terms.currency
    other = order.seller_id if role == "buyer" else order.buyer_id
    state = order.state.label + (", paused" if order.problem else "")
    line = f"`{order.id}` *{b.cut(order.terms.title, 80)}* · {state} · {money(order.terms.total, cur)} · with <@{other}>"
    if role == "seller":
        line += f" · you earn {money(order.terms.net, cur)}"
        if order.pending and order.clears_at:
            line += f" ({money(order.pending, cur)} clears {order.clears_at:%Y-%m-%d})"
    left = countdown(order, now)
    if left and order.state in OPEN:
        line += f" · {left}"
    if place is not None and not place.archived:
        line += f" · <#{place.channel_id}>"
    return line
