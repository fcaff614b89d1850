"""Engines and sessions for SQLite and PostgreSQL, and the store's own errors."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, Insert, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
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
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg":
        _binary_results_when_asked(engine)
    return engine


#: execution option: a connection's results come in PostgreSQL's binary format
BINARY_RESULTS = "oaipress_binary_results"


def _binary_results_when_asked(engine: Engine) -> None:
    """Results in binary format on connections with :data:`BINARY_RESULTS` (the reads).

    In the default text format the server writes every stored ``bytea`` (headers,
    renditions: most of what a List response sends) as hex, twice its size, and psycopg
    decodes it back; in binary format the bytes pass as they are stored. Measured on a
    page of 100 records: a third of the client's CPU time for the fetch. The values
    psycopg returns are the same Python objects either way.
    """
    from psycopg.pq import Format

    @event.listens_for(engine, "before_cursor_execute")
    def _binary(
        connection: Any, cursor: Any, _sql: Any, _params: Any, _context: Any, _many: Any
    ) -> None:
        if connection.get_execution_options().get(BINARY_RESULTS):
            cursor.format = Format.BINARY


#: a pooled connection unused for longer than this is checked before it is handed out
IDLE_PING_SECONDS = 10.0
_CHECKED_IN = "oaipress.checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection's liveness only after it sat idle in the pool.

    A ping before every checkout (``pool_pre_ping``) is a round trip per request: on a
    busy server, a fifth of a GetRecord. Connections in steady use need none; one that sat
    idle (a database restarted overnight, a firewall that drops idle sockets) is checked
    and, if dead, replaced before anyone uses it. A connection that dies between two
    requests fails its next statement: the protocol retries that read once on a fresh
    connection (oai.store.Store.read).
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_CHECKED_IN)
        if last is None or time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            # Outside autocommit the ping began a transaction: end it, or the reader's
            # switch to autocommit fails ("can't change 'autocommit' now"): a 500.
            dbapi_connection.rollback()
        except Exception as error:  # any failure: the pool replaces the connection
            raise DisconnectionError(str(error)) from error


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
