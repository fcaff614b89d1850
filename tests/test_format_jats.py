"""The ``jats`` format (issue 7): JATS 1.1 Journal Publishing front matter, served bare.

Every OAI-PMH response here goes through tests.xmlvalidate, which validates the envelope
against OAI-PMH.xsd and each JATS ``<article>`` against the JATS 1.1 Journal Publishing
DTD in tests/schemas/jats. The crosswalk tests call ``build`` on canonical records and
validate the element against the same DTD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sickle import Sickle

from oai.formats import XML_LANG, formats
from oai.formats.jats import ALI_NS, DTD_URL, SCHEMA, XLINK_NS, build
from records.db import drop_schema, make_engine
from records.validate import TOP_LEVEL_FIELDS, format_datestamp, normalize_record
from tests.conftest import BACKENDS, NS, PG_URL, example_record, harvest, make_record
from tests.formats_fixtures import rich_record
from tests.servers import RECORDS_PAGE, REPOSITORY, environment, run, serving
from tests.xmlvalidate import validate_element, validate_oai_response

ALI = f"{{{ALI_NS}}}"
HREF = f"{{{XLINK_NS}}}href"
JATS_NS = {"ali": ALI_NS, "xlink": XLINK_NS}
RICH_DOI = "10.1002/(SICI)1097-4636(199812)43:4<441::AID-JBM5>3.0.CO;2-G"
RICH_TITLE = "Водные ресурсы Центральной Азии: сотрудничество и споры"
PAST = "2020-01-01"


# --- records -------------------------------------------------------------------------------

#: The fields the lead is adding to the import format (issue 7); until they are accepted,
#: records are imported without them and the canonical form gets them back for ``build``.
PENDING = tuple(field for field in ("type", "version") if field not in TOP_LEVEL_FIELDS)


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """What ``build`` is given: the normalised record, ``type``/``version`` included."""
    normalized, _ = normalize_record(record)
    normalized.update({k: record[k] for k in PENDING if k in record})
    return normalized


def article_of(record: dict[str, Any]) -> etree._Element:
    """The JATS of ``record``, checked against the DTD as it is stored."""
    xml = formats()["jats"].render(canonical(record))
    assert xml is not None
    assert xml.startswith(b'<article xmlns="" ')
    return validate_element(etree.fromstring(xml))


def minimal(**fields: Any) -> dict[str, Any]:
    """A record with a journal and nothing optional besides it."""
    record = make_record(
        700,
        authors=[],
        language=None,
        journal={"title": "Journal of Nothing Else"},
        rights={"access": "closed"},
    )
    record.update(fields)
    return record


def text(article: etree._Element, path: str) -> str | None:
    return article.findtext(path, namespaces=JATS_NS)


def texts(article: etree._Element, path: str) -> list[str]:
    return [e.text for e in article.findall(path, JATS_NS)]


def custom_meta(article: etree._Element) -> dict[str, str]:
    pairs = article.findall("front/article-meta/custom-meta-group/custom-meta")
    return {m.findtext("meta-name"): m.findtext("meta-value") for m in pairs}


# --- served in a full OAI-PMH response -----------------------------------------------------


def test_list_records_serves_both_records_bare_and_valid(app, oai, load):
    """Envelope against OAI-PMH.xsd and each <article> against the DTD (the OAIClient
    validates every page); the article is in no namespace, not in OAI-PMH's."""
    load([r for r in (example_record(), rich_record())])
    load([make_record(i, journal={"title": "J"}) for i in range(1, 5)])
    records, tokens = harvest(oai, "ListRecords", metadataPrefix="jats")
    assert len(records) == 6 and tokens  # page size 3: resumed across pages
    for record in records:
        payload = record.find("oai:metadata", NS)
        assert [child.tag for child in payload] == ["article"]
        assert payload[0].get("dtd-version") == "1.1"


