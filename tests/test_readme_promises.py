"""README promises checked in-process: the token lifetime in expirationDate, streamed List
responses, the proxy count, the read database and the ``wsgi.py`` entry point.

(The UTC clock, ``serve --workers/--threads`` and ``gunicorn wsgi:app`` need real processes:
tests/test_serve_process.py; the start-up advisory lock: tests/test_startup_lock.py.)
"""

from __future__ import annotations

import importlib
import os
import random
import string
import sys
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import Client

from oai.protocol import views
from oai.protocol.writer import Streamed
from tests.conftest import NS, OAIClient, decode_body, identifiers, load_records, make_record
from tests.xmlvalidate import validate_oai_response

DAY = 24 * 3600


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- OAIPRESS_TOKEN_TTL


@pytest.mark.parametrize("ttl", [3600, 2 * DAY + 17])
@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers", "ListSets"])
def test_expiration_date_is_issue_time_plus_the_configured_token_ttl(make_app, ttl, verb):
    """README: tokens expire after OAIPRESS_TOKEN_TTL; §3.5 expirationDate says when."""
    app = make_app(OAIPRESS_TOKEN_TTL=ttl)
    load_records(app, [make_record(i, sets=[f"s{i}"]) for i in range(12)])
    oai = OAIClient(app.test_client())
    params = {} if verb == "ListSets" else {"metadataPrefix": "oai_dc"}
    before = utc_now().replace(microsecond=0)
    token = oai(verb=verb, **params).find(f"oai:{verb}/oai:resumptionToken", NS)
    after = utc_now()
    assert token is not None and token.text
    expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
    assert before + timedelta(seconds=ttl) <= expires <= after + timedelta(seconds=ttl)


# --------------------------------------------------------------------------- streaming


def _random_text(rng: random.Random, length: int) -> str:
    """Text that compresses poorly, so that a compressor has output before the end."""
    return "".join(rng.choice(string.ascii_letters + "      ") for _ in range(length)).strip()


@pytest.fixture
def large_page(make_app):
    """An app whose first ListRecords page (100 records of ~4 kB) spans several 64 KiB chunks,
    and a spy on the Streamed bodies it builds (how many chunks each has handed out)."""
    app = make_app(OAIPRESS_LIST_RECORDS_PAGE_SIZE=100)
    rng = random.Random(11)
    load_records(app, [make_record(i, abstract=_random_text(rng, 3500)) for i in range(120)])
    return app


class StreamedSpy(Streamed):
    made: list[StreamedSpy] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.handed_out = 0
        StreamedSpy.made.append(self)

    def __iter__(self):
        for chunk in super().__iter__():
            self.handed_out += 1
            yield chunk


@pytest.fixture
def spy(monkeypatch):
    StreamedSpy.made = []
    monkeypatch.setattr(views, "Streamed", StreamedSpy)
    return StreamedSpy.made


LIST_RECORDS = "/oai?verb=ListRecords&metadataPrefix=oai_dc"


def test_a_list_page_larger_than_one_chunk_is_sent_in_several_chunks(large_page, spy):
    """README: a List response is a concatenation, streamed in 64 KiB chunks: the body is an
    iterator of chunks, produced as the server reads it, not one bytes object built first."""
    response = large_page.test_client().get(LIST_RECORDS, buffered=False)
    body = iter(response.response)
    first = next(body)
    (streamed,) = spy
    assert streamed.handed_out == 1  # the rest is not written yet
    chunks = [first, *body]
    response.close()
    whole = b"".join(chunks)
    assert len(whole) > 4 * 64 * 1024
    assert len(chunks) == streamed.handed_out >= 4
    assert all(0 < len(chunk) <= 4 * 64 * 1024 for chunk in chunks)
    assert int(response.headers["Content-Length"]) == len(whole)
    root = validate_oai_response(whole).getroot()
    assert len(root.findall("oai:ListRecords/oai:record", NS)) == 100


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_list_page_is_compressed_as_it_streams(large_page, spy, encoding):
    """§3.1.3 and README: compression does not turn the stream into one whole body: the first
    compressed bytes go out before the page has been written whole."""
    client = large_page.test_client()
    response = client.get(LIST_RECORDS, headers={"Accept-Encoding": encoding}, buffered=False)
    assert response.headers["Content-Encoding"] == encoding
    body = iter(response.response)
    assert next(body)
    (streamed,) = spy
    handed_out_before_the_first_bytes = streamed.handed_out
    rest = list(body)
    response.close()
    assert rest
    assert handed_out_before_the_first_bytes < streamed.handed_out
    buffered = client.get(LIST_RECORDS, headers={"Accept-Encoding": encoding})
    root = validate_oai_response(decode_body(buffered)).getroot()
    assert len(root.findall("oai:ListRecords/oai:record", NS)) == 100


# --------------------------------------------------------------------------- OAIPRESS_PROXY_COUNT

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "repository.example.net"}


def base_urls(app, headers: dict[str, str]) -> dict[str, str]:
    """The baseURL of Identify and the <request> of an answer and of an error."""
    oai = OAIClient(app.test_client())
    identify = oai(verb="Identify", headers=headers)
    error = oai(verb="Nonsense", headers=headers)
    return {
        "Identify baseURL": identify.findtext("oai:Identify/oai:baseURL", namespaces=NS),
        "Identify request": identify.findtext("oai:request", namespaces=NS),
        "error request": error.findtext("oai:request", namespaces=NS),
    }


