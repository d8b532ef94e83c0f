"""Timestamps stored as UTC on every database and read back timezone-aware."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class _SQLiteDateTime(SQLITE_DATETIME):
    """SQLite's DATETIME in its default storage format ("2026-11-22 07:20:14.000123"), converted in C.

    `datetime.isoformat(" ", "microseconds")` writes exactly the text of SQLAlchemy's default format, and
    `datetime.fromisoformat` reads it, without a format dictionary or a regular expression per value: every
    command writes several timestamps.
    """

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        def process(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(" ", "microseconds")
        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)
        return process


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteDateTime())
        return dialect.type_descriptor(self.impl_instance)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
