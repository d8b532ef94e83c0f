"""The outbox relay: hands committed events to the adapters that show them, with retries.

Events are written in the same transaction as the change that caused them, so a crash between the
commit and the send loses nothing: the relay finds them unsent and sends them. A claim is a lease,
so two processes never send the same event at once; delivery is at least once, in order per order.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from adapters.db import codec
from adapters.db.connect import Database
from adapters.db.tables import OutboxRow
from core.events import Event

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12


class Sink(Protocol):
    """An adapter that shows events to people on one platform."""

    platform: str

    async def deliver(self, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    attempts: int
    event: Event


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 600))


class OutboxRelay:
    def __init__(self, database: Database, sinks: list[Sink], now: Callable[[], datetime], name: str,
                 batch: int = 100) -> None:
        self.database, self.now, self.name, self.batch = database, now, name, batch
        self.sinks = {sink.platform: sink for sink in sinks}
        self.wake = asyncio.Event()
        self.stopped = False

    def claim(self) -> list[Claimed]:
        """Lease the oldest unsent event of each order (and loose events) for this process."""
        now = self.now()
        earlier = aliased(OutboxRow)
        blocked = exists().where(and_(earlier.order_id == OutboxRow.order_id, earlier.sent_at.is_(None),
                                      earlier.id < OutboxRow.id))
        query = (select(OutboxRow).where(OutboxRow.sent_at.is_(None), OutboxRow.available_at <= now,
                                         OutboxRow.platform.in_(self.sinks), ~blocked)
                 .order_by(OutboxRow.id).limit(self.batch).with_for_update(skip_locked=True))
        with Session(self.database.writer) as session, session.begin():
            rows = list(session.scalars(query))
            for row in rows:
                row.available_at, row.claimed_by = now + LEASE, self.name
            return [Claimed(row.id, row.attempts, codec.load_event(row.type, row.payload))  # type: ignore[arg-type]
                    for row in rows]

    def _sent(self, ids: list[int]) -> None:
        with Session(self.database.writer) as session, session.begin():
            session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.claimed_by == self.name)
                            .values(sent_at=self.now(), error=None))

    def _failed(self, claimed: Claimed, error: str) -> None:
        now = self.now()
        if claimed.attempts + 1 >= MAX_ATTEMPTS:
            values = {"sent_at": now, "error": f"gave up after {MAX_ATTEMPTS} attempts: {error}"}
        else:
            values = {"attempts": claimed.attempts + 1, "available_at": now + backoff(claimed.attempts + 1),
                      "error": error}
        with Session(self.database.writer) as session, session.begin():
            session.execute(update(OutboxRow).where(OutboxRow.id == claimed.id,
                                                    OutboxRow.claimed_by == self.name).values(**values))

    async def run_once(self) -> int:
        """Send what is ready; how many events were handed over."""
        sent = 0
        while claimed := await asyncio.to_thread(self.claim):
            done: list[int] = []
            for item in claimed:
                sink = self.sinks[item.event.community_id.split(":", 1)[0]]
                try:
                    await sink.deliver(item.event)
                except Exception as error:  # an adapter's failure is retried later, never lost
                    log.warning("could not deliver %s #%s: %s", type(item.event).__name__, item.id, error)
                    await asyncio.to_thread(self._failed, item, f"{type(error).__name__}: {error}")
                else:
                    done.append(item.id)
            if done:
                await asyncio.to_thread(self._sent, done)
                sent += len(done)
        return sent

    def poke(self) -> None:
        self.wake.set()

    def stop(self) -> None:
        self.stopped = True
        self.wake.set()

    async def run_forever(self, interval: float) -> None:
        """Send, then sleep until poked or `interval` passes; until `stop`."""
        while not self.stopped:
            self.wake.clear()  # before running: a poke that arrives meanwhile is not lost
            try:
                await self.run_once()
            except Exception:
                log.exception("the outbox relay failed; trying again in %ss", interval)
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self.wake.wait()
