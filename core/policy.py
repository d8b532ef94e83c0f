"""A community's policy: its fee, currency and the length of every timer, as data."""

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from core.durations import format_duration, parse_duration
from core.errors import Refused
from core.money import MAX_AMOUNT, check_currency, exponent

GIB = 1024**3


class ReviewWindow(StrEnum):
    """When the buyer's review window starts counting."""

    FROM_DELIVERY = "from_delivery"  # HostJane: 3 days exactly from the delivery
    FROM_DUE_DATE = "from_due_date"  # Fiverr: 3 days from the later of the delivery and the due date


@dataclass(frozen=True, slots=True)
class Policy:
    currency: str = "USD"
    fee_bps: int = 1000
    acceptance_window: timedelta = timedelta(hours=48)
    due_reminder: timedelta = timedelta(hours=24)
    late_cancel_after: timedelta = timedelta(hours=24)
    time_request_window: timedelta = timedelta(hours=48)
    max_time_request: timedelta = timedelta(days=30)
    review_window: timedelta = timedelta(hours=72)
    review_window_starts: ReviewWindow = ReviewWindow.FROM_DELIVERY
    max_review_extension: timedelta = timedelta(days=7)
    modification_time: timedelta = timedelta(hours=48)
    final_work_window: timedelta = timedelta(hours=24)
    final_work_waits_for_review: bool = True
    cancellation_window: timedelta = timedelta(hours=48)
    clearance: timedelta = timedelta(days=5)
    max_file_bytes: int = 5 * GIB
    # The most one price, extra, tip or withdrawal may be, in whole units of the currency (0: gigroom's own
    # ceiling only). Whole major units, not cents: "5000" reads the same to an admin in USD and in JPY.
    max_amount: int = 0
    offer_validity: timedelta = timedelta(days=7)
    admins: tuple[str, ...] = ()

    def with_setting(self, name: str, text: str) -> "Policy":
        """This policy with one setting changed from its text form, or a refusal that says why."""
        known = {f.name: f for f in fields(self)}
        if name not in known:
            raise Refused(f"There is no policy setting '{name}'. Settings: {', '.join(known)}.")
        current = getattr(self, name)
        value: Any
        if isinstance(current, timedelta):
            value = parse_duration(text)
        elif isinstance(current, bool):
            if text.lower() not in {"yes", "no", "true", "false", "on", "off"}:
                raise Refused(f"'{name}' is yes or no, not '{text}'.")
            value = text.lower() in {"yes", "true", "on"}
        elif name == "max_amount":
            value = _parse_max_amount(text, self.currency)
        elif isinstance(current, ReviewWindow):
            try:
                value = ReviewWindow(text.lower())
            except ValueError:
                raise Refused(f"'{name}' is one of: {', '.join(ReviewWindow)}.") from None
        elif isinstance(current, int):
            value = _parse_int(name, text)
        elif isinstance(current, tuple):
            value = tuple(sorted({part.strip() for part in text.split(",") if part.strip()}))
        else:
            value = check_currency(text)
        return _validated(replace(self, **{name: value}))

    def describe(self) -> dict[str, str]:
        """Every setting in the text form `with_setting` reads."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, timedelta):
                out[f.name] = format_duration(value)
            elif isinstance(value, bool):
                out[f.name] = "yes" if value else "no"
            elif isinstance(value, tuple):
                out[f.name] = ",".join(value)
            elif f.name == "max_amount":
                out[f.name] = f"{value} {self.currency}" if value else "none"
            else:
                out[f.name] = str(value)
        return out


def _parse_int(name: str, text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise Refused(f"'{name}' is a whole number, not '{text}'.") from None


def _parse_max_amount(text: str, currency: str) -> int:
    """'5000', '5000 USD' or 'none'; whole units of the community's currency, within gigroom's ceiling."""
    cleaned = text.strip().upper().removesuffix(currency.upper()).strip()
    if cleaned in {"NONE", "0"}:
        return 0
    if not cleaned.isascii() or not cleaned.isdigit():
        raise Refused(f"'max_amount' is a whole number of {currency} (such as 5000) or none, not '{text}'.")
    value = int(cleaned)
    ceiling = MAX_AMOUNT // 10 ** exponent(currency)
    if value > ceiling:
        raise Refused(f"'max_amount' is at most {ceiling} {currency}, gigroom's ceiling for one amount.")
    return value


def _validated(policy: Policy) -> Policy:
    if not 0 <= policy.fee_bps < 10_000:
        raise Refused("fee_bps is in basis points, from 0 (no fee) to 9999 (99.99%).")
    if policy.max_file_bytes < 1:
        raise Refused("max_file_bytes must be at least 1.")
    for f in fields(policy):
        value = getattr(policy, f.name)
        if isinstance(value, timedelta) and value < timedelta(0):
            raise Refused(f"{f.name} cannot be negative.")
    return policy
