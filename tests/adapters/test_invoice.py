"""The sales invoice PDF, rendered from real orders and read back with pypdf."""

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from adapters.files.invoice import invoice_filename, latin1, money_lines, percent, render_invoice, render_statement
from core import commands as c
from core.errors import Refused
from core.lifecycle import OrderState
from core.money import fee, format_amount
from core.order import Order
from core.order_parts import Resolution
from tests.market import SERVICE, Market

ISSUED = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def render(market: Market, order: Order, community: str = "Test Guild", buyer: bool = False) -> str:
    """The statement's (or the buyer's invoice's) text, whitespace collapsed so wrapped cells read as one line."""
    data = (render_invoice if buyer else render_statement)(order, community, ISSUED)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def test_a_completed_order_is_itemised_with_the_fee_taken_and_the_net(sqlite_market: Market) -> None:
    m = sqlite_market
    order = m.get(m.order(until=OrderState.COMPLETED, extras=("nda", "fast")))
    text = render(m, order)
    terms = order.terms
    assert "Settlement statement" in text
    assert f"STM-{order.id}" in text
    assert "2026-01-02 03:04 UTC" in text
    assert f"Test Guild ({order.community_id})" in text
    assert f"Seller {order.seller_id}" in text and f"Buyer {order.buyer_id}" in text
    assert "Status Completed" in text
    for label, moment in (("Placed", order.placed_at), ("Accepted", order.accepted_at),
                          ("Completed", order.completed_at)):
        assert moment is not None
        assert f"{label} {moment:%Y-%m-%d %H:%M} UTC" in text
    assert [item.name for item in terms.items] == ["Logo design", "Non-disclosure agreement", "Delivery in 1 day"]
    for item, kind in zip(terms.items, ("Service", "Extra", "Extra"), strict=True):
        assert f"{kind}: {item.name} {format_amount(item.amount, 'USD')}" in text
    assert terms.total == 8000 and order.fees == terms.fee == 800 and order.to_seller == terms.net == 7200
    assert "Total paid 80.00 USD" in text
    assert "Community fee rate 10.00%" in text
    assert "Fees taken 8.00 USD" in text
    assert "Net earnings 72.00 USD" in text
    assert "Fee (on release)" not in text and "Tips" not in text and "Refunded" not in text
    assert "Licence Commercial use" in text
    assert "Non-disclosure agreement Yes" in text


def test_money_still_in_escrow_shows_the_forecast_fee(sqlite_market: Market) -> None:
    m = sqlite_market
    order = m.get(m.order(until=OrderState.IN_PROGRESS))
    assert order.fees == 0 and order.escrow == order.terms.total == 5000
    text = render(m, order)
    assert "Fee (on release) 5.00 USD" in text
    assert "Forecast net earnings 45.00 USD" in text
    assert "Fees taken" not in text
    assert "Completed -" in text
    assert "Non-disclosure agreement No" in text


def test_tips_show_their_fee_and_the_fees_taken_include_it(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.COMPLETED)
    m.do(c.Tip, m.buyer, order_id=order_id, amount=777)
    order = m.get(order_id)
    on_tip = fee(777, 1000)
    assert on_tip == 78 and order.fees == 500 + on_tip and order.to_seller == 4500 + 777 - on_tip
    text = render(m, order)
    assert "Tips 7.77 USD" in text
    assert "Fee on tips 0.78 USD" in text
    assert "Fees taken 5.78 USD" in text
    assert "Net earnings 51.99 USD" in text


def test_a_partial_refund_is_shown_and_the_fee_is_on_what_was_released(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.IN_PROGRESS)
    m.do(c.Resolve, m.admin, order_id=order_id, resolution=Resolution.CANCEL, refund=2000, note="Half done")
    order = m.get(order_id)
    assert (order.state, order.refunded, order.fees, order.to_seller) == (OrderState.CANCELLED, 2000, 300, 2700)
    text = render(m, order)
    assert "Status Cancelled" in text
    assert "Refunded to the buyer -20.00 USD" in text
    assert "Fees taken 3.00 USD" in text
    assert "Net earnings 27.00 USD" in text
    assert f"Ended {order.ended_at:%Y-%m-%d %H:%M} UTC" in text


