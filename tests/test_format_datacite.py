"""The ``datacite`` format (DataCite kernel-4, 4.7): harvested, schema-valid, field by field.

Every response goes through the ``oai`` fixture, which validates it, the DataCite payload
included, against the official schemas (tests/xmlvalidate.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from datacite import schema45
from flask import Flask
from lxml import etree

from oai.formats import XML_LANG, XSI_NS, formats
from oai.formats.datacite import DATACITE_NS, build, written_in
from oai.formats.vocabulary import page_range
from records.db import drop_schema, make_engine
from records.validate import format_datestamp, normalize_record
from tests.conftest import NS, PG_URL, OAIClient, example_record, harvest, make_record
from tests.formats_fixtures import both_records, rich_record
from tests.servers import RECORDS_PAGE, environment, run, serving
from tests.xmlvalidate import validate_element, validate_oai_response

D = {**NS, "d": DATACITE_NS}
PREFIX = "datacite"
EXAMPLE_ID = "oai:repo.example.org:article/587"
RICH_ID = "oai:repo.example.org:article/9001"
RICH_DOI = "10.1002/(SICI)1097-4636(199812)43:4<441::AID-JBM5>3.0.CO;2-G"
URI_CHARS = set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


# --- helpers shared with test_format_oai_openaire -------------------------------------------


def harvest_metadata(oai: OAIClient, prefix: str) -> dict[str, etree._Element]:
    """ListRecords in ``prefix`` to the end: identifier → the metadata's root element."""
    items, _ = harvest(oai, "ListRecords", metadataPrefix=prefix)
    found = {}
    for item in items:
        identifier = item.findtext("oai:header/oai:identifier", namespaces=NS)
        assert identifier not in found
        metadata = item.find("oai:metadata", NS)
        found[identifier] = None if metadata is None else metadata[0]
    return found


def urls_in(element: etree._Element) -> list[str]:
    """Every text and attribute value of ``element`` that is an http(s) URL."""
    values = [el.text or "" for el in element.iter()] + [
        value
        for el in element.iter()
        for name, value in el.attrib.items()
        if not name.startswith(f"{{{XSI_NS}}}")  # schemaLocation: namespace-URL pairs
    ]
    return [v for v in values if v.startswith(("http://", "https://"))]


def assert_urls_are_uris(element: etree._Element) -> None:
    """No URL carries what a URI cannot hold (a DOI's < and > must be percent-encoded)."""
    for url in urls_in(element):
        assert set(url) <= URI_CHARS, url


def attrs(element: etree._Element) -> dict[str, str]:
    return dict(element.attrib)


@contextmanager
def served_corpus(home: Path, database_url: str) -> Iterator[str]:
    """``oaipress serve`` over the two test records and 20 small ones, past datestamps."""
    if database_url.startswith("postgresql"):
        engine = make_engine(database_url)
        drop_schema(engine)
        engine.dispose()
    start = datetime(2021, 1, 1)
    lines = [
        dict(r, datestamp=format_datestamp(start + timedelta(days=i)))
        for i, r in enumerate(both_records())
    ]
    lines += [
        make_record(i, datestamp=format_datestamp(start + timedelta(days=10 + i)))
        for i in range(20)
    ]
    lines.append({"id": "withdrawn/1", "deleted": True, "datestamp": "2021-03-01T00:00:00Z"})
    data = home / "corpus.jsonl"
    data.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    env = environment(database_url)
    run(["import", "--keep-datestamps", str(data)], env, home)
    with serving(env, home, "serve") as base_url:
        yield base_url


@pytest.fixture
def harvested(oai: OAIClient, load: Callable[..., Any]) -> dict[str, etree._Element]:
    load([r for r in both_records()])
    return harvest_metadata(oai, PREFIX)


def _child(resource: etree._Element, path: str) -> etree._Element:
    element = resource.find(path, D)
    assert element is not None, path
    return element


# --- the two test records ---------------------------------------------------------------


def test_both_records_are_disseminated(harvested):
    assert set(harvested) == {EXAMPLE_ID, RICH_ID}
    for resource in harvested.values():
        assert resource.tag == f"{{{DATACITE_NS}}}resource"
        assert_urls_are_uris(resource)