def test_get_record_of_the_example_article(app, oai, load):
    load([example_record()])
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/587", metadataPrefix="jats"
    )
    article = root.find("oai:GetRecord/oai:record/oai:metadata/article", NS)
    assert article is not None
    assert article.get("article-type") == "research-article"
    assert article.get(XML_LANG) == "en"
    meta = "front/article-meta/"
    assert text(article, "front/journal-meta/journal-title-group/journal-title") == (
        "Central Asia and the Caucasus"
    )
    assert text(article, meta + "title-group/article-title") == example_record()["title"]
    assert text(article, meta + "contrib-group/contrib/name/surname") == "Mukimdzhanova"
    assert text(article, meta + "contrib-group/contrib/name/given-names") == "R."
    assert text(article, meta + "pub-date[@date-type='pub']/year") == "2004"
    assert [text(article, meta + tag) for tag in ("volume", "issue", "fpage", "lpage")] == [
        "5",
        "4",
        "61",
        "70",
    ]
    assert texts(article, meta + "self-uri") == [None]
    assert article.find(meta + "self-uri").get(HREF) == example_record()["url"]
    assert len(article.findall(meta + "abstract/p")) == 2
    assert texts(article, "back/ref-list/ref/mixed-citation") == example_record()["references"]


def test_the_payload_undeclares_the_envelope_namespace(app, client, load):
    """Without xmlns="" the spliced <article> would be in the OAI-PMH namespace."""
    load([example_record()])
    body = client.get(
        "/oai", query_string={"verb": "ListRecords", "metadataPrefix": "jats"}
    ).get_data()
    assert b'<metadata><article xmlns="" xmlns:xlink="http://www.w3.org/1999/xlink"' in body


def test_list_metadata_formats_names_the_jats_xsd_and_dtd_not_a_namespace(app, oai):
    """JATS has no namespace: the schema is the official no-namespace XSD of 1.1 Journal
    Publishing, the identifier the DTD's URL (not OJS's http://jats.nlm.nih.gov and 0.4 XSD)."""
    root = oai(verb="ListMetadataFormats")
    entries = {
        f.findtext("oai:metadataPrefix", namespaces=NS): f
        for f in root.findall("oai:ListMetadataFormats/oai:metadataFormat", NS)
    }
    jats = entries["jats"]
    assert jats.findtext("oai:schema", namespaces=NS) == SCHEMA
    assert SCHEMA == "https://jats.nlm.nih.gov/publishing/1.1/xsd/JATS-journalpublishing1.xsd"
    assert jats.findtext("oai:metadataNamespace", namespaces=NS) == DTD_URL
    assert DTD_URL == "https://jats.nlm.nih.gov/publishing/1.1/JATS-journalpublishing1.dtd"


# --- rights, element by element ------------------------------------------------------------


def test_example_rights_are_open_access_under_cc_by(app, oai, load):
    load([example_record()])
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/587", metadataPrefix="jats"
    )
    permissions = root.find(".//article/front/article-meta/permissions", NS)
    assert [etree.QName(child).localname for child in permissions] == [
        "copyright-statement",
        "copyright-year",
        "free_to_read",
        "license",
    ]
    assert permissions.findtext("copyright-statement") == "Copyright (c) 2004 Author"
    assert permissions.findtext("copyright-year") == "2004"
    assert permissions.find("copyright-holder") is None  # "Author" is not a curated holder
    free = permissions.find(ALI + "free_to_read")
    assert free.attrib == {}
    licence = permissions.find("license")
    assert licence.get("license-type") == "open-access"
    assert licence.get(HREF) == "https://creativecommons.org/licenses/by/4.0/"
    assert licence.get(XML_LANG) == "en"
    ref = licence.find(ALI + "license_ref")
    assert ref.text == "https://creativecommons.org/licenses/by/4.0/"
    assert ref.attrib == {}
    assert licence.findtext("license-p") == "Creative Commons Attribution 4.0 International"


