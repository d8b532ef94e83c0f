"""The value objects an order is made of."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.lifecycle import Role


class DeliveryKind(StrEnum):
    PREVIEW = "preview"  # a restricted work preview, as HostJane recommends
    FINAL = "final"


class FinalWorkHow(StrEnum):
    FILES = "files"  # sent after acceptance
    ALREADY_SENT = "already_sent"  # given in the chat, an online lesson say
    ACCEPTED_DELIVERY = "accepted_delivery"  # the accepted delivery was the final work
    ADMIN = "admin"  # an admin completed the order


class Resolution(StrEnum):
    RESUME = "resume"
    EXTEND = "extend"
    CANCEL = "cancel"
    COMPLETE = "complete"


class TimerKind(StrEnum):
    ACCEPTANCE = "acceptance"
    REMINDER = "reminder"
    LATE = "late"
    LATE_CANCEL = "late_cancel"
    TIME_REQUEST = "time_request"
    REVIEW = "review"
    FINAL_WORK = "final_work"
    CANCELLATION = "cancellation"
    CLEARANCE = "clearance"


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file by reference: its bytes live in the file store under `key`."""

    name: str
    size: int
    sha256: str
    key: str


@dataclass(frozen=True, slots=True)
class Delivery:
    number: int  # 1, 2, ... for submitted deliveries; 0 for a draft
    description: str
    files: tuple[FileRef, ...]
    links: tuple[str, ...]
    kind: DeliveryKind
    at: datetime
    final_work: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class TimeRequest:
    extra: timedelta
    reason: str
    at: datetime
    answer_by: datetime


@dataclass(frozen=True, slots=True)
class Problem:
    by: Role
    user_id: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CancellationRequest:
    by: Role
    reason: str
    at: datetime
    answer_by: datetime


@dataclass(frozen=True, slots=True)
class Review:
    rating: int
    text: str
    at: datetime
    reply: str = ""
    replied_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FinalWork:
    how: FinalWorkHow
    at: datetime
    delivery_number: int = 0


@dataclass(frozen=True, slots=True)
class Modification:
    message: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Tranche:
    """Earnings that become available for withdrawal at `at`, when the clearance period ends."""

    at: datetime
    amount: int
