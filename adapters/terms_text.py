"""Listing terms as people type them, on every platform: extras written on one line."""

from core.money import parse_amount
from core.terms import Extra


def parse_extra(text: str, currency: str) -> Extra:
    """An extra written as CODE:NAME:PRICE[:days=N][:deliveries=N][:nda]; ValueError says what is wrong."""
    parts = text.split(":")
    if len(parts) < 3:
        raise ValueError(f"an extra is CODE:NAME:PRICE, such as nda:NDA:10 or fast:24h delivery:15:days=-2; not '{text}'")
    code, name, price, *options = parts
    fields: dict[str, object] = {}
    for option in options:
        key, _, value = option.partition("=")
        if key == "nda":
            fields["nda"] = True
        elif key in ("days", "deliveries"):
            try:
                fields[key] = int(value)
            except ValueError:
                raise ValueError(f"{key} takes a whole number, not '{value}'") from None
        else:
            raise ValueError(f"an extra's options are days=N, deliveries=N and nda, not '{option}'")
    return Extra(code.strip(), name.strip(), parse_amount(price, currency) if price.strip() != "0" else 0,
                 **fields)  # type: ignore[arg-type]
