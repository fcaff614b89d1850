"""Mistakes and interruptions on the command line end in one clear line, never a traceback.

Ctrl-C during an import, a ``--skip-invalid`` import that stored nothing, a database
URL with a password in an error message, and a ``serve`` on a port already taken.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from oai.cli import cli
from tests.conftest import make_record
from tests.servers import environment, free_port, oaipress_command, run

INTERRUPT_WITHIN = 30.0  # seconds: generous, the machine is shared
BIG_IMPORT = 30_000  # records: the import must still be running when Ctrl-C comes


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean environment whose store is a fresh SQLite file; returns its URL."""
    for name in list(os.environ):
        if name.startswith("OAIPRESS_") and name != "OAIPRESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", url)
    monkeypatch.setenv("OAIPRESS_REPOSITORY_IDENTIFIER", "repo.example.org")
    monkeypatch.setenv("OAIPRESS_SECRET_KEY", "cli-secret")
    monkeypatch.chdir(tmp_path)
    return url


def oaipress(*args: str, **env: str | None) -> Result:
    """Run the console script in-process; an exception escaping it fails the test."""
    result = CliRunner().invoke(cli, list(args), env=env or None)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> str:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- Ctrl-C during an import with worker processes --------------------------------------


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(BIG_IMPORT):
            out.write(json.dumps(make_record(i, abstract="Words " * 40)) + "\n")
    return path


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(child) for child in path.read_text().split())
        except OSError:
            pass  # the thread ended meanwhile
    return found


