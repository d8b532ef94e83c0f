"""Double-entry bookkeeping: accounts, balanced transactions, and the money moves of an order."""

from dataclasses import dataclass
from enum import StrEnum

from core.money import fee

PAYMENTS = "payments"  # money paid in from outside: the one kind of account that runs negative
EXTERNAL = (PAYMENTS,)


def payments(buyer: str) -> str:
    return f"{PAYMENTS}:{buyer}"


def escrow(order: str) -> str:
    return f"escrow:{order}"


def pending(seller: str, order: str) -> str:
    return f"pending:{seller}:{order}"


def available(seller: str) -> str:
    return f"available:{seller}"


def withdrawing(seller: str) -> str:
    return f"withdrawing:{seller}"


def paid_out(seller: str) -> str:
    return f"paid_out:{seller}"


FEES = "fees"


def is_external(account: str) -> bool:
    return account.split(":", 1)[0] in EXTERNAL


class TxnKind(StrEnum):
    PAYMENT = "payment"
    RELEASE = "release"
    REFUND = "refund"
    CLEARANCE = "clearance"
    TIP = "tip"
    WITHDRAWAL = "withdrawal"
    PAYOUT = "payout"


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount: int  # positive: money arrives in the account; negative: it leaves


@dataclass(frozen=True, slots=True)
class Transaction:
    kind: TxnKind
    currency: str
    postings: tuple[Posting, ...]
    order_id: str | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        if sum(p.amount for p in self.postings) != 0:
            raise ValueError(f"unbalanced {self.kind} transaction: {self.postings}")
        if any(p.amount == 0 for p in self.postings):
            raise ValueError(f"a {self.kind} transaction has an empty posting")


def move(kind: TxnKind, currency: str, source: str, target: str, amount: int, order_id: str | None = None,
         memo: str = "") -> Transaction:
    return Transaction(kind, currency, (Posting(source, -amount), Posting(target, amount)), order_id, memo)


def release(currency: str, source: str, seller: str, order_id: str, amount: int, fee_bps: int,
            kind: TxnKind = TxnKind.RELEASE) -> tuple[Transaction, int, int]:
    """Pay `amount` from `source` to the seller's pending balance, the community's fee taken off."""
    taken = fee(amount, fee_bps)
    postings = [Posting(source, -amount), Posting(pending(seller, order_id), amount - taken)]
    if taken:
        postings.append(Posting(FEES, taken))
    postings = [p for p in postings if p.amount]
    return Transaction(kind, currency, tuple(postings), order_id), amount - taken, taken
