"""Read queries. Every list is a keyset scan of an index: no OFFSET, no per-record query.

The protocol's queries take a Core ``Connection``, not an ORM ``Session``: they return
plain rows, and a request should not pay for unit-of-work machinery it never uses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from records import list_totals
from records.aggregator_sets import AGGREGATOR_SETS
from records.models import HarvestedRecord, OAISet, Record, Rendition, SetMembership


@dataclass(frozen=True)
class ListWindow:
    """Which slice of the datestamp-ordered list a request asks for."""

    from_: datetime | None
    until: datetime | None
    set_spec: str | None
    after: tuple[datetime, str] | None = None
    #: only records disseminated in this format (and deletions); None: every record, as
    #: for oai_dc, which every record has (§3.4)
    in_format: str | None = None


class ListedRecord(NamedTuple):
    """The columns of a listed record, in the order the list queries select them.

    The queries return database rows of this shape (not copies): they unpack as tuples.
    """

    deleted: bool
    header_xml: bytes
    datestamp: datetime
    local_id: str
    metadata_xml: bytes | None
    #: the provenance ``<about>`` of a harvested record (oai.harvester); with metadata only
    provenance_xml: bytes | None


def _keyset_filters(
    datestamp: Any, local_id: Any, *, from_: bool, until: bool, after: bool
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if from_:
        filters.append(datestamp >= bindparam("from_"))
    if until:
        filters.append(datestamp <= bindparam("until"))
    if after:
        # A row-value comparison: both SQLite and PostgreSQL seek the (datestamp, local_id)
        # index to the exact row. Spelt as ``datestamp >= s AND (datestamp > s OR local_id
        # > i)`` it seeks on the datestamp alone, then walks every row of that second
        # before the page; after a first import, every record has the same datestamp,
        # and each page cost as much as the rows before it (21 ms at 90 % of 100k).
        filters.append(
            tuple_(datestamp, local_id)
            > tuple_(
                bindparam("after_stamp", type_=datestamp.type),
                bindparam("after_id", type_=local_id.type),
            )
        )
    return filters


def _with_provenance(query: Select[Any]) -> Select[Any]:
    """The harvested record's provenance in the same statement: one round trip a page."""
    joined = query.outerjoin(HarvestedRecord, HarvestedRecord.local_id == Record.local_id)
    return joined.add_columns(HarvestedRecord.about_xml.label("provenance_xml"))


@functools.cache
def _window_statement(
    in_set: bool, from_: bool, until: bool, after: bool, content: str, in_format: bool
) -> Select[Any]:
    """One statement per shape of request, built once: only parameters change per page.

    ``content`` is ``count``, ``headers`` or ``records``; ``in_format`` keeps the records
    a format is disseminated for (§4.3, §4.5: ListIdentifiers and ListRecords alike).
    """
    if in_set:
        stamp, local_id = SetMembership.datestamp, SetMembership.local_id
    else:
        stamp, local_id = Record.datestamp, Record.local_id
    if content == "count":
        query = select(func.count())
    else:
        query = select(
            Record.deleted,
            Record.header_xml,
            stamp.label("datestamp"),
            local_id.label("local_id"),
        )
    if in_set:
        query = (
            query.select_from(SetMembership)
            .join(Record, Record.pk == SetMembership.record_pk)
            .where(SetMembership.set_spec == bindparam("set_spec"))
        )
    else:
        query = query.select_from(Record)
    query = query.where(*_keyset_filters(stamp, local_id, from_=from_, until=until, after=after))
    if content == "records" or in_format:
        # One primary-key lookup per row. A live record not (yet) rendered in the format
        # is skipped, never shown as a bare header (which harvesters would take for a
        # deletion); `oaipress rebuild` renders it.
        query = query.outerjoin(
            Rendition,
            and_(Rendition.record_pk == Record.pk, Rendition.prefix == bindparam("prefix")),
        ).where(or_(Record.deleted, Rendition.record_pk.is_not(None)))
    if content == "count":
        return query
    if content == "records":
        query = _with_provenance(query.add_columns(Rendition.xml.label("metadata_xml")))
    else:
        query = query.add_columns(null().label("metadata_xml"), null().label("provenance_xml"))
    return query.order_by(stamp, local_id).limit(bindparam("limit"))


