"""The home page: what the repository holds, counted by the store, and where to go next."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask

from tests.conftest import Clock, decode_body, make_record
from tests.htmlcheck import XHTML, assert_valid_page
from tests.pages_discovery_support import statements, stub_missing_endpoints

LATER = datetime(2021, 6, 1, 12, 0, 0)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()
    stub_missing_endpoints(app)
    return app


def home(client) -> tuple[str, object]:
    response = client.get("/")
    assert response.status_code == 200
    text = decode_body(response).decode("utf-8")
    return text, assert_valid_page(text)


def texts(root, tag: str) -> list[str]:
    return [" ".join("".join(el.itertext()).split()) for el in root.iter(f"{XHTML}{tag}")]


def test_home_names_the_repository_and_counts_live_and_deleted_records(client, load):
    load([make_record(i) for i in range(1, 6)])
    load([{"id": "article/2", "deleted": True}], now=Clock(LATER))
    text, root = home(client)
    assert texts(root, "h1") == ["Test repository"]
    stats = texts(root, "li")
    assert "4 articles" in stats
    assert "1 deleted record" in stats


def test_home_counts_each_set_by_name_without_its_deleted_members(client, load):
    load(
        [
            {"set": "cac", "name": "Central Asia & the Caucasus", "description": "A journal."},
            make_record(1, sets=["cac:ART"]),
            make_record(2, sets=["cac:ART"]),
            make_record(3, sets=["cac"]),
            make_record(4, sets=["other"]),
        ]
    )
    load([{"id": "article/2", "deleted": True, "sets": ["cac:ART"]}], now=Clock(LATER))
    _, root = home(client)
    rows = [texts(tr, "td") for tr in root.iter(f"{XHTML}tr")]
    assert ["Central Asia & the Caucasus", "cac", "2"] in rows  # cac:ART's members included
    assert ["cac:ART", "cac:ART", "1"] in rows
    assert ["other", "other", "1"] in rows
    # the computed aggregator set, by its name: the open-access records still live
    assert ["OpenAIRE", "openaire", "3"] in rows


def test_home_links_browse_explore_and_the_oai_endpoint(client, load):
    load([make_record(1, published="2004")])
    text, root = home(client)
    hrefs = {a.get("href") for a in root.iter(f"{XHTML}a")}
    assert {"/browse", "/explore", "/oai?verb=Identify", "/sitemap.xml"} <= hrefs
    assert "/browse/years/2004" in hrefs
    # the configured baseURL, shown absolute as Identify gives it
    assert "<code>http://repo.example.org/oai</code>" in text
    assert "http://repo.example.org/oai?verb=Identify" in text


def test_home_of_an_empty_store_is_a_valid_page(client):
    text, root = home(client)
    assert "0 articles" in texts(root, "li")
    assert "No articles yet" in text


def test_home_counts_take_the_same_statements_however_many_sets(app, client, load):
    """One round of aggregate queries: neither a query per set nor one per record."""
    load([make_record(i, sets=["a"]) for i in range(1, 4)])
    with statements(app) as few:
        home(client)
    load(
        [make_record(i, sets=[f"s{i % 12}"], published=str(1990 + i % 20)) for i in range(4, 80)],
        now=Clock(LATER),
    )
    with statements(app) as many:
        home(client)
    assert len(many) == len(few) <= 6, [s for s, _ in many]


def test_home_counts_once_until_the_store_changes(app, client, load):
    load([make_record(1, sets=["a"])])
    home(client)
    with statements(app) as again:
        text, _ = home(client)
    assert len(again) == 1, [s for s, _ in again]  # the store's version, nothing counted
    load([make_record(2, sets=["a"])])  # same datestamps as before: the new row still shows
    _, root = home(client)
    assert "2 articles" in texts(root, "li")


def test_home_answers_304_until_a_record_changes(client, load):
    load([make_record(1)])
    first = client.get("/")
    assert_valid_page(decode_body(first).decode("utf-8"))
    assert first.headers["Last-Modified"] and "max-age" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    load([{"id": "article/1", "deleted": True}], now=Clock(LATER))
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert "1 deleted record" in texts(assert_valid_page(decode_body(again).decode()), "li")


def test_home_escapes_set_names(client, load):
    load([{"set": "x", "name": "<script>alert(1)</script>"}, make_record(1, sets=["x"])])
    text, _ = home(client)
    assert "<script>" not in text and "&lt;script&gt;" in text
