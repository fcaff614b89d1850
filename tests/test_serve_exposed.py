"""`oaipress serve` exposed to the internet without a proxy (issue 10): slow, idle and
half-finished clients do not stop it, long requests get OAI-PMH answers, requests over
the limits get short plain-text refusals, and SIGTERM lets responses under way finish.

Real server processes (tests/servers.py) with short deadlines (OAIPRESS_HEADER_TIMEOUT,
OAIPRESS_KEEPALIVE_TIMEOUT); waits are bounded, never compared with each other.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from oai.serving.http import Refusal, head_end
from oai.serving.limits import (
    BODY_LIMIT,
    FIELD_COUNT_LIMIT,
    HEADER_SECTION_LIMIT,
    REQUEST_LINE_LIMIT,
)
from tests.conftest import NS, make_record
from tests.servers import (
    REPOSITORY,
    STOP_WITHIN,
    environment,
    free_port,
    oaipress_command,
    parse_response,
    run,
    serving,
    stop,
    wait_until_ready,
)
from tests.xmlvalidate import validate_oai_response

HEADER_TIMEOUT = 2  # seconds: the test server's OAIPRESS_HEADER_TIMEOUT
KEEPALIVE_TIMEOUT = 1
WAIT = 30.0  # seconds: the bound on any one wait for the server
PLAIN = "text/plain; charset=utf-8"


def _env(home: Path, records: list[dict]) -> dict[str, str]:
    env = environment(f"sqlite:///{home / 'store.sqlite'}")
    env.update(
        OAIPRESS_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        OAIPRESS_KEEPALIVE_TIMEOUT=str(KEEPALIVE_TIMEOUT),
        OAIPRESS_WRITE_TIMEOUT="20",
    )
    data = home / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, home)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """One worker process: what a single stuck request would stop entirely."""
    home = tmp_path_factory.mktemp("exposed")
    records = [make_record(i, datestamp=f"2021-01-01T00:00:{i:02d}Z") for i in range(5)]
    with serving(_env(home, records), home, "exposed", workers=1) as url:
        yield url, int(url.split(":")[2].split("/")[0])


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=WAIT)


def read_all(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; the status, headers and body."""
    with connect(port) as sock:
        sock.sendall(request)
        received = read_all(sock)
    return parse_response(received)


def assert_plain(status: int, headers: dict[str, str], body: bytes, expected: int) -> str:
    """A short plain-text refusal, never an HTML page from a library."""
    assert status == expected, body[:300]
    assert headers["content-type"] == PLAIN
    text = body.decode("utf-8")
    assert text.startswith(f"{expected} ")
    assert "<" not in text
    assert len(text.splitlines()) <= 2
    return text


def get_line(length: int) -> bytes:
    """A GetRecord request line of exactly ``length`` bytes (its identifier is padded)."""
    start = b"GET /oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=" + quote(
        f"oai:{REPOSITORY}:article/none-"
    ).encode("ascii")
    end = b" HTTP/1.1"
    return start + b"x" * (length - len(start) - len(end)) + end


def oai_error(body: bytes) -> str:
    """The error code of a schema-valid OAI-PMH answer (tests/xmlvalidate.py)."""
    root = validate_oai_response(body).getroot()
    error = root.find("oai:error", NS)
    assert error is not None, body[:500]
    return str(error.get("code"))


# --------------------------------------------------------------------------- slow clients


def test_two_half_request_lines_do_not_stop_an_identify(server):
    """Issue 10: two sockets holding half a request line kept a sync worker from
    answering anyone; the front reads them on its loop while the app answers others."""
    url, port = server
    with ExitStack() as stack:
        for _ in range(2):
            sock = stack.enter_context(connect(port))
            sock.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n")
        response = requests.get(url, params={"verb": "Identify"}, timeout=WAIT)
        assert response.status_code == 200
        validate_oai_response(response.content)


