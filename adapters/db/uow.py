"""The unit of work: one transaction for a change, its ledger, its timers and its outbox.

The write path runs on the database driver's own connection and cursor, with SQLAlchemy Core
statements compiled once per dialect (adapters/db/driver.py): SQLAlchemy's per-statement machinery
cost several times the database's own work here (see bench/engine.py). Reads for people and the
migrations keep SQLAlchemy whole. Orders are versioned: every UPDATE says `WHERE version = :version`,
and a count of zero means someone else changed the order first (optimistic concurrency).
"""

from collections.abc import Callable
from datetime import datetime
from functools import cache, lru_cache
from time import monotonic
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from adapters.db import codec
from adapters.db.connect import Database
from adapters.db.driver import Cursor, Sql, translate
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


def _insert(table: Table, *names: str) -> Sql:
    """INSERT of exactly these columns, each bound by its own name."""
    return Sql(insert(table).values({name: bindparam(name) for name in names}))


def _update(table: Table, where: dict[str, str], values: dict[str, Any]) -> Sql:
    """UPDATE ... SET values WHERE column = :parameter for each (column, parameter) of `where`."""
    conditions = [table.c[column] == bindparam(parameter) for column, parameter in where.items()]
    return Sql(update(table).where(*conditions).values(values))


@lru_cache(maxsize=256)
def _policy(text: str) -> Policy:
    """Policies change rarely and are read by every command: decode each distinct one once."""
    return codec.load(Policy, text)


class _Communities:
    """Every command reads its community: a copy read in the last TTL seconds is used instead.

    A policy change made in this process is seen at once; one made by another process within TTL.
    """

    TTL = 2.0
    GET = Sql(select(COMMUNITIES.c.id, COMMUNITIES.c.platform, COMMUNITIES.c.name, COMMUNITIES.c.policy,
                     COMMUNITIES.c.created_at).where(COMMUNITIES.c.id == bindparam("key")))
    ADD = _insert(COMMUNITIES, "id", "platform", "name", "policy", "created_at")
    SAVE = _update(COMMUNITIES, {"id": "key"}, {"name": bindparam("new_name"), "policy": bindparam("new_policy")})

    def __init__(self, cursor: Cursor, cache: dict[str, Any]):
        self.cursor, self.cache = cursor, cache
        self.changed: set[str] = set()

    def forget_changed(self) -> None:
        for key in self.changed:
            self.cache.pop(key, None)

    def get(self, key: str) -> Community | None:
        cached = self.cache.get(key)
        if cached and monotonic() - cached[0] < self.TTL:
            return Community(*cached[1])  # a fresh object: a handler may replace its policy (which is immutable)
        row = self.cursor.first(self.GET, {"key": key})
        if row is None:
            return None
        community_id, platform, name, policy, created_at = row
        community = Community(community_id, platform, name, _policy(policy), created_at)
        self.cache[key] = (monotonic(), (community_id, platform, name, community.policy, created_at))
        return community

    def add(self, item: Community) -> None:
        self.cursor.execute(self.ADD, {"id": item.id, "platform": item.platform, "name": item.name,
                                       "policy": codec.dump(item.policy), "created_at": item.created_at})

    def save(self, item: Community) -> None:
        self.changed.add(item.id)
        self.cursor.execute(self.SAVE, {"key": item.id, "new_name": item.name, "new_policy": codec.dump(item.policy)})


@cache
def _document_statements(table: Table) -> tuple[Sql, Sql, Sql]:
    """Get, add and save for a document table, built once."""
    names = [c.name for c in table.columns]
    kept = [name for name in names if name != "id"]
    return (Sql(select(table.c.data).where(table.c.id == bindparam("key"))), _insert(table, *names),
            _update(table, {"id": "id"}, {name: bindparam(f"n_{name}") for name in kept}))


class _Documents(Generic[T]):
    """Aggregates kept as a JSON document plus the columns that queries filter on."""

    def __init__(self, cursor: Cursor, table: Table, kind: type[T], columns: Callable[[T], dict[str, Any]]):
        self.cursor, self.kind, self.columns = cursor, kind, columns
        self.get_statement, self.add_statement, self.save_statement = _document_statements(table)

    def get(self, key: str) -> T | None:
        data = self.cursor.scalar(self.get_statement, {"key": key})
        return None if data is None else codec.load(self.kind, data)

    def add(self, item: T) -> None:
        self.cursor.execute(self.add_statement, {"data": codec.dump(item), **self.columns(item)})

    def save(self, item: T) -> None:
        fields = {"data": codec.dump(item), **self.columns(item)}
        self.cursor.execute(self.save_statement, {"id": fields["id"], **{f"n_{k}": v for k, v in fields.items()}})


