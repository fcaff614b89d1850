"""What is not an OAI-PMH answer is plain text, and only the configured proxies are believed.

Unknown paths (404), wrong methods (405), bodies too large (413) and crashes (500) used
to be Flask's HTML pages, gunicorn's own refusals (400, 414, 431) its HTML page; ``/oai/``
was a 404. With ``OAIPRESS_PROXY_COUNT=0``, gunicorn still took ``X-Forwarded-Proto``
from loopback and changed the ``baseURL``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from tests.conftest import NS, OAIClient
from tests.servers import environment, parse_response, serving
from tests.xmlvalidate import validate_oai_response

#: What two answers a second apart may differ in: the responseDate, and the
#: earliestDatestamp of an empty store, which is the current time.
CLOCK_READINGS = re.compile(rb"<(responseDate|earliestDatestamp)>[^<]*</\1>")


def assert_plain(response: Any, status: int) -> str:
    """A short text/plain answer (requests' or Flask's) with the status first; its text."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    if isinstance(response, requests.Response):
        text = response.text
    else:
        text = response.get_data(as_text=True)
    assert "<" not in text, text
    assert text.startswith(f"{status} ")
    assert len(text.splitlines()) <= 2
    return text


# --- Flask: every HTTP error in plain words -----------------------------------------------


@pytest.mark.parametrize("path", ["/favicon.ico", "/oai/ListRecords", "/oai//", "/OAI"])
def test_an_unknown_path_is_a_plain_404_naming_the_endpoint(client, path):
    text = assert_plain(client.get(path), 404)
    assert text == (
        "404 Not Found\nNothing is served here. "
        "The OAI-PMH endpoint is http://repo.example.org/oai\n"
    )