def test_the_payload_is_schema_validated_not_skipped(client, load):
    """A response whose DataCite payload breaks the kernel is refused by the validator."""
    load([example_record()])
    response = client.get("/oai", query_string={"verb": "ListRecords", "metadataPrefix": PREFIX})
    body = response.get_data()
    validate_oai_response(body)
    broken = body.replace(b'resourceTypeGeneral="JournalArticle"', b'resourceTypeGeneral="Blog"')
    assert broken != body
    with pytest.raises(AssertionError, match="resourceTypeGeneral"):
        validate_oai_response(broken)


def test_example_article(harvested):
    resource = harvested[EXAMPLE_ID]
    identifier = _child(resource, "d:identifier")
    assert (identifier.get("identifierType"), identifier.text) == (
        "URL",
        "https://ca-c.org/CAC/index.php/cac/article/view/587",
    )
    assert resource.find("d:alternateIdentifiers", D) is None
    creators = resource.findall("d:creators/d:creator", D)
    assert len(creators) == 1
    assert [(c.tag.split("}")[1], c.text, attrs(c)) for c in creators[0]] == [
        ("creatorName", "Mukimdzhanova, R.", {"nameType": "Personal"}),
        ("givenName", "R.", {}),
        ("familyName", "Mukimdzhanova", {}),
    ]
    title = _child(resource, "d:titles/d:title")
    assert title.get(XML_LANG) == "en"
    assert _child(resource, "d:publisher").text == "Central Asia and the Caucasus"
    assert _child(resource, "d:publicationYear").text == "2004"
    kind = _child(resource, "d:resourceType")
    assert (kind.get("resourceTypeGeneral"), kind.text) == ("JournalArticle", "journal article")
    assert [(d.get("dateType"), d.text) for d in resource.findall("d:dates/d:date", D)] == [
        ("Issued", "2004")
    ]
    assert _child(resource, "d:language").text == "en"
    assert resource.find("d:relatedIdentifiers", D) is None
    assert resource.find("d:formats", D) is None
    abstract = _child(resource, "d:descriptions/d:description")
    assert abstract.get("descriptionType") == "Abstract"
    assert abstract.get(XML_LANG) == "en"
    assert abstract.text.startswith("Relations with the PRC")


def test_example_article_rights(harvested):
    rights = harvested[EXAMPLE_ID].findall("d:rightsList/d:rights", D)
    assert [(r.text, attrs(r)) for r in rights] == [
        (
            "Creative Commons Attribution 4.0 International",
            {
                XML_LANG: "en",
                "rightsURI": "https://creativecommons.org/licenses/by/4.0/",
                "rightsIdentifier": "CC-BY-4.0",
                "rightsIdentifierScheme": "SPDX",
                "schemeURI": "https://spdx.org/licenses/",
            },
        ),
        (
            "open access",
            {XML_LANG: "en", "rightsURI": "http://purl.org/coar/access_right/c_abf2"},
        ),
        ("Copyright (c) 2004 Author", {}),
    ]


def test_example_article_journal(harvested):
    item = _child(harvested[EXAMPLE_ID], "d:relatedItems/d:relatedItem")
    assert attrs(item) == {"relatedItemType": "Journal", "relationType": "IsPublishedIn"}
    assert [(c.tag.split("}")[1], c.text) for c in item] == [
        ("titles", None),
        ("publicationYear", "2004"),
        ("volume", "5"),
        ("issue", "4"),
        ("firstPage", "61"),
        ("lastPage", "70"),
    ]
    assert item.findtext("d:titles/d:title", namespaces=D) == "Central Asia and the Caucasus"
    assert item.find("d:titles/d:title", D).get(XML_LANG) is None


def test_full_record_identifiers(harvested):
    resource = harvested[RICH_ID]
    identifier = _child(resource, "d:identifier")
    assert (identifier.get("identifierType"), identifier.text) == ("DOI", RICH_DOI)
    alternate = _child(resource, "d:alternateIdentifiers/d:alternateIdentifier")
    assert (alternate.get("alternateIdentifierType"), alternate.text) == (
        "URL",
        "https://ca-c.org/CAC/index.php/cac/article/view/9001",
    )
    related = resource.findall("d:relatedIdentifiers/d:relatedIdentifier", D)
    assert [(r.text, attrs(r)) for r in related] == [
        (
            "0317-8471",
            {
                "relatedIdentifierType": "ISSN",
                "relationType": "IsPublishedIn",
                "resourceTypeGeneral": "Journal",
            },
        ),
        (
            "1050-124X",
            {
                "relatedIdentifierType": "EISSN",
                "relationType": "IsPublishedIn",
                "resourceTypeGeneral": "Journal",
            },
        ),
    ]
    item_id = _child(resource, "d:relatedItems/d:relatedItem/d:relatedItemIdentifier")
    assert (item_id.text, attrs(item_id)) == ("0317-8471", {"relatedItemIdentifierType": "ISSN"})
    assert not any("doi.org" in url for url in urls_in(resource))