class _Orders:
    GET = Sql(select(ORDERS.c.data, ORDERS.c.version).where(ORDERS.c.id == bindparam("key")))
    ADD = _insert(ORDERS, "id", "community_id", "buyer_id", "seller_id", "placed_at", "version", "state", "paused",
                  "updated_at", "due_at", "data")
    SAVE = _update(ORDERS, {"id": "key", "version": "expected"},
                   {name: bindparam(f"n_{name}") for name in ("state", "paused", "updated_at", "due_at", "data",
                                                              "version")})
    ADD_TIMER = _insert(TIMERS, "order_id", "kind", "due_at")
    MOVE_TIMER = _update(TIMERS, {"order_id": "order", "kind": "k"}, {"due_at": bindparam("n_due")})
    DROP_TIMER = Sql(delete(TIMERS).where(TIMERS.c.order_id == bindparam("order"), TIMERS.c.kind == bindparam("k")))

    def __init__(self, cursor: Cursor, now: Callable[[], datetime]):
        self.cursor, self.now = cursor, now
        self.snapshots: dict[str, dict[TimerKind, datetime]] = {}
        self.fired: set[tuple[str, TimerKind]] = set()

    def get(self, key: str) -> Order | None:
        row = self.cursor.first(self.GET, {"key": key})
        if row is None:
            return None
        order = codec.load(Order, row[0])
        order.version = row[1]
        self.snapshots[key] = {k: v for k, v in order.deadlines().items() if (key, k) not in self.fired}
        return order

    def add(self, order: Order) -> None:
        order.version = 1
        self.cursor.execute(self.ADD, {"id": order.id, "community_id": order.community_id,
                                       "buyer_id": order.buyer_id, "seller_id": order.seller_id,
                                       "placed_at": order.placed_at, "version": 1, **self._columns(order)})
        self.snapshots[order.id] = {}
        self._sync_timers(order)

    def save(self, order: Order) -> None:
        """Write the order first, version-checked, so that a concurrent change is found before anything else."""
        columns = {f"n_{name}": value for name, value in self._columns(order).items()}
        written = self.cursor.execute(self.SAVE, {"key": order.id, "expected": order.version,
                                                  "n_version": order.version + 1, **columns})
        if written != 1:
            raise Conflict()
        order.version += 1
        self._sync_timers(order)

    def _columns(self, order: Order) -> dict[str, Any]:
        return {"state": order.state.value, "paused": order.problem is not None, "updated_at": self.now(),
                "due_at": order.due_at, "data": codec.dump(order)}

    def _sync_timers(self, order: Order) -> None:
        """Make the timers table hold exactly this order's deadlines, writing only what changed."""
        before, after = self.snapshots[order.id], order.deadlines()
        if gone := [{"order": order.id, "k": kind.value} for kind in before.keys() - after.keys()]:
            self.cursor.executemany(self.DROP_TIMER, gone)
        if new := [{"order_id": order.id, "kind": k.value, "due_at": due} for k, due in after.items() if k not in before]:
            self.cursor.executemany(self.ADD_TIMER, new)
        for kind, due in after.items():
            if kind in before and before[kind] != due:
                self.cursor.execute(self.MOVE_TIMER, {"order": order.id, "k": kind.value, "n_due": due})
        self.snapshots[order.id] = after


class _Timers:
    DUE = Sql(select(TIMERS.c.id, TIMERS.c.order_id, TIMERS.c.kind, TIMERS.c.due_at)
              .where(TIMERS.c.due_at <= bindparam("now")).order_by(TIMERS.c.due_at).limit(1)
              .with_for_update(skip_locked=True))
    DONE = Sql(delete(TIMERS).where(TIMERS.c.id == bindparam("key")))

    def __init__(self, cursor: Cursor, orders: _Orders):
        self.cursor, self.orders = cursor, orders

    def claim_due(self, now: datetime) -> DueTimer | None:
        found = self.cursor.first(self.DUE, {"now": now})
        if found is None:
            return None
        timer_id, order_id, kind, due_at = found
        return DueTimer(timer_id, order_id, TimerKind(kind), due_at)

    def done(self, timer: DueTimer) -> None:
        self.cursor.execute(self.DONE, {"key": timer.id})
        self.orders.fired.add((timer.order_id, timer.kind))


