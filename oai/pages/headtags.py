"""What indexers read in a landing page's ``<head>``: Highwire Press ``citation_*`` tags,
``DC.*`` tags, one schema.org JSON-LD block, and a COinS span (metadata.md §3).

Pure functions of the canonical record (records.queries.record_to_dict) and the page's
absolute URLs: no Flask here, so every tag is testable on its own. The template writes
the values; Jinja escapes them, except the JSON-LD, which :func:`json_ld` makes safe for
a ``<script>`` element itself (a script's text is never HTML-unescaped).

Choices, with why:

* ``citation_author`` is "Family, Given" (Scholar reads both orders; family first keeps
  particles and transliterated names apart), each followed at once by its
  ``citation_author_orcid`` and ``citation_author_institution``, which is how Scholar
  ties them to that author.
* ``citation_publication_date`` is the cited date: ``YYYY/MM/DD`` when the record has a
  full date, the year otherwise (Scholar's two forms; a month alone is not one).
* ``citation_online_date`` is left out. Scholar means the date the article went online;
  the record does not know it, and the datestamp is when *this repository* last changed
  the record (a relicensing or a rebuild moves it), which Scholar would take for a date
  of the work.
* ``citation_abstract_html_url`` is the canonical page (the journal's own page when the
  record's ``url`` is one, see oai.pages.landing): Scholar wants ``citation_pdf_url`` near
  the abstract page, and journals serve both from the same place.
* ``DC.*`` tags carry no ``scheme`` attribute (not conforming HTML5); their values are
  already in the schemes OJS names (W3CDTF dates, BCP 47 languages, IMT media types).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from oai.formats.vocabulary import (
    copyright_statement,
    doi_url,
    effective_access,
    page_range,
    resource_type,
)

PDF = "application/pdf"
HTML = "text/html"


@dataclass(frozen=True)
class PageUrls:
    """The absolute URLs a landing page speaks of."""

    #: our own landing page
    landing: str
    #: the version of record: the journal's page when the record's url is one, else ours
    canonical: str


@dataclass(frozen=True)
class Tag:
    """One ``<meta name content>``; ``lang`` when the text is in the record's language."""

    name: str
    content: str
    lang: str | None = None


# --- names, dates, files ------------------------------------------------------------------


def family_first(author: dict[str, Any]) -> str:
    """``Mukimdzhanova, R.`` (or the family name alone)."""
    given = author.get("given")
    return f"{author['family']}, {given}" if given else str(author["family"])


def given_first(author: dict[str, Any]) -> str:
    """``R. Mukimdzhanova``, as a person reads a byline."""
    given = author.get("given")
    return f"{given} {author['family']}" if given else str(author["family"])


def orcid_url(orcid: str | None) -> str | None:
    """The ORCID iD as the https URI ORCID asks everyone to display and link."""
    if not orcid:
        return None
    bare = orcid.rsplit("/", 1)[-1]
    return f"https://orcid.org/{bare}"


def scholar_date(published: str) -> str:
    """``2021-03-15`` → ``2021/03/15``; ``2004`` and ``2004-05`` → ``2004``."""
    if len(published) == 10:
        return published.replace("-", "/")
    return published[:4]