def _run_window(connection: Connection, window: ListWindow, content: str, **params: Any) -> Any:
    statement = _window_statement(
        window.set_spec is not None,
        window.from_ is not None,
        window.until is not None,
        window.after is not None,
        content,
        window.in_format is not None,
    )
    if window.in_format is not None:
        params.setdefault("prefix", window.in_format)
    if window.set_spec is not None:
        params["set_spec"] = window.set_spec
    if window.from_ is not None:
        params["from_"] = window.from_
    if window.until is not None:
        params["until"] = window.until
    if window.after is not None:
        params["after_stamp"], params["after_id"] = window.after
    return connection.execute(statement, params)


def list_page(
    connection: Connection, window: ListWindow, limit: int, prefix: str | None
) -> Sequence[ListedRecord]:
    """Up to ``limit`` records after ``window.after``; metadata only when ``prefix`` is given."""
    if prefix is None:
        return _run_window(connection, window, "headers", limit=limit).all()
    return _run_window(connection, window, "records", limit=limit, prefix=prefix).all()


def count_window(connection: Connection, window: ListWindow) -> int:
    """The rows of the window (completeListSize), exact.

    With an ``until`` (every protocol list has one), from the list's stored total less
    its small edges (records.list_totals); the window itself is counted only when both of
    its sides are large.
    """
    if window.until is not None and window.after is None and window.in_format is None:
        counted = list_totals.count_from_totals(
            connection, window.set_spec, window.from_, window.until
        )
        if counted is not None:
            return counted
    return count_rows(connection, window)


def count_rows(connection: Connection, window: ListWindow) -> int:
    """The rows of the window, counted one by one (O(window))."""
    return int(_run_window(connection, window, "count").scalar_one())


_GET_RECORD = _with_provenance(
    select(
        Record.deleted,
        Record.header_xml,
        Record.datestamp,
        Record.local_id,
        Rendition.xml.label("metadata_xml"),
    )
    .outerjoin(
        Rendition, and_(Rendition.record_pk == Record.pk, Rendition.prefix == bindparam("prefix"))
    )
    .where(Record.local_id == bindparam("local_id"))
)


def get_record(connection: Connection, local_id: str, prefix: str) -> ListedRecord | None:
    row: ListedRecord | None = connection.execute(
        _GET_RECORD, {"local_id": local_id, "prefix": prefix}
    ).first()
    return row


def rendered_prefixes(connection: Connection, local_id: str) -> tuple[bool, set[str]] | None:
    """Whether the record is deleted, and the formats it is rendered in; None: no record."""
    rows = connection.execute(
        select(Record.deleted, Rendition.prefix)
        .outerjoin(Rendition, Rendition.record_pk == Record.pk)
        .where(Record.local_id == local_id)
    ).all()
    if not rows:
        return None
    return bool(rows[0][0]), {prefix for _, prefix in rows if prefix is not None}


def earliest_datestamp(connection: Connection) -> datetime | None:
    return connection.scalar(select(func.min(Record.datestamp)))


def has_sets(connection: Connection) -> bool:
    return connection.scalar(select(OAISet.spec).limit(1)) is not None


def count_sets(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(OAISet)).scalar_one())


def list_sets(connection: Connection, after: str | None, limit: int) -> Sequence[Row[Any]]:
    """Rows with ``spec``, ``name`` and ``description``, in setSpec order."""
    query = select(OAISet.spec, OAISet.name, OAISet.description).order_by(OAISet.spec).limit(limit)
    if after is not None:
        query = query.where(OAISet.spec > after)
    return connection.execute(query).all()


