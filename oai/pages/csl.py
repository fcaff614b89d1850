"""The CSL-JSON item of a record: what every citation style renders and what ``/cite/json``
serves, so the downloaded item and the "How to Cite" text cannot disagree.

Mapping (CSL 1.0.2 variables): ``type`` article-journal (every record type is a journal
article to a citation style), ``title`` as stored (never recased: the record format keeps
titles as published, and no algorithm sentence-cases a title without breaking acronyms and
proper names), ``author`` family/given, ``issued`` date-parts from ``published``,
``container-title``/``publisher`` from the journal, ``ISSN`` (print, then electronic,
comma-separated as reference managers store them), ``volume``, ``issue``, ``page`` with a
plain hyphen, ``DOI`` bare, ``URL`` the landing page, ``language`` (BCP 47), ``abstract``,
``keyword`` (comma-separated). No ``accessed`` date: it would change the output daily, and a
citation must be stable for as long as the record is.
"""

from __future__ import annotations

from typing import Any

from oai.formats.vocabulary import page_range
from oai.pages.article import Article


def csl_item(article: Article) -> dict[str, Any]:
    """The CSL-JSON item for ``article``; only the variables the record has."""
    record = article.record
    journal = record.get("journal") or {}
    item: dict[str, Any] = {"id": article.local_id, "type": "article-journal"}
    _put(item, "title", record.get("title"))
    authors = [_name(author) for author in record.get("authors") or [] if author.get("family")]
    if authors:
        item["author"] = authors
    issued = date_parts(record.get("published"))
    if issued:
        item["issued"] = {"date-parts": [issued]}
    _put(item, "container-title", journal.get("title"))
    _put(item, "publisher", journal.get("publisher"))
    issns = [issn for issn in (journal.get("issn"), journal.get("eissn")) if issn]
    _put(item, "ISSN", ", ".join(issns))
    _put(item, "volume", record.get("volume"))
    _put(item, "issue", record.get("issue"))
    _put(item, "page", _page(record.get("pages")))
    _put(item, "DOI", record.get("doi"))
    _put(item, "URL", record.get("url"))
    _put(item, "language", record.get("language"))
    _put(item, "abstract", record.get("abstract"))
    _put(item, "keyword", ", ".join(record.get("keywords") or []))
    return item


def date_parts(published: str | None) -> list[int]:
    """``2004-03-15`` → ``[2004, 3, 15]``; W3CDTF's year, month and day as given."""
    if not published:
        return []
    parts: list[int] = []
    for piece in published[:10].split("-")[:3]:
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return parts


def _name(author: dict[str, Any]) -> dict[str, str]:
    name = {"family": author["family"]}
    if author.get("given"):
        name["given"] = author["given"]
    return name


def _page(pages: str | None) -> str | None:
    """A simple range with a hyphen (CSL styles draw their own dash); anything else as is."""
    if not pages:
        return None
    first, last = page_range(pages)
    if first and last and "," not in pages:
        return f"{first}-{last}"
    return pages


def _put(item: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", []):
        item[key] = value
