"""Shared fixtures: an app on a throw-away store, per backend, and an OAI-PMH client helper.

Every test that takes ``app`` runs on SQLite, and also on PostgreSQL when
``OAIPRESS_TEST_DATABASE_URL`` names one (it is emptied before each test).
"""

from __future__ import annotations

import copy
import dataclasses
import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from oai import create_app
from records.db import drop_schema, make_engine
from records.ingest import ImportSummary, import_records
from records.queries import iter_records, record_to_dict
from tests.xmlvalidate import OAI_NS, validate_oai_response

NS = {
    "oai": OAI_NS,
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rights": "http://www.openarchives.org/OAI/2.0/rights/",
    "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
}
EXAMPLE = Path(__file__).resolve().parents[1] / "records" / "examples" / "article-587.jsonl"
PG_URL = os.environ.get("OAIPRESS_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
T0 = datetime(2020, 1, 1, 0, 0, 0)


def example_record() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def make_record(i: int, **fields: Any) -> dict[str, Any]:
    """A small valid record; ``fields`` override or add anything."""
    record: dict[str, Any] = {
        "id": f"article/{i}",
        "title": f"Article number {i}",
        "language": "en",
        "authors": [{"family": "Author", "given": f"A{i}."}],
        "published": "2004",
        "url": f"https://journal.example.org/article/view/{i}",
        "rights": {
            "access": "open",
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "statement": f"Copyright (c) 2004 Author {i}",
        },
        "sets": [],
    }
    record.update(copy.deepcopy(fields))
    return record


#: Rights that keep a record out of the computed aggregator sets (records.aggregator_sets),
#: for tests about the sets records declare.
RESTRICTED = {"access": "restricted", "statement": "Copyright (c) 2004 Author"}


def unlisted_record(i: int, **fields: Any) -> dict[str, Any]:
    """make_record, restricted: in no aggregator set (driver, openaire)."""
    return make_record(i, rights=RESTRICTED, **fields)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    assert PG_URL
    engine = make_engine(PG_URL)
    drop_schema(engine)
    engine.dispose()
    yield PG_URL


@pytest.fixture
def settings(database_url: str) -> dict[str, Any]:
    return {
        "OAIPRESS_DATABASE_URL": database_url,
        "OAIPRESS_BASE_URL": "http://repo.example.org/oai",
        "OAIPRESS_REPOSITORY_NAME": "Test repository",
        "OAIPRESS_ADMIN_EMAIL": "admin@example.org,help@example.org",
        "OAIPRESS_REPOSITORY_IDENTIFIER": "repo.example.org",
        "OAIPRESS_SECRET_KEY": "test-secret",
        "OAIPRESS_LIST_RECORDS_PAGE_SIZE": 3,
        "OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE": 4,
        "OAIPRESS_LIST_SETS_PAGE_SIZE": 2,
    }


@pytest.fixture
def make_app(settings: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app({**settings, **overrides})
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["oaipress.store"].dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Clock:
    """Hands out datestamps: each call is one second after the previous one."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        value = self.current
        self.current += timedelta(seconds=1)
        return value


def import_lines(
    app: Flask,
    lines: list[str],
    *,
    now: Callable[[], datetime] | None = None,
    **options: Any,
) -> ImportSummary:
    """Import JSON Lines into the app's store (datestamps from ``now``, default 2020);
    ``options`` are import_records's (``jobs``, ``batch_size``, ``keep_datestamps`` …)."""
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        return import_records(
            session, lines, app.extensions["oaipress.renderer"], now=now or Clock(), **options
        )


def load_records(
    app: Flask,
    records: list[dict[str, Any]],
    *,
    now: Callable[[], datetime] | None = None,
    keep_datestamps: bool = False,
) -> ImportSummary:
    """Import ``records`` into the app's store (datestamps from ``now``, default 2020)."""
    lines = [json.dumps(r) for r in records]
    return import_lines(app, lines, now=now, keep_datestamps=keep_datestamps)


def stored_records(app: Flask) -> list[tuple[dict[str, Any], datetime, bytes]]:
    """Every stored record as ``(record_to_dict, datestamp, header)``, in list order."""
    with app.extensions["oaipress.store"].session() as session:
        return [(record_to_dict(r), r.datestamp, r.header_xml) for r in iter_records(session)]


@pytest.fixture
def load(app: Flask) -> Callable[..., ImportSummary]:
    def loader(records: list[dict[str, Any]], **kwargs: Any) -> ImportSummary:
        return load_records(app, records, **kwargs)

    return loader


def decode_body(response: Any) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


class OAIClient:
    """Sends OAI-PMH requests and checks every answer against the official schemas."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def __call__(
        self, method: str = "GET", headers: dict[str, str] | None = None, **params: str
    ) -> etree._Element:
        params = {("from" if k == "from_" else k): v for k, v in params.items()}
        if method == "POST":
            response = self.client.post("/oai", data=params, headers=headers or {})
        else:
            response = self.client.get("/oai", query_string=params, headers=headers or {})
        return self.check(response)

    def check(self, response: Any) -> etree._Element:
        assert response.status_code == 200, response.get_data()[:500]
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        return validate_oai_response(decode_body(response)).getroot()

    def error(self, **params: str) -> tuple[str, etree._Element]:
        root = self(**params)
        errors = root.findall("oai:error", NS)
        assert errors, etree.tostring(root)[:500]
        return errors[0].get("code"), root


@pytest.fixture
def oai(client: FlaskClient) -> OAIClient:
    return OAIClient(client)


def harvest(
    oai: OAIClient, verb: str, **params: str
) -> tuple[list[etree._Element], list[etree._Element]]:
    """Follow resumption tokens to the end; return the items and each token element."""
    item_tag = (
        "oai:record"
        if verb == "ListRecords"
        else ("oai:header" if verb == "ListIdentifiers" else "oai:set")
    )
    items: list[etree._Element] = []
    tokens: list[etree._Element] = []
    root = oai(verb=verb, **params)
    for _ in range(10_000):
        container = root.find(f"oai:{verb}", NS)
        assert container is not None, etree.tostring(root)[:500]
        items.extend(container.findall(item_tag, NS))
        token = container.find("oai:resumptionToken", NS)
        if token is None:
            break
        tokens.append(token)
        if not token.text:
            break
        root = oai(verb=verb, resumptionToken=token.text)
    return items, tokens


def identifiers(items: list[etree._Element]) -> list[str]:
    return [el.findtext(".//oai:identifier", namespaces=NS) for el in items]


def set_repository_clock(app: Flask, now: Callable[[], datetime]) -> None:
    """Make ``app`` read the time (responseDate, list freezing) from ``now`` from now on."""
    repository = app.extensions["oaipress.repository"]
    app.extensions["oaipress.repository"] = dataclasses.replace(
        repository, now=now, list_clock=None
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say which backends the backend-parametrized tests ran on, and why not PostgreSQL."""
    if PG_URL:
        from sqlalchemy.engine import make_url

        shown = make_url(PG_URL).render_as_string(hide_password=True)
        terminalreporter.write_sep("-", f"backends: SQLite and PostgreSQL ({shown})")
    else:
        terminalreporter.write_sep("-", "backends: SQLite only", yellow=True)
        terminalreporter.write_line(
            "PostgreSQL was not tested: OAIPRESS_TEST_DATABASE_URL is not set "
            "(.ci/run sets it; see the README)",
            yellow=True,
        )
