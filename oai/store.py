"""The application's handle on the record store: engine, sessions and store settings."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from records.db import (
    BINARY_RESULTS,
    create_schema,
    insert_for,
    make_engine,
    make_session_factory,
)
from records.models import StoreSetting
from records.replica import primary_position, wait_for_replay
from records.stamping import PUBLISHED, confirm, database_now

log = logging.getLogger(__name__)
T = TypeVar("T")
RENDER_SIGNATURE = "render_signature"
TOKEN_SECRET = "token_secret"
#: set in a write's ``session.info`` once it has committed (Store.transaction)
COMMITTED = "oaipress.committed"


class Store:
    def __init__(self, url: str, *, read_url: str | None = None, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        # Protocol requests only read: they may go to a replica of the primary. They run
        # in autocommit: no BEGIN and ROLLBACK round trips around every page (each
        # statement sees its own snapshot either way, as under READ COMMITTED).
        read_engine = make_engine(read_url) if read_url else self.engine
        # On PostgreSQL they fetch results in binary format: stored XML unchanged (records.db).
        reading = {"isolation_level": "AUTOCOMMIT", BINARY_RESULTS: True}
        self.read_engine = read_engine.execution_options(**reading)
        self.primary_read_engine = self.engine.execution_options(**reading)
        # Only a PostgreSQL replica is waited for (records.replica).
        self.has_replica = read_url is not None and read_engine.dialect.name == "postgresql"
        if create:
            create_schema(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for protocol requests: they only read, row by row.

        A connection that failed is not given back to the pool: one that met a lost file
        (SQLite: "file is not a database", a disk I/O error) keeps failing after the file
        is back, and only a fresh connection sees it again (docs/faults.md).
        """
        with _connection(self.read_engine) as connection:
            yield connection

    def read(self, work: Callable[[Connection], T], *, on_primary: bool = False) -> T:
        """``work(connection)`` on a read connection, once more on a fresh one if the first
        connection turns out dead (the server restarted, the socket was dropped).

        ``work`` only reads, so running it again is safe. Pooled connections are not
        pinged before each use (records.db): this retry is what replaces that. A database
        that is really down fails the second attempt too, and the caller answers 503.
        """
        connect = self.primary_read_connection if on_primary else self.read_connection
        try:
            with connect() as connection:
                return work(connection)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("a pooled database connection was dead; retrying on a fresh one")
        with connect() as connection:
            return work(connection)

    @contextmanager
    def primary_read_connection(self) -> Iterator[Connection]:
        """For a protocol request the replica cannot answer yet (records.replica)."""
        with _connection(self.primary_read_engine) as connection:
            yield connection

    @property
    def clock_is_local(self) -> bool:
        """SQLite is a local file: its clock is this machine's, like every writer's."""
        return self.engine.dialect.name == "sqlite"

    def list_clock(
        self, connection: Connection, *, on_primary: bool = False
    ) -> tuple[datetime, str | None]:
        """When a list starts, on the store's one clock, and the replica position it needs.

        ``connection`` is the read connection; on a replica, the time and the position come
        from the primary and the replica must have replayed that far (else ReplicaBehind).
        """
        if not self.has_replica:
            return database_now(connection).replace(microsecond=0), None
        if on_primary:  # ``connection`` is the primary's: no second connection needed
            now, position = primary_position(connection)
        else:
            with self.primary_read_connection() as primary:
                now, position = primary_position(primary)
            wait_for_replay(connection, position)
        return now.replace(microsecond=0), position

    def check_replayed(self, connection: Connection, position: str) -> None:
        """A later page of a list must see what its first page saw."""
        wait_for_replay(connection, position)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write: its records get their datestamp as it commits (records.stamping)."""
        with self.sessions.begin() as session:
            yield session
            published = session.info.pop(PUBLISHED, None)
        session.info[COMMITTED] = True  # what fails from here on fails after the commit
        if published is not None:
            confirm(self.engine, *published)

    def setting(self, key: str) -> str | None:
        with self.session() as session:
            return session.scalar(select(StoreSetting.value).where(StoreSetting.key == key))

    def set_setting(self, key: str, value: str) -> None:
        """An upsert: processes starting at once on a new store may all write it."""
        with self.transaction() as session:
            insert = insert_for(session, StoreSetting)
            session.execute(
                insert.values(key=key, value=value).on_conflict_do_update(
                    index_elements=["key"], set_={"value": value}
                )
            )

    def shared_secret(self) -> str:
        """A token secret made once and kept in the store, so every worker agrees on it."""
        existing = self.setting(TOKEN_SECRET)
        if existing:
            return existing
        try:
            with self.transaction() as session:
                session.add(StoreSetting(key=TOKEN_SECRET, value=secrets.token_urlsafe(32)))
        except IntegrityError:
            pass  # another worker made it first
        value = self.setting(TOKEN_SECRET)
        assert value is not None
        return value

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


@contextmanager
def _connection(engine: Engine) -> Iterator[Connection]:
    """A pooled connection that goes back to the pool only if no database error met it."""
    with engine.connect() as connection:
        try:
            yield connection
        except DBAPIError:
            if not connection.invalidated:
                connection.invalidate()
            raise
