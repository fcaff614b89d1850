"""FAIR Signposting level 1 on the landing page, read back with the ``signposting`` package."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from signposting import Signposting, find_signposting_http_link

from oai.pages.signposting import Link, cite_as, header_value, uri_reference
from tests.conftest import example_record, make_record
from tests.formats_fixtures import RICH, rich_record

SITE = "http://repo.example.org"
OAI_PROFILE = "http://www.openarchives.org/OAI/2.0/"
NAMESPACES = {
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marcxml": "http://www.loc.gov/MARC21/slim",
    "mods": "http://www.loc.gov/mods/v3",
    "oai_openaire": "http://namespace.openaire.eu/schema/oaire/",
}
SPECIFIC = {
    "datacite": "application/vnd.datacite.datacite+xml",
    "jats": "application/vnd.jats+xml",
}
EXPORTS = {
    "bib": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "json": "application/vnd.citationstyles.csl+json",
}


@pytest.fixture
def site(app: Flask, client: FlaskClient) -> FlaskClient:
    """The client, with stand-ins for the base template's links if their parts are missing."""
    for endpoint, rule in (
        ("pages.home", "/"),
        ("pages.browse", "/browse"),
        ("pages.explore", "/explore"),
    ):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=lambda: "")
    return client


def signposts(client: FlaskClient, local_id: str) -> tuple[Signposting, Any]:
    response = client.get(f"/records/{local_id}")
    assert response.status_code == 200
    header = response.headers["Link"]
    header.encode("ascii")  # a header carries ASCII only
    return find_signposting_http_link([header], f"{SITE}/records/{local_id}"), response


def described(found: Signposting) -> dict[str, tuple[str | None, frozenset[str]]]:
    return {str(s.target): (s.type, frozenset(map(str, s.profiles))) for s in found.describedBy}


def test_example_article_signposts(site, load):
    load([example_record()])
    found, _ = signposts(site, "article/587")
    assert str(found.citeAs.target) == "https://ca-c.org/CAC/index.php/cac/article/view/587"
    assert {str(t.target) for t in found.types} == {
        "https://schema.org/ScholarlyArticle",
        "https://schema.org/AboutPage",
    }
    assert str(found.license.target) == "https://creativecommons.org/licenses/by/4.0/"
    assert not found.authors  # no ORCID, no author link
    assert not found.items  # no file


def test_rich_record_signposts_cite_as_the_doi_with_authors_and_items(site, load):
    load([rich_record(files=list(reversed(RICH["files"])))])
    found, response = signposts(site, "article/9001")
    assert str(found.citeAs.target) == (
        "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
    )
    assert {str(a.target) for a in found.authors} == {
        "https://orcid.org/0000-0002-1825-0097",
        "https://orcid.org/0000-0001-5109-3700",
    }
    assert str(found.license.target) == "https://creativecommons.org/licenses/by-nc/4.0/"
    assert {(str(i.target), i.type) for i in found.items} == {
        ("https://ca-c.org/CAC/index.php/cac/article/download/9001/101", "application/pdf"),
        ("https://ca-c.org/CAC/index.php/cac/article/download/9001/102", "text/html"),
    }
    header = response.headers["Link"]
    assert header.index("download/9001/101") < header.index("download/9001/102")  # PDF first
    assert header.count('rel="cite-as"') == 1 and header.count('rel="type"') == 2


def test_described_by_every_format_getrecord_and_export(site, load, oai):
    load([rich_record()])
    found, _ = signposts(site, "article/9001")
    links = described(found)
    identifier = "oai:repo.example.org:article/9001"
    listed = oai(verb="ListMetadataFormats", identifier=identifier)
    prefixes = [p.text for p in listed.iterfind(".//{*}metadataPrefix")]
    assert sorted(prefixes) == sorted([*NAMESPACES, *SPECIFIC])
    for prefix in prefixes:
        document = links[f"{SITE}/metadata/{prefix}/article/9001"]
        if prefix in SPECIFIC:
            assert document == (SPECIFIC[prefix], frozenset())
        else:
            assert document == ("application/xml", frozenset({NAMESPACES[prefix]}))
        getrecord = f"{SITE}/oai?verb=GetRecord&metadataPrefix={prefix}&identifier={identifier}"
        assert links[getrecord] == ("text/xml", frozenset({OAI_PROFILE}))
    for fmt, media_type in EXPORTS.items():
        assert links[f"{SITE}/cite/{fmt}/article/9001"] == (media_type, frozenset())
    assert len(links) == 2 * len(prefixes) + len(EXPORTS)


def test_every_metadata_signpost_answers_with_its_media_type(site, load):
    load([rich_record()])
    found, _ = signposts(site, "article/9001")
    for signpost in found.describedBy:
        parts = urlsplit(str(signpost.target))
        if parts.path.startswith("/cite/"):
            continue  # the citations part's own tests fetch these
        response = site.get(parts.path, query_string=parts.query)
        assert response.status_code == 200, signpost.target
        assert response.mimetype == signpost.type, signpost.target


def test_a_metadata_document_links_back_to_what_it_describes(site, load):
    load([rich_record()])
    response = site.get("/metadata/datacite/article/9001")
    back = find_signposting_http_link([response.headers["Link"]])
    (describes,) = back.describes
    assert str(describes.target) == f"{SITE}/records/article/9001"
    assert describes.type == "text/html"


def test_without_a_doi_cite_as_is_the_record_url(site, load):
    load([make_record(7)])
    found, _ = signposts(site, "article/7")
    assert str(found.citeAs.target) == "https://journal.example.org/article/view/7"


def test_missing_and_deleted_records_send_no_signposts(site, load):
    load([make_record(1)])
    load([{"id": "article/1", "deleted": True}])
    assert "Link" not in site.get("/records/article/1").headers
    assert "Link" not in site.get("/records/article/2").headers


# --- the header itself ------------------------------------------------------------------


def test_cite_as_falls_back_to_the_landing_page():
    landing = "https://repo.example.org/records/x"
    assert cite_as({"doi": None, "url": None}, landing) == landing
    assert cite_as({"doi": "10.1/a b", "url": "https://j.example/x"}, landing) == (
        "https://doi.org/10.1/a%20b"
    )


def test_header_quotes_parameters():
    value = header_value([Link("https://example.org/a", "item", 'text/"odd"\\type\n')])
    assert value == '<https://example.org/a>; rel="item"; type="text/\\"odd\\"\\\\type"'


def test_header_encodes_what_a_uri_cannot_hold():
    links = [
        Link("https://example.org/файл 1.pdf?a=<b>&c", "item", "application/pdf"),
        Link("https://example.org/m", "describedby", "application/xml", "urn:x:a b"),
    ]
    value = header_value(links)
    value.encode("ascii")
    assert value.startswith(
        "<https://example.org/%D1%84%D0%B0%D0%B9%D0%BB%201.pdf?a=%3Cb%3E&c>; "
        'rel="item"; type="application/pdf", '
    )
    found = find_signposting_http_link([value])
    (item,) = found.items
    assert str(item.target) == "https://example.org/%D1%84%D0%B0%D0%B9%D0%BB%201.pdf?a=%3Cb%3E&c"
    (described,) = found.describedBy
    assert {str(p) for p in described.profiles} == {"urn:x:a%20b"}


def test_uri_reference_keeps_a_valid_uri_as_it_is():
    url = "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
    assert uri_reference(url) == url
    assert uri_reference("https://x.example/a?b=c&d=e#f") == "https://x.example/a?b=c&d=e#f"
