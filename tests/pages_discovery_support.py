"""Helpers for the home, browse and sitemap tests: a corpus, a link-following crawler, a
sitemap checker, and the SQL a request runs.

The sitemaps.org XSDs (sitemap.xsd, siteindex.xsd) are not in the offline schema kit
(/work/shared/schemas, tests/schemas), so ``SITEMAP_XSD`` below is written here from the
protocol's text (sitemaps.org/protocol.html, version 0.9): the elements, their order and
cardinality, ``loc`` an absolute URI of at most 2,048 characters, ``lastmod`` a W3C
Datetime. The 50,000-URL limit and the ``Z`` form of our datestamps are checked in Python.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import event

from tests.conftest import decode_body, make_record, unlisted_record
from tests.htmlcheck import XHTML, assert_valid_page

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SM = {"sm": SITEMAP_NS}
W3C_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

SITEMAP_XSD = b"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
    targetNamespace="http://www.sitemaps.org/schemas/sitemap/0.9"
    elementFormDefault="qualified">
  <xs:simpleType name="tLoc">
    <xs:restriction base="xs:anyURI">
      <xs:minLength value="12"/>
      <xs:maxLength value="2048"/>
      <xs:pattern value="https?://.+"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="tLastmod">
    <xs:union memberTypes="xs:date xs:dateTime"/>
  </xs:simpleType>
  <xs:simpleType name="tChangeFreq">
    <xs:restriction base="xs:string">
      <xs:enumeration value="always"/><xs:enumeration value="hourly"/>
      <xs:enumeration value="daily"/><xs:enumeration value="weekly"/>
      <xs:enumeration value="monthly"/><xs:enumeration value="yearly"/>
      <xs:enumeration value="never"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="tPriority">
    <xs:restriction base="xs:decimal">
      <xs:minInclusive value="0.0"/><xs:maxInclusive value="1.0"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:element name="urlset">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="url" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="loc" type="tLoc"/>
              <xs:element name="lastmod" type="tLastmod" minOccurs="0"/>
              <xs:element name="changefreq" type="tChangeFreq" minOccurs="0"/>
              <xs:element name="priority" type="tPriority" minOccurs="0"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="sitemapindex">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="sitemap" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="loc" type="tLoc"/>
              <xs:element name="lastmod" type="tLastmod" minOccurs="0"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
_SCHEMA = etree.XMLSchema(etree.fromstring(SITEMAP_XSD))
#: the protocol's limits for one file
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024


def validate_sitemap(body: bytes, root_name: str) -> etree._Element:
    """Parse, check against the protocol (schema, limits, UTF-8, UTC lastmod), return root."""
    assert body.startswith(b"<?xml"), body[:100]
    assert len(body) <= MAX_BYTES
    root = etree.fromstring(body)
    assert root.tag == f"{{{SITEMAP_NS}}}{root_name}", root.tag
    assert root.getroottree().docinfo.encoding.upper() == "UTF-8"
    if not _SCHEMA.validate(root):
        raise AssertionError(str(_SCHEMA.error_log))
    assert len(root) <= MAX_URLS
    for lastmod in root.iterfind(".//sm:lastmod", SM):
        assert W3C_UTC.fullmatch(lastmod.text or ""), lastmod.text
    return root


# --- the corpus -------------------------------------------------------------------------

SET_NAMES = {
    "cac": "Central Asia and the Caucasus",
    "cac:ART": "Central Asia and the Caucasus: articles",
    "hist": "History & Memory",
    "econ": "Economics",
}
YEARS = ("1998", "1999", "2003", "2004", "2010", "2021")
#: ids that need escaping in a URL and in XML (records.validate.LOCAL_ID_RE allows them)
ODD_IDS = ("odd/a&b;c=1", "odd/q?x=y", "odd/pct%41", "odd/paren(1)*!")


def corpus(count: int = 300) -> list[dict[str, Any]]:
    """``count`` records over several sets and years (some restricted, some in no set),
    the set definitions first, and a few records with awkward ids."""
    lines: list[dict[str, Any]] = [
        {"set": spec, "name": name, "description": f"About {name}."}
        for spec, name in SET_NAMES.items()
    ]
    specs = (["cac:ART"], ["cac"], ["hist"], ["econ", "hist"], [])
    for i in range(1, count + 1):
        year = YEARS[i % len(YEARS)]
        published = (year, f"{year}-{1 + i % 12:02d}", f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}")
        maker = unlisted_record if i % 5 == 0 else make_record
        lines.append(
            maker(
                i,
                published=published[i % 3],
                sets=specs[i % len(specs)],
                journal={"title": "Central Asia and the Caucasus"},
                volume=str(i % 9 + 1),
                issue=str(i % 4 + 1),
            )
        )
    for n, local_id in enumerate(ODD_IDS):
        lines.append(make_record(10_000 + n, id=local_id, title=f"Odd <id> {local_id} & co"))
    return lines


def live_ids(records: list[dict[str, Any]], deleted: set[str]) -> set[str]:
    return {r["id"] for r in records if "id" in r and r["id"] not in deleted}


# --- crawling ---------------------------------------------------------------------------


def links(text: str, base: str) -> list[str]:
    """Every ``<a href>`` of a valid page, absolute path + query, in document order."""
    root = assert_valid_page(text)
    found = []
    for anchor in root.iter(f"{XHTML}a"):
        href = anchor.get("href")
        if href:
            parts = urlsplit(urljoin(base, href))
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(
    client: FlaskClient, start: str = "/", *, follow: Callable[[str], bool], limit: int = 2000
) -> tuple[set[str], set[str]]:
    """Follow only ``<a href>`` links from ``start``: (pages fetched, landing ids linked)."""
    seen: set[str] = {start}
    landing: set[str] = set()
    queue = deque([start])
    while queue:
        url = queue.popleft()
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        for href in links(decode_body(response).decode("utf-8"), f"http://localhost{url}"):
            path = href.split("?", 1)[0]
            if path.startswith("/records/"):
                landing.add(unquote(path[len("/records/") :]))
            elif follow(href) and href not in seen:
                assert len(seen) < limit, "the crawl does not end"
                seen.add(href)
                queue.append(href)
    return seen, landing


def browse_links(href: str) -> bool:
    return href == "/" or href == "/browse" or href.startswith("/browse/")


# --- the app ----------------------------------------------------------------------------


def stub_missing_endpoints(app: Flask) -> None:
    """Endpoints of the other page parts that base.html and our pages link, when a part is
    not in this tree yet (URL plan): the links are all these tests need of them."""
    stubs = {
        "pages.landing": "/records/<path:local_id>",
        "pages.explore": "/explore",
    }
    for endpoint, rule in stubs.items():
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=lambda **_: "stub")


@contextmanager
def statements(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and parameters) run on the store while the block runs."""
    engine = app.extensions["oaipress.store"].engine  # the read engine shares its events
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
