"""JATS 1.1 Journal Publishing front matter (``jats``), valid against the DTD in tests/schemas.

JATS has no XML namespace, and OAI-PMH.xsd's ``<metadata>`` wants a qualified element
(``##other``, strict). oaipress serves the bare ``<article>`` as JATS defines it, the way
JATS harvesters extract and process it (README, "JATS"): the stored rendition therefore
starts ``<article xmlns="" …>``, because spliced into the envelope, whose default
namespace is OAI-PMH's, an ``<article>`` without that undeclaration would be
``{http://www.openarchives.org/OAI/2.0/}article``. ListMetadataFormats names the
official JATS 1.1 Journal Publishing XSD (which has no target namespace either) as the
schema, and the DTD's URL as the format's identifier in ``metadataNamespace``: the
payload is in no namespace, and no JATS schema defines one for Publishing 1.1.

What it carries: the journal (title, print and electronic ISSN, publisher), the DOI
(bare in ``article-id``; percent-encoded in the ``ext-link`` that resolves it), the
title, authors with ORCID iDs and linked affiliations, the publication date, volume,
issue and pages, ``permissions`` (copyright statement, year and holder as given, the
licence with its URI, name and NISO ALI ``license_ref``, ``ali:free_to_read`` for open
access), the landing page and each file as ``self-uri``, the abstract, keywords and the
references as ``mixed-citation``. JATS 1.1 has no element for the COAR access right or
the manuscript version (``article-version`` came in 1.2): both are ``custom-meta``, with
the embargo's end date.

Access: ``effective_access`` (an ended embargo is open). Open access gets
``ali:free_to_read`` and ``license-type="open-access"``; an embargo gets
``ali:free_to_read`` and ``ali:license_ref`` with ``start_date`` = its end (NISO
RP-22-2015: free to read, and licensed so, from that day); restricted and closed get
neither the indicator nor the licence type. A holder is never derived from a statement.

Language: ``article/@xml:lang`` is the record's language (``und`` when it has none: the
DTD would otherwise default it to ``en``), and every element inherits it. Elements whose
text is mostly not in that language's script (a Latin-script journal title in a Russian
article, references, an English licence name) say ``und``, or ``en`` for the licence
names this module writes itself; languages that share a script cannot be told apart and
are assumed to match.

Cannot express (``build`` returns None): a record that names no journal (neither title
nor ISSN). JATS Journal Publishing describes an article in its journal: ``journal-meta``
must hold a ``journal-id`` and an ``issn``, and there would be nothing to put in them.
A journal known by its title alone is served: its title is the ``journal-id``
(``journal-id-type="title"``) and the ``issn`` the DTD requires is left empty (it asserts
nothing; read it as "no ISSN"). Everything else is optional: a record without authors has
no ``contrib-group``, one without references no ``back``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from lxml import etree

from oai.formats import XML_LANG, MetadataFormat, Prototypes, register
from oai.formats.languages import language_scripts, script_of
from oai.formats.vocabulary import (
    COAR_ACCESS,
    copyright_statement,
    doi_url,
    effective_access,
    license_info,
    resource_type,
    version,
)

DTD_URL = "https://jats.nlm.nih.gov/publishing/1.1/JATS-journalpublishing1.dtd"
SCHEMA = "https://jats.nlm.nih.gov/publishing/1.1/xsd/JATS-journalpublishing1.xsd"
#: The format's global identifier for ListMetadataFormats (OAI-PMH §3.4): not the
#: namespace of any element (JATS has none), the URL of the DTD it follows, as the
#: protocol's own §4.4 example does for its DTD-based ``perseus`` format.
IDENTIFIER = DTD_URL
DTD_VERSION = "1.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
ALI_NS = "http://www.niso.org/schemas/ali/1.0/"
ORCID_URI = "https://orcid.org/"

_HREF = f"{{{XLINK_NS}}}href"
_ALI = f"{{{ALI_NS}}}"
Attributes = dict[str, str | None]

#: Elements whose text is in some language, and that may say which (the DTD allows
#: xml:lang on each); the rest (names, identifiers, dates) have none.
_PROSE = (
    "article-title",
    "journal-title",
    "publisher-name",
    "aff",
    "abstract",
    "kwd-group",
    "copyright-statement",
    "copyright-holder",
    "license",
    "mixed-citation",
)


def build(record: dict[str, Any]) -> etree._Element | None:
    """The ``<article>`` of ``record``, or None when it names no journal (see above)."""
    journal = record.get("journal") or {}
    if not (journal.get("title") or journal.get("issn") or journal.get("eissn")):
        return None
    lang = record.get("language")
    # xmlns="": the stored bytes are spliced under OAI-PMH's default namespace.
    article = etree.Element("article", nsmap={None: "", "xlink": XLINK_NS, "ali": ALI_NS})
    article.set("article-type", resource_type(record).jats)
    article.set("dtd-version", DTD_VERSION)
    article.set(XML_LANG, lang or "und")
    front = _sub(article, "front")
    front.append(_journal_meta(journal))
    front.append(_article_meta(record))
    if record["references"]:
        article.append(_back(record["references"]))
    if lang:
        _mark_languages(article, lang)
    return article


_PROTOTYPES = Prototypes({"xlink": XLINK_NS, "ali": ALI_NS})


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, attrib: Attributes | None = None
) -> etree._Element:
    """A child element; attributes whose value is None are left out."""
    if not attrib:
        element = etree.SubElement(parent, tag)
        element.text = text
        return element
    return _PROTOTYPES.sub(parent, tag, tuple((k, v) for k, v in attrib.items() if v), text)


def _text(
    parent: etree._Element, tag: str, text: str | None, attrib: Attributes | None = None
) -> None:
    """A child holding ``text``, or nothing when there is no text."""
    if text:
        _sub(parent, tag, text, attrib)


# --- journal-meta --------------------------------------------------------------------------


def _journal_meta(journal: dict[str, Any]) -> etree._Element:
    """journal-id+ and issn+ are required: the first ISSN, or the title, and "" for no ISSN."""
    meta = etree.Element("journal-meta")
    issns = [
        (journal.get("issn"), "ppub", "print"),
        (journal.get("eissn"), "epub", "electronic"),
    ]
    issns = [issn for issn in issns if issn[0]]
    if issns:
        _sub(meta, "journal-id", issns[0][0], {"journal-id-type": "issn"})
    else:
        _sub(meta, "journal-id", journal["title"], {"journal-id-type": "title"})
    if journal.get("title"):
        _sub(_sub(meta, "journal-title-group"), "journal-title", journal["title"])
    for number, pub_type, medium in issns:
        _sub(meta, "issn", number, {"pub-type": pub_type, "publication-format": medium})
    if not issns:
        _sub(meta, "issn")
    if journal.get("publisher"):
        _sub(_sub(meta, "publisher"), "publisher-name", journal["publisher"])
    return meta


# --- article-meta --------------------------------------------------------------------------


def _article_meta(record: dict[str, Any]) -> etree._Element:
    """The children in the order the DTD's article-meta model fixes."""
    meta = etree.Element("article-meta")
    if record.get("doi"):
        _sub(meta, "article-id", record["doi"], {"pub-id-type": "doi"})
    title = _sub(_sub(meta, "title-group"), "article-title", record["title"])
    lang = record.get("language")
    if lang and _written_in(record["title"], lang):
        title.set(XML_LANG, lang)
    _contributors(meta, record["authors"])
    meta.append(_pub_date(record["published"], record.get("journal") or {}))
    _text(meta, "volume", record.get("volume"))
    _text(meta, "issue", record.get("issue"))
    _pages(meta, record.get("pages"))
    if record.get("doi"):
        attrib = {"ext-link-type": "doi", _HREF: doi_url(record["doi"])}
        _sub(meta, "ext-link", record["doi"], attrib)
    permissions = _permissions(record["rights"])
    if len(permissions):
        meta.append(permissions)
    _sub(meta, "self-uri", attrib={_HREF: record["url"]})
    for file in record["files"]:
        _sub(meta, "self-uri", attrib={"content-type": file.get("mime_type"), _HREF: file["url"]})
    if record.get("abstract"):
        meta.append(_abstract(record["abstract"]))
    if record["keywords"]:
        group = _sub(meta, "kwd-group")
        for keyword in record["keywords"]:
            _sub(group, "kwd", keyword)
    meta.append(_custom_meta(record))
    return meta


