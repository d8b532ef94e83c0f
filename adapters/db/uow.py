"""The unit of work on SQLAlchemy: one transaction for a change, its ledger, timers and outbox."""

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from adapters.db import codec
from adapters.db.connect import Database
from adapters.db.tables import (
    BalanceRow,
    CommandRow,
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
from core.community import Community, Withdrawal
from core.errors import Conflict
from core.events import Event, OrderEvent
from core.ledger import Transaction
from core.order import Order
from core.order_parts import TimerKind
from core.policy import Policy
from core.ports import DueTimer
from core.terms import Listing, Offer

T = TypeVar("T")


class _Documents(Generic[T]):
    """Aggregates kept as a JSON document plus the columns that queries filter on."""

    def __init__(self, session: Session, row: type[Any], kind: type[T], columns: Callable[[T], dict[str, Any]]):
        self.session, self.row, self.kind, self.columns = session, row, kind, columns

    def get(self, key: str) -> T | None:
        row = self.session.get(self.row, key)
        return None if row is None else codec.load(self.kind, row.data)

    def add(self, item: T) -> None:
        self.session.add(self.row(data=codec.dump(item), **self.columns(item)))

    def save(self, item: T) -> None:
        fields = self.columns(item)
        row = self.session.get(self.row, fields["id"])
        for name, value in fields.items():
            setattr(row, name, value)
        row.data = codec.dump(item)


class _Communities:
    def __init__(self, session: Session):
        self.session = session

    def get(self, key: str) -> Community | None:
        row = self.session.get(CommunityRow, key)
        if row is None:
            return None
        return Community(row.id, row.platform, row.name, codec.load(Policy, row.policy), row.created_at)

    def add(self, item: Community) -> None:
        self.session.add(CommunityRow(id=item.id, platform=item.platform, name=item.name,
                                      policy=codec.dump(item.policy), created_at=item.created_at))

    def save(self, item: Community) -> None:
        row = self.session.get(CommunityRow, item.id)
        assert row is not None
        row.name, row.policy = item.name, codec.dump(item.policy)


class _Orders:
    def __init__(self, session: Session, clock_now: Callable[[], datetime]):
        self.session = session
        self.now = clock_now
        self.rows: dict[str, OrderRow] = {}
        self.snapshots: dict[str, dict[TimerKind, datetime]] = {}
        self.fired: set[tuple[str, str]] = set()

    def get(self, key: str, lock: bool = False) -> Order | None:
        row = self.session.get(OrderRow, key, with_for_update=lock or None)
        if row is None:
            return None
        order = codec.load(Order, row.data)
        order.version = row.version
        self.rows[key] = row
        self.snapshots[key] = {k: v for k, v in order.deadlines().items() if (key, k.value) not in self.fired}
        return order

    def add(self, order: Order) -> None:
        row = OrderRow(id=order.id, community_id=order.community_id, buyer_id=order.buyer_id,
                       seller_id=order.seller_id, version=0, **self._columns(order))
        self.session.add(row)
        self.session.flush()
        self.rows[order.id], self.snapshots[order.id] = row, {}
        self._sync_timers(order)

    def save(self, order: Order) -> None:
        """Write the order first, version-checked, so that a concurrent change is found before anything else."""
        row = self.rows[order.id]
        for name, value in self._columns(order).items():
            setattr(row, name, value)
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict() from None
        self._sync_timers(order)

    def _columns(self, order: Order) -> dict[str, Any]:
        return {"state": order.state.value, "paused": order.problem is not None, "placed_at": order.placed_at,
                "updated_at": self.now(), "due_at": order.due_at, "data": codec.dump(order)}

    def _sync_timers(self, order: Order) -> None:
        """Make the timers table hold exactly this order's deadlines, writing only what changed."""
        before, after = self.snapshots[order.id], order.deadlines()
        for kind in before.keys() - after.keys():
            self.session.execute(delete(TimerRow).where(TimerRow.order_id == order.id, TimerRow.kind == kind.value))
        for kind, due in after.items():
            if kind not in before:
                self.session.execute(insert(TimerRow).values(order_id=order.id, kind=kind.value, due_at=due))
            elif before[kind] != due:
                self.session.execute(update(TimerRow).where(TimerRow.order_id == order.id,
                                                            TimerRow.kind == kind.value).values(due_at=due))
        self.snapshots[order.id] = after


class _Timers:
    def __init__(self, session: Session, orders: _Orders):
        self.session, self.orders = session, orders

    def claim_due(self, now: datetime) -> DueTimer | None:
        query = (select(TimerRow.id, TimerRow.order_id, TimerRow.kind, TimerRow.due_at)
                 .where(TimerRow.due_at <= now).order_by(TimerRow.due_at).limit(1)
                 .with_for_update(skip_locked=True))
        found = self.session.execute(query).first()
        return None if found is None else DueTimer(found.id, found.order_id, TimerKind(found.kind), found.due_at)

    def done(self, timer: DueTimer) -> None:
        self.session.execute(delete(TimerRow).where(TimerRow.id == timer.id))
        self.orders.fired.add((timer.order_id, timer.kind.value))

    def next_due(self) -> datetime | None:
        return self.session.execute(select(TimerRow.due_at).order_by(TimerRow.due_at).limit(1)).scalar()


class _Ledger:
    def __init__(self, session: Session):
        self.session = session

    def post(self, community_id: str, txn: Transaction, at: datetime) -> None:
        txn_id = self.session.execute(insert(LedgerTxnRow).values(
            community_id=community_id, order_id=txn.order_id, kind=txn.kind.value, currency=txn.currency,
            memo=txn.memo, at=at).returning(LedgerTxnRow.id)).scalar_one()
        self.session.execute(insert(LedgerEntryRow), [
            {"txn_id": txn_id, "community_id": community_id, "account": p.account, "currency": txn.currency,
             "amount": p.amount} for p in txn.postings])
        for posting in sorted(txn.postings, key=lambda p: p.account):  # one lock order: no deadlocks
            self._add_to_balance(community_id, posting.account, txn.currency, posting.amount)

    def _add_to_balance(self, community_id: str, account: str, currency: str, amount: int) -> None:
        key = (BalanceRow.community_id == community_id, BalanceRow.account == account,
               BalanceRow.currency == currency)
        changed = self.session.execute(update(BalanceRow).where(*key).values(balance=BalanceRow.balance + amount))
        if changed.rowcount:  # type: ignore[attr-defined]
            return
        try:
            with self.session.begin_nested():
                self.session.execute(insert(BalanceRow).values(community_id=community_id, account=account,
                                                               currency=currency, balance=amount))
        except IntegrityError:  # another transaction opened this account first, or this would overdraw it
            retried = self.session.execute(update(BalanceRow).where(*key).values(balance=BalanceRow.balance + amount))
            if not retried.rowcount:  # type: ignore[attr-defined]
                raise

    def balance(self, community_id: str, account: str, currency: str, lock: bool = False) -> int:
        query = select(BalanceRow.balance).where(BalanceRow.community_id == community_id,
                                                 BalanceRow.account == account, BalanceRow.currency == currency)
        return self.session.execute(query.with_for_update() if lock else query).scalar() or 0


class _Outbox:
    def __init__(self, session: Session):
        self.session = session

    def add(self, event: Event) -> None:
        self.session.execute(insert(OutboxRow).values(
            community_id=event.community_id, platform=event.community_id.split(":", 1)[0],
            order_id=event.order_id if isinstance(event, OrderEvent) else None, type=type(event).__name__,
            payload=codec.dump_event(event), created_at=event.at, available_at=event.at, attempts=0))


class _Commands:
    def __init__(self, session: Session):
        self.session = session

    def seen(self, key: str) -> str | None:
        return self.session.execute(select(CommandRow.ref).where(CommandRow.key == key)).scalar()

    def add(self, key: str, community_id: str, ref: str, at: datetime) -> None:
        try:
            with self.session.begin_nested():
                self.session.add(CommandRow(key=key, community_id=community_id, ref=ref, at=at))
        except IntegrityError:
            raise Conflict() from None


class SqlUnitOfWork:
    def __init__(self, database: Database, now: Callable[[], datetime]):
        self.database, self.now = database, now

    def __enter__(self) -> Self:
        self.session = Session(self.database.writer, expire_on_commit=False, autoflush=False)
        s = self.session
        self.communities = _Communities(s)
        self.listings = _Documents(s, ListingRow, Listing, _listing_columns)
        self.offers = _Documents(s, OfferRow, Offer, _offer_columns)
        self.orders = _Orders(s, self.now)
        self.withdrawals = _Documents(s, WithdrawalRow, Withdrawal, _withdrawal_columns)
        self.ledger = _Ledger(s)
        self.timers = _Timers(s, self.orders)
        self.outbox = _Outbox(s)
        self.commands = _Commands(s)
        return self

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise Conflict() from None
        except OperationalError as error:
            self.session.rollback()
            if _retryable(error):
                raise Conflict() from None
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()
        if isinstance(error, OperationalError) and _retryable(error):
            raise Conflict() from error


def _retryable(error: DBAPIError) -> bool:
    """Deadlocks, serialization failures and SQLite's lock timeout: the transaction can simply run again."""
    return getattr(error.orig, "sqlstate", None) in {"40001", "40P01"} or "database is locked" in str(error.orig)


def _listing_columns(item: Listing) -> dict[str, Any]:
    return {"id": item.id, "community_id": item.community_id, "seller_id": item.seller_id, "active": item.active,
            "created_at": item.created_at, "updated_at": item.updated_at}


def _offer_columns(item: Offer) -> dict[str, Any]:
    return {"id": item.id, "community_id": item.community_id, "seller_id": item.seller_id,
            "buyer_id": item.buyer_id, "status": item.status.value, "created_at": item.created_at}


def _withdrawal_columns(item: Withdrawal) -> dict[str, Any]:
    return {"id": item.id, "community_id": item.community_id, "seller_id": item.seller_id,
            "state": item.state.value, "requested_at": item.requested_at}
