"""The outbox relay under a slow platform, two processes, crashes and a long outage: deliveries per event.

Three scenarios, each on a fresh SQLite file holding real orders made through the engine (4 events an
order: the listing, the order placed, the requirements, the acceptance). The sink is a stand-in that
records what it was handed; a "delivery" is one call to it. Time is scaled down 100x so the run is
short: a platform that takes 3 s an event (rate-limited) is 30 ms here, and the relay's 30 s lease is
0.3 s, so that a lease runs out exactly as often, relative to the work, as it would at full scale.

(a) two relays, one database, slow sink: two relays (each with its own name and its own connection
    pool, as two gigroom processes have) work the same outbox at once. Measured: deliveries per event
    (aim: 1.00, a second process never repeats a live one's work) and the wall time against the
    baseline of ONE relay doing the same work alone in this run (two should not be slower than one).
(b) crashes: a relay is killed (nothing after the kill runs in it, as with SIGKILL) after every few
    events, 14 times, and a new one takes over after the lease. Measured: repeated deliveries per
    crash (aim: at most 1, the event in flight).
(c) a 60-minute outage with a moved clock (time-machine): the platform fails every call for an hour,
    the relay keeps trying; measured: events lost (aim: 0), repeated, and how long after the platform
    came back the last one was shown (aim: within the backoff cap, 5 minutes).

    python -m bench relay [--quick]
"""

import asyncio
import contextlib
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import migrated_database, sqlite_url, verdict, write_result

SCALE = 100  # 3 s of a rate-limited platform is 30 ms here; the 30 s lease is 0.3 s


class Killed(BaseException):
    """The relay's process dies here: no handler after this runs in it."""


class Platform:
    """A platform that takes `seconds` an event, and may be down until a moment of the clock."""

    platform = "shell"

    def __init__(self, seconds: float = 0.0, down_until: datetime | None = None,
                 now: Callable[[], datetime] | None = None, die_after: int = 0) -> None:
        self.seconds, self.down_until, self.now, self.die_after = seconds, down_until, now, die_after
        self.deliveries: Counter[str] = Counter()
        self.failures = 0
        self.last_at: datetime | None = None

    async def deliver(self, event: Any) -> None:
        if self.down_until is not None and self.now is not None and self.now() < self.down_until:
            self.failures += 1
            raise ConnectionError("the platform is down")
        if self.seconds:
            await asyncio.sleep(self.seconds)
        self.deliveries[repr(event)] += 1
        if self.now is not None:
            self.last_at = self.now()
        if self.die_after and sum(self.deliveries.values()) % self.die_after == 0:
            raise Killed


def _market(path: Path, orders: int) -> tuple[Any, int]:
    from adapters.db.connect import connect
    from core.lifecycle import OrderState
    from tests.market import Market

    database = connect(sqlite_url(migrated_database(path)))
    market = Market(database)
    for _ in range(orders):
        market.order(until=OrderState.IN_PROGRESS)
    return market, _waiting(database)


def _waiting(database: Any) -> int:
    from adapters.relay import outbox_counts

    return outbox_counts(database)[0]


async def _relays(url: str, sinks: list[Platform], lease: timedelta) -> float:
    from adapters.clock import SystemClock
    from adapters.db.connect import connect
    from adapters.relay import OutboxRelay

    databases = [connect(url) for _ in sinks]
    relays = [OutboxRelay(db, [sink], SystemClock().now, f"process-{i}", lease=lease)
              for i, (db, sink) in enumerate(zip(databases, sinks, strict=True))]
    started = time.perf_counter()
    await asyncio.gather(*(relay.run_once() for relay in relays))
    seconds = time.perf_counter() - started
    for db in databases:
        db.dispose()
    return seconds


def two_processes(tmp: Path, orders: int) -> dict[str, Any]:
    from adapters.relay import LEASE

    lease, seconds = LEASE / SCALE, 3.0 / SCALE
    result: dict[str, Any] = {}
    for name, count in (("one relay (baseline)", 1), ("two relays", 2)):
        market, events = _market(tmp / f"two-{count}.db", orders)
        sinks = [Platform(seconds) for _ in range(count)]
        wall = asyncio.run(_relays(market.database.url, sinks, lease))
        shown = Counter[str]()
        for sink in sinks:
            shown.update(sink.deliveries)
        result[name] = {"events": events, "deliveries": sum(shown.values()), "distinct": len(shown),
                        "left": _waiting(market.database), "seconds": wall}
        market.database.dispose()
    return result


