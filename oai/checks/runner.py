"""Runs the rules over records: the store's (one pass, batch by batch) or an import file's.

Each record is checked on its own by the record rules, and gives its keys to the cross
rules' index as it passes; once every record has passed, records that share a key become
findings. Nothing holds more than one batch of records: what stays is the findings and
the index (a hash and an id per key).

An import file is read as ``oaipress import`` reads it (records.lines): a line import would
refuse is itself a finding (rule ``import.refused``, severity error) that names the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from oai.checks.model import RANK, CrossRule, Finding, Record, Rule
from oai.checks.reader import canonical_records
from oai.checks.rules import LINE_RULE
from records.findings import CheckRun, FindingRow, save_findings
from records.lines import DuplicateIds, ImportSummary, LineError, parse_lines
from records.models import Record as StoredRecord
from records.stamping import database_now

Advance = Callable[[int], None]


@dataclass
class CheckResult:
    """What one run found, in report order: record by record, most severe first."""

    findings: list[Finding]
    records: int  #: records checked (tombstones and set lines are not records to check)
    #: when the run started reading, on the store's clock (None for a file)
    started: datetime | None = None
    scope: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def records_with_findings(self) -> int:
        return len({f.record for f in self.findings})


class _CrossIndex:
    """For each cross rule: key hash → the records that gave it (first one kept flat)."""

    def __init__(self, rules: list[CrossRule]) -> None:
        self.rules = rules
        self.keys: list[dict[int, Any]] = [{} for _ in rules]

    def add(self, record: Record, order: int, pk: int | None, line: int | None) -> None:
        for rule, keys in zip(self.rules, self.keys, strict=True):
            if not rule.applies(record):
                continue
            for name, key in rule.keys(record):
                entry = (order, record["id"], pk, line, name, key)
                seen = keys.get(hash(key))
                if seen is None:
                    keys[hash(key)] = entry
                elif isinstance(seen, list):
                    seen.append(entry)
                else:
                    keys[hash(key)] = [seen, entry]

    def findings(self) -> Iterator[tuple[int, Finding]]:
        for rule, keys in zip(self.rules, self.keys, strict=True):
            for group in keys.values():
                if not isinstance(group, list):
                    continue
                ids = [entry[1] for entry in group]
                for order, local_id, pk, line, name, key in group:
                    others = [other for other in ids if other != local_id]
                    yield (
                        order,
                        Finding(
                            record=local_id,
                            field=name,
                            rule=rule.id,
                            message=rule.message(name, key, others),
                            source=rule.source,
                            severity=rule.severity,
                            record_pk=pk,
                            line=line,
                        ),
                    )


class Checker:
    """Record rules over each record as it comes; cross rules once all have come."""

    def __init__(self, rules: list[Rule], cross_rules: list[CrossRule]) -> None:
        self.rules = rules
        self.index = _CrossIndex(cross_rules)
        self._found: list[tuple[int, Finding]] = []
        self.records = 0

    def check(self, record: Record, *, pk: int | None = None, line: int | None = None) -> None:
        if record.get("deleted"):
            return
        order = self.records
        self.records += 1
        local_id = record["id"]
        for rule in self.rules:
            if not rule.applies(record):
                continue
            for field_name, message in rule.check(record):
                self._found.append(
                    (
                        order,
                        Finding(
                            local_id,
                            field_name,
                            rule.id,
                            message,
                            rule.source,
                            rule.severity,
                            pk,
                            line,
                        ),
                    )
                )
        self.index.add(record, order, pk, line)

    def refused(self, error: LineError) -> None:
        """A line import would refuse: a finding of its own, in line order."""
        finding = Finding(
            record=f"line {error.line}",
            field=error.field,
            rule=LINE_RULE.id,
            message=error.message,
            source=LINE_RULE.source,
            severity=LINE_RULE.severity,
            line=error.line,
        )
        self._found.append((-1, finding))

    def result(self, **kwargs: Any) -> CheckResult:
        found = self._found + list(self.index.findings())
        # Record by record (in the order they came), most severe first, then by rule;
        # refused lines first, by line.
        found.sort(
            key=lambda item: (
                item[0],
                (item[1].line or 0) if item[0] < 0 else 0,
                RANK[item[1].severity],
                item[1].rule,
                item[1].field,
            )
        )
        return CheckResult([finding for _, finding in found], self.records, **kwargs)


# --- over the store -------------------------------------------------------------------------


def count_records(connection: Connection) -> int:
    """Every stored record, tombstones included: what the progress bar counts."""
    return int(connection.scalar(select(func.count()).select_from(StoredRecord)) or 0)


def check_store(
    connection: Connection,
    checker: Checker,
    *,
    set_spec: str | None = None,
    advance: Advance = lambda _n: None,
) -> CheckResult:
    """Check every stored record (in the set, when given); ``started`` is when reading
    began, on the store's clock: a record stamped later may have changed since."""
    started = database_now(connection)
    for pk, record, sets in canonical_records(connection):
        if set_spec is None or set_spec in sets:
            checker.check(record, pk=pk)
        advance(1)
    return checker.result(started=started)


def save_result(session: Session, result: CheckResult, ran_at: datetime | None = None) -> CheckRun:
    """Store a run over the store for the page and the badges (records.findings)."""
    rows = (
        FindingRow(f.record_pk, f.record, f.rule, f.field, f.severity, f.message)
        for f in result.findings
        if f.record_pk is not None
    )
    started = ran_at or result.started
    assert started is not None, "only a run over the store is saved"
    return save_findings(session, rows, ran_at=started, records=result.records)


# --- over an import file ---------------------------------------------------------------------


class _EveryError(ImportSummary):
    """An import summary that hands every bad line on (import keeps only the first 100)."""

    def __init__(self, on_error: Callable[[LineError], None]) -> None:
        super().__init__()
        self.on_error = on_error

    def reject(self, error: LineError) -> None:
        self.rejected += 1
        self.on_error(error)


def _in_set(record: Record, set_spec: str) -> bool:
    return any(spec == set_spec or spec.startswith(set_spec + ":") for spec in record["sets"])


def check_lines(
    lines: Iterable[bytes],
    checker: Checker,
    *,
    set_spec: str | None = None,
) -> CheckResult:
    """Check the records of a JSON Lines stream as import would read them."""
    summary = _EveryError(checker.refused)
    duplicates = DuplicateIds()
    for item in parse_lines(lines, summary):
        if item.names_a_set:
            continue
        duplicate = duplicates.check(item)
        if duplicate is not None:
            summary.reject(duplicate)
            continue
        record = item.record
        if set_spec is not None and not record.get("deleted") and not _in_set(record, set_spec):
            continue
        checker.check(record, line=item.line)
    return checker.result()


def read_with_progress(stream: IO[bytes], advance: Advance) -> Iterator[bytes]:
    for line in stream:
        advance(len(line))
        yield line