def test_full_record_creators(harvested):
    creators = harvested[RICH_ID].findall("d:creators/d:creator", D)
    seen = [[(c.tag.split("}")[1], c.text, attrs(c)) for c in creator] for creator in creators]
    orcid = {"nameIdentifierScheme": "ORCID", "schemeURI": "https://orcid.org"}
    assert seen == [
        [
            ("creatorName", "Иванова, Мария", {"nameType": "Personal"}),
            ("givenName", "Мария", {}),
            ("familyName", "Иванова", {}),
            ("nameIdentifier", "https://orcid.org/0000-0002-1825-0097", orcid),
            ("affiliation", "Институт водных проблем РАН", {}),
        ],
        [
            ("creatorName", "Smith, John Q.", {"nameType": "Personal"}),
            ("givenName", "John Q.", {}),
            ("familyName", "Smith", {}),
            ("nameIdentifier", "https://orcid.org/0000-0001-5109-3700", orcid),
            ("affiliation", "University of Example", {}),
        ],
        [
            ("creatorName", "Nurlanov", {"nameType": "Personal"}),
            ("familyName", "Nurlanov", {}),
        ],
    ]


def test_full_record_rights_and_embargo(harvested):
    resource = harvested[RICH_ID]
    rights = resource.findall("d:rightsList/d:rights", D)
    assert [(r.text, attrs(r)) for r in rights] == [
        (
            "Creative Commons Attribution-NonCommercial 4.0 International",
            {
                XML_LANG: "en",
                "rightsURI": "https://creativecommons.org/licenses/by-nc/4.0/",
                "rightsIdentifier": "CC-BY-NC-4.0",
                "rightsIdentifierScheme": "SPDX",
                "schemeURI": "https://spdx.org/licenses/",
            },
        ),
        (
            "embargoed access",
            {XML_LANG: "en", "rightsURI": "http://purl.org/coar/access_right/c_f1cf"},
        ),
        ("Copyright (c) 2021 Мария Иванова, John Q. Smith", {}),
    ]
    dates = [(d.get("dateType"), d.text) for d in resource.findall("d:dates/d:date", D)]
    assert dates == [("Issued", "2021-03-15"), ("Available", "2099-01-01")]
    assert _child(resource, "d:publicationYear").text == "2021"


def test_full_record_languages(harvested):
    resource = harvested[RICH_ID]
    assert _child(resource, "d:language").text == "ru"
    assert _child(resource, "d:titles/d:title").get(XML_LANG) == "ru"
    subjects = resource.findall("d:subjects/d:subject", D)
    assert [(s.text, s.get(XML_LANG)) for s in subjects] == [
        ("водные ресурсы", "ru"),
        ("Центральная Азия", "ru"),
        ("hydrology", None),  # not Russian: no xml:lang="ru"
    ]
    assert _child(resource, "d:descriptions/d:description").get(XML_LANG) == "ru"
    assert _child(resource, "d:publisher").get(XML_LANG) is None


def test_full_record_type_formats_and_journal(harvested):
    resource = harvested[RICH_ID]
    expected_type = "research article" if "type" in rich_record() else "journal article"
    kind = _child(resource, "d:resourceType")
    assert (kind.get("resourceTypeGeneral"), kind.text) == ("JournalArticle", expected_type)
    assert [f.text for f in resource.findall("d:formats/d:format", D)] == [
        "application/pdf",
        "text/html",
    ]
    assert _child(resource, "d:publisher").text == "CA&CC Press"
    item = _child(resource, "d:relatedItems/d:relatedItem")
    assert [(c.tag.split("}")[1], c.text) for c in item if len(c) == 0] == [
        ("relatedItemIdentifier", "0317-8471"),
        ("publicationYear", "2021"),
        ("volume", "12"),
        ("issue", "3"),
        ("firstPage", "101"),
        ("lastPage", "118"),
        ("publisher", "CA&CC Press"),
    ]


