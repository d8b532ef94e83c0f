"""The outbox relay: hands committed events to the adapters that show them, with retries, until they are shown.

Events are written in the same transaction as the change that caused them, so a crash between the
commit and the send loses nothing: the relay finds them unsent and sends them. A claim takes the
oldest unsent event of each order (an order's events keep their order) under a short lease that the
relay renews while it works; each event is marked sent as soon as it is shown, so a crash repeats
at most the one event in flight, and a process that lost its lease to another stops instead of
repeating the other's work.

Nothing is given up because a platform is down, however long: a failure is retried with a backoff
capped at a few minutes. Only what the platform refuses for good (`Undeliverable`: the channel was
deleted, the app uninstalled) becomes a dead letter, kept with its error for an operator to see and
retry (`gigroom outbox`); it no longer holds back the order's later events.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from adapters.db import codec
from adapters.db.connect import Database
from adapters.db.tables import OutboxRow
from core.events import Event

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)  # how long a crashed process holds its claim; renewed every third of it
BACKOFF_CAP = timedelta(minutes=5)  # once a platform is back, what waited is shown within this
REPORT_EVERY = timedelta(days=1)


class Sink(Protocol):
    """An adapter that shows events to people on one platform."""

    platform: str

    async def deliver(self, event: Event) -> None: ...


class Undeliverable(Exception):
    """The platform refused the event for good (a 4xx that no retry can change): it becomes a dead letter."""


class RetryLater(Exception):
    """The platform asked to wait (a 429 past the client's own retries): try again no sooner than this."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    attempts: int
    event: Event


@dataclass(frozen=True, slots=True)
class Letter:
    """An outbox row as an operator sees it."""

    id: int
    community_id: str
    order_id: str | None
    type: str
    created_at: datetime
    attempts: int
    error: str | None
    dead_at: datetime | None


def backoff(attempts: int, retry_after: float = 0.0) -> timedelta:
    """Doubling from 2 s, capped, with a little jitter so that many orders do not retry in step; at least
    what the platform asked for (a 429's Retry-After)."""
    seconds = min(2.0 ** attempts, BACKOFF_CAP.total_seconds()) * random.uniform(0.9, 1.0)
    return timedelta(seconds=max(seconds, retry_after))


def _pending() -> tuple[object, ...]:
    return OutboxRow.sent_at.is_(None), OutboxRow.dead_at.is_(None)


class OutboxRelay:
    def __init__(self, database: Database, sinks: list[Sink], now: Callable[[], datetime], name: str,
                 batch: int = 100, lease: timedelta = LEASE) -> None:
        self.database, self.now, self.name, self.batch, self.lease = database, now, name, batch, lease
        self.sinks = {sink.platform: sink for sink in sinks}
        self.wake = asyncio.Event()
        self.stopped = False
        self.next_report: datetime | None = None

    def claim(self) -> list[Claimed]:
        """Lease the oldest pending event of each order (and loose events) for this process."""
        now = self.now()
        earlier = aliased(OutboxRow)
        blocked = exists().where(and_(earlier.order_id == OutboxRow.order_id, earlier.sent_at.is_(None),
                                      earlier.dead_at.is_(None), earlier.id < OutboxRow.id))
        query = (select(OutboxRow).where(*_pending(), OutboxRow.available_at <= now,
                                         OutboxRow.platform.in_(self.sinks), ~blocked)
                 .order_by(OutboxRow.id).limit(self.batch).with_for_update(skip_locked=True))
        with Session(self.database.writer) as session, session.begin():
            rows = list(session.scalars(query))
            for row in rows:
                row.available_at, row.claimed_by = now + self.lease, self.name
            return [Claimed(row.id, row.attempts, codec.load_event(row.type, row.payload))  # type: ignore[arg-type]
                    for row in rows]

    def _mine(self, ids: Iterable[int]) -> object:
        return and_(OutboxRow.id.in_(list(ids)), OutboxRow.claimed_by == self.name, *_pending())

    def renew(self, ids: list[int]) -> set[int]:
        """Extend this process's lease on these events; the ones it still holds (another may have taken some)."""
        if not ids:
            return set()
        with Session(self.database.writer) as session, session.begin():
            held = session.scalars(update(OutboxRow).where(self._mine(ids)).values(available_at=self.now() + self.lease)
                                   .returning(OutboxRow.id))
            return set(held)

    def _finish(self, claimed: Claimed, **values: object) -> bool:
        with Session(self.database.writer) as session, session.begin():
            done = session.execute(update(OutboxRow).where(self._mine([claimed.id])).values(**values))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def _sent(self, claimed: Claimed) -> bool:
        return self._finish(claimed, sent_at=self.now(), error=None)

    def _failed(self, claimed: Claimed, error: str, retry_after: float) -> bool:
        return self._finish(claimed, attempts=claimed.attempts + 1, error=error,
                            available_at=self.now() + backoff(claimed.attempts + 1, retry_after))

    def _dead(self, claimed: Claimed, error: str) -> bool:
        return self._finish(claimed, dead_at=self.now(), attempts=claimed.attempts + 1, error=error)

    def release(self, ids: list[int]) -> None:
        """Hand back what this process claimed and will not do (it is stopping): another takes it at once."""
        if ids:
            with Session(self.database.writer) as session, session.begin():
                session.execute(update(OutboxRow).where(self._mine(ids)).values(available_at=self.now(),
                                                                                 claimed_by=None))

    async def run_once(self) -> int:
        """Send what is ready; how many events were shown."""
        sent = 0
        while not self.stopped and (claimed := await asyncio.to_thread(self.claim)):
            sent += await self._work(claimed)
        return sent

    async def _work(self, claimed: list[Claimed]) -> int:
        sent = 0
        for index, item in enumerate(claimed):
            later = [c.id for c in claimed[index + 1:]]
            if self.stopped:
                await asyncio.to_thread(self.release, [item.id, *later])
                break
            held = await asyncio.to_thread(self.renew, [item.id, *later])
            if item.id not in held:
                log.warning("outbox event #%s was taken over by another process; leaving it to it", item.id)
                continue
            sent += await self._show(item, later)
        return sent

    async def _show(self, item: Claimed, later: list[int]) -> int:
        """Deliver one event while its lease (and the rest of the claim's) is kept; mark how it went."""
        sink = self.sinks[item.event.community_id.split(":", 1)[0]]
        name = f"{type(item.event).__name__} #{item.id}"
        delivery = asyncio.create_task(sink.deliver(item.event))
        keeper = asyncio.create_task(self._keep_lease(item.id, later, delivery))
        try:
            await delivery
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this task itself is being cancelled, not only the delivery
            log.warning("lost the lease on %s while showing it; another process shows it", name)
            return 0
        except Undeliverable as error:
            log.error("%s was refused for good, kept as a dead letter (gigroom outbox): %s", name, error)
            await asyncio.to_thread(self._dead, item, f"{type(error).__name__}: {error}")
            return 0
        except Exception as error:  # an adapter's failure is retried later, never lost
            attempt = item.attempts + 1  # an outage fails every event each time: said at the 1st, 5th, 10th, 20th...
            level = logging.WARNING if attempt in (1, 5) or attempt % 10 == 0 else logging.DEBUG
            log.log(level, "could not deliver %s (attempt %s, retried later): %s", name, attempt, error)
            retry_after = error.retry_after if isinstance(error, RetryLater) else 0.0
            await asyncio.to_thread(self._failed, item, f"{type(error).__name__}: {error}", retry_after)
            return 0
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if not await asyncio.to_thread(self._sent, item):
            log.warning("%s was shown, but its lease had passed to another process", name)
            return 0
        return 1

    async def _keep_lease(self, event_id: int, later: list[int], delivery: asyncio.Task[None]) -> None:
        """Renew the lease while a delivery runs; if another process took the event, stop the delivery."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            held = await asyncio.to_thread(self.renew, [event_id, *later])
            if event_id not in held:
                delivery.cancel()
                return

    def poke(self) -> None:
        self.wake.set()

    def stop(self) -> None:
        self.stopped = True
        self.wake.set()

    def report(self) -> None:
        """Once a day (and at start), the log says how many events wait and how many are dead letters."""
        now = self.now()
        if self.next_report is not None and now < self.next_report:
            return
        self.next_report = now + REPORT_EVERY
        waiting, dead = outbox_counts(self.database)
        if dead:
            log.warning("outbox: %s waiting, %s dead letters (list them with `gigroom outbox`)", waiting, dead)
        else:
            log.info("outbox: %s waiting, no dead letters", waiting)

    async def run_forever(self, interval: float) -> None:
        """Send, then sleep until poked or `interval` passes; until `stop`."""
        while not self.stopped:
            self.wake.clear()  # before running: a poke that arrives meanwhile is not lost
            try:
                await self.run_once()
                await asyncio.to_thread(self.report)
            except Exception:
                log.exception("the outbox relay failed; trying again in %ss", interval)
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self.wake.wait()


def outbox_counts(database: Database) -> tuple[int, int]:
    """(events waiting to be shown, dead letters)."""
    with Session(database.reader) as session:
        waiting = session.scalar(select(func.count()).select_from(OutboxRow).where(*_pending())) or 0
        dead = session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.dead_at.is_not(None))) or 0
    return waiting, dead


def letters(database: Database, dead: bool = True, limit: int = 50) -> list[Letter]:
    """The dead letters (or the events still waiting), oldest first."""
    where = (OutboxRow.dead_at.is_not(None),) if dead else _pending()
    query = (select(OutboxRow.id, OutboxRow.community_id, OutboxRow.order_id, OutboxRow.type, OutboxRow.created_at,
                    OutboxRow.attempts, OutboxRow.error, OutboxRow.dead_at)
             .where(*where).order_by(OutboxRow.id).limit(limit))
    with Session(database.reader) as session:
        return [Letter(*row) for row in session.execute(query)]


def retry(database: Database, now: datetime, ids: list[int] | None = None) -> int:
    """Put dead letters (these, or all when `ids` is None) back in the outbox, to be shown at once."""
    query = update(OutboxRow).where(OutboxRow.dead_at.is_not(None))
    if ids is not None:
        query = query.where(OutboxRow.id.in_(ids))
    with Session(database.writer) as session, session.begin():
        done = session.execute(query.values(dead_at=None, attempts=0, available_at=now, claimed_by=None))
        return int(done.rowcount)  # type: ignore[attr-defined]
