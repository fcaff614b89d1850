"""MODS 3.8 (`mods`), for digital libraries: the article as one ``<mods>`` record.

Where each part of the record goes:

- ``titleInfo/title``; ``name type="personal"`` per author (the first ``usage="primary"``)
  with ``namePart`` family/given, ``nameIdentifier type="orcid"`` (the iD as a URI),
  ``affiliation`` and ``role/roleTerm`` marcrelator ``aut``.
- ``typeOfResource`` text; ``genre`` the resource type (authority ``coar``, ``valueURI``);
  ``originInfo``: ``dateIssued`` (w3cdtf, keyDate) and ``copyrightDate``;
  ``language/languageTerm`` ISO 639-2/B; ``physicalDescription/internetMediaType`` per
  file type; ``abstract``; ``note type="version identification"`` the version (COAR);
  ``subject/topic`` per keyword.
- ``relatedItem type="host"``: the journal's title, publisher, ISSNs
  (``identifier type="issn"`` with ``displayLabel`` ``print`` / ``online``) and
  ``part``: volume, issue, pages (``extent unit="pages"`` start/end, or ``list`` when
  the pages are not a range) and date.
- ``identifier type="doi"`` (bare) and ``type="uri"`` (the landing page);
  ``location/url``: the landing page (``usage="primary"``: 3.8 deprecates "primary
  display"), the DOI as a percent-encoded URL, each file (``access="raw object"``).
- Rights, in ``accessCondition``: ``type="use and reproduction"`` with ``xlink:href`` =
  the licence URI and its name as text; a second ``use and reproduction`` holding the
  copyright statement; ``type="restriction on access"`` with the COAR access right
  (``authority="coar"``, ``valueURI``), which for an embargo ends "until YYYY-MM-DD".
- References: one ``relatedItem type="references"`` each (the work cites it), holding the
  raw citation in ``note type="citation/reference"``; raw strings are no titles.
- ``recordInfo/recordIdentifier`` the local id.

``xml:lang`` (BCP 47) marks the text written in the record's language: title, abstract,
keywords. The journal's title, the copyright statement and the licence name are not
translations and carry none.

Disseminated for every record (every one has a title, date and landing page), so
``build`` never returns None.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from oai.formats import XML_LANG, XSI_NS, MetadataFormat, Prototypes, register
from oai.formats.languages import iso639_2b
from oai.formats.vocabulary import (
    COAR_ACCESS,
    COAR_ACCESS_RIGHT,
    COAR_RESOURCE_TYPE,
    copyright_statement,
    doi_url,
    effective_access,
    license_info,
    resource_type,
    version,
)

MODS_NS = "http://www.loc.gov/mods/v3"
XLINK_NS = "http://www.w3.org/1999/xlink"
SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
XLINK_HREF = f"{{{XLINK_NS}}}href"
MARC_RELATORS = "http://id.loc.gov/vocabulary/relators"

_PAGE_RANGE = re.compile(r"\s*(\S+?)\s*[-–—]\s*(\S+)\s*")


_NSMAP = {None: MODS_NS, "xlink": XLINK_NS, "xsi": XSI_NS}
_PROTOTYPES = Prototypes(_NSMAP)
#: A reference, one per cited work: relatedItem type="references" with its note.
_REFERENCE = etree.Element(f"{{{MODS_NS}}}relatedItem", {"type": "references"}, nsmap=_NSMAP)
etree.SubElement(_REFERENCE, f"{{{MODS_NS}}}note", {"type": "citation/reference"})
_TAGS: dict[str, str] = {}


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A MODS child; attribute names in Clark notation pass through (xml:lang, xlink)."""
    tag = _TAGS.get(name) or _TAGS.setdefault(name, f"{{{MODS_NS}}}{name}")
    if not attrs:
        element = etree.SubElement(parent, tag)
        if text is not None:
            element.text = text
        return element
    return _PROTOTYPES.sub(parent, tag, tuple(attrs.items()), text)


def _lang(record: dict[str, Any]) -> dict[str, str]:
    """The xml:lang attribute for text in the record's language, when it has one."""
    return {XML_LANG: record["language"]} if record.get("language") else {}


def build(record: dict[str, Any]) -> etree._Element:
    root = etree.Element(f"{{{MODS_NS}}}mods", nsmap=_NSMAP)
    root.set("version", "3.8")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MODS_NS} {SCHEMA}")
    _el(_el(root, "titleInfo", **_lang(record)), "title", record["title"])
    for position, author in enumerate(record.get("authors") or []):
        _name(root, author, primary=position == 0)
    _el(root, "typeOfResource", "text")
    _genre(root, record)
    _origin(root, record)
    _language(root, record)
    _media_types(root, record)
    if record.get("abstract"):
        _el(root, "abstract", record["abstract"], **_lang(record))
    v = version(record)
    _el(root, "note", v.coar_label, type="version identification", **{XLINK_HREF: v.coar})
    for keyword in record.get("keywords") or []:
        _el(_el(root, "subject", **_lang(record)), "topic", keyword)
    _host(root, record)
    _identifiers(root, record)
    _location(root, record)
    _rights(root, record["rights"])
    for reference in record.get("references") or []:
        item = _REFERENCE.__copy__()  # relatedItem type="references" / note: one copy
        item[0].text = reference
        root.append(item)
    _el(_el(root, "recordInfo"), "recordIdentifier", record["id"])
    return root


