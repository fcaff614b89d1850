"""Harvests across long writes, with real processes: nothing written may be lost.

A harvester runs a complete list while a write is under way, keeps the first
responseDate R, and after the write harvests incrementally ``from=R`` (the harvester
guidelines). Every record the write changed must reach it, in its new state, in one
harvest or the other (records.stamping). The writes are made long deterministically:
an import reads its lines from a pipe that the harvester fills in two halves, and the
other commands wait behind a write lock the test holds (``writer_gate``).

Also a script, for the full-size scenario of issue 13 (2,000 records, then 30,000
imported across a harvest):

    python -m tests.visibility --database sqlite:////tmp/vis.sqlite --existing 2000 --new 30000
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import requests
from lxml import etree
from sqlalchemy.engine import make_url

from tests.conftest import make_record
from tests.servers import REPOSITORY, environment, oaipress_command, run, serving
from tests.xmlvalidate import validate_oai_response

NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
COMMAND_WITHIN = 600.0  # seconds: the bound on any one command of a scenario
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def oai_id(local_id: str) -> str:
    return f"oai:{REPOSITORY}:{local_id}"


@dataclass
class Harvest:
    """What a complete list gave: each identifier's datestamp and status, and R."""

    response_date: str
    headers: dict[str, tuple[str, str | None]]


def harvest(url: str, validate: bool = True, **params: str) -> Harvest:
    """ListIdentifiers to the end of its resumption tokens, as a harvester does."""
    query = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", **params}
    headers: dict[str, tuple[str, str | None]] = {}
    response_date = ""
    while True:
        response = requests.get(url, params=query, timeout=120)
        response.raise_for_status()
        root = (
            validate_oai_response(response.content).getroot()
            if validate
            else etree.fromstring(response.content)
        )
        response_date = response_date or root.findtext("oai:responseDate", namespaces=NS)
        error = root.find("oai:error", NS)
        if error is not None:
            assert error.get("code") == "noRecordsMatch", etree.tostring(error)
            return Harvest(response_date, headers)
        for header in root.iterfind("oai:ListIdentifiers/oai:header", NS):
            identifier = header.findtext("oai:identifier", namespaces=NS)
            assert identifier not in headers, f"{identifier} repeated within one list"
            headers[identifier] = (
                header.findtext("oai:datestamp", namespaces=NS),
                header.get("status"),
            )
        token = root.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS)
        if not token:
            return Harvest(response_date, headers)
        query = {"verb": "ListIdentifiers", "resumptionToken": token}


def server_time(url: str) -> datetime:
    response = requests.get(url, params={"verb": "Identify"}, timeout=60)
    root = etree.fromstring(response.content)
    stamp = root.findtext("oai:responseDate", namespaces=NS)
    return datetime.strptime(stamp, STAMP_FORMAT)


def wait_until_listed(url: str, datestamp: str) -> None:
    """Lists show a write once its datestamp (set in the future at commit) has passed."""
    target = datetime.strptime(datestamp, STAMP_FORMAT)
    deadline = time.monotonic() + COMMAND_WITHIN
    while server_time(url) <= target:
        assert time.monotonic() < deadline, f"the server clock never passed {datestamp}"
        time.sleep(0.2)


def newest_datestamp(database_url: str) -> str:
    with _connect(database_url) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT max(datestamp) FROM records")
        value = cursor.fetchone()[0]
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime(STAMP_FORMAT)


@contextmanager
def _connect(database_url: str, busy_timeout: float = 60) -> Iterator[Any]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection: Any = sqlite3.connect(url.database, timeout=busy_timeout, isolation_level=None)
    else:
        connection = psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        )
    try:
        yield connection
    finally:
        connection.close()


@contextmanager
def writer_gate(database_url: str) -> Iterator[None]:
    """Hold the store's write lock: readers go on, writers wait until the block ends."""
    with _connect(database_url) as connection:
        cursor = connection.cursor()
        if isinstance(connection, sqlite3.Connection):
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE records IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            cursor.execute("ROLLBACK")


def _writing(database_url: str, blocked: bool) -> bool:
    """Whether another process holds an open transaction that has written (``blocked``:
    one that waits for a lock to write) — what the scenarios wait for before harvesting.
    SQLite's probe must not wait out the busy timeout: a held lock is the answer."""
    with _connect(database_url, busy_timeout=0) as connection:
        cursor = connection.cursor()
        if isinstance(connection, sqlite3.Connection):
            if blocked:  # SQLite shows no waiters: leave the command time to get there
                time.sleep(3.0)
                return True
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True  # the write lock is held: the writer has written
            cursor.execute("ROLLBACK")
            return False
        if blocked:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
        return bool(cursor.fetchone()[0])