def test_embargoed_record_says_so_with_its_end_date(app, oai, load):
    load([rich_record()])
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/9001", metadataPrefix="jats"
    )
    article = root.find(".//article", NS)
    permissions = article.find("front/article-meta/permissions")
    assert permissions.findtext("copyright-statement") == (
        "Copyright (c) 2021 Мария Иванова, John Q. Smith"
    )
    assert permissions.findtext("copyright-year") == "2021"
    assert permissions.findtext("copyright-holder") == "Мария Иванова, John Q. Smith"
    assert permissions.find(ALI + "free_to_read").attrib == {"start_date": "2099-01-01"}
    licence = permissions.find("license")
    assert licence.get("license-type") is None  # not open access (yet)
    assert licence.get(HREF) == "https://creativecommons.org/licenses/by-nc/4.0/"
    ref = licence.find(ALI + "license_ref")
    assert (ref.text, ref.get("start_date")) == (
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "2099-01-01",
    )
    assert licence.findtext("license-p") == (
        "Creative Commons Attribution-NonCommercial 4.0 International"
    )
    meta = custom_meta(article)
    assert meta["access-right"] == "http://purl.org/coar/access_right/c_f1cf"
    assert meta["embargo-end-date"] == "2099-01-01"


def test_an_ended_embargo_is_open_access_from_its_end():
    rights = dict(rich_record()["rights"], embargo_until=PAST)
    article = article_of(rich_record(rights=rights))
    permissions = article.find("front/article-meta/permissions")
    assert permissions.find(ALI + "free_to_read").get("start_date") == PAST
    licence = permissions.find("license")
    assert licence.get("license-type") == "open-access"
    assert licence.find(ALI + "license_ref").get("start_date") == PAST
    assert custom_meta(article)["access-right"] == "http://purl.org/coar/access_right/c_abf2"


@pytest.mark.parametrize(
    ("access", "coar"),
    [("restricted", "c_16ec"), ("closed", "c_14cb")],
)
def test_restricted_and_closed_are_not_free_to_read(access, coar):
    rights = dict(rich_record()["rights"], access=access, embargo_until=None)
    article = article_of(rich_record(rights=rights))
    permissions = article.find("front/article-meta/permissions")
    assert permissions.find(ALI + "free_to_read") is None
    licence = permissions.find("license")
    assert licence.get("license-type") is None
    assert licence.find(ALI + "license_ref").attrib == {}
    assert custom_meta(article) == {
        "access-right": f"http://purl.org/coar/access_right/{coar}",
        "article-version": "AM",
    }


def test_a_licence_known_only_by_name_has_no_uri_or_ali_reference():
    rights = {"access": "open", "license_name": "Licence of the Example Society"}
    article = article_of(minimal(rights=rights, language="en"))
    licence = article.find("front/article-meta/permissions/license")
    assert licence.get(HREF) is None
    assert licence.find(ALI + "license_ref") is None
    assert licence.findtext("license-p") == "Licence of the Example Society"
    assert licence.get("license-type") == "open-access"


def test_a_holder_and_year_without_a_statement_compose_one():
    rights = {"access": "open", "holder": "The Authors", "year": 2020}
    permissions = article_of(minimal(rights=rights)).find("front/article-meta/permissions")
    assert permissions.findtext("copyright-statement") == "Copyright (c) 2020 The Authors"
    assert permissions.findtext("copyright-holder") == "The Authors"


# --- contributors, identifiers, references -------------------------------------------------


def test_contributors_with_orcids_and_linked_affiliations():
    article = article_of(rich_record())
    meta = article.find("front/article-meta")
    contribs = meta.findall("contrib-group/contrib")
    assert [c.get("contrib-type") for c in contribs] == ["author"] * 3
    assert [c.findtext("name/surname") for c in contribs] == ["Иванова", "Smith", "Nurlanov"]
    assert [c.findtext("name/given-names") for c in contribs] == ["Мария", "John Q.", None]
    orcids = [c.find("contrib-id[@contrib-id-type='orcid']") for c in contribs]
    assert [o.text if o is not None else None for o in orcids] == [
        "https://orcid.org/0000-0002-1825-0097",
        "https://orcid.org/0000-0001-5109-3700",
        None,
    ]
    affs = {aff.get("id"): aff.findtext("institution") for aff in meta.findall("aff")}
    linked = [c.find("xref[@ref-type='aff']") for c in contribs]
    assert [affs[x.get("rid")] if x is not None else None for x in linked] == [
        "Институт водных проблем РАН",
        "University of Example",
        None,
    ]


