"""The offline OAI-PMH response validator (tests/xmlvalidate.py) accepts and rejects the right
documents. Samples are the copies in tests/samples (see its SOURCES.md for their verdicts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from tests.xmlvalidate import (
    OAI_NS,
    SCHEMA_DIR,
    schema_url_for,
    validate_element,
    validate_oai_response,
)

SAMPLES = Path(__file__).resolve().parent / "samples"

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
RIGHTS_NS = "http://www.openarchives.org/OAI/2.0/rights/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

VALID_RESPONSES = [
    "oai-spec_ex-sec4.2_Identify.xml",
    "oai-spec_ex-sec2.5_ListRecords.xml",
    "oai-spec_rights-ex-sec3a_GetRecord.xml",
    "oai-spec_rights-ex-sec4b_ListSets.xml",
    "oai-spec_rights-ex-secA1_GetRecord.xml",
    "oai-site_loc-marc21_GetRecord.xml",
    "sickle_GetRecord.xml",
]


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def get_record(payload: str, about: str = "") -> bytes:
    """A minimal valid GetRecord response around one metadata payload."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="{OAI_NS}"
         xmlns:xsi="{XSI_NS}"
         xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
  <responseDate>2024-01-01T00:00:00Z</responseDate>
  <request verb="GetRecord" identifier="oai:example.org:1"
           metadataPrefix="oai_dc">https://example.org/oai</request>
  <GetRecord>
    <record>
      <header>
        <identifier>oai:example.org:1</identifier>
        <datestamp>2024-01-01</datestamp>
      </header>
      <metadata>
{payload}
      </metadata>{about}
    </record>
  </GetRecord>