# --- other records --------------------------------------------------------------------------


def test_a_record_with_only_what_is_required(oai, load):
    """No authors, journal, abstract, files, licence, DOI: disseminated and schema-valid."""
    record = make_record(
        1, authors=[], language=None, rights={"access": "restricted"}, sets=["cac"]
    )
    load([record])
    root = oai(verb="GetRecord", identifier="oai:repo.example.org:article/1", metadataPrefix=PREFIX)
    resource = root.find(".//d:resource", D)
    assert _child(resource, "d:creators/d:creator/d:creatorName").text == ":unkn"
    assert _child(resource, "d:publisher").text == ":unav"
    assert [(r.text, attrs(r)) for r in resource.findall("d:rightsList/d:rights", D)] == [
        (
            "restricted access",
            {XML_LANG: "en", "rightsURI": "http://purl.org/coar/access_right/c_16ec"},
        )
    ]
    assert resource.find("d:relatedItems", D) is None
    assert resource.find("d:language", D) is None
    assert resource.find("d:titles/d:title", D).get(XML_LANG) is None


def test_an_ended_embargo_counts_as_open(oai, load):
    rights = {"access": "embargoed", "embargo_until": "2020-06-30", "license": None}
    load([make_record(2, rights=rights)])
    root = oai(verb="GetRecord", identifier="oai:repo.example.org:article/2", metadataPrefix=PREFIX)
    resource = root.find(".//d:resource", D)
    rights_uris = [r.get("rightsURI") for r in resource.findall("d:rightsList/d:rights", D)]
    assert rights_uris == ["http://purl.org/coar/access_right/c_abf2"]
    dates = [(d.get("dateType"), d.text) for d in resource.findall("d:dates/d:date", D)]
    assert dates == [("Issued", "2004"), ("Available", "2020-06-30")]


def test_language_tags_stay_bcp47(oai, load):
    load([make_record(4, language="pt-BR", title="Águas da Ásia Central")])
    root = oai(verb="GetRecord", identifier="oai:repo.example.org:article/4", metadataPrefix=PREFIX)
    resource = root.find(".//d:resource", D)
    assert _child(resource, "d:language").text == "pt-BR"
    assert _child(resource, "d:titles/d:title").get(XML_LANG) == "pt-BR"


OPTIONAL_FIELDS = [
    *("language", "abstract", "keywords", "journal", "volume", "issue", "pages", "doi"),
    *("files", "references", "type", "version", "authors"),
    *("rights.license", "rights.license_name", "rights.statement", "rights.holder"),
    *("journal.title", "journal.issn", "journal.eissn", "journal.publisher"),
]


def without(record: dict[str, Any], field: str) -> dict[str, Any]:
    """The rich record with one optional field left out (authors: none)."""
    record = record
    if "." in field:
        outer, inner = field.split(".")
        record[outer] = {k: v for k, v in record[outer].items() if k != inner}
    elif field == "authors":
        record["authors"] = []
    else:
        record.pop(field, None)
    return normalize_record(record)[0]


@pytest.mark.parametrize("field", OPTIONAL_FIELDS)
def test_any_optional_field_may_be_missing(field):
    validate_element(build(without(rich_record(), field)))


def test_data_papers_are_datacite_data_papers():
    record, _ = normalize_record(make_record(5))
    element = build({**record, "type": "data paper"})
    kind = element.find("d:resourceType", D)
    assert (kind.get("resourceTypeGeneral"), kind.text) == ("DataPaper", "data paper")


# --- a record the format cannot express ------------------------------------------------------


def test_build_declines_a_record_with_neither_doi_nor_url():
    record, _ = normalize_record(make_record(6))
    assert build({**record, "url": None, "doi": None}) is None
    assert build({**record, "url": None, "doi": "10.1234/x"}) is not None


