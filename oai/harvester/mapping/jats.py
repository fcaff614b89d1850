"""JATS ``<article>`` front matter → our record: oai.formats.jats read in reverse.

JATS has no namespace, but sources differ (oaipress serves none; OJS writes an
undeclared one): elements are matched by local name, whatever their namespace, except
NISO ALI's (``ali:license_ref``, ``ali:free_to_read``) and xlink's attributes.

- ``article/@xml:lang`` → ``language`` (``und``: none).
- ``journal-meta``: ``journal-title``, ``issn`` (ppub/print → ``issn``, epub/electronic
  → ``eissn``), ``publisher-name`` → ``journal``.
- ``article-id[@pub-id-type=doi]`` → ``doi``; ``article-title`` → ``title``.
- ``contrib[@contrib-type=author]``: ``surname``, ``given-names``, ``contrib-id``
  (orcid), the ``aff`` its ``xref`` points to (or a nested one) → ``authors``.
- ``pub-date``: ``@iso-8601-date``, else year-month-day → ``published``.
- ``volume``, ``issue``, ``fpage``-``lpage`` or ``page-range`` → the same.
- ``permissions``: ``copyright-statement``, ``-year``, ``-holder``;
  ``license/@xlink:href`` or ``ali:license_ref``; ``license-p`` → ``rights``.
- ``custom-meta`` ``access-right`` (COAR URI), ``embargo-end-date``, ``article-version``
  (VoR, AM, SMUR); else ``ali:free_to_read`` means open access (with ``@start_date``:
  embargoed until then) → ``rights.access``, ``rights.embargo_until``, ``version``.
- ``self-uri``: the first without ``@content-type`` → ``url``; the others → ``files``
  (``@content-type`` as the media type).
- ``abstract`` paragraphs (a blank line between) → ``abstract``; ``kwd`` →
  ``keywords``; each ``ref``'s ``mixed-citation`` (or ``element-citation``) text →
  ``references``.
- ``@article-type`` → ``type`` only where it names one COAR type (``review-article``,
  ``editorial``, ``letter``, ``book-review``, ``correction``).

Lost: file labels; ``research-article`` does not tell a journal article from a research
article or a data paper (the default is kept).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from oai.harvester.mapping import MappingError, Options, local_name, text_of
from oai.harvester.mapping.common import (
    ACCESS_BY_COAR,
    VERSION_BY_LABEL,
    doi_in,
    is_url,
    landing_page,
    language_tag,
    required,
    rights,
    w3cdtf,
)

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ALI_NS = "http://www.niso.org/schemas/ali/1.0/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_TYPES = {
    "review-article": "review article",
    "editorial": "editorial",
    "letter": "letter to the editor",
    "book-review": "book review",
    "correction": "corrigendum",
}


def _all(parent: etree._Element | None, name: str) -> list[etree._Element]:
    if parent is None:
        return []
    return [e for e in parent.iter() if local_name(e) == name and _is_jats(e)]


def _first(parent: etree._Element | None, name: str) -> etree._Element | None:
    found = _all(parent, name)
    return found[0] if found else None


def _is_jats(element: etree._Element) -> bool:
    tag = element.tag
    return isinstance(tag, str) and not tag.startswith(f"{{{ALI_NS}}}")


def _ali(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    return next(parent.iter(f"{{{ALI_NS}}}{name}"), None)


def _text(parent: etree._Element | None, name: str) -> str | None:
    return text_of(_first(parent, name))


def to_record(root: etree._Element, options: Options) -> dict[str, Any]:
    if local_name(root) != "article":
        raise MappingError("(metadata)", f"expected a JATS article, found {root.tag}")
    front = _first(root, "front")
    journal_meta = _first(front, "journal-meta")
    meta = _first(front, "article-meta")
    if meta is None:
        raise MappingError("(metadata)", "the JATS article has no article-meta")

    issn = eissn = None
    for element in _all(journal_meta, "issn"):
        kind = (element.get("pub-type") or element.get("publication-format") or "").lower()
        value = text_of(element)
        if not value:
            continue
        if kind in ("epub", "electronic"):
            eissn = eissn or value
        elif issn is None:
            issn = value
        else:
            eissn = eissn or value
    journal = {
        "title": _text(journal_meta, "journal-title"),
        "issn": issn,
        "eissn": eissn,
        "publisher": _text(journal_meta, "publisher-name"),
    }

    doi = None
    for element in _all(meta, "article-id"):
        if element.get("pub-id-type") == "doi":
            doi = doi_in(text_of(element))

    affiliations = {
        aff.get("id"): _affiliation_text(aff) for aff in _all(meta, "aff") if aff.get("id")
    }
    authors = []
    for contrib in _all(meta, "contrib"):
        if contrib.get("contrib-type", "author") != "author":
            continue
        name = _first(contrib, "name")
        family = _text(name, "surname") or _text(contrib, "string-name") or _text(contrib, "collab")
        if not family:
            continue
        orcid = next(
            (
                text_of(e)
                for e in _all(contrib, "contrib-id")
                if e.get("contrib-id-type") == "orcid"
            ),
            None,
        )
        affiliation = None
        for xref in _all(contrib, "xref"):
            if xref.get("ref-type") == "aff":
                affiliation = affiliation or affiliations.get(xref.get("rid"))
        nested = _first(contrib, "aff")
        affiliation = affiliation or (_affiliation_text(nested) if nested is not None else None)
        authors.append(
            {
                "family": family,
                "given": _text(name, "given-names"),
                "orcid": orcid,
                "affiliation": affiliation,
            }
        )

    published = _published(meta)
    custom = {_text(m, "meta-name"): _text(m, "meta-value") for m in _all(meta, "custom-meta")}
    permissions = _first(meta, "permissions")
    licence_element = _first(permissions, "license")
    licence = None
    if licence_element is not None:
        licence = licence_element.get(XLINK_HREF) or text_of(_ali(licence_element, "license_ref"))
    licence = licence or text_of(_ali(permissions, "license_ref"))
    access = ACCESS_BY_COAR.get(custom.get("access-right") or "")
    embargo = custom.get("embargo-end-date")
    free = _ali(permissions, "free_to_read")
    if access is None and free is not None:
        start = free.get("start_date")
        access, embargo = ("embargoed", start) if start else ("open", embargo)

    self_uris = [(e.get(XLINK_HREF) or "", e.get("content-type")) for e in _all(meta, "self-uri")]
    pages_uris = [href for href, kind in self_uris if not kind]
    url = landing_page(pages_uris or [href for href, _ in self_uris])
    files = [
        {"url": href, "mime_type": kind, "label": None}
        for href, kind in self_uris
        if href != url and is_url(href) and kind
    ]
    abstract = _first(meta, "abstract")
    paragraphs = [_paragraph(p) for p in _all(abstract, "p")] if abstract is not None else []
    abstract_text = "\n\n".join(p for p in paragraphs if p) or text_of(abstract)
    references = []
    for ref in _all(root, "ref"):
        citation = _first(ref, "mixed-citation")
        text = text_of(citation if citation is not None else _first(ref, "element-citation"))
        if text:
            references.append(text)

    return {
        "title": required(_text(meta, "article-title"), "title", "article-title"),
        "language": language_tag(root.get(XML_LANG)),
        "authors": authors,
        "abstract": abstract_text,
        "keywords": [k for k in dict.fromkeys(text_of(e) for e in _all(meta, "kwd")) if k],
        "journal": journal if any(journal.values()) else None,
        "volume": _text(meta, "volume"),
        "issue": _text(meta, "issue"),
        "pages": _pages(meta),
        "published": required(published, "published", "pub-date"),
        "doi": doi,
        "url": url,
        "files": files,
        "references": references,
        "rights": rights(
            options,
            access=access,
            license=licence,
            license_name=_text(licence_element, "license-p"),
            statement=_text(permissions, "copyright-statement"),
            holder=_text(permissions, "copyright-holder"),
            year=_text(permissions, "copyright-year"),
            embargo_until=embargo,
        ),
        "type": _TYPES.get(root.get("article-type") or ""),
        "version": VERSION_BY_LABEL.get(custom.get("article-version") or ""),
    }


def _paragraph(element: etree._Element) -> str | None:
    """A paragraph's text as written; only line breaks (indentation) become one space."""
    text = re.sub(r"[ \t]*\n\s*", " ", "".join(element.itertext())).strip()
    return text or None


