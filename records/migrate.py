"""Schema migrations with Alembic, for SQLite and PostgreSQL alike.

``upgrade`` runs at start-up of every command and of the web app, so a new release
brings its schema changes with it. On PostgreSQL an advisory lock keeps several
workers starting at once from migrating twice.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

_LOCK_KEY = 0x0A1B2E55


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "records:migrations")
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        command.upgrade(alembic_config(connection), revision)


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
