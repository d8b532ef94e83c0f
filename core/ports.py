"""The small protocols the engine needs from the world; adapters implement them."""

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from core.community import Community, Withdrawal
from core.events import Event
from core.ledger import Transaction
from core.order import Order
from core.order_parts import FileRef, TimerKind
from core.terms import Listing, Offer


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class DueTimer:
    id: int
    order_id: str
    kind: TimerKind
    due_at: datetime


T = TypeVar("T")


class Repository(Protocol[T]):
    def get(self, key: str) -> T | None: ...
    def add(self, item: T) -> None: ...
    def save(self, item: T) -> None: ...


class Ledger(Protocol):
    def post(self, community_id: str, txn: Transaction, at: datetime) -> None: ...
    def balance(self, community_id: str, account: str, currency: str, lock: bool = False) -> int: ...


class Timers(Protocol):
    def claim_due(self, now: datetime) -> DueTimer | None:
        """The earliest due timer, locked for this transaction (skipped by other processes)."""
        ...

    def done(self, timer: DueTimer) -> None: ...


class Outbox(Protocol):
    def add(self, event: Event) -> None: ...


class CommandLog(Protocol):
    def seen(self, key: str) -> str | None:
        """The result reference of an already handled request with this key, '' if it had none."""
        ...

    def add(self, key: str, community_id: str, ref: str, at: datetime) -> None: ...


class UnitOfWork(Protocol):
    communities: Repository[Community]
    listings: Repository[Listing]
    offers: Repository[Offer]
    orders: Repository[Order]
    withdrawals: Repository[Withdrawal]
    ledger: Ledger
    timers: Timers
    outbox: Outbox
    commands: CommandLog

    def __enter__(self) -> Self: ...
    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...
    def commit(self) -> None:
        """Write everything at once, or raise Conflict when an order changed under us."""
        ...


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit:,} bytes")
        self.limit = limit


class FileStore(Protocol):
    async def put(self, name: str, chunks: AsyncIterable[bytes], limit: int) -> FileRef:
        """Store a stream; raises FileTooLarge past `limit` bytes, keeping nothing."""
        ...

    def open(self, ref: FileRef) -> AsyncIterator[bytes]: ...