def _affiliation_text(aff: etree._Element) -> str | None:
    """An ``aff``'s institution (or its whole text, its ``label`` left out)."""
    institution = _text(aff, "institution")
    if institution:
        return institution
    parts = [text_of(child) for child in aff if local_name(child) != "label"]
    return " ".join(p for p in parts if p) or text_of(aff)


def _published(meta: etree._Element) -> str | None:
    dates = _all(meta, "pub-date")
    dates.sort(
        key=lambda d: (
            (d.get("date-type") or d.get("pub-type") or "pub") not in ("pub", "epub", "ppub")
        )
    )
    for date in dates:
        iso = w3cdtf(date.get("iso-8601-date"))
        if iso:
            return iso
        year = _text(date, "year")
        if year and year.isdigit() and len(year) == 4:
            parts = [year]
            month, day = _text(date, "month"), _text(date, "day")
            if month and month.isdigit():
                parts.append(month.zfill(2))
                if day and day.isdigit():
                    parts.append(day.zfill(2))
            return "-".join(parts)
    return None


def _pages(meta: etree._Element) -> str | None:
    first, last = _text(meta, "fpage"), _text(meta, "lpage")
    page_range = _text(meta, "page-range")
    if page_range:
        return page_range
    if first and last:
        return f"{first}-{last}"
    return first
