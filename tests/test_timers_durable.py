"""Timers are rows: a crash, a restart or a second process neither loses a deadline nor fires one twice."""

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select, text

from adapters.db.connect import Database
from adapters.db.tables import LedgerTxnRow, OutboxRow, TimerRow
from bot.app import Gigroom
from bot.settings import Settings
from core.actor import Actor
from core.commands import SetPolicy
from core.lifecycle import OrderState
from core.order import Order
from core.policy import Policy
from tests.market import SERVICE, Market
from tests.workers.fire_timers import FixedClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def place_many(database: Database, count: int) -> list[str]:
    """`count` orders awaiting acceptance, placed at T0 in one transaction (setup, not the test)."""
    market = Market(database, clock=FixedClock(T0))
    terms = replace(SERVICE, questions=()).terms((), 1000)
    ids = []
    with market.engine.unit_of_work() as uow:
        for i in range(count):
            order = Order.place(f"O{i:07d}", Actor(market.community.id, f"buyer{i % 50}"), "sam", terms,
                                Policy(), T0)
            uow.orders.add(order)
            for txn in order.transactions:
                uow.ledger.post(order.community_id, txn, T0)
            ids.append(order.id)
        uow.commit()
    return ids


def expired_events(database: Database) -> list[str]:
    with database.reader.connect() as c:
        return list(c.execute(select(OutboxRow.order_id).where(OutboxRow.type == "OrderExpired")).scalars())


def count(database: Database, query) -> int:  # type: ignore[no-untyped-def]
    with database.reader.connect() as c:
        return c.execute(query).scalar_one()


def worker(url: str, now: datetime, pause: float = 0.0) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.workers.fire_timers", url, now.isoformat()]
    if pause:
        args += ["--pause", str(pause)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_timers_fire_once_after_a_process_is_killed_with_sigkill_and_started_again(sqlite_db: Database) -> None:
    ids = place_many(sqlite_db, 120)
    later = T0 + Policy().acceptance_window + timedelta(seconds=1)
    first = worker(sqlite_db.url, later, pause=0.01)
    assert first.stdout and first.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while len(expired_events(sqlite_db)) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    done_before_restart = len(expired_events(sqlite_db))
    assert 30 <= done_before_restart < len(ids)

    second = worker(sqlite_db.url, later)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    expired = expired_events(sqlite_db)
    assert sorted(expired) == sorted(ids)  # every order expired, and exactly once
    assert count(sqlite_db, select(func.count()).select_from(TimerRow)) == 0
    refunds = select(func.count()).select_from(LedgerTxnRow).where(LedgerTxnRow.kind == "refund")
    assert count(sqlite_db, refunds) == len(ids)


@pytest.mark.postgres
def test_two_processes_on_postgresql_fire_1000_due_timers_exactly_once(postgres_db: Database) -> None:
    ids = place_many(postgres_db, 1000)
    later = T0 + Policy().acceptance_window + timedelta(minutes=1)
    processes = [worker(postgres_db.url, later) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    fired = [int(out.strip().splitlines()[-1].split()[1]) for out, _ in outputs]
    assert sum(fired) == 1000
    expired = expired_events(postgres_db)
    assert len(expired) == 1000 and sorted(expired) == sorted(ids)
    assert count(postgres_db, select(func.count()).select_from(TimerRow)) == 0
    refunds = select(func.count()).select_from(LedgerTxnRow).where(LedgerTxnRow.kind == "refund")
    assert count(postgres_db, refunds) == 1000
    with postgres_db.reader.connect() as c:
        held = c.execute(text("SELECT count(*) FROM balances WHERE account LIKE 'escrow:%' AND balance <> 0"))
        assert held.scalar_one() == 0


async def test_a_timer_that_fell_due_while_gigroom_was_down_fires_at_start_up(sqlite_db: Database,
                                                                            tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        market = Market(sqlite_db)
        order_id = market.order(until=OrderState.AWAITING_ACCEPTANCE)
        traveller.shift(Policy().acceptance_window + timedelta(hours=3))  # gigroom was down meanwhile
        settings = Settings(database_url=sqlite_db.url, files_dir=tmp_path / "files", sweep_interval=3600)
        gig = Gigroom(settings)
        await gig.start()
        try:
            order = market.get(order_id)
            assert order.state is OrderState.EXPIRED
            assert order.ended_at == T0 + Policy().acceptance_window + timedelta(hours=3)
        finally:
            await gig.stop()


async def test_the_scheduler_wakes_at_the_next_deadline_without_waiting_for_the_interval(
        sqlite_db: Database, tmp_path: Path) -> None:
    market = Market(sqlite_db)
    market.do(SetPolicy, market.admin, setting="acceptance_window", value="1s")
    settings = Settings(database_url=sqlite_db.url, files_dir=tmp_path / "files", sweep_interval=3600)
    gig = Gigroom(settings)
    await gig.start()
    try:
        order_id = market.order(until=OrderState.AWAITING_ACCEPTANCE)
        await gig.timers.poke()
        for _ in range(100):
            if market.get(order_id).state is OrderState.EXPIRED:
                break
            await asyncio.sleep(0.05)
        assert market.get(order_id).state is OrderState.EXPIRED
    finally:
        await gig.stop()
