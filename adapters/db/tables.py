"""The schema, as SQLModel tables. Aggregates are JSON documents beside the columns queries need."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from adapters.db.types import UTCDateTime


def _when(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class CommunityRow(SQLModel, table=True):
    __tablename__ = "communities"
    id: str = Field(primary_key=True, max_length=120)
    platform: str = Field(max_length=20)
    name: str
    policy: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_when())


class ListingRow(SQLModel, table=True):
    __tablename__ = "listings"
    id: str = Field(primary_key=True, max_length=16)
    community_id: str = Field(index=True, max_length=120)
    seller_id: str = Field(index=True)
    active: bool
    created_at: datetime = Field(sa_column=_when())
    updated_at: datetime = Field(sa_column=_when())
    data: str = Field(sa_column=Column(Text, nullable=False))


class OfferRow(SQLModel, table=True):
    __tablename__ = "offers"
    id: str = Field(primary_key=True, max_length=16)
    community_id: str = Field(index=True, max_length=120)
    seller_id: str = Field(index=True)
    buyer_id: str = Field(index=True)
    status: str = Field(max_length=20)
    created_at: datetime = Field(sa_column=_when())
    data: str = Field(sa_column=Column(Text, nullable=False))


_order_version = Column("version", Integer, nullable=False)


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    id: str = Field(primary_key=True, max_length=16)
    community_id: str = Field(index=True, max_length=120)
    buyer_id: str = Field(index=True)
    seller_id: str = Field(index=True)
    state: str = Field(index=True, max_length=30)
    paused: bool
    placed_at: datetime = Field(sa_column=_when())
    updated_at: datetime = Field(sa_column=_when())
    due_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    data: str = Field(sa_column=Column(Text, nullable=False))
    version: int = Field(sa_column=_order_version)
    __mapper_args__ = {"version_id_col": _order_version}  # optimistic concurrency: UPDATE ... WHERE version


class TimerRow(SQLModel, table=True):
    """A pending deadline of an order: a wake-up index, derived from the order's own deadlines."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("order_id", "kind"), Index("ix_timers_due_at", "due_at"))
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    order_id: str = Field(foreign_key="orders.id", max_length=16)
    kind: str = Field(max_length=20)
    due_at: datetime = Field(sa_column=_when())


class LedgerTxnRow(SQLModel, table=True):
    __tablename__ = "ledger_transactions"
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    community_id: str = Field(index=True, max_length=120)
    order_id: str | None = Field(default=None, index=True, max_length=16)
    kind: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    memo: str = ""
    at: datetime = Field(sa_column=_when())


class LedgerEntryRow(SQLModel, table=True):
    __tablename__ = "ledger_entries"
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    txn_id: int = Field(sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                         ForeignKey("ledger_transactions.id"), nullable=False, index=True))
    community_id: str = Field(max_length=120)
    account: str = Field(index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class BalanceRow(SQLModel, table=True):
    """The running balance of each account; only buyers' payment accounts may go below zero."""

    __tablename__ = "balances"
    __table_args__ = (CheckConstraint("balance >= 0 OR account LIKE 'payments:%'", name="no_overdraft"),)
    community_id: str = Field(primary_key=True, max_length=120)
    account: str = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))


class WithdrawalRow(SQLModel, table=True):
    __tablename__ = "withdrawals"
    id: str = Field(primary_key=True, max_length=16)
    community_id: str = Field(index=True, max_length=120)
    seller_id: str = Field(index=True)
    state: str = Field(index=True, max_length=20)
    requested_at: datetime = Field(sa_column=_when())
    data: str = Field(sa_column=Column(Text, nullable=False))


class OutboxRow(SQLModel, table=True):
    """Every event, written with the change that caused it; the relay hands it to the adapters.

    Pending: `sent_at` and `dead_at` unset. A dead letter (`dead_at`) is one the platform refused for
    good (a deleted channel): kept with its error until an operator retries it (`gigroom outbox`).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "available_at"),)
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    community_id: str = Field(max_length=120)
    platform: str = Field(max_length=20)
    order_id: str | None = Field(default=None, index=True, max_length=16)
    type: str = Field(max_length=40)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_when())
    available_at: datetime = Field(sa_column=_when())
    attempts: int = 0
    claimed_by: str | None = None
    sent_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    dead_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class CommandRow(SQLModel, table=True):
    """Requests already handled, by the platform's request id: a retry has one effect."""

    __tablename__ = "handled_requests"
    key: str = Field(primary_key=True, max_length=200)
    community_id: str = Field(max_length=120)
    ref: str = ""
    at: datetime = Field(sa_column=_when())


class ChatPlaceRow(SQLModel, table=True):
    """Where an order lives on a chat platform: its channel or thread, and its board message there."""

    __tablename__ = "chat_places"
    platform: str = Field(primary_key=True, max_length=20)
    order_id: str = Field(primary_key=True, max_length=16)
    community_id: str = Field(index=True, max_length=120)
    channel_id: str = Field(max_length=64)
    board_ref: str = Field(default="", max_length=64)  # the board message's id (Slack: its ts)
    archived: bool = False
    created_at: datetime = Field(sa_column=_when())


class ChatSendRow(SQLModel, table=True):
    """A step of showing an event on a chat platform that is done, kept when a later step failed.

    The relay sends an event again after a failure; a message already posted for it is not posted twice.
    """

    __tablename__ = "chat_sends"
    platform: str = Field(primary_key=True, max_length=20)
    event_key: str = Field(primary_key=True, max_length=64)  # the SHA-256 of the event
    step: str = Field(primary_key=True, max_length=120)
    at: datetime = Field(sa_column=_when(index=True))
