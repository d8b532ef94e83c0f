"""The migrations build exactly the schema the code declares, slack_sdk's OAuth store tables included."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import adapters.db.tables  # noqa: F401  (registers the tables)
from adapters.db.connect import Database
from adapters.slack.installs import slack_metadata


def test_the_migrated_database_matches_the_declared_tables(database: Database) -> None:
    with database.reader.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, [SQLModel.metadata, slack_metadata()])
                       if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert differences == []
