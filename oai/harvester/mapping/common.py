"""What the three mappings read alike: names, dates, languages, DOIs, rights terms."""

from __future__ import annotations

import re
from typing import Any

from oai.formats import languages
from oai.formats.vocabulary import (
    COAR_ACCESS,
    DEFAULT_TYPE,
    DEFAULT_VERSION,
    EU_REPO_ACCESS,
    RESOURCE_TYPES,
    VERSIONS,
    license_info,
)
from oai.harvester.mapping import MappingError, Options
from records.validate import CC_RE, DOI_PREFIX_RE, DOI_RE, URL_RE

_W3CDTF = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)

#: ISO 639-2/B and 639-3 codes → the ISO 639-1 code BCP 47 prefers
_TWO_LETTER: dict[str, str] = {}
for _code in languages._CODES:  # the table oai.formats writes from, read in reverse
    _TWO_LETTER[languages.iso639_3(_code)] = _code
    _TWO_LETTER[languages.iso639_2b(_code)] = _code

ACCESS_BY_EU_REPO = {term: access for access, term in EU_REPO_ACCESS.items()}
ACCESS_BY_COAR = {uri: access for access, (uri, _label) in COAR_ACCESS.items()}
# The defaults (a published journal article) read back as "not given", as they were written.
VERSION_BY_EU_REPO = {v.eu_repo: n for n, v in VERSIONS.items() if n != DEFAULT_VERSION}
VERSION_BY_LABEL = {v.coar_label: n for n, v in VERSIONS.items() if n != DEFAULT_VERSION}
TYPE_BY_COAR = {t.coar: label for label, t in RESOURCE_TYPES.items() if label != DEFAULT_TYPE}


def person(name: str) -> dict[str, Any]:
    """``Family, Given`` → its parts; a name without a comma is kept whole as ``family``
    (splitting "John Doe" or "World Health Organization" would be a guess)."""
    family, comma, given = name.partition(",")
    family, given = family.strip(), given.strip()
    if not comma or not family:
        return {"family": name.strip()}
    return {"family": family, "given": given or None}


def w3cdtf(text: str | None) -> str | None:
    """The ``YYYY[-MM[-DD]]`` a date starts with (``2011-09-05T12:51:52Z`` → ``2011-09-05``)."""
    if not text:
        return None
    matched = _W3CDTF.match(text.strip())
    return matched.group(0) if matched else None


def year_in(text: str | None) -> str | None:
    """The first four-digit year in a MARC-style date (``1862.``, ``c2004``, ``[2004?]``)."""
    matched = re.search(r"\d{4}", text or "")
    return matched.group(0) if matched else None


def language_tag(code: str | None) -> str | None:
    """A language code as BCP 47: ``eng`` → ``en``, ``fr_CA`` → ``fr-CA``; junk → None."""
    if not code:
        return None
    code = code.strip().replace("_", "-")
    primary, _, rest = code.partition("-")
    primary = _TWO_LETTER.get(primary.lower(), primary.lower())
    if primary in ("und", "mul", "zxx") or not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return f"{primary}-{rest}" if rest else primary


def doi_in(text: str | None) -> str | None:
    """A DOI given bare, as ``doi:``, or as a doi.org URL; None otherwise."""
    if not text:
        return None
    bare = DOI_PREFIX_RE.sub("", text.strip())
    if bare.startswith("info:eu-repo/semantics/altIdentifier/doi/"):
        bare = bare.rsplit("/doi/", 1)[1]
    return bare if DOI_RE.fullmatch(bare) else None


def is_url(text: str | None) -> bool:
    return bool(text and URL_RE.fullmatch(text.strip()))


def is_doi_url(text: str) -> bool:
    return bool(_DOI_URL.match(text.strip()))


def is_open_licence(uri: str | None) -> bool:
    """Creative Commons licences and public-domain marks: their articles are open."""
    return bool(uri and CC_RE.fullmatch(uri.strip()))


_CITATION = re.compile(
    r"^(?:Vol\.?\s*(?P<volume>[^\s,;()]+))?[\s,]*(?:No\.?\s*(?P<issue>[^\s,;()]+))?"
    r"[\s,]*(?:\((?P<year>[^)]*)\))?[\s,]*(?:pp?\.\s*(?P<pages>\S+))?\s*$",
    re.IGNORECASE,
)


def numbering(text: str | None) -> dict[str, str | None]:
    """``Vol. 5 No. 4 (2004)`` (OJS) or ``Vol. 5, no. 4 (2004), p. 61-70`` (MARC 773 $g)."""
    found: dict[str, str | None] = {"volume": None, "issue": None, "pages": None}
    if not text:
        return found
    matched = _CITATION.match(text.strip())
    if matched:
        found.update({k: matched.group(k) for k in found if matched.group(k)})
    return found


def rights(
    options: Options,
    *,
    access: str | None,
    license: str | None = None,
    license_name: str | None = None,
    statement: str | None = None,
    holder: str | None = None,
    year: str | None = None,
    embargo_until: str | None = None,
) -> dict[str, Any]:
    """The rights object; an access the source does not state is inferred or refused."""
    if access is None and is_open_licence(license):
        access = "open"
    if access == "embargoed" and not embargo_until:
        access = None  # an embargo without its end cannot be stored: say what is missing
        if options.assume_access is None:
            raise MappingError("rights.embargo_until", "the record is embargoed but gives no end")
    if access is None:
        access = options.assume_access
    if access is None:
        raise MappingError(
            "rights.access",
            "the record states no access right and no open licence "
            "(--assume-access names one for such records)",
        )
    info = license_info(license)
    if info and info.name and info.name == license_name:
        license_name = None  # what the formats derive from the URI anyway
    return {
        "access": access,
        "license": license,
        "license_name": license_name,
        "statement": statement,
        "holder": holder,
        "year": int(year) if year and year.isdigit() else None,
        "embargo_until": embargo_until if access == "embargoed" else None,
    }


def landing_page(candidates: list[str]) -> str:
    """The first http(s) URL that is not a DOI resolver, else the first URL at all."""
    urls = [c.strip() for c in candidates if is_url(c)]
    for url in urls:
        if not is_doi_url(url):
            return url
    if urls:
        return urls[0]
    raise MappingError("url", "the record gives no http(s) URL for the article")


def required(value: str | None, field: str, what: str) -> str:
    if not value:
        raise MappingError(field, f"the record has no {what}")
    return value