class _Ledger:
    ADD_TXN = Sql(insert(TXNS).values({name: bindparam(name) for name in (
        "community_id", "order_id", "kind", "currency", "memo", "at")}).returning(TXNS.c.id))
    ADD_ENTRY = _insert(ENTRIES, "txn_id", "community_id", "account", "currency", "amount")
    KEY = (BALANCES.c.community_id == bindparam("b_community"), BALANCES.c.account == bindparam("b_account"),
           BALANCES.c.currency == bindparam("b_currency"))
    TAKE = Sql(update(BALANCES).where(*KEY).values(balance=BALANCES.c.balance + bindparam("amount")))
    BALANCE = Sql(select(BALANCES.c.balance).where(*KEY))
    BALANCE_LOCKED = Sql(select(BALANCES.c.balance).where(*KEY).with_for_update())

    def __init__(self, cursor: Cursor):
        self.cursor = cursor
        self.add = _ADD_TO_BALANCE[cursor.dialect.name]

    def post(self, community_id: str, txn: Transaction, at: datetime) -> None:
        txn_id = self.cursor.scalar(self.ADD_TXN, {
            "community_id": community_id, "order_id": txn.order_id, "kind": txn.kind.value,
            "currency": txn.currency, "memo": txn.memo, "at": at})
        self.cursor.executemany(self.ADD_ENTRY, [
            {"txn_id": txn_id, "community_id": community_id, "account": p.account, "currency": txn.currency,
             "amount": p.amount} for p in txn.postings])
        for posting in sorted(txn.postings, key=lambda p: p.account):  # one lock order: no deadlocks
            self._add_to_balance(community_id, posting.account, txn.currency, posting.amount)

    def _add_to_balance(self, community_id: str, account: str, currency: str, amount: int) -> None:
        """One statement: money arriving opens the account if need be; money leaving needs it to hold enough."""
        if amount > 0 or is_external(account):
            self.cursor.execute(self.add, {"community_id": community_id, "account": account,
                                           "currency": currency, "balance": amount})
            return
        taken = self.cursor.execute(self.TAKE, {"b_community": community_id, "b_account": account,
                                                "b_currency": currency, "amount": amount})
        if not taken:
            raise IntegrityError(f"{account} has no {currency} to take {-amount} from", None, ValueError(account))

    def balance(self, community_id: str, account: str, currency: str, lock: bool = False) -> int:
        found = self.cursor.scalar(self.BALANCE_LOCKED if lock else self.BALANCE,
                                   {"b_community": community_id, "b_account": account, "b_currency": currency})
        return int(found or 0)


def _upsert_balance(insert_for: Callable[..., Any]) -> Sql:
    statement = insert_for(BALANCES).values({name: bindparam(name) for name in (
        "community_id", "account", "currency", "balance")})
    return Sql(statement.on_conflict_do_update(
        index_elements=[BALANCES.c.community_id, BALANCES.c.account, BALANCES.c.currency],
        set_={"balance": BALANCES.c.balance + statement.excluded.balance}))


# The database's CHECK refuses an overdraft; a new row always starts from money arriving, so it passes.
_ADD_TO_BALANCE = {"sqlite": _upsert_balance(sqlite_insert), "postgresql": _upsert_balance(postgresql_insert)}


class _Outbox:
    ADD = _insert(OUTBOX, "community_id", "platform", "order_id", "type", "payload", "created_at", "available_at",
                  "attempts")

    def __init__(self, cursor: Cursor):
        self.cursor = cursor

    def add(self, event: Event) -> None:
        self.cursor.execute(self.ADD, {
            "community_id": event.community_id, "platform": event.community_id.split(":", 1)[0],
            "order_id": event.order_id if isinstance(event, OrderEvent) else None, "type": type(event).__name__,
            "payload": codec.dump_event(event), "created_at": event.at, "available_at": event.at, "attempts": 0})


class _Commands:
    SEEN = Sql(select(HANDLED.c.ref).where(HANDLED.c.key == bindparam("key")))
    ADD = _insert(HANDLED, "key", "community_id", "ref", "at")

    def __init__(self, cursor: Cursor):
        self.cursor = cursor

    def seen(self, key: str) -> str | None:
        ref: str | None = self.cursor.scalar(self.SEEN, {"key": key})
        return ref

    def add(self, key: str, community_id: str, ref: str, at: datetime) -> None:
        """Record the request; if a copy of it committed meanwhile, this attempt is a conflict to retry."""
        self.cursor.plain("SAVEPOINT handled_request")
        try:
            self.cursor.execute(self.ADD, {"key": key, "community_id": community_id, "ref": ref, "at": at})
        except IntegrityError:
            self.cursor.plain("ROLLBACK TO SAVEPOINT handled_request")
            raise Conflict() from None
        self.cursor.plain("RELEASE SAVEPOINT handled_request")


class SqlUnitOfWork:
    """One transaction on a pooled connection of the writer engine, driven through the driver's cursor."""

    def __init__(self, database: Database, now: Callable[[], datetime]):
        self.database, self.now = database, now

    def __enter__(self) -> Self:
        engine = self.database.writer
        self.dialect = engine.dialect
        self.connection = engine.raw_connection()  # from the pool, set up by connect.py's listeners
        self.open = True
        try:
            c = Cursor(self.connection.cursor(), self.dialect)
            if self.database.is_sqlite:
                c.plain("BEGIN IMMEDIATE")  # the driver's own BEGIN is off: see connect.py
        except BaseException:
            self.connection.close()
            raise
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
            self.connection.commit()
        except self.dialect.loaded_dbapi.Error as error:  # still open: __exit__ rolls it back
            translated = translate(error, "COMMIT", None, self.dialect)
            if isinstance(translated, OperationalError) and _retryable(translated):
                raise Conflict() from None
            raise translated from error
        self.open = False
        self.communities.forget_changed()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if self.open:
                self.connection.rollback()
        finally:
            self.connection.close()  # back to the pool
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
