"""What a person sees of an order: the board, shaped for the viewer's role and the moment."""

from dataclasses import dataclass
from datetime import datetime

from core.actor import Actor
from core.buttons import Button
from core.durations import format_duration
from core.lifecycle import RULES, Action, OrderState, Role, Rule
from core.money import format_amount
from core.order import Order
from core.order_parts import Delivery

S = OrderState


@dataclass(frozen=True, slots=True)
class BoardButton:
    action: Action
    label: str
    id: str  # the encoded button, the same on every platform


@dataclass(frozen=True, slots=True)
class Board:
    order_id: str
    title: str
    status: str
    roles: frozenset[Role]
    buyer_id: str
    seller_id: str
    due_at: datetime | None
    countdown: str  # "due in 2d4h", "late by 3h", ""
    items: tuple[tuple[str, str], ...]
    total: str
    net: str | None  # the seller's forecast net earnings: shown to the seller only
    deliveries_used: int
    deliveries_left: int
    licence: str
    nda: bool
    notes: tuple[str, ...]
    deliveries: tuple[Delivery, ...]
    buttons: tuple[BoardButton, ...]
    answers: tuple[tuple[str, str], ...] = ()  # the requirements: each question and the buyer's answer


def board(order: Order, viewer: Actor, now: datetime) -> Board:
    roles = order.roles(viewer)
    cur = order.terms.currency
    show_net = Role.SELLER in roles or Role.ADMIN in roles
    return Board(
        order_id=order.id, title=order.terms.title, status=status(order), roles=roles,
        buyer_id=order.buyer_id, seller_id=order.seller_id, due_at=order.due_at,
        countdown=countdown(order, now),
        items=tuple((item.name, format_amount(item.amount, cur)) for item in order.terms.items),
        total=format_amount(order.terms.total, cur),
        net=format_amount(order.terms.net, cur) if show_net else None,
        deliveries_used=order.deliveries_used, deliveries_left=order.deliveries_left,
        licence=order.terms.licence, nda=order.terms.nda, notes=notes(order, roles),
        deliveries=visible_deliveries(order, roles),
        buttons=tuple(BoardButton(r.action, _label(order, r, roles), Button(r.action, order.id).encode())
                      for r in RULES if r.button and order.can(r.action, viewer, now)),
        answers=tuple((a.question, a.answer) for a in order.answers) if roles else (),
    )


def _label(order: Order, rule: Rule, roles: frozenset[Role]) -> str:
    """The button's label for this viewer: whoever made the request it answers sees the requester's label."""
    requester = order.requester(rule.action)
    return rule.requester_button if rule.requester_button and requester in roles else rule.button


def status(order: Order) -> str:
    label = order.state.label.capitalize()
    if order.problem:
        return f"{label}, paused: problem reported"
    if order.state is S.IN_PROGRESS and order.late_for == order.due_at and order.due_at:
        return f"{label}, late"
    return label


def countdown(order: Order, now: datetime) -> str:
    if order.problem:
        return "paused"
    deadline = {S.AWAITING_ACCEPTANCE: ("answer due", order.accept_by), S.IN_PROGRESS: ("due", order.due_at),
                S.DELIVERED: ("review ends", order.review_ends_at),
                S.ACCEPTED: ("final work due", order.final_work_due_at)}.get(order.state)
    if not deadline or not deadline[1]:
        return ""
    what, at = deadline
    assert at is not None
    left = at - now
    if left.total_seconds() >= 0:
        return f"{what} in {format_duration(left)}"
    return f"{what} {format_duration(-left)} ago"


def visible_deliveries(order: Order, roles: frozenset[Role]) -> tuple[Delivery, ...]:
    """The final work stays with the seller until the buyer's review releases it."""
    if Role.SELLER in roles or Role.ADMIN in roles or order.final_work_released:
        return order.deliveries
    return tuple(d for d in order.deliveries if not d.final_work)


def notes(order: Order, roles: frozenset[Role]) -> tuple[str, ...]:
    found: list[str] = []
    if order.terms.nda and order.state not in {S.AWAITING_REQUIREMENTS, S.AWAITING_ACCEPTANCE}:
        found.append("A non-disclosure agreement applies to this order.")
    if order.problem:
        found.append(f"Problem reported by the {order.problem.by.value}: {order.problem.reason}")
    if order.time_request:
        tr = order.time_request
        found.append(f"The seller asks for {format_duration(tr.extra)} more: {tr.reason} "
                     f"(no answer by {tr.answer_by:%Y-%m-%d %H:%M} UTC grants it)")
    if order.cancellation:
        cr = order.cancellation
        found.append(f"The {cr.by.value} asks to cancel: {cr.reason} "
                     f"(no answer by {cr.answer_by:%Y-%m-%d %H:%M} UTC cancels)")
    if order.draft and Role.SELLER in roles:
        found.append("You have a saved draft delivery.")
    if order.final_work and not order.final_work_released:
        found.append("The final work is ready: the buyer's review and flame rating release it.")
    if order.review:
        found.append(f"Review: {'🔥' * order.review.rating} {order.review.text}")
        if order.review.reply:
            found.append(f"The seller's response: {order.review.reply}")
    if order.pending and order.clears_at and Role.SELLER in roles:
        found.append(f"{format_amount(order.pending, order.terms.currency)} clears on "
                     f"{order.clears_at:%Y-%m-%d %H:%M} UTC")
    return tuple(found)
