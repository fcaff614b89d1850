"""Engines and sessions for SQLite and PostgreSQL, and the store's own errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Insert, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or is too busy; callers answer 503, not 500."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend.

    SQLite gets WAL (readers never block the writer, so a harvest can run during an
    import) and a busy timeout (several gunicorn workers share one file).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """Bring the schema to the current version (Alembic-managed when available)."""
    from records.migrate import upgrade

    upgrade(engine)


def drop_schema(engine: Engine) -> None:
    """Drop every table the database has, not only those the models know: a table an
    older schema left behind (and its foreign keys) would otherwise block the drop."""
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)


def refresh_statistics(engine: Engine) -> None:
    """Let PostgreSQL's planner see the new table sizes and its index-only scans work.

    (SQLite plans these queries well without statistics; with them it may choose worse.)
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE records, record_sets, renditions")


def insert_for(session: Session, model: type[Any]) -> Any:
    """The backend's own INSERT, which knows ON CONFLICT (both dialects spell it alike)."""
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)


def insert_ignoring_duplicates(session: Session, model: type[Any]) -> Insert:
    """An INSERT that skips rows whose key exists (a concurrent writer may add it first)."""
    insert: Insert = insert_for(session, model).on_conflict_do_nothing()
    return insert
