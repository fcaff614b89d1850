"""The `marcxml` format: the example article and the full record harvested schema-valid,
their rights, authors, identifiers, host item and languages field by field, a pymarc
round trip, and an end-to-end harvest by Sickle from a real `oaipress serve`.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pymarc
import pytest
from lxml import etree
from sickle import Sickle

from oai.formats import formats
from oai.formats.marcxml import LEADER, MARC_NS, SCHEMA, build, nonfiling_characters
from oai.formats.vocabulary import resource_type, version
from records.validate import format_datestamp, normalize_record
from tests.conftest import NS, OAIClient, example_record, make_record
from tests.formats_fixtures import harvest_payloads, offered_formats, rich_record
from tests.servers import RECORDS_PAGE, REPOSITORY, environment, run, serving
from tests.xmlvalidate import schema_url_for, validate_element, validate_oai_response

M = {"marc": MARC_NS}
EXAMPLE_ID = "oai:repo.example.org:article/587"
RICH_ID = "oai:repo.example.org:article/9001"
RICH_DOI_URL = "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    return normalize_record(record)[0]


def fields(record: etree._Element, tag: str) -> list[etree._Element]:
    return record.findall(f"marc:datafield[@tag='{tag}']", M)


def field(record: etree._Element, tag: str) -> etree._Element:
    found = fields(record, tag)
    assert len(found) == 1, f"{tag}: {len(found)} fields"
    return found[0]


def subfields(datafield: etree._Element) -> list[tuple[str, str]]:
    return [(sf.get("code"), sf.text) for sf in datafield]


def indicators(datafield: etree._Element) -> str:
    return datafield.get("ind1") + datafield.get("ind2")


def control(record: etree._Element, tag: str) -> str:
    return record.findtext(f"marc:controlfield[@tag='{tag}']", namespaces=M)


@pytest.fixture
def marc(oai: OAIClient, load) -> dict[str, etree._Element]:
    """Both test records, harvested with ListRecords (every response schema-validated)."""
    return harvest_payloads(oai, load, "marcxml", f"{{{MARC_NS}}}record")


# --- the format and its validation ------------------------------------------------------


def test_marcxml_is_offered_with_its_namespace_and_schema(oai: OAIClient):
    offered = offered_formats(oai)
    assert offered["marcxml"] == (
        "http://www.loc.gov/MARC21/slim",
        "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
    )
    assert formats()["marcxml"].schema == SCHEMA


def test_the_payload_is_validated_against_marc21slim_not_skipped(client, load):
    """The response validator checks MARC strictly: OJS's '#' indicators fail it."""
    assert schema_url_for(MARC_NS) == SCHEMA
    load([example_record()])
    body = client.get(
        "/oai",
        query_string={"verb": "GetRecord", "metadataPrefix": "marcxml", "identifier": EXAMPLE_ID},
    ).get_data()
    validate_oai_response(body)
    broken = body.replace(b'tag="245" ind1="1"', b'tag="245" ind1="#"', 1)
    assert broken != body
    with pytest.raises(AssertionError, match="MARC21slim.xsd"):
        validate_oai_response(broken)


def test_indicators_are_never_hash_and_tags_come_in_order(marc):
    for record in marc.values():
        tags = [f.get("tag") for f in record.iterfind("marc:datafield", M)]
        assert tags == sorted(tags)
        for datafield in record.iterfind("marc:datafield", M):
            assert datafield.get("ind1") in " 0123456789", datafield.get("tag")
            assert datafield.get("ind2") in " 0123456789", datafield.get("tag")
            assert all(sf.text and sf.text == sf.text.strip() for sf in datafield)
        assert record.get("type") == "Bibliographic"


# --- leader and fixed fields ------------------------------------------------------------


def test_leader_says_language_material_serial_component_part_unicode(marc):
    for record in marc.values():
        leader = record.findtext("marc:leader", namespaces=M)
        assert leader == LEADER == "00000nab a22000003  4500"
        assert (leader[6], leader[7], leader[9]) == ("a", "b", "a")


def test_008_is_forty_characters_with_dates_and_language(marc):
    example, rich = control(marc[EXAMPLE_ID], "008"), control(marc[RICH_ID], "008")
    assert example == "040101s2004    xx |||||||||||||||||eng d"
    assert rich == "210315s2021    xx |||||||||||||||||rus d"
    for value in (example, rich):
        assert len(value) == 40
    assert control(marc[EXAMPLE_ID], "001") == "article/587"


def test_language_codes_are_marc_codes(marc):
    assert subfields(field(marc[EXAMPLE_ID], "041")) == [("a", "eng")]
    assert subfields(field(marc[RICH_ID], "041")) == [("a", "rus")]


