"""Real databases for the tests: a fresh SQLite file per test, and PostgreSQL when it is configured."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from adapters.db.connect import Database, connect
from adapters.db.migrate import upgrade
from tests.market import Market

PG_URL = os.environ.get("GIGROOM_TEST_POSTGRES_URL", "")
REQUIRE_PG = os.environ.get("GIGROOM_REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL or REQUIRE_PG:  # when PostgreSQL is required, its tests run, and fail without a server
        return
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="no PostgreSQL: set GIGROOM_TEST_POSTGRES_URL"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gigroom.db"
    database = connect(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "gigroom.db"
    shutil.copy(sqlite_template, path)
    database = connect(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A database of this test process's own on the PostgreSQL server, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.fail("GIGROOM_REQUIRE_POSTGRES=1, but GIGROOM_TEST_POSTGRES_URL names no server")
    name = f"gigroom_test_{worker_id}_{os.getpid()}"  # two test runs at once never share a database
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    database = connect(url)
    upgrade(database)
    database.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[Database]:
    database = connect(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with database.writer.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    db: Database = request.getfixturevalue(f"{request.param}_db")
    return db


@pytest.fixture
def market(database: Database) -> Market:
    return Market(database)


@pytest.fixture
def sqlite_market(sqlite_db: Database) -> Market:
    return Market(sqlite_db)
