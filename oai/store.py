"""The application's handle on the record store: engine, sessions and store settings."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records.db import create_schema, insert_for, make_engine, make_session_factory
from records.models import StoreSetting
from records.replica import primary_position, wait_for_replay
from records.stamping import PUBLISHED, confirm, database_now

RENDER_SIGNATURE = "render_signature"
TOKEN_SECRET = "token_secret"


class Store:
    def __init__(self, url: str, *, read_url: str | None = None, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        # Protocol requests only read: they may go to a replica of the primary. They run
        # in autocommit: no BEGIN and ROLLBACK round trips around every page (each
        # statement sees its own snapshot either way, as under READ COMMITTED).
        read_engine = make_engine(read_url) if read_url else self.engine
        self.read_engine = read_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.primary_read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
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
        """A Core connection for protocol requests: they only read, row by row."""
        with self.read_engine.connect() as connection:
            yield connection

    @contextmanager
    def primary_read_connection(self) -> Iterator[Connection]:
        """For a protocol request the replica cannot answer yet (records.replica)."""
        with self.primary_read_engine.connect() as connection:
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
