"""Commands: what people (and admins) ask the engine to do, imperative, as plain data."""

from dataclasses import dataclass
from datetime import timedelta

from core.actor import Actor
from core.order_parts import DeliveryKind, FileRef, Resolution
from core.terms import Service


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    actor: Actor
    key: str | None = None  # the platform's id for this request: a retry with the same key has one effect


@dataclass(frozen=True, kw_only=True, slots=True)
class SetPolicy(Command):
    setting: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateListing(Command):
    service: Service


@dataclass(frozen=True, kw_only=True, slots=True)
class UpdateListing(Command):
    listing_id: str
    service: Service | None = None
    active: bool | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MakeOffer(Command):
    buyer_id: str
    service: Service
    extras: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerOffer(Command):
    offer_id: str
    accept: bool
    extras: tuple[str, ...] = ()  # the buyer's choice among the offer's extras, added to those the seller included


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawOffer(Command):
    offer_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaceOrder(Command):
    listing_id: str
    extras: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestWithdrawal(Command):
    amount: int
    currency: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PayWithdrawal(Command):
    withdrawal_id: str
    reference: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCommand(Command):
    order_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitRequirements(OrderCommand):
    answers: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelOrder(OrderCommand):
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AcceptOrder(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class DeclineOrder(OrderCommand):
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class SaveDraft(OrderCommand):
    description: str = ""
    files: tuple[FileRef, ...] = ()
    links: tuple[str, ...] = ()
    kind: DeliveryKind = DeliveryKind.PREVIEW
    replace_all: bool = False  # False: merge with the saved draft (see Order.save_draft); True: this is the draft


@dataclass(frozen=True, kw_only=True, slots=True)
class AddDraftFiles(OrderCommand):
    """Files uploaded outside the chat (gigroom's upload page), added to the order's draft delivery."""

    files: tuple[FileRef, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverOrder(OrderCommand):
    description: str = ""
    files: tuple[FileRef, ...] = ()
    links: tuple[str, ...] = ()
    kind: DeliveryKind | None = None  # the draft's kind when delivering the draft, else a preview
    confirm_no_file: bool = False
    from_draft: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestMoreTime(OrderCommand):
    extra: timedelta
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerTimeRequest(OrderCommand):
    approve: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportProblem(OrderCommand):
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawProblem(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class AcceptDelivery(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestModification(OrderCommand):
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtendReview(OrderCommand):
    extra: timedelta


@dataclass(frozen=True, kw_only=True, slots=True)
class SendFinalWork(OrderCommand):
    description: str = ""
    files: tuple[FileRef, ...] = ()
    links: tuple[str, ...] = ()
    confirm_no_file: bool = False
    from_draft: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfirmAlreadySent(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class LeaveReview(OrderCommand):
    rating: int
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RespondToReview(OrderCommand):
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestCancellation(OrderCommand):
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerCancellation(OrderCommand):
    agree: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelLateOrder(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Tip(OrderCommand):
    amount: int


@dataclass(frozen=True, kw_only=True, slots=True)
class PostMessage(OrderCommand):
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolve(OrderCommand):
    resolution: Resolution
    extra: timedelta = timedelta(0)
    refund: int | None = None  # None: a full refund
    note: str = ""
