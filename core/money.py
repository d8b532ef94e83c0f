"""Money in integer minor units, with the fee rule and parsing and formatting for people."""

import re
from decimal import Decimal

from core.errors import Refused

# ISO 4217 exponents that differ from 2; every other currency has cents.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}
BASIS_POINTS = 10_000
MAX_AMOUNT = 10**13  # the most gigroom takes in one amount, in minor units: far from the 64-bit limit


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def check_currency(currency: str) -> str:
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise Refused(f"'{currency}' is not a currency code: use three letters such as USD or EUR.")
    return code


def fee(amount: int, fee_bps: int) -> int:
    """The community's fee on `amount`: basis points, rounded half up to the minor unit."""
    return (amount * fee_bps + BASIS_POINTS // 2) // BASIS_POINTS


# Plain decimals only, ASCII digits: Decimal() also reads 1e9, inf, nan, 1_000 and other scripts' digits,
# which nobody means as a price. A comma is refused, never dropped: '1,5' is 1.50 to half the world and
# 15 to the rest, and '1,500.00' is 1500 here but 1.5 there, so no reading of it is safe.
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_amount(text: str, currency: str) -> int:
    """'12.50' in USD is 1250: digits, an optional point and decimals, optionally the currency code.

    Refuses commas, exponents, signs, infinities, too many decimals and more than gigroom's ceiling."""
    places = exponent(currency)
    code = currency.strip().upper()
    cleaned = text.strip()
    if cleaned.upper().endswith(code):
        cleaned = cleaned[: -len(code)].strip()
    elif cleaned.upper().startswith(code):
        cleaned = cleaned[len(code):].strip()
    if "," in cleaned:
        raise Refused(f"'{text}' has a comma: write amounts with a point for decimals and no thousands "
                      f"separator, like 1.50 or 1500.")
    if cleaned.startswith("-") and _PLAIN.fullmatch(cleaned[1:]):
        raise Refused(f"The amount must be more than zero, not '{text}'.")
    if not _PLAIN.fullmatch(cleaned):
        raise Refused(f"'{text}' is not an amount: write it like 25 or 25.50.")
    value = Decimal(cleaned)
    if value <= 0:
        raise Refused(f"The amount must be more than zero, not '{text}'.")
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise Refused(f"{currency} has {places} decimal places: '{text}' has more.")
    if minor > MAX_AMOUNT:
        raise Refused(f"'{text}' is more than gigroom handles in one amount "
                      f"(at most {format_amount(MAX_AMOUNT, code)}).")
    return int(minor)


def check_amount(amount: int, currency: str, limit: int, what: str = "An amount") -> None:
    """Refuse an amount above gigroom's ceiling or the community's `max_amount` (whole major units, 0: none).

    The core calls this on every amount a person gives (prices, extras, tips, withdrawals) before any of it
    reaches the ledger or the database, whatever adapter read it."""
    if amount > MAX_AMOUNT:
        raise Refused(f"{what} of {format_amount(amount, currency)} is more "
                      f"than gigroom handles in one amount (at most {format_amount(MAX_AMOUNT, currency)}).")
    if limit and amount > limit * 10 ** exponent(currency):
        raise Refused(f"{what} of {format_amount(amount, currency)} is more than this community's maximum "
                      f"of {format_amount(limit * 10 ** exponent(currency), currency)}.")


def format_amount(minor: int, currency: str) -> str:
    """1234567 in EUR is '12,345.67 EUR'. Integer arithmetic: exact for any int, however large (a Decimal
    quantize fails past 28 digits, which turned a refusal of a huge withdrawal into a crash)."""
    places = exponent(currency)
    whole, part = divmod(abs(minor), 10**places)
    decimals = f".{part:0{places}d}" if places else ""
    return f"{'-' if minor < 0 else ''}{whole:,}{decimals} {currency}"