def wait_until_writing(database_url: str, blocked: bool = False) -> None:
    deadline = time.monotonic() + COMMAND_WITHIN
    while not _writing(database_url, blocked):
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.1)


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode("utf-8") + b"\n" for r in records)


def write_file(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.write_bytes(jsonl(records))
    return path


class Command:
    """A running ``oaipress`` command, with its standard input open when asked."""

    def __init__(self, args: list[str], env: dict[str, str], home: Path, stdin: bool = False):
        self.log = tempfile.TemporaryFile(dir=home)
        self.process = subprocess.Popen(
            oaipress_command() + args,
            env=env,
            cwd=home,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def feed(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def finish(self) -> str:
        if self.process.stdin is not None:
            self.process.stdin.close()
        code = self.process.wait(timeout=COMMAND_WITHIN)
        self.log.seek(0)
        output = self.log.read().decode("utf-8", "replace")
        self.log.close()
        assert code == 0, output
        return output


def scenario_env(database_url: str) -> dict[str, str]:
    env = environment(database_url)
    env["OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE"] = "500"
    return env


def import_across_a_harvest(
    database_url: str, home: Path, existing: int, new: int, deletions: bool = False
) -> tuple[Harvest, Harvest, set[str]]:
    """The scenario of issue 13: ``existing`` records, then a long write of ``new`` lines.

    With ``deletions``, the write deletes the existing records instead of adding new ones.
    Returns the harvest during the write, the incremental one after it, and the
    identifiers the write changed.
    """
    env = scenario_env(database_url)
    run(
        ["import", str(write_file(home / "old.jsonl", map(make_record, range(existing))))],
        env,
        home,
    )
    if deletions:
        lines = [{"id": f"article/{i}", "deleted": True} for i in range(existing)]
    else:
        lines = [make_record(i) for i in range(existing, existing + new)]
    changed = {oai_id(line["id"]) for line in lines}
    half = len(lines) // 2
    with serving(env, home, "visibility") as url:
        wait_until_listed(url, newest_datestamp(database_url))
        writer = Command(["import", "--jobs", "1", "--batch-size", "500", "-"], env, home, True)
        # The importer writes the first half, batch by batch, uncommitted, and waits for
        # the rest of its input; the harvest runs in between.
        writer.feed(jsonl(lines[:half]))
        wait_until_writing(database_url)
        time.sleep(1.1)  # what it wrote so far could be stamped with this second
        during = harvest(url)
        writer.feed(jsonl(lines[half:]))
        writer.finish()
        wait_until_listed(url, newest_datestamp(database_url))
        after = harvest(url, **{"from": during.response_date})
    return during, after, changed


def command_across_a_harvest(
    database_url: str, home: Path, args: list[str]
) -> tuple[Harvest, Harvest, str]:
    """Run ``oaipress ARGS`` held behind the write lock while a harvest runs, then release."""
    env = scenario_env(database_url)
    with serving(env, home, "visibility") as url:
        wait_until_listed(url, newest_datestamp(database_url))
        with writer_gate(database_url):
            command = Command(args, env, home)
            wait_until_writing(database_url, blocked=True)  # it read, and waits to write
            time.sleep(1.1)  # what it wrote so far could be stamped with this second
            during = harvest(url)
        output = command.finish()
        wait_until_listed(url, newest_datestamp(database_url))
        after = harvest(url, **{"from": during.response_date})
    return during, after, output


def check_nothing_lost(during: Harvest, after: Harvest, changed: set[str]) -> None:
    """Every changed record reaches the harvester: in the incremental harvest, new."""
    missing = changed - set(after.headers)
    assert not missing, f"{len(missing)} of {len(changed)} lost, e.g. {sorted(missing)[:3]}"
    for identifier in changed:
        assert after.headers[identifier][0] >= during.response_date


def main() -> None:  # pragma: no cover - the full-size run, by hand
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="an empty store's SQLAlchemy URL")
    parser.add_argument("--existing", type=int, default=2000)
    parser.add_argument("--new", type=int, default=30000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        started = time.monotonic()
        during, after, changed = import_across_a_harvest(
            options.database, Path(home), options.existing, options.new
        )
        received = len(changed & set(after.headers))
        seen_during = len(changed & set(during.headers))
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z {options.database}: harvest during the "
            f"import saw {len(during.headers)} records ({seen_during} of the import); "
            f"incremental harvest from {during.response_date} received {received} of "
            f"{len(changed)} imported ({time.monotonic() - started:.0f} s)"
        )
        check_nothing_lost(during, after, changed)


if __name__ == "__main__":  # pragma: no cover
    main()
