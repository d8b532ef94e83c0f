"""The outbox relay: every committed event reaches its adapter, in order, even after failures."""

import asyncio
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from adapters.db.connect import Database
from adapters.db.tables import OutboxRow
from adapters.relay import MAX_ATTEMPTS, OutboxRelay
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


async def test_an_event_no_adapter_can_take_is_given_up_after_many_attempts(sqlite_market: Market) -> None:
    market = sqlite_market
    with time_machine.travel("2026-06-01 10:00Z", tick=False) as traveller:
        market.listing()
        sink = Recorder(fail_times=10_000)
        relay = OutboxRelay(market.database, [sink], market.clock.now, "one")
        for _ in range(MAX_ATTEMPTS):
            await relay.run_once()
            traveller.shift(timedelta(hours=1))
        assert unsent(market.database) == 0
        with market.database.reader.connect() as connection:
            error = connection.execute(select(OutboxRow.error)).scalar_one()
        assert error.startswith(f"gave up after {MAX_ATTEMPTS} attempts: ConnectionError")


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
