"""The `mods` format: the example article and the full record harvested schema-valid
(MODS 3.8), their accessConditions, names, identifiers, host item and languages element
by element, a round trip through pymods (a maintained MODS reader on PyPI), and an
end-to-end harvest by Sickle from a real `oaipress serve`.
"""

from __future__ import annotations

import io
import json
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sickle import Sickle

from oai.formats import XML_LANG, formats
from oai.formats.mods import MODS_NS, SCHEMA, XLINK_HREF, build
from oai.formats.vocabulary import resource_type, version
from records.validate import format_datestamp, normalize_record
from tests.conftest import NS, OAIClient, example_record, make_record
from tests.formats_fixtures import harvest_payloads, offered_formats, rich_record
from tests.servers import RECORDS_PAGE, REPOSITORY, environment, run, serving
from tests.xmlvalidate import schema_url_for, validate_element, validate_oai_response

with warnings.catch_warnings():
    # pymods 2.0.14 has regular expressions in plain strings ('\w'): a SyntaxWarning
    # when its bytecode is compiled here, which the suite's "error" filter would raise.
    warnings.simplefilter("ignore")
    from pymods import MODSReader

M = {"mods": MODS_NS}
EXAMPLE_ID = "oai:repo.example.org:article/587"
RICH_ID = "oai:repo.example.org:article/9001"
RICH_DOI_URL = "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
CC_BY_NC = "https://creativecommons.org/licenses/by-nc/4.0/"


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    return normalize_record(record)[0]


def find(element: etree._Element, path: str) -> list[etree._Element]:
    return element.findall(path, M)


def attrs(element: etree._Element) -> dict[str, str]:
    return dict(element.attrib)


@pytest.fixture
def mods(oai: OAIClient, load) -> dict[str, etree._Element]:
    """Both test records, harvested with ListRecords (every response schema-validated)."""
    return harvest_payloads(oai, load, "mods", f"{{{MODS_NS}}}mods")


# --- the format and its validation ------------------------------------------------------


def test_mods_is_offered_with_its_namespace_and_the_3_8_schema(oai: OAIClient):
    offered = offered_formats(oai)
    assert offered["mods"] == (
        "http://www.loc.gov/mods/v3",
        "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd",
    )
    assert formats()["mods"].schema == SCHEMA


def test_the_payload_is_validated_against_mods_3_8_not_skipped(client, mods):
    """The response validator picks mods-3-8.xsd from the hint and checks strictly."""
    payload = mods[EXAMPLE_ID]
    assert payload.get("version") == "3.8"
    assert schema_url_for(MODS_NS, "mods", payload) == SCHEMA
    body = client.get(
        "/oai",
        query_string={"verb": "GetRecord", "metadataPrefix": "mods", "identifier": EXAMPLE_ID},
    ).get_data()
    validate_oai_response(body)
    broken = body.replace(
        b'type="use and reproduction"', b'type="use and reproduction" bogus="1"', 1
    )
    assert broken != body
    with pytest.raises(AssertionError, match="mods-3-8.xsd"):
        validate_oai_response(broken)


# --- rights, element by element ---------------------------------------------------------


def _conditions(record: etree._Element) -> list[tuple[dict[str, str], str]]:
    return [(attrs(c), c.text) for c in find(record, "mods:accessCondition")]


def test_example_article_access_conditions(mods):
    assert _conditions(mods[EXAMPLE_ID]) == [
        (
            {"type": "use and reproduction", "displayLabel": "License", XLINK_HREF: CC_BY},
            "Creative Commons Attribution 4.0 International",
        ),
        (
            {"type": "use and reproduction", "displayLabel": "Copyright"},
            "Copyright (c) 2004 Author",
        ),
        (
            {
                "type": "restriction on access",
                "authority": "coar",
                "authorityURI": "http://purl.org/coar/access_right/",
                "valueURI": "http://purl.org/coar/access_right/c_abf2",
            },
            "open access",
        ),
    ]