# --- rights, element by element ---------------------------------------------------------


def test_example_article_rights(marc):
    record = marc[EXAMPLE_ID]
    access = field(record, "506")
    assert indicators(access) == "0 "
    assert subfields(access) == [
        ("a", "Open access"),
        ("f", "Unrestricted online access"),
        ("u", "http://purl.org/coar/access_right/c_abf2"),
        ("2", "star"),
    ]
    licence = field(record, "540")
    assert indicators(licence) == "  "
    assert subfields(licence) == [
        ("a", "Creative Commons Attribution 4.0 International"),
        ("f", "CC BY 4.0"),
        ("2", "cc"),
        ("u", "https://creativecommons.org/licenses/by/4.0/"),
    ]
    copyright_ = field(record, "542")
    assert indicators(copyright_) == "1 "
    # no $d: the record has no structured holder, and none is made up from the statement
    assert subfields(copyright_) == [
        ("f", "Copyright (c) 2004 Author"),
        ("g", "2004"),
        ("l", "Copyrighted"),
    ]


def test_full_record_rights_with_its_embargo(marc):
    record = marc[RICH_ID]
    access = field(record, "506")
    assert indicators(access) == "1 "
    assert subfields(access) == [
        ("a", "Embargoed access until 2099-01-01"),
        ("g", "20990101"),
        ("f", "No online access"),
        ("u", "http://purl.org/coar/access_right/c_f1cf"),
        ("2", "star"),
    ]
    assert subfields(field(record, "540")) == [
        ("a", "Creative Commons Attribution-NonCommercial 4.0 International"),
        ("f", "CC BY-NC 4.0"),
        ("2", "cc"),
        ("u", "https://creativecommons.org/licenses/by-nc/4.0/"),
    ]
    assert subfields(field(record, "542")) == [
        ("d", "Мария Иванова, John Q. Smith"),
        ("f", "Copyright (c) 2021 Мария Иванова, John Q. Smith"),
        ("g", "2021"),
        ("l", "Copyrighted"),
    ]
    files = [
        f for f in fields(record, "856") if "download" in f.findtext("marc:subfield", namespaces=M)
    ]
    assert [dict(subfields(f))["7"] for f in files] == ["1", "1"]  # not open yet


