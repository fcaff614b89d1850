"""Identify (§4.2): what the repository says about itself, checked against what it serves."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from records.ingest import ImportRejected
from tests.conftest import (
    NS,
    T0,
    Clock,
    OAIClient,
    example_record,
    harvest,
    identifiers,
    load_records,
    make_record,
    set_repository_clock,
)

CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
METADATA_ENTITY = "http://www.openarchives.org/OAI/2.0/entity#metadata"


def identify(oai: OAIClient, method: str = "GET") -> etree._Element:
    root = oai(method, verb="Identify")
    element = root.find("oai:Identify", NS)
    assert element is not None, etree.tostring(root)[:500]
    return element


def texts(element: etree._Element, path: str) -> list[str]:
    return [e.text for e in element.findall(path, NS)]


def test_identify_reports_name_base_url_protocol_version_and_both_admin_emails(app, oai):
    """§4.2 Identify: repositoryName, baseURL, protocolVersion 2.0, every adminEmail."""
    element = identify(oai)
    assert texts(element, "oai:repositoryName") == ["Test repository"]
    assert texts(element, "oai:baseURL") == ["http://repo.example.org/oai"]
    assert texts(element, "oai:protocolVersion") == ["2.0"]
    assert texts(element, "oai:adminEmail") == ["admin@example.org", "help@example.org"]


def test_identify_declares_persistent_deletions_second_granularity_and_compression(app, oai):
    """§4.2 with §2.5.1 (deletedRecord), §3.3.1 (granularity) and §3.1.3 (compression)."""
    element = identify(oai)
    assert texts(element, "oai:deletedRecord") == ["persistent"]
    assert texts(element, "oai:granularity") == ["YYYY-MM-DDThh:mm:ssZ"]
    assert texts(element, "oai:compression") == ["gzip", "deflate"]


def test_identify_request_element_echoes_the_verb_and_carries_the_base_url(app, oai):
    """§3.2: <request> holds the base URL and echoes verb=Identify."""
    root = oai(verb="Identify")
    request = root.find("oai:request", NS)
    assert request.text == "http://repo.example.org/oai"
    assert dict(request.attrib) == {"verb": "Identify"}


def test_identify_over_post_answers_as_over_get(app, oai):
    """§3.1.1.2: POST is supported for every verb, Identify included."""
    get = identify(oai)
    post = identify(oai, "POST")
    assert etree.tostring(post) == etree.tostring(get)


def test_identify_base_url_is_derived_from_the_request_when_not_configured(make_app):
    """§4.2 baseURL and §3.2 <request>: without OAIPRESS_BASE_URL, the URL the client used."""
    app = make_app(OAIPRESS_BASE_URL=None)
    oai = OAIClient(app.test_client())
    for base in ("https://mirror.example.net", "http://127.0.0.1:8080/journals"):
        response = oai.client.get("/oai", query_string={"verb": "Identify"}, base_url=base)
        root = oai.check(response)
        assert root.findtext("oai:Identify/oai:baseURL", namespaces=NS) == f"{base}/oai"
        assert root.findtext("oai:request", namespaces=NS) == f"{base}/oai"


def test_identify_earliest_datestamp_is_the_oldest_datestamp_including_deleted_records(
    app, oai, load
):
    """§4.2 earliestDatestamp: the lower limit of all datestamps, deletions included."""
    load([make_record(1), make_record(2)], now=Clock(datetime(2021, 5, 1)))
    load(
        [{"id": "article/0", "deleted": True, "datestamp": "2019-03-04T05:06:07Z"}],
        keep_datestamps=True,
    )
    earliest = identify(oai).findtext("oai:earliestDatestamp", namespaces=NS)
    assert earliest == "2019-03-04T05:06:07Z"
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    stamps = [h.findtext("oai:datestamp", namespaces=NS) for h in items]
    assert min(stamps) == earliest
    deleted = [h for h in items if h.get("status") == "deleted"]
    assert [h.findtext("oai:datestamp", namespaces=NS) for h in deleted] == [earliest]


def test_identify_earliest_datestamp_of_an_empty_repository_is_the_current_time(app, oai):
    """§4.2 earliestDatestamp: with nothing stored, now is a guaranteed lower limit."""
    set_repository_clock(app, lambda: datetime(2024, 2, 29, 12, 30, 45))
    element = identify(oai)
    assert element.findtext("oai:earliestDatestamp", namespaces=NS) == "2024-02-29T12:30:45Z"


def test_identify_earliest_datestamp_follows_a_change_of_the_oldest_record(app, oai, load):
    """§4.2 earliestDatestamp: the minimum of the current datestamps (§2.7.1: a change moves
    a record's datestamp), so harvesting from it still returns every record."""
    clock = Clock(T0)
    load([make_record(1)], now=clock)
    load([make_record(2)], now=clock)
    load([make_record(1, title="Changed")], now=Clock(datetime(2022, 1, 1)))
    element = identify(oai)
    earliest = element.findtext("oai:earliestDatestamp", namespaces=NS)
    assert earliest == "2020-01-01T00:00:01Z"
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", from_=earliest)
    assert len(items) == 2


def oai_identifier(element: etree._Element) -> etree._Element:
    found = element.findall("oai:description/id:oai-identifier", NS)
    assert len(found) == 1
    return found[0]


def test_identify_oai_identifier_description_matches_every_served_identifier(app, oai, load):
    """§4.2 description, OAI identifier guidelines §2.1/§3: scheme, repositoryIdentifier,
    delimiter and sampleIdentifier agree with the identifiers the lists serve."""
    load([example_record(), make_record(1), make_record(2, id="article/2;suppl")])
    description = oai_identifier(identify(oai))
    assert description.findtext("id:scheme", namespaces=NS) == "oai"
    assert description.findtext("id:repositoryIdentifier", namespaces=NS) == "repo.example.org"
    assert description.findtext("id:delimiter", namespaces=NS) == ":"
    sample = description.findtext("id:sampleIdentifier", namespaces=NS)
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    served = identifiers(items)
    assert len(served) == 3
    assert all(i.startswith("oai:repo.example.org:") for i in served)
    assert sample in served
    root = oai(verb="GetRecord", identifier=sample, metadataPrefix="oai_dc")
    assert root.findtext("oai:GetRecord/oai:record/oai:header/oai:identifier", namespaces=NS) == (
        sample
    )


def test_identify_oai_identifier_follows_the_configured_repository_identifier(make_app):
    """§4.2 description, OAI identifier guidelines §2.1: another repositoryIdentifier is used
    both in the description and in every header."""
    app = make_app(OAIPRESS_REPOSITORY_IDENTIFIER="journals.example.net")
    load_records(app, [make_record(1), make_record(2)])
    oai = OAIClient(app.test_client())
    description = oai_identifier(identify(oai))
    assert description.findtext("id:repositoryIdentifier", namespaces=NS) == "journals.example.net"
    sample = description.findtext("id:sampleIdentifier", namespaces=NS)
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    served = identifiers(items)
    assert all(i.startswith("oai:journals.example.net:") for i in served)
    assert sample in served


def test_identify_oai_identifier_of_an_empty_repository_still_has_a_sample(app, oai):
    """OAI identifier guidelines §3: sampleIdentifier is required even with no records."""
    description = oai_identifier(identify(oai))
    sample = description.findtext("id:sampleIdentifier", namespaces=NS)
    assert sample.startswith("oai:repo.example.org:")


def test_stored_identifier_with_a_bare_percent_is_refused_or_served_as_a_uri(app, oai, load):
    """§2.4 and §3.2: every served identifier is a URI; a local id like `article/50%` must be
    refused at import or escaped, never served as an invalid identifier."""
    try:
        load([make_record(1, id="article/50%")])
    except ImportRejected:
        return
    harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")


def rights_manifest(element: etree._Element) -> etree._Element:
    found = element.findall("oai:description/rights:rightsManifest", NS)
    assert len(found) == 1
    return found[0]


def test_identify_rights_manifest_states_the_metadata_is_cc0_by_default(app, oai):
    """Rights guidelines §4.1: a rightsManifest appliesTo entity#metadata; CC0 by default."""
    manifest = rights_manifest(identify(oai))
    assert manifest.get("appliesTo") == METADATA_ENTITY
    refs = manifest.findall("rights:rights/rights:rightsReference", NS)
    assert [r.get("ref") for r in refs] == [CC0]


def test_identify_rights_manifest_follows_the_configured_metadata_licence(make_app):
    """Rights guidelines §3 and §4.1: OAIPRESS_METADATA_LICENSE changes the manifest and the
    record-level <about> together."""
    app = make_app(OAIPRESS_METADATA_LICENSE=CC_BY)
    load_records(app, [make_record(1)])
    oai = OAIClient(app.test_client())
    manifest = rights_manifest(identify(oai))
    assert [r.get("ref") for r in manifest.iter("{*}rightsReference")] == [CC_BY]
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/1", metadataPrefix="oai_dc"
    )
    about = root.findall("oai:GetRecord/oai:record/oai:about", NS)
    assert [r.get("ref") for a in about for r in a.iter("{*}rightsReference")] == [CC_BY]


def test_identify_with_any_argument_is_bad_argument(app, oai):
    """§4.2 Identify takes no arguments; §3.6 badArgument, §3.2 no attributes on <request>."""
    code, root = oai.error(verb="Identify", identifier="oai:repo.example.org:article/1")
    assert code == "badArgument"
    assert dict(root.find("oai:request", NS).attrib) == {}