def test_full_record_access_conditions_with_its_embargo(mods):
    assert _conditions(mods[RICH_ID]) == [
        (
            {"type": "use and reproduction", "displayLabel": "License", XLINK_HREF: CC_BY_NC},
            "Creative Commons Attribution-NonCommercial 4.0 International",
        ),
        (
            {"type": "use and reproduction", "displayLabel": "Copyright"},
            "Copyright (c) 2021 Мария Иванова, John Q. Smith",
        ),
        (
            {
                "type": "restriction on access",
                "authority": "coar",
                "authorityURI": "http://purl.org/coar/access_right/",
                "valueURI": "http://purl.org/coar/access_right/c_f1cf",
            },
            "embargoed access until 2099-01-01",
        ),
    ]
    copyright_date = find(mods[RICH_ID], "mods:originInfo/mods:copyrightDate")
    assert [(attrs(d), d.text) for d in copyright_date] == [({"encoding": "w3cdtf"}, "2021")]


@pytest.mark.parametrize(
    ("rights", "uri", "text"),
    [
        ({"access": "restricted"}, "c_16ec", "restricted access"),
        ({"access": "closed"}, "c_14cb", "metadata only access"),
        ({"access": "embargoed", "embargo_until": "2000-06-30"}, "c_abf2", "open access"),
    ],
    ids=["restricted", "closed", "ended-embargo"],
)
def test_every_access_value_maps_to_a_coar_access_condition(rights, uri, text):
    built = build(canonical(make_record(1, rights=rights)))
    validate_element(built)
    (access,) = find(built, "mods:accessCondition[@type='restriction on access']")
    assert access.get("valueURI") == f"http://purl.org/coar/access_right/{uri}"
    assert access.text == text
    assert find(built, "mods:accessCondition[@type='use and reproduction']") == []


def test_the_statement_alone_and_a_named_licence_without_uri():
    record = canonical(
        make_record(
            1, rights={"access": "open", "license_name": "All rights reserved", "holder": "X"}
        )
    )
    built = build(record)
    validate_element(built)
    assert _conditions(built)[:2] == [
        ({"type": "use and reproduction", "displayLabel": "License"}, "All rights reserved"),
        ({"type": "use and reproduction", "displayLabel": "Copyright"}, "Copyright (c) X"),
    ]


# --- languages, names, identifiers, host -------------------------------------------------


def test_xml_lang_only_on_text_in_the_record_language(mods):
    rich = mods[RICH_ID]
    assert find(rich, "mods:titleInfo")[0].get(XML_LANG) == "ru"
    assert find(rich, "mods:titleInfo/mods:title")[0].text == rich_record()["title"]
    assert find(rich, "mods:abstract")[0].get(XML_LANG) == "ru"
    assert [s.get(XML_LANG) for s in find(rich, "mods:subject")] == ["ru", "ru", "ru"]
    assert [t.text for t in find(rich, "mods:subject/mods:topic")] == rich_record()["keywords"]
    for record in mods.values():
        untagged = find(record, "mods:accessCondition") + find(record, "mods:relatedItem//*")
        assert all(e.get(XML_LANG) is None for e in untagged)
    assert find(mods[EXAMPLE_ID], "mods:titleInfo")[0].get(XML_LANG) == "en"


def test_language_terms_are_iso639_2b(mods):
    for identifier, code in ((EXAMPLE_ID, "eng"), (RICH_ID, "rus")):
        (term,) = find(mods[identifier], "mods:language/mods:languageTerm")
        assert (attrs(term), term.text) == ({"type": "code", "authority": "iso639-2b"}, code)


def _name(name: etree._Element) -> dict[str, Any]:
    return {
        "attrs": attrs(name),
        "parts": [(p.get("type"), p.text) for p in find(name, "mods:namePart")],
        "ids": [(i.get("type"), i.text) for i in find(name, "mods:nameIdentifier")],
        "affiliations": [a.text for a in find(name, "mods:affiliation")],
        "roles": [(attrs(r), r.text) for r in find(name, "mods:role/mods:roleTerm")],
    }


AUTHOR_ROLE = (
    {
        "type": "code",
        "authority": "marcrelator",
        "authorityURI": "http://id.loc.gov/vocabulary/relators",
        "valueURI": "http://id.loc.gov/vocabulary/relators/aut",
    },
    "aut",
)


