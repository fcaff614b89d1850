"""Controlled terms shared by the crosswalks (info:eu-repo, COAR)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from records.aggregator_sets import is_open

EU_REPO_ACCESS = {
    "open": "info:eu-repo/semantics/openAccess",
    "embargoed": "info:eu-repo/semantics/embargoedAccess",
    "restricted": "info:eu-repo/semantics/restrictedAccess",
    "closed": "info:eu-repo/semantics/closedAccess",
}


def effective_access(rights: dict[str, Any], today: date | None = None) -> str:
    """An embargo that has ended counts as open access (record-format.md), judged on the
    same day as the aggregator sets are (records.aggregator_sets.today)."""
    if rights["access"] == "embargoed" and is_open(rights, today):
        return "open"
    return str(rights["access"])


def citation_label(record: dict[str, Any]) -> str | None:
    """OJS-style host citation: ``Journal; Vol. 5 No. 4 (2004); 61-70``."""
    journal = (record.get("journal") or {}).get("title")
    if not journal:
        return None
    issue_parts = []
    if record.get("volume"):
        issue_parts.append(f"Vol. {record['volume']}")
    if record.get("issue"):
        issue_parts.append(f"No. {record['issue']}")
    issue_parts.append(f"({record['published'][:4]})")
    parts = [journal, " ".join(issue_parts)]
    if record.get("pages"):
        parts.append(record["pages"])
    return "; ".join(parts)


def copyright_statement(rights: dict[str, Any]) -> str | None:
    """The statement verbatim; composed OJS-style only when just holder and year are known."""
    if rights.get("statement"):
        return str(rights["statement"])
    if rights.get("holder"):
        year = f"{rights['year']} " if rights.get("year") else ""
        return f"Copyright (c) {year}{rights['holder']}"
    return None


# --- what the record is: COAR resource types and versions ---------------------------------

COAR_RESOURCE_TYPE = "http://purl.org/coar/resource_type/"
COAR_VERSION = "http://purl.org/coar/version/"
COAR_ACCESS_RIGHT = "http://purl.org/coar/access_right/"


@dataclass(frozen=True)
class ResourceType:
    """One value of the import format's ``type``, in every vocabulary a format needs."""

    label: str  #: the COAR label, which is also the import format's value
    coar: str  #: COAR resource type URI (oai_openaire, datacite)
    jats: str  #: JATS @article-type (JATS 1.1 suggested values)
    eu_repo: str = "info:eu-repo/semantics/article"  #: first dc:type (DRIVER)


RESOURCE_TYPES: dict[str, ResourceType] = {
    t.label: t
    for t in (
        ResourceType("journal article", COAR_RESOURCE_TYPE + "c_6501", "research-article"),
        ResourceType("research article", COAR_RESOURCE_TYPE + "c_2df8fbb1", "research-article"),
        ResourceType("review article", COAR_RESOURCE_TYPE + "c_dcae04bc", "review-article"),
        ResourceType("editorial", COAR_RESOURCE_TYPE + "c_b239", "editorial"),
        ResourceType("letter to the editor", COAR_RESOURCE_TYPE + "c_545b", "letter"),
        ResourceType(
            "book review",
            COAR_RESOURCE_TYPE + "c_ba08",
            "book-review",
            "info:eu-repo/semantics/review",
        ),
        ResourceType("data paper", COAR_RESOURCE_TYPE + "c_beb9", "research-article"),
        ResourceType("corrigendum", COAR_RESOURCE_TYPE + "c_7acd", "correction"),
    )
}
DEFAULT_TYPE = "journal article"


@dataclass(frozen=True)
class Version:
    """One value of the import format's ``version`` (NISO JAV, as COAR names them)."""

    name: str  #: the import format's value
    coar: str  #: COAR version URI (oai_openaire)
    coar_label: str  #: its COAR label: VoR, AM, SMUR
    eu_repo: str  #: second dc:type (DRIVER)


