"""Exports for operators: orders and ledger lines as CSV or JSON Lines, streamed one row at a time.

Amounts are integer minor units (the columns end in `_minor`); datetimes are ISO 8601. Neither function
holds more than one row: give them the iterators of `Queries.all_orders` and `Queries.ledger_lines`.
An order is exported only when its reader may read it (`Order.readable`): the rule of every other read.
Open a CSV file with `newline=""`: rows end in CRLF, as RFC 4180 has it.
"""

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from adapters.db.queries import LedgerLine
from core.actor import Actor
from core.order import Order

FORMATS = ("csv", "json")
ORDER_FIELDS = (
    "id", "community_id", "state", "buyer_id", "seller_id", "title", "currency",
    "total_minor", "fee_minor", "net_minor", "fees_taken_minor", "refunded_minor", "to_seller_minor", "tips_minor",
    "placed_at", "accepted_at", "due_at", "completed_at", "ended_at", "deliveries_used", "review_rating",
)
LEDGER_FIELDS = ("txn_id", "at", "community_id", "order_id", "kind", "memo", "account", "currency", "amount_minor")
# a spreadsheet runs a cell that starts with one of these as a formula: text cells get a leading quote
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def order_row(order: Order) -> dict[str, Any]:
    terms = order.terms
    return {
        "id": order.id,
        "community_id": order.community_id,
        "state": order.state.value,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "title": terms.title,
        "currency": terms.currency,
        "total_minor": terms.total,
        "fee_minor": terms.fee,  # the fee on the order's total, from its terms
        "net_minor": terms.net,
        "fees_taken_minor": order.fees,  # what the community has actually taken, tips included
        "refunded_minor": order.refunded,
        "to_seller_minor": order.to_seller,
        "tips_minor": order.tips,
        "placed_at": order.placed_at,
        "accepted_at": order.accepted_at,
        "due_at": order.due_at,
        "completed_at": order.completed_at,
        "ended_at": order.ended_at,
        "deliveries_used": order.deliveries_used,
        "review_rating": order.review.rating if order.review else None,
    }


def ledger_row(line: LedgerLine) -> dict[str, Any]:
    return {
        "txn_id": line.txn_id,
        "at": line.at,
        "community_id": line.community_id,
        "order_id": line.order_id,
        "kind": line.kind,
        "memo": line.memo,
        "account": line.account,
        "currency": line.currency,
        "amount_minor": line.amount,
    }


def export_orders(orders: Iterable[Order], fmt: str, out: TextIO, reader: Callable[[Order], Actor]) -> int:
    """Write one row per order that `reader(order)` may read to `out`; the number of rows written."""
    return _export((order_row(order) for order in orders if order.readable(reader(order))), ORDER_FIELDS, fmt, out)


def export_ledger(lines: Iterable[LedgerLine], fmt: str, out: TextIO) -> int:
    """Write one row per ledger posting to `out`; the number of rows written."""
    return _export((ledger_row(line) for line in lines), LEDGER_FIELDS, fmt, out)


def _export(rows: Iterator[dict[str, Any]], fields: tuple[str, ...], fmt: str, out: TextIO) -> int:
    writers: dict[str, Callable[[Iterator[dict[str, Any]], tuple[str, ...], TextIO], int]] = {
        "csv": _write_csv, "json": _write_json_lines}
    writer = writers.get(fmt.strip().lower())
    if writer is None:
        raise ValueError("format is csv or json")
    return writer(rows, fields, out)


def _write_csv(rows: Iterator[dict[str, Any]], fields: tuple[str, ...], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
        count += 1
    return count


def _write_json_lines(rows: Iterator[dict[str, Any]], fields: tuple[str, ...], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, default=_json_default, ensure_ascii=False) + "\n")
        count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
