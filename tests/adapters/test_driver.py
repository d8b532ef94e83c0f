"""The unit of work's statements, compiled once and run on the driver: the same rows as SQLAlchemy would write."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, bindparam, delete, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from adapters.db.connect import Database
from adapters.db.driver import Cursor, Sql
from adapters.db.types import UTCDateTime
from adapters.db.uow import TIMERS, SqlUnitOfWork
from core.errors import Conflict
from core.lifecycle import OrderState
from tests.market import Market

WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))


def _cursor(database: Database) -> tuple[object, Cursor]:
    connection = database.writer.raw_connection()
    cursor = Cursor(connection.cursor(), database.writer.dialect)
    if database.is_sqlite:
        cursor.plain("BEGIN IMMEDIATE")
    return connection, cursor


def test_a_timestamp_written_on_the_driver_reads_back_through_sqlalchemy_as_the_same_instant(
        market: Market, database: Database) -> None:
    order = market.order(OrderState.IN_PROGRESS)
    connection, cursor = _cursor(database)
    try:
        cursor.execute(Sql(insert(TIMERS).values(order_id=bindparam("o"), kind=bindparam("k"),
                                                  due_at=bindparam("d"))), {"o": order, "k": "test", "d": WHEN})
        connection.commit()  # type: ignore[attr-defined]
    finally:
        connection.close()  # type: ignore[attr-defined]
    with database.reader.connect() as conn:
        stored = conn.execute(select(TIMERS.c.due_at).where(TIMERS.c.kind == "test")).scalar_one()
    assert stored == WHEN and stored.tzinfo == UTC


def test_a_row_read_on_the_driver_goes_through_the_column_types(market: Market, database: Database) -> None:
    order = market.order(OrderState.IN_PROGRESS)
    connection, cursor = _cursor(database)
    try:
        found = cursor.first(Sql(select(TIMERS.c.kind, TIMERS.c.due_at).where(TIMERS.c.order_id == bindparam("o"))
                                 .order_by(TIMERS.c.due_at).limit(1)), {"o": order})
    finally:
        connection.close()  # type: ignore[attr-defined]
    assert found is not None
    kind, due = found
    assert isinstance(kind, str) and isinstance(due, datetime) and due.tzinfo == UTC


def test_a_statement_the_driver_cannot_run_as_compiled_is_refused_when_compiled(database: Database) -> None:
    expanding = Sql(delete(TIMERS).where(TIMERS.c.kind.in_(bindparam("kinds", expanding=True))))
    with pytest.raises(ValueError, match="not a plain statement"):
        expanding.compiled(database.writer.dialect)


def test_a_missing_parameter_is_named(database: Database) -> None:
    statement = Sql(select(TIMERS.c.id).where(TIMERS.c.order_id == bindparam("o")))
    with pytest.raises(KeyError, match="'o'"):
        statement.compiled(database.writer.dialect).parameters({})


def test_a_driver_error_is_raised_as_sqlalchemys_and_rolls_back_with_the_unit_of_work(
        market: Market, database: Database) -> None:
    order = market.order(OrderState.IN_PROGRESS)
    add = Sql(insert(TIMERS).values(order_id=bindparam("o"), kind=bindparam("k"), due_at=bindparam("d")))
    with pytest.raises(IntegrityError), SqlUnitOfWork(database, market.clock.now) as uow:
        uow.orders.cursor.execute(add, {"o": order, "k": "twice", "d": WHEN})
        uow.orders.cursor.execute(add, {"o": order, "k": "twice", "d": WHEN})  # (order_id, kind) is unique
    with database.reader.connect() as conn:
        assert conn.execute(select(TIMERS.c.id).where(TIMERS.c.kind == "twice")).first() is None


def test_a_request_recorded_twice_is_a_conflict_and_the_transaction_goes_on(market: Market,
                                                                              database: Database) -> None:
    with SqlUnitOfWork(database, market.clock.now) as uow:
        uow.commands.add("shell:test/request-1", "shell:test", "first", market.clock.now())
        uow.commit()
    with SqlUnitOfWork(database, market.clock.now) as uow:
        with pytest.raises(Conflict):
            uow.commands.add("shell:test/request-1", "shell:test", "second", market.clock.now())
        uow.commands.add("shell:test/request-2", "shell:test", "third", market.clock.now())  # the savepoint held
        uow.commit()
    with SqlUnitOfWork(database, market.clock.now) as uow:
        assert (uow.commands.seen("shell:test/request-1"), uow.commands.seen("shell:test/request-2")) == \
            ("first", "third")


@pytest.mark.parametrize("when", [WHEN, datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2031, 3, 3, 9, tzinfo=UTC)])
def test_sqlite_timestamps_keep_sqlalchemys_own_storage_format(when: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect)
    stored = ours.bind_processor(dialect)(when)
    assert stored == DateTime().dialect_impl(dialect).bind_processor(dialect)(when.astimezone(UTC).replace(tzinfo=None))
    assert ours.result_processor(dialect, None)(stored) == when
