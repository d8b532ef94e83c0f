"""Events and boards as plain sentences: the shell shows them, and chat platforms use them as fallback text."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from core import events as ev
from core.durations import format_duration
from core.lifecycle import Role
from core.money import format_amount
from core.order_parts import Delivery, FinalWorkHow, Resolution
from core.views import Board, BoardButton

E = TypeVar("E", bound=ev.Event)
Namer = Callable[[str], str]  # a user id -> how this platform names the person: `<@U123>` on Slack, the name in the shell
Render = Callable[[E, Namer], str]
_RENDERERS: dict[type[ev.Event], Callable[[Any, Namer], str]] = {}


def renders(kind: type[E]) -> Callable[[Render[E]], Render[E]]:
    def register(render: Render[E]) -> Render[E]:
        _RENDERERS[kind] = render
        return render
    return register


def by_id(user_id: str) -> str:
    """The shell's people are their names (`as bea`): a user id is shown as it is."""
    return user_id


def describe(event: ev.Event, name: Namer = by_id) -> str:
    """One sentence for an event, each person in it named by `name`, or a plain note that this adapter cannot
    render it."""
    render = _RENDERERS.get(type(event))
    if render is None:
        return f"(gigroom has no words yet for a {type(event).__name__} event)"
    return render(event, name)


def when(moment: datetime | None) -> str:
    return f"{moment:%a %d %b %Y %H:%M} UTC" if moment else "-"


def left(count: int) -> str:
    return f"{count} {'delivery' if count == 1 else 'deliveries'} left"


def money(amount: int, currency: str) -> str:
    return format_amount(amount, currency)


def delivery_lines(delivery: Delivery) -> list[str]:
    lines = [f"  {delivery.description}"]
    lines += [f"  file: {f.name} ({f.size:,} bytes, sha256 {f.sha256[:12]}…)" for f in delivery.files]
    lines += [f"  link: {link}" for link in delivery.links]
    if not delivery.files:
        lines.append("  (no file attached, as the seller confirmed)")
    return lines


@renders(ev.OrderPlaced)
def _placed(e: ev.OrderPlaced, name: Namer) -> str:
    then = "the buyer gives the job requirements next" if e.needs_requirements else "the seller answers it next"
    return f"Order {e.order_id} placed: {e.title}, {money(e.total, e.currency)} paid into escrow; {then}."


@renders(ev.RequirementsSubmitted)
def _requirements(e: ev.RequirementsSubmitted, name: Namer) -> str:
    answers = "; ".join(f"{a.question} {a.answer}" for a in e.answers)
    return f"Requirements in for order {e.order_id}: {answers}. The seller accepts or declines by {when(e.accept_by)}."


@renders(ev.OrderAccepted)
def _accepted(e: ev.OrderAccepted, name: Namer) -> str:
    nda = " The non-disclosure agreement is in force." if e.nda else ""
    return (f"Order {e.order_id} accepted: work has started under the licence '{e.licence}'.{nda} "
            f"Delivery is due {when(e.due_at)}.")


@renders(ev.OrderDeclined)
def _declined(e: ev.OrderDeclined, name: Namer) -> str:
    why = f" ({e.reason})" if e.reason else ""
    return f"Order {e.order_id} was declined{why}; {money(e.refund, e.currency)} refunded to the buyer."


@renders(ev.OrderExpired)
def _expired(e: ev.OrderExpired, name: Namer) -> str:
    return (f"Order {e.order_id} expired: the seller did not answer in time; "
            f"{money(e.refund, e.currency)} refunded to the buyer.")


@renders(ev.OrderCancelled)
def _cancelled(e: ev.OrderCancelled, name: Namer) -> str:
    split = f", {money(e.to_seller, e.currency)} to the seller" if e.to_seller else ""
    return f"Order {e.order_id} cancelled: {e.reason} {money(e.refund, e.currency)} refunded to the buyer{split}."


@renders(ev.DraftSaved)
def _draft(e: ev.DraftSaved, name: Namer) -> str:
    return f"Draft saved for order {e.order_id}: reopen it to deliver when you are ready."


@renders(ev.OrderDelivered)
def _delivered(e: ev.OrderDelivered, name: Namer) -> str:
    d = e.delivery
    head = (f"Delivery {d.number} of order {e.order_id} ({d.kind.value}); {left(e.deliveries_left)}. "
            f"The buyer has until {when(e.review_ends_at)} to accept it or ask for a modification.")
    return "\n".join([head, *delivery_lines(d)])


@renders(ev.TimeRequested)
def _time_requested(e: ev.TimeRequested, name: Namer) -> str:
    return (f"The seller asks for {format_duration(e.extra)} more on order {e.order_id}: {e.reason}. "
            f"No answer by {when(e.answer_by)} grants it.")