def _access(rights: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    record = canonical(make_record(1, rights=rights, files=[{"url": "https://x.example/1.pdf"}]))
    built = build(record)
    validate_element(built)
    link = [f for f in fields(built, "856") if dict(subfields(f))["u"].endswith(".pdf")][0]
    return indicators(field(built, "506")) + dict(subfields(link))["7"], subfields(
        field(built, "506")
    )


@pytest.mark.parametrize(
    ("rights", "flags", "text", "term"),
    [
        ({"access": "open"}, "0 0", "Open access", "Unrestricted online access"),
        ({"access": "restricted"}, "1 1", "Restricted access", "Online access with authorization"),
        ({"access": "closed"}, "1 1", "Metadata only access", "No online access"),
        (
            {"access": "embargoed", "embargo_until": "2000-06-30"},
            "0 0",
            "Open access",
            "Unrestricted online access",
        ),
    ],
    ids=["open", "restricted", "closed", "ended-embargo"],
)
def test_every_access_value_maps_to_506_and_856(rights, flags, text, term):
    got_flags, subs = _access(rights)
    assert got_flags == flags
    assert ("a", text) in subs and ("f", term) in subs and ("2", "star") in subs
    assert not any(code == "g" for code, _ in subs)


def test_a_licence_that_is_not_creative_commons_keeps_its_name_and_uri():
    record = canonical(
        make_record(
            1,
            rights={
                "access": "open",
                "license": "https://example.org/licence",
                "license_name": "Example Licence",
            },
        )
    )
    built = build(record)
    assert subfields(field(built, "540")) == [
        ("a", "Example Licence"),
        ("u", "https://example.org/licence"),
    ]


# --- authors, title, identifiers, host ------------------------------------------------


def test_authors_with_orcids_and_affiliations(marc):
    assert indicators(field(marc[EXAMPLE_ID], "100")) == "1 "
    assert subfields(field(marc[EXAMPLE_ID], "100")) == [("a", "Mukimdzhanova, R."), ("4", "aut")]
    assert fields(marc[EXAMPLE_ID], "700") == []
    rich = marc[RICH_ID]
    assert subfields(field(rich, "100")) == [
        ("a", "Иванова, Мария"),
        ("u", "Институт водных проблем РАН"),
        ("4", "aut"),
        ("1", "https://orcid.org/0000-0002-1825-0097"),
    ]
    assert [subfields(f) for f in fields(rich, "700")] == [
        [
            ("a", "Smith, John Q."),
            ("u", "University of Example"),
            ("4", "aut"),
            ("1", "https://orcid.org/0000-0001-5109-3700"),
        ],
        [("a", "Nurlanov"), ("4", "aut")],
    ]


def test_title_version_genre_abstract_keywords_references(marc):
    example, rich = marc[EXAMPLE_ID], marc[RICH_ID]
    assert indicators(field(example, "245")) == "10"
    assert subfields(field(example, "245")) == [("a", example_record()["title"])]
    assert subfields(field(rich, "245")) == [("a", rich_record()["title"])]
    for record, source in ((example, example_record()), (rich, rich_record())):
        kind, ver = resource_type(canonical(source)), version(canonical(source))
        assert subfields(field(record, "655")) == [
            ("a", kind.label),
            ("2", "coar"),
            ("0", kind.coar),
        ]
        assert indicators(field(record, "655")) == " 7"
        assert subfields(field(record, "251")) == [
            ("a", ver.coar_label),
            ("2", "coar"),
            ("0", ver.coar),
        ]
        assert [subfields(f) for f in fields(record, "504")] == [
            [("a", " ".join(ref.split()))] for ref in source["references"]
        ]
    assert indicators(field(rich, "520")) == "3 "
    assert dict(subfields(field(rich, "520")))["a"] == rich_record()["abstract"]
    assert [dict(subfields(f))["a"] for f in fields(rich, "653")] == rich_record()["keywords"]
    assert fields(example, "653") == []
    assert subfields(field(example, "264")) == [("c", "2004")]


def test_doi_and_links_landing_page_first(marc):
    rich = marc[RICH_ID]
    assert indicators(field(rich, "024")) == "7 "
    assert subfields(field(rich, "024")) == [("a", rich_record()["doi"]), ("2", "doi")]
    links = [subfields(f) for f in fields(rich, "856")]
    assert all(indicators(f) == "40" for f in fields(rich, "856"))
    assert links == [
        [("u", rich_record()["url"])],
        [("u", RICH_DOI_URL)],
        [
            ("u", rich_record()["files"][0]["url"]),
            ("q", "application/pdf"),
            ("y", "PDF"),
            ("7", "1"),
        ],
        [("u", rich_record()["files"][1]["url"]), ("q", "text/html"), ("y", "HTML"), ("7", "1")],
    ]
    assert fields(marc[EXAMPLE_ID], "024") == []
    assert [subfields(f) for f in fields(marc[EXAMPLE_ID], "856")] == [
        [("u", example_record()["url"])]
    ]


def test_host_item_in_773_never_022(marc):
    example, rich = marc[EXAMPLE_ID], marc[RICH_ID]
    assert fields(example, "022") == fields(rich, "022") == []
    assert indicators(field(example, "773")) == "0 "
    assert subfields(field(example, "773")) == [
        ("7", "nnas"),
        ("t", "Central Asia and the Caucasus"),
        ("g", "Vol. 5, no. 4 (2004), p. 61-70"),
        ("q", "5:4<61"),
    ]
    shown, online = fields(rich, "773")
    common = [
        ("7", "nnas"),
        ("t", "Central Asia and the Caucasus"),
        ("d", "CA&CC Press"),
        ("g", "Vol. 12, no. 3 (2021), p. 101-118"),
        ("q", "12:3<101"),
    ]
    assert (indicators(shown), subfields(shown)) == ("0 ", [*common, ("x", "0317-8471")])
    assert (indicators(online), subfields(online)) == ("1 ", [*common, ("x", "1050-124X")])


@pytest.mark.parametrize(
    ("title", "language", "skip"),
    [
        ("The water of Central Asia", "en", 4),
        ("A study", "en-GB", 2),
        ("An essay", "en", 3),
        ("“The quoted”", "en", 5),
        ("L'eau en Asie centrale", "fr", 2),
        ("L’eau", "fr", 2),
        ("Die Wasserfrage", "de", 4),
        ("The", "en", 0),
        ("Водные ресурсы", "ru", 0),
        ("The water", None, 0),
        ("Theory of water", "en", 0),
    ],
)
def test_245_second_indicator_skips_an_initial_article(title, language, skip):
    assert nonfiling_characters(title, language) == skip


# --- a record with nothing optional ----------------------------------------------------


def test_a_bare_record_is_still_a_valid_marc_record():
    bare = canonical(
        {
            "id": "bare/1",
            "title": "The bare record",
            "authors": [],
            "published": "1999-07",
            "url": "https://journal.example.org/bare/1",
            "rights": {"access": "closed"},
        }
    )
    built = build(bare)
    validate_element(built)
    assert control(built, "008") == "990701s1999    xx |||||||||||||||||und d"
    assert indicators(field(built, "245")) == "00"  # no 1XX, no language: no article known
    for tag in ("100", "700", "041", "024", "520", "540", "542", "653", "504", "773"):
        assert fields(built, tag) == [], tag
    assert indicators(field(built, "506")) == "1 "
    assert [subfields(f) for f in fields(built, "856")] == [
        [("u", "https://journal.example.org/bare/1")]
    ]


def test_only_an_issn_and_unparsed_pages_still_make_a_host_entry():
    record = canonical(
        make_record(1, journal={"eissn": "1050-124X"}, volume=None, issue=None, pages="e1234")
    )
    built = build(record)
    validate_element(built)
    assert subfields(field(built, "773")) == [
        ("7", "nnas"),
        ("g", "(2004), p. e1234"),
        ("x", "1050-124X"),
    ]


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


# --- round trip through pymarc -----------------------------------------------------------


def test_pymarc_reads_the_harvested_records(marc):
    for identifier, payload in marc.items():
        records = pymarc.parse_xml_to_array(io.BytesIO(etree.tostring(payload)))
        assert len(records) == 1
        record = records[0]
        assert str(record.leader) == LEADER
        assert (
            record["245"]["a"]
            == (example_record() if identifier == EXAMPLE_ID else rich_record())["title"]
        )
        assert record["100"].indicators == pymarc.Indicators("1", " ")
        assert record["506"]["2"] == "star"
        assert record["540"]["u"].startswith("https://creativecommons.org/licenses/")
        assert record["542"]["f"].startswith("Copyright (c) ")
        assert record["773"]["t"] == "Central Asia and the Caucasus"
    rich = pymarc.parse_xml_to_array(io.BytesIO(etree.tostring(marc[RICH_ID])))[0]
    assert rich["100"]["a"] == "Иванова, Мария"
    assert rich["100"]["1"] == "https://orcid.org/0000-0002-1825-0097"
    assert rich["100"]["u"] == "Институт водных проблем РАН"
    assert [f["a"] for f in rich.get_fields("700")] == ["Smith, John Q.", "Nurlanov"]
    assert rich["506"].indicators == pymarc.Indicators("1", " ")
    assert rich["506"].get_subfields("a", "g", "f") == [
        "Embargoed access until 2099-01-01",
        "20990101",
        "No online access",
    ]
    assert rich["540"].get_subfields("a", "f", "2") == [
        "Creative Commons Attribution-NonCommercial 4.0 International",
        "CC BY-NC 4.0",
        "cc",
    ]
    assert rich["542"].get_subfields("d", "g") == ["Мария Иванова, John Q. Smith", "2021"]
    assert [f["x"] for f in rich.get_fields("773")] == ["0317-8471", "1050-124X"]
    assert rich["773"]["g"] == "Vol. 12, no. 3 (2021), p. 101-118"
    assert rich["024"]["a"] == rich_record()["doi"]
    assert rich["008"].data[35:38] == "rus"
    # and back: pymarc writes MARCXML that is still valid
    validate_element(etree.fromstring(pymarc.record_to_xml(rich, namespace=True)))


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


def test_sickle_harvests_marcxml_from_a_running_server_across_pages(
    database_url: str, tmp_path: Path
):
    env = environment(database_url)
    corpus = _corpus()
    data = tmp_path / "corpus.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, tmp_path)
    with serving(env, tmp_path, "serve") as base_url:
        sickle = Sickle(base_url, max_retries=2, default_retry_after=1, timeout=30)
        first = sickle.harvest(verb="ListRecords", metadataPrefix="marcxml")
        token = first.xml.find(f".//{{{NS['oai']}}}resumptionToken")
        assert token is not None and token.get("completeListSize") == str(len(corpus))
        validate_oai_response(first.raw.encode("utf-8"))
        titles = {}
        for item in sickle.ListRecords(metadataPrefix="marcxml"):
            payload = item.xml.find(f".//{{{MARC_NS}}}record")
            record = pymarc.parse_xml_to_array(io.BytesIO(etree.tostring(payload)))[0]
            assert item.header.identifier not in titles, "harvested twice"
            titles[item.header.identifier] = record["245"]["a"]
    assert len(titles) == len(corpus) > 2 * RECORDS_PAGE
    assert titles == {f"oai:{REPOSITORY}:{r['id']}": r["title"] for r in corpus}
