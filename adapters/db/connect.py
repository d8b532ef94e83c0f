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


def connect(url: str, synchronous: str = "FULL", busy_timeout_ms: int = 30_000) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        return Database(engine, engine, url)
    if synchronous.upper() not in SYNCHRONOUS:
        raise ValueError(f"SQLite synchronous must be one of {', '.join(SYNCHRONOUS)}: money is never kept on OFF")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    writer = _sqlite(url, synchronous.upper(), busy_timeout_ms, "BEGIN IMMEDIATE")
    reader = _sqlite(url, synchronous.upper(), busy_timeout_ms, "BEGIN")
    return Database(writer, reader, url)


def _sqlite(url: str, synchronous: str, busy_timeout_ms: int, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False})

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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine
