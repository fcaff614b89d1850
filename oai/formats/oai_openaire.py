"""OpenAIRE Guidelines for Literature Repositories v4 (``oai_openaire``), openaire.xsd 4.0.

What it carries, in the guidelines' field order: title, creators (ORCID iDs,
affiliations), the landing page as alternate identifier when a DOI is the identifier,
ISSN/EISSN (``IsPartOf``), dates (``Issued``; for an embargo ``Accepted`` = its start,
taken to be the publication date, and ``Available`` = its end), language (ISO 639-3),
publisher, COAR resource type, abstract, media types, the identifier, exactly one
``datacite:rights`` (the COAR access right), keywords, ``oaire:licenseCondition``, the
COAR version, one ``oaire:file`` per file and the citation (journal, volume, issue,
pages). The copyright statement and references have no place in the profile.

``licenseCondition@startDate`` is the date the licence took effect: the end of the
embargo when there is one, else the publication date — left out when that date is
before the Creative Commons version was published (a 2004 article under CC BY 4.0 was
relicensed later, on a date the record does not know; metadata.md §2.6).

``datacite:identifier`` is the DOI, as its link (``https://doi.org/…``, percent-encoded,
as the guidelines' "use the identifier link as value" asks), else the landing page
(``URL``).

Cannot express (``build`` returns None): a record with neither a DOI nor a landing URL
(the mandatory identifier). A record without authors has no ``datacite:creators`` (the
profile has no value for anonymous works).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from oai.formats import XSI_NS, MetadataFormat, register
from oai.formats.datacite import (
    DATACITE_NS,
    add_alternate_identifiers,
    add_creators,
    add_issn_relations,
    add_subjects,
    embargo_end,
    lang_of,
    license_text,
    publisher_name,
    sub,
)
from oai.formats.languages import iso639_3
from oai.formats.vocabulary import (
    COAR_ACCESS,
    COAR_RESOURCE_TYPE,
    doi_url,
    effective_access,
    page_range,
    resource_type,
    version,
)

OAIRE_NS = "http://namespace.openaire.eu/schema/oaire/"
DC_NS = "http://purl.org/dc/elements/1.1/"
SCHEMA = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"

_O = f"{{{OAIRE_NS}}}"
_D = f"{{{DATACITE_NS}}}"
_DC = f"{{{DC_NS}}}"

# COAR types newer than the vocabulary openaire.xsd 4.0 enumerates → their broader term.
_BROADER_TYPE = {
    COAR_RESOURCE_TYPE + "c_7acd": (COAR_RESOURCE_TYPE + "c_3e5a", "contribution to journal"),
}

# The month each Creative Commons version was published: a licence cannot have taken
# effect before it. Ported versions came later, so these are lower bounds for them too.
_CC_PUBLISHED = {
    "licenses/1.0": "2002-12",
    "licenses/2.0": "2004-05",
    "licenses/2.5": "2005-06",
    "licenses/3.0": "2007-02",
    "licenses/4.0": "2013-11",
    "publicdomain/1.0": "2009-03",
}


def build(record: dict[str, Any]) -> etree._Element | None:
    """The ``oaire:resource`` element, fields in the guidelines' order; None without id."""
    identifier = _identifier(record)
    if identifier is None:
        return None
    nsmap = {"oaire": OAIRE_NS, "datacite": DATACITE_NS, "dc": DC_NS, "xsi": XSI_NS}
    root = etree.Element(_O + "resource", nsmap=nsmap)
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAIRE_NS} {SCHEMA}")
    titles = sub(root, _D + "titles")
    sub(titles, _D + "title", record["title"], lang_of(record["title"], record))
    add_creators(root, record.get("authors") or [])
    add_alternate_identifiers(root, record)
    add_issn_relations(root, record, "IsPartOf")
    _dates(root, record)
    if record.get("language"):
        sub(root, _DC + "language", iso639_3(record["language"]))
    if publisher_name(record):
        sub(root, _DC + "publisher", publisher_name(record))
    _resource_type(root, record)
    if record.get("abstract"):
        sub(root, _DC + "description", record["abstract"], lang_of(record["abstract"], record))
    files = record.get("files") or []
    for mime in dict.fromkeys(f["mime_type"] for f in files if f.get("mime_type")):
        sub(root, _DC + "format", mime)
    sub(root, _D + "identifier", identifier[1], {"identifierType": identifier[0]})
    access_uri, access_label = COAR_ACCESS[effective_access(record["rights"])]
    sub(root, _D + "rights", access_label, {"rightsURI": access_uri})
    add_subjects(root, record)
    _license_condition(root, record)
    kind = version(record)
    sub(root, _O + "version", kind.coar_label, {"uri": kind.coar})
    _files(root, files, access_uri)
    _citation(root, record)
    return root


def _files(root: etree._Element, files: list[dict[str, Any]], access_uri: str) -> None:
    """One ``oaire:file`` per full text, with the record's access right (no per-file one)."""
    for file in files:
        attrib = {"accessRightsURI": access_uri, "mimeType": file.get("mime_type")}
        sub(root, _O + "file", file["url"], {**attrib, "objectType": "fulltext"})


def _identifier(record: dict[str, Any]) -> tuple[str, str] | None:
    """(type, value): the DOI's link, else the landing page."""
    if record.get("doi"):
        return "DOI", doi_url(record["doi"])
    if record.get("url"):
        return "URL", record["url"]
    return None


def _dates(root: etree._Element, record: dict[str, Any]) -> None:
    """Issued; an embargo under way also has its start (Accepted) and end (Available)."""
    dates = sub(root, _D + "dates")
    rights = record["rights"]
    end = embargo_end(rights)
    if end and effective_access(rights) == "embargoed":
        sub(dates, _D + "date", record["published"], {"dateType": "Accepted"})
    if end:  # after the embargo, the date it ended is still when the text became available
        sub(dates, _D + "date", end, {"dateType": "Available"})
    sub(dates, _D + "date", record["published"], {"dateType": "Issued"})


def _resource_type(root: etree._Element, record: dict[str, Any]) -> None:
    kind = resource_type(record)
    uri, label = _BROADER_TYPE.get(kind.coar, (kind.coar, kind.label))
    attrib = {"resourceTypeGeneral": "literature", "uri": uri}
    sub(root, _O + "resourceType", label, attrib)


def _license_condition(root: etree._Element, record: dict[str, Any]) -> None:
    rights = record["rights"]
    if not rights.get("license"):
        return
    name, _ = license_text(rights)
    attrib = {"startDate": license_start(record), "uri": rights["license"]}
    sub(root, _O + "licenseCondition", name, attrib)


def license_start(record: dict[str, Any]) -> str | None:
    """When the licence took effect: the embargo's end, else publication; None if unknown."""
    start = embargo_end(record["rights"]) or record["published"]
    published = _cc_published(record["rights"]["license"])
    latest_day = start + "-12-31"[len(start) - 4 :]  # the last day "2004" or "2004-05" can be
    if published and latest_day < published:
        return None
    return start


def _cc_published(uri: str) -> str | None:
    prefix = "https://creativecommons.org/"
    if not uri.startswith(prefix):
        return None
    parts = uri[len(prefix) :].strip("/").split("/")
    if len(parts) < 3:
        return None
    return _CC_PUBLISHED.get(f"{parts[0]}/{parts[2]}")


def _citation(root: etree._Element, record: dict[str, Any]) -> None:
    first, last = page_range(record.get("pages"))
    for tag, value in (
        ("citationTitle", (record.get("journal") or {}).get("title")),
        ("citationVolume", record.get("volume")),
        ("citationIssue", record.get("issue")),
        ("citationStartPage", first),
        ("citationEndPage", last),
    ):
        if value:
            sub(root, _O + tag, value)


OAI_OPENAIRE = register(MetadataFormat("oai_openaire", OAIRE_NS, SCHEMA, "1", build))
