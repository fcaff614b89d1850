"""/oai names our XSLT (oai/pages/static/oaipress.xsl) and stays the protocol.

Every response starts, after the XML declaration, with an ``xml-stylesheet`` processing
instruction; nothing else in the bytes changes, the responses stay schema-valid (the
``oai`` fixture validates each) and text/xml (§3.1.2.1). The stylesheet is applied here
with lxml to real responses of every verb and an error, as a browser would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from oai.protocol.views import protocol_response
from tests.conftest import (
    NS,
    OAIClient,
    decode_body,
    example_record,
    load_records,
    make_record,
    set_repository_clock,
)
from tests.explore_fixtures import find_all, linkable, links, main_text, text_of
from tests.htmlcheck import assert_valid_page

XSLT_FILE = Path(__file__).resolve().parents[1] / "oai" / "pages" / "static" / "oaipress.xsl"
DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
INSTRUCTION = b'<?xml-stylesheet type="text/xsl" href="/static/oaipress.xsl"?>'
EXAMPLE_ID = "oai:repo.example.org:article/587"
EXAMPLE_TITLE = "CENTRAL ASIAN STATES AND CHINA: COOPERATION TODAY AND PROSPECTS FOR TOMORROW"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
PREFIXES = ["oai_dc", "marcxml", "mods", "datacite", "oai_openaire", "jats"]
REQUESTS: list[dict[str, str]] = [
    {"verb": "Identify"},
    {"verb": "ListMetadataFormats"},
    {"verb": "ListMetadataFormats", "identifier": EXAMPLE_ID},
    {"verb": "ListSets"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
    {"verb": "GetRecord", "metadataPrefix": "jats", "identifier": EXAMPLE_ID},
    {"verb": "Nonsense"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "nowhere"},
]


@pytest.fixture(scope="module")
def stylesheet() -> etree.XSLT:
    return etree.XSLT(etree.parse(str(XSLT_FILE)))


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return linkable(make_app())


@pytest.fixture
def stored(app: Flask, load: Callable[..., Any]) -> Flask:
    load([example_record(), make_record(1, sets=["cac:ART"]), make_record(2), make_record(3)])
    load([{"id": "article/3", "deleted": True}])
    return app


def _raw(client: FlaskClient, **params: str) -> bytes:
    response = client.get("/oai", query_string=params)
    assert response.status_code == 200
    return decode_body(response)


def _shown(stylesheet: etree.XSLT, body: bytes) -> etree._Element:
    """The page a browser shows for ``body``: our XSLT's output, a valid HTML5 page."""
    result = stylesheet(etree.fromstring(body).getroottree())
    assert not stylesheet.error_log, stylesheet.error_log
    return assert_valid_page(str(result))


# --- the processing instruction ---------------------------------------------------------


@pytest.mark.parametrize("params", REQUESTS, ids=lambda p: "-".join(p.values()))
def test_every_response_starts_with_the_stylesheet_instruction_and_stays_valid(
    stored: Flask, client: FlaskClient, oai: OAIClient, params: dict[str, str]
):
    """§3.2: the document is the same OAI-PMH response; the PI sits before its root."""
    response = client.get("/oai", query_string=params)
    oai.check(response)
    assert response.get_data().startswith(DECLARATION + INSTRUCTION + b"<OAI-PMH ")


def test_compressed_and_post_responses_carry_the_instruction(
    stored: Flask, client: FlaskClient, oai: OAIClient
):
    """§3.1.3 and §3.1.1.2: gzip, deflate and POST answers are the same documents."""
    for encoding in ("gzip", "deflate"):
        response = client.get(
            "/oai?verb=ListRecords&metadataPrefix=mods", headers={"Accept-Encoding": encoding}
        )
        assert response.headers["Content-Encoding"] == encoding
        oai.check(response)
        assert decode_body(response).startswith(DECLARATION + INSTRUCTION)
    response = client.post("/oai", data={"verb": "Identify"})
    oai.check(response)
    assert response.get_data().startswith(DECLARATION + INSTRUCTION)


def test_accept_text_html_still_gets_text_xml(stored: Flask, client: FlaskClient, oai: OAIClient):
    """§3.1.2.1: the Content-Type of every response is text/xml, whatever the client prefers."""
    response = client.get(
        "/oai?verb=Identify", headers={"Accept": "text/html,application/xhtml+xml;q=0.9"}
    )
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    oai.check(response)


def test_the_instruction_is_the_only_difference_in_the_bytes(stored: Flask, client: FlaskClient):
    """The stored record bytes, the envelope and the streaming are untouched."""
    set_repository_clock(stored, lambda: datetime(2030, 1, 1))
    for params in (
        {"verb": "GetRecord", "metadataPrefix": "mods", "identifier": EXAMPLE_ID},
        {"verb": "Identify"},
        {"verb": "Nonsense"},
    ):
        served = client.get("/oai", query_string=params).get_data()
        with stored.test_request_context("/oai", query_string=params):
            plain = b"".join(protocol_response(lambda p=params: list(p.items())))
        assert served == plain.replace(DECLARATION, DECLARATION + INSTRUCTION, 1)
        assert b"xml-stylesheet" not in plain


