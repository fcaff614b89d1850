"""DRIVER and OpenAIRE (v3 ``oai_dc`` profile, v4 ``oai_openaire``): mandatory and
recommended fields, the access-right vocabulary, licence URIs and embargo end dates.

The access right itself cannot be wrong here: import accepts only the four values that
map one-to-one onto info:eu-repo and COAR terms (oai.formats.vocabulary). What can be
wrong is what goes with it: a licence, a file, an embargo's end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from oai.checks.model import Problem, Record, Rule
from oai.formats.vocabulary import license_info
from records import aggregator_sets

#: RightsStatements.org statement IDs (metadata.md §2.3)
RIGHTS_STATEMENTS = frozenset(
    "InC InC-OW-EU InC-EDU InC-NC InC-RUU NoC-CR NoC-NC NoC-OKLR NoC-US CNE UND NKC".split()
)
RIGHTS_STATEMENT_RE = re.compile(r"http://rightsstatements\.org/vocab/([A-Za-z-]+)/1\.0/")


def creator_missing(record: Record) -> Iterator[Problem]:
    if not record.get("authors"):
        yield ("authors", "is empty: OpenAIRE requires a creator (anonymous works aside)")


def license_missing(record: Record) -> Iterator[Problem]:
    if not (record.get("rights") or {}).get("license"):
        yield (
            "rights.license",
            "is not given: an open-access record should state its licence as a URI",
        )


def license_uri(record: Record) -> Iterator[Problem]:
    uri = record["rights"]["license"]
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https"):
        yield ("rights.license", f"{uri} is not an http(s) URI that harvesters can follow")
    elif host.endswith("creativecommons.org"):
        info = license_info(uri)
        if info is None or info.spdx is None:
            yield ("rights.license", f"{uri} is not a Creative Commons licence or tool")
    elif host.endswith("rightsstatements.org"):
        match = RIGHTS_STATEMENT_RE.fullmatch(uri)
        if not match or match.group(1) not in RIGHTS_STATEMENTS:
            yield (
                "rights.license",
                f"{uri} is not a RightsStatements.org statement in its canonical form "
                "(http://rightsstatements.org/vocab/InC/1.0/)",
            )


def embargo_before_publication(record: Record) -> Iterator[Problem]:
    until = record["rights"]["embargo_until"]
    published = record["published"]
    if until and until[: len(published)] < published:
        yield (
            "rights.embargo_until",
            f"{until} is before the publication date {published}",
        )


def embargo_ended(record: Record) -> Iterator[Problem]:
    until = record["rights"]["embargo_until"]
    if until and until <= aggregator_sets.today().isoformat():
        yield (
            "rights.access",
            f"is still 'embargoed', but the embargo ended on {until}: it is served as open "
            "access; say 'open' in the source of the record",
        )


def embargo_date_without_embargo(record: Record) -> Iterator[Problem]:
    rights = record["rights"]
    if rights.get("embargo_until") and rights["access"] != "embargoed":
        yield (
            "rights.embargo_until",
            f"is given ({rights['embargo_until']}) but access is '{rights['access']}': "
            "the date is not disseminated",
        )


def fulltext_missing(record: Record) -> Iterator[Problem]:
    if not record.get("files"):
        yield (
            "files",
            "none: an open-access record without a full-text file is not in the driver set",
        )


def issn_missing(record: Record) -> Iterator[Problem]:
    journal = record["journal"]
    if not journal.get("issn") and not journal.get("eissn"):
        yield ("journal.issn", "the journal has no ISSN (print or online)")


RULES = [
    Rule(
        id="openaire.creator-missing",
        group="openaire",
        severity="warning",
        source="OpenAIRE Guidelines for Literature Repositories v4, Creator (M); "
        "3.0, dc:creator (M) (metadata.md §1.3, §1.4)",
        summary="no authors",
        check=creator_missing,
    ),
    Rule(
        id="openaire.license-missing",
        group="openaire",
        severity="warning",
        source="OpenAIRE Guidelines for Literature Repositories v4, License Condition (R); "
        "3.0, dc:rights licence condition (R) (metadata.md §1.3, §1.4, §2.5)",
        summary="an open-access record without a licence URI",
        check=license_missing,
        applies_to="open-access records",
    ),
    Rule(
        id="openaire.license-uri",
        group="openaire",
        severity="warning",
        source="OpenAIRE Guidelines for Literature Repositories v4, License Condition: "
        "a URI; Creative Commons and RightsStatements.org canonical URIs (metadata.md §2.3)",
        summary="the licence URI is not one harvesters recognise (a malformed CC or "
        "RightsStatements.org URI, or not http(s))",
        check=license_uri,
        applies_to="records with a licence",
    ),
    Rule(
        id="openaire.embargo-before-publication",
        group="openaire",
        severity="error",
        source="OpenAIRE Guidelines for Literature Repositories v4, Embargo Period Date (MA): "
        "the embargo starts at publication (metadata.md §1.4)",
        summary="the embargo ends before the article was published",
        check=embargo_before_publication,
        applies_to="embargoed records",
    ),
    Rule(
        id="openaire.embargo-ended",
        group="openaire",
        severity="info",
        source="OpenAIRE Guidelines for Literature Repositories v4, Access Rights (M) and "
        "Embargo Period Date (MA) (metadata.md §1.4)",
        summary="the embargo has ended but the record still says 'embargoed'",
        check=embargo_ended,
        applies_to="embargoed records",
    ),
    Rule(
        id="openaire.embargo-date-without-embargo",
        group="openaire",
        severity="warning",
        source="OpenAIRE Guidelines for Literature Repositories v4, Embargo Period Date (MA): "
        "only with embargoed access (metadata.md §1.4)",
        summary="an embargo end date on a record whose access is not 'embargoed'",
        check=embargo_date_without_embargo,
    ),
    Rule(
        id="openaire.fulltext-missing",
        group="openaire",
        severity="info",
        source="DRIVER Guidelines 2.0, the DRIVER set: full text reachable from the record; "
        "OpenAIRE v4, File Location (MA) (metadata.md §1.3, §1.4)",
        summary="an open-access record without a full-text file (not in the driver set)",
        check=fulltext_missing,
        applies_to="open-access records",
    ),
    Rule(
        id="openaire.issn-missing",
        group="openaire",
        severity="info",
        source="OpenAIRE Guidelines for Literature Repositories v4, Related Identifier "
        "ISSN IsPartOf (MA); JATS 1.1 journal-meta issn (metadata.md §1.4, §4.1)",
        summary="the journal has no ISSN (JATS's required issn is left empty)",
        check=issn_missing,
        applies_to="records with a journal",
    ),
]
