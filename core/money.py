"""Money in integer minor units, with the fee rule and parsing and formatting for people."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def parse_amount(text: str, currency: str) -> int:
    """'12.50' in USD is 1250. Refuses negatives, too many decimals and anything not a number."""
    places = exponent(currency)
    cleaned = text.strip().replace(",", "")
    if cleaned.upper().endswith(currency.upper()):
        cleaned = cleaned[: -len(currency)].strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Refused(f"'{text}' is not an amount: write it like 25 or 25.50.") from None
    if not value.is_finite() or value <= 0:
        raise Refused(f"The amount must be more than zero, not '{text}'.")
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise Refused(f"{currency} has {places} decimal places: '{text}' has more.")
    if minor > MAX_AMOUNT:
        raise Refused(f"'{text}' is more than gigroom handles in one amount.")
    return int(minor)


def format_amount(minor: int, currency: str) -> str:
    places = exponent(currency)
    value = Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{value:,} {currency}"
