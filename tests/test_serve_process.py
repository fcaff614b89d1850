"""README promises that need real server processes: ``serve --workers/--threads``,
``gunicorn wsgi:app``, and a UTC clock whatever the server's time zone.

Worker processes are counted in /proc (Linux); threads are shown by behaviour: a request
that is still arriving ties up a thread, and with two threads a second request is answered
meanwhile.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.conftest import NS, make_record
from tests.servers import (
    IDENTIFIERS_PAGE,
    READY_WITHIN,
    REPOSITORY,
    environment,
    free_port,
    oaipress_command,
    run,
    serving,
    stop,
    wait_until_ready,
)
from tests.xmlvalidate import validate_oai_response

ROOT = Path(__file__).resolve().parents[1]
PROC = Path("/proc")
ANSWER_WITHIN = 30  # seconds: the bound on one request to a server that is up
CLOCK_SLACK = timedelta(minutes=5)  # between the server's clock and this process's


@contextmanager
def started(
    command: Callable[[int], list[str]], env: dict[str, str], home: Path, name: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``command(port)`` running until the block ends; the block gets the process (the
    gunicorn master) and the endpoint URL, once the endpoint answers."""
    port = free_port()
    log = home / f"{name}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command(port),
            env=env,
            cwd=home,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a hung server can be killed
        )
    try:
        url = f"http://127.0.0.1:{port}/oai"
        wait_until_ready(process, url, log)
        yield process, url
    finally:
        stop(process)


def serve(*options: str) -> Callable[[int], list[str]]:
    return lambda port: (
        oaipress_command()
        + [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *options,
        ]
    )


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc/<pid>/stat."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def workers_of(master: int, expected: int) -> list[int]:
    """The master's children, once there are ``expected`` of them (or when waiting ends)."""
    deadline = time.monotonic() + READY_WITHIN
    found = children(master)
    while len(found) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        found = children(master)
    return found


