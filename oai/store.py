"""The application's handle on the record store: engine, sessions and store settings."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records.db import create_schema, make_engine, make_session_factory
from records.models import StoreSetting

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
    def transaction(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def setting(self, key: str) -> str | None:
        with self.session() as session:
            return session.scalar(select(StoreSetting.value).where(StoreSetting.key == key))

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as session:
            session.merge(StoreSetting(key=key, value=value))

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