def test_a_declined_order_took_no_fee(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.AWAITING_ACCEPTANCE)
    m.do(c.DeclineOrder, m.seller, order_id=order_id, reason="Too busy")
    text = render(m, m.get(order_id))  # the seller's statement: nothing earned
    assert "Refunded to the buyer -50.00 USD" in text
    assert "Fees taken 0.00 USD" in text and "Net earnings 0.00 USD" in text
    assert "Accepted -" in text


def test_emoji_and_chinese_titles_render_without_error(sqlite_market: Market) -> None:
    m = sqlite_market
    title = "Logo 🎨 设计 for “Łódź café” 👨‍👩‍👧 — ok"
    order = m.get(m.order(until=OrderState.COMPLETED, title=title, licence="Лицензия: personal"))
    assert order.terms.title == title
    text = render(m, order, community="Gilde 🚀 公会")
    assert 'Service: Logo ? ?? for "Lódz café" ??? - ok 50.00 USD' in text
    assert "Gilde ? ??" in text
    assert "Licence ????????: personal" in text


def test_any_text_is_made_latin_1() -> None:
    assert latin1("café, naïve, Straße") == "café, naïve, Straße"
    assert latin1("Łódź, Ærø, ő, ﬁne, Ａ") == "Lódz, Ærø, o, fine, A"
    assert latin1("‘a’ “b” – c — d…") == "'a' \"b\" - c - d..."
    assert latin1("one\nline\twith\x00controls\u200b\u202e") == "one line with controls"
    assert latin1("👍🏽 ❤️ 中文") == "?? ? ??"
    assert latin1("price in €") == "price in EUR"
    for text in ("🎉" * 100, "\ud800 lone surrogate", "e\u0301", "\U0010ffff"):
        latin1(text).encode("latin-1")


@pytest.mark.parametrize(("bps", "shown"), [(0, "0.00%"), (5, "0.05%"), (1000, "10.00%"), (1234, "12.34%"),
                                            (9999, "99.99%")])
def test_the_fee_rate_is_a_percentage(bps: int, shown: str) -> None:
    assert percent(bps) == shown


def test_money_lines_use_the_currency_of_the_order(sqlite_market: Market) -> None:
    m = sqlite_market
    order = m.get(m.order(until=OrderState.COMPLETED, currency="JPY", price=5000, extras=("rev",)))
    assert dict(money_lines(order)) == {"Total paid": "5,500 JPY", "Community fee rate": "10.00%",
                                        "Fees taken": "550 JPY", "Net earnings": "4,950 JPY"}


def test_the_file_name_is_the_order_id(sqlite_market: Market) -> None:
    m = sqlite_market
    order = m.get(m.order())
    assert invoice_filename(order) == f"invoice-{order.id}.pdf"
    assert SERVICE.title in render(m, order)


def test_the_buyers_sales_invoice_shows_no_fee_and_no_net_but_the_tips_and_the_paid_total_and_date(
        sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.COMPLETED, extras=("nda",))
    m.do(c.Tip, m.buyer, order_id=order_id, amount=777)
    order = m.get(order_id)
    text = render(m, order, buyer=True)
    assert "Sales invoice" in text and f"INV-{order.id}" in text
    assert "Service: Logo design 50.00 USD" in text and "Extra: Non-disclosure agreement 10.00 USD" in text
    assert "Tips to the seller 7.77 USD" in text
    assert "Total paid 67.77 USD" in text
    assert f"PAID {order.placed_at:%Y-%m-%d}" in text
    for secret in ("Fee", "fee", "Net earnings", "net earnings", "10.00%"):
        assert secret not in text


@pytest.mark.parametrize("end", ["decline", "expire"])
def test_a_declined_or_expired_order_gets_no_sales_invoice(sqlite_market: Market, end: str) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.AWAITING_ACCEPTANCE)
    if end == "decline":
        m.do(c.DeclineOrder, m.seller, order_id=order_id, reason="Too busy")
    else:
        order = m.get(order_id)
        order._expire(order.placed_at)  # the acceptance window's effect, as the sweep runs it
        assert order.state is OrderState.EXPIRED
        with pytest.raises(Refused, match="no sales invoice"):
            render_invoice(order, "Test Guild", ISSUED)
        return
    with pytest.raises(Refused, match="no sales invoice"):
        render_invoice(m.get(order_id), "Test Guild", ISSUED)