def _contributors(meta: etree._Element, authors: list[dict[str, Any]]) -> None:
    """contrib-group, then one aff per distinct affiliation, linked by xref (aff1, aff2…)."""
    if not authors:
        return
    group = _sub(meta, "contrib-group")
    affiliations: dict[str, str] = {}
    for author in authors:
        contrib = _sub(group, "contrib", attrib={"contrib-type": "author"})
        if author.get("orcid"):
            orcid = ORCID_URI + author["orcid"].rsplit("/", 1)[-1]
            _sub(contrib, "contrib-id", orcid, {"contrib-id-type": "orcid"})
        name = _sub(contrib, "name")
        _sub(name, "surname", author["family"])
        if author.get("given"):
            _sub(name, "given-names", author["given"])
        if author.get("affiliation"):
            rid = affiliations.setdefault(author["affiliation"], f"aff{len(affiliations) + 1}")
            _sub(contrib, "xref", attrib={"ref-type": "aff", "rid": rid})
    for text, aff_id in affiliations.items():
        _sub(_sub(meta, "aff", attrib={"id": aff_id}), "institution", text)


def _pub_date(published: str, journal: dict[str, Any]) -> etree._Element:
    """date-type="pub"; the medium only when the journal has one (a single kind of ISSN)."""
    has_print, has_online = bool(journal.get("issn")), bool(journal.get("eissn"))
    medium = "print" if has_print and not has_online else None
    if has_online and not has_print:
        medium = "electronic"
    attrib = {"date-type": "pub", "publication-format": medium, "iso-8601-date": published}
    date = etree.Element("pub-date", {k: v for k, v in attrib.items() if v})
    year, _, rest = published.partition("-")
    month, _, day = rest.partition("-")
    _text(date, "day", day)
    _text(date, "month", month)
    _sub(date, "year", year)
    return date


