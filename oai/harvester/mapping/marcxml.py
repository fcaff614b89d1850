"""MARCXML → our record: oai.formats.marcxml read in reverse, and other MARC 21 as it comes.

- 245 $a $b (closing ISBD `` /``, `` :``, `` ;`` trimmed) → ``title``.
- 100, 700 $a ``Family, Given``, $u affiliation, $1 ORCID URI; 110/710 $a (corporate
  names, whole, as ``family``) → ``authors``.
- 041 $a, else 008/35-37 → ``language`` (MARC code → BCP 47).
- 264 $c, else 260 $c, else 008/07-10 → ``published`` (the year only).
- 024 7_ $a with $2 ``doi``, else an 856 $u that is a DOI link → ``doi``.
- 520 $a → ``abstract``; 653, 650, 651 $a → ``keywords``; 504 $a → ``references``.
- 506 $u (COAR access right), else ind1 ``0`` = open; $g ``yyyymmdd`` →
  ``rights.access``, ``rights.embargo_until``; 540 $u, $a → ``rights.license``,
  ``rights.license_name``; 542 $d, $f, $g → ``rights.holder``, ``.statement``, ``.year``.
- 251 $a (VoR, AM, SMUR) → ``version``; 655 $0 (COAR URI) → ``type``.
- 773 $t, $d, $x, $g ``Vol. 5, no. 4 (2004), p. 61-70`` → ``journal``, ``volume``,
  ``issue``, ``pages``; a second 773's $x → ``journal.eissn``.
- 856 $u: the first that is not a DOI link → ``url``; the others that describe a file
  ($q media type, $y label, $7 access) → ``files``.

Lost: the month and day of publication (264 $c holds the year), line breaks in the
abstract, whether a single ISSN is print or online.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from oai.harvester.mapping import MappingError, Options, text_of
from oai.harvester.mapping.common import (
    ACCESS_BY_COAR,
    TYPE_BY_COAR,
    VERSION_BY_LABEL,
    doi_in,
    is_doi_url,
    is_url,
    landing_page,
    language_tag,
    numbering,
    person,
    required,
    rights,
    year_in,
)

NAMESPACE = "http://www.loc.gov/MARC21/slim"
_M = f"{{{NAMESPACE}}}"


class _Field:
    def __init__(self, element: etree._Element) -> None:
        self.tag = element.get("tag", "")
        self.ind1 = element.get("ind1", " ")
        self.ind2 = element.get("ind2", " ")
        self.subfields = [
            (sub.get("code", ""), text_of(sub) or "") for sub in element.iter(f"{_M}subfield")
        ]

    def first(self, code: str) -> str | None:
        return next((value for c, value in self.subfields if c == code and value), None)


def _trim(text: str | None) -> str | None:
    """ISBD punctuation that closes a MARC subfield: `` /``, `` :``, `` ;``, `` =``, ``,``."""
    if text is None:
        return None
    return re.sub(r"\s*[/:;=,]\s*$", "", text).strip() or None


def to_record(root: etree._Element, options: Options) -> dict[str, Any]:
    if root.tag == f"{_M}collection":
        found = root.find(f"{_M}record")
        if found is None:
            raise MappingError("(metadata)", "an empty MARC collection")
        root = found
    if root.tag != f"{_M}record":
        raise MappingError("(metadata)", f"expected a MARC record, found {root.tag}")
    fields = [_Field(e) for e in root.iter(f"{_M}datafield")]
    control = {e.get("tag"): (e.text or "") for e in root.iter(f"{_M}controlfield")}
    leader = root.findtext(f"{_M}leader") or ""

    def all_of(tag: str) -> list[_Field]:
        return [f for f in fields if f.tag == tag]

    def one(tag: str) -> _Field | None:
        found = all_of(tag)
        return found[0] if found else None

    title_field = one("245")
    title = None
    if title_field:
        parts = [_trim(title_field.first("a")), _trim(title_field.first("b"))]
        title = ": ".join(p for p in parts if p)
        if len(leader) > 18 and leader[18] in "ai":  # ISBD punctuation: a closing period
            title = title.removesuffix(".")

    authors = []
    for field in fields:
        if field.tag in ("100", "700") and field.first("a"):
            author = person(_trim(field.first("a")) or "")
            author["affiliation"] = field.first("u")
            orcid = field.first("1")
            author["orcid"] = orcid if orcid and "orcid.org" in orcid else None
            authors.append(author)
        elif field.tag in ("110", "710") and field.first("a"):
            authors.append({"family": _trim(field.first("a"))})

    fixed = control.get("008", "")
    language_field = one("041")
    language = language_tag(
        language_field.first("a") if language_field else (fixed[35:38] if len(fixed) >= 38 else "")
    )
    published_field = one("264") or one("260")
    published = year_in(published_field.first("c") if published_field else None)
    if not published and len(fixed) >= 11 and fixed[7:11].isdigit():
        published = fixed[7:11]

    doi = None
    for field in all_of("024"):
        if (field.first("2") or "").lower() == "doi":
            doi = doi_in(field.first("a"))
    links = [f for f in all_of("856") if f.first("u")]
    urls = [f.first("u") or "" for f in links]
    doi = doi or next((doi_in(u) for u in urls if is_doi_url(u)), None)
    url = landing_page(urls)
    files = [
        {"url": f.first("u"), "mime_type": f.first("q"), "label": f.first("y")}
        for f in links
        if f.first("u") != url
        and not is_doi_url(f.first("u") or "")
        and (f.first("q") or f.first("y") or f.first("7"))  # a file, not another page
        and is_url(f.first("u"))
    ]

    access, embargo = None, None
    access_field = one("506")
    if access_field:
        access = ACCESS_BY_COAR.get(access_field.first("u") or "")
        if access is None and access_field.ind1 == "0":
            access = "open"
        until = access_field.first("g")
        if until and re.fullmatch(r"\d{8}", until):
            embargo = f"{until[:4]}-{until[4:6]}-{until[6:]}"
    licence_field, copyright_field = one("540"), one("542")

    kind = None
    for field in all_of("655"):
        kind = kind or TYPE_BY_COAR.get(field.first("0") or "")
    version_field = one("251")
    version = VERSION_BY_LABEL.get(version_field.first("a") or "") if version_field else None

    hosts = all_of("773")
    journal = None
    numbers: dict[str, str | None] = {"volume": None, "issue": None, "pages": None}
    if hosts:
        host = hosts[0]
        numbers = numbering(host.first("g"))
        issns = [h.first("x") for h in hosts if h.first("x")]
        journal = {
            "title": _trim(host.first("t")),
            "issn": issns[0] if issns else None,
            "eissn": issns[1] if len(issns) > 1 else None,
            "publisher": host.first("d"),
        }
        if not any(journal.values()):
            journal = None

    keywords = [f.first("a") for f in fields if f.tag in ("653", "650", "651") and f.first("a")]
    abstract = one("520")
    return {
        "title": required(title, "title", "title (245 $a)"),
        "language": language,
        "authors": authors,
        "abstract": abstract.first("a") if abstract else None,
        "keywords": [_trim(k) for k in dict.fromkeys(keywords) if _trim(k)],
        "journal": journal,
        "volume": numbers["volume"],
        "issue": numbers["issue"],
        "pages": numbers["pages"],
        "published": required(published, "published", "year of publication (264/260 $c, 008)"),
        "doi": doi,
        "url": url,
        "files": files,
        "references": [f.first("a") for f in all_of("504") if f.first("a")],
        "rights": rights(
            options,
            access=access,
            license=licence_field.first("u") if licence_field else None,
            license_name=licence_field.first("a") if licence_field else None,
            statement=copyright_field.first("f") if copyright_field else None,
            holder=copyright_field.first("d") if copyright_field else None,
            year=copyright_field.first("g") if copyright_field else None,
            embargo_until=embargo,
        ),
        "type": kind,
        "version": version,
    }
