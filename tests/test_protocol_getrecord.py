"""GetRecord (§4.1) of the example article and of deleted records, and ListMetadataFormats
(§4.4), which answers for the repository or for one item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import delete

from oai.formats import formats
from records.models import Rendition
from tests.conftest import NS, T0, Clock, OAIClient, example_record, make_record

IDENTIFIER = "oai:repo.example.org:article/587"
LANDING = "https://ca-c.org/CAC/index.php/cac/article/view/587"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
XSI_SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def get_record(
    oai: OAIClient, identifier: str = IDENTIFIER, prefix: str = "oai_dc", method: str = "GET"
) -> etree._Element:
    root = oai(method, verb="GetRecord", identifier=identifier, metadataPrefix=prefix)
    records = root.findall("oai:GetRecord/oai:record", NS)
    assert len(records) == 1, etree.tostring(root)[:500]
    return records[0]


def dc_values(record: etree._Element, name: str) -> list[tuple[str, str | None]]:
    """(text, xml:lang) of every dc:<name> of the record's oai_dc metadata, in order."""
    return [
        (e.text, e.get(XML_LANG)) for e in record.findall(f"oai:metadata/oai_dc:dc/dc:{name}", NS)
    ]


@pytest.fixture
def article(app, load):
    load([example_record()], now=Clock(T0))


def test_get_record_of_the_example_article_has_its_header(article, oai):
    """§4.1, §2.5: the header carries the identifier, the datestamp and its setSpecs: the
    declared one and `openaire`, computed (open access; no file, so not `driver`)."""
    header = get_record(oai).find("oai:header", NS)
    assert header.get("status") is None
    assert header.findtext("oai:identifier", namespaces=NS) == IDENTIFIER
    assert header.findtext("oai:datestamp", namespaces=NS) == "2020-01-01T00:00:00Z"
    assert [e.text for e in header.findall("oai:setSpec", NS)] == ["cac", "openaire"]


def test_get_record_echoes_identifier_and_metadata_prefix_in_request(article, oai):
    """§3.2: a successful GetRecord echoes every argument in <request>."""
    root = oai(verb="GetRecord", identifier=IDENTIFIER, metadataPrefix="oai_dc")
    assert dict(root.find("oai:request", NS).attrib) == {
        "verb": "GetRecord",
        "identifier": IDENTIFIER,
        "metadataPrefix": "oai_dc",
    }


def test_get_record_oai_dc_root_names_the_namespace_and_schema_of_the_format(article, oai):
    """§3.4: the metadata root is in the format's namespace with its xsi:schemaLocation."""
    metadata = get_record(oai).find("oai:metadata", NS)
    assert len(metadata) == 1
    root = metadata[0]
    assert root.tag == f"{{{OAI_DC_NS}}}dc"
    assert root.get(XSI_SCHEMA_LOCATION).split() == [OAI_DC_NS, OAI_DC_SCHEMA]


def test_get_record_example_article_maps_title_creator_date_language(article, oai):
    """§4.1, §5 (oai_dc) with metadata.md §1.5: title with xml:lang, creator "Family, Given"
    without it, dc:date the cited year, dc:language ISO 639-3."""
    record = get_record(oai)
    assert dc_values(record, "title") == [
        (
            "CENTRAL ASIAN STATES AND CHINA: COOPERATION TODAY AND PROSPECTS FOR TOMORROW",
            "en",
        )
    ]
    assert dc_values(record, "creator") == [("Mukimdzhanova, R.", None)]
    assert dc_values(record, "date") == [("2004", None)]
    assert dc_values(record, "language") == [("eng", None)]


def test_get_record_example_article_puts_the_landing_url_first_in_identifier(article, oai):
    """metadata.md §1.3/§1.5: the first dc:identifier is the landing page (DRIVER/OpenAIRE)."""
    values = dc_values(get_record(oai), "identifier")
    assert values[0] == (LANDING, None)


def test_get_record_example_article_source_is_the_journal_citation(article, oai):
    """metadata.md §1.5/§1.6: dc:source "{journal}; Vol. {v} No. {n} ({year}); {pages}",
    with no xml:lang: its "Vol./No." labels are not in the record's language (issue 7)."""
    values = dc_values(get_record(oai), "source")
    assert values[0] == ("Central Asia and the Caucasus; Vol. 5 No. 4 (2004); 61-70", None)


def test_get_record_example_article_rights_are_access_term_statement_and_licence(article, oai):
    """metadata.md §1.5/§1.6 (decision 2): dc:rights = access term, the copyright statement,
    the canonical licence URI. No xml:lang: the statement is not a translation into the
    record's language (issue 7 overrides metadata.md here)."""
    assert dc_values(get_record(oai), "rights") == [
        ("info:eu-repo/semantics/openAccess", None),
        ("Copyright (c) 2004 Author", None),
        ("https://creativecommons.org/licenses/by/4.0/", None),
    ]


def test_get_record_types_start_with_the_eu_repo_publication_type(article, oai):
    """metadata.md §1.3/§1.5: the first dc:type is info:eu-repo/semantics/article."""
    types = [text for text, _ in dc_values(get_record(oai), "type")]
    assert types[0] == "info:eu-repo/semantics/article"
    assert "info:eu-repo/semantics/publishedVersion" in types


def test_get_record_licence_uri_is_served_in_canonical_form(app, oai, load):
    """metadata.md §0 decision 2: a licence URI arriving as a legalcode http URL is served as
    the canonical https deed URI with a trailing slash."""
    rights = {
        "access": "open",
        "license": "http://creativecommons.org/licenses/by-nc/4.0/legalcode",
        "statement": "Copyright (c) 2004 Author 1",
    }
    load([make_record(1, rights=rights)])
    record = get_record(oai, "oai:repo.example.org:article/1")
    assert dc_values(record, "rights")[-1] == (
        "https://creativecommons.org/licenses/by-nc/4.0/",
        None,
    )


def test_get_record_has_exactly_one_about_with_the_metadata_licence(article, oai):
    """§2.5 about; rights guidelines §3: one <rights> package per record, a rightsReference to
    the metadata licence (CC0), never the article's licence."""
    abouts = get_record(oai).findall("oai:about", NS)
    assert len(abouts) == 1
    assert len(abouts[0]) == 1
    rights = abouts[0].find("rights:rights", NS)
    assert [r.get("ref") for r in rights.findall("rights:rightsReference", NS)] == [CC0]


def test_get_record_over_post_answers_as_over_get(article, oai):
    """§3.1.1.2: POST with application/x-www-form-urlencoded works for GetRecord."""
    get = get_record(oai)
    post = get_record(oai, method="POST")
    assert etree.tostring(post) == etree.tostring(get)


def test_get_record_of_a_deleted_record_has_status_deleted_and_no_metadata_or_about(app, oai, load):
    """§2.5.1: a deleted record's header has status="deleted", the deletion time as datestamp,
    its sets still, and the record has no metadata and no about part."""
    load([example_record()], now=Clock(T0))
    load([{"id": "article/587", "deleted": True}], now=Clock(T0 + timedelta(days=3)))
    record = get_record(oai)
    header = record.find("oai:header", NS)
    assert header.get("status") == "deleted"
    assert header.findtext("oai:identifier", namespaces=NS) == IDENTIFIER
    assert header.findtext("oai:datestamp", namespaces=NS) == "2020-01-04T00:00:00Z"
    assert [e.text for e in header.findall("oai:setSpec", NS)] == ["cac"]
    assert record.find("oai:metadata", NS) is None
    assert record.find("oai:about", NS) is None


def test_get_record_of_a_record_not_rendered_in_the_format_is_cannot_disseminate(app, oai, load):
    """§3.6 cannotDisseminateFormat ("not supported by the item"): a live record with no stored
    rendition (a format added before `oaipress rebuild`) is not served as a bare header."""
    load([make_record(1)])
    with app.extensions["oaipress.store"].transaction() as session:
        session.execute(delete(Rendition))
    code, root = oai.error(
        verb="GetRecord", identifier="oai:repo.example.org:article/1", metadataPrefix="oai_dc"
    )
    assert code == "cannotDisseminateFormat"
    assert root.find("oai:request", NS).get("identifier") == "oai:repo.example.org:article/1"