def test_the_404_names_the_endpoint_of_the_request_without_a_base_url(make_app):
    app = make_app(OAIPRESS_BASE_URL=None)
    text = assert_plain(app.test_client().get("/nothing", base_url="http://host.test"), 404)
    assert text.endswith("The OAI-PMH endpoint is http://host.test/oai\n")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_a_wrong_method_is_a_plain_405_with_allow(client, method):
    response = client.open("/oai", method=method)
    text = assert_plain(response, 405)
    assert text == f"405 Method Not Allowed\n{method} is not allowed here; use GET or POST.\n"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_post_body_over_the_form_limit_is_a_plain_413(client):
    response = client.post(
        "/oai",
        data=b"verb=Identify&x=" + b"a" * 2_000_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert_plain(response, 413)


@pytest.mark.parametrize("path", ["/explore", "/browse", "/records/article/1", "/"])
def test_raw_bytes_that_are_not_utf8_in_a_page_query_are_a_plain_400(client, path):
    """A page that reads such a query string used to be a 500 (werkzeug raises); the
    endpoint answers badArgument (tests/test_fuzz_protocol.py)."""
    response = client.get(path, environ_overrides={"QUERY_STRING": "\xffverb=Identify&after=\xfe"})
    assert response.status_code in (200, 400, 404)
    if response.status_code == 400:
        assert response.mimetype == "text/plain"
        assert b"not UTF-8" in response.get_data()
    if path == "/explore":
        assert response.status_code == 400


def test_a_crash_is_a_plain_500_and_is_logged(make_app, caplog):
    app = make_app()
    app.testing = False  # answer as in production instead of raising into the test

    @app.route("/crash")
    def crash() -> str:
        raise RuntimeError("boom")

    text = assert_plain(app.test_client().get("/crash"), 500)
    assert text == (
        "500 Internal Server Error\nThe server failed to answer this request; "
        "the error is logged.\n"
    )
    assert "boom" in caplog.text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_oai_with_a_trailing_slash_answers_as_oai(make_app, method):
    """A base URL copied with a slash still works, and Identify still names /oai."""
    app = make_app(OAIPRESS_BASE_URL=None)
    client = app.test_client()
    answers = []
    for path in ("/oai", "/oai/"):
        if method == "POST":
            response = client.post(path, data={"verb": "Identify"})
        else:
            response = client.get(path, query_string={"verb": "Identify"})
        root = OAIClient(client).check(response)
        assert root.findtext("oai:request", namespaces=NS) == "http://localhost/oai"
        assert root.findtext(".//oai:baseURL", namespaces=NS) == "http://localhost/oai"
        answers.append(CLOCK_READINGS.sub(b"", response.get_data()))
    assert answers[0] == answers[1]


# --- a real server: gunicorn's own answers and forwarded headers --------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("plain")
    env = environment(f"sqlite:///{home / 'store.sqlite'}")
    with serving(env, home, "plain", workers=1) as url:
        yield url


@pytest.fixture(scope="module")
def behind_a_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("proxied")
    env = environment(f"sqlite:///{home / 'store.sqlite'}")
    env["OAIPRESS_PROXY_COUNT"] = "1"
    with serving(env, home, "proxied", workers=1) as url:
        yield url


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], str]:
    """Send bytes no HTTP library would send; return the status, headers and body."""
    host, port = url.split("/")[2].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    status, headers, body = parse_response(received)
    assert int(headers["content-length"]) == len(body)
    return status, headers, body.decode("utf-8")


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (b"NOT-HTTP\r\n\r\n", 400, "Bad Request"),
        (b"GET /oai?verb=" + b"x" * 70_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414, "URI Too Long"),
        (
            b"GET /oai HTTP/1.1\r\nHost: a\r\n"
            + b"".join(b"X-N%d: v\r\n" % i for i in range(120))
            + b"\r\n",
            431,
            "Request Header Fields Too Large",
        ),
        (
            b"GET /oai HTTP/1.1\r\nHost: a\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n",
            431,
            "Request Header Fields Too Large",
        ),
    ],
    ids=["bad-request-line", "uri-too-long", "too-many-headers", "header-too-large"],
)
def test_what_the_server_refuses_itself_is_plain_text(server, request_bytes, status, reason):
    got, headers, body = raw_request(server, request_bytes)
    assert got == status
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body.startswith(f"{status} {reason}\n")
    assert "<" not in body


def test_an_unknown_path_on_the_server_is_plain_text(server):
    assert_plain(requests.get(server.replace("/oai", "/nothing"), timeout=30), 404)
    assert_plain(requests.put(server, timeout=30), 405)


def base_url_seen(url: str, headers: dict[str, str]) -> str | None:
    response = requests.get(url, params={"verb": "Identify"}, headers=headers, timeout=30)
    root = validate_oai_response(response.content).getroot()
    assert isinstance(root, etree._Element)
    return root.findtext(".//oai:baseURL", namespaces=NS)


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example.org"}


def test_without_proxies_forwarded_headers_change_nothing(server):
    """OAIPRESS_PROXY_COUNT=0: the request comes from 127.0.0.1, which gunicorn trusts
    by default (forwarded_allow_ips); oaipress tells it to trust no one."""
    assert base_url_seen(server, FORWARDED) == server
    assert base_url_seen(server, {"X-Forwarded-Ssl": "on"}) == server
    assert base_url_seen(server, {"X-Forwarded-Protocol": "ssl"}) == server


def test_behind_one_proxy_the_base_url_follows_its_headers(behind_a_proxy):
    assert base_url_seen(behind_a_proxy, FORWARDED) == "https://proxy.example.org/oai"
    assert base_url_seen(behind_a_proxy, {}) == behind_a_proxy


def test_the_server_says_where_it_listens_once_it_does(tmp_path):
    env = environment(f"sqlite:///{tmp_path / 'store.sqlite'}")
    with serving(env, tmp_path, "ready", workers=1) as url:
        log = Path(tmp_path / "ready.log").read_text(encoding="utf-8")
        assert f"Serving OAI-PMH at {url}" in log
