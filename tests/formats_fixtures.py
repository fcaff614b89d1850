"""Records every metadata format is tested with: the example article and a full one."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import NS, example_record, harvest

#: Every optional field filled: several authors with ORCIDs and affiliations, a DOI with
#: characters a URI cannot hold, both ISSNs, several files, an embargo, a title that is
#: not in English, references, a type and a version.
RICH: dict[str, Any] = {
    "id": "article/9001",
    "title": "Водные ресурсы Центральной Азии: сотрудничество и споры",
    "language": "ru",
    "type": "research article",
    "version": "accepted",
    "authors": [
        {
            "family": "Иванова",
            "given": "Мария",
            "orcid": "0000-0002-1825-0097",
            "affiliation": "Институт водных проблем РАН",
        },
        {
            "family": "Smith",
            "given": "John Q.",
            "orcid": "https://orcid.org/0000-0001-5109-3700",
            "affiliation": "University of Example",
        },
        {"family": "Nurlanov", "given": None, "orcid": None, "affiliation": None},
    ],
    "abstract": "Статья рассматривает водные ресурсы региона. When T<Tc the flow is stable.",
    "keywords": ["водные ресурсы", "Центральная Азия", "hydrology"],
    "journal": {
        "title": "Central Asia and the Caucasus",
        "issn": "0317-8471",
        "eissn": "1050-124X",
        "publisher": "CA&CC Press",
    },
    "volume": "12",
    "issue": "3",
    "pages": "101-118",
    "published": "2021-03-15",
    "doi": "10.1002/(SICI)1097-4636(199812)43:4<441::AID-JBM5>3.0.CO;2-G",
    "url": "https://ca-c.org/CAC/index.php/cac/article/view/9001",
    "files": [
        {
            "url": "https://ca-c.org/CAC/index.php/cac/article/download/9001/101",
            "mime_type": "application/pdf",
            "label": "PDF",
        },
        {
            "url": "https://ca-c.org/CAC/index.php/cac/article/download/9001/102",
            "mime_type": "text/html",
            "label": "HTML",
        },
    ],
    "references": [
        "Petrov, A. (2019). Rivers of Central Asia. Water Policy, 21(4), 1-20.",
        "Smith, J. (2020). Basins and borders. Journal of Hydrology, 580, 124-139.",
    ],
    "rights": {
        "license": "https://creativecommons.org/licenses/by-nc/4.0/",
        "license_name": "Creative Commons Attribution-NonCommercial 4.0 International",
        "statement": "Copyright (c) 2021 Мария Иванова, John Q. Smith",
        "holder": "Мария Иванова, John Q. Smith",
        "year": 2021,
        "access": "embargoed",
        "embargo_until": "2099-01-01",
    },
    "sets": ["cac"],
}


def rich_record(**fields: Any) -> dict[str, Any]:
    record = copy.deepcopy(RICH)
    record.update(copy.deepcopy(fields))
    return record


def both_records() -> list[dict[str, Any]]:
    """The example article (article/587) and the full record (article/9001)."""
    return [example_record(), rich_record()]


def harvest_payloads(oai: Any, load: Any, prefix: str, root_tag: str) -> dict[str, Any]:
    """Both records loaded and harvested with ListRecords (every response schema-validated);
    each identifier's metadata root, which must be ``root_tag``."""
    load(both_records())
    items, _ = harvest(oai, "ListRecords", metadataPrefix=prefix)
    payloads = {}
    for item in items:
        identifier = item.findtext("oai:header/oai:identifier", namespaces=NS)
        payload = item.find("oai:metadata/*", NS)
        assert payload.tag == root_tag
        payloads[identifier] = payload
    assert set(payloads) == {oai_identifier(r["id"]) for r in both_records()}
    return payloads


def offered_formats(oai: Any) -> dict[str, tuple[str, str]]:
    """ListMetadataFormats as prefix → (namespace, schema)."""
    root = oai(verb="ListMetadataFormats")
    return {
        f.findtext("oai:metadataPrefix", namespaces=NS): (
            f.findtext("oai:metadataNamespace", namespaces=NS),
            f.findtext("oai:schema", namespaces=NS),
        )
        for f in root.iterfind(".//oai:metadataFormat", NS)
    }


def oai_identifier(local_id: str) -> str:
    return f"oai:repo.example.org:{local_id}"