def test_a_client_sending_a_byte_a_second_is_closed_after_the_head_deadline(server):
    """OAIPRESS_HEADER_TIMEOUT bounds the whole head, however slowly it trickles in:
    408 in plain text, then the connection closes."""
    _, port = server
    request = b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(port) as sock:
        stop_sending = threading.Event()

        def trickle() -> None:
            for byte in request[:-4]:  # never the end of the head
                if stop_sending.wait(0.25):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            received = read_all(sock)  # returns when the server closes (socket timeout: WAIT)
        finally:
            stop_sending.set()
            sender.join(WAIT)
    assert_plain(*parse_response(received), 408)


def test_full_headers_without_the_promised_body_are_closed_after_a_deadline(server):
    _, port = server
    with connect(port) as sock:
        sock.sendall(
            b"POST /oai HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"verb=Ident"
        )
        received = read_all(sock)
    assert_plain(*parse_response(received), 408)


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(server):
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"</OAI-PMH>" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        assert received.startswith(b"HTTP/1.1 200 ")
        # then nothing: the server closes (recv returns b"") long before the socket's timeout
        assert sock.recv(1) == b""


def test_200_idle_connections_do_not_keep_requests_from_being_answered(server):
    url, port = server
    with ExitStack() as stack:
        for _ in range(200):
            stack.enter_context(connect(port))
        with requests.Session() as session:
            for verb in ("Identify", "ListMetadataFormats", "ListSets"):
                response = session.get(url, params={"verb": verb}, timeout=WAIT)
                assert response.status_code == 200
                validate_oai_response(response.content)


def test_beyond_the_connection_cap_the_oldest_waiting_connection_makes_room(tmp_path):
    """OAIPRESS_MAX_CONNECTIONS per worker: a new client is served, and the connection
    that has waited longest without sending a request is the one closed."""
    env = _env(tmp_path, [make_record(1, datestamp="2021-01-01T00:00:01Z")])
    env.update(OAIPRESS_MAX_CONNECTIONS="10", OAIPRESS_HEADER_TIMEOUT="60")
    with serving(env, tmp_path, "cap", workers=1) as url, ExitStack() as stack:
        port = int(url.split(":")[2].split("/")[0])
        waiting = []
        for _ in range(10):
            waiting.append(stack.enter_context(connect(port)))
            time.sleep(0.05)  # in this order on the server too
        response = requests.get(url, params={"verb": "Identify"}, timeout=WAIT)
        assert response.status_code == 200
        validate_oai_response(response.content)
        assert waiting[0].recv(1) == b""  # closed by the server (else: the socket's timeout)
        waiting[-1].setblocking(False)
        with pytest.raises(BlockingIOError):  # still open, nothing to read
            waiting[-1].recv(1)


# --------------------------------------------------------------------------- long requests


@pytest.mark.parametrize("length", [4 * 1024, 16 * 1024, REQUEST_LINE_LIMIT])
def test_a_long_request_line_gets_an_oai_pmh_answer(server, length):
    """§3.6: a GetRecord for an identifier no item has is idDoesNotExist (or, if the
    identifier is not one, badArgument), however long the request line, up to 64 KiB."""
    _, port = server
    line = get_line(length)
    assert len(line) == length
    status, headers, body = exchange(port, line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert oai_error(body) in {"idDoesNotExist", "badArgument"}


def test_a_request_line_over_the_limit_is_a_plain_414(server):
    _, port = server
    line = get_line(REQUEST_LINE_LIMIT + 1)
    text = assert_plain(*exchange(port, line + b"\r\nHost: x\r\n\r\n"), 414)
    assert str(REQUEST_LINE_LIMIT) in text


def test_header_fields_over_the_limit_are_a_plain_431(server):
    _, port = server
    fields = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"v" * 4000) for i in range(5))
    assert len(fields) > HEADER_SECTION_LIMIT
    request = b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"
    assert_plain(*exchange(port, request), 431)


def post(body: bytes, *extra: bytes) -> bytes:
    head = (
        b"POST /oai HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n" % len(body)
    )
    return head + b"".join(extra) + b"\r\n" + body


def test_a_post_body_at_the_limit_gets_an_oai_pmh_answer(server):
    """§3.1.1.2: arguments in a POST body; an argument Identify does not take is a
    badArgument, in a body of exactly the documented limit."""
    _, port = server
    start = b"verb=Identify&padding="
    body = start + b"x" * (BODY_LIMIT - len(start))
    status, _, answer = exchange(port, post(body))
    assert status == 200
    assert oai_error(answer) == "badArgument"