def files_pdf_first(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's files with PDFs first, otherwise in the record's order."""
    return sorted(files, key=lambda f: f.get("mime_type") != PDF)


def first_file(files: list[dict[str, Any]], mime_type: str) -> str | None:
    return next((f["url"] for f in files if f.get("mime_type") == mime_type), None)


def issns(record: dict[str, Any]) -> list[str]:
    """Print ISSN, then online ISSN, those the record has."""
    journal = record.get("journal") or {}
    return [i for i in (journal.get("issn"), journal.get("eissn")) if i]


# --- Highwire Press (Google Scholar) -----------------------------------------------------


def highwire_tags(record: dict[str, Any], urls: PageUrls) -> list[Tag]:
    """The ``citation_*`` tags, in the order Scholar's examples give them."""
    journal = record.get("journal") or {}
    lang = record.get("language")
    tags = [Tag("citation_title", record["title"], lang)]
    for author in record.get("authors") or []:
        tags.append(Tag("citation_author", family_first(author)))
        if author.get("orcid"):
            tags.append(Tag("citation_author_orcid", str(orcid_url(author["orcid"]))))
        if author.get("affiliation"):
            tags.append(Tag("citation_author_institution", author["affiliation"]))
    tags.append(Tag("citation_publication_date", scholar_date(record["published"])))
    first_page, last_page = page_range(record.get("pages"))
    optional = [
        ("citation_journal_title", journal.get("title")),
        ("citation_publisher", journal.get("publisher")),
        *(("citation_issn", issn) for issn in issns(record)),
        ("citation_volume", record.get("volume")),
        ("citation_issue", record.get("issue")),
        ("citation_firstpage", first_page),
        ("citation_lastpage", last_page),
        ("citation_doi", record.get("doi")),
        ("citation_language", lang),
    ]
    tags += [Tag(name, value) for name, value in optional if value]
    tags += [Tag("citation_keywords", k, lang) for k in record.get("keywords") or []]
    tags.append(Tag("citation_abstract_html_url", urls.canonical))
    files = record.get("files") or []
    pdf, html = first_file(files, PDF), first_file(files, HTML)
    if pdf:
        tags.append(Tag("citation_pdf_url", pdf))
    if html:
        tags.append(Tag("citation_fulltext_html_url", html))
    tags += [Tag("citation_reference", r) for r in record.get("references") or []]
    return tags


# --- Dublin Core --------------------------------------------------------------------------


def dublin_core_tags(record: dict[str, Any], urls: PageUrls) -> list[Tag]:
    """``DC.*`` tags after OJS's dublinCoreMeta plugin (the last resort of Scholar)."""
    journal = record.get("journal") or {}
    rights = record.get("rights") or {}
    lang = record.get("language")
    tags = [Tag("DC.Title", record["title"], lang)]
    tags += [Tag("DC.Creator.PersonalName", family_first(a)) for a in record.get("authors") or []]
    tags.append(Tag("DC.Date.issued", record["published"]))
    if record.get("abstract"):
        tags.append(Tag("DC.Description", record["abstract"], lang))
    tags += [Tag("DC.Subject", k, lang) for k in record.get("keywords") or []]
    if lang:
        tags.append(Tag("DC.Language", lang))
    tags.append(Tag("DC.Type", "Text.Serial.Journal"))
    tags.append(Tag("DC.Type.articleType", resource_type(record).label))
    files = record.get("files") or []
    media_types = dict.fromkeys(f["mime_type"] for f in files if f.get("mime_type"))
    tags += [Tag("DC.Format", m) for m in media_types]
    tags.append(Tag("DC.Identifier.URI", urls.canonical))
    optional = [
        ("DC.Identifier.DOI", record.get("doi")),
        ("DC.Identifier.pageNumber", record.get("pages")),
        ("DC.Source", journal.get("title")),
        *(("DC.Source.ISSN", issn) for issn in issns(record)),
        ("DC.Source.Volume", record.get("volume")),
        ("DC.Source.Issue", record.get("issue")),
        ("DC.Publisher", journal.get("publisher")),
        ("DC.Rights", copyright_statement(rights) if rights else None),
        ("DC.Rights", rights.get("license")),
    ]
    tags += [Tag(name, value) for name, value in optional if value]
    return tags


# --- schema.org JSON-LD -------------------------------------------------------------------


def schema_org(record: dict[str, Any], urls: PageUrls) -> dict[str, Any]:
    """One ``ScholarlyArticle`` (metadata.md §3.4), its host issue, volume and journal."""
    rights = record.get("rights") or {}
    lang = record.get("language")
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": urls.canonical,
        "url": urls.canonical,
        "name": record["title"],
        "headline": record["title"],
        "author": [_person(a) for a in record.get("authors") or []],
        "datePublished": record["published"],
    }
    same_as = [doi_url(record["doi"])] if record.get("doi") else []
    if urls.landing != urls.canonical:
        same_as.append(urls.landing)
    if same_as:
        data["sameAs"] = same_as
    if record.get("doi"):
        data["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "DOI",
            "value": record["doi"],
            "url": doi_url(record["doi"]),
        }
    if lang:
        data["inLanguage"] = lang
    first, last = page_range(record.get("pages"))
    if first:
        data["pageStart"] = first
    if last:
        data["pageEnd"] = last
    if record.get("pages"):
        data["pagination"] = record["pages"]
    host = _host(record)
    if host:
        data["isPartOf"] = host
    if record.get("abstract"):
        data["abstract"] = record["abstract"]
    if record.get("keywords"):
        data["keywords"] = list(record["keywords"])
    if rights.get("license"):
        data["license"] = rights["license"]
    if rights.get("year"):
        data["copyrightYear"] = rights["year"]
    statement = copyright_statement(rights) if rights else None
    if statement:
        data["copyrightNotice"] = statement
    if rights:
        data["isAccessibleForFree"] = effective_access(rights) == "open"
    files = record.get("files") or []
    if files:
        data["encoding"] = [_media_object(f) for f in files_pdf_first(files)]
    if record.get("references"):
        data["citation"] = [{"@type": "CreativeWork", "name": r} for r in record["references"]]
    return data


