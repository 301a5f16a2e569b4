"""Schema migrations (Alembic), run from code so no alembic.ini is needed.

`upgrade(engine)` brings any database, empty or made by an older version, to the newest revision
without losing data. New revisions go in `versions/`, each with the previous one as `down_revision`.
"""
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


class DuckDBImpl(DefaultImpl):
    """Alembic knows no DuckDB; its generic DDL is what DuckDB speaks."""

    __dialect__ = "duckdb"


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Takes the schema back to `revision`, keeping the rows (each revision's `downgrade`)."""
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
