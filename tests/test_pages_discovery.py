"""Browse pages, sitemaps and robots.txt: every live article reachable by plain links."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import oai.pages.discovery as discovery
import oai.pages.sitemaps as sitemaps
from records.models import Record
from tests.conftest import Clock, decode_body, make_record
from tests.htmlcheck import XHTML, assert_valid_page
from tests.pages_discovery_support import (
    ODD_IDS,
    SM,
    browse_links,
    corpus,
    crawl,
    links,
    live_ids,
    statements,
    stub_missing_endpoints,
    validate_sitemap,
)

LATER = datetime(2021, 6, 1, 12, 0, 0)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()
    stub_missing_endpoints(app)
    return app


def delete(load: Callable[..., Any], ids: list[str], start: datetime = LATER) -> None:
    load([{"id": i, "deleted": True} for i in ids], now=Clock(start))


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    text = decode_body(response).decode("utf-8")
    assert_valid_page(text)
    return text


def rel_link(text: str, rel: str) -> str | None:
    """The href of the page's first ``<a rel=…>`` (the pager's), None when there is none."""
    for anchor in assert_valid_page(text).iter(f"{XHTML}a"):
        if anchor.get("rel") == rel:
            return unquote(anchor.get("href"))
    return None


def landing_ids(text: str) -> list[str]:
    """The landing pages an article list links, in order."""
    return [
        unquote(href[len("/records/") :])
        for href in links(text, "http://localhost/")
        if href.startswith("/records/")
    ]


# --- everything reachable ---------------------------------------------------------------


def test_following_links_from_home_reaches_every_live_article(client, load, monkeypatch):
    records = corpus(300)
    load(records)
    deleted = ["article/7", "article/8", "article/150", "odd/q?x=y"]
    delete(load, deleted)
    monkeypatch.setattr(discovery, "PAGE_SIZE", 25)

    pages, found = crawl(client, "/", follow=browse_links)

    assert found == live_ids(records, set(deleted))
    assert any("after=" in p for p in pages), "the lists were paged"


def test_every_live_article_is_in_exactly_one_year_list(client, load):
    records = corpus(60)
    load(records)
    delete(load, ["article/3"])
    overview = page(client, "/browse")
    year_pages = [h for h in links(overview, "http://localhost/") if "/browse/years/" in h]
    listed: list[str] = []
    for url in year_pages:
        listed += landing_ids(page(client, url))
    assert sorted(listed) == sorted(live_ids(records, {"article/3"}))


def test_every_live_article_is_in_the_sitemaps_and_no_deleted_one(client, load):
    records = corpus(120)
    load(records)
    deleted = ["article/1", "article/2", "odd/a&b;c=1"]
    delete(load, deleted)
    index = validate_sitemap(client.get("/sitemap.xml").get_data(), "sitemapindex")
    found: list[str] = []
    for loc in index.iterfind("sm:sitemap/sm:loc", SM):
        child = client.get(urlsplit(loc.text).path)
        assert child.status_code == 200
        root = validate_sitemap(decode_body(child), "urlset")
        for url in root.iterfind("sm:url/sm:loc", SM):
            found.append(unquote(urlsplit(url.text).path)[len("/records/") :])
    assert sorted(found) == sorted(live_ids(records, set(deleted)))


# --- browse pages -----------------------------------------------------------------------


def test_browse_lists_sets_with_names_and_years_with_live_counts(client, load):
    load(
        [
            {"set": "cac", "name": "Central Asia & the Caucasus"},
            make_record(1, published="2004-05", sets=["cac:ART"]),
            make_record(2, published="2004", sets=["cac"]),
            make_record(3, published="1999-12-31", sets=["cac:ART"]),
            make_record(4, published="1999", sets=[]),
        ]
    )
    delete(load, ["article/3"])
    root = assert_valid_page(page(client, "/browse"))
    rows = {
        tuple("".join(td.itertext()).strip() for td in tr.iter(f"{XHTML}td"))
        for tr in root.iter(f"{XHTML}tr")
    } - {()}
    assert ("Central Asia & the Caucasus", "cac", "2") in rows
    assert ("cac:ART", "cac:ART", "1") in rows
    years = [
        "".join(li.itertext()).split()
        for li in root.iterfind(f".//{XHTML}ul[@class='years']/{XHTML}li")
    ]
    assert years == [["2004", "2", "articles"], ["1999", "1", "article"]]


def test_set_pages_are_keyset_pages_linked_next_and_previous(client, load, monkeypatch):
    monkeypatch.setattr(discovery, "PAGE_SIZE", 3)
    load([make_record(i, sets=["s"]) for i in range(10, 18)] + [make_record(99, sets=["t"])])
    delete(load, ["article/12"])
    first = page(client, "/browse/sets/s")
    assert landing_ids(first) == ["article/10", "article/11", "article/13"]
    assert rel_link(first, "prev") is None
    assert rel_link(first, "next") == "/browse/sets/s?after=article/13"
    second = page(client, "/browse/sets/s?after=article/13")
    assert landing_ids(second) == ["article/14", "article/15", "article/16"]
    assert rel_link(second, "prev") == "/browse/sets/s"
    assert rel_link(second, "next") == "/browse/sets/s?after=article/16"
    third = page(client, "/browse/sets/s?after=article/16")
    assert landing_ids(third) == ["article/17"]
    assert rel_link(third, "next") is None
    # the previous page of the third lines up with the second, not a page of its own
    assert rel_link(third, "prev") == "/browse/sets/s?after=article/13"


def test_year_pages_list_the_year_in_publication_order(client, load, monkeypatch):
    monkeypatch.setattr(discovery, "PAGE_SIZE", 2)
    load(
        [
            make_record(1, published="2004-11-02"),
            make_record(2, published="2004"),
            make_record(3, published="2004-03"),
            make_record(4, published="2005-01-01"),
            make_record(5, published="2003-12-31"),
            make_record(6, published="2004-03"),
        ]
    )
    ids: list[str] = []
    url: str | None = "/browse/years/2004"
    while url:
        text = page(client, url)
        ids += landing_ids(text)
        url = rel_link(text, "next")
    assert ids == ["article/2", "article/3", "article/6", "article/1"]
    last = page(client, "/browse/years/2004?after=article/3")
    assert landing_ids(last) == ["article/6", "article/1"]
    assert rel_link(last, "prev") == "/browse/years/2004"


def test_deleted_records_are_never_listed(client, load):
    load([make_record(i, sets=["s"], published="2010") for i in range(1, 5)])
    delete(load, ["article/2"])
    for url in ("/browse/sets/s", "/browse/years/2010"):
        assert landing_ids(page(client, url)) == ["article/1", "article/3", "article/4"]


@pytest.mark.parametrize(
    "url",
    [
        "/browse/sets/nosuchset",
        "/browse/years/20x4",
        "/browse/years/04",
        "/browse/years/２００４",
        "/browse/years/1850",
        "/browse/years/2004?after=article/999",
        "/browse/years/2004?after=",
        "/browse/sets/s?after=a&after=b",
        "/browse/sets/s?after=" + "x" * 600,
        "/browse/sets/s?after=zzz",
        "/browse/sets/a%00b",
        "/browse/sets/s?after=a%00b",
        "/browse/years/2004?after=%00",
        "/browse/sets/s?after=a%20b",
        "/browse/sets/" + "s" * 300,
    ],
)
def test_unknown_sets_bad_years_and_stale_positions_get_a_404_page(client, load, url):
    load([make_record(1, sets=["s"], published="2004")])
    text = page(client, url, status=404)
    assert "Browse by set or year" in text


def test_a_set_without_live_articles_says_so(client, load):
    load([make_record(1, sets=["s"])])
    delete(load, ["article/1"])
    assert "No articles here yet" in page(client, "/browse/sets/s")


def test_browse_pages_answer_304_when_nothing_changed(client, load):
    load([make_record(1, sets=["s"], published="2004")])
    for url in ("/browse", "/browse/sets/s", "/browse/years/2004"):
        first = client.get(url)
        assert_valid_page(decode_body(first).decode("utf-8"))
        etag = first.headers["ETag"]
        assert first.headers["Last-Modified"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
    load([make_record(2, sets=["s"], published="2004")], now=Clock(LATER))
    changed = client.get("/browse", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert_valid_page(decode_body(changed).decode("utf-8"))


def test_page_queries_do_not_grow_with_the_page(app, client, load):
    """One statement for the rows, one for all their authors: never one per article."""
    load([make_record(i, sets=["s"], published="2004") for i in range(1, 31)])
    for url in ("/browse/sets/s", "/browse/years/2004"):
        with statements(app) as few:
            page(client, url + "?after=article/1")
        with statements(app) as many:
            page(client, url)
        assert len(many) <= len(few) + 1, url
        assert len(many) <= 6, [s for s, _ in many]


def test_browse_queries_use_the_indexes_on_sqlite(app, client, load):
    """The lists seek an index in their own order (no table scan, no sort): page 5,000 of
    a million records costs what page 1 costs. The counts scan narrow indexes only."""
    if app.extensions["oaipress.store"].engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite")
    load(corpus(40))
    delete(load, ["article/3"])
    engine = app.extensions["oaipress.store"].engine
    checked = 0
    urls = ["/browse/sets/cac?after=article/1", "/browse/years/2004?after=article/4"]
    for url in [*urls, "/sitemap-0.xml"]:
        with statements(app) as seen:
            response = client.get(url)
        if response.mimetype == "text/html":
            assert_valid_page(decode_body(response).decode("utf-8"))
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            with engine.connect() as connection:
                plan = " | ".join(
                    row[-1]
                    for row in connection.exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + statement, parameters
                    )
                )
            if "max(" in statement.lower() and "group by" not in statement.lower():
                continue  # the newest datestamp: the end of an index
            assert "SCAN records" not in plan and "SCAN record_sets" not in plan, plan
            assert "TEMP B-TREE" not in plan, (statement, parameters, plan)
            checked += 1
    assert checked >= 5
    for url in ("/", "/sitemap.xml"):
        with statements(app) as seen:
            response = client.get(url)
        assert response.status_code == 200
        if response.mimetype == "text/html":
            assert_valid_page(decode_body(response).decode("utf-8"))
        assert len(seen) > 1
        for statement, parameters in seen:
            with engine.connect() as connection:
                plan = [
                    row[-1]
                    for row in connection.exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + statement, parameters
                    )
                ]
            for step in plan:
                if not step.startswith(("SCAN records", "SCAN record_sets")):
                    continue
                # the counts read narrow indexes; the sitemap index reads ranges only
                assert url == "/" and "COVERING INDEX" in step, (url, statement, plan)


# --- sitemaps ---------------------------------------------------------------------------


def primary_keys(app: Flask) -> dict[str, int]:
    store = app.extensions["oaipress.store"]
    with store.read_connection() as connection:
        return dict(connection.execute(select(Record.local_id, Record.pk)).all())


def test_sitemap_children_hold_at_most_size_urls_by_primary_key_range(
    app, client, load, monkeypatch
):
    monkeypatch.setattr(sitemaps, "SIZE", 7)
    records = corpus(50)
    load(records)
    pks = primary_keys(app)
    gone = {local_id for local_id, pk in pks.items() if 7 <= pk < 14}  # all of child 1
    assert gone
    delete(load, sorted(gone))
    index = validate_sitemap(client.get("/sitemap.xml").get_data(), "sitemapindex")
    locs = [urlsplit(loc.text).path for loc in index.iterfind("sm:sitemap/sm:loc", SM)]
    expected = sorted({pk // 7 for local_id, pk in pks.items() if local_id not in gone})
    assert locs == [f"/sitemap-{n}.xml" for n in expected]
    assert "/sitemap-1.xml" not in locs
    total = 0
    for path in locs:
        root = validate_sitemap(decode_body(client.get(path)), "urlset")
        assert 0 < len(root) <= 7
        total += len(root)
    assert total == len(live_ids(records, gone))
    assert client.get("/sitemap-1.xml").status_code == 404
    assert client.get("/sitemap-99.xml").status_code == 404
    assert client.get("/sitemap-x.xml").status_code == 404
    assert client.get("/sitemap--1.xml").status_code == 404
    assert client.get("/sitemap-99999999999999999999999.xml").status_code == 404


def test_sitemap_lastmod_is_the_newest_datestamp_of_the_range(app, client, load, monkeypatch):
    monkeypatch.setattr(sitemaps, "SIZE", 3)
    load([make_record(i) for i in range(1, 9)])  # stamped in 2020
    pks = primary_keys(app)
    child = pks["article/4"] // 3
    delete(load, ["article/4"])
    index = validate_sitemap(client.get("/sitemap.xml").get_data(), "sitemapindex")
    lastmods = {
        urlsplit(s.findtext("sm:loc", namespaces=SM)).path: s.findtext("sm:lastmod", namespaces=SM)
        for s in index.iterfind("sm:sitemap", SM)
    }
    assert lastmods.pop(f"/sitemap-{child}.xml") == "2021-06-01T12:00:00Z"
    assert lastmods and all(stamp.startswith("2020-01-01T") for stamp in lastmods.values())
    response = client.get(f"/sitemap-{child}.xml")
    assert response.headers["Last-Modified"] == "Tue, 01 Jun 2021 12:00:00 GMT"
    urls = validate_sitemap(response.get_data(), "urlset")
    assert [u.findtext("sm:loc", namespaces=SM) for u in urls] == [
        f"http://repo.example.org/records/{local_id}"
        for local_id, pk in sorted(pks.items(), key=lambda item: item[1])
        if pk // 3 == child and local_id != "article/4"
    ]


def test_sitemap_urls_are_escaped_absolute_landing_urls(client, load):
    load([make_record(1, id=local_id) for local_id in ODD_IDS])
    body = client.get("/sitemap-0.xml").get_data()
    assert b"odd/a&amp;b;c=1" in body
    root = validate_sitemap(body, "urlset")
    paths = [unquote(urlsplit(u.text).path) for u in root.iterfind("sm:url/sm:loc", SM)]
    assert sorted(paths) == sorted(f"/records/{i}" for i in ODD_IDS)
    for loc in root.iterfind("sm:url/sm:loc", SM):
        assert client.get(urlsplit(loc.text).path).status_code != 404


def test_sitemap_child_is_streamed_and_gzipped_when_asked(client, load, monkeypatch):
    monkeypatch.setattr(sitemaps, "CHUNK_BYTES", 256)
    load([make_record(i) for i in range(1, 40)])
    plain = client.get("/sitemap-0.xml")
    assert plain.is_streamed and plain.headers.get("Content-Encoding") is None
    zipped = client.get("/sitemap-0.xml", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert "Accept-Encoding" in zipped.headers["Vary"]
    validate_sitemap(plain.get_data(), "urlset")


def test_sitemaps_answer_304_when_nothing_changed(client, load):
    load([make_record(i) for i in range(1, 4)])
    for url in ("/sitemap.xml", "/sitemap-0.xml"):
        etag = client.get(url).headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_an_empty_store_has_no_sitemap(client):
    assert client.get("/sitemap.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404


# --- robots.txt -------------------------------------------------------------------------


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_off_the_endpoint(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = [line for line in response.get_data(as_text=True).splitlines() if line.strip()]
    rules = [line for line in lines if not line.startswith("#")]
    assert rules == [
        "User-agent: *",
        "Disallow: /oai",
        "Disallow: /explore",
        "Disallow: /cite/",
        "Allow: /",
        "Sitemap: http://repo.example.org/sitemap.xml",
    ]
    comments = " ".join(line for line in lines if line.startswith("#"))
    assert "harvesters" in comments and "budget" in comments


def test_robots_txt_allows_landing_pages_browse_and_sitemaps(client):
    from urllib.robotparser import RobotFileParser

    parser = RobotFileParser()
    parser.parse(client.get("/robots.txt").get_data(as_text=True).splitlines())
    for path in (
        "/",
        "/records/article/1",
        "/browse",
        "/browse/sets/cac",
        "/sitemap.xml",
        "/sitemap-0.xml",
        "/metadata/oai_dc/article/1",
    ):
        assert parser.can_fetch("Googlebot", f"http://repo.example.org{path}"), path
    for path in ("/oai?verb=ListRecords", "/explore?verb=Identify", "/cite/bib/article/1"):
        assert not parser.can_fetch("Googlebot", f"http://repo.example.org{path}"), path
