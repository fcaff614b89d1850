"""The record checker's findings in the store: saved by ``oaipress check``, read by the
``/explore/checks`` page and each landing page's "checked" badge.

Each run over the whole store replaces every finding in one transaction, with a
``store_settings`` row (``checks_last_run``) that says when the run started reading and
what it found in total, by rule and by set. The totals are counted once, when the run is
saved, so the page reads one row for them however many findings there are; the lists
are keyset pages of an index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select
from sqlalchemy.orm import Session

from records.db import insert_for
from records.models import Finding, SetMembership, StoreSetting

LAST_RUN = "checks_last_run"
SEVERITIES = ("error", "warning", "info")
#: rows per INSERT statement (executemany), well inside PostgreSQL's parameter limit
INSERT_BATCH = 5_000


@dataclass(frozen=True)
class FindingRow:
    """What is stored of a finding (the rule's source and summary are in the rule table)."""

    record_pk: int
    local_id: str
    rule: str
    field: str
    severity: str
    message: str


@dataclass(frozen=True)
class CheckRun:
    """The last run over the store: when, how many records, and what it found."""

    ran_at: datetime  #: when it started reading (naive UTC, the store's clock)
    records: int
    counts: dict[str, int]  #: severity → findings
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  #: rule → severity → n
    by_set: dict[str, dict[str, int]] = field(default_factory=dict)  #: set → severity → n
    records_with_findings: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "ran_at": self.ran_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "records": self.records,
                "records_with_findings": self.records_with_findings,
                "counts": self.counts,
                "by_rule": self.by_rule,
                "by_set": self.by_set,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CheckRun:
        data = json.loads(text)
        return cls(
            ran_at=datetime.strptime(data["ran_at"], "%Y-%m-%dT%H:%M:%S.%fZ"),
            records=int(data["records"]),
            counts=dict(data["counts"]),
            by_rule=dict(data.get("by_rule", {})),
            by_set=dict(data.get("by_set", {})),
            records_with_findings=int(data.get("records_with_findings", 0)),
        )


def _nested(rows: Iterable[Row[Any]]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for key, severity, count in rows:
        result.setdefault(key, {})[severity] = int(count)
    return result


def save_findings(
    session: Session, rows: Iterable[FindingRow], *, ran_at: datetime, records: int
) -> CheckRun:
    """Replace every finding by ``rows`` and note the run, in the caller's transaction.

    A store migrated while migration 0005 was still an empty placeholder (it was committed
    one release early) has no findings table although Alembic counts 0005 as done: the
    table is made here then, exactly as the migration makes it. Readers never need it
    before a run is saved (``last_run`` reads store_settings only).
    """
    Finding.__table__.create(session.connection(), checkfirst=True)
    session.execute(delete(Finding))
    statement = insert(Finding)
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row.__dict__)
        if len(batch) >= INSERT_BATCH:
            session.execute(statement, batch)
            batch = []
    if batch:
        session.execute(statement, batch)
    counts = dict.fromkeys(SEVERITIES, 0)
    counts.update(
        {
            severity: int(n)
            for severity, n in session.execute(
                select(Finding.severity, func.count()).group_by(Finding.severity)
            )
        }
    )
    by_rule = _nested(
        session.execute(
            select(Finding.rule, Finding.severity, func.count()).group_by(
                Finding.rule, Finding.severity
            )
        )
    )
    by_set = _nested(
        session.execute(
            select(SetMembership.set_spec, Finding.severity, func.count())
            .join(SetMembership, SetMembership.record_pk == Finding.record_pk)
            .group_by(SetMembership.set_spec, Finding.severity)
        )
    )
    with_findings = session.scalar(select(func.count(func.distinct(Finding.record_pk))))
    run = CheckRun(ran_at, records, counts, by_rule, by_set, int(with_findings or 0))
    value = run.to_json()
    session.execute(
        insert_for(session, StoreSetting)
        .values(key=LAST_RUN, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )
    return run


def last_run(connection: Connection) -> CheckRun | None:
    """The last run over the store, or None when none has been saved."""
    value = connection.scalar(select(StoreSetting.value).where(StoreSetting.key == LAST_RUN))
    return CheckRun.from_json(value) if value else None


def record_counts(connection: Connection, local_id: str) -> dict[str, int]:
    """severity → findings of one record (for its badge)."""
    rows = connection.execute(
        select(Finding.severity, func.count())
        .where(Finding.local_id == local_id)
        .group_by(Finding.severity)
    )
    return {severity: int(n) for severity, n in rows}


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a list shows; every given condition must hold."""

    rule: str | None = None
    set_spec: str | None = None
    local_id: str | None = None
    severity: str | None = None


def list_findings(
    connection: Connection, where: FindingFilter, *, after: int | None, limit: int
) -> Sequence[Row[Any]]:
    """Up to ``limit`` findings after the finding ``after``, in id order (the run's order:
    record by record). Rows: id, record_pk, local_id, rule, field, severity, message."""
    query = select(
        Finding.id,
        Finding.record_pk,
        Finding.local_id,
        Finding.rule,
        Finding.field,
        Finding.severity,
        Finding.message,
    )
    if where.set_spec is not None:
        query = query.join(
            SetMembership,
            (SetMembership.record_pk == Finding.record_pk)
            & (SetMembership.set_spec == where.set_spec),
        )
    if where.rule is not None:
        query = query.where(Finding.rule == where.rule)
    if where.local_id is not None:
        query = query.where(Finding.local_id == where.local_id)
    if where.severity is not None:
        query = query.where(Finding.severity == where.severity)
    if after is not None:
        query = query.where(Finding.id > after)
    return connection.execute(query.order_by(Finding.id).limit(limit)).all()