@pytest.fixture
def app_losing_a_url(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """DataCite renders ``article/7`` as if it had no landing URL (import requires one)."""
    renderer = app.extensions["oaipress.renderer"]
    datacite = formats()[PREFIX]

    def without_url(record: dict[str, Any]) -> etree._Element | None:
        return build({**record, "url": None} if record["id"] == "article/7" else record)

    lossy = dataclasses.replace(datacite, build=without_url)
    monkeypatch.setattr(renderer, "formats", {**renderer.formats, PREFIX: lossy})
    return app


def test_a_record_datacite_cannot_express_is_not_disseminated(app_losing_a_url, oai, load):
    load([make_record(7), make_record(8)])
    identifier = "oai:repo.example.org:article/7"
    code, _ = oai.error(verb="GetRecord", identifier=identifier, metadataPrefix=PREFIX)
    assert code == "cannotDisseminateFormat"
    assert oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc") is not None
    assert list(harvest_metadata(oai, PREFIX)) == ["oai:repo.example.org:article/8"]
    assert len(harvest_metadata(oai, "oai_dc")) == 2


# --- small rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("61-70", ("61", "70")),
        ("101\u2013118", ("101", "118")),
        ("e1234", ("e1234", None)),
        (None, (None, None)),
    ],
)
def test_page_range(pages, expected):
    assert page_range(pages) == expected


@pytest.mark.parametrize(
    ("text", "tag", "expected"),
    [
        ("Водные ресурсы", "ru", True),
        ("hydrology", "ru", False),
        ("Water in Central Asia", "en", True),
        ("Водные ресурсы", "en", False),
        ("Águas", "pt-BR", True),
        ("水资源", "zh-Hans", True),
        ("2021", "en", False),
    ],
)
def test_written_in(text, tag, expected):
    assert written_in(text, tag) is expected


# --- DataCite's own JSON schema and XML writer (the `datacite` package, PyPI) ------------------
#
# No maintained PyPI package reads DataCite XML but commonmeta-py (some 400 MB of
# dependencies, and it takes every identifier for a DOI). So the test reads our XML into
# DataCite's JSON, has DataCite's schema check it, and DataCite's writer must give back
# the XML we wrote.


def _text_list(container: etree._Element | None) -> list[str]:
    return [] if container is None else [el.text for el in container]


def _to_datacite_json(resource: etree._Element) -> dict[str, Any]:
    """Our XML read into DataCite's JSON (REST API) shape, property by property."""

    def find(path: str) -> etree._Element | None:
        return resource.find(path, D)

    def lang(el: etree._Element) -> dict[str, str]:
        return {"lang": el.get(XML_LANG)} if el.get(XML_LANG) else {}

    identifier = find("d:identifier")
    data: dict[str, Any] = {"schemaVersion": "http://datacite.org/schema/kernel-4"}
    if identifier.get("identifierType") == "DOI":
        data["doi"] = identifier.text
    data["creators"] = [_creator_json(c) for c in resource.findall("d:creators/d:creator", D)]
    data["titles"] = [{"title": t.text, **lang(t)} for t in resource.findall("d:titles/d:title", D)]
    data["publisher"] = {"name": find("d:publisher").text}
    data["publicationYear"] = find("d:publicationYear").text
    kind = find("d:resourceType")
    data["types"] = {
        "resourceTypeGeneral": kind.get("resourceTypeGeneral"),
        "resourceType": kind.text,
    }
    data["subjects"] = [
        {"subject": s.text, **lang(s)} for s in resource.findall("d:subjects/d:subject", D)
    ]
    data["dates"] = [
        {"date": d.text, "dateType": d.get("dateType")}
        for d in resource.findall("d:dates/d:date", D)
    ]
    if find("d:language") is not None:
        data["language"] = find("d:language").text
    data["alternateIdentifiers"] = [
        {"alternateIdentifier": a.text, "alternateIdentifierType": a.get("alternateIdentifierType")}
        for a in resource.findall("d:alternateIdentifiers/d:alternateIdentifier", D)
    ]
    data["relatedIdentifiers"] = [
        {"relatedIdentifier": r.text, **dict(r.attrib)}
        for r in resource.findall("d:relatedIdentifiers/d:relatedIdentifier", D)
    ]
    data["formats"] = _text_list(find("d:formats"))
    data["rightsList"] = [
        {
            "rights": r.text,
            **{
                json_key: r.get(xml_key)
                for json_key, xml_key in (
                    ("rightsUri", "rightsURI"),
                    ("rightsIdentifier", "rightsIdentifier"),
                    ("rightsIdentifierScheme", "rightsIdentifierScheme"),
                    ("schemeUri", "schemeURI"),
                )
                if r.get(xml_key)
            },
            **lang(r),
        }
        for r in resource.findall("d:rightsList/d:rights", D)
    ]
    data["descriptions"] = [
        {"description": d.text, "descriptionType": d.get("descriptionType"), **lang(d)}
        for d in resource.findall("d:descriptions/d:description", D)
    ]
    data["relatedItems"] = [
        _related_item_json(i) for i in resource.findall("d:relatedItems/d:relatedItem", D)
    ]
    return {k: v for k, v in data.items() if v not in ([], None)}