def test_a_post_body_over_the_limit_is_a_plain_413(server):
    _, port = server
    body = b"verb=Identify&padding=" + b"x" * BODY_LIMIT
    assert_plain(*exchange(port, post(body)), 413)


def test_expect_100_continue_gets_a_100_then_the_answer(server):
    _, port = server
    body = b"verb=Identify"
    with connect(port) as sock:
        sock.sendall(post(body, b"Expect: 100-continue\r\n")[: -len(body)])
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 ")
        sock.sendall(body)
        received = read_all(sock)
    status, _, answer = parse_response(received)
    assert status == 200
    assert validate_oai_response(answer).getroot().find("oai:Identify", NS) is not None


def test_a_request_that_is_not_http_is_a_plain_400(server):
    _, port = server
    assert_plain(*exchange(port, b"NOT-HTTP\r\n\r\n"), 400)


# --------------------------------------------------------------------------- the limits, unit


def test_the_head_ends_at_its_blank_line_with_crlf_or_bare_lf():
    assert head_end(b"GET / HTTP/1.1\r\nHost: x\r\n") is None
    assert head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == 27
    assert head_end(b"GET / HTTP/1.0\n\n") == 16


def test_a_request_line_over_the_limit_is_refused_before_its_end_arrives():
    assert head_end(b"G" * REQUEST_LINE_LIMIT + b"\r") is None  # may still be exactly 64 KiB
    with pytest.raises(Refusal) as refused:
        head_end(b"G" * (REQUEST_LINE_LIMIT + 2))
    assert refused.value.status == 414


def test_too_many_header_fields_are_refused_as_they_arrive():
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(FIELD_COUNT_LIMIT + 1))
    with pytest.raises(Refusal) as refused:
        head_end(b"GET / HTTP/1.1\r\n" + fields)
    assert refused.value.status == 431
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(FIELD_COUNT_LIMIT))
    assert head_end(b"GET / HTTP/1.1\r\n" + fields + b"\r\n") is not None


# --------------------------------------------------------------------------- SIGTERM


def test_sigterm_lets_a_streaming_list_records_response_finish(tmp_path):
    """SIGTERM while a large ListRecords response is on its way to a client that reads
    slowly: the response arrives whole and schema-valid, and the server then exits.

    The page (about 10 MB) is larger than the socket buffers (4 MB at most on Linux by
    default), so the server is still sending it when the signal lands."""
    abstract = "w " * 16_000
    records = [
        make_record(i, datestamp=f"2021-01-01T00:{i // 60:02d}:{i % 60:02d}Z", abstract=abstract)
        for i in range(300)
    ]
    env = _env(tmp_path, records)
    env["OAIPRESS_LIST_RECORDS_PAGE_SIZE"] = "300"
    port = free_port()
    log = tmp_path / "sigterm.log"
    command = oaipress_command() + ["serve", "--port", str(port), "--workers", "1"]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/oai", log)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
        sock.settimeout(WAIT)
        sock.connect(("127.0.0.1", port))
        with sock:
            sock.sendall(
                b"GET /oai?verb=ListRecords&metadataPrefix=oai_dc HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            received = sock.recv(4096)
            assert received.startswith(b"HTTP/1.1 200 ")
            process.send_signal(signal.SIGTERM)
            time.sleep(1)
            assert process.poll() is None, "the server exited with a response under way"
            while chunk := sock.recv(65536):  # the server closes once the response is sent
                received += chunk
        status, headers, body = parse_response(received)
        if headers.get("transfer-encoding") == "chunked":
            body = dechunk(body)
        root = validate_oai_response(body).getroot()
        assert len(root.findall(".//oai:record", NS)) == 300
        process.wait(timeout=STOP_WITHIN)
        assert process.returncode == 0, log.read_text()
    finally:
        stop(process)


def dechunk(body: bytes) -> bytes:
    data = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return data
        data += body[:size]
        body = body[size + 2 :]