def test_names_with_orcids_and_affiliations(mods):
    assert [_name(n) for n in find(mods[EXAMPLE_ID], "mods:name")] == [
        {
            "attrs": {"type": "personal", "usage": "primary"},
            "parts": [("family", "Mukimdzhanova"), ("given", "R.")],
            "ids": [],
            "affiliations": [],
            "roles": [AUTHOR_ROLE],
        }
    ]
    assert [_name(n) for n in find(mods[RICH_ID], "mods:name")] == [
        {
            "attrs": {"type": "personal", "usage": "primary"},
            "parts": [("family", "Иванова"), ("given", "Мария")],
            "ids": [("orcid", "https://orcid.org/0000-0002-1825-0097")],
            "affiliations": ["Институт водных проблем РАН"],
            "roles": [AUTHOR_ROLE],
        },
        {
            "attrs": {"type": "personal"},
            "parts": [("family", "Smith"), ("given", "John Q.")],
            "ids": [("orcid", "https://orcid.org/0000-0001-5109-3700")],
            "affiliations": ["University of Example"],
            "roles": [AUTHOR_ROLE],
        },
        {
            "attrs": {"type": "personal"},
            "parts": [("family", "Nurlanov")],
            "ids": [],
            "affiliations": [],
            "roles": [AUTHOR_ROLE],
        },
    ]


def test_type_genre_version_and_date(mods):
    for identifier, source in ((EXAMPLE_ID, example_record()), (RICH_ID, rich_record())):
        record = mods[identifier]
        kind, ver = resource_type(canonical(source)), version(canonical(source))
        assert [t.text for t in find(record, "mods:typeOfResource")] == ["text"]
        (genre,) = find(record, "mods:genre")
        assert (attrs(genre), genre.text) == (
            {
                "authority": "coar",
                "authorityURI": "http://purl.org/coar/resource_type/",
                "valueURI": kind.coar,
                "usage": "primary",
            },
            kind.label,
        )
        (note,) = find(record, "mods:note[@type='version identification']")
        assert (note.get(XLINK_HREF), note.text) == (ver.coar, ver.coar_label)
        (issued,) = find(record, "mods:originInfo/mods:dateIssued")
        assert (attrs(issued), issued.text) == (
            {"encoding": "w3cdtf", "keyDate": "yes"},
            source["published"],
        )


def test_identifiers_and_locations_landing_page_first(mods):
    rich = mods[RICH_ID]
    assert [(i.get("type"), i.text) for i in find(rich, "mods:identifier")] == [
        ("doi", rich_record()["doi"]),
        ("uri", rich_record()["url"]),
    ]
    assert [(attrs(u), u.text) for u in find(rich, "mods:location/mods:url")] == [
        ({"usage": "primary", "access": "object in context"}, rich_record()["url"]),
        ({"access": "object in context", "displayLabel": "DOI"}, RICH_DOI_URL),
        ({"access": "raw object", "displayLabel": "PDF"}, rich_record()["files"][0]["url"]),
        ({"access": "raw object", "displayLabel": "HTML"}, rich_record()["files"][1]["url"]),
    ]
    assert [m.text for m in find(rich, "mods:physicalDescription/mods:internetMediaType")] == [
        "application/pdf",
        "text/html",
    ]
    example = mods[EXAMPLE_ID]
    assert [(i.get("type"), i.text) for i in find(example, "mods:identifier")] == [
        ("uri", example_record()["url"])
    ]
    assert find(example, "mods:physicalDescription") == []


def _host(record: etree._Element) -> dict[str, Any]:
    (host,) = find(record, "mods:relatedItem[@type='host']")
    part = find(host, "mods:part")[0]
    return {
        "title": [t.text for t in find(host, "mods:titleInfo/mods:title")],
        "publisher": [p.text for p in find(host, "mods:originInfo/mods:publisher")],
        "issuance": [p.text for p in find(host, "mods:originInfo/mods:issuance")],
        "issn": [(attrs(i), i.text) for i in find(host, "mods:identifier")],
        "details": [
            (d.get("type"), d.findtext("mods:number", namespaces=M))
            for d in find(part, "mods:detail")
        ],
        "extent": [
            (e.get("unit"), [(c.tag.split("}")[1], c.text) for c in e])
            for e in find(part, "mods:extent")
        ],
        "date": [(attrs(d), d.text) for d in find(part, "mods:date")],
    }


