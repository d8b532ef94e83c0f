"""The outbox relay: every committed event reaches its adapter, in order, even after failures."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import func, select, update

from adapters.db.connect import Database
from adapters.db.tables import OutboxRow
from adapters.relay import BACKOFF_CAP, LEASE, OutboxRelay, Undeliverable, letters, outbox_counts, retry
from core.events import Event, OrderEvent
from core.lifecycle import OrderState
from tests.market import Market


class Recorder:
    platform = "shell"

    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[Event] = []
        self.fail_times = fail_times

    async def deliver(self, event: Event) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("the platform is down")
        self.events.append(event)


class Killed(BaseException):
    """The process dies (as SIGKILL would, nothing after it runs in this relay)."""


class Outage(Recorder):
    """A platform that is down until a moment of the (moved) clock."""

    def __init__(self, until: datetime, now: Callable[[], datetime]) -> None:
        super().__init__()
        self.until, self.now, self.failures = until, now, 0

    async def deliver(self, event: Event) -> None:
        if self.now() < self.until:
            self.failures += 1
            raise ConnectionError("the platform is down")
        await super().deliver(event)


class Slow(Recorder):
    """A rate-limited platform: each event takes a while."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds, self.cancelled = seconds, 0
        self.started = asyncio.Event()

    async def deliver(self, event: Event) -> None:
        self.started.set()
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        await super().deliver(event)


def unsent(database: Database) -> int:
    with database.reader.connect() as connection:
        return connection.execute(select(func.count()).select_from(OutboxRow)
                                  .where(OutboxRow.sent_at.is_(None))).scalar_one()


async def test_events_committed_before_a_crash_are_sent_by_the_next_relay(market: Market) -> None:
    order_id = market.order(until=OrderState.IN_PROGRESS)  # committed; no relay ran: "the crash"
    assert unsent(market.database) > 0
    sink = Recorder()
    relay = OutboxRelay(market.database, [sink], market.clock.now, "after-restart")
    await relay.run_once()
    kinds = [type(e).__name__ for e in sink.events if isinstance(e, OrderEvent) and e.order_id == order_id]
    assert kinds == ["OrderPlaced", "RequirementsSubmitted", "OrderAccepted"]
    assert unsent(market.database) == 0
    await relay.run_once()
    assert len(sink.events) == len({id(e) for e in sink.events})  # nothing sent twice


async def test_a_failing_adapter_is_retried_later_and_loses_nothing(sqlite_market: Market) -> None:
    market = sqlite_market
    with time_machine.travel("2026-06-01 10:00Z", tick=False) as traveller:
        order_id = market.order(until=OrderState.IN_PROGRESS)
        sink = Recorder(fail_times=2)
        relay = OutboxRelay(market.database, [sink], market.clock.now, "one")
        assert await relay.run_once() == 0
        assert sink.events == []  # the first event failed, and the order's later events wait behind it
        traveller.shift(timedelta(seconds=1))
        assert await relay.run_once() == 0  # still backing off
        traveller.shift(timedelta(minutes=10))
        await relay.run_once()
        traveller.shift(timedelta(minutes=10))
        await relay.run_once()
        kinds = [type(e).__name__ for e in sink.events if getattr(e, "order_id", None) == order_id]
        assert kinds == ["OrderPlaced", "RequirementsSubmitted", "OrderAccepted"]
        assert unsent(market.database) == 0


async def test_an_outage_of_any_length_loses_nothing(market: Market) -> None:
    """Two hours down (far past the old 12 attempts, about 37 minutes): every event is shown once, in order, soon after."""
    with time_machine.travel("2026-06-01 10:00Z", tick=False) as traveller:
        orders = [market.order(until=OrderState.IN_PROGRESS) for _ in range(3)]
        back = market.clock.now() + timedelta(hours=2)
        sink = Outage(until=back, now=market.clock.now)
        relay = OutboxRelay(market.database, [sink], market.clock.now, "one")
        while market.clock.now() < back + BACKOFF_CAP + timedelta(minutes=1):
            await relay.run_once()
            traveller.shift(timedelta(seconds=60))
        assert sink.failures > 12
        for order_id in orders:
            kinds = [type(e).__name__ for e in sink.events if getattr(e, "order_id", None) == order_id]
            assert kinds == ["OrderPlaced", "RequirementsSubmitted", "OrderAccepted"]
        assert unsent(market.database) == 0 and outbox_counts(market.database) == (0, 0)
        assert len(sink.events) == len(set(map(repr, sink.events))) == 3 * 4


