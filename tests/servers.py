"""Real `oaipress` processes for end-to-end tests: run the CLI, serve on a loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

REPOSITORY = "harvest.example.org"
RECORDS_PAGE = 7
IDENTIFIERS_PAGE = 9
READY_WITHIN = 60.0  # seconds: the bound on waiting for gunicorn to answer
STOP_WITHIN = 30.0


def oaipress_command() -> list[str]:
    """The installed console script, next to this interpreter when possible."""
    beside = Path(sys.executable).with_name("oaipress")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("oaipress")
    return [found] if found else [sys.executable, "-m", "oai.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAIPRESS_")}
    env.update(
        OAIPRESS_DATABASE_URL=database_url,
        OAIPRESS_SECRET_KEY="harvest-test-secret",
        OAIPRESS_REPOSITORY_IDENTIFIER=REPOSITORY,
        OAIPRESS_REPOSITORY_NAME="Harvest test repository",
        OAIPRESS_LIST_RECORDS_PAGE_SIZE=str(RECORDS_PAGE),
        OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE=str(IDENTIFIERS_PAGE),
        OAIPRESS_LIST_SETS_PAGE_SIZE="2",
    )
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        oaipress_command() + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"oaipress serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url, params={"verb": "Identify"}, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"oaipress serve did not answer within {READY_WITHIN}s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the gunicorn master (it stops its workers); SIGKILL the group if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_WITHIN)


@contextmanager
def serving(env: dict[str, str], home: Path, name: str, workers: int = 2) -> Iterator[str]:
    """``oaipress serve`` on a free loopback port until the block ends; yields the base URL."""
    port = free_port()
    log = home / f"{name}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            oaipress_command()
            + ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=home,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a hung server can be killed
        )
    try:
        url = f"http://127.0.0.1:{port}/oai"
        wait_until_ready(process, url, log)
        yield url
    finally:
        stop(process)


def parse_response(received: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of the raw bytes of one whole response."""
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:  # the whole response was received, no more
        assert int(headers["content-length"]) == len(body)
    return int(status_line.split()[1]), headers, body