def test_a_shared_affiliation_is_written_once():
    authors = [
        {"family": "A", "affiliation": "Same University"},
        {"family": "B", "affiliation": "Same University"},
    ]
    meta = article_of(minimal(authors=authors)).find("front/article-meta")
    assert [aff.findtext("institution") for aff in meta.findall("aff")] == ["Same University"]
    assert {x.get("rid") for x in meta.iter("xref")} == {"aff1"}


def test_doi_is_bare_in_article_id_and_percent_encoded_in_its_link():
    article = article_of(rich_record())
    meta = article.find("front/article-meta")
    assert meta.findtext("article-id[@pub-id-type='doi']") == RICH_DOI
    link = meta.find("ext-link[@ext-link-type='doi']")
    assert link.text == RICH_DOI
    assert link.get(HREF) == (
        "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
    )
    for element in article.iter():
        href = element.get(HREF)
        assert href is None or not set(href) & set("<> "), href


def test_landing_page_first_then_each_file_with_its_media_type():
    meta = article_of(rich_record()).find("front/article-meta")
    uris = [(u.get("content-type"), u.get(HREF)) for u in meta.findall("self-uri")]
    assert uris == [
        (None, "https://ca-c.org/CAC/index.php/cac/article/view/9001"),
        ("application/pdf", "https://ca-c.org/CAC/index.php/cac/article/download/9001/101"),
        ("text/html", "https://ca-c.org/CAC/index.php/cac/article/download/9001/102"),
    ]


def test_references_are_mixed_citations_in_order():
    article = article_of(rich_record())
    refs = article.findall("back/ref-list/ref")
    assert [r.get("id") for r in refs] == ["ref1", "ref2"]
    assert [r.findtext("mixed-citation") for r in refs] == rich_record()["references"]


def test_journal_with_both_issns_is_identified_by_the_print_one():
    journal = article_of(rich_record()).find("front/journal-meta")
    assert journal.findtext("journal-id[@journal-id-type='issn']") == "0317-8471"
    issns = [(i.get("pub-type"), i.get("publication-format"), i.text) for i in journal.iter("issn")]
    assert issns == [("ppub", "print", "0317-8471"), ("epub", "electronic", "1050-124X")]
    assert journal.findtext("publisher/publisher-name") == "CA&CC Press"


def test_journal_known_by_title_alone_gets_the_title_as_id_and_an_empty_issn():
    journal = article_of(example_record()).find("front/journal-meta")
    assert journal.findtext("journal-id[@journal-id-type='title']") == (
        "Central Asia and the Caucasus"
    )
    assert [(i.attrib, i.text) for i in journal.iter("issn")] == [({}, None)]
    assert journal.find("publisher") is None


# --- what the record is, and in which language ---------------------------------------------


def test_type_and_version_say_what_the_record_is():
    article = article_of(rich_record(type="book review", version="submitted"))
    assert article.get("article-type") == "book-review"
    assert custom_meta(article)["article-version"] == "SMUR"
    default = article_of(example_record())
    assert default.get("article-type") == "research-article"
    assert custom_meta(default)["article-version"] == "VoR"


def test_xml_lang_is_the_record_language_only_where_the_text_is_in_it():
    article = article_of(rich_record())
    assert article.get(XML_LANG) == "ru"
    assert text(article, "front/article-meta/title-group/article-title") == RICH_TITLE
    langs = {
        element.tag: element.get(XML_LANG)
        for element in article.iter(
            "article-title", "journal-title", "publisher-name", "abstract", "kwd-group"
        )
    }
    assert langs == {
        "article-title": "ru",
        "journal-title": "und",  # Latin script in a Russian record
        "publisher-name": "und",
        "abstract": None,  # inherits ru: mostly Cyrillic
        "kwd-group": None,
    }
    assert {r.get(XML_LANG) for r in article.iter("mixed-citation")} == {"und"}
    assert article.find(".//license").get(XML_LANG) == "en"
    english_title = article_of(rich_record(title="Water resources of Central Asia"))
    assert english_title.find(".//article-title").get(XML_LANG) == "und"


