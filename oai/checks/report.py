"""Findings written out: a table for people at a terminal, JSON and CSV for programs.

* **table** — record by record (most severe first), aligned; then each rule that fired,
  with its count and its source; then one summary line by severity.
* **json** — one object: ``checked`` (what and how many), ``summary`` (counts by
  severity), ``rules`` (each rule that fired: group, severity, source, summary, count) and
  ``findings`` (each with record, line, field, rule, severity, message, source).
* **csv** — a header row, then one row per finding, columns as the JSON findings.

Each writer streams: a store of 100k records may have hundreds of thousands of findings.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from typing import IO

from oai.checks.model import RANK, SEVERITIES, Finding
from oai.checks.rules import BY_ID
from oai.checks.runner import CheckResult

FORMATS = ("table", "json", "csv")
CSV_COLUMNS = ("record", "line", "field", "rule", "severity", "message", "source")
#: the field column of the table is at most this wide (longer fields push the message)
MAX_FIELD_WIDTH = 24


def _plural(count: int, word: str) -> str:
    if word == "info":
        return f"{count:,} info"
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def summary_line(result: CheckResult, what: str) -> str:
    """``100,000 records checked in the store, 1,234 with findings: 0 errors, 2 warnings, …``"""
    counts = result.counts()
    by_severity = ", ".join(_plural(counts[s], s) for s in SEVERITIES)
    return (
        f"{_plural(result.records, 'record')} checked in {what}, "
        f"{result.records_with_findings():,} with findings: {by_severity}"
    )


def rule_counts(findings: list[Finding]) -> list[tuple[str, int]]:
    """Each rule that fired with its count: most severe first, then most frequent."""
    counts = Counter(f.rule for f in findings)
    severity = {f.rule: f.severity for f in findings}
    return sorted(counts.items(), key=lambda item: (RANK[severity[item[0]]], -item[1], item[0]))


def write_table(result: CheckResult, out: IO[str], what: str) -> None:
    findings = result.findings
    if findings:
        rule_width = max(len(f.rule) for f in findings)
        field_width = min(MAX_FIELD_WIDTH, max(len(f.field) for f in findings))
        current = None
        for finding in findings:
            if finding.record != current:
                if current is not None:
                    out.write("\n")
                out.write(f"{finding.record}\n")
                current = finding.record
            out.write(
                f"  {finding.severity:<7}  {finding.rule:<{rule_width}}  "
                f"{finding.field:<{field_width}}  {finding.message}\n"
            )
        out.write("\nRules that fired:\n")
        counted = rule_counts(findings)
        count_width = max(len(f"{n:,}") for _, n in counted)
        for rule_id, count in counted:
            rule = BY_ID.get(rule_id)
            severity = rule.severity if rule else ""
            out.write(f"  {severity:<7}  {rule_id:<{rule_width}}  {count:>{count_width},}")
            out.write(f"  {rule.source}\n" if rule else "\n")
        out.write("\n")
    out.write(summary_line(result, what) + "\n")


def write_json(result: CheckResult, out: IO[str], what: str) -> None:
    head = {
        "checked": {
            "what": what,
            "records": result.records,
            "records_with_findings": result.records_with_findings(),
            "started": result.started.strftime("%Y-%m-%dT%H:%M:%SZ") if result.started else None,
            **result.scope,
        },
        "summary": result.counts(),
        "rules": [
            {
                "id": rule_id,
                "group": BY_ID[rule_id].group,
                "severity": BY_ID[rule_id].severity,
                "source": BY_ID[rule_id].source,
                "summary": BY_ID[rule_id].summary,
                "count": count,
            }
            for rule_id, count in rule_counts(result.findings)
        ],
    }
    text = json.dumps(head, ensure_ascii=False, indent=1)
    out.write(text[: text.rindex("}")].rstrip() + ',\n "findings": [')
    for i, finding in enumerate(result.findings):
        out.write(",\n  " if i else "\n  ")
        out.write(json.dumps(finding.as_dict(), ensure_ascii=False))
    out.write("\n ]\n}\n")


def write_csv(result: CheckResult, out: IO[str], what: str) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for finding in result.findings:
        writer.writerow(finding.as_dict())


WRITERS = {"table": write_table, "json": write_json, "csv": write_csv}
