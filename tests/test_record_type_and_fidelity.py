"""Issue 7 fidelity: what a record is (type, version), reserved sets, licence and DOI forms."""

from __future__ import annotations

import pytest

from oai.formats import vocabulary
from records.validate import (
    RESOURCE_TYPES,
    VERSIONS,
    RecordError,
    normalize_license,
    normalize_record,
)
from tests.conftest import NS, make_record
from tests.formats_fixtures import rich_record

IDENTIFIER = "oai:repo.example.org:article/1"


def test_the_import_vocabulary_and_the_formats_vocabulary_agree():
    assert set(RESOURCE_TYPES) == set(vocabulary.RESOURCE_TYPES)
    assert set(VERSIONS) == set(vocabulary.VERSIONS)
    assert vocabulary.DEFAULT_TYPE in RESOURCE_TYPES
    assert vocabulary.DEFAULT_VERSION in VERSIONS


@pytest.mark.parametrize(("field", "value"), [("type", "novel"), ("version", "draft")])
def test_an_unknown_type_or_version_is_refused_with_the_field(field, value):
    with pytest.raises(RecordError) as info:
        normalize_record(make_record(1, **{field: value}))
    assert info.value.field == field


def test_old_records_without_type_and_version_keep_their_canonical_form():
    record, _ = normalize_record(make_record(1))
    assert "type" not in record and "version" not in record


@pytest.mark.parametrize("spec", ["driver", "openaire", "driver:x"])
def test_the_computed_sets_cannot_be_named_by_an_import(spec):
    with pytest.raises(RecordError) as info:
        normalize_record(make_record(1, sets=[spec]))
    assert info.value.field == "sets[0]" and "reserved" in info.value.message


@pytest.mark.parametrize(
    "spelling",
    [
        "https://creativecommons.org/licenses/by/4.0/deed",
        "https://creativecommons.org/licenses/by/4.0/deed.pt_BR",
        "http://www.creativecommons.org/licenses/by/4.0/deed.en/",
        "https://creativecommons.org/licenses/by/4.0/legalcode.de",
        "HTTPS://creativecommons.org/licenses/BY/4.0",
    ],
)
def test_every_creative_commons_spelling_is_made_canonical(spelling):
    assert normalize_license(spelling) == "https://creativecommons.org/licenses/by/4.0/"


def test_type_and_version_are_stored_exported_and_say_what_the_record_is(app, oai, load):
    from records.queries import iter_records, record_to_dict

    load([make_record(1, type="book review", version="accepted")])
    with app.extensions["oaipress.store"].session() as session:
        (stored,) = [record_to_dict(r) for r in iter_records(session)]
    assert (stored["type"], stored["version"]) == ("book review", "accepted")
    root = oai(verb="GetRecord", identifier=IDENTIFIER, metadataPrefix="oai_dc")
    assert root.xpath("//dc:type/text()", namespaces=NS)[:2] == [
        "info:eu-repo/semantics/review",
        "info:eu-repo/semantics/acceptedVersion",
    ]


def test_a_doi_with_characters_a_uri_cannot_hold_is_percent_encoded_in_oai_dc(app, oai, load):
    record = rich_record(id="article/1")
    load([record])
    root = oai(verb="GetRecord", identifier=IDENTIFIER, metadataPrefix="oai_dc")
    urls = [u for u in root.xpath("//dc:identifier/text()", namespaces=NS) if "doi.org" in u]
    assert urls == [
        "https://doi.org/10.1002/(SICI)1097-4636(199812)43:4%3C441::AID-JBM5%3E3.0.CO;2-G"
    ]
    # Only text in the record's language (Russian) carries xml:lang.
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for element in root.iterfind(".//dc:source", NS):
        assert element.get(lang) is None
    assert root.find(".//dc:title", NS).get(lang) == "ru"
