"""Operator exports: orders and ledger lines as CSV and JSON Lines, from a real database, streamed."""

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from adapters.db.queries import LedgerLine, Queries
from adapters.export import LEDGER_FIELDS, ORDER_FIELDS, export_ledger, export_orders, order_row
from core import commands as c
from core.actor import Actor
from core.lifecycle import OrderState
from core.order import Order
from tests.market import Market


@pytest.fixture
def filled(sqlite_market: Market) -> tuple[Market, list[str]]:
    """Orders in several states: one reviewed and tipped, one cancelled with a refund, one in progress."""
    m = sqlite_market
    done = m.order(until=OrderState.COMPLETED, extras=("nda",), title="Logo 🎨 設計, \"quoted\"\nnew line")
    m.do(c.LeaveReview, m.buyer, order_id=done, rating=4, text="Nice work")
    m.do(c.Tip, m.buyer, order_id=done, amount=333)
    declined = m.order(until=OrderState.AWAITING_ACCEPTANCE)
    m.do(c.DeclineOrder, m.seller, order_id=declined, reason="Busy")
    working = m.order(until=OrderState.IN_PROGRESS, currency="JPY", price=7000)
    fresh = m.order()
    return m, [done, declined, working, fresh]


def operator(order: Order) -> Actor:
    """The operator, an admin of every community, reads every order."""
    return Actor(order.community_id, "operator", is_admin=True)


def orders_of(m: Market) -> Iterator[Order]:
    return Queries(m.database).all_orders(batch=2)


def ledger_of(m: Market) -> list[LedgerLine]:
    return list(Queries(m.database).ledger_lines())


def when(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def test_orders_as_csv_round_trip(filled: tuple[Market, list[str]]) -> None:
    m, ids = filled
    out = io.StringIO(newline="")
    assert export_orders(orders_of(m), "csv", out, operator) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == ORDER_FIELDS
    assert sorted(r["id"] for r in rows) == sorted(ids)
    for row in rows:
        order = m.get(row["id"])
        assert row["state"] == order.state.value and row["community_id"] == order.community_id
        assert (row["buyer_id"], row["seller_id"]) == (order.buyer_id, order.seller_id)
        assert row["title"] == order.terms.title and row["currency"] == order.terms.currency
        minor = {k: int(v) for k, v in row.items() if k.endswith("_minor")}
        assert minor == {"total_minor": order.terms.total, "fee_minor": order.terms.fee,
                         "net_minor": order.terms.net, "fees_taken_minor": order.fees,
                         "refunded_minor": order.refunded, "to_seller_minor": order.to_seller,
                         "tips_minor": order.tips}
        for name in ("placed_at", "accepted_at", "due_at", "completed_at", "ended_at"):
            assert when(row[name]) == getattr(order, name), name
        assert int(row["deliveries_used"]) == order.deliveries_used
        assert row["review_rating"] == (str(order.review.rating) if order.review else "")
    done = next(r for r in rows if r["id"] == ids[0])
    assert done["title"] == 'Logo 🎨 設計, "quoted"\nnew line'
    assert (done["review_rating"], done["tips_minor"], done["fees_taken_minor"]) == ("4", "333", str(600 + 33))
    working = next(r for r in rows if r["id"] == ids[2])
    assert (working["currency"], working["total_minor"], working["fee_minor"]) == ("JPY", "7000", "700")
    assert working["completed_at"] == "" and working["accepted_at"]


def test_orders_as_json_lines_round_trip(filled: tuple[Market, list[str]]) -> None:
    m, ids = filled
    out = io.StringIO()
    assert export_orders(orders_of(m), "json", out, operator) == 4
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    for line in lines:
        row = json.loads(line)
        order = m.get(row["id"])
        assert list(row) == list(ORDER_FIELDS)
        expected = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in order_row(order).items()}
        assert row == expected
        assert when(row["placed_at"]) == order.placed_at
        assert row["total_minor"] == order.terms.total and isinstance(row["total_minor"], int)
    rows = {json.loads(line)["id"]: json.loads(line) for line in lines}
    assert rows[ids[0]]["review_rating"] == 4 and rows[ids[0]]["title"].startswith("Logo 🎨 設計")
    assert rows[ids[1]]["refunded_minor"] == 5000 and rows[ids[1]]["state"] == "declined"
    assert rows[ids[3]]["accepted_at"] is None and rows[ids[3]]["review_rating"] is None


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_ledger_lines_balance_per_transaction(filled: tuple[Market, list[str]], fmt: str) -> None:
    m, _ = filled
    lines = ledger_of(m)
    out = io.StringIO(newline="")
    assert export_ledger(iter(lines), fmt, out) == len(lines) > 0
    if fmt == "csv":
        rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
        assert tuple(rows[0]) == LEDGER_FIELDS
    else:
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == len(lines)
    sums: dict[int, int] = defaultdict(int)
    kinds = set()
    for row, line in zip(rows, lines, strict=True):
        assert int(row["txn_id"]) == line.txn_id and row["account"] == line.account
        assert int(row["amount_minor"]) == line.amount and row["kind"] == line.kind
        assert datetime.fromisoformat(row["at"]) == line.at
        sums[int(row["txn_id"])] += int(row["amount_minor"])
        kinds.add(row["kind"])
    assert sums and all(total == 0 for total in sums.values()), sums
    assert {"payment", "release", "refund", "tip"} <= kinds


def test_rows_are_written_as_they_come(filled: tuple[Market, list[str]]) -> None:
    """The export writes each row before it asks for the next: nothing is gathered first."""
    m, _ = filled
    out = io.StringIO()
    seen: list[int] = []

    def watched() -> Iterator[Order]:
        for order in orders_of(m):
            seen.append(out.getvalue().count("\n"))
            yield order

    assert export_orders(watched(), "json", out, operator) == 4
    assert seen == [0, 1, 2, 3]


def test_an_unknown_format_is_refused_before_anything_is_read_or_written(sqlite_market: Market) -> None:
    def untouched() -> Iterator[Order]:
        raise AssertionError("read")
        yield

    out = io.StringIO()
    for fmt in ("xml", "", "jsonl"):
        with pytest.raises(ValueError, match="format is csv or json"):
            export_orders(untouched(), fmt, out, operator)
        with pytest.raises(ValueError, match="format is csv or json"):
            export_ledger(iter(()), fmt, out)
    assert out.getvalue() == ""


def test_nothing_to_export_is_a_header_or_nothing(sqlite_market: Market) -> None:
    out = io.StringIO(newline="")
    assert export_orders(iter(()), "CSV", out, operator) == 0
    assert out.getvalue() == ",".join(ORDER_FIELDS) + "\r\n"
    out = io.StringIO()
    assert export_ledger(iter(()), "json", out) == 0
    assert out.getvalue() == ""


def test_csv_text_cannot_run_as_a_spreadsheet_formula(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(title='=HYPERLINK("http://evil.example","x")')
    out = io.StringIO(newline="")
    export_orders([m.get(order_id)], "csv", out, operator)
    row = next(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert row["title"] == '\'=HYPERLINK("http://evil.example","x")'
    out = io.StringIO()
    export_orders([m.get(order_id)], "json", out, operator)
    assert json.loads(out.getvalue())["title"] == '=HYPERLINK("http://evil.example","x")'