def test_host_item(mods):
    assert _host(mods[EXAMPLE_ID]) == {
        "title": ["Central Asia and the Caucasus"],
        "publisher": [],
        "issuance": ["serial"],
        "issn": [],
        "details": [("volume", "5"), ("issue", "4")],
        "extent": [("pages", [("start", "61"), ("end", "70")])],
        "date": [({"encoding": "w3cdtf"}, "2004")],
    }
    assert _host(mods[RICH_ID]) == {
        "title": ["Central Asia and the Caucasus"],
        "publisher": ["CA&CC Press"],
        "issuance": ["serial"],
        "issn": [
            ({"type": "issn", "displayLabel": "print"}, "0317-8471"),
            ({"type": "issn", "displayLabel": "online"}, "1050-124X"),
        ],
        "details": [("volume", "12"), ("issue", "3")],
        "extent": [("pages", [("start", "101"), ("end", "118")])],
        "date": [({"encoding": "w3cdtf"}, "2021-03-15")],
    }


@pytest.mark.parametrize(
    ("pages", "extent"),
    [
        ("e1234", [("start", "e1234")]),
        ("61–70", [("start", "61"), ("end", "70")]),
        ("61-70, 72", [("list", "61-70, 72")]),
    ],
)
def test_pages_that_are_not_a_plain_range(pages, extent):
    built = build(canonical(make_record(1, pages=pages)))
    validate_element(built)
    assert _host(built)["extent"] == [("pages", extent)]


def test_references_are_related_items_that_the_article_cites(mods):
    for identifier, source in ((EXAMPLE_ID, example_record()), (RICH_ID, rich_record())):
        cited = find(mods[identifier], "mods:relatedItem[@type='references']")
        assert [[(n.get("type"), n.text) for n in item] for item in cited] == [
            [("citation/reference", ref)] for ref in source["references"]
        ]
    assert len(find(mods[EXAMPLE_ID], "mods:relatedItem[@type='references']")) == 16


def test_a_bare_record_is_still_valid_mods():
    bare = canonical(
        {
            "id": "bare/1",
            "title": "Bare",
            "authors": [],
            "published": "1999",
            "url": "https://journal.example.org/bare/1",
            "rights": {"access": "closed"},
        }
    )
    built = build(bare)
    validate_element(built)
    for path in ("mods:name", "mods:language", "mods:abstract", "mods:subject", "mods:relatedItem"):
        assert find(built, path) == [], path
    assert find(built, "mods:titleInfo")[0].get(XML_LANG) is None
    assert [c.get("type") for c in find(built, "mods:accessCondition")] == ["restriction on access"]
    assert [u.text for u in find(built, "mods:location/mods:url")] == [bare["url"]]


def test_a_language_without_a_639_2_code_is_given_as_its_tag():
    built = build(canonical(make_record(1, language="xx-Latn")))
    validate_element(built)
    (term,) = find(built, "mods:language/mods:languageTerm")
    assert (term.get("authority"), term.text) == ("rfc5646", "xx-Latn")


OPTIONAL = [
    "language",
    "authors",
    "abstract",
    "keywords",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "files",
    "references",
    "rights.license",
    "rights.license_name",
    "rights.statement",
    "rights.holder",
    "rights.year",
]


@pytest.mark.parametrize("missing", OPTIONAL)
def test_build_never_fails_without_an_optional_field(missing):
    record = rich_record()
    owner, _, key = missing.rpartition(".")
    target = record[owner] if owner else record
    target[key] = [] if key in ("authors", "keywords", "files", "references") else None
    built = build(normalize_record(record)[0])
    validate_element(built)


# --- round trip through pymods -----------------------------------------------------------


