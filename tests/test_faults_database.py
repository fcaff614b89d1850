"""The database goes away in the middle of a harvest, then comes back (issue 10, point 4).

A harvester has page 1 of a ListRecords from a real ``oaipress serve``; then the store
becomes unreadable. The next request must get ``503 Service Unavailable`` with
``Retry-After`` (OAI-PMH §3.1.2.2: the harvester waits and retries), in plain text,
never a 500 or a traceback. Once the store is back, the **same** resumption token
(§3.5: tokens hold no server state) must give the next page, and the harvest must end
with every record exactly once.

* PostgreSQL: a private server (tests/pg_cluster.py) stopped with ``pg_ctl stop -m
  fast`` (sessions are told to end) and ``-m immediate`` (as a crash: sockets just close),
  then started again on the same port and data.
* SQLite: the file's header is made unreadable in place (what a failing disk or a lost
  network mount gives a process that holds the file open: renaming the file would not
  do, open descriptors still read the old inode), after a checkpoint that makes every
  connection read the file again; then the bytes are put back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import make_record
from tests.pg_cluster import NO_SERVER_BINARIES, Server, private_server, start, stop
from tests.servers import RECORDS_PAGE, REPOSITORY, environment, run, serving
from tests.visibility import write_file
from tests.xmlvalidate import validate_oai_response

NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
RECORDS = 4 * RECORDS_PAGE + 3  # five pages
RETRY_AFTER = "17"


def _store(database_url: str, home: Path) -> dict[str, str]:
    """A store of RECORDS records, some in sets, one deleted; returns the server's env."""
    env = environment(database_url)
    env["OAIPRESS_RETRY_AFTER"] = RETRY_AFTER
    env["OAIPRESS_FORMATS"] = "oai_dc"
    records = [make_record(i, sets=["cac:ART"] if i % 3 == 0 else []) for i in range(RECORDS)]
    records.append({"id": "article/gone", "deleted": True, "sets": ["cac"]})
    for record in records:  # listed at once: no wait for datestamps set in the future
        record["datestamp"] = "2020-01-01T00:00:00Z"
    run(["import", "--keep-datestamps", str(write_file(home / "store.jsonl", records))], env, home)
    return env


def _page(url: str, **params: str) -> tuple[list[str], str | None]:
    response = requests.get(url, params=params, timeout=120)
    assert response.status_code == 200, response.text[:500]
    root = validate_oai_response(response.content).getroot()
    listed = root.find("oai:ListRecords", NS)
    assert listed is not None, etree.tostring(root)[:500]
    ids = [
        h.findtext("oai:identifier", namespaces=NS) for h in listed.iterfind(".//oai:header", NS)
    ]
    return ids, listed.findtext("oai:resumptionToken", namespaces=NS) or None


def _unavailable(url: str, token: str) -> None:
    """Every request while the store is away: 503, Retry-After, plain text, no traceback."""
    for _ in range(3):  # both workers, and a connection they had pooled
        response = requests.get(url, params={"verb": "ListRecords", "resumptionToken": token})
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Retry-After"] == RETRY_AFTER
        assert response.headers["Content-Type"].startswith("text/plain")
        assert "unavailable" in response.text
        assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()


def _same_page_again(url: str, token: str) -> tuple[list[str], str | None]:
    """The page after ``token``, asked three times (both workers): the same every time."""
    pages = [_page(url, verb="ListRecords", resumptionToken=token) for _ in range(3)]
    assert all(page == pages[0] for page in pages)
    assert len(pages[0][0]) == RECORDS_PAGE
    return pages[0]


def _rest_of_the_harvest(url: str, seen: list[str], token: str | None) -> None:
    while token:
        ids, token = _page(url, verb="ListRecords", resumptionToken=token)
        seen += ids
    expected = [f"oai:{REPOSITORY}:article/{i}" for i in range(RECORDS)]
    expected.append(f"oai:{REPOSITORY}:article/gone")
    assert sorted(seen) == sorted(expected)  # every record, exactly once


@pytest.fixture
def pg_server() -> Iterator[Server]:
    if NO_SERVER_BINARIES:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) to start a private server")
    with private_server("oaipress-faults-") as server:
        yield server


def test_postgresql_stopped_mid_harvest_answers_503_and_the_same_token_resumes(
    pg_server: Server, tmp_path: Path
) -> None:
    env = _store(pg_server.url, tmp_path)
    with serving(env, tmp_path, "faults-pg") as url:
        seen, token = _page(url, verb="ListRecords", metadataPrefix="oai_dc")
        assert token
        for mode in ("fast", "immediate"):  # told to end; or gone as in a crash
            stop(pg_server, mode)
            _unavailable(url, token)
            start(pg_server)
            ids, token = _same_page_again(url, token)
            seen += ids
        _rest_of_the_harvest(url, seen, token)


def _header(database: Path) -> bytes:
    with database.open("rb") as file:
        return file.read(100)


def _lose_sqlite_file(database: Path) -> bytes:
    """Make the file unreadable for every connection, open or new; return what to restore."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        # A write and a checkpoint move the WAL on: each connection's next read starts
        # from the file again instead of the pages it holds in memory.
        connection.execute("UPDATE store_settings SET value = value")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    header = _header(database)
    with database.open("r+b") as file:
        file.write(b"\0" * len(header))
    return header


def test_sqlite_file_lost_mid_harvest_answers_503_and_the_same_token_resumes(
    tmp_path: Path,
) -> None:
    database = tmp_path / "store.sqlite"
    env = _store(f"sqlite:///{database}", tmp_path)
    with serving(env, tmp_path, "faults-sqlite") as url:
        seen, token = _page(url, verb="ListRecords", metadataPrefix="oai_dc")
        assert token
        header = _lose_sqlite_file(database)
        _unavailable(url, token)
        with database.open("r+b") as file:  # the disk is back
            file.write(header)
        # A connection that met the lost file keeps failing after it is back: the app
        # must not have given it back to its pool (oai/store.py).
        ids, token = _same_page_again(url, token)
        seen += ids
        _rest_of_the_harvest(url, seen, token)
