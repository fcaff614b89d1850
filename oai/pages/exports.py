"""Citation files for reference managers: BibTeX, RIS, EndNote tagged and CSL-JSON.

Each is written from the record, field by field, so that what a reference manager imports
is what ``/oai`` serves; the CSL-JSON file is the very item the "How to Cite" styles
render (oai.pages.csl). All are UTF-8.

* BibTeX (``@article``, bibtexparser's writer): LaTeX's special characters escaped
  (``\\ { } % & $ # _ ~ ^ < > |``; braces as ``\\textbraceleft{}`` so that a lone brace in a
  title cannot unbalance the entry), non-ASCII kept as UTF-8 (biber and ``inputenc`` read
  it), the title braced as a whole so no style recases it, ``pages`` with ``--``, ``month``
  as the standard macro, ``doi``/``url`` verbatim (they are printed with ``\\url``), and a
  citation key from the first author, the year and the first word of the title.
* RIS (rispy's writer, without its non-standard ``1.`` header line; CRLF lines as the
  format asks): ``TY  - JOUR`` … ``ER  -``, one ``AU``/``KW``/``SN`` per value, ``SP``
  and ``EP`` separately.
* EndNote tagged (``%0 Journal Article``, one field a line).

Values are written on one line each (runs of white space, newlines included, become one
space): a line break inside a value would end the field in RIS and EndNote, and a blank
line would end the whole reference.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from rispy.writer import RisWriter

from oai.formats.vocabulary import page_range
from oai.pages.article import Article
from oai.pages.csl import csl_item, date_parts

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class Export:
    label: str
    media: str
    extension: str
    write: Callable[[Article], str]


def bibtex(article: Article) -> str:
    """One ``@article`` entry."""
    record = article.record
    journal = record.get("journal") or {}
    year, month = _year_month(record.get("published"))
    first, last = page_range(record.get("pages"))
    fields: list[tuple[str, str | None]] = [
        ("author", " and ".join(_bibtex_name(a) for a in record.get("authors") or [])),
        ("title", "{" + _latex(record.get("title")) + "}" if record.get("title") else None),
        ("journal", _latex(journal.get("title"))),
        ("year", str(year) if year else None),
        ("volume", _latex(record.get("volume"))),
        ("number", _latex(record.get("issue"))),
        ("pages", _bibtex_pages(record.get("pages"), first, last)),
        ("publisher", _latex(journal.get("publisher"))),
        ("issn", ", ".join(i for i in (journal.get("issn"), journal.get("eissn")) if i)),
        ("doi", _verbatim(record.get("doi"))),
        ("url", _verbatim(record.get("url"))),
        ("language", _latex(record.get("language"))),
        ("abstract", _latex(record.get("abstract"))),
        ("keywords", ", ".join(_latex(k) for k in record.get("keywords") or [])),
    ]
    entry_fields = [Field(key, "{" + value + "}") for key, value in fields if value]
    if month:
        at = next(i for i, field in enumerate(entry_fields) if field.key == "year") + 1
        entry_fields.insert(at, Field("month", MONTHS[month - 1]))
    library = Library([Entry("article", citation_key(article), entry_fields)])
    layout = bibtexparser.BibtexFormat()
    layout.indent = "  "
    return bibtexparser.write_string(library, unparse_stack=[], bibtex_format=layout)


def ris(article: Article) -> str:
    """One ``TY  - JOUR`` reference."""
    record = article.record
    journal = record.get("journal") or {}
    first, last = page_range(record.get("pages"))
    parts = date_parts(record.get("published"))
    fields: dict[str, Any] = {
        "type_of_reference": "JOUR",
        "authors": [_family_given(a) for a in record.get("authors") or [] if a.get("family")],
        "title": record.get("title"),
        "secondary_title": journal.get("title"),
        "journal_name": journal.get("title"),
        "year": str(parts[0]) if parts else None,
        "date": _ris_date(parts) if len(parts) > 1 else None,
        "volume": record.get("volume"),
        "number": record.get("issue"),
        "start_page": first,
        "end_page": last,
        "publisher": journal.get("publisher"),
        "issn": [i for i in (journal.get("issn"), journal.get("eissn")) if i],
        "doi": record.get("doi"),
        "urls": [record["url"]] if record.get("url") else [],
        "language": record.get("language"),
        "abstract": record.get("abstract"),
        "keywords": list(record.get("keywords") or []),
    }
    reference = {key: _one_line(value) for key, value in fields.items() if value}
    return _RisFile().formats([reference])


def endnote(article: Article) -> str:
    """One ``%0 Journal Article`` reference in EndNote's tagged (refer) format."""
    record = article.record
    journal = record.get("journal") or {}
    parts = date_parts(record.get("published"))
    first, last = page_range(record.get("pages"))
    lines: list[tuple[str, str | None]] = [("%0", "Journal Article")]
    lines += [("%A", _family_given(a)) for a in record.get("authors") or [] if a.get("family")]
    lines += [
        ("%T", record.get("title")),
        ("%J", journal.get("title")),
        ("%D", str(parts[0]) if parts else None),
        ("%8", record.get("published") if len(parts) > 1 else None),
        ("%V", record.get("volume")),
        ("%N", record.get("issue")),
        ("%P", f"{first}-{last}" if first and last else record.get("pages")),
        ("%I", journal.get("publisher")),
    ]
    lines += [("%@", issn) for issn in (journal.get("issn"), journal.get("eissn")) if issn]
    lines += [
        ("%R", record.get("doi")),
        ("%U", record.get("url")),
        ("%G", record.get("language")),
        ("%X", record.get("abstract")),
    ]
    lines += [("%K", keyword) for keyword in record.get("keywords") or []]
    return "".join(f"{tag} {_one_line(value)}\n" for tag, value in lines if value)