@renders(ev.TimeRequestAnswered)
def _time_answered(e: ev.TimeRequestAnswered, name: Namer) -> str:
    if not e.approved:
        return f"The buyer declined more time on order {e.order_id}; delivery is still due {when(e.due_at)}."
    how = "granted: the buyer did not answer in time" if e.automatic else "approved by the buyer"
    return f"More time on order {e.order_id} {how}. Delivery is now due {when(e.due_at)}."


@renders(ev.ProblemReported)
def _problem(e: ev.ProblemReported, name: Namer) -> str:
    return (f"The {e.by.value} reported a problem with order {e.order_id}: {e.reason}. "
            "The order is paused until an admin resolves it.")


@renders(ev.ProblemWithdrawn)
def _problem_withdrawn(e: ev.ProblemWithdrawn, name: Namer) -> str:
    return f"The {e.by.value} withdrew the problem report on order {e.order_id}; its timers run again."


@renders(ev.OrderResolved)
def _resolved(e: ev.OrderResolved, name: Namer) -> str:
    note = f" Note: {e.note}" if e.note else ""
    what = {Resolution.RESUME: "resumed the order",
            Resolution.EXTEND: f"extended the order by {format_duration(e.extra)}",
            Resolution.CANCEL: "cancelled the order",
            Resolution.COMPLETE: "completed the order"}[e.resolution]
    return f"An admin {what} {e.order_id}.{note}"


@renders(ev.DeliveryAccepted)
def _delivery_accepted(e: ev.DeliveryAccepted, name: Namer) -> str:
    how = "accepted automatically: the review window ended" if e.automatic else "accepted by the buyer"
    then = (f" The seller sends the final work by {when(e.final_work_due_at)}, or confirms it was already sent."
            if e.final_work_due_at else "")
    return (f"Delivery of order {e.order_id} {how}. {money(e.released, e.currency)} released to the seller's "
            f"pending balance (fee {money(e.fee, e.currency)}).{then}")


@renders(ev.ModificationRequested)
def _modification(e: ev.ModificationRequested, name: Namer) -> str:
    return (f"The buyer asks for a modification of order {e.order_id}: {e.message}. "
            f"Deliver the modified work by {when(e.due_at)}; {left(e.deliveries_left)}.")


@renders(ev.ReviewExtended)
def _review_extended(e: ev.ReviewExtended, name: Namer) -> str:
    return (f"The buyer added {format_duration(e.extra)} to the review period of order {e.order_id}: "
            f"it now ends {when(e.review_ends_at)}.")


@renders(ev.FinalWorkDelivered)
def _final_work(e: ev.FinalWorkDelivered, name: Namer) -> str:
    if e.how is FinalWorkHow.ALREADY_SENT:
        head = f"The seller confirms the final work of order {e.order_id} was already sent in the chat."
    else:
        head = f"The final work of order {e.order_id} is delivered."
    tail = "" if e.released_to_buyer else " It is released to the buyer once the buyer leaves a review and flame rating."
    lines = [head + tail]
    if e.delivery and e.released_to_buyer:
        lines += delivery_lines(e.delivery)
    return "\n".join(lines)


@renders(ev.OrderCompleted)
def _completed(e: ev.OrderCompleted, name: Namer) -> str:
    clears = f" The earnings clear on {when(e.clears_at)}." if e.clears_at else ""
    return f"Order {e.order_id} is complete.{clears}"


@renders(ev.ReviewLeft)
def _review(e: ev.ReviewLeft, name: Namer) -> str:
    released = " The final work is released to the buyer." if e.final_work_released else ""
    return f"The buyer reviewed order {e.order_id}: {'🔥' * e.rating} ({e.rating}/5) {e.text}.{released}"


@renders(ev.ReviewAnswered)
def _review_answered(e: ev.ReviewAnswered, name: Namer) -> str:
    return f"The seller responded to the review of order {e.order_id}: {e.text}"


@renders(ev.CancellationRequested)
def _cancel_requested(e: ev.CancellationRequested, name: Namer) -> str:
    other = "seller" if e.by is Role.BUYER else "buyer"
    return (f"The {e.by.value} asks to cancel order {e.order_id}: {e.reason}. The {other} agrees or refuses "
            f"by {when(e.answer_by)}; no answer cancels the order.")


@renders(ev.CancellationAnswered)
def _cancel_answered(e: ev.CancellationAnswered, name: Namer) -> str:
    if e.withdrawn:
        return f"The {e.by.value} withdrew the request to cancel order {e.order_id}."
    return f"The {e.by.value} {'agreed' if e.agreed else 'refused'} to cancel order {e.order_id}."


@renders(ev.DueDateReminder)
def _reminder(e: ev.DueDateReminder, name: Namer) -> str:
    return f"Reminder: order {e.order_id} is due {when(e.due_at)}."


