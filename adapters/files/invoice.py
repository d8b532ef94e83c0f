"""An order's PDFs: the buyer's sales invoice (what was bought and paid, never the fee) and the seller's
settlement statement (the order's amounts, the community's fee and the seller's net).

fpdf2's core fonts (Helvetica) cover Latin-1 only and no font file is bundled, so every piece of text is
made Latin-1 first (`latin1`): accents are kept or stripped, typographic punctuation is mapped to ASCII,
and anything else (emoji, CJK, Cyrillic...) becomes "?". This works on any machine and never fails on
what a seller or community chose to call things. Money is always formatted from integer minor units.
"""

import unicodedata
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from core.errors import Refused
from core.lifecycle import ESCROWED, OrderState
from core.money import fee, format_amount
from core.order import Order

_ENCODING = "latin-1"
_REPLACEMENT = "?"
_PUNCTUATION = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u2027": "-", "\u20ac": "EUR", "\u2122": "TM",
    "\u0131": "i", "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe",
})
_WIDTH = 180  # mm between the margins of an A4 page
_LABEL_WIDTH = 55


def latin1(text: str) -> str:
    """`text` in characters the PDF core fonts can show, on one line."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text).translate(_PUNCTUATION):
        category = unicodedata.category(char)
        if category == "Cc" or category in {"Zl", "Zp"}:
            out.append(" ")  # newlines, tabs and other controls
        elif category[0] == "C":
            continue  # format characters (zero-width joiners, bidi overrides), surrogates, private use
        elif _encodes(char):
            out.append(char)
        elif category[0] == "M":
            continue  # a combining mark that Latin-1 has no room for, or an emoji variation selector
        else:
            out.append(_fallback(char))
    return " ".join("".join(out).split())


def _encodes(text: str) -> bool:
    try:
        text.encode(_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _fallback(char: str) -> str:
    """'ő' becomes 'o', 'ﬁ' 'fi', a full-width 'Ａ' 'A'; what has no Latin form becomes '?'."""
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and _encodes(base) else _REPLACEMENT


def percent(bps: int) -> str:
    """Basis points as a percentage with two decimals: 1000 is '10.00%'. Integers only."""
    return f"{bps // 100}.{bps % 100:02d}%"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def invoice_filename(order: Order, statement: bool = False) -> str:
    return f"{'statement' if statement else 'invoice'}-{order.id}.pdf"


def check_invoiceable(order: Order) -> None:
    """A declined or expired order sold nothing: it gets no sales invoice."""
    if order.state in (OrderState.DECLINED, OrderState.EXPIRED):
        raise Refused(f"Order {order.id} was {order.state.label} and refunded: nothing was sold, so there is "
                      "no sales invoice.")


def sales_lines(order: Order) -> list[tuple[str, str]]:
    """The buyer's lines: every item, the tips, the total actually paid and what was refunded. No fee, no net."""
    terms, cur = order.terms, order.terms.currency
    lines = [(f"{'Service' if n == 0 else 'Extra'}: {item.name}", format_amount(item.amount, cur))
             for n, item in enumerate(terms.items)]
    if order.tips:
        lines.append(("Tips to the seller", format_amount(order.tips, cur)))
    lines.append(("Total paid", format_amount(terms.total + order.tips, cur)))
    if order.refunded:
        lines.append(("Refunded to you", format_amount(-order.refunded, cur)))
    return lines


def money_lines(order: Order) -> list[tuple[str, str]]:
    """The invoice's money summary: what was paid, refunded and tipped, the fee and the seller's net."""
    terms, cur = order.terms, order.terms.currency
    lines = [("Total paid", format_amount(terms.total, cur))]
    if order.refunded:
        lines.append(("Refunded to the buyer", format_amount(-order.refunded, cur)))
    lines.append(("Community fee rate", percent(terms.fee_bps)))
    if order.state in ESCROWED and order.escrow:
        # the money is still in escrow: the fee is taken, and the seller paid, when it is released
        lines += [("Fee (on release)", format_amount(terms.fee, cur)),
                  ("Forecast net earnings", format_amount(terms.net, cur))]
        return lines
    if order.tips:
        # the order's own money is released at most once, after any refund; the rest of the fees are on tips
        released = terms.total - order.refunded - order.escrow
        on_tips = order.fees - (fee(released, terms.fee_bps) if released > 0 else 0)
        lines += [("Tips", format_amount(order.tips, cur)), ("Fee on tips", format_amount(on_tips, cur))]
    lines += [("Fees taken", format_amount(order.fees, cur)),
              ("Net earnings", format_amount(order.to_seller, cur))]
    return lines


