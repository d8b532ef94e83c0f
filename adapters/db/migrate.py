"""Schema migrations with alembic, run by `gigroom migrate` and at every start-up."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.db.connect import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    config = alembic_config(database)
    with database.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(database: Database) -> bool:
    head = ScriptDirectory.from_config(alembic_config(database)).get_current_head()
    with database.reader.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
