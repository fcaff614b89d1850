"""OAI-PMH and ``oai_dc`` basics: what every harvester (BASE, CORE, OpenAIRE) reads first.

Import already refuses what would make a record invalid (records.validate); these rules
find what is legal but makes a poor ``oai_dc`` record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from oai.checks.model import Problem, Record, Rule

#: an HTML or JATS tag, as editors leave them in titles (<i>, </sup>, <jats:italic>)
TAG_RE = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
FILE_EXTENSIONS = (".pdf", ".doc", ".docx", ".epub", ".zip")


def markup_in_title(record: Record) -> Iterator[Problem]:
    match = TAG_RE.search(record["title"])
    if match:
        yield (
            "title",
            f"has markup ({match.group(0)}): dc:title is plain text, so harvesters show the "
            "tag as written",
        )


def landing_url_is_a_file(record: Record) -> Iterator[Problem]:
    url = record["url"]
    path = urlsplit(url).path.lower()
    file_urls = {f["url"] for f in record.get("files") or []}
    if url in file_urls or path.endswith(FILE_EXTENSIONS):
        yield (
            "url",
            "is a file, not a landing page: the first dc:identifier is where harvesters "
            "send readers, and should be the article's page",
        )


def language_missing(record: Record) -> Iterator[Problem]:
    if not record.get("language"):
        yield ("language", "is not given: no dc:language (harvesters cannot filter by it)")


def abstract_missing(record: Record) -> Iterator[Problem]:
    if not record.get("abstract"):
        yield ("abstract", "is not given: no dc:description")


def title_whitespace(record: Record) -> Iterator[Problem]:
    title = record["title"]
    if "\n" in title or "\t" in title or "  " in title:
        yield ("title", "has line breaks, tabs or doubled spaces (copied from a PDF?)")


RULES = [
    Rule(
        id="oai.title-markup",
        group="oai",
        severity="warning",
        source="DCMI Metadata Terms, title (a literal); oai_dc.xsd (metadata.md §1.1, §1.5)",
        summary="the title has HTML or JATS markup, which oai_dc shows as text",
        check=markup_in_title,
    ),
    Rule(
        id="oai.title-whitespace",
        group="oai",
        severity="info",
        source="DCMI Metadata Terms, title (metadata.md §1.5)",
        summary="the title has line breaks, tabs or doubled spaces",
        check=title_whitespace,
    ),
    Rule(
        id="oai.landing-url-is-file",
        group="oai",
        severity="warning",
        source=(
            "OpenAIRE Guidelines for Literature Repositories 3.0, dc:identifier (M): "
            "the first URL is the landing page (metadata.md §1.3); BASE Golden Rules (§2.5)"
        ),
        summary="the record's url is a file (or one of its files), not the article's page",
        check=landing_url_is_a_file,
    ),
    Rule(
        id="oai.language-missing",
        group="oai",
        severity="info",
        source="OpenAIRE Guidelines for Literature Repositories 3.0, dc:language (R) "
        "(metadata.md §1.3)",
        summary="no language: no dc:language",
        check=language_missing,
    ),
    Rule(
        id="oai.abstract-missing",
        group="oai",
        severity="info",
        source="OpenAIRE Guidelines for Literature Repositories 3.0, dc:description (MA); "
        "BASE Golden Rules: metadata as comprehensive as possible (metadata.md §2.5)",
        summary="no abstract: no dc:description",
        check=abstract_missing,
    ),
]
