"""Two people at once, a double click, a buyer racing the clock: one outcome, and a clear refusal."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from adapters.db.connect import Database
from adapters.db.tables import LedgerTxnRow, OutboxRow
from core import commands as c
from core.errors import Refused
from core.lifecycle import OrderState
from tests.market import Market

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Start every job at the same moment in its own thread; each result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as error:  # the race's loser is what we look at
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def events(database: Database, kind: str, order_id: str) -> int:
    with database.reader.connect() as connection:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.type == kind,
                                                                  OutboxRow.order_id == order_id)
        return connection.execute(query).scalar_one()


def test_two_conflicting_commands_at_once_give_one_transition_and_one_clear_refusal(market: Market) -> None:
    for _ in range(5):
        order_id = market.order(until=OrderState.AWAITING_ACCEPTANCE)
        results = race(lambda oid=order_id: market.do(c.AcceptOrder, market.seller, order_id=oid),
                       lambda oid=order_id: market.do(c.DeclineOrder, market.seller, order_id=oid, reason="busy"))
        refusals = [r for r in results if isinstance(r, Exception)]
        assert len(refusals) == 1, results
        assert isinstance(refusals[0], Refused), repr(refusals[0])
        assert "locked" not in refusals[0].reason
        assert market.get(order_id).state in {OrderState.IN_PROGRESS, OrderState.DECLINED}
        assert events(market.database, "OrderAccepted", order_id) + events(market.database, "OrderDeclined",
                                                                           order_id) == 1


def test_a_double_click_accepts_a_delivery_once(market: Market) -> None:
    order_id = market.order(until=OrderState.DELIVERED)
    results = race(*[lambda: market.do(c.AcceptDelivery, market.buyer, order_id=order_id)] * 6)
    refusals = [r for r in results if isinstance(r, Exception)]
    assert len(refusals) == 5 and all(isinstance(r, Refused) for r in refusals), results
    assert all("already accepted" in r.reason for r in refusals), [r.reason for r in refusals]
    assert events(market.database, "DeliveryAccepted", order_id) == 1
    with market.database.reader.connect() as connection:
        releases = select(func.count()).select_from(LedgerTxnRow).where(LedgerTxnRow.order_id == order_id,
                                                                        LedgerTxnRow.kind == "release")
        assert connection.execute(releases).scalar_one() == 1


def test_a_retried_request_with_the_same_key_has_one_effect_even_at_once(market: Market) -> None:
    order_id = market.order(until=OrderState.AWAITING_ACCEPTANCE)
    results = race(*[lambda: market.engine.handle(c.AcceptOrder(actor=market.seller, order_id=order_id,
                                                                key="slack:retry:1"))] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if not r.replayed) == 1
    assert events(market.database, "OrderAccepted", order_id) == 1


def test_a_buyers_click_racing_the_automatic_acceptance_gives_one_outcome(market: Market) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(4):
            order_id = market.order(until=OrderState.DELIVERED)
            ends = market.get(order_id).review_ends_at
            assert ends is not None
            traveller.move_to(ends)
            results = race(lambda oid=order_id: market.do(c.AcceptDelivery, market.buyer, order_id=oid), market.fire)
            click = results[0]
            assert isinstance(click, Refused) or click.events, results
            if isinstance(click, Refused):
                assert "already accepted" in click.reason
            assert events(market.database, "DeliveryAccepted", order_id) == 1
            assert market.get(order_id).state is OrderState.ACCEPTED
            traveller.shift(timedelta(hours=1))


@pytest.mark.parametrize("writers", [8])
def test_many_writers_at_once_never_see_database_is_locked(sqlite_market: Market, writers: int) -> None:
    order_ids = [sqlite_market.order(until=OrderState.IN_PROGRESS) for _ in range(writers)]
    results = race(*[lambda oid=oid: sqlite_market.do(c.PostMessage, sqlite_market.buyer, order_id=oid,
                                                      text="hello") for oid in order_ids for _ in range(3)])
    assert not [r for r in results if isinstance(r, Exception)], results
