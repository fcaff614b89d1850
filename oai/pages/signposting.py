"""FAIR Signposting level 1 (signposting.org/FAIR): the landing page's ``Link`` header.

A machine that lands on the page learns from the header alone what to cite
(``cite-as``), what the page is (two ``type`` links), who wrote it (``author``, only
authors with an ORCID), under which licence (``license``), which files hold the work
(``item``, with media types) and where its metadata is (``describedby``: each bare
metadata document, the OAI-PMH GetRecord answer, the citation exports).

``cite-as`` is the DOI when there is one (the persistent identifier; it resolves to the
journal's page, which our page names as canonical), else the record's ``url`` (the
article's home), else our own landing URL.

The header is built here (RFC 8288 §3): targets are URI references inside ``<>`` with
anything a URI cannot hold percent-encoded (an IRI's non-ASCII, spaces, ``<>"``), and
every parameter value is a quoted-string with ``"`` and ``\\`` escaped, so no record can
break the header or inject a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from oai.formats.vocabulary import doi_url
from oai.pages.headtags import files_pdf_first, orcid_url

SCHOLARLY_ARTICLE = "https://schema.org/ScholarlyArticle"
ABOUT_PAGE = "https://schema.org/AboutPage"
OAI_PMH_PROFILE = "http://www.openarchives.org/OAI/2.0/"

#: media types of the bare metadata documents; others are XML with their namespace as profile
METADATA_MEDIA_TYPES = {
    "datacite": "application/vnd.datacite.datacite+xml",
    "jats": "application/vnd.jats+xml",
}
GENERIC_XML = "application/xml"

#: the citation exports FAIR Signposting lists (fmt of /cite/<fmt>/<id> → media type)
CITATION_MEDIA_TYPES = {
    "bib": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "json": "application/vnd.citationstyles.csl+json",
}

# RFC 3986 reserved and unreserved characters, and "%" (kept: URLs may be encoded already).
_URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class Link:
    target: str
    rel: str
    type: str | None = None
    profile: str | None = None


def metadata_media_type(prefix: str, namespace: str) -> tuple[str, str | None]:
    """(media type, profile) of the bare ``/metadata/<prefix>/…`` document."""
    if prefix in METADATA_MEDIA_TYPES:
        return METADATA_MEDIA_TYPES[prefix], None
    return GENERIC_XML, namespace


def cite_as(record: dict[str, Any], landing_url: str) -> str:
    if record.get("doi"):
        return doi_url(record["doi"])
    return str(record.get("url") or landing_url)


def landing_links(
    record: dict[str, Any],
    landing_url: str,
    described_by: Iterable[Link],
) -> list[Link]:
    """Every level-1 signpost of one live record's landing page."""
    links = [
        Link(cite_as(record, landing_url), "cite-as"),
        Link(SCHOLARLY_ARTICLE, "type"),
        Link(ABOUT_PAGE, "type"),
    ]
    for author in record.get("authors") or []:
        if author.get("orcid"):
            links.append(Link(str(orcid_url(author["orcid"])), "author"))
    license_uri = (record.get("rights") or {}).get("license")
    if license_uri:
        links.append(Link(license_uri, "license"))
    for file in files_pdf_first(record.get("files") or []):
        links.append(Link(file["url"], "item", file.get("mime_type") or None))
    links.extend(described_by)
    return links


def header_value(links: Iterable[Link]) -> str:
    """The ``Link`` header field value, one link-value per link, comma-separated."""
    return ", ".join(_link_value(link) for link in links)


def _link_value(link: Link) -> str:
    parts = [f"<{uri_reference(link.target)}>", f"rel={_quoted(link.rel)}"]
    if link.type:
        parts.append(f"type={_quoted(link.type)}")
    if link.profile:
        parts.append(f"profile={_quoted(uri_reference(link.profile))}")
    return "; ".join(parts)


def uri_reference(url: str) -> str:
    """``url`` as ASCII a header can carry: what RFC 3986 does not allow is %-encoded."""
    return quote(url, safe=_URI_SAFE)


def _quoted(value: str) -> str:
    """An RFC 9110 quoted-string (controls, which a header cannot carry, are dropped)."""
    cleaned = "".join(c for c in value if c >= " " and c != "\x7f")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'
