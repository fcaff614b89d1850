"""``oai_dc`` → our record: OJS's mapping (metadata.md §1.1, §1.5) read in reverse.

- title (the first) → ``title``; creator → ``authors``: ``Family, Given`` split at the
  first comma, else the whole name as ``family``; subject → ``keywords``; description →
  ``abstract`` (several joined by a blank line).
- publisher → ``journal.publisher``, unless it repeats the journal title (OJS's fallback).
- date: the first W3CDTF value → ``published``; ``info:eu-repo/date/embargoEnd/…`` →
  ``rights.embargo_until``.
- type: ``info:eu-repo/semantics/{accepted,submitted}Version`` → ``version``;
  ``…/review`` → ``book review``.
- identifier: the first http(s) URL that is not a DOI link → ``url``; a DOI (URL,
  ``doi:`` or bare) → ``doi``.
- source: OJS's ``Journal; Vol. 5 No. 4 (2004); 61-70`` → ``journal.title``, ``volume``,
  ``issue``, ``pages``; ISSN values → ``journal.issn``, then ``journal.eissn``.
- language → ``language`` as BCP 47 (``eng`` → ``en``).
- relation: http(s) URLs → ``files`` (media type from ``format`` when there is one, or
  one per file); ``…/altIdentifier/doi/…`` → ``doi``.
- rights: ``info:eu-repo/semantics/…Access`` → ``rights.access``; a URI →
  ``rights.license``; other text → ``rights.statement``.

Lost: ORCIDs, affiliations, references, licence names, copyright holder and year, file
labels, the resource type (but ``book review``), whether an ISSN is print or online.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from oai.harvester.mapping import MappingError, Options, text_of
from oai.harvester.mapping.common import (
    ACCESS_BY_EU_REPO,
    VERSION_BY_EU_REPO,
    doi_in,
    is_doi_url,
    is_url,
    landing_page,
    language_tag,
    numbering,
    person,
    required,
    rights,
    w3cdtf,
)
from records.validate import ISSN_RE, URI_RE

NAMESPACE = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_EMBARGO = "info:eu-repo/date/embargoEnd/"


def _values(root: etree._Element, name: str) -> list[str]:
    values = []
    for element in root.iter(f"{{{DC_NS}}}{name}"):
        text = text_of(element)
        if text:
            values.append(text)
    return values


def _text_values(root: etree._Element, name: str) -> list[str]:
    """Like ``_values`` but keeping line breaks (descriptions may hold paragraphs)."""
    values = []
    for element in root.iter(f"{{{DC_NS}}}{name}"):
        text = "".join(element.itertext()).strip()
        if text:
            values.append(re.sub(r"[ \t]*\n[ \t]*", "\n", text))
    return values


def to_record(root: etree._Element, options: Options) -> dict[str, Any]:
    if root.tag != f"{{{NAMESPACE}}}dc":
        raise MappingError("(metadata)", f"expected oai_dc:dc, found {root.tag}")
    titles = _values(root, "title")
    identifiers = _values(root, "identifier")
    dates = _values(root, "date")
    relations = _values(root, "relation")

    published = next((d for d in map(w3cdtf, dates) if d), None)
    embargo = next((d[len(_EMBARGO) :] for d in dates if d.startswith(_EMBARGO)), None)
    doi = next((d for d in map(doi_in, identifiers + relations) if d), None)

    journal_title = volume = issue = pages = None
    issns: list[str] = []
    for source in _values(root, "source"):
        if ISSN_RE.fullmatch(source.replace("ISSN", "").strip(" :")):
            issns.append(source.replace("ISSN", "").strip(" :"))
        elif journal_title is None:
            parts = [p.strip() for p in source.split(";")]
            journal_title = parts[0]
            found = numbering(parts[1] if len(parts) > 1 else None)
            volume, issue = found["volume"], found["issue"]
            pages = parts[2] if len(parts) > 2 and parts[2] else None
    publishers = _values(root, "publisher")
    publisher = publishers[0] if publishers and publishers[0] != journal_title else None
    journal = None
    if journal_title or issns or publisher:
        journal = {
            "title": journal_title,
            "issn": issns[0] if issns else None,
            "eissn": issns[1] if len(issns) > 1 else None,
            "publisher": publisher,
        }

    access = None
    licence = statement = None
    for value in _values(root, "rights"):
        if value in ACCESS_BY_EU_REPO:
            access = access or ACCESS_BY_EU_REPO[value]
        elif URI_RE.fullmatch(value) and licence is None:
            licence = value
        elif statement is None and not URI_RE.fullmatch(value):
            statement = value

    version = None
    kind = None
    for value in _values(root, "type"):
        version = version or VERSION_BY_EU_REPO.get(value)
        if value == "info:eu-repo/semantics/review":
            kind = "book review"

    formats = _values(root, "format")
    file_urls = [r for r in relations if is_url(r) and not is_doi_url(r)]
    if len(formats) == len(file_urls):
        mimes: list[str | None] = list(formats)
    else:
        mimes = [formats[0] if len(set(formats)) == 1 else None] * len(file_urls)
    descriptions = _text_values(root, "description")
    languages = _values(root, "language")
    return {
        "title": required(titles[0] if titles else None, "title", "title"),
        "language": language_tag(languages[0]) if languages else None,
        "authors": [person(name) for name in _values(root, "creator")],
        "abstract": "\n\n".join(descriptions) or None,
        "keywords": list(dict.fromkeys(_values(root, "subject"))),
        "journal": journal,
        "volume": volume,
        "issue": issue,
        "pages": pages,
        "published": required(published, "published", "date of publication (dc:date)"),
        "doi": doi,
        "url": landing_page(identifiers),
        "files": [
            {"url": url, "mime_type": mime, "label": None}
            for url, mime in zip(file_urls, mimes, strict=True)
        ],
        "references": [],
        "rights": rights(
            options, access=access, license=licence, statement=statement, embargo_until=embargo
        ),
        "type": kind,
        "version": version,
    }
