"""Checks and normalises one record of the interchange format (record-format.md).

Shared by ingest and any tool that inspects records. Everything that reaches the
store passes through :func:`normalize_record`, so the store only ever holds text that
XML 1.0 can carry, canonical licence URIs and bare DOIs.
"""

from __future__ import annotations

import hashlib
import json
import re
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
    r"(?:/([a-z]{2}(?:-[a-z]+)?))?/?(?:legalcode(?:\.[a-z-]+)?|deed\.[a-zA-Z-]+)?",
    re.IGNORECASE,
)
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

TOP_LEVEL_FIELDS = (
    "id",
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
)


class RecordError(ValueError):
    """A record that cannot be stored; ``field`` names where the problem is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _TextExtractor(HTMLParser):
    # Their content is code, not text (Word pastes <style> blocks into OJS abstracts).
    NOT_TEXT = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.NOT_TEXT:
            self.hidden += 1
        elif tag in {"p", "br", "div", "li"} and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.NOT_TEXT and self.hidden:
            self.hidden -= 1


def strip_html(text: str) -> str:
    """Abstracts arrive from OJS and others with markup; the store keeps plain text."""
    if "<" not in text and "&" not in text:
        return text
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    lines = ("".join(parser.parts)).split("\n")
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in lines).strip()


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
    limit = MAX_LENGTHS[column]
    if value is not None and len(value) > limit:
        raise RecordError(field, f"is {len(value)} characters long; at most {limit} are allowed")
    return value


def _check_json_text(value: Any, field: str) -> None:
    """Unknown fields are kept as they came, so every string in them (keys too) must be
    XML text; serialising them to JSON first would hide C0 controls behind \\u escapes."""
    if isinstance(value, str):
        check_xml_text(value, field)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json_text(item, f"{field}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_xml_text(key, field)
            _check_json_text(item, f"{field}.{key}")


def _text(obj: dict[str, Any], key: str, field: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(field, "is required")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(field, f"must be a string, not {type(value).__name__}")
    return check_xml_text(value.strip(), field)


def _object(obj: dict[str, Any], key: str, field: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(field, "must be an object")
    return value


def _list(obj: dict[str, Any], key: str, field: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(field, "must be a list")
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
    for i, raw in enumerate(_list(obj, "authors", "authors")):
        field = f"authors[{i}]"
        if not isinstance(raw, dict):
            raise RecordError(field, "must be an object")
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
    for i, raw in enumerate(_list(obj, "files", "files")):
        field = f"files[{i}]"
        if not isinstance(raw, dict):
            raise RecordError(field, "must be an object")
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


def _strings(obj: dict[str, Any], key: str, *, html: bool = False) -> list[str]:
    values = []
    for i, raw in enumerate(_list(obj, key, key)):
        if not isinstance(raw, str):
            raise RecordError(f"{key}[{i}]", "must be a string")
        text = check_xml_text(strip_html(raw) if html else raw, f"{key}[{i}]").strip()
        if text:
            values.append(text)
    return values


def _rights(obj: dict[str, Any]) -> dict[str, Any]:
    raw = _object(obj, "rights", "rights")
    if raw is None:
        raise RecordError("rights", "is required (at least rights.access)")
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
    abstract = _text(obj, "abstract", "abstract")
    extra = {k: v for k, v in obj.items() if k not in TOP_LEVEL_FIELDS}
    for key, value in extra.items():
        check_xml_text(key, "(field name)")
        _check_json_text(value, key)
    record = {
        "id": local_id,
        "title": _text(obj, "title", "title", required=True),
        "language": language,
        "authors": _authors(obj),
        "abstract": strip_html(abstract) if abstract else None,
        "keywords": _strings(obj, "keywords", html=True),
        "journal": _journal(obj),
        "volume": _bounded(_text(obj, "volume", "volume"), "volume", "volume"),
        "issue": _bounded(_text(obj, "issue", "issue"), "issue", "issue"),
        "pages": _bounded(_text(obj, "pages", "pages"), "pages", "pages"),
        "published": _checked_date(published, "published", W3CDTF_RE),
        "doi": _bounded(normalize_doi(doi), "doi", "doi") if doi else None,
        "url": url,
        "files": _files(obj),
        "references": _strings(obj, "references"),
        "rights": _rights(obj),
        "sets": normalize_sets(obj),
        "deleted": False,
    }
    if extra:
        record["extra"] = extra
    return record, datestamp


def content_hash(record: dict[str, Any]) -> str:
    """What harvesters see changes exactly when this hash changes."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def utc_now() -> datetime:
    """The store's clock: naive UTC at second granularity, like every datestamp."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
