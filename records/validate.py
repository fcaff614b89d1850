"""Checks and normalises one record of the interchange format (record-format.md).

Shared by ingest and any tool that inspects records. Everything that reaches the
store passes through :func:`normalize_record`, so the store only ever holds text that
XML 1.0 can carry, canonical licence URIs and bare DOIs.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import html
import html.entities
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any

ACCESS_VALUES = ("open", "embargoed", "restricted", "closed")

# oai-identifier.xsd: the local part of an OAI identifier. Its pattern lets '%' stand
# alone, but the identifier is also an xs:anyURI, where '%' must begin an escape (%2F).
LOCAL_ID_RE = re.compile(r"(?:[a-zA-Z0-9\-_.!~*'();/?:@&=+$,]|%[0-9A-Fa-f]{2})+")
# OAI-PMH.xsd setSpecType.
SET_SPEC_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
W3CDTF_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
DATESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
LANGUAGE_RE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*")
MIME_RE = re.compile(r"[a-zA-Z0-9][\w!#$&^.+-]*/[a-zA-Z0-9][\w!#$&^.+-]*")
DOI_RE = re.compile(r"10\.\d{4,9}/\S+")
DOI_PREFIX_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
ISSN_RE = re.compile(r"(\d{4})-?(\d{3}[\dXx])")
ORCID_RE = re.compile(r"(?:https?://orcid\.org/)?(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")
URL_RE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
URI_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+")
CC_RE = re.compile(
    r"https?://(?:www\.)?creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)"
    r"(?:/([a-z]{2}(?:-[a-z]+)?))?/?(?:(?:legalcode|deed)(?:\.[a-zA-Z_-]+)?/?)?",
    re.IGNORECASE,
)
#: the import format's ``type``: COAR resource type labels (oai.formats.vocabulary maps them)
RESOURCE_TYPES = (
    "journal article",
    "research article",
    "review article",
    "editorial",
    "letter to the editor",
    "book review",
    "data paper",
    "corrigendum",
)
#: the import format's ``version`` (NISO JAV: version of record, accepted, submitted)
VERSIONS = ("published", "accepted", "submitted")
#: set specs computed from the records (records.aggregator_sets); an import may not name them
RESERVED_SETS = ("driver", "openaire")
# Bounded columns of records.models: a longer value is a bad line, not a database
# error (PostgreSQL refuses it mid-import; SQLite would store it silently).
MAX_LENGTHS = {
    "language": 35,
    "volume": 64,
    "issue": 64,
    "pages": 64,
    "doi": 512,
    "mime_type": 255,
    "set_spec": 255,
}
MAX_SETS_MARKUP = 1800
# Characters XML 1.0 cannot carry (§2.2 Char), lone surrogates included.
NOT_XML_CHAR_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The fields of the record format (docs/record-format.md); any other name is refused, so
# that a misspelt field ("abstarct", "rights.licence") is not dropped or stored unseen.
TOP_LEVEL_FIELDS = (
    "id",
    "type",
    "version",
    "title",
    "language",
    "authors",
    "abstract",
    "keywords",
    "journal",
    "volume",
    "issue",
    "pages",
    "published",
    "doi",
    "url",
    "files",
    "references",
    "rights",
    "sets",
    "deleted",
    "datestamp",
    "extra",
)
AUTHOR_FIELDS = ("family", "given", "orcid", "affiliation")
JOURNAL_FIELDS = ("title", "issn", "eissn", "publisher")
FILE_FIELDS = ("url", "mime_type", "label")
RIGHTS_FIELDS = (
    "license",
    "license_name",
    "statement",
    "holder",
    "year",
    "access",
    "embargo_until",
)

# Sizes a record may have (docs/record-format.md): far above real articles, and a bound on
# what one record costs to store, render and serve (a 50 MB abstract would be a 50 MB page).
MAX_TITLE = 2_000  # characters
MAX_ABSTRACT = 100_000  # characters, once markup is stripped
MAX_TEXT = 4_000  # characters of any other text: names, affiliations, keywords, URLs, ...
MAX_REFERENCE = 10_000  # characters of one reference
MAX_AUTHORS = 10_000
MAX_KEYWORDS = 500
MAX_REFERENCES = 5_000
MAX_FILES = 100
MAX_EXTRA_DEPTH = 16  # objects and lists nested in "extra", "extra" itself included


class RecordError(ValueError):
    """A record that cannot be stored; ``field`` names where the problem is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _field_name(key: str) -> str:
    """A field name fit for a one-line message, however long or odd it is."""
    # An empty name would leave the error naming no field at all ("line 3: : is not ...").
    return key if key and key.isprintable() and len(key) <= 64 else repr(key[:64])