@renders(ev.OrderLate)
def _late(e: ev.OrderLate, name: Namer) -> str:
    return (f"Order {e.order_id} is late: it was due {when(e.due_at)}. From {when(e.buyer_may_cancel_at)} "
            "the buyer may cancel it alone, with a full refund.")


@renders(ev.LateCancellationAvailable)
def _late_cancel(e: ev.LateCancellationAvailable, name: Namer) -> str:
    return f"Order {e.order_id} is well past its due date: the buyer may now cancel it alone, with a full refund."


@renders(ev.FinalWorkOverdue)
def _overdue(e: ev.FinalWorkOverdue, name: Namer) -> str:
    return f"The final work of order {e.order_id} was due {when(e.due_at)} and has not been sent."


@renders(ev.FundsCleared)
def _cleared(e: ev.FundsCleared, name: Namer) -> str:
    return f"{money(e.amount, e.currency)} from order {e.order_id} cleared: it is available for withdrawal."


@renders(ev.TipSent)
def _tip(e: ev.TipSent, name: Namer) -> str:
    return f"The buyer tipped {money(e.amount, e.currency)} on order {e.order_id} (fee {money(e.fee, e.currency)})."


@renders(ev.MessagePosted)
def _message(e: ev.MessagePosted, name: Namer) -> str:
    return f"{name(e.author_id)}: {e.text}"


@renders(ev.ListingSaved)
def _listing(e: ev.ListingSaved, name: Namer) -> str:
    state = "" if e.active else " (paused)"
    return f"Listing {e.listing_id} {'created' if e.created else 'updated'}: {e.title}{state}."


@renders(ev.OfferMade)
def _offer(e: ev.OfferMade, name: Namer) -> str:
    extras = "; ".join(f"{x.code} ({x.name}, +{money(x.price, e.currency)})" for x in e.extras)
    return (f"{name(e.seller_id)} made a custom offer {e.offer_id} to {name(e.buyer_id)}: {e.title}, "
            f"{money(e.total, e.currency)}, open until {when(e.expires_at)}."
            + (f" Extras the buyer may add when accepting: {extras}." if extras else ""))


@renders(ev.OfferClosed)
def _offer_closed(e: ev.OfferClosed, name: Namer) -> str:
    return f"Custom offer {e.offer_id} ({e.title}) was {e.outcome}."


@renders(ev.PolicyChanged)
def _policy(e: ev.PolicyChanged, name: Namer) -> str:
    return f"{name(e.admin_id)} set the community's {e.setting} to {e.value}."


@renders(ev.WithdrawalRequested)
def _withdrawal(e: ev.WithdrawalRequested, name: Namer) -> str:
    return f"{name(e.seller_id)} asked to withdraw {money(e.amount, e.currency)} (withdrawal {e.withdrawal_id})."


@renders(ev.WithdrawalPaid)
def _paid(e: ev.WithdrawalPaid, name: Namer) -> str:
    ref = f", reference {e.reference}" if e.reference else ""
    return f"Withdrawal {e.withdrawal_id} of {money(e.amount, e.currency)} to {name(e.seller_id)} was paid out{ref}."


def board_lines(board: Board, command: Callable[[BoardButton], str] | None = None, name: Namer = by_id) -> list[str]:
    """The board as text, its parties named by `name`; with `command`, each button on its own line with how to
    take it (the shell's command)."""
    lines = [f"┌ Order {board.order_id}: {board.title}",
             f"│ Status: {board.status}" + (f" · {board.countdown}" if board.countdown else ""),
             f"│ Buyer: {name(board.buyer_id)} · Seller: {name(board.seller_id)}",
             f"│ Due: {when(board.due_at)}" if board.due_at else "│ Due: counts from acceptance"]
    lines += [f"│   {name}: {amount}" for name, amount in board.items]
    lines.append(f"│   Total: {board.total}")
    if board.net is not None:
        lines.append(f"│ Your forecast net earnings: {board.net}")
    lines.append(f"│ Deliveries: {board.deliveries_used} used, {board.deliveries_left} left · Licence: {board.licence}")
    if board.answers:
        lines.append("│ Requirements:")
        lines += [f"│   {question} {answer}" for question, answer in board.answers]
    lines += [f"│ {note}" for note in board.notes]
    for delivery in board.deliveries:
        kind = "final work" if delivery.final_work else delivery.kind.value
        lines.append(f"│ Delivery {delivery.number} ({kind}, {when(delivery.at)}):")
        lines += ["│ " + line for line in delivery_lines(delivery)]
    if command is not None and board.buttons:
        width = max(len(b.label) for b in board.buttons) + 2
        lines += [f"│ {f'[{b.label}]'.ljust(width)} → {command(b)}" for b in board.buttons]
        lines.append("└")
        return lines
    buttons = " ".join(f"[{b.label}]" for b in board.buttons)
    lines.append(f"└ {buttons}" if buttons else "└ (nothing for you to do here now)")
    return lines
