"""Private PostgreSQL servers for tests that must stop, start or break one.

A test that needs a server it can take down (a replica to pause, a primary to stop in
the middle of a harvest) starts its own from the machine's PostgreSQL binaries: initdb in
a temporary directory, a loopback port, trust authentication. initdb refuses to run as
root, so as root the server runs as the ``postgres`` user. Without the binaries the
tests skip (``NO_SERVER_BINARIES`` says why).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.servers import free_port

READY_WITHIN = 60.0  # seconds: the bound on a server accepting connections


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and (Path(out) / "initdb").exists() and (Path(out) / "pg_basebackup").exists():
            return Path(out)
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_basebackup").exists():
            return Path(candidate)
    return None


def _runner() -> list[str] | None:
    """initdb will not run as root: run the server as the postgres user then."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else None


BINDIR = _bindir()
RUNNER = _runner()
NO_SERVER_BINARIES = BINDIR is None or RUNNER is None


@dataclass
class Server:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )


def run(*args: str) -> None:
    """One PostgreSQL program (``initdb``, ``pg_ctl``…) as the server's user; must succeed."""
    assert BINDIR is not None and RUNNER is not None
    done = subprocess.run(
        [*RUNNER, str(BINDIR / args[0]), *args[1:]], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def configure(server: Server, home: Path) -> None:
    """Listen on the server's loopback port only, sockets in ``home``, no fsync (tests)."""
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {server.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{home}'\nfsync = off\n"
        )


def start(server: Server) -> None:
    """``pg_ctl start``, then wait until the server accepts connections."""
    run("pg_ctl", "-D", str(server.data), "-l", str(server.data / "log"), "-w", "start")
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            server.connect().close()
            return
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, (server.data / "log").read_text()
            time.sleep(0.2)


def stop(server: Server, mode: str = "fast") -> None:
    """``pg_ctl stop -m MODE``: ``fast`` ends every session, ``immediate`` as a crash does."""
    run("pg_ctl", "-D", str(server.data), "-m", mode, "-w", "stop")


def stop_quietly(server: Server) -> None:
    """Stop a server that may already be down (cleanup)."""
    subprocess.run(
        [*(RUNNER or []), str(BINDIR / "pg_ctl"), "-D", str(server.data), "-m", "immediate",
         "stop"],
        capture_output=True, timeout=120,
    )  # fmt: skip


def make_home(prefix: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(home, 0o777)  # the postgres user writes here
    return home


def initdb(server: Server) -> None:
    run("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")


@contextmanager
def private_server(prefix: str = "oaipress-pg-") -> Iterator[Server]:
    """A new PostgreSQL server of its own, running until the block ends, then removed."""
    home = make_home(prefix)
    server = Server(home / "data", free_port())
    try:
        initdb(server)
        configure(server, home)
        start(server)
        yield server
    finally:
        stop_quietly(server)
        shutil.rmtree(home, ignore_errors=True)