def _details(order: Order, community_name: str, issued_at: datetime,
             statement: bool = False) -> list[tuple[str, str]]:
    terms = order.terms
    status = order.state.label.capitalize() + (" (paused: a problem was reported)" if order.problem else "")
    rows = [
        ("Statement number" if statement else "Invoice number", f"{'STM' if statement else 'INV'}-{order.id}"),
        ("Issued", _when(issued_at)),
        ("Community", f"{community_name} ({order.community_id})"),
        ("Seller", order.seller_id),
        ("Buyer", order.buyer_id),
        ("Order", order.id),
        ("Status", status),
        ("Placed", _when(order.placed_at)),
        ("Accepted", _when(order.accepted_at)),
        ("Completed", _when(order.completed_at)),
    ]
    if order.ended_at and order.completed_at is None:
        rows.append(("Ended", _when(order.ended_at)))
    days = "day" if terms.delivery_days == 1 else "days"
    deliveries = "delivery" if terms.deliveries == 1 else "deliveries"
    rows += [
        ("Currency", terms.currency),
        ("Delivery", f"{terms.delivery_days} {days}, {terms.deliveries} {deliveries}"),
        ("Licence", terms.licence),
        ("Non-disclosure agreement", "Yes: the order is confidential" if terms.nda else "No"),
    ]
    return rows


def render_invoice(order: Order, community_name: str, issued_at: datetime) -> bytes:
    """The buyer's sales invoice for `order`, as the bytes of a PDF: paid, itemised, no fee and no net."""
    check_invoiceable(order)
    cur = order.terms.currency
    pdf = _document(f"Sales invoice INV-{order.id}", community_name, issued_at)
    _heading(pdf, "Sales invoice", 18)
    _key_values(pdf, _details(order, community_name, issued_at))
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, latin1(f"PAID {order.placed_at:%Y-%m-%d}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _heading(pdf, "Itemised order", 12)
    _amount_table(pdf, sales_lines(order))
    _footnote(pdf, f"Amounts in {cur}. Paid in full when the order was placed.")
    return bytes(pdf.output())


def render_statement(order: Order, community_name: str, issued_at: datetime) -> bytes:
    """The seller's settlement statement for `order`: its amounts, the community's fee and the seller's net."""
    cur = order.terms.currency
    pdf = _document(f"Settlement statement STM-{order.id}", community_name, issued_at)
    _heading(pdf, "Settlement statement", 18)
    _key_values(pdf, _details(order, community_name, issued_at, statement=True))
    _heading(pdf, "Itemised order", 12)
    _amount_table(pdf, [(f"{'Service' if n == 0 else 'Extra'}: {item.name}", format_amount(item.amount, cur))
                        for n, item in enumerate(order.terms.items)]
                  + [("Order total", format_amount(order.terms.total, cur))])
    _heading(pdf, "Fee and earnings", 12)
    _key_values(pdf, money_lines(order), align_right=True)
    _footnote(pdf, f"Amounts in {cur}. The community's fee is taken when the buyer's payment is released from "
                   "escrow, and on tips when they are paid; the seller's net earnings are the rest.")
    return bytes(pdf.output())


def _document(title: str, community_name: str, issued_at: datetime) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_creation_date(issued_at)
    pdf.set_title(title)  # metadata is Unicode: no need to make it Latin-1
    pdf.set_author(community_name)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, text: str, size: int) -> None:
    pdf.ln(6 if size < 18 else 0)
    pdf.set_font("helvetica", "B", size)
    pdf.cell(0, 10 if size >= 18 else 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 10)
    pdf.ln(2 if size >= 18 else 0)


def _amount_table(pdf: FPDF, lines: list[tuple[str, str]]) -> None:
    bold = FontFace(emphasis="BOLD")
    with pdf.table(col_widths=(_WIDTH - 50, 50), text_align=("LEFT", "RIGHT"), width=_WIDTH,
                   line_height=6) as table:
        heading = table.row()
        heading.cell("Item")
        heading.cell("Amount", align="RIGHT")
        for label, amount in lines:
            row = table.row()
            style = bold if label.startswith(("Total", "Order total")) else None
            row.cell(latin1(label), style=style)
            row.cell(amount, style=style)


def _footnote(pdf: FPDF, text: str) -> None:
    pdf.ln(6)
    pdf.set_font("helvetica", "I", 8)
    pdf.multi_cell(0, 4, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _key_values(pdf: FPDF, rows: list[tuple[str, str]], align_right: bool = False) -> None:
    with pdf.table(col_widths=(_LABEL_WIDTH, _WIDTH - _LABEL_WIDTH), width=_WIDTH, borders_layout="NONE",
                   first_row_as_headings=False, line_height=5.5,
                   text_align=("LEFT", "RIGHT" if align_right else "LEFT")) as table:
        for label, value in rows:
            row = table.row()
            row.cell(latin1(label), style=FontFace(emphasis="BOLD"))
            row.cell(latin1(value))