def _name(root: etree._Element, author: dict[str, Any], *, primary: bool) -> None:
    name = _el(root, "name", type="personal", **({"usage": "primary"} if primary else {}))
    _el(name, "namePart", author["family"], type="family")
    if author.get("given"):
        _el(name, "namePart", author["given"], type="given")
    if author.get("orcid"):
        orcid = author["orcid"]
        uri = orcid if orcid.startswith("http") else f"https://orcid.org/{orcid}"
        _el(name, "nameIdentifier", uri, type="orcid")
    if author.get("affiliation"):
        _el(name, "affiliation", author["affiliation"])
    role = _el(name, "role")
    _el(
        role,
        "roleTerm",
        "aut",
        type="code",
        authority="marcrelator",
        authorityURI=MARC_RELATORS,
        valueURI=f"{MARC_RELATORS}/aut",
    )


def _genre(root: etree._Element, record: dict[str, Any]) -> None:
    t = resource_type(record)
    _el(
        root,
        "genre",
        t.label,
        authority="coar",
        authorityURI=COAR_RESOURCE_TYPE,
        valueURI=t.coar,
        usage="primary",
    )


def _origin(root: etree._Element, record: dict[str, Any]) -> None:
    origin = _el(root, "originInfo", eventType="publication")
    _el(origin, "dateIssued", record["published"], encoding="w3cdtf", keyDate="yes")
    year = record["rights"].get("year")
    if year:
        _el(origin, "copyrightDate", str(year), encoding="w3cdtf")


def _language(root: etree._Element, record: dict[str, Any]) -> None:
    """ISO 639-2/B; a tag without a 639-2 code is given as it is (RFC 5646)."""
    tag = record.get("language")
    if not tag:
        return
    code = iso639_2b(tag)
    if not re.fullmatch(r"[a-z]{3}", code):
        code, authority = tag, "rfc5646"
    else:
        authority = "iso639-2b"
    _el(_el(root, "language"), "languageTerm", code, type="code", authority=authority)


def _media_types(root: etree._Element, record: dict[str, Any]) -> None:
    types = dict.fromkeys(f["mime_type"] for f in record.get("files") or [] if f.get("mime_type"))
    if types:
        description = _el(root, "physicalDescription")
        for mime in types:
            _el(description, "internetMediaType", mime)


def _pages(part: etree._Element, pages: str) -> None:
    """extent start/end for a range (or a single page), list for anything else."""
    extent = _el(part, "extent", unit="pages")
    match = _PAGE_RANGE.fullmatch(pages)
    if match:
        _el(extent, "start", match.group(1))
        _el(extent, "end", match.group(2))
    elif " " not in pages.strip() and "," not in pages:
        _el(extent, "start", pages.strip())
    else:
        _el(extent, "list", pages)


def _host(root: etree._Element, record: dict[str, Any]) -> None:
    """relatedItem type="host": the journal and where in it the article is."""
    journal = record.get("journal") or {}
    volume, issue, pages = record.get("volume"), record.get("issue"), record.get("pages")
    if not (any(journal.values()) or volume or issue or pages):
        return
    host = _el(root, "relatedItem", type="host")
    if journal.get("title"):
        _el(_el(host, "titleInfo"), "title", journal["title"])
    origin = _el(host, "originInfo")
    if journal.get("publisher"):
        _el(origin, "publisher", journal["publisher"])
    _el(origin, "issuance", "serial")
    for key, label in (("issn", "print"), ("eissn", "online")):
        if journal.get(key):
            _el(host, "identifier", journal[key], type="issn", displayLabel=label)
    part = _el(host, "part")
    if volume:
        _el(_el(part, "detail", type="volume"), "number", volume)
    if issue:
        _el(_el(part, "detail", type="issue"), "number", issue)
    if pages:
        _pages(part, pages)
    _el(part, "date", record["published"], encoding="w3cdtf")


def _identifiers(root: etree._Element, record: dict[str, Any]) -> None:
    if record.get("doi"):
        _el(root, "identifier", record["doi"], type="doi")
    _el(root, "identifier", record["url"], type="uri")


def _location(root: etree._Element, record: dict[str, Any]) -> None:
    """The landing page first (the primary URL), the DOI's URL, then each file."""
    location = _el(root, "location")
    _el(location, "url", record["url"], usage="primary", access="object in context")
    if record.get("doi"):
        _el(location, "url", doi_url(record["doi"]), access="object in context", displayLabel="DOI")
    for file in record.get("files") or []:
        label = {"displayLabel": file["label"]} if file.get("label") else {}
        _el(location, "url", file["url"], access="raw object", **label)


def _rights(root: etree._Element, rights: dict[str, Any]) -> None:
    """Licence (by URI and name), copyright statement, access right (and embargo end)."""
    info = license_info(rights.get("license"))
    name = (info.name if info else None) or rights.get("license_name")
    if info or name:
        href = {XLINK_HREF: info.uri} if info else {}
        text = name or (info.uri if info else None)
        _el(
            root,
            "accessCondition",
            text,
            type="use and reproduction",
            displayLabel="License",
            **href,
        )
    statement = copyright_statement(rights)
    if statement:
        _el(
            root,
            "accessCondition",
            statement,
            type="use and reproduction",
            displayLabel="Copyright",
        )
    access = effective_access(rights)
    uri, label = COAR_ACCESS[access]
    if access == "embargoed" and rights.get("embargo_until"):
        label += f" until {rights['embargo_until']}"
    _el(
        root,
        "accessCondition",
        label,
        type="restriction on access",
        authority="coar",
        authorityURI=COAR_ACCESS_RIGHT,
        valueURI=uri,
    )


MODS = register(MetadataFormat("mods", MODS_NS, SCHEMA, "1", build))