</OAI-PMH>
""".encode()


def oai_dc(*elements: str, schema_location: str | None = None) -> str:
    location = schema_location or f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    body = "\n".join(f"          {element}" for element in elements)
    return f"""        <oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}"
            xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{location}">
{body}
        </oai_dc:dc>"""


def rejection(xml: bytes) -> str:
    with pytest.raises(AssertionError) as caught:
        validate_oai_response(xml)
    return str(caught.value)


# ------------------------------------------------------------------ samples from the kit


@pytest.mark.parametrize("name", VALID_RESPONSES)
def test_published_valid_responses_pass(name):
    tree = validate_oai_response(sample(name))

    assert isinstance(tree, etree._ElementTree)
    assert tree.getroot().tag == f"{{{OAI_NS}}}OAI-PMH"


def test_spec_bad_argument_example_fails_on_its_malformed_until_datestamp():
    message = rejection(sample("oai-spec_ex-sec4.5c_badArgument.xml"))

    assert "(1 error)" in message
    assert "line 9: /OAI-PMH/request" in message
    assert "2002-06-01T03:020:00Z" in message


def test_every_error_of_a_response_is_listed_with_line_and_path():
    message = rejection(sample("sickle_ListRecords4.xml"))

    assert "(2 errors)" in message
    assert "line 8: /OAI-PMH/ListRecords/record[1]/header" in message
    assert "Expected is ( {http://www.openarchives.org/OAI/2.0/}identifier )" in message
    assert "line 22: /OAI-PMH/ListRecords/record[2]/metadata/oai_dc:dc" in message
    assert "Character content other than whitespace" in message


def test_identify_descriptions_are_each_checked_against_their_own_schema():
    broken = sample("oai-spec_ex-sec4.2_Identify.xml").replace(
        b"<delimiter>:</delimiter>", b"<delimiter>::</delimiter>"
    )

    message = rejection(broken)

    assert "/OAI-PMH/Identify/description[1]/oai-identifier/delimiter" in message
    assert "[oai-identifier.xsd]" in message


def test_provenance_in_about_is_checked_against_provenance_schema():
    broken = sample("oai-spec_ex-sec2.5_ListRecords.xml").replace(
        b'altered="true"', b'altered="maybe"'
    )

    message = rejection(broken)

    assert "[provenance.xsd]" in message
    assert "originDescription" in message


# ------------------------------------------------------------------ rights vs rightsManifest


def test_rights_and_rights_manifest_roots_use_their_own_schemas():
    assert schema_url_for(RIGHTS_NS, "rights").endswith("/OAI/2.0/rights.xsd")
    assert schema_url_for(RIGHTS_NS, "rightsManifest").endswith("/OAI/2.0/rightsManifest.xsd")


def test_rights_manifest_in_set_description_is_validated():
    broken = sample("oai-spec_rights-ex-sec4b_ListSets.xml").replace(
        b'appliesTo="http://www.openarchives.org/OAI/2.0/entity#metadata">\n        <rights>\n'
        b"          <rightsReference ref",
        b'appliesTo="http://www.openarchives.org/OAI/2.0/entity#record">\n        <rights>\n'
        b"          <rightsReference ref",
    )
    assert broken != sample("oai-spec_rights-ex-sec4b_ListSets.xml")

    message = rejection(broken)

    assert "/OAI-PMH/ListSets/set[3]/setDescription/rightsManifest" in message
    assert "[rightsManifest.xsd]" in message
    assert "appliesTo" in message


def test_oai_dc_nested_in_a_rights_definition_is_validated_strictly():
    broken = sample("oai-spec_rights-ex-sec3a_GetRecord.xml").replace(
        b"<dc:date>2002-11</dc:date>", b"<dc:foo>2002-11</dc:foo>"
    )

    message = rejection(broken)

    assert "/about/rights/rightsDefinition/oai_dc:dc/dc:foo" in message
    assert "{http://purl.org/dc/elements/1.1/}foo': This element is not expected" in message


def test_unknown_namespace_nested_in_a_rights_definition_fails():
    broken = sample("oai-spec_rights-ex-sec3a_GetRecord.xml").replace(
        b"<rightsDefinition>",
        b'<rightsDefinition><lic:licence xmlns:lic="urn:example:licence"/>',
    )

    message = rejection(broken)

    assert "urn:example:licence" in message


# ------------------------------------------------------------------ payload problems


def test_well_formed_oai_dc_payload_passes():
    validate_oai_response(get_record(oai_dc("<dc:title>A title</dc:title>")))


def test_oai_dc_payload_with_an_element_not_in_dublin_core_fails():
    xml = get_record(oai_dc("<dc:title>A title</dc:title>", "<dc:foo>bar</dc:foo>"))

    message = rejection(xml)

    assert "/OAI-PMH/GetRecord/record/metadata/oai_dc:dc/dc:foo" in message
    assert "[oai_dc.xsd]" in message


def test_payload_in_an_unknown_namespace_fails_naming_the_namespace():
    xml = get_record('<x:thing xmlns:x="urn:example:unknown"><x:a>1</x:a></x:thing>')

    message = rejection(xml)

    assert "no schema in the kit for namespace urn:example:unknown" in message
    assert "/OAI-PMH/GetRecord/record/metadata/x:thing" in message


def test_payload_without_a_namespace_fails():
    message = rejection(get_record('<dc xmlns=""><title>A title</title></dc>'))

    assert "/OAI-PMH/GetRecord/record/metadata/dc: element has no namespace" in message


def test_payload_left_in_the_oai_namespace_fails():
    message = rejection(get_record("<dc><title>A title</title></dc>"))

    assert "/OAI-PMH/GetRecord/record/metadata/dc: element in the OAI-PMH namespace" in message


def test_payload_root_that_its_schema_does_not_declare_globally_fails():
    xml = get_record(f'<dc:nonsense xmlns:dc="{DC_NS}">A title</dc:nonsense>')

    message = rejection(xml)

    assert "dc:nonsense" in message


def test_about_must_hold_valid_content_too():
    about = f"""
      <about>
        <rights xmlns="{RIGHTS_NS}"><rightsReference/></rights>
      </about>"""
    xml = get_record(oai_dc("<dc:title>A title</dc:title>"), about=about)

    message = rejection(xml)

    assert "/OAI-PMH/GetRecord/record/about/rights/rightsReference" in message
    assert "[rights.xsd]" in message
    assert "'ref' is required" in message


def test_openaire_record_in_a_response_uses_openaire_own_dc_and_datacite_schemas():
    record = sample("openaire_sample_journalarticle1.xml").decode("utf-8")
    payload = record.split("?>", 1)[1]

    validate_oai_response(get_record(payload))


# ------------------------------------------------------------------ xsi:schemaLocation sanity


def test_schema_location_naming_another_namespace_fails():
    location = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    xml = get_record(oai_dc("<dc:title>A title</dc:title>", schema_location=location))

    message = rejection(xml)

    assert f"names namespace {OAI_NS}" in message
    assert f"element is in namespace {OAI_DC_NS}" in message


def test_schema_location_pointing_at_another_namespace_schema_fails():
    location = f"{OAI_DC_NS} http://dublincore.org/schemas/xmls/simpledc20021212.xsd"
    xml = get_record(oai_dc("<dc:title>A title</dc:title>", schema_location=location))

    message = rejection(xml)

    assert f"whose targetNamespace is {DC_NS}" in message


def test_schema_location_with_an_odd_number_of_tokens_fails():
    xml = get_record(oai_dc("<dc:title>A title</dc:title>", schema_location=OAI_DC_NS))

    assert "namespace/URL pairs" in rejection(xml)


# ------------------------------------------------------------------ parsing


def test_malformed_xml_fails_with_its_line():
    xml = get_record(oai_dc("<dc:title>A title</dc:titel>"))

    message = rejection(xml)

    assert "(1 error)" in message
    assert re.search(r"line 17: /: not well-formed: .*mismatch.*titel", message)


def test_bytes_that_are_not_utf8_fail():
    xml = get_record(oai_dc("<dc:title>Caf\u00e9</dc:title>")).decode().encode("latin-1")

    assert "not UTF-8" in rejection(xml)


def test_declared_encoding_other_than_utf8_fails():
    xml = get_record(oai_dc("<dc:title>plain</dc:title>")).replace(
        b'encoding="UTF-8"', b'encoding="ISO-8859-1"'
    )

    assert "encoding must be UTF-8" in rejection(xml)


def test_str_input_is_refused():
    with pytest.raises(TypeError):
        validate_oai_response(sample("sickle_GetRecord.xml").decode())


# ------------------------------------------------------------------ standalone elements


def test_standalone_openaire_record_passes():
    root = validate_element(sample("openaire_sample_journalarticle1.xml"))

    assert etree.QName(root).localname == "resource"


def test_standalone_oai_dc_built_in_code_passes():
    dc = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})
    etree.SubElement(dc, f"{{{DC_NS}}}title").text = "A title"
    etree.SubElement(dc, f"{{{DC_NS}}}creator").text = "Doe, Jane"

    assert validate_element(dc) is dc
    assert validate_element(dc.getroottree(), namespace=OAI_DC_NS) is dc


def test_standalone_element_with_wrong_content_fails():
    dc = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})
    etree.SubElement(dc, f"{{{DC_NS}}}foo").text = "x"

    with pytest.raises(AssertionError, match=r"/oai_dc:dc/dc:foo"):
        validate_element(dc)


def test_standalone_element_in_unknown_namespace_fails():
    with pytest.raises(AssertionError, match="urn:example:unknown"):
        validate_element(etree.Element("{urn:example:unknown}thing"))


# ------------------------------------------------------------------ the kit itself


def test_schemas_come_from_the_copy_inside_tests():
    assert SCHEMA_DIR == Path(__file__).resolve().parent / "schemas"
    assert (SCHEMA_DIR / "catalog.json").is_file()


def test_envelope_schema_file_is_left_strict_on_disk():
    validate_oai_response(sample("sickle_GetRecord.xml"))

    text = (SCHEMA_DIR / "www.openarchives.org/OAI/2.0/OAI-PMH.xsd").read_text("utf-8")
    assert text.count('processContents="strict"') == 3
    assert 'processContents="lax"' not in text