def test_a_record_without_a_language_is_und_not_the_dtd_default_en():
    article = article_of(minimal())
    assert article.get(XML_LANG) == "und"
    assert article.find(".//article-title").get(XML_LANG) is None


# --- dates and pages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "parts"),
    [("2004", [("year", "2004")]), ("2021-03", [("month", "03"), ("year", "2021")])],
)
def test_pub_date_from_published(published, parts):
    date = article_of(minimal(published=published)).find(".//pub-date")
    assert date.get("date-type") == "pub"
    assert date.get("iso-8601-date") == published
    assert [(child.tag, child.text) for child in date] == parts


@pytest.mark.parametrize(
    ("journal", "medium"),
    [
        ({"title": "J", "issn": "0317-8471"}, "print"),
        ({"title": "J", "eissn": "1050-124X"}, "electronic"),
        ({"title": "J", "issn": "0317-8471", "eissn": "1050-124X"}, None),
        ({"title": "J"}, None),
    ],
)
def test_pub_date_medium_only_when_the_journal_has_one(journal, medium):
    date = article_of(minimal(journal=journal)).find(".//pub-date")
    assert date.get("publication-format") == medium


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("61-70", [("fpage", "61"), ("lpage", "70")]),
        ("61", [("fpage", "61")]),
        ("pp. 5–9", [("fpage", "5"), ("lpage", "9")]),
        ("e1234", [("fpage", "e1234")]),
        ("12-14, 20", [("fpage", "12"), ("page-range", "12-14, 20")]),
        ("–", []),
    ],
)
def test_pages(pages, expected):
    meta = article_of(minimal(pages=pages)).find("front/article-meta")
    found = [(e.tag, e.text) for e in meta if e.tag in ("fpage", "lpage", "page-range")]
    assert found == expected


# --- what cannot be expressed --------------------------------------------------------------


def test_a_record_with_a_journal_and_nothing_else_optional_is_valid():
    article = article_of(minimal())
    meta = article.find("front/article-meta")
    assert [child.tag for child in meta] == [
        "title-group",
        "pub-date",
        "self-uri",
        "custom-meta-group",
    ]
    assert article.find("back") is None


def test_no_journal_means_no_jats(app, oai, load):
    record = minimal(id="article/orphan", journal=None)
    assert build(canonical(record)) is None
    load([record])
    identifier = "oai:repo.example.org:article/orphan"
    code, _ = oai.error(verb="GetRecord", identifier=identifier, metadataPrefix="jats")
    assert code == "cannotDisseminateFormat"
    root = oai(verb="ListMetadataFormats", identifier=identifier)
    prefixes = root.findall(".//oai:metadataPrefix", NS)
    assert "jats" not in {p.text for p in prefixes} and "oai_dc" in {p.text for p in prefixes}
    code, _ = oai.error(verb="ListRecords", metadataPrefix="jats")
    assert code == "noRecordsMatch"


def test_lists_in_jats_leave_out_the_records_it_cannot_express_and_count_exactly(app, oai, load):
    """§4.3 ListIdentifiers returns headers "only if the metadata format matching the supplied
    metadataPrefix is available", as §4.5 ListRecords does; §3.5 completeListSize is the
    size of that list. Pages of 4 headers, 3 records (conftest)."""
    expressed = [minimal(id=f"article/j{i}") for i in range(5)]
    orphans = [minimal(id=f"article/orphan{i}", journal=None) for i in range(6)]
    load(expressed + orphans)
    for verb in ("ListIdentifiers", "ListRecords"):
        items, tokens = harvest(oai, verb, metadataPrefix="jats")
        headers = [
            item if verb == "ListIdentifiers" else item.find("oai:header", NS) for item in items
        ]
        got = sorted(h.findtext("oai:identifier", namespaces=NS) for h in headers)
        assert got == sorted(f"oai:repo.example.org:article/j{i}" for i in range(5)), verb
        assert {int(token.get("completeListSize")) for token in tokens} == {5}, verb
    _, tokens = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert {int(token.get("completeListSize")) for token in tokens} == {11}


