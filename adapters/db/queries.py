"""The read side: lists and lookups for people, operators and exports. Never writes."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from adapters.db import codec
from adapters.db.connect import Database
from adapters.db.tables import (
    BalanceRow,
    CommunityRow,
    LedgerEntryRow,
    LedgerTxnRow,
    ListingRow,
    OfferRow,
    OrderRow,
    OutboxRow,
    TimerRow,
    WithdrawalRow,
)
from core import ledger
from core.actor import Actor
from core.community import Community, Withdrawal
from core.errors import NotFound
from core.events import Event
from core.ids import normalise
from core.order import Order
from core.policy import Policy
from core.terms import Listing, Offer


@dataclass(frozen=True, slots=True)
class Balances:
    """A seller's money in one currency."""

    currency: str
    pending: int = 0  # earned, still clearing
    available: int = 0  # cleared: can be withdrawn
    withdrawing: int = 0  # asked for, not yet paid out
    paid_out: int = 0


@dataclass(frozen=True, slots=True)
class LedgerLine:
    txn_id: int
    at: datetime
    community_id: str
    order_id: str | None
    kind: str
    memo: str
    account: str
    currency: str
    amount: int


class Queries:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return Session(self.database.reader)

    def community(self, community_id: str) -> Community | None:
        with self._session() as s:
            row = s.get(CommunityRow, community_id)
            if row is None:
                return None
            return Community(row.id, row.platform, row.name, codec.load(Policy, row.policy), row.created_at)

    def communities(self) -> list[Community]:
        with self._session() as s:
            return [Community(r.id, r.platform, r.name, codec.load(Policy, r.policy), r.created_at)
                    for r in s.scalars(select(CommunityRow).order_by(CommunityRow.id))]

    def order(self, order_id: str) -> Order | None:
        with self._session() as s:
            row = s.get(OrderRow, order_id)
            return None if row is None else _order(row)

    def orders(self, community_id: str | None = None, user_id: str | None = None, state: str | None = None,
               paused: bool | None = None, limit: int = 200) -> list[Order]:
        query: Select[Any] = select(OrderRow).order_by(OrderRow.placed_at.desc()).limit(limit)
        if community_id:
            query = query.where(OrderRow.community_id == community_id)
        if user_id:
            query = query.where(or_(OrderRow.buyer_id == user_id, OrderRow.seller_id == user_id))
        if state:
            query = query.where(OrderRow.state == state)
        if paused is not None:
            query = query.where(OrderRow.paused == paused)
        with self._session() as s:
            return [_order(row) for row in s.scalars(query)]

    def all_orders(self, community_id: str | None = None, batch: int = 500) -> Iterator[Order]:
        """Every order, oldest first, read in batches: exports never hold them all in memory."""
        after = ""
        while True:
            query = select(OrderRow).where(OrderRow.id > after).order_by(OrderRow.id).limit(batch)
            if community_id:
                query = query.where(OrderRow.community_id == community_id)
            with self._session() as s:
                rows = list(s.scalars(query))
            if not rows:
                return
            yield from (_order(row) for row in rows)
            after = rows[-1].id

    # ---- what a person may read: every adapter's read of an order goes through Order.check_read ----------
    def read_order(self, actor: Actor, order_id: str) -> Order:
        """The order, when `actor` may read it; else NotFound (not here) or Refused (not yours)."""
        order = self.order(order_id.strip().upper())
        if order is None:
            raise NotFound(f"There is no order {order_id} here.")
        order.check_read(actor)
        return order

    def read_orders(self, actor: Actor, everyone: bool = False, state: str | None = None,
                    paused: bool | None = None, limit: int = 200) -> list[Order]:
        """The orders `actor` may read, newest first: their own, or with `everyone` all their community's."""
        found = self.orders(actor.community_id, None if everyone else actor.user_id, state, paused, limit)
        return [order for order in found if order.readable(actor)]

    def read_all_orders(self, reader: Callable[[Order], Actor], community_id: str | None = None) -> Iterator[Order]:
        """Every order `reader(order)` may read, oldest first, in batches: what exports stream."""
        return (order for order in self.all_orders(community_id) if order.readable(reader(order)))

    def read_history(self, actor: Actor, order_id: str) -> list[Event]:
        """An order's whole record, when `actor` may read the order."""
        return self.history(self.read_order(actor, order_id).id)

    def listing(self, listing_id: str) -> Listing | None:
        with self._session() as s:
            row = s.get(ListingRow, listing_id)
            return None if row is None else codec.load(Listing, row.data)

    def listings(self, community_id: str, seller_id: str | None = None, active_only: bool = True) -> list[Listing]:
        query = select(ListingRow).where(ListingRow.community_id == community_id).order_by(ListingRow.created_at)
        if seller_id:
            query = query.where(ListingRow.seller_id == seller_id)
        if active_only:
            query = query.where(ListingRow.active.is_(True))  # type: ignore[attr-defined]
        with self._session() as s:
            return [codec.load(Listing, row.data) for row in s.scalars(query)]

    def offer(self, offer_id: str) -> Offer | None:
        """An offer by its id as people type it (any case), whatever its status."""
        with self._session() as s:
            row = s.get(OfferRow, normalise(offer_id))
            return None if row is None else codec.load(Offer, row.data)

    def offers(self, community_id: str, user_id: str, now: datetime, status: str = "open") -> list[Offer]:
        """A person's offers with this status; open ones only while they can still be accepted (an offer past
        its expiry keeps the status open in the table, since nothing acts on it, but is no longer open)."""
        query = (select(OfferRow).where(OfferRow.community_id == community_id, OfferRow.status == status,
                                        or_(OfferRow.buyer_id == user_id, OfferRow.seller_id == user_id))
                 .order_by(OfferRow.created_at))
        with self._session() as s:
            found = [codec.load(Offer, row.data) for row in s.scalars(query)]
        return [offer for offer in found if status != "open" or now < offer.expires_at]

    def withdrawals(self, community_id: str | None = None, state: str | None = None,
                    seller_id: str | None = None) -> list[Withdrawal]:
        query = select(WithdrawalRow).order_by(WithdrawalRow.requested_at)
        if community_id:
            query = query.where(WithdrawalRow.community_id == community_id)
        if state:
            query = query.where(WithdrawalRow.state == state)
        if seller_id:
            query = query.where(WithdrawalRow.seller_id == seller_id)
        with self._session() as s:
            return [codec.load(Withdrawal, row.data) for row in s.scalars(query)]

    def withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        with self._session() as s:
            row = s.get(WithdrawalRow, withdrawal_id)
            return None if row is None else codec.load(Withdrawal, row.data)

    def balances(self, community_id: str, seller_id: str) -> list[Balances]:
        """The seller's pending, available, withdrawing and paid-out money, per currency."""
        accounts = {ledger.available(seller_id): "available", ledger.withdrawing(seller_id): "withdrawing",
                    ledger.paid_out(seller_id): "paid_out"}
        pending_prefix = ledger.pending(seller_id, "")
        query = select(BalanceRow.account, BalanceRow.currency, BalanceRow.balance).where(
            BalanceRow.community_id == community_id,
            or_(BalanceRow.account.in_(accounts), BalanceRow.account.startswith(pending_prefix)))
        found: dict[str, dict[str, int]] = {}
        with self._session() as s:
            for account, currency, amount in s.execute(query):
                field = accounts.get(account, "pending")
                mine = found.setdefault(currency, {})
                mine[field] = mine.get(field, 0) + amount
        return [Balances(currency, **fields) for currency, fields in sorted(found.items())]

    def ledger_lines(self, community_id: str | None = None) -> Iterator[LedgerLine]:
        query = (select(LedgerTxnRow.id, LedgerTxnRow.at, LedgerTxnRow.community_id, LedgerTxnRow.order_id,
                        LedgerTxnRow.kind, LedgerTxnRow.memo, LedgerEntryRow.account, LedgerEntryRow.currency,
                        LedgerEntryRow.amount)
                 .join(LedgerEntryRow, LedgerEntryRow.txn_id == LedgerTxnRow.id)
                 .order_by(LedgerTxnRow.id, LedgerEntryRow.id))
        if community_id:
            query = query.where(LedgerTxnRow.community_id == community_id)
        with self._session() as s:
            for row in s.execute(query.execution_options(yield_per=1000)):
                yield LedgerLine(*row)

    def history(self, order_id: str) -> list[Event]:
        """Every event of an order, in order: its record, the chat transcript included."""
        query = select(OutboxRow.type, OutboxRow.payload).where(OutboxRow.order_id == order_id).order_by(OutboxRow.id)
        with self._session() as s:
            return [codec.load_event(kind, payload) for kind, payload in s.execute(query)]

    def next_due(self) -> datetime | None:
        """The earliest pending deadline, read without taking the write lock."""
        with self._session() as s:
            due: datetime | None = s.scalar(select(TimerRow.due_at).order_by(TimerRow.due_at).limit(1))
            return due

    def unsent(self) -> int:
        with self._session() as s:
            return s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))) or 0


def _order(row: OrderRow) -> Order:
    order = codec.load(Order, row.data)
    order.version = row.version
    return order
