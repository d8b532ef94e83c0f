"""What is sold: listings, custom offers, and the terms frozen into an order when it is placed."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from core.errors import Refused
from core.money import MAX_AMOUNT, fee

MAX_TITLE = 80
MAX_TEXT = 5000


@dataclass(frozen=True, slots=True)
class Extra:
    """An optional add-on: an NDA, faster delivery (negative days), extra revisions."""

    code: str
    name: str
    price: int
    days: int = 0
    deliveries: int = 0
    nda: bool = False


@dataclass(frozen=True, slots=True)
class LineItem:
    name: str
    amount: int


@dataclass(frozen=True, slots=True)
class Service:
    """What a seller offers: the part of a listing or custom offer that becomes the terms."""

    title: str
    description: str
    price: int
    currency: str
    delivery_days: int
    deliveries: int = 1
    licence: str = "Personal use"
    extras: tuple[Extra, ...] = ()
    questions: tuple[str, ...] = ()

    def checked(self) -> "Service":
        title, description = self.title.strip(), self.description.strip()
        if not title:
            raise Refused("A listing needs a title.", field="title")
        if len(title) > MAX_TITLE:
            raise Refused(f"A title is at most {MAX_TITLE} characters; this one has {len(title)}.", field="title")
        if len(description) > MAX_TEXT:
            raise Refused(f"A description is at most {MAX_TEXT} characters.", field="description")
        if self.price <= 0:
            raise Refused("The price must be more than zero.", field="price")
        if self.price > MAX_AMOUNT or any(extra.price > MAX_AMOUNT for extra in self.extras):
            raise Refused("A price is more than gigroom handles in one amount.", field="price")
        if not 1 <= self.delivery_days <= 365:
            raise Refused("Delivery time is from 1 to 365 days.", field="delivery_days")
        if not 1 <= self.deliveries <= 100:
            raise Refused("The number of deliveries allowed is from 1 to 100.", field="deliveries")
        codes = [extra.code for extra in self.extras]
        if len(set(codes)) != len(codes):
            raise Refused("Two extras have the same code.", field="extras")
        for extra in self.extras:
            if extra.price < 0 or not extra.code or not extra.name:
                raise Refused(f"The extra '{extra.code}' needs a code, a name and a price of zero or more.", field="extras")
        questions = tuple(q.strip() for q in self.questions if q.strip())
        return replace(self, title=title, description=description, questions=questions)

    def terms(self, chosen: tuple[str, ...], fee_bps: int, on: str = "this listing") -> "Terms":
        """The terms of an order for these chosen extras, frozen from this moment on; `on` names what a refusal
        of an unknown extra says they are missing from (this listing, this offer)."""
        by_code = {extra.code: extra for extra in self.extras}
        unknown = [code for code in chosen if code not in by_code]
        if unknown:
            offered = ", ".join(by_code) or "none"
            raise Refused(f"No extra called {', '.join(unknown)} on {on} (extras: {offered}).", field="extras")
        extras = [by_code[code] for code in dict.fromkeys(chosen)]
        items = (LineItem(self.title, self.price), *(LineItem(e.name, e.price) for e in extras))
        return Terms(
            title=self.title,
            description=self.description,
            items=items,
            currency=self.currency,
            delivery_days=max(1, self.delivery_days + sum(e.days for e in extras)),
            deliveries=self.deliveries + sum(e.deliveries for e in extras),
            licence=self.licence,
            nda=any(e.nda for e in extras),
            questions=self.questions,
            fee_bps=fee_bps,
        )


@dataclass(frozen=True, slots=True)
class Terms:
    title: str
    description: str
    items: tuple[LineItem, ...]
    currency: str
    delivery_days: int
    deliveries: int
    licence: str
    nda: bool
    questions: tuple[str, ...]
    fee_bps: int

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.items)

    @property
    def fee(self) -> int:
        return fee(self.total, self.fee_bps)

    @property
    def net(self) -> int:
        """The seller's forecast net earnings."""
        return self.total - self.fee


@dataclass(slots=True)
class Listing:
    id: str
    community_id: str
    seller_id: str
    service: Service
    created_at: datetime
    updated_at: datetime
    active: bool = True


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@dataclass(slots=True)
class Offer:
    """A custom offer from a seller to one buyer."""

    id: str
    community_id: str
    seller_id: str
    buyer_id: str
    service: Service
    created_at: datetime
    expires_at: datetime
    status: OfferStatus = OfferStatus.OPEN
    order_id: str | None = None
    extras: tuple[str, ...] = field(default=())  # the codes of the extras the seller included

    @property
    def addable(self) -> tuple[Extra, ...]:
        """The extras the buyer may add when accepting: the service's, less those the seller included."""
        return tuple(extra for extra in self.service.extras if extra.code not in self.extras)

    def terms(self, chosen: tuple[str, ...], fee_bps: int) -> Terms:
        """The order's terms: the extras the seller included stay, and the buyer adds any of the others."""
        return self.service.terms((*self.extras, *chosen), fee_bps, on="this offer")

    def check_answer(self, user_id: str, now: datetime) -> None:
        """Who may accept or decline it, and when: the buyer it was made to, while it is open."""
        self.check_open(now)
        if self.buyer_id != user_id:
            raise Refused("Only the buyer this offer was made to can answer it.")

    def check_open(self, now: datetime) -> None:
        if self.status is not OfferStatus.OPEN:
            raise Refused(f"Offer {self.id} is already {self.status.value}.")
        if now >= self.expires_at:
            raise Refused(f"Offer {self.id} expired on {self.expires_at:%Y-%m-%d %H:%M} UTC.")
