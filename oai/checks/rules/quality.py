"""Plain data quality: identifiers that are well formed, a licence name that matches its
URI, a copyright year that fits the publication, titles and names not in capitals, and
(across records) titles and DOIs given twice.

Import normalises DOIs, ISSNs and ORCID iDs and refuses bad check digits
(records.validate); the check-digit rules find records stored before that, or written by
other tools, and cost nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from oai.checks.model import CrossRule, Problem, Record, Rule
from oai.formats.vocabulary import license_info

#: characters Crossref recommends for a DOI suffix; others break in URLs and citations
DOI_SUFFIX_RE = re.compile(r"[A-Za-z0-9\-._;()/:]+")
COPYRIGHT_YEAR_RE = re.compile(r"(?:©|\(c\)|copyright)\s*(\d{4})\b", re.IGNORECASE)
#: a title in capitals has at least this many cased letters (short ones are acronyms)
MIN_CAPITALS = 12
#: types whose titles repeat by nature ("Editorial", "Book review", "Corrigendum")
GENERIC_TITLE_TYPES = frozenset({"editorial", "book review", "corrigendum", "letter to the editor"})
CC_ELEMENT_WORDS = {
    "by": ("attribution",),
    "nc": ("noncommercial", "non-commercial", "non commercial"),
    "nd": ("noderivatives", "noderivs", "no derivatives", "no-derivatives", "noderivative"),
    "sa": ("sharealike", "share-alike", "share alike"),
}


def issn_check_ok(value: str) -> bool:
    digits = value.replace("-", "")
    if len(digits) != 8 or not digits[:7].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits[7].upper() == ("X" if check == 10 else str(check))


def orcid_check_ok(value: str) -> bool:
    """ISO 7064 MOD 11-2, as ORCID defines its last character."""
    digits = value.replace("-", "")
    if len(digits) != 16 or not digits[:15].isdigit():
        return False
    total = 0
    for d in digits[:15]:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    return digits[15].upper() == ("X" if check == 10 else str(check))


def doi_form(record: Record) -> Iterator[Problem]:
    doi: str = record["doi"]
    prefix, _, suffix = doi.partition("/")
    if not re.fullmatch(r"10\.\d{4,9}", prefix) or not suffix:
        yield ("doi", f"{doi!r} is not 10.<prefix>/<suffix>")
    elif "%" in suffix:
        yield ("doi", f"{doi!r} holds percent-escapes: copied from a URL? Give the DOI itself")
    elif re.search(r"doi\.org|^doi:", suffix, re.IGNORECASE):
        yield ("doi", f"{doi!r} holds a second resolver prefix")
    elif suffix[-1] in ".,;:":
        yield ("doi", f"{doi!r} ends in {suffix[-1]!r}: punctuation copied with it?")
    elif not DOI_SUFFIX_RE.fullmatch(suffix):
        odd = sorted({c for c in suffix if not DOI_SUFFIX_RE.fullmatch(c)})
        yield (
            "doi",
            f"{doi!r} has characters outside those Crossref recommends: {''.join(odd)}",
        )


def issn_check_digits(record: Record) -> Iterator[Problem]:
    journal = record["journal"]
    for key in ("issn", "eissn"):
        value = journal.get(key)
        if value and not issn_check_ok(value):
            yield (f"journal.{key}", f"{value} has a wrong check digit")
    if journal.get("issn") and journal.get("issn") == journal.get("eissn"):
        yield ("journal.eissn", f"{journal['eissn']} is also given as the print ISSN")


def orcid_check_digits(record: Record) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, author in enumerate(record.get("authors") or []):
        orcid = author.get("orcid")
        if not orcid:
            continue
        if not orcid_check_ok(orcid):
            yield (f"authors[{i}].orcid", f"{orcid} has a wrong check digit")
        first = seen.setdefault(orcid, i)
        if first != i:
            yield (f"authors[{i}].orcid", f"{orcid} is also the iD of authors[{first}]")


def _named_cc(name: str) -> tuple[str, str | None] | None:
    """The CC licence a name spells (``by-nc``, ``4.0``), or None when it names none."""
    text = " ".join(name.lower().replace("_", " ").split())
    if "cc0" in text or "cc zero" in text or "public domain dedication" in text:
        return "zero", "1.0"
    if "creative commons" not in text and not re.search(r"\bcc[ -]by\b", text):
        return None
    elements = ["by"] if re.search(r"\bby\b|attribution", text) else []
    for code in ("nc", "nd", "sa"):
        words = CC_ELEMENT_WORDS[code]
        if any(w in text for w in words) or re.search(rf"[ -]{code}\b", text):
            elements.append(code)
    version = re.search(r"\b(\d\.\d)\b", text)
    return "-".join(elements), version.group(1) if version else None


def _uri_cc(uri: str) -> tuple[str, str] | None:
    """The CC licence a (canonical) URI links, as ``_named_cc`` spells it, or None."""
    info = license_info(uri)
    if info is None or info.spdx is None:
        return None
    if info.spdx.startswith("CC0"):
        return "zero", "1.0"
    # https://creativecommons.org/licenses/<code>/<version>/[<port>/]
    parts = uri.split("creativecommons.org/", 1)[1].strip("/").split("/")
    return parts[1], parts[2]


def license_name(record: Record) -> Iterator[Problem]:
    rights = record["rights"]
    name, uri = rights.get("license_name"), rights["license"]
    if not name:
        return
    named, linked = _named_cc(name), _uri_cc(uri)
    if linked is None:
        if named is not None:
            yield (
                "rights.license_name",
                f"{name!r} names a Creative Commons licence; {uri} is not one",
            )
        return
    if named is None:
        yield ("rights.license_name", f"{name!r} does not name the licence of {uri}")
        return
    code, version = named
    if code != linked[0] or (version is not None and version != linked[1]):
        yield ("rights.license_name", f"{name!r} does not name the licence of {uri}")


def copyright_year(record: Record) -> Iterator[Problem]:
    published = int(record["published"][:4])
    rights = record["rights"]
    year = rights.get("year")
    if year is not None and year > published:
        yield ("rights.year", f"{year} is after the publication year {published}")
    match = COPYRIGHT_YEAR_RE.search(rights.get("statement") or "")
    if match and int(match.group(1)) > published:
        yield (
            "rights.statement",
            f"says {match.group(1)}, after the publication year {published}",
        )


def _shouts(text: str) -> bool:
    cased = sum(1 for c in text if c.isupper() or c.islower())
    return text.isupper() and cased >= MIN_CAPITALS


def title_capitals(record: Record) -> Iterator[Problem]:
    if _shouts(record["title"]):
        yield ("title", "is in capitals: give it as the article prints it in its own case")


def name_capitals(record: Record) -> Iterator[Problem]:
    for i, author in enumerate(record.get("authors") or []):
        family = author.get("family") or ""
        letters = [c for c in family if c.isalpha()]
        if len(letters) >= 3 and family.isupper():
            yield (f"authors[{i}].family", f"{family!r} is in capitals")


# --- across records -------------------------------------------------------------------------


def title_key(record: Record) -> Iterator[tuple[str, str]]:
    if record.get("type") in GENERIC_TITLE_TYPES:
        return
    text = unicodedata.normalize("NFKC", record["title"]).casefold()
    key = " ".join("".join(c if c.isalnum() else " " for c in text).split())
    if key:
        yield ("title", key)


def doi_key(record: Record) -> Iterator[tuple[str, str]]:
    if record.get("doi"):
        yield ("doi", record["doi"].casefold())  # DOIs are case-insensitive


def _others(ids: list[str]) -> str:
    shown = ", ".join(ids[:3])
    return shown + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


RULES = [
    Rule(
        id="quality.doi-form",
        group="quality",
        severity="warning",
        source="DOI Handbook §2.2 (syntax); Crossref, Constructing your identifiers "
        "(suffix characters) (metadata.md §1.7)",
        summary="a DOI with percent-escapes, a second prefix, trailing punctuation or "
        "unusual characters",
        check=doi_form,
        applies_to="records with a DOI",
    ),
    Rule(
        id="quality.issn",
        group="quality",
        severity="error",
        source="ISO 3297 (ISSN), check digit modulo 11; ISSN International Centre: "
        "one ISSN per medium (metadata.md §1.3)",
        summary="an ISSN with a wrong check digit, or the same ISSN as print and online",
        check=issn_check_digits,
        applies_to="records with a journal",
    ),
    Rule(
        id="quality.orcid",
        group="quality",
        severity="error",
        source="ORCID, Structure of the ORCID Identifier (ISO 7064 MOD 11-2 check "
        "character) (metadata.md §1.4)",
        summary="an ORCID iD with a wrong check character, or one iD for two authors",
        check=orcid_check_digits,
    ),
    Rule(
        id="quality.license-name",
        group="quality",
        severity="warning",
        source="Creative Commons licence deeds and canonical URIs (metadata.md §2.3)",
        summary="the licence name does not name the licence its URI links",
        check=license_name,
        applies_to="records with a licence",
    ),
    Rule(
        id="quality.copyright-year",
        group="quality",
        severity="warning",
        source="OJS copyright model: the copyright year is the publication year "
        "(metadata.md §2.4, §2.6)",
        summary="a copyright year after the publication year",
        check=copyright_year,
    ),
    Rule(
        id="quality.title-capitals",
        group="quality",
        severity="info",
        source="Titles as published, never recased (metadata.md §1.5); Google Scholar "
        "clusters versions by title (§3.1)",
        summary="a title in capitals",
        check=title_capitals,
    ),
    Rule(
        id="quality.name-capitals",
        group="quality",
        severity="info",
        source="OpenAIRE Guidelines for Literature Repositories 3.0, dc:creator name "
        "form (metadata.md §1.3)",
        summary="an author's family name in capitals",
        check=name_capitals,
    ),
]

CROSS_RULES = [
    CrossRule(
        id="quality.duplicate-doi",
        group="quality",
        severity="error",
        source="DOI Handbook §1 (a DOI names one object); OpenAIRE v4, Identifier (M) "
        "(metadata.md §1.4)",
        summary="two records with the same DOI",
        keys=doi_key,
        message=lambda field, key, others: f"{key} is also the DOI of {_others(others)}",
        applies_to="records with a DOI",
    ),
    CrossRule(
        id="quality.duplicate-title",
        group="quality",
        severity="warning",
        source="Google Scholar Inclusion Guidelines: one article per page, versions "
        "clustered by title (metadata.md §3.1)",
        summary="two records with the same title (editorials, reviews and corrigenda aside)",
        keys=title_key,
        message=lambda field, key, others: f"the same title as {_others(others)}",
    ),
]
