"""Database engines: SQLite in WAL with writers starting BEGIN IMMEDIATE, or PostgreSQL."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")  # never OFF: money is kept here


@dataclass(frozen=True, slots=True)
class Database:
    """A writer engine and a reader engine on the same database."""

    writer: Engine
    reader: Engine
    url: str
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # short-lived, per process

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()


def connect(url: str, synchronous: str = "FULL", busy_timeout_ms: int = 30_000,
            sqlite_factory: type[Any] | None = None) -> Database:
    """The engines for `url`; `sqlite_factory`, a sqlite3.Connection subclass for the writer, serves instrumentation."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        return Database(engine, engine, url)
    if synchronous.upper() not in SYNCHRONOUS:
        raise ValueError(f"SQLite synchronous must be one of {', '.join(SYNCHRONOUS)}: money is never kept on OFF")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    writer = _sqlite(url, synchronous.upper(), busy_timeout_ms, "BEGIN IMMEDIATE", sqlite_factory)
    reader = _sqlite(url, synchronous.upper(), busy_timeout_ms, "BEGIN", None)
    return Database(writer, reader, url)


def _sqlite(url: str, synchronous: str, busy_timeout_ms: int, begin: str, factory: type[Any] | None) -> Engine:
    connect_args: dict[str, Any] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    if factory is not None:
        connect_args["factory"] = factory
    engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver, so that SQLAlchemy's begin event below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    # SQLAlchemy Connections (reads, the relay, migrations) begin here; the unit of work, which runs on
    # the driver's connection (adapters/db/uow.py), sends the same BEGIN itself.
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine
