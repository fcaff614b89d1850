"""The ``oai_openaire`` format (OpenAIRE Literature Guidelines v4), harvested field by field.

Every response goes through the ``oai`` fixture, which validates it, the OpenAIRE payload
included (openaire.xsd with its own dc.xsd and datacite-v4.xsd), against the schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lxml import etree

from oai.formats import XML_LANG
from oai.formats.datacite import DATACITE_NS
from oai.formats.oai_openaire import DC_NS, OAIRE_NS, build, license_start
from records.validate import normalize_record
from tests.conftest import NS, PG_URL, OAIClient, example_record, make_record
from tests.formats_fixtures import both_records, rich_record
from tests.servers import RECORDS_PAGE
from tests.test_format_datacite import (
    EXAMPLE_ID,
    OPTIONAL_FIELDS,
    RICH_DOI,
    RICH_ID,
    assert_urls_are_uris,
    attrs,
    harvest_metadata,
    served_corpus,
    without,
)
from tests.xmlvalidate import validate_element, validate_oai_response

OA = {**NS, "oaire": OAIRE_NS, "datacite": DATACITE_NS, "dc": DC_NS}
PREFIX = "oai_openaire"
OPEN = "http://purl.org/coar/access_right/c_abf2"
EMBARGOED = "http://purl.org/coar/access_right/c_f1cf"
RICH_DOI_URL = "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"


@pytest.fixture
def harvested(oai: OAIClient, load: Callable[..., Any]) -> dict[str, etree._Element]:
    load(both_records())
    return harvest_metadata(oai, PREFIX)


def _one(resource: etree._Element, path: str) -> etree._Element:
    found = resource.findall(path, OA)
    assert len(found) == 1, (path, len(found))
    return found[0]


def _texts(resource: etree._Element, path: str) -> list[str]:
    return [el.text for el in resource.findall(path, OA)]


def _get(oai: OAIClient, local_id: str) -> etree._Element:
    root = oai(
        verb="GetRecord", identifier=f"oai:repo.example.org:{local_id}", metadataPrefix=PREFIX
    )
    resource = root.find(".//oaire:resource", OA)
    assert resource is not None
    return resource


# --- the two test records ---------------------------------------------------------------


def test_both_records_are_disseminated(harvested):
    assert set(harvested) == {EXAMPLE_ID, RICH_ID}
    for resource in harvested.values():
        assert resource.tag == f"{{{OAIRE_NS}}}resource"
        assert_urls_are_uris(resource)


def test_the_payload_is_schema_validated_not_skipped(client, load):
    """A response whose OpenAIRE payload breaks openaire.xsd is refused by the validator."""
    load([example_record()])
    response = client.get("/oai", query_string={"verb": "ListRecords", "metadataPrefix": PREFIX})
    body = response.get_data()
    validate_oai_response(body)
    broken = body.replace(b'rightsURI="http://purl.org/coar/access_right/c_abf2"', b'rightsURI="x"')
    assert broken != body
    with pytest.raises(AssertionError, match="rightsURI"):
        validate_oai_response(broken)


def test_example_article(harvested):
    resource = harvested[EXAMPLE_ID]
    title = _one(resource, "datacite:titles/datacite:title")
    assert title.get(XML_LANG) == "en"
    identifier = _one(resource, "datacite:identifier")
    assert (identifier.get("identifierType"), identifier.text) == (
        "URL",
        "https://ca-c.org/CAC/index.php/cac/article/view/587",
    )
    assert resource.find("datacite:alternateIdentifiers", OA) is None
    assert resource.find("datacite:relatedIdentifiers", OA) is None
    creator = _one(resource, "datacite:creators/datacite:creator")
    assert [(c.tag.split("}")[1], c.text, attrs(c)) for c in creator] == [
        ("creatorName", "Mukimdzhanova, R.", {"nameType": "Personal"}),
        ("givenName", "R.", {}),
        ("familyName", "Mukimdzhanova", {}),
    ]
    dates = [(d.get("dateType"), d.text) for d in resource.findall("datacite:dates/*", OA)]
    assert dates == [("Issued", "2004")]
    assert _texts(resource, "dc:language") == ["eng"]
    assert _texts(resource, "dc:publisher") == ["Central Asia and the Caucasus"]
    kind = _one(resource, "oaire:resourceType")
    assert (kind.text, attrs(kind)) == (
        "journal article",
        {"resourceTypeGeneral": "literature", "uri": "http://purl.org/coar/resource_type/c_6501"},
    )
    version = _one(resource, "oaire:version")
    assert (version.text, version.get("uri")) == (
        "VoR",
        "http://purl.org/coar/version/c_970fb48d4fbd8a85",
    )
    assert _one(resource, "dc:description").get(XML_LANG) == "en"
    assert resource.findall("oaire:file", OA) == []
    assert resource.findall("dc:format", OA) == []
    citation = [(el.tag.split("}")[1], el.text) for el in resource if "citation" in el.tag]
    assert citation == [
        ("citationTitle", "Central Asia and the Caucasus"),
        ("citationVolume", "5"),
        ("citationIssue", "4"),
        ("citationStartPage", "61"),
        ("citationEndPage", "70"),
    ]


def test_example_article_rights(harvested):
    resource = harvested[EXAMPLE_ID]
    rights = _one(resource, "datacite:rights")
    assert (rights.text, attrs(rights)) == ("open access", {"rightsURI": OPEN})
    licence = _one(resource, "oaire:licenseCondition")
    # CC BY 4.0 (2013) cannot have taken effect in 2004: no startDate (metadata.md §2.6)
    assert (licence.text, attrs(licence)) == (
        "Creative Commons Attribution 4.0 International",
        {"uri": "https://creativecommons.org/licenses/by/4.0/"},
    )


def test_full_record_identifiers(harvested):
    resource = harvested[RICH_ID]
    identifier = _one(resource, "datacite:identifier")
    assert (identifier.get("identifierType"), identifier.text) == ("DOI", RICH_DOI_URL)
    alternate = _one(resource, "datacite:alternateIdentifiers/datacite:alternateIdentifier")
    assert (alternate.text, attrs(alternate)) == (
        "https://ca-c.org/CAC/index.php/cac/article/view/9001",
        {"alternateIdentifierType": "URL"},
    )
    related = resource.findall("datacite:relatedIdentifiers/datacite:relatedIdentifier", OA)
    assert [(r.text, attrs(r)) for r in related] == [
        ("0317-8471", {"relatedIdentifierType": "ISSN", "relationType": "IsPartOf"}),
        ("1050-124X", {"relatedIdentifierType": "EISSN", "relationType": "IsPartOf"}),
    ]
    assert not any(RICH_DOI in (text or "") for text in _texts(resource, ".//*"))


def test_full_record_creators(harvested):
    creators = harvested[RICH_ID].findall("datacite:creators/datacite:creator", OA)
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
    rights = _one(resource, "datacite:rights")
    assert (rights.text, attrs(rights)) == ("embargoed access", {"rightsURI": EMBARGOED})
    dates = [(d.get("dateType"), d.text) for d in resource.findall("datacite:dates/*", OA)]
    assert dates == [
        ("Accepted", "2021-03-15"),  # the embargo's start: publication
        ("Available", "2099-01-01"),  # its end
        ("Issued", "2021-03-15"),
    ]
    licence = _one(resource, "oaire:licenseCondition")
    assert (licence.text, attrs(licence)) == (
        "Creative Commons Attribution-NonCommercial 4.0 International",
        {"startDate": "2099-01-01", "uri": "https://creativecommons.org/licenses/by-nc/4.0/"},
    )
    files = resource.findall("oaire:file", OA)
    assert [(f.text, attrs(f)) for f in files] == [
        (
            "https://ca-c.org/CAC/index.php/cac/article/download/9001/101",
            {"accessRightsURI": EMBARGOED, "mimeType": "application/pdf", "objectType": "fulltext"},
        ),
        (
            "https://ca-c.org/CAC/index.php/cac/article/download/9001/102",
            {"accessRightsURI": EMBARGOED, "mimeType": "text/html", "objectType": "fulltext"},
        ),
    ]
    assert _texts(resource, "dc:format") == ["application/pdf", "text/html"]


def test_full_record_languages(harvested):
    resource = harvested[RICH_ID]
    assert _texts(resource, "dc:language") == ["rus"]
    assert _one(resource, "datacite:titles/datacite:title").get(XML_LANG) == "ru"
    assert _one(resource, "dc:description").get(XML_LANG) == "ru"
    subjects = resource.findall("datacite:subjects/datacite:subject", OA)
    assert [(s.text, s.get(XML_LANG)) for s in subjects] == [
        ("водные ресурсы", "ru"),
        ("Центральная Азия", "ru"),
        ("hydrology", None),
    ]


def test_full_record_type_version_and_citation(harvested):
    resource = harvested[RICH_ID]
    record = rich_record()
    typed = "type" in record
    kind = _one(resource, "oaire:resourceType")
    assert (kind.text, kind.get("uri")) == (
        ("research article", "http://purl.org/coar/resource_type/c_2df8fbb1")
        if typed
        else ("journal article", "http://purl.org/coar/resource_type/c_6501")
    )
    version = _one(resource, "oaire:version")
    assert (version.text, version.get("uri")) == (
        ("AM", "http://purl.org/coar/version/c_ab4af688f83e57aa")
        if "version" in record
        else ("VoR", "http://purl.org/coar/version/c_970fb48d4fbd8a85")
    )
    assert _texts(resource, "dc:publisher") == ["CA&CC Press"]
    assert _texts(resource, "oaire:citationStartPage") == ["101"]
    assert _texts(resource, "oaire:citationEndPage") == ["118"]


# --- other records --------------------------------------------------------------------------


def test_a_record_with_only_what_is_required(oai, load):
    """No authors, journal, abstract, files, licence, DOI, language: still valid."""
    load([make_record(1, authors=[], language=None, rights={"access": "closed"})])
    resource = _get(oai, "article/1")
    assert resource.find("datacite:creators", OA) is None
    assert resource.find("dc:language", OA) is None
    assert resource.find("dc:publisher", OA) is None
    assert resource.find("oaire:licenseCondition", OA) is None
    rights = _one(resource, "datacite:rights")
    assert (rights.text, rights.get("rightsURI")) == (
        "metadata only access",
        "http://purl.org/coar/access_right/c_14cb",
    )
    assert [el.tag.split("}")[1] for el in resource if "citation" in el.tag] == []


def test_an_ended_embargo_counts_as_open(oai, load):
    rights = {
        "access": "embargoed",
        "embargo_until": "2020-06-30",
        "license": "https://creativecommons.org/licenses/by/4.0/",
    }
    files = [{"url": "https://journal.example.org/article/download/2/1", "mime_type": None}]
    load([make_record(2, rights=rights, files=files, published="2019-01-10")])
    resource = _get(oai, "article/2")
    assert _one(resource, "datacite:rights").get("rightsURI") == OPEN
    assert _one(resource, "oaire:file").get("accessRightsURI") == OPEN
    assert "mimeType" not in _one(resource, "oaire:file").attrib
    dates = [(d.get("dateType"), d.text) for d in resource.findall("datacite:dates/*", OA)]
    assert dates == [("Available", "2020-06-30"), ("Issued", "2019-01-10")]
    assert _one(resource, "oaire:licenseCondition").get("startDate") == "2020-06-30"


@pytest.mark.parametrize("field", OPTIONAL_FIELDS)
def test_any_optional_field_may_be_missing(field):
    validate_element(build(without(rich_record(), field)))


def test_a_corrigendum_is_typed_by_its_broader_coar_term():
    """openaire.xsd 4.0 predates COAR's corrigendum (c_7acd): its broader term is used."""
    record, _ = normalize_record(make_record(3))
    kind = build({**record, "type": "corrigendum"}).find("oaire:resourceType", OA)
    assert (kind.text, kind.get("uri")) == (
        "contribution to journal",
        "http://purl.org/coar/resource_type/c_3e5a",
    )


