"""Wakes the timer sweep: APScheduler runs it at the next due time and at a bounded interval.

Deadlines live in the database (the timers table), never only here: this scheduler holds two jobs
whatever the number of open orders. The interval bounds the lag when the wall clock jumps, since
a sleeping scheduler does not notice that, and picks up timers other processes wrote.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.engine import Engine

log = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(self, engine: Engine, next_due: Callable[[], datetime | None], interval: timedelta,
                 on_fired: Callable[[int], None] = lambda n: None):
        self.engine, self.next_due, self.interval, self.on_fired = engine, next_due, interval, on_fired
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()
        self.next_wake: datetime | None = None

    async def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(self.sweep, "interval", seconds=self.interval.total_seconds(), id="sweep",
                               coalesce=True, max_instances=1, misfire_grace_time=None)
        await self.sweep()  # timers that fell due while gigroom was down fire now

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def sweep(self) -> int:
        """Fire everything due, until nothing is; then plan the wake-up for the next deadline."""
        async with self._lock:
            total = 0
            try:
                while True:
                    fired = await asyncio.to_thread(self.engine.fire_due)
                    total += fired
                    if fired:
                        self.on_fired(fired)
                    due = await asyncio.to_thread(self.next_due)
                    if due is None or due > self.engine.clock.now():
                        break
                await self._plan(due)
            except Exception:
                log.exception("the timer sweep failed; the next sweep tries again")
            return total

    async def poke(self) -> None:
        """After a command: make sure the wake-up is no later than the earliest deadline."""
        await self._plan(await asyncio.to_thread(self.next_due))

    async def _plan(self, due: datetime | None) -> None:
        if due is None:
            return
        real_now = datetime.now(UTC)
        wake = real_now + max(due - self.engine.clock.now(), timedelta(0)) + timedelta(milliseconds=5)
        if self.next_wake and real_now < self.next_wake <= wake:
            return
        self.next_wake = wake
        # max_instances=2: the wake job is planned from inside a running sweep, and must not be skipped for it
        self.scheduler.add_job(self.sweep, "date", run_date=self.next_wake, id="wake", replace_existing=True,
                               misfire_grace_time=None, max_instances=2)
