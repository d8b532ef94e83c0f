"""Domain events: what happened, past tense, with what an adapter needs to render it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from core.actor import Owed
from core.lifecycle import OrderState, Role
from core.order_parts import Answer, Delivery, FinalWorkHow, Resolution
from core.terms import Extra


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    community_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderEvent(Event):
    order_id: str
    title: str
    buyer_id: str
    seller_id: str
    state: OrderState
    owed: tuple[Owed, ...] = ()  # who owes the next action now, and what: each gets a direct message
    seller_only: ClassVar[bool] = False  # the seller's own business (a draft): never shown to the buyer
    # who is told directly too, besides the workspace update: news for them that asks no action (owed does that)
    direct_to: ClassVar[frozenset[Role]] = frozenset()

    @property
    def owed_by(self) -> tuple[str, ...]:
        return tuple(o.user_id for o in self.owed)

    @property
    def direct_ids(self) -> tuple[str, ...]:
        """The user ids that `direct_to` names for this order."""
        ids = {Role.BUYER: self.buyer_id, Role.SELLER: self.seller_id}
        return tuple(dict.fromkeys(ids[r] for r in (Role.BUYER, Role.SELLER) if r in self.direct_to))


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderPlaced(OrderEvent):
    total: int
    currency: str
    needs_requirements: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class RequirementsSubmitted(OrderEvent):
    answers: tuple[Answer, ...]
    accept_by: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderAccepted(OrderEvent):
    due_at: datetime
    nda: bool
    licence: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderDeclined(OrderEvent):
    reason: str
    refund: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderExpired(OrderEvent):
    refund: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCancelled(OrderEvent):
    by: Role
    reason: str
    refund: int
    to_seller: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DraftSaved(OrderEvent):
    draft: Delivery
    seller_only: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderDelivered(OrderEvent):
    delivery: Delivery
    deliveries_left: int
    review_ends_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeRequested(OrderEvent):
    extra: timedelta
    reason: str
    answer_by: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeRequestAnswered(OrderEvent):
    approved: bool
    automatic: bool
    due_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ProblemReported(OrderEvent):
    by: Role
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ProblemWithdrawn(OrderEvent):
    by: Role


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderResolved(OrderEvent):
    resolution: Resolution
    admin_id: str
    note: str
    extra: timedelta
    refund: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryAccepted(OrderEvent):
    automatic: bool
    released: int
    fee: int
    currency: str
    final_work_due_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ModificationRequested(OrderEvent):
    message: str
    deliveries_left: int
    due_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviewExtended(OrderEvent):
    extra: timedelta
    review_ends_at: datetime
    direct_to: ClassVar[frozenset[Role]] = frozenset({Role.SELLER})


@dataclass(frozen=True, kw_only=True, slots=True)
class FinalWorkDelivered(OrderEvent):
    how: FinalWorkHow
    delivery: Delivery | None
    released_to_buyer: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCompleted(OrderEvent):
    clears_at: datetime | None
    net: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviewLeft(OrderEvent):
    rating: int
    text: str
    final_work_released: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviewAnswered(OrderEvent):
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CancellationRequested(OrderEvent):
    by: Role
    reason: str
    answer_by: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CancellationAnswered(OrderEvent):
    by: Role
    agreed: bool
    withdrawn: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class DueDateReminder(OrderEvent):
    due_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderLate(OrderEvent):
    due_at: datetime
    buyer_may_cancel_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class LateCancellationAvailable(OrderEvent):
    due_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class FinalWorkOverdue(OrderEvent):
    due_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class FundsCleared(OrderEvent):
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TipSent(OrderEvent):
    amount: int
    fee: int
    currency: str
    direct_to: ClassVar[frozenset[Role]] = frozenset({Role.SELLER})


@dataclass(frozen=True, kw_only=True, slots=True)
class MessagePosted(OrderEvent):
    author_id: str
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ListingSaved(Event):
    listing_id: str
    seller_id: str
    title: str
    created: bool
    active: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class OfferMade(Event):
    offer_id: str
    seller_id: str
    buyer_id: str
    title: str
    total: int
    currency: str
    expires_at: datetime
    extras: tuple[Extra, ...] = ()  # the extras the buyer may add when accepting (those included are in total)


@dataclass(frozen=True, kw_only=True, slots=True)
class OfferClosed(Event):
    offer_id: str
    seller_id: str
    buyer_id: str
    title: str
    outcome: str  # declined or withdrawn


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyChanged(Event):
    admin_id: str
    setting: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawalRequested(Event):
    withdrawal_id: str
    seller_id: str
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawalPaid(Event):
    withdrawal_id: str
    seller_id: str
    amount: int
    currency: str
    admin_id: str
    reference: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, Event) and cls not in (Event, OrderEvent)
}