def test_build_declines_a_record_with_neither_doi_nor_url():
    record, _ = normalize_record(make_record(6))
    assert build({**record, "url": None, "doi": None}) is None


@pytest.mark.parametrize(
    ("published", "embargo", "license", "expected"),
    [
        ("2004", None, "https://creativecommons.org/licenses/by/4.0/", None),
        ("2013-11", None, "https://creativecommons.org/licenses/by/4.0/", "2013-11"),
        ("2013-10-31", None, "https://creativecommons.org/licenses/by/4.0/", None),
        ("2021-03-15", None, "https://creativecommons.org/licenses/by/4.0/", "2021-03-15"),
        ("2008", None, "https://creativecommons.org/licenses/by-nc/3.0/br/", "2008"),
        ("2004", None, "https://creativecommons.org/publicdomain/zero/1.0/", None),
        ("1999", None, "https://example.org/licence", "1999"),
        ("2004", "2015-01-01", "https://creativecommons.org/licenses/by/4.0/", "2015-01-01"),
    ],
)
def test_license_start(published, embargo, license, expected):
    rights = {"access": "embargoed" if embargo else "open", "embargo_until": embargo}
    record = {"published": published, "rights": {**rights, "license": license}}
    assert license_start(record) == expected


# --- end to end: Sickle against a real `oaipress serve` --------------------------------------


@pytest.fixture(scope="module", params=["sqlite"] + (["postgresql"] if PG_URL else []))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("openaire")
    url = f"sqlite:///{home / 'store.sqlite'}" if request.param == "sqlite" else PG_URL
    with served_corpus(home, url) as base_url:
        yield base_url


def test_sickle_harvests_oai_openaire_across_pages(server):
    from sickle import Sickle

    sickle = Sickle(server, max_retries=2, default_retry_after=1, timeout=30)
    records = list(sickle.ListRecords(metadataPrefix=PREFIX, ignore_deleted=True))
    identifiers = [r.header.identifier for r in records]
    assert len(identifiers) == len(set(identifiers)) == 22 > 2 * RECORDS_PAGE
    by_id = {r.header.identifier: r for r in records}
    rich = by_id["oai:harvest.example.org:article/9001"]
    assert rich.metadata["identifier"] == [RICH_DOI_URL]
    assert rich.metadata["rights"] == ["embargoed access"]
    assert rich.metadata["licenseCondition"] == [
        "Creative Commons Attribution-NonCommercial 4.0 International"
    ]
    example = by_id["oai:harvest.example.org:article/587"]
    assert example.metadata["language"] == ["eng"]
    assert example.metadata["rights"] == ["open access"]