def set_definitions(session: Session) -> list[dict[str, Any]]:
    """Every named set as an import line (records.validate.normalize_set_definition), in
    setSpec order; the computed aggregator sets are oaipress's, not the repository's."""
    rows = session.execute(
        select(OAISet.spec, OAISet.name, OAISet.description).order_by(OAISet.spec)
    )
    return [
        {"set": spec, "name": name, "description": description}
        for spec, name, description in rows
        if spec not in AGGREGATOR_SETS
    ]


def record_to_dict(record: Record) -> dict[str, Any]:
    """The canonical interchange form of a stored record (what export writes)."""
    # The aggregator sets are computed, never declared (records.aggregator_sets).
    direct_sets = sorted(
        m.set_spec for m in record.memberships if m.direct and m.set_spec not in AGGREGATOR_SETS
    )
    if record.deleted:
        return {"id": record.local_id, "deleted": True, "sets": direct_sets}
    journal = {
        "title": record.journal_title,
        "issn": record.journal_issn,
        "eissn": record.journal_eissn,
        "publisher": record.journal_publisher,
    }
    rights = record.rights
    result: dict[str, Any] = {
        "id": record.local_id,
        "title": record.title,
        "language": record.language,
        "authors": [
            {"family": a.family, "given": a.given, "orcid": a.orcid, "affiliation": a.affiliation}
            for a in record.authors
        ],
        "abstract": record.abstract,
        "keywords": list(record.keywords or []),
        "journal": journal if any(journal.values()) else None,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "published": record.published,
        "doi": record.doi,
        "url": record.url,
        "files": [{"url": f.url, "mime_type": f.mime_type, "label": f.label} for f in record.files],
        "references": list(record.references or []),
        "rights": {
            "license": rights.license,
            "license_name": rights.license_name,
            "statement": rights.statement,
            "holder": rights.holder,
            "year": rights.year,
            "access": rights.access,
            "embargo_until": rights.embargo_until,
        }
        if rights
        else None,
        "sets": direct_sets,
        "deleted": False,
    }
    # Only when given, as on import: the canonical form (and its hash) of older records stays.
    if record.resource_type is not None:
        result["type"] = record.resource_type
    if record.version is not None:
        result["version"] = record.version
    if record.extra:
        result["extra"] = record.extra
    return result


def iter_records(
    session: Session, batch_size: int = 500, *, before: datetime | None = None
) -> Iterator[Record]:
    """Every record with its children loaded, in (datestamp, id) order, batch by batch.

    ``before`` leaves out records stamped from then on (a writer's own restamped rows).
    """
    after: tuple[datetime, str] | None = None
    while True:
        query = (
            select(Record)
            .options(
                selectinload(Record.authors),
                selectinload(Record.files),
                selectinload(Record.rights),
                selectinload(Record.memberships),
            )
            .order_by(Record.datestamp, Record.local_id)
            .limit(batch_size)
        )
        if before is not None:
            query = query.where(Record.datestamp < before)
        params: dict[str, Any] = {}
        if after is not None:
            query = query.where(
                *_keyset_filters(
                    Record.datestamp, Record.local_id, from_=False, until=False, after=True
                )
            )
            params = {"after_stamp": after[0], "after_id": after[1]}
        batch = list(session.scalars(query, params))
        if not batch:
            return
        yield from batch
        after = (batch[-1].datestamp, batch[-1].local_id)
        session.expunge_all()


def load_record(session: Session, local_id: str) -> Record | None:
    """One record with its authors, files, rights and sets, in one statement (for pages)."""
    return (
        session.scalars(
            select(Record)
            .options(
                joinedload(Record.authors),
                joinedload(Record.files),
                joinedload(Record.rights),
                joinedload(Record.memberships),
            )
            .where(Record.local_id == local_id)
        )
        .unique()
        .first()
    )