def test_pymods_reads_the_harvested_records(mods):
    def read(identifier: str):
        return next(MODSReader(io.BytesIO(etree.tostring(mods[identifier]))))

    rich = read(RICH_ID)
    assert rich.titles == [rich_record()["title"]]
    assert [(n.text, n.type, n.role.code, n.role.authority) for n in rich.names] == [
        ("Иванова, Мария", "personal", "aut", "marcrelator"),
        ("Smith, John Q.", "personal", "aut", "marcrelator"),
        ("Nurlanov, ", "personal", "aut", "marcrelator"),  # pymods: "family, given"
    ]
    assert [(r.type, r.uri, r.text) for r in rich.rights] == [
        (
            "use and reproduction",
            CC_BY_NC,
            "Creative Commons Attribution-NonCommercial 4.0 International",
        ),
        ("use and reproduction", None, "Copyright (c) 2021 Мария Иванова, John Q. Smith"),
        ("restriction on access", None, "embargoed access until 2099-01-01"),
    ]
    assert [(g.text, g.uri, g.authority) for g in rich.genre] == [
        (
            resource_type(canonical(rich_record())).label,
            resource_type(canonical(rich_record())).coar,
            "coar",
        )
    ]
    assert [(lang.code, lang.authority) for lang in rich.language] == [("rus", "iso639-2b")]
    assert ("doi", rich_record()["doi"]) in [(i.type, i.text) for i in rich.identifiers]
    assert [(i.type, i.text) for i in rich.identifiers if i.type == "issn"] == [
        ("issn", "0317-8471"),
        ("issn", "1050-124X"),
    ]
    assert [a.text for a in rich.abstract] == [rich_record()["abstract"]]
    assert [s.text for s in rich.subjects] == rich_record()["keywords"]
    assert [d.text for d in rich.dates] == ["2021-03-15"]  # pymods reads dateIssued
    example = read(EXAMPLE_ID)
    assert [(r.type, r.uri) for r in example.rights][0] == ("use and reproduction", CC_BY)
    assert [n.text for n in example.names] == ["Mukimdzhanova, R."]


# --- end to end: Sickle against a real server ---------------------------------------------


def _corpus() -> list[dict[str, Any]]:
    """The two test records and 13 more: two pages and a bit at 7 records a page."""
    start = datetime(2021, 1, 1, 8, 0, 0)
    lines = [r for r in (example_record(), rich_record())]
    accesses = ["open", "restricted", "closed"]
    lines += [make_record(i, rights={"access": accesses[i % 3]}) for i in range(13)]
    for i, line in enumerate(lines):
        line["datestamp"] = format_datestamp(start + timedelta(hours=i))
    return lines


def test_sickle_harvests_mods_from_a_running_server_across_pages(database_url: str, tmp_path: Path):
    env = environment(database_url)
    corpus = _corpus()
    data = tmp_path / "corpus.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, tmp_path)
    with serving(env, tmp_path, "serve") as base_url:
        sickle = Sickle(base_url, max_retries=2, default_retry_after=1, timeout=30)
        first = sickle.harvest(verb="ListRecords", metadataPrefix="mods")
        token = first.xml.find(f".//{{{NS['oai']}}}resumptionToken")
        assert token is not None and token.get("completeListSize") == str(len(corpus))
        validate_oai_response(first.raw.encode("utf-8"))
        seen = {}
        for item in sickle.ListRecords(metadataPrefix="mods"):
            payload = item.xml.find(f".//{{{MODS_NS}}}mods")
            record = next(MODSReader(io.BytesIO(etree.tostring(payload))))
            assert item.header.identifier not in seen, "harvested twice"
            seen[item.header.identifier] = (record.titles[0], record.rights[-1].text)
    assert len(seen) == len(corpus) > 2 * RECORDS_PAGE
    access_text = {
        "open": "open access",
        "restricted": "restricted access",
        "closed": "metadata only access",
        "embargoed": "embargoed access until 2099-01-01",
    }
    assert seen == {
        f"oai:{REPOSITORY}:{r['id']}": (r["title"], access_text[r["rights"]["access"]])
        for r in corpus
    }
