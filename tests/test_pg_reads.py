"""The protocol's reads without a ping before each request (records.db, oai.store).

Pooled connections are checked only after sitting idle; a connection that died in
between fails its first statement and the request is answered from a fresh connection
(one retry), so a harvester sees neither a 500 nor a 503 for a server restart between
two of its requests (§3.1.2.2 keeps 503 for a database that is really down:
tests/test_unavailable.py).
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from records import db
from tests.conftest import NS, make_record


def _kill_pooled_connections(store) -> None:
    """What a server restart does to every connection of the store's pools."""
    killer = create_engine(store.url, poolclass=NullPool)
    try:
        with killer.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        killer.dispose()


@pytest.fixture
def postgresql_app(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to lose")
    return app


def test_a_connection_killed_between_requests_is_replaced_without_an_error(
    postgresql_app, load, oai
):
    load([make_record(i) for i in range(5)])
    store = postgresql_app.extensions["oaipress.store"]
    first = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert first.find("oai:ListIdentifiers", NS) is not None
    _kill_pooled_connections(store)
    root = oai(
        verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:repo.example.org:article/1"
    )
    assert root.find("oai:GetRecord/oai:record", NS) is not None


def test_an_idle_connection_is_checked_before_it_is_used(postgresql_app, load, oai, monkeypatch):
    load([make_record(i) for i in range(5)])
    store = postgresql_app.extensions["oaipress.store"]
    assert oai(verb="Identify").find("oai:Identify", NS) is not None
    _kill_pooled_connections(store)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection is "idle"
    with store.read_connection() as connection:  # no retry here: the ping replaced it
        assert connection.scalar(text("SELECT 1")) == 1


def test_a_database_that_stays_down_still_answers_503(postgresql_app, monkeypatch):
    """The retry gets no connection either: 503 with Retry-After, as before."""
    store = postgresql_app.extensions["oaipress.store"]
    assert postgresql_app.test_client().get("/oai?verb=Identify").status_code == 200
    _kill_pooled_connections(store)

    def refused(*args, **kwargs):
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(psycopg, "connect", refused)
    response = postgresql_app.test_client().get("/oai?verb=Identify")
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_a_live_idle_connection_is_pinged_and_serves_the_request(
    postgresql_app, load, oai, monkeypatch
):
    """The ping leaves the connection idle: the read path's autocommit can still be set."""
    load([make_record(i) for i in range(5)])
    assert oai(verb="Identify").find("oai:Identify", NS) is not None
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    for _ in range(3):
        root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert root.find("oai:ListIdentifiers", NS) is not None
