"""Google Scholar's inclusion guidelines: title, authors, a date, a PDF link, one article
per page, and the citation of a journal paper (metadata.md §3.1).

The landing page writes the ``citation_*`` tags from the record (oai.pages.headtags), so
what Scholar needs is what the record must hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from oai.checks.model import Problem, Record, Rule
from oai.formats.vocabulary import page_range
from records import aggregator_sets

SOURCE = "Google Scholar Inclusion Guidelines for Webmasters"
#: titles of things that are not one article: a table of contents, a whole issue
NOT_AN_ARTICLE_RE = re.compile(
    r"(?:table of )?contents|front matter|back matter|front cover|back cover|"
    r"(?:full|complete|whole) issue|issue information|masthead|index(?: of authors)?",
    re.IGNORECASE,
)
#: more pages than one article plausibly has: a whole issue in one file
MAX_ARTICLE_PAGES = 150
#: what Scholar asks to leave out of author names: degrees, titles, affiliations
NAME_EXTRAS_RE = re.compile(
    r"\b(?:Ph\.?\s?D|Dr|Prof|Professor|MSc|M\.Sc|BSc|MBA|MPH|Univ|University|"
    r"Universit[éäà]t?|Institute|Department|Dept)\b\.?|[,;@(]",
    re.IGNORECASE,
)


def _is_pdf(file: dict[str, str | None]) -> bool:
    return file.get("mime_type") == "application/pdf" or urlsplit(
        file["url"] or ""
    ).path.lower().endswith(".pdf")


def authors_missing(record: Record) -> Iterator[Problem]:
    if not record.get("authors"):
        yield ("authors", "is empty: Scholar requires at least one citation_author")


def pdf_missing(record: Record) -> Iterator[Problem]:
    if not any(_is_pdf(f) for f in record.get("files") or []):
        yield ("files", "no PDF: the landing page has no citation_pdf_url")


def pdf_other_host(record: Record) -> Iterator[Problem]:
    home = (urlsplit(record["url"]).hostname or "").lower()
    for i, file in enumerate(record.get("files") or []):
        host = (urlsplit(file["url"]).hostname or "").lower()
        if _is_pdf(file) and host != home:
            yield (
                f"files[{i}].url",
                f"the PDF is on {host}, the article's page on {home}: Scholar wants the "
                "PDF beside the abstract page",
            )


def date_in_future(record: Record) -> Iterator[Problem]:
    year = int(record["published"][:4])
    if year > aggregator_sets.today().year:
        yield ("published", f"{record['published']} is in the future")


def journal_citation(record: Record) -> Iterator[Problem]:
    if not record["journal"].get("title"):
        yield ("journal.title", "is not given: a journal paper needs its journal's title")
    if not record.get("volume") and not record.get("issue"):
        yield ("volume", "neither volume nor issue is given")
    if not page_range(record.get("pages"))[0]:
        yield ("pages", "no first page")


def author_name_extras(record: Record) -> Iterator[Problem]:
    for i, author in enumerate(record.get("authors") or []):
        for part in ("family", "given"):
            value = author.get(part) or ""
            match = NAME_EXTRAS_RE.search(value)
            if match:
                yield (
                    f"authors[{i}].{part}",
                    f"{value!r} holds {match.group(0).strip()!r}: only the name belongs "
                    "here (degrees, titles and affiliations go elsewhere)",
                )


def one_article(record: Record) -> Iterator[Problem]:
    title = record["title"].strip().rstrip(".:")
    if NOT_AN_ARTICLE_RE.fullmatch(title):
        yield ("title", f"{title!r} is not one article (a table of contents or an issue?)")
    first, last = page_range(record.get("pages"))
    if first and last and first.isdigit() and last.isdigit():
        span = int(last) - int(first) + 1
        if span > MAX_ARTICLE_PAGES:
            yield ("pages", f"{record['pages']} is {span} pages: a whole issue in one file?")


def nothing_to_read(record: Record) -> Iterator[Problem]:
    if not record.get("abstract") and not record.get("files"):
        yield (
            "abstract",
            "neither an abstract nor a file: readers must see at least the abstract",
        )


RULES = [
    Rule(
        id="scholar.authors-missing",
        group="scholar",
        severity="error",
        source=f"{SOURCE}, Indexing: citation_author required (metadata.md §3.1)",
        summary="no authors: no citation_author",
        check=authors_missing,
    ),
    Rule(
        id="scholar.pdf-missing",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Indexing: citation_pdf_url (metadata.md §3.1, §2.5)",
        summary="no PDF file: no citation_pdf_url",
        check=pdf_missing,
    ),
    Rule(
        id="scholar.pdf-other-host",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Indexing: citation_pdf_url in the same subdirectory as the "
        "abstract (metadata.md §3.1)",
        summary="the PDF is on another host than the article's page",
        check=pdf_other_host,
    ),
    Rule(
        id="scholar.date-in-future",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Indexing: citation_publication_date, the date that is cited "
        "(metadata.md §3.1)",
        summary="the publication year is after this year",
        check=date_in_future,
    ),
    Rule(
        id="scholar.journal-citation",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Indexing: journal papers need the journal title, volume/issue "
        "and first page (metadata.md §3.1)",
        summary="a journal paper without its journal's title, volume or issue, or first page",
        check=journal_citation,
        applies_to="records with a journal",
    ),
    Rule(
        id="scholar.author-name-extras",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Indexing: only the authors' names, without affiliations or "
        "degrees (metadata.md §3.1)",
        summary="an author name holds a degree, a title, an affiliation or punctuation",
        check=author_name_extras,
    ),
    Rule(
        id="scholar.one-article",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Content: one article per page and per file (metadata.md §3.1)",
        summary="a table of contents or a whole issue rather than one article",
        check=one_article,
    ),
    Rule(
        id="scholar.nothing-to-read",
        group="scholar",
        severity="warning",
        source=f"{SOURCE}, Content: the complete abstract or the first page visible "
        "(metadata.md §3.1)",
        summary="neither an abstract nor a full-text file",
        check=nothing_to_read,
    ),
]
