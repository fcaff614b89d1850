"""The Alembic migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from records.db import make_engine
from records.migrate import upgrade
from records.models import Base


def test_migrations_create_the_schema_the_models_describe(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        upgrade(engine)
        assert "records" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