def metadata_formats(oai: OAIClient, **params: str) -> list[tuple[str, str, str]]:
    root = oai(verb="ListMetadataFormats", **params)
    return [
        (
            f.findtext("oai:metadataPrefix", namespaces=NS),
            f.findtext("oai:schema", namespaces=NS),
            f.findtext("oai:metadataNamespace", namespaces=NS),
        )
        for f in root.findall("oai:ListMetadataFormats/oai:metadataFormat", NS)
    ]


def test_list_metadata_formats_lists_every_registered_format_with_oai_dc(app, oai):
    """§4.4 and §3.4: every format the repository serves, oai_dc with its reserved schema and
    namespace among them."""
    listed = metadata_formats(oai)
    assert sorted(prefix for prefix, _, _ in listed) == sorted(formats())
    assert ("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS) in listed


def test_list_metadata_formats_over_post_answers_as_over_get(app, oai):
    """§3.1.1.2: ListMetadataFormats over POST."""
    get = oai(verb="ListMetadataFormats").find("oai:ListMetadataFormats", NS)
    post = oai("POST", verb="ListMetadataFormats").find("oai:ListMetadataFormats", NS)
    assert etree.tostring(post) == etree.tostring(get)


def test_list_metadata_formats_of_an_item_lists_formats_that_get_record_serves(article, oai):
    """§4.4 with identifier, §3.4: each format listed for the item disseminates it, with the
    listed namespace and schema on the metadata root; the request echoes the identifier."""
    root = oai(verb="ListMetadataFormats", identifier=IDENTIFIER)
    assert root.find("oai:request", NS).get("identifier") == IDENTIFIER
    listed = metadata_formats(oai, identifier=IDENTIFIER)
    assert listed == metadata_formats(oai)
    for prefix, schema, namespace in listed:
        metadata = get_record(oai, prefix=prefix).find("oai:metadata", NS)
        if prefix == "jats":  # no namespace, no xsi:schemaLocation (README, "JATS")
            assert metadata[0].tag == "article"
            continue
        assert etree.QName(metadata[0]).namespace == namespace
        locations = metadata[0].get(XSI_SCHEMA_LOCATION).split()
        assert locations[locations.index(namespace) + 1] == schema


def test_list_metadata_formats_of_a_deleted_item_lists_every_format(app, oai, load):
    """§4.4 / §3.6 noMetadataFormats cannot arise here, so it is never answered.

    Every live record is rendered in every registered format when it is written, and a
    deleted record is served in every format as its tombstone header (§2.5.1: deleted status
    is per record, for each metadataPrefix). So any identifier that exists has all formats
    (and one that does not is idDoesNotExist). What happens instead for a deleted item: the
    full list, and GetRecord with each listed prefix gives the deleted header.
    """
    load([make_record(1)], now=Clock(T0))
    load([{"id": "article/1", "deleted": True}], now=Clock(T0 + timedelta(hours=1)))
    identifier = "oai:repo.example.org:article/1"
    listed = metadata_formats(oai, identifier=identifier)
    assert listed == metadata_formats(oai)
    for prefix, _, _ in listed:
        header = get_record(oai, identifier, prefix).find("oai:header", NS)
        assert header.get("status") == "deleted"


def test_list_metadata_formats_of_an_unknown_item_is_id_does_not_exist(article, oai):
    """§4.4, §3.6 idDoesNotExist; §3.2 the request echoes the arguments for this error."""
    identifier = "oai:repo.example.org:article/588"
    code, root = oai.error(verb="ListMetadataFormats", identifier=identifier)
    assert code == "idDoesNotExist"
    assert dict(root.find("oai:request", NS).attrib) == {
        "verb": "ListMetadataFormats",
        "identifier": identifier,
    }