_ASCII_LETTER = re.compile("[A-Za-z]")  # str.isalpha() of an ASCII character
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015"
_PAGE_RANGE = re.compile(rf"(\w+)\s*[{_DASHES}]\s*(\w+)")


def _pages(meta: etree._Element, pages: str | None) -> None:
    """fpage/lpage from ``61-70`` or ``61``; anything else keeps its text in page-range."""
    if not pages:
        return
    text = re.sub(r"^pp?\.\s*", "", pages.strip())
    matched = _PAGE_RANGE.fullmatch(text)
    if matched:
        _sub(meta, "fpage", matched.group(1))
        _sub(meta, "lpage", matched.group(2))
        return
    first = re.match(r"\w+", text)
    if first is None:
        return  # no page number at all: page-range needs an fpage before it
    _sub(meta, "fpage", first.group(0))
    if first.group(0) != text:
        _sub(meta, "page-range", pages)


def _permissions(rights: dict[str, Any]) -> etree._Element:
    """Copyright, then the ALI indicator, then the licence (metadata.md §2.4, NISO ALI)."""
    permissions = etree.Element("permissions")
    _text(permissions, "copyright-statement", copyright_statement(rights))
    if rights.get("year"):
        _sub(permissions, "copyright-year", str(rights["year"]))
    _text(permissions, "copyright-holder", rights.get("holder"))
    access = effective_access(rights)
    embargo_end = rights.get("embargo_until") if rights["access"] == "embargoed" else None
    if access in ("open", "embargoed"):
        _sub(permissions, _ALI + "free_to_read", attrib={"start_date": embargo_end})
    _license(permissions, rights, access == "open", embargo_end)
    return permissions


def _license(
    permissions: etree._Element, rights: dict[str, Any], open_access: bool, start: str | None
) -> None:
    """license@xlink:href + ali:license_ref (the URI) + license-p (its name), if any is known."""
    uri = rights.get("license")
    info = license_info(uri)
    name = (info.name if info else None) or rights.get("license_name")
    if not (uri or name):
        return
    attrib = {"license-type": "open-access" if open_access else None, _HREF: uri}
    if info and info.name:
        attrib[XML_LANG] = "en"  # the Creative Commons names this module writes are English
    element = _sub(permissions, "license", attrib=attrib)
    if uri:
        _sub(element, _ALI + "license_ref", uri, {"start_date": start})
    _text(element, "license-p", name)


def _abstract(text: str) -> etree._Element:
    """One ``p`` per paragraph (blank lines separate them in the record)."""
    abstract = etree.Element("abstract")
    for paragraph in re.split(r"\n\s*\n", text):
        _text(abstract, "p", paragraph.strip())
    return abstract


def _custom_meta(record: dict[str, Any]) -> etree._Element:
    """What JATS 1.1 has no element for: the COAR access right, embargo end, JAV version."""
    rights = record["rights"]
    pairs = [("access-right", COAR_ACCESS[effective_access(rights)][0])]
    if rights["access"] == "embargoed" and rights.get("embargo_until"):
        pairs.append(("embargo-end-date", rights["embargo_until"]))
    pairs.append(("article-version", version(record).coar_label))
    group = etree.Element("custom-meta-group")
    for name, value in pairs:
        meta = _sub(group, "custom-meta")
        _sub(meta, "meta-name", name)
        _sub(meta, "meta-value", value)
    return group


# --- back ----------------------------------------------------------------------------------


def _back(references: Iterable[str]) -> etree._Element:
    """The raw citation strings, where OJS puts them: back/ref-list/ref/mixed-citation."""
    back = etree.Element("back")
    ref_list = _sub(back, "ref-list")
    for number, citation in enumerate(references, 1):
        ref = _PROTOTYPES.sub(ref_list, "ref", (("id", f"ref{number}"),))
        etree.SubElement(ref, "mixed-citation").text = citation
    return back


# --- languages -----------------------------------------------------------------------------


def _written_in(text: str, tag: str) -> bool:
    """Whether most letters of ``text`` are in the script of language ``tag`` (no letters: yes)."""
    return _in_scripts(text, language_scripts(tag))


def _in_scripts(text: str, scripts: tuple[str, ...]) -> bool:
    """Whether most letters of ``text`` are in one of ``scripts`` (no letters: yes)."""
    if text.isascii():  # the common case, decided without looking at each letter
        return "LATIN" in scripts or _ASCII_LETTER.search(text) is None
    own = letters = 0
    for char, count in Counter(text).items():  # each distinct character once
        if char.isalpha():
            letters += count
            if script_of(char) in scripts:
                own += count
    return own * 2 >= letters


def _mark_languages(article: etree._Element, lang: str) -> None:
    """``und`` on prose that would inherit ``lang`` but is not written in it."""
    scripts = language_scripts(lang)
    for element in article.iter(*_PROSE):
        if element.get(XML_LANG) is None and not _in_scripts("".join(element.itertext()), scripts):
            element.set(XML_LANG, "und")


JATS = register(MetadataFormat("jats", IDENTIFIER, SCHEMA, "1", build))