async def test_what_the_platform_refuses_for_good_is_a_dead_letter_an_operator_can_retry(market: Market) -> None:
    order_id = market.order(until=OrderState.IN_PROGRESS)

    class DeletedRoom(Recorder):
        refuse = True

        async def deliver(self, event: Event) -> None:
            if self.refuse and type(event).__name__ == "RequirementsSubmitted":
                raise Undeliverable("channel_not_found")
            await super().deliver(event)

    sink = DeletedRoom()
    relay = OutboxRelay(market.database, [sink], market.clock.now, "one")
    await relay.run_once()
    kinds = [type(e).__name__ for e in sink.events if getattr(e, "order_id", None) == order_id]
    assert kinds == ["OrderPlaced", "OrderAccepted"]  # the dead letter holds back none of the order's later events
    assert outbox_counts(market.database) == (0, 1)
    [dead] = letters(market.database)
    assert (dead.order_id, dead.type, dead.error) == (order_id, "RequirementsSubmitted",
                                                      "Undeliverable: channel_not_found")
    await relay.run_once()
    assert len(sink.events) == 3  # a dead letter is not retried by itself
    sink.refuse = False
    assert retry(market.database, market.clock.now(), [dead.id]) == 1
    await relay.run_once()
    assert type(sink.events[-1]).__name__ == "RequirementsSubmitted"
    assert outbox_counts(market.database) == (0, 0) and letters(market.database) == []


async def test_each_event_is_marked_sent_as_it_is_shown_so_a_crash_repeats_at_most_one(market: Market) -> None:
    for _ in range(4):
        market.order(until=OrderState.IN_PROGRESS)
    total = unsent(market.database)

    class Crashing(Recorder):
        async def deliver(self, event: Event) -> None:
            await super().deliver(event)
            if len(self.events) == 6:
                raise Killed  # the process dies right after showing its 6th event, before marking it

    first = Crashing()
    with contextlib.suppress(Killed):
        await OutboxRelay(market.database, [first], market.clock.now, "dies").run_once()
    assert unsent(market.database) == total - 5
    second = Recorder()
    with time_machine.travel(market.clock.now() + LEASE + timedelta(seconds=1), tick=False):
        await OutboxRelay(market.database, [second], market.clock.now, "after-restart").run_once()
    shown = list(map(repr, first.events + second.events))
    assert len(shown) == total + 1 and len(set(shown)) == total  # the one in flight, shown twice; nothing else
    assert unsent(market.database) == 0


async def test_a_second_process_never_repeats_the_work_of_a_live_one_however_slow(market: Market) -> None:
    """A slow platform (each event takes longer than the whole lease): the lease is renewed as the relay works."""
    for _ in range(3):
        market.order(until=OrderState.IN_PROGRESS)
    total = unsent(market.database)
    lease = timedelta(seconds=0.3)
    first, second = Slow(0.4), Slow(0.4)
    relays = [OutboxRelay(market.database, [sink], market.clock.now, name, lease=lease)
              for sink, name in ((first, "a"), (second, "b"))]
    await asyncio.gather(*(relay.run_once() for relay in relays))
    shown = list(map(repr, first.events + second.events))
    assert len(shown) == len(set(shown)) == total
    assert unsent(market.database) == 0


async def test_a_process_that_lost_its_lease_stops_showing_that_event(sqlite_market: Market) -> None:
    market = sqlite_market
    market.order(until=OrderState.IN_PROGRESS)
    lease = timedelta(seconds=0.3)
    sink = Slow(2.0)
    relay = OutboxRelay(market.database, [sink], market.clock.now, "stalled", lease=lease)
    task = asyncio.create_task(relay.run_once())
    await asyncio.wait_for(sink.started.wait(), timeout=5)  # it is showing the first event: another takes the claim
    with market.database.writer.begin() as connection:
        connection.execute(update(OutboxRow).values(claimed_by="other"))
    assert await asyncio.wait_for(task, timeout=5) == 0
    assert sink.events == [] and sink.cancelled == 1  # its delivery was stopped at the next renewal
    assert unsent(market.database) == 4


async def test_two_relays_at_once_send_each_event_once(market: Market) -> None:
    for _ in range(5):
        market.order(until=OrderState.IN_PROGRESS)
    first, second = Recorder(), Recorder()
    await asyncio.gather(OutboxRelay(market.database, [first], market.clock.now, "a").run_once(),
                         OutboxRelay(market.database, [second], market.clock.now, "b").run_once())
    sent = [(type(e).__name__, getattr(e, "order_id", None) or getattr(e, "listing_id", None))
            for e in first.events + second.events]
    assert len(sent) == len(set(sent)) == 5 * 4  # listing, placed, requirements, accepted per order
    assert unsent(market.database) == 0


async def test_only_events_of_platforms_this_process_serves_are_claimed(sqlite_market: Market) -> None:
    market = sqlite_market
    market.listing()

    class Elsewhere(Recorder):
        platform = "discord"

    sink = Elsewhere()
    await OutboxRelay(market.database, [sink], market.clock.now, "x").run_once()
    assert sink.events == [] and unsent(market.database) == 1


async def test_stopping_the_relay_before_it_first_ran_ends_it_promptly(sqlite_market: Market) -> None:
    relay = OutboxRelay(sqlite_market.database, [Recorder()], sqlite_market.clock.now, "one")
    task = asyncio.create_task(relay.run_forever(interval=3600))
    relay.stop()
    await asyncio.wait_for(task, timeout=5)
    assert task.done() and task.exception() is None
