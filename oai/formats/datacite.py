"""DataCite (``datacite``): the kernel-4 schema as of version 4.7, the copy in tests/schemas.

What it carries: the DOI as ``identifier`` (the landing page becomes an alternate
identifier), creators with ORCID iDs and affiliations, the title, the journal as
``publisher`` and as a ``relatedItem`` (volume, issue, pages, ISSN), the COAR resource
type, keywords, the publication date (``Issued``) and, for an embargo, its end
(``Available``), the language (BCP 47), ISSNs, media types, the abstract, and a
``rightsList``: the licence (URI, SPDX identifier, name), the COAR access right and the
copyright statement. ``publicationYear`` is the year the article is cited with, even
under an embargo (the kernel's "use the embargo's end" is for data made public late;
the embargo here is on this repository's copy of an article its journal published).

What it cannot carry: references (raw citation strings have no identifier for a
``relatedIdentifier``, nor the parsed parts a ``relatedItem`` needs), file URLs (kernel
4.7 has no property for download links) and the manuscript version (``version`` is a
version number, not accepted/published).

Cannot express (``build`` returns None): a record with neither a DOI nor a landing URL,
which leaves the mandatory ``identifier`` empty. Without a DOI the identifier is the
landing page with ``identifierType="URL"``: the XSD leaves the type open and the OpenAIRE
Guidelines for Data Archives list URL, but DataCite itself registers DOIs only, so a
harvester that registers DOIs should skip such records. A record without authors gets
the creator ``:unkn`` and one without a journal the publisher ``:unav`` (the kernel's
standard values for unknown mandatory properties, Appendix 3).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from oai.formats import XML_LANG, XSI_NS, MetadataFormat, Prototypes, register
from oai.formats.languages import language_scripts, script_of
from oai.formats.vocabulary import (
    COAR_ACCESS,
    copyright_statement,
    effective_access,
    license_info,
    page_range,
    resource_type,
)

DATACITE_NS = "http://datacite.org/schema/kernel-4"
SCHEMA = "http://schema.datacite.org/meta/kernel-4/metadata.xsd"
ORCID_URI = "https://orcid.org"
SPDX_URI = "https://spdx.org/licenses/"
ANONYMOUS = ":unkn"  #: Appendix 3: known to be unknown (e.g. Anonymous)
UNAVAILABLE = ":unav"  #: Appendix 3: value unavailable, possibly unknown

_D = f"{{{DATACITE_NS}}}"
Attributes = dict[str, str | None]


# --- helpers shared with oai_openaire (its datacite: elements are the same kernel) -------


#: Used by oai_openaire too: a copy appended there takes that document's prefixes.
_PROTOTYPES = Prototypes({None: DATACITE_NS})


def sub(
    parent: etree._Element, tag: str, text: str | None = None, attrib: Attributes | None = None
) -> etree._Element:
    """A child element; attributes whose value is None are left out."""
    present = tuple((k, v) for k, v in attrib.items() if v) if attrib else ()
    if not present:
        element = etree.SubElement(parent, tag)
        element.text = text
        return element
    return _PROTOTYPES.sub(parent, tag, present, text)


def written_in(text: str, tag: str) -> bool:
    """Whether ``text`` has a letter of the script ``tag``'s language is written in.

    A record states one language; its keywords, and sometimes its title, may be in
    another. ``xml:lang`` must not claim English for a Russian title, so text with no
    letter of the language's script gets none (languages sharing a script can't be told
    apart this way, and are assumed to match).
    """
    scripts = language_scripts(tag)
    if text.isascii():  # the common case, decided without looking at each letter
        return "LATIN" in scripts and any(char.isalpha() for char in text)
    for char in text:
        if char.isalpha() and script_of(char) in scripts:
            return True
    return False


def lang_of(text: str, record: dict[str, Any]) -> Attributes:
    """``{xml:lang: the record's language}`` when ``text`` is written in it."""
    lang = record.get("language")
    return {XML_LANG: lang if lang and written_in(text, lang) else None}


def orcid_uri(orcid: str) -> str:
    """The iD as ORCID asks it to be shown: a full https URI."""
    return f"{ORCID_URI}/{orcid.rsplit('/', 1)[-1]}"


def add_creators(parent: etree._Element, authors: list[dict[str, Any]]) -> None:
    """``creators`` with family-first names, ORCID iDs and affiliations; none: nothing."""
    if not authors:
        return
    container = sub(parent, _D + "creators")
    for author in authors:
        creator = sub(container, _D + "creator")
        name = ", ".join(p for p in (author["family"], author.get("given")) if p)
        sub(creator, _D + "creatorName", name, {"nameType": "Personal"})
        if author.get("given"):
            sub(creator, _D + "givenName", author["given"])
        sub(creator, _D + "familyName", author["family"])
        if author.get("orcid"):
            attrib = {"nameIdentifierScheme": "ORCID", "schemeURI": ORCID_URI}
            sub(creator, _D + "nameIdentifier", orcid_uri(author["orcid"]), attrib)
        if author.get("affiliation"):
            sub(creator, _D + "affiliation", author["affiliation"])


def add_subjects(parent: etree._Element, record: dict[str, Any]) -> None:
    """One ``subject`` per keyword, each with its own ``xml:lang`` (keywords mix languages)."""
    if record.get("keywords"):
        container = sub(parent, _D + "subjects")
        for keyword in record["keywords"]:
            sub(container, _D + "subject", keyword, lang_of(keyword, record))


def embargo_end(rights: dict[str, Any]) -> str | None:
    """The end of the record's embargo, ended or not (an embargo names its end)."""
    if rights["access"] == "embargoed":
        return rights.get("embargo_until")
    return None


def license_text(rights: dict[str, Any]) -> tuple[str, str | None]:
    """(licence name, its language): the CC name in English, else the record's name."""
    info = license_info(rights["license"])
    if info and info.name:
        return info.name, "en"
    return rights.get("license_name") or rights["license"], None


def publisher_name(record: dict[str, Any]) -> str | None:
    """The journal's publisher; OJS and oai_dc fall back on the journal's title."""
    journal = record.get("journal") or {}
    return journal.get("publisher") or journal.get("title")


# --- the DataCite record --------------------------------------------------------------------


def build(record: dict[str, Any]) -> etree._Element | None:
    """The ``resource`` element, properties in the kernel's order; None without identifier."""
    identifier = _identifier(record)
    if identifier is None:
        return None
    root = etree.Element(_D + "resource", nsmap={None: DATACITE_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{DATACITE_NS} {SCHEMA}")
    sub(root, _D + "identifier", identifier[1], {"identifierType": identifier[0]})
    if record.get("authors"):
        add_creators(root, record["authors"])
    else:
        sub(sub(sub(root, _D + "creators"), _D + "creator"), _D + "creatorName", ANONYMOUS)
    titles = sub(root, _D + "titles")
    sub(titles, _D + "title", record["title"], lang_of(record["title"], record))
    sub(root, _D + "publisher", publisher_name(record) or UNAVAILABLE)
    sub(root, _D + "publicationYear", record["published"][:4])
    _resource_type(root, record)
    add_subjects(root, record)
    _dates(root, record)
    if record.get("language"):
        sub(root, _D + "language", record["language"])
    add_alternate_identifiers(root, record)
    add_issn_relations(root, record, "IsPublishedIn", resourceTypeGeneral="Journal")
    _formats(root, record)
    _rights_list(root, record["rights"])
    _descriptions(root, record)
    _related_items(root, record)
    return root


def _identifier(record: dict[str, Any]) -> tuple[str, str] | None:
    """(type, value): the DOI, bare as DataCite writes it; else the landing page."""
    if record.get("doi"):
        return "DOI", record["doi"]
    if record.get("url"):
        return "URL", record["url"]
    return None


def _resource_type(root: etree._Element, record: dict[str, Any]) -> None:
    kind = resource_type(record)
    general = "DataPaper" if kind.label == "data paper" else "JournalArticle"
    sub(root, _D + "resourceType", kind.label, {"resourceTypeGeneral": general})


def _dates(root: etree._Element, record: dict[str, Any]) -> None:
    dates = sub(root, _D + "dates")
    sub(dates, _D + "date", record["published"], {"dateType": "Issued"})
    end = embargo_end(record["rights"])
    if end:  # the kernel: "To indicate the end of an embargo period, use Available"
        sub(dates, _D + "date", end, {"dateType": "Available"})


def add_alternate_identifiers(root: etree._Element, record: dict[str, Any]) -> None:
    """With a DOI as the identifier, the landing page is an alternate one (also OpenAIRE)."""
    if record.get("doi") and record.get("url"):
        container = sub(root, _D + "alternateIdentifiers")
        attrib = {"alternateIdentifierType": "URL"}
        sub(container, _D + "alternateIdentifier", record["url"], attrib)


def add_issn_relations(
    root: etree._Element, record: dict[str, Any], relation: str, **attrib: str
) -> None:
    """The journal's ISSNs as related identifiers (DataCite: IsPublishedIn; OpenAIRE: IsPartOf)."""
    journal = record.get("journal") or {}
    issns = [(kind, journal.get(key)) for kind, key in (("ISSN", "issn"), ("EISSN", "eissn"))]
    issns = [(kind, value) for kind, value in issns if value]
    if not issns:
        return
    container = sub(root, _D + "relatedIdentifiers")
    for kind, value in issns:
        attributes = {"relatedIdentifierType": kind, "relationType": relation, **attrib}
        sub(container, _D + "relatedIdentifier", value, attributes)


def _formats(root: etree._Element, record: dict[str, Any]) -> None:
    files = record.get("files") or []
    mimes = list(dict.fromkeys(f["mime_type"] for f in files if f.get("mime_type")))
    if mimes:
        container = sub(root, _D + "formats")
        for mime in mimes:
            sub(container, _D + "format", mime)


def _rights_list(root: etree._Element, rights: dict[str, Any]) -> None:
    """The licence, then the COAR access right, then the copyright statement."""
    container = sub(root, _D + "rightsList")
    if rights.get("license"):
        info = license_info(rights["license"])
        name, lang = license_text(rights)
        spdx = info.spdx if info else None
        attrib = {
            XML_LANG: lang,
            "rightsURI": rights["license"],
            "rightsIdentifier": spdx,
            "rightsIdentifierScheme": "SPDX" if spdx else None,
            "schemeURI": SPDX_URI if spdx else None,
        }
        sub(container, _D + "rights", name, attrib)
    uri, label = COAR_ACCESS[effective_access(rights)]
    sub(container, _D + "rights", label, {XML_LANG: "en", "rightsURI": uri})
    statement = copyright_statement(rights)
    if statement:
        sub(container, _D + "rights", statement)


def _descriptions(root: etree._Element, record: dict[str, Any]) -> None:
    abstract = record.get("abstract")
    if abstract:
        container = sub(root, _D + "descriptions")
        attrib = {"descriptionType": "Abstract", **lang_of(abstract, record)}
        sub(container, _D + "description", abstract, attrib)


def _related_items(root: etree._Element, record: dict[str, Any]) -> None:
    """The journal the article is published in, with what a citation needs (kernel 4.4+)."""
    journal = record.get("journal") or {}
    first, last = page_range(record.get("pages"))
    parts = (record.get("volume"), record.get("issue"), first)
    if not any(journal.values()) and not any(parts):
        return
    item = sub(
        sub(root, _D + "relatedItems"),
        _D + "relatedItem",
        attrib={"relatedItemType": "Journal", "relationType": "IsPublishedIn"},
    )
    issn = journal.get("issn") or journal.get("eissn")
    if issn:
        kind = "ISSN" if journal.get("issn") else "EISSN"
        attrib = {"relatedItemIdentifierType": kind}
        sub(item, _D + "relatedItemIdentifier", issn, attrib)
    if journal.get("title"):
        sub(sub(item, _D + "titles"), _D + "title", journal["title"])
    sub(item, _D + "publicationYear", record["published"][:4])
    for tag, value in (
        ("volume", record.get("volume")),
        ("issue", record.get("issue")),
        ("firstPage", first),
        ("lastPage", last),
        ("publisher", journal.get("publisher")),
    ):
        if value:
            sub(item, _D + tag, value)


DATACITE = register(MetadataFormat("datacite", DATACITE_NS, SCHEMA, "1", build))