VERSIONS: dict[str, Version] = {
    v.name: v
    for v in (
        Version(
            "published",
            COAR_VERSION + "c_970fb48d4fbd8a85",
            "VoR",
            "info:eu-repo/semantics/publishedVersion",
        ),
        Version(
            "accepted",
            COAR_VERSION + "c_ab4af688f83e57aa",
            "AM",
            "info:eu-repo/semantics/acceptedVersion",
        ),
        Version(
            "submitted",
            COAR_VERSION + "c_71e4c1898caa6e32",
            "SMUR",
            "info:eu-repo/semantics/submittedVersion",
        ),
    )
}
DEFAULT_VERSION = "published"


def resource_type(record: dict[str, Any]) -> ResourceType:
    return RESOURCE_TYPES[record.get("type") or DEFAULT_TYPE]


def version(record: dict[str, Any]) -> Version:
    return VERSIONS[record.get("version") or DEFAULT_VERSION]


#: access → (COAR access right URI, its label); "closed" is COAR's "metadata only access"
COAR_ACCESS: dict[str, tuple[str, str]] = {
    "open": (COAR_ACCESS_RIGHT + "c_abf2", "open access"),
    "embargoed": (COAR_ACCESS_RIGHT + "c_f1cf", "embargoed access"),
    "restricted": (COAR_ACCESS_RIGHT + "c_16ec", "restricted access"),
    "closed": (COAR_ACCESS_RIGHT + "c_14cb", "metadata only access"),
}


# --- licences ------------------------------------------------------------------------------

_CC_ELEMENTS = {
    "by": "Attribution",
    "nc": "NonCommercial",
    "nd": "NoDerivatives",
    "sa": "ShareAlike",
}


@dataclass(frozen=True)
class License:
    uri: str
    spdx: str | None  #: SPDX identifier, e.g. CC-BY-4.0
    name: str | None  #: full name, e.g. Creative Commons Attribution 4.0 International
    short: str | None  #: short form, e.g. CC BY 4.0


def license_info(uri: str | None) -> License | None:
    """What is known of a (canonical, records.validate) licence URI; names for CC only."""
    if not uri:
        return None
    prefix = "https://creativecommons.org/"
    if not uri.startswith(prefix):
        return License(uri, None, None, None)
    parts = uri[len(prefix) :].strip("/").split("/")
    if parts[:2] == ["publicdomain", "zero"] and parts[2:] == ["1.0"]:
        return License(uri, "CC0-1.0", "CC0 1.0 Universal", "CC0 1.0")
    if len(parts) not in (3, 4) or parts[0] != "licenses":
        return License(uri, None, None, None)
    code, number = parts[1], parts[2]
    elements = code.split("-")
    if not all(e in _CC_ELEMENTS for e in elements):
        return License(uri, None, None, None)
    port = parts[3].upper() if len(parts) == 4 else None
    if number == "4.0":
        scope = "International"
    elif port:
        scope = port
    else:
        scope = "Unported" if number == "3.0" else "Generic"
    named = "-".join(_CC_ELEMENTS[e] for e in elements)
    spdx = f"CC-{code.upper()}-{number}" + (f"-{port}" if port else "")
    short = f"CC {code.upper()} {number}" + (f" {port}" if port else "")
    return License(uri, spdx, f"Creative Commons {named} {number} {scope}", short)


# --- identifiers ---------------------------------------------------------------------------

# RFC 3986 unreserved characters plus those DOIs use that a URI path may carry as they are.
_DOI_SAFE = "/:;()[]@!$&'*+,=-._~"


def doi_url(doi: str) -> str:
    """``https://doi.org/…`` with what a URI cannot hold percent-encoded (<, >, space, #, ?)."""
    return "https://doi.org/" + quote(doi, safe=_DOI_SAFE)


# --- citations -----------------------------------------------------------------------------


def page_range(pages: str | None) -> tuple[str | None, str | None]:
    """First and last page of ``61-70`` (hyphen or dash); a single page has no last."""
    if not pages:
        return None, None
    for dash in ("-", "\u2013", "\u2014"):
        if dash in pages:
            first, _, last = pages.partition(dash)
            return first.strip() or None, last.strip() or None
    return pages.strip(), None
