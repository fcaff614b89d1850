"""The store's records as canonical dicts, fast: Core rows, five range queries a batch.

``records.queries.iter_records`` loads ORM objects with their children, which costs about
0.55 ms a record here (55 s for 100k, most of the checker's minute). The checker reads
nothing but the canonical dict, so it takes the rows as they come: one query for a batch
of records in primary-key order and one per child table over the batch's key range,
assembled into exactly what ``records.queries.record_to_dict`` returns (a test compares
the two on every kind of record).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from records.aggregator_sets import AGGREGATOR_SETS
from records.models import ArticleFile, Author, Record, RightsStatement, SetMembership

BATCH = 2_000
#: the rights object's keys, in the order of the rights query's columns
RIGHTS_KEYS = ("license", "license_name", "statement", "holder", "year", "access", "embargo_until")

_RECORD_COLUMNS = (
    Record.pk,
    Record.local_id,
    Record.deleted,
    Record.title,
    Record.language,
    Record.abstract,
    Record.keywords,
    Record.journal_title,
    Record.journal_issn,
    Record.journal_eissn,
    Record.journal_publisher,
    Record.volume,
    Record.issue,
    Record.pages,
    Record.published,
    Record.doi,
    Record.url,
    Record.references,
    Record.resource_type,
    Record.version,
    Record.extra,
)


def _children(
    connection: Connection, columns: tuple[Any, ...], key: Any, lo: int, hi: int, order: Any = None
) -> dict[int, list[Any]]:
    query = select(key, *columns).where(key >= lo, key <= hi)
    if order is not None:
        query = query.order_by(key, order)
    found: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(query):
        found[row[0]].append(row[1:])
    return found


def _canonical(
    row: Any, authors: list[Any], files: list[Any], rights: list[Any], sets: list[Any]
) -> dict[str, Any]:
    direct_sets = sorted(spec for spec, direct in sets if direct and spec not in AGGREGATOR_SETS)
    if row.deleted:
        return {"id": row.local_id, "deleted": True, "sets": direct_sets}
    journal = {
        "title": row.journal_title,
        "issn": row.journal_issn,
        "eissn": row.journal_eissn,
        "publisher": row.journal_publisher,
    }
    record: dict[str, Any] = {
        "id": row.local_id,
        "title": row.title,
        "language": row.language,
        "authors": [
            {"family": family, "given": given, "orcid": orcid, "affiliation": affiliation}
            for family, given, orcid, affiliation in authors
        ],
        "abstract": row.abstract,
        "keywords": list(row.keywords or []),
        "journal": journal if any(journal.values()) else None,
        "volume": row.volume,
        "issue": row.issue,
        "pages": row.pages,
        "published": row.published,
        "doi": row.doi,
        "url": row.url,
        "files": [{"url": url, "mime_type": mime, "label": label} for url, mime, label in files],
        "references": list(row.references or []),
        "rights": dict(zip(RIGHTS_KEYS, rights[0], strict=True)) if rights else None,
        "sets": direct_sets,
        "deleted": False,
    }
    if row.resource_type is not None:
        record["type"] = row.resource_type
    if row.version is not None:
        record["version"] = row.version
    if row.extra:
        record["extra"] = row.extra
    return record


def canonical_records(connection: Connection) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """``(pk, canonical record, every set it is in)`` for each stored record, in pk order.

    The sets include ancestors and the computed aggregator sets (for ``--set``).
    """
    after = 0
    while True:
        rows = connection.execute(
            select(*_RECORD_COLUMNS).where(Record.pk > after).order_by(Record.pk).limit(BATCH)
        ).all()
        if not rows:
            return
        lo, hi = rows[0].pk, rows[-1].pk
        authors = _children(
            connection,
            (Author.family, Author.given, Author.orcid, Author.affiliation),
            Author.record_pk,
            lo,
            hi,
            Author.position,
        )
        files = _children(
            connection,
            (ArticleFile.url, ArticleFile.mime_type, ArticleFile.label),
            ArticleFile.record_pk,
            lo,
            hi,
            ArticleFile.position,
        )
        rights = _children(
            connection,
            (
                RightsStatement.license,
                RightsStatement.license_name,
                RightsStatement.statement,
                RightsStatement.holder,
                RightsStatement.year,
                RightsStatement.access,
                RightsStatement.embargo_until,
            ),
            RightsStatement.record_pk,
            lo,
            hi,
        )
        sets = _children(
            connection,
            (SetMembership.set_spec, SetMembership.direct),
            SetMembership.record_pk,
            lo,
            hi,
        )
        for row in rows:
            memberships = sets.get(row.pk, [])
            record = _canonical(
                row,
                authors.get(row.pk, []),
                files.get(row.pk, []),
                rights.get(row.pk, []),
                memberships,
            )
            yield row.pk, record, [spec for spec, _ in memberships]
        after = hi
