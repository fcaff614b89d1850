"""A real PostgreSQL streaming replica that lags: lists lose nothing (records/replica.py).

The test starts its own primary and a replica made by ``pg_basebackup`` on loopback
ports, from the machine's PostgreSQL binaries, and skips when they are not there. It
pauses replay on the replica, writes on the primary, and harvests through an app whose
reads go to the replica: the list must hold every record committed before its
responseDate (§2.7.1, §3.5), which the paused replica cannot give.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oai import create_app
from records.ingest import import_records
from records.models import Record
from records.validate import utc_now
from tests.conftest import OAIClient, harvest, identifiers, make_record
from tests.pg_cluster import (
    NO_SERVER_BINARIES,
    READY_WITHIN,
    Server,
    configure,
    make_home,
    start,
    stop_quietly,
)
from tests.pg_cluster import run as _run
from tests.servers import free_port

pytestmark = pytest.mark.skipif(
    NO_SERVER_BINARIES,
    reason="no PostgreSQL server binaries (initdb, pg_basebackup) to start a replica with",
)


def _start(server: Server, home: Path) -> None:
    configure(server, home)
    start(server)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Server, Server]]:
    home = make_home("oaipress-replica-")
    primary = Server(home / "primary", free_port())
    replica = Server(home / "replica", free_port())
    started: list[Server] = []
    try:
        _run("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        _start(primary, home)
        started.append(primary)
        _run(
            "pg_basebackup",
            "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(replica.data), "-R", "-X", "stream",
        )  # fmt: skip
        _start(replica, home)
        started.append(replica)
        yield primary, replica
    finally:
        for server in reversed(started):
            stop_quietly(server)
        shutil.rmtree(home, ignore_errors=True)


def _replayed(primary: Server, replica: Server) -> None:
    """Wait until the replica shows everything the primary has committed."""
    with primary.connect() as p:
        position = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + READY_WITHIN
    with replica.connect() as r:
        while not r.execute("SELECT pg_last_wal_replay_lsn() >= %s", (position,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.05)


def _wait_for_the_stamps(app) -> None:
    """Writes show in lists once their datestamp, set in the future at commit, passes."""
    with app.extensions["oaipress.store"].session() as session:
        newest = session.scalar(select(func.max(Record.datestamp)))
    while utc_now() <= newest:
        time.sleep(0.1)


def test_a_lagging_replica_loses_no_record_and_no_page(cluster):
    primary, replica = cluster
    with primary.connect() as connection:
        connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    app = create_app(
        {
            "OAIPRESS_DATABASE_URL": primary.url,
            "OAIPRESS_READ_DATABASE_URL": replica.url,
            "OAIPRESS_REPOSITORY_IDENTIFIER": "repo.example.org",
            "OAIPRESS_SECRET_KEY": "replica-test",
            "OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE": 3,
        }
    )
    oai = OAIClient(app.test_client())
    try:
        store = app.extensions["oaipress.store"]
        assert store.has_replica
        _run_scenario(app, oai, primary, replica)
    finally:
        app.extensions["oaipress.store"].dispose()


def _run_scenario(app, oai: OAIClient, primary: Server, replica: Server) -> None:
    def write(records: list[dict]) -> None:
        store = app.extensions["oaipress.store"]
        with store.transaction() as session:
            import_records(
                session, [json.dumps(r) for r in records], app.extensions["oaipress.renderer"]
            )

    write([make_record(i) for i in range(5)])
    _wait_for_the_stamps(app)
    _replayed(primary, replica)
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(items) == 5

    with replica.connect() as r:
        r.execute("SELECT pg_wal_replay_pause()")
    try:
        write([make_record(i) for i in range(5, 12)])
        _wait_for_the_stamps(app)
        with replica.connect() as r:  # the replica really lacks them
            assert r.execute("SELECT count(*) FROM records").fetchone()[0] == 5
        items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
        assert sorted(identifiers(items)) == sorted(
            f"oai:repo.example.org:article/{i}" for i in range(12)
        )
    finally:
        with replica.connect() as r:
            r.execute("SELECT pg_wal_replay_resume()")
    _replayed(primary, replica)
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(items) == 12  # the replica, caught up, answers again