def csl_json(article: Article) -> str:
    """A CSL-JSON file: an array holding the record's one item (csl-data.json)."""
    return json.dumps([csl_item(article)], ensure_ascii=False, indent=2) + "\n"


#: ``/cite/<fmt>/…`` → what it serves, in the order offered
EXPORTS: dict[str, Export] = {
    "bib": Export("BibTeX", "application/x-bibtex", "bib", bibtex),
    "ris": Export("RIS", "application/x-research-info-systems", "ris", ris),
    "enw": Export("EndNote", "application/x-endnote-refer", "enw", endnote),
    "json": Export("CSL-JSON", "application/vnd.citationstyles.csl+json", "json", csl_json),
}


def download_name(local_id: str, extension: str) -> str:
    """A file name from the record id: ``article/587`` → ``article-587.bib`` (safe ASCII)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", _ascii(local_id)).strip(".-_")[:100]
    return f"{stem or 'citation'}.{extension}"


def citation_key(article: Article) -> str:
    """``mukimdzhanova2004central``: stable for as long as author, year and title are."""
    record = article.record
    authors = record.get("authors") or []
    family = _key_word(authors[0].get("family") if authors else None) or "anon"
    parts = date_parts(record.get("published"))
    words = (_key_word(w) for w in (record.get("title") or "").split())
    word = next((w for w in words if w and w not in _KEY_STOP_WORDS), "")
    return f"{family}{parts[0] if parts else ''}{word}"


_KEY_STOP_WORDS = frozenset("a an and as at by for from in into of on or the to with".split())

# LaTeX's special characters in text; braces as commands so a lone one stays balanced
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # in LaTeX's default OT1 encoding these print as other glyphs (¡ ¿ —)
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def _latex(text: str | None) -> str | None:
    if not text:
        return None
    return "".join(_LATEX.get(char, char) for char in _one_line(text))


def _verbatim(text: str | None) -> str | None:
    """A DOI or URL as given; only what would unbalance the entry is percent-encoded."""
    if not text:
        return None
    return re.sub(r"[{}\\\s]", lambda m: f"%{ord(m.group()):02X}", text)


def _bibtex_name(author: dict[str, Any]) -> str:
    """``Family, Given``; a name BibTeX would split (``and``, a comma, no given) is braced."""
    family = _latex(author.get("family")) or ""
    given = _latex(author.get("given"))
    if not given or "," in family or re.search(r"\band\b", family, re.IGNORECASE):
        family = "{" + family + "}"
    return f"{family}, {given}" if given else family


def _bibtex_pages(pages: str | None, first: str | None, last: str | None) -> str | None:
    if first and last and "," not in (pages or ""):
        return f"{_latex(first)}--{_latex(last)}"
    return _latex(pages)


def _family_given(author: dict[str, Any]) -> str:
    return ", ".join(p for p in (author.get("family"), author.get("given")) if p)


def _year_month(published: str | None) -> tuple[int | None, int | None]:
    parts = date_parts(published)
    year = parts[0] if parts else None
    month = parts[1] if len(parts) > 1 and 1 <= parts[1] <= 12 else None
    return year, month


def _ris_date(parts: list[int]) -> str:
    """RIS ``DA``: ``YYYY/MM/DD/`` with what is unknown left empty."""
    padded = [f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:3]]
    return "/".join(padded + [""] * (3 - len(padded))) + "/"


def _one_line(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_one_line(v) for v in value]
    return value


#: Latin letters that do not decompose into ASCII ones
_LATIN = str.maketrans(
    {"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss", "Ł": "L",
     "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i"}
)  # fmt: skip


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _key_word(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii(text or "").lower())


class _RisFile(RisWriter):
    """rispy's writer without the ``1.`` line it puts before each reference (not RIS),
    with CRLF line ends, and with ISSNs one per ``SN`` line."""

    NEWLINE = "\r\n"

    def __init__(self) -> None:
        super().__init__(list_tags=[*RisWriter.DEFAULT_LIST_TAGS, "SN"])

    def set_header(self, count: int) -> str:
        return ""