def _person(author: dict[str, Any]) -> dict[str, Any]:
    person: dict[str, Any] = {
        "@type": "Person",
        "name": given_first(author),
        "familyName": author["family"],
    }
    if author.get("given"):
        person["givenName"] = author["given"]
    if author.get("orcid"):
        person["@id"] = orcid_url(author["orcid"])
        person["identifier"] = orcid_url(author["orcid"])
    if author.get("affiliation"):
        person["affiliation"] = {"@type": "Organization", "name": author["affiliation"]}
    return person


def _media_object(file: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {"@type": "MediaObject", "contentUrl": file["url"]}
    if file.get("mime_type"):
        media["encodingFormat"] = file["mime_type"]
    if file.get("label"):
        media["name"] = file["label"]
    return media


def _host(record: dict[str, Any]) -> dict[str, Any] | None:
    """Issue inside volume inside periodical, each level only when the record has it."""
    journal = record.get("journal") or {}
    host: dict[str, Any] | None = None
    if journal.get("title") or issns(record):
        host = {"@type": "Periodical"}
        if journal.get("title"):
            host["name"] = journal["title"]
        if issns(record):
            host["issn"] = issns(record)
        if journal.get("publisher"):
            host["publisher"] = {"@type": "Organization", "name": journal["publisher"]}
    if record.get("volume"):
        volume = {"@type": "PublicationVolume", "volumeNumber": record["volume"]}
        if host:
            volume["isPartOf"] = host
        host = volume
    if record.get("issue"):
        issue = {
            "@type": "PublicationIssue",
            "issueNumber": record["issue"],
            "datePublished": record["published"],
        }
        if host:
            issue["isPartOf"] = host
        host = issue
    return host


#: what could end a <script> element or open a comment in it, as JSON escapes
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_ld(record: dict[str, Any], urls: PageUrls) -> Markup:
    """The JSON-LD text for ``<script type="application/ld+json">``.

    Marked safe only after every ``<``, ``>`` and ``&`` is written as a JSON escape: no
    ``</script>`` or ``<!--`` can then occur, whatever the record says, and the JSON
    reads the same (HTML-escaping it instead would corrupt it: scripts are raw text).
    """
    text = json.dumps(schema_org(record, urls), ensure_ascii=False, separators=(",", ":"))
    return Markup(text.translate(_SCRIPT_SAFE))


# --- COinS --------------------------------------------------------------------------------


def coins(record: dict[str, Any], urls: PageUrls) -> str:
    """The OpenURL 1.0 KEV ContextObject for ``<span class="Z3988" title="…">``."""
    journal = record.get("journal") or {}
    authors = record.get("authors") or []
    first, last = page_range(record.get("pages"))
    pairs: list[tuple[str, str | None]] = [
        ("ctx_ver", "Z39.88-2004"),
        ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
        ("rft.genre", "article"),
        ("rft.atitle", record["title"]),
        ("rft.jtitle", journal.get("title")),
        ("rft.volume", record.get("volume")),
        ("rft.issue", record.get("issue")),
        ("rft.spage", first),
        ("rft.epage", last),
        ("rft.pages", record.get("pages")),
        ("rft.date", record["published"]),
        ("rft.issn", journal.get("issn")),
        ("rft.eissn", journal.get("eissn")),
        ("rft.language", record.get("language")),
    ]
    if authors:
        pairs += [("rft.aulast", authors[0]["family"]), ("rft.aufirst", authors[0].get("given"))]
    pairs += [("rft.au", family_first(a)) for a in authors]
    if record.get("doi"):
        pairs.append(("rft_id", f"info:doi/{record['doi']}"))
    pairs.append(("rft_id", urls.canonical))
    return urlencode([(key, value) for key, value in pairs if value])
