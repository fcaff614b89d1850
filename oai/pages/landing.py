"""The article landing page ``/records/<id>`` and the bare metadata documents
``/metadata/<prefix>/<id>``.

One article per page, as Google Scholar crawls them: what a reader needs (title, authors,
citation, files, How to Cite, abstract, references, licence, access, sets) and, in the
``<head>``, what indexers read (oai.pages.headtags), with FAIR Signposting in the ``Link``
header (oai.pages.signposting).

**Canonical URL.** A record's ``url`` is its landing page. When that is the journal's
own page (another host than ours, and not a DOI or Handle resolver), that page is the
version of record: ours says so visibly ("This article's home is …") and carries
``<link rel="canonical">`` to it, and ``citation_abstract_html_url``, JSON-LD ``@id`` and
``DC.Identifier.URI`` name it too. Two pages with the same tags would otherwise compete
in Scholar's clustering and split the article's citations between them; the canonical
link lets both be read and counted as one. Otherwise the canonical URL is our own.

**Absolute URLs** follow the OAI-PMH baseURL: with ``OAIPRESS_BASE_URL`` set (behind a
proxy), the site is that URL without its ``/oai`` path, as harvesters see it; without it,
the request's own host (``url_for(..., _external=True)``), as for ``/oai``.

A deleted record answers 410 with a page saying when it was withdrawn, an unknown one 404;
the metadata documents answer those in plain text, like other machine-read errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Response, current_app, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import BuildError

from oai.formats import MetadataFormat
from oai.formats.vocabulary import (
    COAR_ACCESS,
    copyright_statement,
    doi_url,
    effective_access,
    license_info,
    page_range,
)
from oai.pages import bp
from oai.pages.article import Article, load_article
from oai.pages.checks import check_badge
from oai.pages.citations import citation_context
from oai.pages.headtags import (
    PageUrls,
    coins,
    dublin_core_tags,
    files_pdf_first,
    given_first,
    highwire_tags,
    json_ld,
    orcid_url,
)
from oai.pages.http import validated
from oai.pages.signposting import (
    CITATION_MEDIA_TYPES,
    OAI_PMH_PROFILE,
    Link,
    header_value,
    landing_links,
    metadata_media_type,
)
from oai.store import Store
from records import queries
from records.models import OAISet
from records.validate import LOCAL_ID_RE

log = logging.getLogger(__name__)

#: hosts whose URLs resolve to a landing page rather than being one
RESOLVERS = frozenset({"doi.org", "dx.doi.org", "hdl.handle.net"})

#: how the page names each metadata format
FORMAT_LABELS = {
    "oai_dc": "Dublin Core (oai_dc)",
    "marcxml": "MARC 21 XML",
    "mods": "MODS 3.8",
    "datacite": "DataCite 4",
    "oai_openaire": "OpenAIRE Guidelines 4",
    "jats": "JATS 1.1",
}

#: the Creative Commons kinds drawn in static/badges/ (plus cc0.svg and the generic licence.svg)
CC_BADGES = frozenset({"cc-by", "cc-by-sa", "cc-by-nd", "cc-by-nc", "cc-by-nc-sa", "cc-by-nc-nd"})
ACCESS_BADGES = {"open": "ok", "embargoed": "warn", "restricted": "bad", "closed": "bad"}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


# --- URLs -----------------------------------------------------------------------------------


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under the site harvesters know (the OAI-PMH baseURL's, when set)."""
    base = (current_app.config.get("OAIPRESS_BASE_URL") or "").rstrip("/")
    endpoint_path = url_for("oai.endpoint")
    if base.endswith(endpoint_path):
        return base[: -len(endpoint_path)] + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def cite_url(fmt: str, local_id: str, *, absolute: bool = False) -> str:
    """``/cite/<fmt>/<id>`` (URL plan); built by the citations part's endpoint when present."""
    try:
        if absolute:
            return external_url("pages.cite", fmt=fmt, local_id=local_id)
        return url_for("pages.cite", fmt=fmt, local_id=local_id)
    except BuildError:
        landing = external_url if absolute else url_for
        root = landing("pages.landing", local_id=local_id).rsplit("/records/", 1)[0]
        return f"{root}/cite/{fmt}/{quote(local_id, safe='/')}"


def set_url(spec: str) -> str:
    """``/browse/sets/<spec>`` (URL plan); built by the browse part's endpoint when present."""
    try:
        return url_for("pages.browse_set", spec=spec)
    except BuildError:
        return url_for("pages.browse").rstrip("/") + "/sets/" + quote(spec, safe="")


def article_home(record: dict[str, Any], landing_url: str) -> str | None:
    """The record's ``url`` when it is the journal's own page, else None."""
    url = record.get("url")
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if not host or host in RESOLVERS or host == urlsplit(landing_url).hostname:
        return None
    return str(url)


