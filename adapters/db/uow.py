"""The unit of work: one transaction for a change, its ledger, its timers and its outbox.

The write path runs on a plain SQLAlchemy Connection with statements built once: the ORM's
per-statement machinery cost several times the database's own work here (see bench/engine.py).
Orders are versioned: every UPDATE says `WHERE version = :version`, and a count of zero means
someone else changed the order first (optimistic concurrency).
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import cache, lru_cache
from time import monotonic
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import Connection, Insert, Select, Table, Update, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

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
from core.ledger import Transaction, is_external
from core.order import Order
from core.order_parts import TimerKind
from core.policy import Policy
from core.ports import DueTimer
from core.terms import Listing, Offer

T = TypeVar("T")


def _table(row: type[Any]) -> Table:
    table: Table = row.__table__
    return table


COMMUNITIES, LISTINGS, OFFERS, ORDERS = _table(CommunityRow), _table(ListingRow), _table(OfferRow), _table(OrderRow)
WITHDRAWALS, TIMERS, TXNS, ENTRIES = _table(WithdrawalRow), _table(TimerRow), _table(LedgerTxnRow), _table(LedgerEntryRow)
BALANCES, OUTBOX, HANDLED = _table(BalanceRow), _table(OutboxRow), _table(CommandRow)


@lru_cache(maxsize=256)
def _policy(text: str) -> Policy:
    """Policies change rarely and are read by every command: decode each distinct one once."""
    return codec.load(Policy, text)


class _Communities:
    """Every command reads its community: a copy read in the last TTL seconds is used instead.

    A policy change made in this process is seen at once; one made by another process within TTL.
    """

    TTL = 2.0
    GET = select(COMMUNITIES).where(COMMUNITIES.c.id == bindparam("key"))
    ADD = insert(COMMUNITIES)
    SAVE = update(COMMUNITIES).where(COMMUNITIES.c.id == bindparam("key")).values(
        name=bindparam("new_name"), policy=bindparam("new_policy"))

    def __init__(self, connection: Connection, cache: dict[str, Any]):
        self.connection, self.cache = connection, cache
        self.changed: set[str] = set()

    def forget_changed(self) -> None:
        for key in self.changed:
            self.cache.pop(key, None)

    def get(self, key: str) -> Community | None:
        cached = self.cache.get(key)
        if cached and monotonic() - cached[0] < self.TTL:
            return replace(cached[1])
        row = self.connection.execute(self.GET, {"key": key}).first()
        if row is None:
            return None
        community = Community(row.id, row.platform, row.name, _policy(row.policy), row.created_at)
        self.cache[key] = (monotonic(), replace(community))
        return community

    def add(self, item: Community) -> None:
        self.connection.execute(self.ADD, {"id": item.id, "platform": item.platform, "name": item.name,
                                           "policy": codec.dump(item.policy), "created_at": item.created_at})

    def save(self, item: Community) -> None:
        self.changed.add(item.id)
        self.connection.execute(self.SAVE, {"key": item.id, "new_name": item.name,
                                            "new_policy": codec.dump(item.policy)})


@cache
def _document_statements(table: Table) -> tuple[Select[Any], Insert, Update]:
    """Get, add and save for a document table, built once."""
    names = [c.name for c in table.columns if c.name != "id"]
    return (select(table.c.data).where(table.c.id == bindparam("key")), insert(table),
            update(table).where(table.c.id == bindparam("key")).values({n: bindparam(f"n_{n}") for n in names}))


class _Documents(Generic[T]):
    """Aggregates kept as a JSON document plus the columns that queries filter on."""

    def __init__(self, connection: Connection, table: Table, kind: type[T], columns: Callable[[T], dict[str, Any]]):
        self.connection, self.kind, self.columns = connection, kind, columns
        self.get_statement, self.add_statement, self.save_statement = _document_statements(table)

    def get(self, key: str) -> T | None:
        data = self.connection.execute(self.get_statement, {"key": key}).scalar()
        return None if data is None else codec.load(self.kind, data)

    def add(self, item: T) -> None:
        self.connection.execute(self.add_statement, {"data": codec.dump(item), **self.columns(item)})

    def save(self, item: T) -> None:
        fields = {"data": codec.dump(item), **self.columns(item)}
        key = fields.pop("id")
        self.connection.execute(self.save_statement, {"key": key, **{f"n_{k}": v for k, v in fields.items()}})


class _Orders:
    GET = select(ORDERS.c.data, ORDERS.c.version).where(ORDERS.c.id == bindparam("key"))
    ADD = insert(ORDERS)
    SAVE = (update(ORDERS).where(ORDERS.c.id == bindparam("key"), ORDERS.c.version == bindparam("expected"))
            .values(state=bindparam("n_state"), paused=bindparam("n_paused"), updated_at=bindparam("n_updated_at"),
                    due_at=bindparam("n_due_at"), data=bindparam("n_data"), version=bindparam("n_version")))
    ADD_TIMER = insert(TIMERS)
    MOVE_TIMER = update(TIMERS).where(TIMERS.c.order_id == bindparam("order"), TIMERS.c.kind == bindparam("k")).values(
        due_at=bindparam("n_due"))
    DROP_TIMERS = delete(TIMERS).where(TIMERS.c.order_id == bindparam("order"),
                                       TIMERS.c.kind.in_(bindparam("kinds", expanding=True)))

    def __init__(self, connection: Connection, now: Callable[[], datetime]):
        self.connection, self.now = connection, now
        self.snapshots: dict[str, dict[TimerKind, datetime]] = {}
        self.fired: set[tuple[str, TimerKind]] = set()

    def get(self, key: str) -> Order | None:
        row = self.connection.execute(self.GET, {"key": key}).first()
        if row is None:
            return None
        order = codec.load(Order, row.data)
        order.version = row.version
        self.snapshots[key] = {k: v for k, v in order.deadlines().items() if (key, k) not in self.fired}
        return order

    def add(self, order: Order) -> None:
        order.version = 1
        self.connection.execute(self.ADD, {"id": order.id, "community_id": order.community_id,
                                           "buyer_id": order.buyer_id, "seller_id": order.seller_id,
                                           "placed_at": order.placed_at, "version": 1, **self._columns(order)})
        self.snapshots[order.id] = {}
        self._sync_timers(order)

    def save(self, order: Order) -> None:
        """Write the order first, version-checked, so that a concurrent change is found before anything else."""
        columns = {f"n_{name}": value for name, value in self._columns(order).items()}
        written = self.connection.execute(self.SAVE, {"key": order.id, "expected": order.version,
                                                      "n_version": order.version + 1, **columns})
        if written.rowcount != 1:
            raise Conflict()
        order.version += 1
        self._sync_timers(order)

    def _columns(self, order: Order) -> dict[str, Any]:
        return {"state": order.state.value, "paused": order.problem is not None, "updated_at": self.now(),
                "due_at": order.due_at, "data": codec.dump(order)}

    def _sync_timers(self, order: Order) -> None:
        """Make the timers table hold exactly this order's deadlines, writing only what changed."""
        before, after = self.snapshots[order.id], order.deadlines()
        if gone := [kind.value for kind in before.keys() - after.keys()]:
            self.connection.execute(self.DROP_TIMERS, {"order": order.id, "kinds": gone})
        if new := [{"order_id": order.id, "kind": k.value, "due_at": due} for k, due in after.items() if k not in before]:
            self.connection.execute(self.ADD_TIMER, new)
        for kind, due in after.items():
            if kind in before and before[kind] != due:
                self.connection.execute(self.MOVE_TIMER, {"order": order.id, "k": kind.value, "n_due": due})
        self.snapshots[order.id] = after


