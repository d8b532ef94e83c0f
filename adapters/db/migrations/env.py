"""Alembic's environment: gigroom hands it a connection, or it opens DATABASE_URL."""

import os

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import adapters.db.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from adapters.slack.installs import slack_metadata

config = context.config
target_metadata = [SQLModel.metadata, slack_metadata()]  # gigroom's tables, and slack_sdk's OAuth stores' (0003)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "sqlite:///gigroom.db")
    with create_engine(url).connect() as fresh:
        _run(fresh)
