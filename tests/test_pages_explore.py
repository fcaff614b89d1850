"""/explore: the OAI-PMH responses of /oai rendered as HTML pages on the server.

Every page goes through tests.htmlcheck.assert_valid_page; every XML response a page links
to goes through the schema validation of tests.xmlvalidate (the ``oai`` fixture).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import NS, OAIClient, example_record, load_records, make_record
from tests.explore_fixtures import find_all, linkable, links, main_text, page, text_of

EXAMPLE_ID = "oai:repo.example.org:article/587"
EXAMPLE_TITLE = "CENTRAL ASIAN STATES AND CHINA: COOPERATION TODAY AND PROSPECTS FOR TOMORROW"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
PREFIXES = ["oai_dc", "marcxml", "mods", "datacite", "oai_openaire", "jats"]


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return linkable(make_app())


@pytest.fixture
def stored(app: Flask, load: Callable[..., Any]) -> Flask:
    """The example article, two small records (one in set cac:ART) and a withdrawn one."""
    load(
        [
            example_record(),
            make_record(1, sets=["cac:ART"]),
            make_record(2),
            make_record(3),
        ]
    )
    load([{"id": "article/3", "deleted": True}])
    return app


def _query(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href).query, keep_blank_values=True)


# --- the form ---------------------------------------------------------------------------


def test_bare_explore_shows_a_get_form_with_a_verb_select_and_a_labelled_input_per_argument(
    client: FlaskClient,
):
    root = page(client)
    forms = find_all(root, "//h:form")
    assert len(forms) == 1 and forms[0].get("method") == "get"
    assert urlsplit(forms[0].get("action")).path == "/explore"
    options = find_all(root, "//h:select[@name='verb']/h:option/@value")
    assert sorted(options) == sorted(
        [
            "Identify",
            "ListMetadataFormats",
            "ListSets",
            "ListIdentifiers",
            "ListRecords",
            "GetRecord",
        ]
    )
    names = set(find_all(root, "//h:form//h:input/@name"))
    assert names == {"identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"}
    assert not find_all(root, "//h:script"), "no JavaScript"


def test_the_form_keeps_the_arguments_of_the_request_shown(stored: Flask, client: FlaskClient):
    root = page(client, verb="ListRecords", metadataPrefix="mods", set="cac")
    assert find_all(root, "//h:option[@selected]/@value") == ["ListRecords"]
    assert find_all(root, "//h:input[@name='metadataPrefix']/@value") == ["mods"]
    assert find_all(root, "//h:input[@name='set']/@value") == ["cac"]


def test_blank_form_fields_are_left_out_not_sent_as_empty_arguments(
    stored: Flask, client: FlaskClient
):
    """A form sends every field; /oai would answer an empty argument with badArgument."""
    root = page(
        client, verb="Identify", identifier="", metadataPrefix="", from_="", set="", until=""
    )
    assert "Test repository" in main_text(root)
    assert not find_all(root, "//h:section[@class='oai-error']")


# --- each verb (§4) ---------------------------------------------------------------------


def test_identify_shows_the_repository_and_links_to_its_raw_xml(
    stored: Flask, client: FlaskClient, oai: OAIClient
):
    """§4.2: name, base URL, admin e-mails, granularity, deletedRecord, descriptions."""
    root = page(client, verb="Identify")
    text = main_text(root)
    for expected in (
        "Test repository",
        "http://repo.example.org/oai",
        "admin@example.org",
        "help@example.org",
        "YYYY-MM-DDThh:mm:ssZ",
        "persistent",
        "Sample identifier",
        "oai:repo.example.org:",
    ):
        assert expected in text, expected
    (raw,) = links(root, "Raw XML")
    assert urlsplit(raw).path == "/oai" and _query(raw) == [("verb", "Identify")]
    oai.check(client.get(raw))


def test_list_metadata_formats_lists_the_six_formats_with_schemas(
    stored: Flask, client: FlaskClient
):
    """§4.4: each prefix with its namespace and schema, and a link to list records in it."""
    root = page(client, verb="ListMetadataFormats")
    shown = [text_of(th) for th in find_all(root, "//h:tbody/h:tr/h:th")]
    assert shown == PREFIXES
    assert "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd" in links(root)
    lists = [dict(_query(href)) for href in links(root, "list in")]
    assert {q["metadataPrefix"] for q in lists} == set(PREFIXES)


def test_list_metadata_formats_of_one_record_links_to_the_record_in_each(
    stored: Flask, client: FlaskClient
):
    """§4.4 with identifier: GetRecord links for the formats that item has."""
    root = page(client, verb="ListMetadataFormats", identifier=EXAMPLE_ID)
    targets = [dict(_query(h)) for h in links(root) if "GetRecord" in h]
    assert {t["metadataPrefix"] for t in targets} == set(PREFIXES)
    assert {t["identifier"] for t in targets} == {EXAMPLE_ID}


def test_list_sets_shows_each_set_with_links_to_its_records(stored: Flask, client: FlaskClient):
    """§4.6 (page size 2 here): the first page, its position and a next page link."""
    root = page(client, verb="ListSets")
    specs = [text_of(th) for th in find_all(root, "//h:tbody/h:tr/h:th")]
    assert len(specs) == 2
    assert any(dict(_query(h)).get("set") == specs[0] for h in links(root, "records"))
    assert "Sets 1–2 of" in main_text(root)
    assert links(root, "Next page")


def test_list_identifiers_shows_headers_with_record_and_landing_links(
    stored: Flask, client: FlaskClient
):
    """§4.3: every header; a deleted one is shown as withdrawn (§2.5.1)."""
    root = page(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    rows = find_all(root, "//h:tbody/h:tr")
    assert len(rows) == 4
    assert "Records 1–4 of 4" in main_text(root)
    assert "/records/article/587" in links(root, "landing page")
    withdrawn = [r for r in rows if "withdrawn" in text_of(r)]
    assert len(withdrawn) == 1 and "oai:repo.example.org:article/3" in text_of(withdrawn[0])
    record_links = [dict(_query(h)) for h in links(root) if "GetRecord" in h]
    assert {q["identifier"] for q in record_links} >= {EXAMPLE_ID}


def test_get_record_in_oai_dc_is_a_definition_list_of_the_fields(
    stored: Flask, client: FlaskClient
):
    """§4.1: Dublin Core as terms and values, the XML only in a collapsed <details>."""
    root = page(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=EXAMPLE_ID)
    terms = {text_of(dt): dt for dt in find_all(root, "//h:article//h:dl/h:dt")}
    assert {"Title", "Creator", "Rights", "Identifier"} <= terms.keys()
    values = [text_of(dd) for dd in find_all(root, "//h:dt[.='Rights']/following-sibling::h:dd")]
    assert LICENCE in values
    title = find_all(root, "//h:dt[.='Title']/following-sibling::h:dd[1]")[0]
    assert text_of(title) == EXAMPLE_TITLE
    assert find_all(root, "//h:details[not(@open)]//h:pre")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_record_in_every_format_shows_the_title_and_the_licence_readably(
    stored: Flask, client: FlaskClient, prefix: str
):
    """§4.1: outside the collapsed XML, the page shows the title and the licence URI."""
    root = page(client, verb="GetRecord", metadataPrefix=prefix, identifier=EXAMPLE_ID)
    readable = main_text(root, without=lambda e: e.tag.endswith("details"))
    assert EXAMPLE_TITLE in readable
    assert LICENCE in readable
    assert not re.search(r"<[A-Za-z/]", readable), "no XML tags outside the XML view"
    xml = find_all(root, "//h:details//h:pre")
    assert xml and LICENCE in text_of(xml[0])
    assert text_of(find_all(root, "//h:h1")[0]) == EXAMPLE_TITLE


def test_a_richer_format_is_an_outline_with_human_names_and_attributes(
    stored: Flask, client: FlaskClient
):
    root = page(client, verb="GetRecord", metadataPrefix="mods", identifier=EXAMPLE_ID)
    items = [text_of(li) for li in find_all(root, "//h:ul[@class='outline']//h:li")]
    assert any(i.startswith("Title info") for i in items)
    assert any(i.startswith("Date issued (Encoding: w3cdtf") for i in items)
    nested = find_all(root, "//h:ul[@class='outline']/h:li/h:ul/h:li/h:ul/h:li")
    assert nested, "nesting is shown as nested lists"


def test_marc_fields_are_named(stored: Flask, client: FlaskClient):
    root = page(client, verb="GetRecord", metadataPrefix="marcxml", identifier=EXAMPLE_ID)
    readable = main_text(root, without=lambda e: e.tag.endswith("details"))
    assert "245 Title statement" in readable and "540 Terms governing use" in readable


def test_get_record_links_to_the_landing_page_and_the_raw_xml(
    stored: Flask, client: FlaskClient, oai: OAIClient
):
    root = page(client, verb="GetRecord", metadataPrefix="datacite", identifier=EXAMPLE_ID)
    assert links(root, "Landing page") == ["/records/article/587"]
    (raw,) = links(root, "Raw XML")
    assert urlsplit(raw).path == "/oai"
    assert dict(_query(raw)) == {
        "verb": "GetRecord",
        "metadataPrefix": "datacite",
        "identifier": EXAMPLE_ID,
    }
    xml = oai.check(client.get(raw))
    assert xml.findtext(".//oai:header/oai:identifier", namespaces=NS) == EXAMPLE_ID


def test_a_deleted_record_shows_as_withdrawn_with_its_datestamp(
    stored: Flask, client: FlaskClient, oai: OAIClient
):
    """§2.5.1: a deleted record keeps its header; the page says it was withdrawn and when."""
    identifier = "oai:repo.example.org:article/3"
    datestamp = oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier).findtext(
        ".//oai:datestamp", namespaces=NS
    )
    root = page(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)
    text = main_text(root)
    assert "withdrawn" in text and datestamp in text
    assert f"withdrawn on {datestamp}" in text


# --- paging (§3.5) ----------------------------------------------------------------------


def test_following_next_page_links_visits_every_record_once(
    make_app: Callable[..., Flask], oai: OAIClient
):
    """250 records, 40 a page: 7 pages, each with its position, the last with no link."""
    app = linkable(make_app(OAIPRESS_LIST_RECORDS_PAGE_SIZE=40))
    load_records(app, [make_record(i) for i in range(250)])
    client = app.test_client()
    seen: list[str] = []
    root = page(client, verb="ListRecords", metadataPrefix="oai_dc")
    positions = []
    for _ in range(20):
        articles = find_all(root, "//h:article")
        assert len(articles) <= 40
        seen += [
            text_of(find_all(a, ".//h:dt[.='Identifier']/following-sibling::h:dd[1]")[0])
            for a in articles
        ]
        positions.append(text_of(find_all(root, "//h:p[@class='position']")[0]))
        nexts = links(root, "Next page")
        if not nexts:
            break
        href, raw = nexts  # the page, and the same page as XML
        assert urlsplit(href).path == "/explore" and urlsplit(raw).path == "/oai"
        assert _query(raw) == _query(href)
        assert [k for k, _ in _query(href)] == ["verb", "resumptionToken"]
        root = page(client, **dict(_query(href)))
    assert len(seen) == 250 and len(set(seen)) == 250
    assert positions[0] == "Records 1–40 of 250"
    assert positions[1] == "Records 41–80 of 250"
    assert positions[-1] == "Records 241–250 of 250"
    assert "This is the last page." in main_text(root)


def test_list_position_uses_thousands_separators(make_app: Callable[..., Flask]):
    from oai.pages.explore_render import Position

    app = linkable(make_app())
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string(
            '{% import "explore_macros.html" as show %}{{ show.position(p, "records") }}',
            p=Position(101, 200, 1234, "t", None),
        )
    assert "Records 101–200 of 1,234" in html


# --- errors (§3.6) ----------------------------------------------------------------------

DC = {"metadataPrefix": "oai_dc"}
ERROR_CASES: list[tuple[dict[str, str], str, int]] = [
    ({"verb": "Nonsense"}, "badVerb", 400),
    (DC, "badVerb", 400),
    ({"verb": ""}, "badVerb", 400),
    ({"verb": "ListRecords"}, "badArgument", 400),
    ({"verb": "Identify", "set": "cac"}, "badArgument", 400),
    ({"verb": "ListRecords", **DC, "from": "yesterday"}, "badArgument", 400),
    ({"verb": "GetRecord", **DC, "identifier": "not a uri"}, "badArgument", 400),
    ({"verb": "ListRecords", "resumptionToken": "forged.1.abc"}, "badResumptionToken", 400),
    ({"verb": "ListRecords", "metadataPrefix": "nope"}, "cannotDisseminateFormat", 404),
    ({"verb": "GetRecord", "metadataPrefix": "nope", "identifier": EXAMPLE_ID},
     "cannotDisseminateFormat", 404),
    ({"verb": "GetRecord", **DC, "identifier": "oai:repo.example.org:x/9"}, "idDoesNotExist", 404),
    ({"verb": "ListMetadataFormats", "identifier": "oai:other.org:1"}, "idDoesNotExist", 404),
    ({"verb": "ListRecords", **DC, "set": "nowhere"}, "noRecordsMatch", 200),
    ({"verb": "ListIdentifiers", **DC, "until": "1990-01-01"}, "noRecordsMatch", 200),
]  # fmt: skip


@pytest.mark.parametrize(("arguments", "code", "status"), ERROR_CASES)
def test_every_error_is_the_one_oai_gives_explained_in_plain_words(
    stored: Flask,
    client: FlaskClient,
    oai: OAIClient,
    arguments: dict[str, str],
    code: str,
    status: int,
):
    """§3.6: the same arguments on /oai and /explore give the same error code."""
    oai_code, _ = oai.error(**arguments)
    assert oai_code == code
    root = page(client, status=status, **arguments)
    (section,) = find_all(root, "//h:section[@class='oai-error']")
    assert find_all(section, ".//h:h2/h:code")[0].text == code
    text = text_of(section)
    assert "What it means:" in text and "What to do:" in text
    (raw,) = links(root, "Raw XML")
    assert oai.error(**dict(_query(raw)))[0] == code


def test_an_error_page_shows_the_arguments_sent_though_the_response_echoes_none(
    stored: Flask, client: FlaskClient
):
    """§3.2: badArgument responses echo no arguments; the page still says what was asked."""
    root = page(client, status=400, verb="ListRecords", set="cac")
    request_box = text_of(find_all(root, "//h:div[@class='request']")[0])
    assert "verb = ListRecords" in request_box and "set = cac" in request_box


def test_no_set_hierarchy_when_the_repository_has_no_sets(
    app: Flask, load: Callable[..., Any], client: FlaskClient, oai: OAIClient
):
    load([make_record(1, rights={"access": "restricted", "statement": "(c) A"})])
    assert oai.error(verb="ListSets")[0] == "noSetHierarchy"
    root = page(client, verb="ListSets")
    assert find_all(root, "//h:section[@class='oai-error']//h:h2/h:code")[0].text == (
        "noSetHierarchy"
    )


def test_markup_in_arguments_is_shown_as_text(stored: Flask, client: FlaskClient):
    response = client.get("/explore", query_string={"verb": "<script>alert(1)</script>"})
    assert response.status_code == 400
    assert b"<script>" not in response.get_data()
    response = client.get(
        "/explore",
        query_string={"verb": "GetRecord", "metadataPrefix": "x<b>", "identifier": "a:<i>"},
    )
    assert b"<b>" not in response.get_data() and b"<i>" not in response.get_data()


# --- HTTP -------------------------------------------------------------------------------


def test_explore_is_not_cached_without_revalidation_and_not_indexed(
    stored: Flask, client: FlaskClient
):
    response = client.get("/explore?verb=Identify")
    assert response.headers["Cache-Control"] == "no-cache"
    root = page(client, verb="Identify")
    assert find_all(root, "//h:meta[@name='robots']/@content") == ["noindex, nofollow"]


def test_explore_answers_in_the_configured_base_url_not_its_own(
    make_app: Callable[..., Flask], load: Callable[..., Any]
):
    """Without OAIPRESS_BASE_URL, the baseURL shown is /oai's, not /explore's (§4.2)."""
    app = linkable(make_app(OAIPRESS_BASE_URL=""))
    root = page(app.test_client(), verb="Identify")
    base = find_all(root, "//h:dt[.='Base URL']/following-sibling::h:dd[1]")
    assert text_of(base[0]) == "http://localhost/oai"


def test_an_unavailable_store_gets_a_503_page_with_retry_after(stored: Flask, client: FlaskClient):
    """As /oai: a store rendered for another repository identifier cannot answer."""
    stored.extensions["oaipress.stale"] = True
    root = page(client, status=503, verb="Identify")
    assert "oaipress rebuild" in main_text(root)
    assert client.get("/explore?verb=Identify").headers["Retry-After"] == "60"
    assert client.get("/oai?verb=Identify").status_code == 503