@pytest.fixture
def store_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A store with records whose datestamps are in the past (Lists leave out the last second)."""
    env = environment(database_url)
    records = [
        make_record(i, datestamp=f"2021-01-01T00:00:{i:02d}Z", sets=["s"]) for i in range(20)
    ]
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, tmp_path)
    return env


def oai_get(url: str, **params: str):
    response = requests.get(url, params=params, timeout=ANSWER_WITHIN)
    assert response.status_code == 200, response.text[:500]
    return validate_oai_response(response.content).getroot()


# --------------------------------------------------------------------------- --workers, --threads


needs_proc = pytest.mark.skipif(not (PROC / "self" / "stat").exists(), reason="needs Linux /proc")


@needs_proc
def test_serve_runs_as_many_worker_processes_as_asked(store_env, tmp_path):
    """README: `oaipress serve --workers N` runs gunicorn with N worker processes."""
    command = serve("--workers", "3", "--threads", "2")
    with started(command, store_env, tmp_path, "workers") as (master, url):
        workers = workers_of(master.pid, 3)
        assert len(workers) == 3, f"gunicorn master {master.pid} has the workers {workers}"
        for _ in range(6):
            assert oai_get(url, verb="Identify").find("oai:error", NS) is None
        assert children(master.pid) == workers


@needs_proc
def test_serve_threads_answer_a_request_while_another_is_still_arriving(store_env, tmp_path):
    """README: `oaipress serve --threads N`: a worker with two threads answers a request while
    its other thread waits for a slow client; a synchronous worker would wait with it."""
    command = serve("--workers", "1", "--threads", "2")
    with started(command, store_env, tmp_path, "threads") as (master, url):
        assert len(workers_of(master.pid, 1)) == 1
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        slow = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
        try:
            slow.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # unfinished
            try:
                root = oai_get(url, verb="ListIdentifiers", metadataPrefix="oai_dc")
            except requests.Timeout:
                pytest.fail(f"no answer within {ANSWER_WITHIN}s while another request arrived")
            assert len(root.findall(".//oai:header", NS)) == IDENTIFIERS_PAGE
            slow.sendall(b"\r\n")  # the slow request ends, and is answered too
            assert slow.recv(64).startswith(b"HTTP/1.1 200")
        finally:
            slow.close()


# --------------------------------------------------------------------------- gunicorn wsgi:app


def test_gunicorn_serves_wsgi_app_as_the_readme_says(store_env, tmp_path):
    """README: `gunicorn -w 4 -b 0.0.0.0:8000 wsgi:app` serves the same repository (settings
    from the environment); a harvest resumes across its workers."""
    env = {**store_env, "OAIPRESS_BASE_URL": "https://wsgi.example.org/oai"}

    def gunicorn(port: int) -> list[str]:
        bind = f"127.0.0.1:{port}"
        return [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "-w", "2", "-b", bind]

    with started(lambda port: gunicorn(port) + ["wsgi:app"], env, tmp_path, "wsgi") as (_, url):
        identify = oai_get(url, verb="Identify")
        assert identify.findtext(".//oai:repositoryName", namespaces=NS) == (
            "Harvest test repository"
        )
        assert identify.findtext(".//oai:baseURL", namespaces=NS) == env["OAIPRESS_BASE_URL"]
        seen: list[str] = []
        root = oai_get(url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        for _ in range(10):
            seen += root.xpath("//oai:header/oai:identifier/text()", namespaces=NS)
            token = root.findtext(".//oai:resumptionToken", namespaces=NS)
            if not token:
                break
            root = oai_get(url, verb="ListIdentifiers", resumptionToken=token)
        assert sorted(seen) == sorted(f"oai:{REPOSITORY}:article/{i}" for i in range(20))


# --------------------------------------------------------------------------- the UTC clock


def _zone(name: str, posix: str) -> str:
    """The named zone if this machine has tzdata, else the same rule as a POSIX TZ string."""
    return name if Path("/usr/share/zoneinfo", name).exists() else posix


ZONES = [
    pytest.param(_zone("America/New_York", "EST5EDT,M3.2.0,M11.1.0"), id="America/New_York"),
    pytest.param(_zone("Asia/Kathmandu", "<+0545>-5:45"), id="Asia/Kathmandu"),
]


def _stamp(text: str | None) -> datetime:
    assert text is not None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def _near(value: datetime, low: datetime, high: datetime) -> bool:
    return low - CLOCK_SLACK <= value <= high + CLOCK_SLACK


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.mark.parametrize("zone", ZONES)
def test_server_clock_is_utc_in_any_time_zone(store_env, tmp_path, zone):
    """README and §3.2: responseDate is UTC; so are the datestamps a write gives and the
    expirationDate of a token, on a server whose local time is far from UTC."""
    env = {**store_env, "TZ": zone, "OAIPRESS_TOKEN_TTL": "3600"}
    offset = subprocess.run(
        [sys.executable, "-c", "import time; print(time.localtime().tm_gmtoff)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert abs(int(offset.stdout)) >= 3 * 3600, f"TZ={zone} did not move local time from UTC"

    data = tmp_path / "fresh.jsonl"
    data.write_text(json.dumps(make_record(99)) + "\n", encoding="utf-8")
    before_import = utc_now()
    run(["import", str(data)], env, tmp_path)
    after_import = utc_now()
    with serving(env, tmp_path, f"tz-{zone.replace('/', '-')}", workers=1) as url:
        before = utc_now()
        identify = oai_get(url, verb="Identify")
        listed = oai_get(url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="s")
        fresh = oai_get(
            url,
            verb="GetRecord",
            metadataPrefix="oai_dc",
            identifier=f"oai:{REPOSITORY}:article/99",
        )
        after = utc_now()
    for root in (identify, listed, fresh):
        response_date = _stamp(root.findtext("oai:responseDate", namespaces=NS))
        assert _near(response_date, before, after), (response_date, before, zone)
    expires = _stamp(listed.find(".//oai:resumptionToken", NS).get("expirationDate"))
    hour = timedelta(hours=1)
    assert _near(expires, before + hour, after + hour), (expires, before + hour, zone)
    datestamp = _stamp(fresh.findtext(".//oai:header/oai:datestamp", namespaces=NS))
    assert _near(datestamp, before_import, after_import), (datestamp, before_import, zone)