@pytest.mark.parametrize(
    "journal",
    [{"issn": "0317-8471"}, {"publisher": "Nobody Press"}, {"title": "T"}],
)
def test_a_journal_needs_a_title_or_an_issn(journal):
    record = canonical(minimal(journal=journal))
    expressible = bool(journal.get("title") or journal.get("issn"))
    assert (build(record) is not None) == expressible
    if expressible:
        article_of(minimal(journal=journal))


# --- the validator checks JATS payloads ----------------------------------------------------


def response_with(payload: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<responseDate>2024-01-01T00:00:00Z</responseDate>"
        b'<request verb="GetRecord">https://example.org/oai</request>'
        b"<GetRecord><record><header><identifier>oai:example.org:1</identifier>"
        b"<datestamp>2024-01-01</datestamp></header><metadata>"
        + payload
        + b"</metadata></record></GetRecord></OAI-PMH>"
    )


def test_the_validator_checks_the_jats_payload_against_the_dtd():
    good = formats()["jats"].render(canonical(example_record()))
    validate_oai_response(response_with(good))
    broken = good.replace(b"<volume>5</volume>", b"<volume>5</volume><colour>red</colour>")
    with pytest.raises(AssertionError, match=r"\[JATS-journalpublishing1\.dtd\].*colour"):
        validate_oai_response(response_with(broken))
    newer = good.replace(b'dtd-version="1.1"', b'dtd-version="1.2"')
    with pytest.raises(AssertionError, match="dtd-version"):
        validate_oai_response(response_with(newer))


def test_the_validator_refuses_a_jats_payload_left_in_the_oai_namespace():
    good = formats()["jats"].render(canonical(example_record()))
    with pytest.raises(AssertionError, match="element in the OAI-PMH namespace"):
        validate_oai_response(response_with(good.replace(b'xmlns="" ', b"", 1)))


# --- end to end: Sickle against `oaipress serve` -------------------------------------------

START = datetime(2021, 1, 1, 8, 0, 0)


def served_corpus() -> list[dict[str, Any]]:
    """Both format records and enough others for several pages, plus one without a journal."""
    lines = [(example_record()), rich_record()]
    lines += [make_record(i, journal={"title": f"Journal {i % 3}"}) for i in range(1, 15)]
    lines.append(minimal(id="article/orphan", journal=None))
    for n, line in enumerate(lines):
        line["datestamp"] = format_datestamp(START + timedelta(hours=n))
    return lines


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("jats")
    if request.param == "sqlite":
        database_url = f"sqlite:///{home / 'store.sqlite'}"
    else:
        assert PG_URL
        database_url = PG_URL
        engine = make_engine(database_url)
        drop_schema(engine)
        engine.dispose()
    env = environment(database_url)
    data = home / "corpus.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in served_corpus()), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, home)
    with serving(env, home, "serve") as base_url:
        yield base_url


def test_sickle_harvests_jats_across_pages(served):
    sickle = Sickle(served, max_retries=2, default_retry_after=1, timeout=30)
    records = sickle.ListRecords(metadataPrefix="jats")
    pages: list[Any] = []
    harvested = []
    for record in records:
        if not pages or pages[-1] is not records.oai_response:
            pages.append(records.oai_response)
        harvested.append(record)
    expected = len(served_corpus()) - 1  # the record without a journal has no JATS
    assert len(harvested) == expected
    assert len(pages) == -(-expected // RECORDS_PAGE) > 1
    for page in pages:
        validate_oai_response(page.http_response.content)
    identifiers = [r.header.identifier for r in harvested]
    assert len(set(identifiers)) == expected
    assert f"oai:{REPOSITORY}:article/orphan" not in identifiers
    by_id = {r.header.identifier: r for r in harvested}
    rich = by_id[f"oai:{REPOSITORY}:article/9001"].xml.find(".//{*}metadata/article")
    assert rich.findtext("front/article-meta/article-id") == RICH_DOI
    assert rich.find(".//" + ALI + "free_to_read").get("start_date") == "2099-01-01"
    example = by_id[f"oai:{REPOSITORY}:article/587"]
    assert example.metadata["article-title"] == [example_record()["title"]]