def _creator_json(creator: etree._Element) -> dict[str, Any]:
    name = creator.find("d:creatorName", D)
    data: dict[str, Any] = {"name": name.text, **dict(name.attrib)}
    for key in ("givenName", "familyName"):
        if creator.find(f"d:{key}", D) is not None:
            data[key] = creator.findtext(f"d:{key}", namespaces=D)
    data["nameIdentifiers"] = [
        {
            "nameIdentifier": n.text,
            "nameIdentifierScheme": n.get("nameIdentifierScheme"),
            "schemeUri": n.get("schemeURI"),
        }
        for n in creator.findall("d:nameIdentifier", D)
    ]
    data["affiliation"] = [{"name": a.text} for a in creator.findall("d:affiliation", D)]
    return data


def _related_item_json(item: etree._Element) -> dict[str, Any]:
    data: dict[str, Any] = dict(item.attrib)
    identifier = item.find("d:relatedItemIdentifier", D)
    if identifier is not None:
        data["relatedItemIdentifier"] = {
            "relatedItemIdentifier": identifier.text,
            **dict(identifier.attrib),
        }
    data["titles"] = [{"title": t.text} for t in item.findall("d:titles/d:title", D)]
    for key in ("publicationYear", "volume", "issue", "firstPage", "lastPage", "publisher"):
        if item.find(f"d:{key}", D) is not None:
            data[key] = item.findtext(f"d:{key}", namespaces=D)
    return data


def _empty_titles(element: etree._Element) -> bool:
    """DataCite's writer always writes a relatedItem's titles, even with no title."""
    return etree.QName(element).localname == "titles" and len(element) == 0


def _canonical(element: etree._Element) -> Any:
    """Tag, attributes, text and children; top-level order ignored (the kernel's xs:all)."""

    def walk(el: etree._Element) -> tuple[Any, ...]:
        children = [walk(c) for c in el if not _empty_titles(c)]
        return (
            etree.QName(el).localname,
            dict(el.attrib),
            (el.text or "").strip(),
            tuple(children),
        )

    return sorted((walk(child) for child in element), key=repr)


@pytest.mark.parametrize("which", [0, 1], ids=["example", "full"])
def test_round_trip_through_datacites_own_schema_and_writer(which):
    record, _ = normalize_record(both_records()[which])
    ours = build(record)
    data = _to_datacite_json(ours)
    errors = [e.message for e in schema45.validator.iter_errors(data)]
    assert errors == []
    theirs = etree.fromstring(schema45.tostring(data).encode("utf-8"))
    if "doi" not in data:  # DataCite JSON has no identifier but the DOI
        ours.remove(ours.find("d:identifier", D))
    assert _canonical(theirs) == _canonical(ours)


# --- end to end: Sickle against a real `oaipress serve` --------------------------------------


@pytest.fixture(scope="module", params=["sqlite"] + (["postgresql"] if PG_URL else []))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("datacite")
    url = f"sqlite:///{home / 'store.sqlite'}" if request.param == "sqlite" else PG_URL
    with served_corpus(home, url) as base_url:
        yield base_url


def test_sickle_harvests_datacite_across_pages(server):
    from sickle import Sickle

    sickle = Sickle(server, max_retries=2, default_retry_after=1, timeout=30)
    records = list(sickle.ListRecords(metadataPrefix=PREFIX, ignore_deleted=True))
    identifiers = [r.header.identifier for r in records]
    assert len(identifiers) == len(set(identifiers)) == 22 > 2 * RECORDS_PAGE
    by_id = {r.header.identifier: r for r in records}
    rich = by_id["oai:harvest.example.org:article/9001"]
    assert rich.metadata["identifier"] == [RICH_DOI]
    assert rich.metadata["rights"][:2] == [
        "Creative Commons Attribution-NonCommercial 4.0 International",
        "embargoed access",
    ]
    example = by_id["oai:harvest.example.org:article/587"]
    assert example.metadata["identifier"] == ["https://ca-c.org/CAC/index.php/cac/article/view/587"]
    resource = example.xml.find(".//d:resource", D)
    assert resource is not None
