"""Read queries. Every list is a keyset scan of an index: no OFFSET, no per-record query."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from records.models import OAISet, Record, Rendition, SetMembership


@dataclass(frozen=True)
class ListWindow:
    """Which slice of the datestamp-ordered list a request asks for."""

    from_: datetime | None
    until: datetime | None
    set_spec: str | None
    after: tuple[datetime, str] | None = None


@dataclass(frozen=True)
class ListedRecord:
    datestamp: datetime
    local_id: str
    deleted: bool
    header_xml: bytes
    metadata_xml: bytes | None


def _keyset_filters(
    datestamp: Any, local_id: Any, *, from_: bool, until: bool, after: bool
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if from_:
        filters.append(datestamp >= bindparam("from_"))
    if until:
        filters.append(datestamp <= bindparam("until"))
    if after:
        # The first term lets the index seek; the second breaks ties within a second.
        filters.append(datestamp >= bindparam("after_stamp"))
        filters.append(or_(datestamp > bindparam("after_stamp"), local_id > bindparam("after_id")))
    return filters


@functools.cache
def _window_statement(
    in_set: bool, from_: bool, until: bool, after: bool, content: str
) -> Select[Any]:
    """One statement per shape of request, built once: only parameters change per page.

    ``content`` is ``count``, ``headers`` or ``records``.
    """
    if in_set:
        stamp, local_id = SetMembership.datestamp, SetMembership.local_id
    else:
        stamp, local_id = Record.datestamp, Record.local_id
    if content == "count":
        query = select(func.count())
    else:
        query = select(Record.deleted, Record.header_xml, stamp, local_id)
    if in_set:
        query = (
            query.select_from(SetMembership)
            .join(Record, Record.pk == SetMembership.record_pk)
            .where(SetMembership.set_spec == bindparam("set_spec"))
        )
    else:
        query = query.select_from(Record)
    query = query.where(*_keyset_filters(stamp, local_id, from_=from_, until=until, after=after))
    if content == "count":
        return query
    if content == "records":
        # A correlated lookup, not a join: with table statistics SQLite would otherwise
        # build a Bloom filter over every rendition on each page. A live record not (yet)
        # rendered in the format is skipped, never shown as a bare header (which harvesters
        # would take for a deletion); `oaipress rebuild` renders it.
        xml = (
            select(Rendition.xml)
            .where(Rendition.record_pk == Record.pk, Rendition.prefix == bindparam("prefix"))
            .scalar_subquery()
        )
        query = query.add_columns(xml).where(or_(Record.deleted, xml.is_not(None)))
    return query.order_by(stamp, local_id).limit(bindparam("limit"))


def _run_window(session: Session, window: ListWindow, content: str, **params: Any) -> Any:
    statement = _window_statement(
        window.set_spec is not None,
        window.from_ is not None,
        window.until is not None,
        window.after is not None,
        content,
    )
    if window.set_spec is not None:
        params["set_spec"] = window.set_spec
    if window.from_ is not None:
        params["from_"] = window.from_
    if window.until is not None:
        params["until"] = window.until
    if window.after is not None:
        params["after_stamp"], params["after_id"] = window.after
    # Plain Core rows: no ORM loading machinery on the hot path of every List page.
    return session.connection().execute(statement, params)


def list_page(
    session: Session, window: ListWindow, limit: int, prefix: str | None
) -> list[ListedRecord]:
    """Up to ``limit`` records after ``window.after``; metadata only when ``prefix`` is given."""
    if prefix is None:
        rows = _run_window(session, window, "headers", limit=limit).all()
    else:
        rows = _run_window(session, window, "records", limit=limit, prefix=prefix).all()
    return [
        ListedRecord(
            datestamp=row[2],
            local_id=row[3],
            deleted=row[0],
            header_xml=row[1],
            metadata_xml=row[4] if prefix is not None else None,
        )
        for row in rows
    ]


def count_window(session: Session, window: ListWindow) -> int:
    return int(_run_window(session, window, "count").scalar_one())


_GET_RECORD = (
    select(Record.datestamp, Record.local_id, Record.deleted, Record.header_xml, Rendition.xml)
    .outerjoin(
        Rendition, and_(Rendition.record_pk == Record.pk, Rendition.prefix == bindparam("prefix"))
    )
    .where(Record.local_id == bindparam("local_id"))
)


def get_record(session: Session, local_id: str, prefix: str) -> ListedRecord | None:
    row = (
        session.connection().execute(_GET_RECORD, {"local_id": local_id, "prefix": prefix}).first()
    )
    if row is None:
        return None
    return ListedRecord(*row)


def record_exists(session: Session, local_id: str) -> bool:
    return session.scalar(select(Record.pk).where(Record.local_id == local_id)) is not None


def earliest_datestamp(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Record.datestamp)))


def has_sets(session: Session) -> bool:
    return session.scalar(select(OAISet.spec).limit(1)) is not None


def set_exists(session: Session, spec: str) -> bool:
    return session.get(OAISet, spec) is not None


def count_sets(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(OAISet)).scalar_one())


def list_sets(session: Session, after: str | None, limit: int) -> list[OAISet]:
    query = select(OAISet).order_by(OAISet.spec).limit(limit)
    if after is not None:
        query = query.where(OAISet.spec > after)
    return list(session.scalars(query))


def record_to_dict(record: Record) -> dict[str, Any]:
    """The canonical interchange form of a stored record (what export writes)."""
    direct_sets = sorted(m.set_spec for m in record.memberships if m.direct)
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
    if record.extra:
        result["extra"] = record.extra
    return result


def iter_records(session: Session, batch_size: int = 500) -> Iterator[Record]:
    """Every record with its children loaded, in (datestamp, id) order, batch by batch."""
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