@pytest.mark.parametrize(
    ("count", "headers", "expected"),
    [
        (0, {}, "http://localhost/oai"),
        (0, FORWARDED, "http://localhost/oai"),
        (1, {}, "http://localhost/oai"),
        (1, FORWARDED, "https://repository.example.net/oai"),
        # Each proxy appends to the list: only the last `count` values are the proxies'.
        (
            1,
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "spoofed.example, proxied.example"},
            "https://proxied.example/oai",
        ),
        (
            2,
            {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "outer.example, inner"},
            "https://outer.example/oai",
        ),
    ],
    ids=["none", "untrusted", "no-headers", "one-proxy", "spoofed-hop", "two-proxies"],
)
def test_base_url_follows_forwarded_headers_only_from_the_configured_proxies(
    make_app, count, headers, expected
):
    """README "Behind a reverse proxy": with OAIPRESS_PROXY_COUNT=N and no OAIPRESS_BASE_URL,
    the baseURL comes from what the N proxies forwarded; with 0 the headers are ignored."""
    app = make_app(OAIPRESS_BASE_URL=None, OAIPRESS_PROXY_COUNT=count)
    urls = base_urls(app, headers)
    assert urls == dict.fromkeys(urls, expected)


def test_a_configured_base_url_wins_over_forwarded_headers(make_app):
    app = make_app(OAIPRESS_BASE_URL="https://fixed.example.org/oai", OAIPRESS_PROXY_COUNT=1)
    urls = base_urls(app, FORWARDED)
    assert urls == dict.fromkeys(urls, "https://fixed.example.org/oai")


# --------------------------------------------------------------------------- read database


def test_protocol_requests_are_answered_from_the_read_database(make_app, tmp_path):
    """README: OAIPRESS_READ_DATABASE_URL answers the OAI-PMH requests. Here the "replica" is
    another store holding other records, so what the endpoint serves shows where it read."""
    replica_url = f"sqlite:///{tmp_path / 'replica.sqlite'}"
    replica = make_app(OAIPRESS_DATABASE_URL=replica_url)
    load_records(replica, [make_record(i, sets=["on-replica"]) for i in (1, 2, 3, 4, 5)])
    primary = make_app()
    load_records(primary, [make_record(i, sets=["on-primary"]) for i in (7, 8)])

    app = make_app(OAIPRESS_READ_DATABASE_URL=replica_url)
    oai = OAIClient(app.test_client())
    expected = [f"oai:repo.example.org:article/{i}" for i in (1, 2, 3, 4, 5)]
    listed = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="on-replica")
    headers = listed.findall("oai:ListIdentifiers/oai:header", NS)
    assert sorted(identifiers(headers)) == expected[:4]  # one page of 4, then a token
    records = oai(verb="ListRecords", metadataPrefix="oai_dc")
    assert identifiers(records.findall("oai:ListRecords/oai:record", NS)) == expected[:3]
    sets = {s.text for s in oai(verb="ListSets").iterfind(".//oai:set/oai:setSpec", NS)}
    assert "on-replica" in sets and "on-primary" not in sets
    found = oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=expected[0])
    assert found.find("oai:error", NS) is None
    code, _ = oai.error(
        verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:repo.example.org:article/7"
    )
    assert code == "idDoesNotExist"
    code, _ = oai.error(verb="ListIdentifiers", metadataPrefix="oai_dc", set="on-primary")
    assert code == "noRecordsMatch"


# --------------------------------------------------------------------------- wsgi.py


def test_wsgi_module_serves_the_repository_the_environment_configures(
    monkeypatch, database_url, tmp_path
):
    """README: `gunicorn wsgi:app` serves the same app; wsgi.py reads the settings from the
    environment (here through the WSGI callable itself, as a server calls it)."""
    for name in list(os.environ):
        if name.startswith("OAIPRESS_") and name != "OAIPRESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", database_url)
    monkeypatch.setenv("OAIPRESS_REPOSITORY_NAME", "Configured for wsgi.py")
    monkeypatch.setenv("OAIPRESS_REPOSITORY_IDENTIFIER", "wsgi.example.org")
    monkeypatch.setenv("OAIPRESS_BASE_URL", "https://wsgi.example.org/oai")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    wsgi = importlib.import_module("wsgi")
    try:
        response = Client(wsgi.app).get("/oai?verb=Identify")
        assert response.status_code == 200
        root = validate_oai_response(response.get_data()).getroot()
        identify = root.find("oai:Identify", NS)
        assert identify.findtext("oai:repositoryName", namespaces=NS) == "Configured for wsgi.py"
        assert identify.findtext("oai:baseURL", namespaces=NS) == "https://wsgi.example.org/oai"
        assert root.xpath("//id:repositoryIdentifier/text()", namespaces=NS) == ["wsgi.example.org"]
    finally:
        wsgi.app.extensions["oaipress.store"].dispose()
        sys.modules.pop("wsgi", None)