def crashes(tmp: Path, orders: int, kills: int = 14) -> dict[str, Any]:
    import time_machine

    from adapters.relay import LEASE, OutboxRelay

    market, events = _market(tmp / "crashes.db", orders)
    every = max(events // (kills + 1), 1)
    shown = Counter[str]()
    died = 0
    with time_machine.travel(market.clock.now(), tick=True) as traveller:
        while _waiting(market.database):
            sink = Platform(die_after=every if died < kills else 0)
            relay = OutboxRelay(market.database, [sink], market.clock.now, f"life-{died}")
            try:
                asyncio.run(relay.run_once())
            except Killed:
                died += 1
                traveller.shift(LEASE + timedelta(seconds=1))  # the next process finds the lease run out
            shown.update(sink.deliveries)
    market.database.dispose()
    repeated = sum(n - 1 for n in shown.values())
    return {"events": events, "crashes": died, "deliveries": sum(shown.values()), "distinct": len(shown),
            "repeated": repeated, "repeated_per_crash": repeated / max(died, 1)}


def outage(tmp: Path, orders: int, minutes: int = 60) -> dict[str, Any]:
    import time_machine

    from adapters.relay import OutboxRelay

    with time_machine.travel("2026-06-01 10:00Z", tick=False) as traveller:
        market, events = _market(tmp / "outage.db", orders)
        back = market.clock.now() + timedelta(minutes=minutes)
        sink = Platform(down_until=back, now=market.clock.now)
        relay = OutboxRelay(market.database, [sink], market.clock.now, "one")
        while _waiting(market.database) and market.clock.now() < back + timedelta(hours=1):
            asyncio.run(relay.run_once())
            traveller.shift(timedelta(seconds=15))
        left = _waiting(market.database)
        market.database.dispose()
    after = (sink.last_at - back).total_seconds() / 60 if sink.last_at else float("nan")
    return {"events": events, "outage_minutes": minutes, "failed_calls": sink.failures,
            "shown": len(sink.deliveries), "lost": events - len(sink.deliveries), "left": left,
            "repeated": sum(n - 1 for n in sink.deliveries.values()), "minutes_after_back": after}


def run(quick: bool = False) -> dict[str, Any]:
    logging.getLogger("adapters.relay").setLevel(logging.ERROR)  # an outage's retries are the point, not news
    orders = 30 if quick else 90  # 90 orders: 360 events, the size of the run
    print(f"== relay: deliveries per event with two relays and a slow platform, crashes, a 60-minute outage "
          f"({'quick' if quick else 'full'} run, {orders} orders, time scaled 1/{SCALE})", flush=True)
    with tempfile.TemporaryDirectory(prefix="gigroom-bench-relay-") as tmp_name:
        tmp = Path(tmp_name)
        two = two_processes(tmp, orders)
        crash = crashes(tmp, orders)
        down = outage(tmp, orders)
    base, both = two["one relay (baseline)"], two["two relays"]
    per_event = both["deliveries"] / both["events"]
    speed = base["seconds"] / both["seconds"]
    for name, row in two.items():
        print(f"-- {name}: {row['events']} events, {row['deliveries']} deliveries ({row['distinct']} distinct), "
              f"{row['left']} left, {row['seconds']:.2f} s (x{SCALE}: {row['seconds'] * SCALE / 60:.0f} min)")
    print(f"-- {crash['crashes']} crashes: {crash['deliveries']} deliveries of {crash['events']} events, "
          f"{crash['repeated']} repeated ({crash['repeated_per_crash']:.2f} per crash)")
    print(f"-- a {down['outage_minutes']}-minute outage: {down['failed_calls']} failed calls, {down['shown']} of "
          f"{down['events']} events shown, {down['lost']} lost, {down['repeated']} repeated, the last shown "
          f"{down['minutes_after_back']:.1f} min after the platform came back")
    summary = [
        f"relay, two relays and a 3 s platform: {per_event:.2f} deliveries per event (aim 1.00: "
        f"{verdict(per_event, 1.0, higher_is_better=False)}), {speed:.2f}x the speed of one relay alone",
        f"relay, {crash['crashes']} crashes: {crash['repeated_per_crash']:.2f} repeated deliveries per crash "
        f"(aim at most 1: {verdict(crash['repeated_per_crash'], 1.0, higher_is_better=False)})",
        f"relay, a {down['outage_minutes']}-minute outage: {down['lost']} of {down['events']} events lost "
        f"(aim 0: {verdict(down['lost'], 0, higher_is_better=False)}), {down['repeated']} repeated, all shown "
        f"{down['minutes_after_back']:.1f} min after the platform came back",
    ]
    with contextlib.suppress(OSError):
        write_result("relay", {"two_processes": two, "crashes": crash, "outage": down, "quick": quick})
    return {"summary": summary}