def _export(env: dict[str, str], home: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        oaipress_command() + ["export"], env=env, cwd=home, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("delay", [0.0, 0.7, 2.0])
def test_ctrl_c_stops_a_parallel_import_at_once_and_stores_nothing(
    database_url, tmp_path, big_file, delay
):
    """The first Ctrl-C (SIGINT to the whole process group, as a terminal sends it) ends
    the import within seconds: exit 130, one line, no worker's traceback, store unchanged.
    It used to hang in about one try in three until a second Ctrl-C."""
    env = environment(database_url)
    run(["import", write_jsonl(tmp_path / "small.jsonl", [make_record(i) for i in range(3)])],
        env, tmp_path)  # fmt: skip
    before = _export(env, tmp_path)
    process = subprocess.Popen(
        oaipress_command() + ["import", "--jobs", "2", str(big_file)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which the SIGINT goes to
        # A shell starting pytest in the background ignores SIGINT for it: undo that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the worker processes did not start"
            time.sleep(0.05)
        time.sleep(delay)
        assert process.poll() is None, "the import ended before Ctrl-C: make the file bigger"
        os.killpg(process.pid, signal.SIGINT)
        started = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=INTERRUPT_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the import did not stop within {INTERRUPT_WITHIN}s of Ctrl-C")
        stopped_after = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines() == [f"{big_file}: interrupted; nothing was stored"]
    assert stopped_after < INTERRUPT_WITHIN
    assert not _children(process.pid)
    assert _export(env, tmp_path) == before


def test_a_database_error_raised_while_cleaning_up_after_ctrl_c_is_reported_as_the_interruption(
    cli_env, tmp_path, monkeypatch
):
    """Cleaning up after a Ctrl-C can fail in the driver (a rollback refused on a
    connection the interruption left mid-command): the user still pressed Ctrl-C, so the
    answer stays exit 130 and "interrupted", not "the database failed"."""
    import sqlite3

    from oai import cli as cli_module

    def interrupted_then_failed(*_args: Any, **_kwargs: Any) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise sqlite3.OperationalError("another command is already in progress") from None

    path = write_jsonl(tmp_path / "a.jsonl", [make_record(1)])
    before = oaipress("export").output
    monkeypatch.setattr(cli_module, "import_records", interrupted_then_failed)
    result = oaipress("import", path)
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == [f"{path}: interrupted; nothing was stored"]
    assert oaipress("export").output == before


def test_a_ctrl_c_after_the_commit_says_the_import_was_stored(cli_env, tmp_path, monkeypatch):
    """A Ctrl-C while the committed import's datestamps are confirmed comes after the
    commit: the records are stored, and the one line must say so, not "nothing"."""
    from oai import store as store_module

    def interrupted_confirm(*_args: Any) -> None:
        raise KeyboardInterrupt

    path = write_jsonl(tmp_path / "a.jsonl", [make_record(i) for i in range(3)])
    monkeypatch.setattr(store_module, "confirm", interrupted_confirm)
    result = oaipress("import", path)
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == [f"{path}: interrupted; the import was stored"]
    engine = create_engine(cli_env)  # the rows are committed (under a stamp not yet due)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM records")) == 3
    engine.dispose()


def test_a_ctrl_c_that_python_swallows_in_a_finalizer_still_stops_the_import(
    cli_env, tmp_path, monkeypatch
):
    """Python drops an exception raised in a finalizer ("Exception ignored in …"): a
    Ctrl-C landing in one (a weakref callback, seen in a real import) was lost, and the
    import went on to store everything, under Python's "Exception ignored" traceback. The
    noted Ctrl-C stops it at the next line, and the one line says so."""
    from oai import cli as cli_module

    real_import = cli_module.import_records

    class Finalized:
        def __del__(self) -> None:
            signal.raise_signal(signal.SIGINT)  # its KeyboardInterrupt is swallowed

    def lines_with_a_swallowed_ctrl_c(lines: Any) -> Any:
        for number, line in enumerate(lines):
            if number == 1:
                Finalized()  # dropped at once: __del__ runs here
            yield line

    def import_records(session: Any, lines: Any, *args: Any, **kwargs: Any) -> Any:
        return real_import(session, lines_with_a_swallowed_ctrl_c(lines), *args, **kwargs)

    path = write_jsonl(tmp_path / "a.jsonl", [make_record(i) for i in range(5)])
    before = oaipress("export").output
    monkeypatch.setattr(cli_module, "import_records", import_records)
    result = oaipress("import", "--jobs", "1", path)
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().splitlines() == [f"{path}: interrupted; nothing was stored"]
    assert oaipress("export").output == before


# --- --skip-invalid -----------------------------------------------------------------------


def test_skip_invalid_that_stored_nothing_exits_non_zero(cli_env, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", ["not json", {"id": "x"}, "[1, 2]"])
    result = oaipress("import", "--skip-invalid", path)
    assert result.exit_code == 1, result.output
    assert f"Error: every line of {path} is bad (3 line(s)); nothing was stored" in result.stderr
    assert f"{path}: skipped line 1: (json)" in result.stderr


def test_skip_invalid_with_some_good_lines_succeeds(cli_env, tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [make_record(1), "not json"])
    result = oaipress("import", "--skip-invalid", path)
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 unchanged, 0 deleted, 1 rejected" in result.stderr
    # A file whose good lines are all unchanged stored nothing new, but nothing went wrong.
    assert oaipress("import", "--skip-invalid", path).exit_code == 0


def test_an_empty_file_with_skip_invalid_is_not_an_error(cli_env, tmp_path):
    path = write_jsonl(tmp_path / "empty.jsonl", [])
    assert oaipress("import", "--skip-invalid", path).exit_code == 0


# --- passwords in database URLs -----------------------------------------------------------

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("name", "url"),
    [
        # Nothing listens on port 1: the connection fails.
        ("OAIPRESS_DATABASE_URL", f"postgresql+psycopg://oai:{SECRET}@127.0.0.1:1/oaipress"),
        ("OAIPRESS_DATABASE_URL", f"postgresql+psycopg://oai:{SECRET}@127.0.0.1:port/oaipress"),
        ("OAIPRESS_DATABASE_URL", f"nosuchdriver://oai:{SECRET}@127.0.0.1/oaipress"),
        ("OAIPRESS_READ_DATABASE_URL", f"postgresql://oai:{SECRET}@host:port/db"),
        ("OAIPRESS_READ_DATABASE_URL", f"nosuchdriver://oai:{SECRET}@host/db"),
    ],
)
@pytest.mark.parametrize("args", [("export",), ("get", "/oai?verb=Identify")], ids="-".join)
def test_a_database_password_is_never_shown(cli_env, name, url, args):
    result = oaipress(*args, **{name: url})
    assert result.exit_code == 1, result.output
    assert SECRET not in result.output
    assert "oai:***@" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_database_error_hides_the_password_in_the_drivers_message(cli_env, monkeypatch):
    """Whatever the driver says, the password it was given does not reach the terminal."""
    from oai import cli as cli_module

    class Leaky(Exception):
        pass

    def failing_store(url: str, **_: Any) -> None:
        raise Leaky(f"could not connect with {url} (password {SECRET})")

    monkeypatch.setattr(cli_module, "Store", failing_store)
    url = f"postgresql+psycopg://oai:{SECRET}@db.example.org/oaipress"
    result = oaipress("export", OAIPRESS_DATABASE_URL=url)
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "cannot open the database postgresql+psycopg://oai:***@db.example.org/oaipress" in (
        result.stderr
    )


# --- serve on a busy port -----------------------------------------------------------------


def test_serve_on_a_busy_port_fails_at_once_in_one_line(tmp_path):
    env = environment(f"sqlite:///{tmp_path / 'store.sqlite'}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            oaipress_command() + ["serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot serve on 127.0.0.1:{port}: the port is in use (another server?)"
    ]
    assert "Serving" not in done.stdout + done.stderr
    # gunicorn retries a busy port for five seconds, logging each try: this did not try.
    assert "Retrying" not in done.stderr and "Connection in use" not in done.stderr


def test_serve_on_an_address_this_machine_does_not_have_fails_in_one_line(tmp_path):
    env = environment(f"sqlite:///{tmp_path / 'store.sqlite'}")
    done = subprocess.run(
        oaipress_command() + ["serve", "--host", "192.0.2.1", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot serve on 192.0.2.1:"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