class _Timers:
    DUE = (select(TIMERS.c.id, TIMERS.c.order_id, TIMERS.c.kind, TIMERS.c.due_at)
           .where(TIMERS.c.due_at <= bindparam("now")).order_by(TIMERS.c.due_at).limit(1)
           .with_for_update(skip_locked=True))
    DONE = delete(TIMERS).where(TIMERS.c.id == bindparam("key"))

    def __init__(self, connection: Connection, orders: _Orders):
        self.connection, self.orders = connection, orders

    def claim_due(self, now: datetime) -> DueTimer | None:
        found = self.connection.execute(self.DUE, {"now": now}).first()
        return None if found is None else DueTimer(found.id, found.order_id, TimerKind(found.kind), found.due_at)

    def done(self, timer: DueTimer) -> None:
        self.connection.execute(self.DONE, {"key": timer.id})
        self.orders.fired.add((timer.order_id, timer.kind))



class _Ledger:
    ADD_TXN = insert(TXNS).returning(TXNS.c.id)
    ADD_ENTRY = insert(ENTRIES)
    KEY = (BALANCES.c.community_id == bindparam("b_community"), BALANCES.c.account == bindparam("b_account"),
           BALANCES.c.currency == bindparam("b_currency"))
    TAKE = update(BALANCES).where(*KEY).values(balance=BALANCES.c.balance + bindparam("amount"))
    BALANCE = select(BALANCES.c.balance).where(*KEY)

    def __init__(self, connection: Connection):
        self.connection = connection
        self.add = _ADD_TO_BALANCE[connection.dialect.name]

    def post(self, community_id: str, txn: Transaction, at: datetime) -> None:
        txn_id = self.connection.execute(self.ADD_TXN, {
            "community_id": community_id, "order_id": txn.order_id, "kind": txn.kind.value,
            "currency": txn.currency, "memo": txn.memo, "at": at}).scalar_one()
        self.connection.execute(self.ADD_ENTRY, [
            {"txn_id": txn_id, "community_id": community_id, "account": p.account, "currency": txn.currency,
             "amount": p.amount} for p in txn.postings])
        for posting in sorted(txn.postings, key=lambda p: p.account):  # one lock order: no deadlocks
            self._add_to_balance(community_id, posting.account, txn.currency, posting.amount)

    def _add_to_balance(self, community_id: str, account: str, currency: str, amount: int) -> None:
        """One statement: money arriving opens the account if need be; money leaving needs it to hold enough."""
        if amount > 0 or is_external(account):
            self.connection.execute(self.add, {"community_id": community_id, "account": account,
                                               "currency": currency, "balance": amount})
            return
        taken = self.connection.execute(self.TAKE, {"b_community": community_id, "b_account": account,
                                                    "b_currency": currency, "amount": amount})
        if not taken.rowcount:
            raise IntegrityError(f"{account} has no {currency} to take {-amount} from", None, ValueError(account))

    def balance(self, community_id: str, account: str, currency: str, lock: bool = False) -> int:
        query = self.BALANCE.with_for_update() if lock else self.BALANCE
        found = self.connection.execute(query, {"b_community": community_id, "b_account": account,
                                                "b_currency": currency})
        return found.scalar() or 0


