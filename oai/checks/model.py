"""What the checker works with: rules (data), and the findings they produce.

A rule is a small function over the canonical record dict (records.queries.record_to_dict,
the form import produces and export writes) that yields ``(field, message)`` for each
problem. Rules carry what a reader of a finding needs to act on it: who needs the field
(the group), how bad it is (the severity) and where the requirement is written (the
source: the guideline's name and section, and the section of
/work/shared/conventions/metadata.md that summarises it).

A :class:`CrossRule` sees all records at once, but through a compact index: each record
gives a few short keys (a normalised title, a DOI), the runner keeps only the keys'
hashes with the record's id, and records that share a key are findings. 100k records cost
a few megabytes, never 100k records in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
#: most severe first
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}

Record = dict[str, Any]
#: what a rule's check yields: the field (a path into the record, e.g. ``rights.license``)
#: and a message that says what is wrong in plain words
Problem = tuple[str, str]

#: the records a rule applies to: name → predicate (names appear in docs and reports)
APPLIES_TO: dict[str, Callable[[Record], bool]] = {
    "live records": lambda record: True,
    "open-access records": lambda record: (record.get("rights") or {}).get("access") == "open",
    "embargoed records": lambda record: (record.get("rights") or {}).get("access") == "embargoed",
    "records with a licence": lambda record: bool((record.get("rights") or {}).get("license")),
    "records with a DOI": lambda record: bool(record.get("doi")),
    "records with a journal": lambda record: bool(record.get("journal")),
}


@dataclass(frozen=True)
class Rule:
    """One check of one record."""

    id: str  #: ``group.name``, stable: findings, the page and ``--rules`` use it
    group: str  #: who needs it: oai, openaire, scholar, quality
    severity: Severity
    source: str  #: guideline and section (and our metadata.md section)
    summary: str  #: what the rule checks, one line
    check: Callable[[Record], Iterable[Problem]]
    applies_to: str = "live records"  #: a key of APPLIES_TO

    def applies(self, record: Record) -> bool:
        return APPLIES_TO[self.applies_to](record)


@dataclass(frozen=True)
class CrossRule:
    """A check across records: records sharing a key (``keys`` yields ``(field, key)``)."""

    id: str
    group: str
    severity: Severity
    source: str
    summary: str
    keys: Callable[[Record], Iterable[tuple[str, str]]]
    #: the message for one record, given the field, the key and the other records' ids
    message: Callable[[str, str, list[str]], str]
    applies_to: str = "live records"

    def applies(self, record: Record) -> bool:
        return APPLIES_TO[self.applies_to](record)


AnyRule = Rule | CrossRule


@dataclass(frozen=True)
class Finding:
    """One problem of one record (or of one line of an import file)."""

    record: str  #: the record's id; for a line that is no record, ``line N``
    field: str
    rule: str
    message: str
    source: str
    severity: Severity
    #: the record's primary key in the store (None when checking a file)
    record_pk: int | None = None
    #: the line of the import file (None when checking the store)
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON and CSV shape (oai.checks.report)."""
        return {
            "record": self.record,
            "line": self.line,
            "field": self.field,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "source": self.source,
        }
