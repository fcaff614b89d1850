"""README: "The schema is created and migrated by whichever command starts first; several
servers starting at once take a PostgreSQL advisory lock."

The lock tests make their own empty PostgreSQL database beside the one named by
OAIPRESS_TEST_DATABASE_URL (``<that name>_startup_<random>``) and drop it afterwards;
without a reachable PostgreSQL they are skipped. The last test, on every backend, is the
rest of a start-up: what each process writes to the store once the schema is there.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from records.db import make_engine
from records.migrate import _LOCK_KEY, alembic_config, upgrade
from records.models import Base
from tests.conftest import PG_URL
from tests.servers import oaipress_command

STARTING = 6  # processes starting at once
WAIT_WITHIN = 60.0  # seconds: the bound on a process reaching the lock, or finishing


@pytest.fixture
def empty_postgresql(tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    if not PG_URL:
        pytest.skip("PostgreSQL not tested: OAIPRESS_TEST_DATABASE_URL is not set")
    url = make_url(PG_URL)
    name = f"{url.database}_startup_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure to connect means: not reachable
        admin.dispose()
        pytest.skip(f"PostgreSQL at {url.render_as_string()} is not reachable: {exc}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def waiting_for_the_lock(connection: Connection, database: str) -> list[int]:
    """The backends of ``database`` waiting for the start-up advisory lock."""
    rows = connection.execute(
        text(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = :database"
            " AND l.classid = :high AND l.objid = :low AND l.objsubid = 1"
        ),
        {"database": database, "high": _LOCK_KEY >> 32, "low": _LOCK_KEY & 0xFFFFFFFF},
    )
    return [row.pid for row in rows]


def has_schema(connection: Connection) -> bool:
    return connection.scalar(text("SELECT to_regclass('records') IS NOT NULL"))


def test_start_up_waits_for_the_advisory_lock_before_creating_the_schema(empty_postgresql):
    """A command starting while another holds the lock waits, creates nothing meanwhile,
    and carries on once the lock is released."""
    database = make_url(empty_postgresql).database
    env_url = {"OAIPRESS_DATABASE_URL": empty_postgresql}
    holder = make_engine(empty_postgresql, isolation_level="AUTOCOMMIT")
    try:
        with holder.connect() as held:
            held.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            command = subprocess.Popen(
                [*oaipress_command(), "export"],
                env={**_environment(), **env_url},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                deadline = time.monotonic() + WAIT_WITHIN
                while not waiting_for_the_lock(held, database):
                    if command.poll() is not None or time.monotonic() > deadline:
                        command.kill()
                        _, err = command.communicate()
                        pytest.fail(f"start-up did not wait for the advisory lock:\n{err}")
                    time.sleep(0.1)
                assert command.poll() is None
                assert not has_schema(held)
                held.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                _, err = command.communicate(timeout=WAIT_WITHIN)
            finally:
                if command.poll() is None:
                    command.kill()
                    command.wait()
            assert command.returncode == 0, err
            assert "exported 0 record(s)" in err
            assert has_schema(held)
    finally:
        holder.dispose()


STARTER = textwrap.dedent(
    """
    import logging, sys, time
    from pathlib import Path

    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)

    from records.db import make_engine
    from records.migrate import upgrade

    url, go = sys.argv[1], Path(sys.argv[2])
    engine = make_engine(url)
    engine.connect().close()  # connected: nothing but the start-up itself is left to race
    while not go.exists():
        time.sleep(0.001)
    upgrade(engine)
    engine.dispose()
    """
)


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OAIPRESS_")}


def test_processes_starting_at_once_on_an_empty_database_all_start_and_migrate_once(
    empty_postgresql, tmp_path
):
    """Several processes run the start-up migration at the same moment: every one succeeds,
    each migration runs once in all, and the schema is the one the models describe."""
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, empty_postgresql, str(go)],
            env=_environment(),
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(STARTING)
    ]
    try:
        _wait_until_connected(empty_postgresql, processes)
        go.touch()
        outputs = [p.communicate(timeout=WAIT_WITHIN)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, output in zip(processes, outputs, strict=True):
        assert p.returncode == 0, output
    engine = make_engine(empty_postgresql)
    try:
        with engine.connect() as connection:
            script = ScriptDirectory.from_config(alembic_config(connection))
            revisions = list(script.walk_revisions())
            ran = sum(output.count("Running upgrade") for output in outputs)
            assert ran == len(revisions), outputs
            versions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
            assert versions == [script.get_current_head()]
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def _wait_until_connected(url: str, processes: list[subprocess.Popen[str]]) -> None:
    """Until every process is connected to the database at ``url`` (or one has ended)."""
    database = make_url(url).database
    engine = make_engine(url, isolation_level="AUTOCOMMIT")  # pg_stat_activity: fresh each time
    deadline = time.monotonic() + WAIT_WITHIN
    try:
        with engine.connect() as connection:
            while time.monotonic() < deadline and all(p.poll() is None for p in processes):
                others = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = :database AND pid <> pg_backend_pid()"
                    ),
                    {"database": database},
                )
                if others >= len(processes):
                    return
                time.sleep(0.1)
    finally:
        engine.dispose()


def _blocked(connection: Connection, database: str) -> int:
    """How many sessions of ``database`` wait for a lock."""
    return connection.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = :database AND wait_event_type = 'Lock'"
        ),
        {"database": database},
    )


def test_two_commands_starting_at_once_on_a_new_store_both_succeed(empty_postgresql, tmp_path):
    """The schema exists, nothing else: both commands find no render signature and store
    one. Their writes are held back (a lock on the table) until both have read, so the race
    that is rare unforced happens every time."""
    database = make_url(empty_postgresql).database
    engine = make_engine(empty_postgresql, isolation_level="AUTOCOMMIT")
    upgrade(engine)
    env = {
        **_environment(),
        "OAIPRESS_DATABASE_URL": empty_postgresql,
        "OAIPRESS_SECRET_KEY": "startup-secret",
    }
    locking = make_engine(empty_postgresql)
    try:
        with locking.connect() as holder:
            gate = holder.begin()
            holder.exec_driver_sql("LOCK TABLE store_settings IN SHARE ROW EXCLUSIVE MODE")
            commands = [
                subprocess.Popen(
                    [*oaipress_command(), "get", "/oai?verb=Identify"],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            try:
                with engine.connect() as watcher:
                    deadline = time.monotonic() + WAIT_WITHIN
                    while _blocked(watcher, database) < 2 and time.monotonic() < deadline:
                        if any(c.poll() is not None for c in commands):
                            break
                        time.sleep(0.1)
                gate.commit()
                errors = [c.communicate(timeout=WAIT_WITHIN)[1] for c in commands]
            finally:
                for c in commands:
                    if c.poll() is None:
                        c.kill()
                        c.wait()
        for c, err in zip(commands, errors, strict=True):
            assert c.returncode == 0, err
    finally:
        locking.dispose()
        engine.dispose()