def plausible_id(local_id: str) -> bool:
    """Could this be a stored id? (No query reaches the store with a NUL or 10 kB of text.)"""
    return len(local_id) <= 512 and LOCAL_ID_RE.fullmatch(local_id) is not None


def shown_id(local_id: str) -> str:
    """An id as a page may echo it: printable characters only, and not 10 kB of it."""
    text = "".join(c if c.isprintable() else "\ufffd" for c in local_id[:200])
    return text + ("\u2026" if len(local_id) > 200 else "")


# --- what the page shows --------------------------------------------------------------------


@dataclass(frozen=True)
class FormatLink:
    prefix: str
    label: str
    document: str  #: /metadata/<prefix>/<id>, relative
    get_record: str  #: the OAI-PMH GetRecord URL, absolute
    media_type: str


@dataclass(frozen=True)
class Licence:
    uri: str
    name: str
    short: str | None
    badge: str  #: file name under static/badges/


def citation_line(record: dict[str, Any]) -> str:
    """``Central Asia and the Caucasus, Vol. 5, No. 4 (2004), pp. 61–70``; without a journal,
    volume or issue: ``Published 2004``."""
    journal = (record.get("journal") or {}).get("title")
    head = [journal] if journal else []
    if record.get("volume"):
        head.append(f"Vol. {record['volume']}")
    if record.get("issue"):
        head.append(f"No. {record['issue']}")
    year = record["published"][:4]
    line = f"{', '.join(head)} ({year})" if head else f"Published {year}"
    first, last = page_range(record.get("pages"))
    if first and last:
        line += f", pp. {first}\u2013{last}"
    elif first:
        line += f", p. {first}"
    return line


def badge_file(uri: str) -> str:
    """The badge of a licence: one per Creative Commons kind, a generic one otherwise."""
    info = license_info(uri)
    if info is None or info.short is None:
        return "licence.svg"
    if info.short.startswith("CC0"):
        return "cc0.svg"
    kind = f"cc-{info.short.split()[1].lower()}"
    return f"{kind}.svg" if kind in CC_BADGES else "licence.svg"


def licence_of(rights: dict[str, Any]) -> Licence | None:
    uri = rights.get("license")
    if not uri:
        return None
    info = license_info(uri)
    name = rights.get("license_name") or (info.name if info else None) or uri
    return Licence(uri, name, info.short if info else None, badge_file(uri))