def _upsert_balance(insert_for: Callable[..., Any]) -> Any:
    statement = insert_for(BALANCES)
    return statement.on_conflict_do_update(index_elements=[BALANCES.c.community_id, BALANCES.c.account,
                                                           BALANCES.c.currency],
                                           set_={"balance": BALANCES.c.balance + statement.excluded.balance})


# The database's CHECK refuses an overdraft; a new row always starts from money arriving, so it passes.
_ADD_TO_BALANCE = {"sqlite": _upsert_balance(sqlite_insert), "postgresql": _upsert_balance(postgresql_insert)}


class _Outbox:
    ADD = insert(OUTBOX)

    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, event: Event) -> None:
        self.connection.execute(self.ADD, {
            "community_id": event.community_id, "platform": event.community_id.split(":", 1)[0],
            "order_id": event.order_id if isinstance(event, OrderEvent) else None, "type": type(event).__name__,
            "payload": codec.dump_event(event), "created_at": event.at, "available_at": event.at, "attempts": 0})


class _Commands:
    SEEN = select(HANDLED.c.ref).where(HANDLED.c.key == bindparam("key"))
    ADD = insert(HANDLED)

    def __init__(self, connection: Connection):
        self.connection = connection

    def seen(self, key: str) -> str | None:
        ref: str | None = self.connection.execute(self.SEEN, {"key": key}).scalar()
        return ref

    def add(self, key: str, community_id: str, ref: str, at: datetime) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(self.ADD, {"key": key, "community_id": community_id, "ref": ref, "at": at})
        except IntegrityError:
            raise Conflict() from None


class SqlUnitOfWork:
    def __init__(self, database: Database, now: Callable[[], datetime]):
        self.database, self.now = database, now

    def __enter__(self) -> Self:
        self.connection = c = self.database.writer.connect()
        self.transaction = c.begin()
        self.communities = _Communities(c, self.database.cache)
        self.listings = _Documents(c, LISTINGS, Listing, _listing_columns)
        self.offers = _Documents(c, OFFERS, Offer, _offer_columns)
        self.orders = _Orders(c, self.now)
        self.withdrawals = _Documents(c, WITHDRAWALS, Withdrawal, _withdrawal_columns)
        self.ledger = _Ledger(c)
        self.timers = _Timers(c, self.orders)
        self.outbox = _Outbox(c)
        self.commands = _Commands(c)
        return self

    def commit(self) -> None:
        try:
            self.transaction.commit()
        except OperationalError as error:
            if _retryable(error):
                raise Conflict() from None
            raise
        self.communities.forget_changed()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()
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