def test_the_stylesheet_named_is_served_from_the_same_origin(stored: Flask, client: FlaskClient):
    href = urlsplit(INSTRUCTION.split(b'href="')[1].split(b'"')[0].decode()).path
    response = client.get(href)
    assert response.status_code == 200
    assert response.mimetype in ("application/xslt+xml", "application/xml", "text/xsl", "text/xml")
    etree.XSLT(etree.fromstring(response.get_data()))


# --- what the stylesheet shows ----------------------------------------------------------


def test_identify_is_shown_with_the_repository_name_and_a_link_to_explore(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT
):
    root = _shown(stylesheet, _raw(client, verb="Identify"))
    text = main_text(root)
    assert "Test repository" in text and "admin@example.org" in text
    assert "mailto:help@example.org" in links(root)
    assert "http://repo.example.org/explore?verb=Identify" in links(root, "as a web page")


def test_list_metadata_formats_is_shown_with_every_prefix(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT
):
    root = _shown(stylesheet, _raw(client, verb="ListMetadataFormats"))
    assert [text_of(th) for th in find_all(root, "//h:tbody/h:tr/h:th")] == PREFIXES
    root = _shown(stylesheet, _raw(client, verb="ListMetadataFormats", identifier=EXAMPLE_ID))
    targets = [dict(parse_qsl(h[1:])) for h in links(root, "This record in")]
    assert {t["metadataPrefix"] for t in targets} == set(PREFIXES)


def test_list_sets_is_shown_with_a_next_page_link(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT
):
    """§4.6 with 2 sets a page (the test setting): a position and a next page link."""
    root = _shown(stylesheet, _raw(client, verb="ListSets"))
    assert len(find_all(root, "//h:tbody/h:tr")) == 2
    assert "Sets 1–2 of" in main_text(root)
    (href,) = links(root, "Next page")
    assert dict(parse_qsl(href[1:])).keys() == {"verb", "resumptionToken"}


def test_list_identifiers_is_shown_with_landing_pages_and_withdrawn_records(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT
):
    root = _shown(stylesheet, _raw(client, verb="ListIdentifiers", metadataPrefix="oai_dc"))
    rows = find_all(root, "//h:tbody/h:tr")
    assert len(rows) == 4
    assert "http://repo.example.org/records/article/587" in links(root, "Landing page")
    assert sum("withdrawn" in text_of(r) for r in rows) == 1


@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_record_is_shown_with_title_licence_and_landing_page_in_every_format(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT, prefix: str
):
    body = _raw(client, verb="GetRecord", metadataPrefix=prefix, identifier=EXAMPLE_ID)
    root = _shown(stylesheet, body)
    text = main_text(root)
    assert EXAMPLE_TITLE in text and LICENCE in text
    assert links(root, "Landing page") == ["http://repo.example.org/records/article/587"]


def test_a_deleted_record_is_shown_as_withdrawn(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT
):
    identifier = "oai:repo.example.org:article/3"
    root = _shown(
        stylesheet, _raw(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)
    )
    assert "Withdrawn (deleted) on 20" in main_text(root)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"verb": "Nonsense"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "x.1.y"}, "badResumptionToken"),
        ({"verb": "GetRecord", "metadataPrefix": "x", "identifier": EXAMPLE_ID},
         "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "a:b"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "nowhere"}, "noRecordsMatch"),
    ],
)  # fmt: skip
def test_errors_are_shown_with_their_code_and_an_explanation(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT, params: dict[str, str], code: str
):
    """§3.6: the code, the repository's message and what it means."""
    root = _shown(stylesheet, _raw(client, **params))
    (section,) = find_all(root, "//h:section[@class='oai-error']")
    assert find_all(section, ".//h:h2/h:code")[0].text == code
    assert len(text_of(section)) > 80


def test_following_the_next_page_links_on_oai_visits_every_record_once(
    make_app: Callable[..., Flask], stylesheet: etree.XSLT, oai: OAIClient
):
    """§3.5: "Next page" resolves against /oai and carries the resumptionToken."""
    app = linkable(make_app(OAIPRESS_LIST_RECORDS_PAGE_SIZE=7))
    load_records(app, [make_record(i) for i in range(30)])
    client = app.test_client()
    url = "http://localhost/oai?verb=ListRecords&metadataPrefix=oai_dc"
    seen: list[str] = []
    positions: list[str] = []
    for _ in range(10):
        response = client.get(url)
        oai.check(response)
        body = decode_body(response)
        seen += [
            e.text for e in etree.fromstring(body).iterfind(".//oai:header/oai:identifier", NS)
        ]
        root = _shown(stylesheet, body)
        positions.append(text_of(find_all(root, "//h:p[@class='position']")[0]))
        nexts = links(root, "Next page")
        if not nexts:
            break
        url = urljoin(url, nexts[0])
        assert urlsplit(url).path == "/oai"
    assert len(seen) == 30 and len(set(seen)) == 30
    assert positions[0] == "Records 1–7 of 30" and positions[-1] == "Records 29–30 of 30"
    assert "This is the last page." in main_text(root)


def test_the_stylesheet_output_escapes_what_the_response_echoes(
    stored: Flask, client: FlaskClient, stylesheet: etree.XSLT
):
    body = _raw(client, verb="GetRecord", metadataPrefix="oai_dc", identifier="a:<b>&x")
    assert b"a:&lt;b&gt;&amp;x" in body
    html = str(stylesheet(etree.fromstring(body).getroottree()))
    assert "<b>" not in html and "a:&lt;b&gt;&amp;x" in html