def human_date(iso: str) -> str:
    """``2099-01-01`` → ``1 January 2099`` (the page's language is English)."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _store() -> Store:
    return current_app.extensions["oaipress.store"]


def offered_formats() -> dict[str, MetadataFormat]:
    """The formats this repository offers over OAI-PMH (ListMetadataFormats), in order."""
    formats: dict[str, MetadataFormat] = current_app.extensions["oaipress.repository"].formats
    return formats


def _rendered_prefixes_and_set_names(
    local_id: str, sets: tuple[str, ...]
) -> tuple[list[str], dict[str, str]]:
    """The formats the record is rendered in (registry order) and the names of its sets."""
    with _store().read_connection() as connection:
        found = queries.rendered_prefixes(connection, local_id)
        names = dict(
            connection.execute(select(OAISet.spec, OAISet.name).where(OAISet.spec.in_(sets))).all()
            if sets
            else []
        )
    prefixes = found[1] if found else set()
    return [p for p in offered_formats() if p in prefixes], names


def _format_links(article: Article, prefixes: list[str]) -> list[FormatLink]:
    registry = offered_formats()
    links = []
    for prefix in prefixes:
        media_type, _ = metadata_media_type(prefix, registry[prefix].namespace)
        links.append(
            FormatLink(
                prefix=prefix,
                label=FORMAT_LABELS.get(prefix, prefix),
                document=url_for("pages.metadata", prefix=prefix, local_id=article.local_id),
                get_record=external_url(
                    "oai.endpoint",
                    verb="GetRecord",
                    metadataPrefix=prefix,
                    identifier=article.identifier,
                ),
                media_type=media_type,
            )
        )
    return links


def _described_by(article: Article, prefixes: list[str]) -> list[Link]:
    """``describedby``: each bare document, each GetRecord answer, each citation export."""
    registry = offered_formats()
    links = []
    for prefix in prefixes:
        media_type, profile = metadata_media_type(prefix, registry[prefix].namespace)
        document = external_url("pages.metadata", prefix=prefix, local_id=article.local_id)
        links.append(Link(document, "describedby", media_type, profile))
    for prefix in prefixes:
        get_record = external_url(
            "oai.endpoint", verb="GetRecord", metadataPrefix=prefix, identifier=article.identifier
        )
        links.append(Link(get_record, "describedby", "text/xml", OAI_PMH_PROFILE))
    for fmt, media_type in CITATION_MEDIA_TYPES.items():
        links.append(
            Link(cite_url(fmt, article.local_id, absolute=True), "describedby", media_type)
        )
    return links


def landing_context(article: Article) -> tuple[dict[str, Any], list[Link]]:
    """What landing.html shows, and the signposts of the ``Link`` header."""
    record = article.record
    landing_url = external_url("pages.landing", local_id=article.local_id)
    home = article_home(record, landing_url)
    urls = PageUrls(landing=landing_url, canonical=home or landing_url)
    prefixes, set_names = _rendered_prefixes_and_set_names(article.local_id, article.sets)
    rights = record.get("rights") or {}
    access = effective_access(rights) if rights else None
    page = {
        "record": record,
        "lang": record.get("language"),
        "urls": urls,
        "home": home,
        "home_host": urlsplit(home).hostname if home else None,
        "authors": [
            {
                "name": given_first(a),
                "orcid": orcid_url(a.get("orcid")),
                "affiliation": a.get("affiliation"),
            }
            for a in record.get("authors") or []
        ],
        "citation_line": citation_line(record),
        "doi_url": doi_url(record["doi"]) if record.get("doi") else None,
        "files": files_pdf_first(record.get("files") or []),
        "licence": licence_of(rights),
        "statement": copyright_statement(rights) if rights else None,
        "access": access,
        "access_label": COAR_ACCESS[access][1] if access else None,
        "access_uri": COAR_ACCESS[access][0] if access else None,
        "access_badge": ACCESS_BADGES.get(access or "", "warn"),
        "embargo_until": rights.get("embargo_until") if access == "embargoed" else None,
        "sets": [(spec, set_names.get(spec, spec), set_url(spec)) for spec in article.sets],
        "formats": _format_links(article, prefixes),
        "highwire": highwire_tags(record, urls),
        "dublin_core": dublin_core_tags(record, urls),
        "json_ld": json_ld(record, urls),
        "coins": coins(record, urls),
        "identifier": article.identifier,
        "datestamp": article.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    links = landing_links(record, landing_url, _described_by(article, prefixes))
    return page, links


# --- views ----------------------------------------------------------------------------------


def _unavailable() -> Response:
    log.exception("the database cannot answer a page")
    response = Response(
        "503 Service Unavailable\nThe repository's database is unavailable; please retry later.\n",
        status=503,
        mimetype="text/plain",
    )
    response.headers["Retry-After"] = str(current_app.config["OAIPRESS_RETRY_AFTER"])
    return response


@bp.route("/records/<path:local_id>")
def landing(local_id: str) -> Response:
    try:
        article = load_article(local_id) if plausible_id(local_id) else None
        if article is None:
            body = render_template("record_missing.html", local_id=shown_id(local_id))
            return Response(body, status=404, mimetype="text/html")
        if article.deleted:
            body = render_template(
                "record_gone.html",
                local_id=article.local_id,
                identifier=article.identifier,
                withdrawn=article.datestamp,
            )
            return Response(body, status=410, mimetype="text/html")
        page, links = landing_context(article)
        check = check_badge(article)
    except DBAPIError:
        return _unavailable()
    cite = citation_context(article, request.args.get("style"))
    body = render_template("landing.html", landing=page, check=check, **cite)
    response = Response(body, mimetype="text/html")
    response.headers["Link"] = header_value(links)
    variant = str(cite.get("style") or "") + check.variant
    return validated(response, check.modified(article.datestamp), variant=variant)


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.route("/metadata/<prefix>/<path:local_id>")
def metadata(prefix: str, local_id: str) -> Response:
    """The stored rendition of one format, as a document of its own (no OAI envelope)."""
    fmt = offered_formats().get(prefix)
    if fmt is None:
        return _plain(404, f"404 Not Found\n{prefix!r} is not a metadata format offered here.")
    try:
        row = None
        if plausible_id(local_id):
            with _store().read_connection() as connection:
                row = queries.get_record(connection, local_id, prefix)
    except DBAPIError:
        return _unavailable()
    shown = shown_id(local_id)
    if row is None:
        return _plain(404, f"404 Not Found\nThere is no record {shown!r} here.")
    if row.deleted:
        return _plain(410, f"410 Gone\nThe record {shown!r} was withdrawn.")
    if row.metadata_xml is None:
        return _plain(404, f"404 Not Found\nThe record {shown!r} is not available as {prefix}.")
    media_type, _ = metadata_media_type(prefix, fmt.namespace)
    response = Response(XML_DECLARATION + bytes(row.metadata_xml))
    response.content_type = f"{media_type}; charset=utf-8"
    # Signposting: a metadata resource points back at what it describes.
    landing_url = external_url("pages.landing", local_id=local_id)
    response.headers["Link"] = header_value([Link(landing_url, "describes", "text/html")])
    return validated(response, row.datestamp, variant=prefix)


@bp.app_template_filter("human_date")
def _human_date_filter(iso: str) -> str:
    return human_date(iso)