def refuse_unknown_fields(obj: dict[str, Any], known: tuple[str, ...], where: str = "") -> None:
    """Refuse a name the format does not have, suggesting the closest one that it has."""
    for key in obj:
        if key in known:
            continue
        field = f"{where}.{_field_name(key)}" if where else _field_name(key)
        close = difflib.get_close_matches(key[:64], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if not where:
            hint += " (fields of your own go in the 'extra' object)"
        elif not close:
            hint += f" (the fields of {where.split('[')[0]} are {', '.join(known)})"
        raise RecordError(field, f"is not a field of the record format{hint}")


def _too_long(value: str, limit: int, field: str) -> RecordError:
    return RecordError(field, f"is {len(value):,} characters long; at most {limit:,} are allowed")


# --- HTML: strip real markup, keep every other character --------------------------------
#
# Abstracts arrive from OJS (TinyMCE), Word, Google Docs and Crossref (JATS) with markup,
# and from everyone else as plain text in which "T<Tc and T>0", "a<b" or "\\left<x\\right>"
# are mathematics, not tags. A text counts as HTML only when it holds real markup, and
# only real markup is removed: everything else is kept character for character.

# Elements that editors put into abstracts: written bare (<p>, <i>) they are markup.
TEXT_ELEMENTS = frozenset(
    """a abbr acronym address article b bdi bdo big blockquote body br caption center cite
    code col colgroup dd del dfn div dl dt em figcaption figure font h1 h2 h3 h4 h5 h6 head hr
    html i img ins li math nobr ol p pre q rb rp rt rtc ruby section small span strike strong
    style script sub sup svg table tbody td tfoot th thead tr tt u ul wbr
    bold disp-formula ext-link inline-formula italic list-item monospace named-content
    overline sc styled-content underline""".split()
)
# The rest of HTML. Their names are also words people put in angle brackets ("maps <input>
# to <output>", the <s> token), so only a tag with attributes counts as markup, and then
# its end tag.
OTHER_ELEMENTS = frozenset(
    """applet area aside audio base basefont bgsound blink button canvas data datalist details
    dialog dir embed fieldset footer form frame frameset header hgroup iframe input isindex kbd
    keygen label legend link listing main map mark marquee menu menuitem meta meter nav noembed
    noframes noscript object optgroup option output param picture plaintext progress s samp
    search select slot source spacer summary template textarea time title track var video
    xmp""".split()
)
# MathML elements are markup inside <math> only (outside it, "<none>" or "<mi>" are text).
MATHML_ELEMENTS = frozenset(
    """maction maligngroup malignmark menclose merror mfenced mfrac mglyph mi mlabeledtr
    mlongdiv mmultiscripts mn mo mover mpadded mphantom mprescripts mroot mrow ms mscarries
    mscarry msgroup msline mspace msqrt msrow mstack mstyle msub msubsup msup mtable mtd mtext
    mtr munder munderover none semantics annotation annotation-xml""".split()
)
# Namespace prefixes of markup: JATS (Crossref), MathML, Microsoft Office (<o:p>, <w:...>).
MARKUP_PREFIXES = frozenset({"jats", "mml", "o", "w", "v", "m", "st1", "xhtml", "html"})
# A line break before these (as before: only once there is text).
BLOCK_ELEMENTS = frozenset({"p", "br", "div", "li", "jats:p", "jats:title", "jats:sec"})
# Their content is code or a duplicate, not text (Word pastes <style> blocks into OJS
# abstracts; MathML annotations repeat the formula in TeX).
HIDDEN_ELEMENTS = frozenset({"script", "style", "svg"})
HIDDEN_IN_MATH = frozenset({"annotation", "annotation-xml"})
# Attribute names of HTML, MathML and the editors above. A tag whose attribute is neither
# one of these nor given a quoted value is text: "if a<b and c>d" is not bold.
HTML_ATTRIBUTES = frozenset(
    """abbr accent accentunder accept accept-charset accesskey action actiontype align alink
    allow allowfullscreen alt altimg alttext arg async autocapitalize autocomplete autofocus
    autoplay axis background bevelled bgcolor border cellpadding cellspacing char charoff
    charset checked cite class classid clear close code codebase codetype color cols colspan
    columnalign columnlines columnspacing columnspan compact content contenteditable controls
    coords crossorigin data datetime declare decoding default defer definitionurl denomalign
    depth dir dirname disabled display displaystyle download draggable encoding enctype
    enterkeyhint face fence for form formaction frame frameborder framespacing headers height
    hidden high href hreflang hspace http-equiv id inert inputmode integrity intent is ismap
    itemid itemprop itemref itemscope itemtype kind label lang language largeop linethickness
    link list loading longdesc loop low lquote lspace marginheight marginwidth mathbackground
    mathcolor mathsize mathvariant max maxlength maxsize media method min minlength minsize
    movablelimits multiple muted name nohref noshade notation novalidate nowrap numalign
    onclick onerror onload onmouseout onmouseover open optimum pattern ping placeholder
    playsinline popover poster preload profile readonly referrerpolicy rel required rev
    reversed role rowalign rowlines rows rowspacing rowspan rquote rspace rules sandbox
    scheme scope scriptlevel scrolling selected separator separators shape size sizes slot
    span spellcheck src srcdoc srclang srcset standby start step stretchy style summary
    symmetric tabindex target text title translate type usemap valign value valuetype version
    vlink voffset vspace width wrap xmlns""".split()
)
# The longest named character reference (&CounterClockwiseContourIntegral;) and its '&'.
MAX_REFERENCE_LENGTH = 33


@dataclass(frozen=True)
class _Tag:
    name: str
    attrs: tuple[tuple[str, str | None], ...]
    end: bool = False
    empty: bool = False  # <br/>


class _TagReader(HTMLParser):
    """html.parser's tokenizer, asked about one candidate "<...>" at a time.

    Fed a whole text, it rescans to the end for every "<" without a ">" after it (a
    100,000-character abstract of "a<b " takes minutes); one tag at a time, it is linear.
    """

    def __init__(self) -> None:
        super().__init__()
        self.found: list[_Tag | None] = []

    def read(self, candidate: str) -> _Tag | None:
        """The tag ``candidate`` is, or None when it is anything else."""
        self.feed(candidate)
        self.close()
        return self.found[0] if len(self.found) == 1 else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(_Tag(tag, tuple(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(_Tag(tag, tuple(attrs), empty=True))

    def handle_endtag(self, tag: str) -> None:
        self.found.append(_Tag(tag, (), end=True))

    def handle_data(self, data: str) -> None:
        self.found.append(None)

    handle_comment = handle_decl = handle_pi = unknown_decl = handle_data


@functools.lru_cache(maxsize=4096)
def _read_short_tag(candidate: str) -> _Tag | None:
    return _TagReader().read(candidate)


def _read_tag(candidate: str) -> _Tag | None:
    """Abstracts repeat the same few tags (<p>, </p>, <i>): each short one is read once."""
    if len(candidate) <= 256:
        return _read_short_tag(candidate)
    return _TagReader().read(candidate)


class _Finder:
    """``str.find`` that remembers its last answer, so that scanning stays linear."""

    def __init__(self, text: str, needle: str) -> None:
        self.text = text
        self.needle = needle
        self.at = -2

    def after(self, start: int) -> int:
        if self.at != -1 and self.at < start:
            self.at = self.text.find(self.needle, start)
        return self.at


def _reference_end(text: str, amp: int) -> int:
    """End of the complete character reference at ``amp`` (&amp; &#233; &#xE9;), else 0.

    A reference needs its ';': "AT&T", "R&D" and "&copy 2004" are text."""
    semi = text.find(";", amp + 1, amp + MAX_REFERENCE_LENGTH + 1)
    if semi < 0:
        return 0
    name = text[amp + 1 : semi]
    if name[:2] in ("#x", "#X"):
        ok = len(name) > 2 and all(c in "0123456789abcdefABCDEF" for c in name[2:])
    elif name[:1] == "#":
        ok = len(name) > 1 and all(c in "0123456789" for c in name[1:])
    else:
        ok = f"{name};" in html.entities.html5
    return semi + 1 if ok else 0


def _decode_references(text: str) -> tuple[str, bool]:
    """``text`` with its complete character references decoded, and whether it had any."""
    parts: list[str] = []
    done = 0
    amp = text.find("&")
    while amp >= 0:
        end = _reference_end(text, amp)
        if end:
            parts += [text[done:amp], html.unescape(text[amp:end])]
            done = end
        amp = text.find("&", end or amp + 1)
    if not parts:
        return text, False
    parts.append(text[done:])
    return "".join(parts), True


def _known_attribute(name: str) -> bool:
    return name in HTML_ATTRIBUTES or name.startswith(("data-", "aria-")) or ":" in name


def _tidy(text: str) -> str:
    """Collapse the spaces and tabs that markup leaves around, line by line."""
    lines = (
        " ".join(filter(None, line.replace("\t", " ").split(" "))) for line in text.split("\n")
    )
    return "\n".join(line.strip() for line in lines).strip()


class _Stripper:
    """One pass over a text: markup out, text (with character references decoded) kept."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[str] = []
        self.markup = False
        self.math_depth = 0
        self.open_other: dict[str, int] = {}
        self.gt = _Finder(text, ">")
        self.comment_end = _Finder(text, "-->")
        self.cdata_end = _Finder(text, "]]>")

    def run(self) -> str:
        text = self.text
        done = 0
        while (lt := text.find("<", done)) >= 0:
            self._add_text(text[done:lt])
            end = self._markup_end(lt)
            if end is None:
                self.parts.append("<")
                done = lt + 1
            else:
                self.markup = True
                done = end
        self._add_text(text[done:])
        return _tidy("".join(self.parts)) if self.markup else text

    def _add_text(self, run: str) -> None:
        if run:
            decoded, had_references = _decode_references(run)
            self.markup = self.markup or had_references
            self.parts.append(decoded)

    def _markup_end(self, lt: int) -> int | None:
        """Where the markup that starts at ``lt`` ends, or None when that "<" is text."""
        text = self.text
        if text.startswith("<!--", lt):
            end = self.comment_end.after(lt + 4)
            return None if end < 0 else end + 3
        if text.startswith("<![CDATA[", lt):
            end = self.cdata_end.after(lt + 9)
            if end < 0:
                return None
            if end > lt + 9:
                self.parts.append(text[lt + 9 : end])  # literal: no references inside
            return end + 3
        gt = self.gt.after(lt)
        if gt < 0 or text.find("<", lt + 1, gt) >= 0:
            return None
        if lt and text[lt - 1] == "<" and text.startswith(">", gt + 1):
            return None  # "a<<b>>c": brackets around a word
        candidate = text[lt : gt + 1]
        if candidate[:9].lower().startswith(("<!doctype", "<?xml", "<![if ", "<![endif]")):
            return gt + 1  # declarations, and Word's conditional lists (<![if !supportLists]>)
        tag = _read_tag(candidate)
        if tag is None or not self._is_markup(tag, candidate):
            return None
        return self._apply(tag, gt + 1)

    def _is_markup(self, tag: _Tag, candidate: str) -> bool:
        prefix, _, name = tag.name.rpartition(":")
        if prefix and prefix not in MARKUP_PREFIXES:
            return False
        quoted = '"' in candidate or "'" in candidate
        if not all(_known_attribute(a) or (v is not None and quoted) for a, v in tag.attrs):
            return False
        if prefix and prefix != "mml":
            return True
        if name in TEXT_ELEMENTS or (name in MATHML_ELEMENTS and (self.math_depth or prefix)):
            return True
        if name in OTHER_ELEMENTS:
            return self.open_other.get(name, 0) > 0 if tag.end else bool(tag.attrs)
        return False

    def _apply(self, tag: _Tag, end: int) -> int:
        """Note what the tag opens or closes; return where the text goes on."""
        name = tag.name.removeprefix("mml:")
        step = -1 if tag.end else 0 if tag.empty else 1
        if name == "math":
            self.math_depth = max(self.math_depth + step, 0)
        elif name in OTHER_ELEMENTS:
            self.open_other[name] = max(self.open_other.get(name, 0) + step, 0)
        if tag.end:
            return end
        if tag.name in BLOCK_ELEMENTS and self.parts:
            self.parts.append("\n")
        hidden = name in HIDDEN_ELEMENTS or (self.math_depth and name in HIDDEN_IN_MATH)
        return self._skip_to_end_tag(end, tag.name) if hidden and not tag.empty else end

    def _skip_to_end_tag(self, start: int, name: str) -> int:
        """Just past ``</name>``, or the end of the text (unclosed, as browsers read it)."""
        text = self.text
        at = start
        while (at := text.find("</", at)) >= 0:
            after = at + 2 + len(name)
            if text[at + 2 : after].lower() == name and text[after : after + 1] in ">/ \t\n\r\f":
                gt = text.find(">", after)
                return len(text) if gt < 0 else gt + 1
            at += 2
        return len(text)


def strip_html(text: str) -> str:
    """Abstracts arrive with markup; the store keeps plain text, and only markup goes.

    Markup is: tags of real elements (see TEXT_ELEMENTS and the rules above), comments,
    doctype and ``<?xml`` declarations, CDATA wrappers and complete character references.
    A text without any is returned unchanged; in a text with some, block elements become
    line breaks, runs of spaces collapse, and MathML keeps its text (``x<1``).
    """
    if "<" not in text and "&" not in text:
        return text
    return _Stripper(text).run()


def check_xml_text(value: str, field: str) -> str:
    bad = NOT_XML_CHAR_RE.search(value)
    if bad:
        raise RecordError(
            field,
            f"character U+{ord(bad.group()):04X} at position {bad.start()} "
            "cannot appear in XML 1.0",
        )
    return value


def _bounded(value: str | None, column: str, field: str) -> str | None:
    """Refuse what the store's column cannot hold, naming the field."""
    if value is not None and len(value) > MAX_LENGTHS[column]:
        raise _too_long(value, MAX_LENGTHS[column], field)
    return value


def _check_json_text(value: Any, field: str, depth: int = 0) -> None:
    """The "extra" object is kept as it came, so every string in it (keys too) must be
    XML text; serialising it to JSON first would hide C0 controls behind \\u escapes."""
    if isinstance(value, list | dict) and depth >= MAX_EXTRA_DEPTH:
        raise RecordError(field, f"nests objects and lists more than {MAX_EXTRA_DEPTH} deep")
    if isinstance(value, str):
        check_xml_text(value, field)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json_text(item, f"{field}[{i}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_xml_text(key, field)
            _check_json_text(item, f"{field}.{key}", depth + 1)


def _extra(obj: dict[str, Any]) -> dict[str, Any] | None:
    """Fields of the provider's own, kept verbatim (an empty object is no object)."""
    extra = _object(obj, "extra", "extra")
    if extra:
        _check_json_text(extra, "extra")
    return extra or None


def _text(
    obj: dict[str, Any],
    key: str,
    field: str,
    *,
    required: bool = False,
    limit: int | None = MAX_TEXT,
) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(field, "is required")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(field, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise _too_long(value, limit, field)
    return check_xml_text(value, field)


def _object(obj: dict[str, Any], key: str, field: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(field, "must be an object")
    return value


def _list(obj: dict[str, Any], key: str, field: str, limit: int | None = None) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(field, "must be a list")
    if limit is not None and len(value) > limit:
        raise RecordError(field, f"has {len(value):,} items; at most {limit:,} are allowed")
    return value


def _checked_date(text: str, field: str, pattern: re.Pattern[str]) -> str:
    match = pattern.fullmatch(text)
    if not match:
        raise RecordError(field, f"{text!r} is not a W3CDTF date (YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = match.groups()
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise RecordError(field, f"{text!r} is not a real date") from exc
    return text


def normalize_doi(value: str, field: str = "doi") -> str:
    doi = DOI_PREFIX_RE.sub("", value.strip())
    if not DOI_RE.fullmatch(doi):
        raise RecordError(field, f"{value!r} is not a DOI (10.prefix/suffix)")
    return doi


def normalize_license(value: str, field: str = "rights.license") -> str:
    """Creative Commons URIs arrive in many spellings; emit the canonical deed URI."""
    match = CC_RE.fullmatch(value.strip())
    if match:
        kind, code, version, port = match.groups()
        port_part = f"{port.lower()}/" if port else ""
        return f"https://creativecommons.org/{kind.lower()}/{code.lower()}/{version}/{port_part}"
    if not URI_RE.fullmatch(value):
        raise RecordError(field, f"{value!r} is not an absolute URI")
    return value


def _issn_check_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits[7].upper() == ("X" if check == 10 else str(check))


def normalize_issn(value: str, field: str) -> str:
    match = ISSN_RE.fullmatch(value.strip())
    if not match or not _issn_check_ok(match.group(1) + match.group(2)):
        raise RecordError(field, f"{value!r} is not a valid ISSN (NNNN-NNNC)")
    return f"{match.group(1)}-{match.group(2).upper()}"


def _orcid_check_ok(digits: str) -> bool:
    total = 0
    for d in digits[:15]:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    return digits[15].upper() == ("X" if check == 10 else str(check))


def normalize_orcid(value: str, field: str) -> str:
    match = ORCID_RE.fullmatch(value.strip())
    if not match or not _orcid_check_ok("".join(match.groups())):
        raise RecordError(field, f"{value!r} is not a valid ORCID iD")
    return "-".join(match.groups()).upper()


def parse_datestamp(value: Any, field: str = "datestamp") -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or not DATESTAMP_RE.fullmatch(value):
        raise RecordError(field, f"{value!r} is not a UTC datestamp YYYY-MM-DDThh:mm:ssZ")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise RecordError(field, f"{value!r} is not a real date and time") from exc


def format_datestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_sets(obj: dict[str, Any]) -> list[str]:
    specs: list[str] = []
    for i, spec in enumerate(_list(obj, "sets", "sets")):
        if not isinstance(spec, str) or not SET_SPEC_RE.fullmatch(spec):
            raise RecordError(f"sets[{i}]", f"{spec!r} is not a setSpec (e.g. 'cac' or 'cac:ART')")
        _bounded(spec, "set_spec", f"sets[{i}]")
        if spec.split(":")[0] in RESERVED_SETS:
            raise RecordError(
                f"sets[{i}]",
                f"{spec!r} is reserved: oaipress computes the driver and openaire sets "
                "from each record's access rights and files",
            )
        if spec not in specs:
            specs.append(spec)
    # The header, setSpecs included, sits in the listing index, whose entries PostgreSQL
    # caps at about 2.7 kB.
    if sum(len(spec) + 20 for spec in specs) > MAX_SETS_MARKUP:
        raise RecordError(
            "sets",
            f"a record can belong to at most {MAX_SETS_MARKUP} characters "
            "of setSpecs (counting 20 per set)",
        )
    return sorted(specs)  # membership has no order; sorting keeps the hash stable


def _authors(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if "authors" not in obj:
        raise RecordError("authors", "is required (an empty list for anonymous works)")
    authors = []
    for i, raw in enumerate(_list(obj, "authors", "authors", MAX_AUTHORS)):
        field = f"authors[{i}]"
        if not isinstance(raw, dict):
            raise RecordError(field, "must be an object")
        refuse_unknown_fields(raw, AUTHOR_FIELDS, field)
        orcid = _text(raw, "orcid", f"{field}.orcid")
        authors.append(
            {
                "family": _text(raw, "family", f"{field}.family", required=True),
                "given": _text(raw, "given", f"{field}.given"),
                "orcid": normalize_orcid(orcid, f"{field}.orcid") if orcid else None,
                "affiliation": _text(raw, "affiliation", f"{field}.affiliation"),
            }
        )
    return authors


def _journal(obj: dict[str, Any]) -> dict[str, Any] | None:
    raw = _object(obj, "journal", "journal")
    if raw is None:
        return None
    refuse_unknown_fields(raw, JOURNAL_FIELDS, "journal")
    issn = _text(raw, "issn", "journal.issn")
    eissn = _text(raw, "eissn", "journal.eissn")
    journal = {
        "title": _text(raw, "title", "journal.title"),
        "issn": normalize_issn(issn, "journal.issn") if issn else None,
        "eissn": normalize_issn(eissn, "journal.eissn") if eissn else None,
        "publisher": _text(raw, "publisher", "journal.publisher"),
    }
    return journal if any(journal.values()) else None


def _files(obj: dict[str, Any]) -> list[dict[str, Any]]:
    files = []
    for i, raw in enumerate(_list(obj, "files", "files", MAX_FILES)):
        field = f"files[{i}]"
        if not isinstance(raw, dict):
            raise RecordError(field, "must be an object")
        refuse_unknown_fields(raw, FILE_FIELDS, field)
        url = _text(raw, "url", f"{field}.url", required=True)
        assert url is not None
        if not URL_RE.fullmatch(url):
            raise RecordError(f"{field}.url", f"{url!r} is not an http(s) URL")
        mime = _bounded(
            _text(raw, "mime_type", f"{field}.mime_type"), "mime_type", f"{field}.mime_type"
        )
        if mime and not MIME_RE.fullmatch(mime):
            raise RecordError(f"{field}.mime_type", f"{mime!r} is not a media type")
        files.append(
            {"url": url, "mime_type": mime, "label": _text(raw, "label", f"{field}.label")}
        )
    return files


def _strings(
    obj: dict[str, Any], key: str, *, count: int, length: int, html: bool = False
) -> list[str]:
    values = []
    for i, raw in enumerate(_list(obj, key, key, count)):
        field = f"{key}[{i}]"
        if not isinstance(raw, str):
            raise RecordError(field, "must be a string")
        text = check_xml_text(strip_html(raw) if html else raw, field).strip()
        if text:
            if len(text) > length:
                raise _too_long(text, length, field)
            values.append(text)
    return values


def _rights(obj: dict[str, Any]) -> dict[str, Any]:
    raw = _object(obj, "rights", "rights")
    if raw is None:
        raise RecordError("rights", "is required (at least rights.access)")
    refuse_unknown_fields(raw, RIGHTS_FIELDS, "rights")
    access = _text(raw, "access", "rights.access", required=True)
    if access not in ACCESS_VALUES:
        raise RecordError("rights.access", f"{access!r} is not one of {', '.join(ACCESS_VALUES)}")
    embargo = _text(raw, "embargo_until", "rights.embargo_until")
    if embargo:
        _checked_date(embargo, "rights.embargo_until", re.compile(r"(\d{4})-(\d{2})-(\d{2})"))
    elif access == "embargoed":
        raise RecordError("rights.embargo_until", "is required when access is 'embargoed'")
    year = raw.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        if isinstance(year, str) and year.strip().isdigit():
            year = int(year)
        else:
            raise RecordError("rights.year", f"{year!r} is not a year")
    if year is not None and not 1000 <= year <= 9999:
        raise RecordError("rights.year", f"{year!r} is not a four-digit year")
    license_uri = _text(raw, "license", "rights.license")
    return {
        "license": normalize_license(license_uri) if license_uri else None,
        "license_name": _text(raw, "license_name", "rights.license_name"),
        "statement": _text(raw, "statement", "rights.statement"),
        "holder": _text(raw, "holder", "rights.holder"),
        "year": year,
        "access": access,
        "embargo_until": embargo,
    }


def normalize_record(obj: Any) -> tuple[dict[str, Any], datetime | None]:
    """Return the canonical form of a record and the datestamp it carried, if any.

    The canonical form has every field of the contract, in a fixed shape, so that two
    records are the same exactly when their canonical JSON is the same.
    """
    if not isinstance(obj, dict):
        raise RecordError("(line)", "must be a JSON object")
    refuse_unknown_fields(obj, TOP_LEVEL_FIELDS)
    local_id = _text(obj, "id", "id", required=True)
    assert local_id is not None
    if len(local_id) > 512 or not LOCAL_ID_RE.fullmatch(local_id):
        raise RecordError("id", f"{local_id[:80]!r} has characters an OAI identifier cannot carry")
    deleted = obj.get("deleted", False)
    if not isinstance(deleted, bool):
        raise RecordError("deleted", "must be true or false")
    datestamp = parse_datestamp(obj.get("datestamp"))
    if deleted:
        sets = normalize_sets(obj) if obj.get("sets") is not None else None
        return {"id": local_id, "deleted": True, "sets": sets}, datestamp

    url = _text(obj, "url", "url", required=True)
    assert url is not None
    if not URL_RE.fullmatch(url):
        raise RecordError("url", f"{url!r} is not an http(s) URL")
    language = _bounded(_text(obj, "language", "language"), "language", "language")
    if language and not LANGUAGE_RE.fullmatch(language):
        raise RecordError("language", f"{language!r} is not a BCP 47 language tag")
    published = _text(obj, "published", "published", required=True)
    assert published is not None
    doi = _text(obj, "doi", "doi")
    abstract = _text(obj, "abstract", "abstract", limit=None)
    if abstract:  # the limit is on what is stored and served: the text without markup
        abstract = check_xml_text(strip_html(abstract), "abstract")
        if len(abstract) > MAX_ABSTRACT:
            raise _too_long(abstract, MAX_ABSTRACT, "abstract")
        abstract = abstract or None
    extra = _extra(obj)
    record = {
        "id": local_id,
        "title": _text(obj, "title", "title", required=True, limit=MAX_TITLE),
        "language": language,
        "authors": _authors(obj),
        "abstract": abstract,
        "keywords": _strings(obj, "keywords", count=MAX_KEYWORDS, length=MAX_TEXT, html=True),
        "journal": _journal(obj),
        "volume": _bounded(_text(obj, "volume", "volume"), "volume", "volume"),
        "issue": _bounded(_text(obj, "issue", "issue"), "issue", "issue"),
        "pages": _bounded(_text(obj, "pages", "pages"), "pages", "pages"),
        "published": _checked_date(published, "published", W3CDTF_RE),
        "doi": _bounded(normalize_doi(doi), "doi", "doi") if doi else None,
        "url": url,
        "files": _files(obj),
        "references": _strings(obj, "references", count=MAX_REFERENCES, length=MAX_REFERENCE),
        "rights": _rights(obj),
        "sets": normalize_sets(obj),
        "deleted": False,
    }
    # Only when given: records stored before these fields existed keep their hashes.
    for key, allowed in (("type", RESOURCE_TYPES), ("version", VERSIONS)):
        value = obj.get(key)
        if value is None:
            continue
        if value not in allowed:
            raise RecordError(key, f"{value!r} is not one of {', '.join(allowed)}")
        record[key] = value
    if extra:
        record["extra"] = extra
    return record, datestamp


SET_DEFINITION_FIELDS = ("set", "name", "description")


def is_set_definition(obj: Any) -> bool:
    """A line that names a set rather than a record: ``{"set": …, "name": …}`` (export)."""
    return isinstance(obj, dict) and "set" in obj and "id" not in obj


def normalize_set_definition(obj: dict[str, Any]) -> dict[str, Any]:
    """The name (and description) ListSets shows for a set, as ``oaipress set`` gives them."""
    refuse_unknown_fields(obj, SET_DEFINITION_FIELDS)
    spec = obj.get("set")
    if not isinstance(spec, str) or not SET_SPEC_RE.fullmatch(spec):
        raise RecordError("set", f"{spec!r} is not a setSpec (e.g. 'cac' or 'cac:ART')")
    _bounded(spec, "set_spec", "set")
    if spec.split(":")[0] in RESERVED_SETS:
        raise RecordError("set", f"{spec!r} is reserved: oaipress names and fills it")
    return {
        "set": spec,
        "name": _text(obj, "name", "name", required=True),
        "description": _text(obj, "description", "description", limit=MAX_ABSTRACT),
    }


def content_hash(record: dict[str, Any]) -> str:
    """What harvesters see changes exactly when this hash changes."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def utc_now() -> datetime:
    """The store's clock: naive UTC at second granularity, like every datestamp."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
