"""Writing records: upsert by id in batches, with datestamps that move only on change.

The caller owns the transaction (``with session.begin():``), so a file with a bad
line stores nothing: :func:`import_records` raises :class:`ImportRejected` after it
has read the whole input and listed every bad line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Connection, delete, select, update
from sqlalchemy.orm import Session

from records.aggregator_sets import AGGREGATOR_SETS, header_sets
from records.db import insert_for, insert_ignoring_duplicates
from records.deferred_indexes import defer_if_empty, rebuild
from records.lines import (
    MAX_REPORTED_ERRORS,
    ImportRejected,
    ImportSummary,
    LineError,
    _Item,
    parse_lines,
    without_duplicate_ids,
)
from records.models import (
    ArticleFile,
    Author,
    OAISet,
    Record,
    Rendition,
    RightsStatement,
    SetMembership,
)
from records.stamping import PROVISIONAL, Clock, publish
from records.validate import AUTHOR_FIELDS, FILE_FIELDS, RIGHTS_FIELDS, content_hash

__all__ = [
    "MAX_REPORTED_ERRORS",
    "ImportRejected",
    "ImportSummary",
    "LineError",
    "Renderer",
    "RecordWriter",
    "import_records",
    "parse_lines",
]


class Renderer(Protocol):
    """Turns a canonical record into the bytes the protocol serves."""

    def header(self, local_id: str, datestamp: datetime, sets: list[str], deleted: bool) -> bytes:
        """The record's ``<header>`` element."""
        ...

    def metadata(self, record: dict[str, Any]) -> list[tuple[str, str, bytes]]:
        """``(prefix, format version, serialised metadata element)`` for every format."""
        ...


def set_ancestry(specs: Iterable[str]) -> dict[str, bool]:
    """Every spec a record belongs to, mapped to whether it was declared directly."""
    result: dict[str, bool] = {}
    for spec in specs:
        parts = spec.split(":")
        for depth in range(1, len(parts) + 1):
            ancestor = ":".join(parts[:depth])
            result[ancestor] = result.get(ancestor, False) or ancestor == spec
    return result


def tombstone(local_id: str, sets: list[str]) -> dict[str, Any]:
    return {"id": local_id, "deleted": True, "sets": sets}


def prepare(item: _Item, renderer: Renderer, keep_datestamps: bool) -> None:
    """Do in a worker process what the writer would otherwise do for ``item``.

    The content hash, the header's sets and the header under the stamp the writer will
    use, when they depend on the line alone: a deletion that names no sets keeps the
    stored record's, which only the writer knows.
    """
    record = item.record
    if item.names_a_set or (record["deleted"] and record["sets"] is None):
        return
    if not record["deleted"]:
        item.renditions = renderer.metadata(record)
    item.digest = content_hash(record)
    item.sets = header_sets(record)
    stamp = item.datestamp if keep_datestamps and item.datestamp else PROVISIONAL
    item.header = renderer.header(record["id"], stamp, item.sets, record["deleted"])
    item.header_stamp = stamp
    item.rows = article_rows(record)
    # The writer reads no other field of a prepared record, and every field it is sent
    # is one more object for the writing process to unpickle.
    item.record = {"id": record["id"], "deleted": record["deleted"], "sets": record["sets"]}


def encode_json(value: Any) -> str:
    """A JSON column's stored text, as SQLAlchemy's JSON type (and psycopg's) writes it.

    Encoded by the import itself so that worker processes can do it: the writer's
    driver statements take JSON columns already encoded (:class:`DriverInserts`).
    """
    return json.dumps(value)


@dataclass(slots=True)
class ArticleRows:
    """A record's rows as the driver stores them, less its key, datestamp and header.

    ``article`` holds the values of :data:`ARTICLE_COLUMNS`; ``authors`` and ``files``
    start with their position, ``rights`` is ``None`` for a tombstone.
    """

    article: tuple[Any, ...]
    authors: list[tuple[Any, ...]]
    files: list[tuple[Any, ...]]
    rights: tuple[Any, ...] | None


def article_rows(record: dict[str, Any]) -> ArticleRows:
    if record["deleted"]:
        return ArticleRows(_TOMBSTONE_ARTICLE, [], [], None)
    journal = record["journal"] or {}
    article = _stored_article(
        {
            "title": record["title"],
            "language": record["language"],
            "abstract": record["abstract"],
            "keywords": record["keywords"],
            "references": record["references"],
            "journal_title": journal.get("title"),
            "journal_issn": journal.get("issn"),
            "journal_eissn": journal.get("eissn"),
            "journal_publisher": journal.get("publisher"),
            "volume": record["volume"],
            "issue": record["issue"],
            "pages": record["pages"],
            "published": record["published"],
            "doi": record["doi"],
            "url": record["url"],
            "resource_type": record.get("type"),
            "version": record.get("version"),
            "extra": record.get("extra"),
        }
    )
    return ArticleRows(
        article,
        [
            (i, *(author.get(c) for c in AUTHOR_FIELDS))
            for i, author in enumerate(record["authors"])
        ],
        [(i, *(f.get(c) for c in FILE_FIELDS)) for i, f in enumerate(record["files"])],
        tuple(record["rights"].get(c) for c in RIGHTS_FIELDS),
    )


def _stored_article(values: dict[str, Any]) -> tuple[Any, ...]:
    """The values of :data:`ARTICLE_COLUMNS`, JSON columns encoded (the model says which)."""
    return tuple(
        encode_json(values[c]) if c in _JSON_COLUMNS else values[c] for c in ARTICLE_COLUMNS
    )


class RecordWriter:
    """Writes batches of canonical records with bulk statements (no per-row ORM work)."""

    def __init__(
        self,
        session: Session,
        renderer: Renderer,
        *,
        keep_datestamps: bool = False,
    ) -> None:
        self.session = session
        self.renderer = renderer
        self.keep_datestamps = keep_datestamps
        self.known_sets: set[str] = set(session.scalars(select(OAISet.spec)))
        #: content hashes of the batch being written, by record id (computed once)
        self._digests: dict[str, str] = {}
        #: the batch's items, by record id: what a worker prepared for them
        self._items: dict[str, _Item] = {}
        self._inserts = DriverInserts(session)

    def write(self, items: list[_Item], summary: ImportSummary) -> None:
        # A later line with the same id wins; it is written in a later batch.
        pending: dict[str, _Item] = {}
        for item in items:
            if item.record["id"] in pending:
                self._write_batch(list(pending.values()), summary)
                pending = {}
            pending[item.record["id"]] = item
        if pending:
            self._write_batch(list(pending.values()), summary)

    def _write_batch(self, items: list[_Item], summary: ImportSummary) -> None:
        self._digests.clear()
        self._items = {item.record["id"]: item for item in items}
        ids = list(self._items)
        existing = {
            row.local_id: row
            for row in self.session.execute(
                select(
                    Record.pk,
                    Record.local_id,
                    Record.content_hash,
                    Record.datestamp,
                    Record.deleted,
                ).where(Record.local_id.in_(ids))
            )
        }
        kept_sets = self._direct_sets(
            [
                existing[i.record["id"]].pk
                for i in items
                if i.record.get("deleted")
                and i.record["sets"] is None
                and i.record["id"] in existing
            ]
        )
        changes: list[tuple[dict[str, Any], datetime, int | None]] = []
        for item in items:
            record = item.record
            old = existing.get(record["id"])
            if record.get("deleted"):
                sets = record["sets"]
                if sets is None:
                    sets = kept_sets.get(old.pk, []) if old else []
                record = tombstone(record["id"], sets)
            digest = self._digests[record["id"]] = item.digest or content_hash(record)
            wanted = item.datestamp if self.keep_datestamps and item.datestamp else None
            if old and old.content_hash == digest and (wanted is None or wanted == old.datestamp):
                summary.unchanged += 1
                continue
            if record["deleted"]:
                summary.deleted += 1
            elif old is None:
                summary.added += 1
            else:
                summary.updated += 1
            changes.append((record, wanted or PROVISIONAL, old.pk if old else None))
        if changes:
            self._store(changes)

    def define_set(self, definition: dict[str, Any]) -> None:
        """Name and describe a set (an exported set line), as ``oaipress set`` does."""
        insert = insert_for(self.session, OAISet).values(
            spec=definition["set"], name=definition["name"], description=definition["description"]
        )
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["spec"],
                set_={"name": definition["name"], "description": definition["description"]},
            )
        )
        self.known_sets.add(definition["set"])

    def restamp(self, records: list[tuple[dict[str, Any], int]]) -> None:
        """Render stored records again under a new datestamp (what they disseminate changed).

        The datestamp is given when the transaction publishes (records.stamping).
        """
        self._digests.clear()
        self._items = {}
        if records:
            self._store([(record, PROVISIONAL, pk) for record, pk in records])

    def _direct_sets(self, pks: list[int]) -> dict[int, list[str]]:
        if not pks:
            return {}
        result: dict[int, list[str]] = {pk: [] for pk in pks}
        rows = self.session.execute(
            select(SetMembership.record_pk, SetMembership.set_spec)
            .where(SetMembership.record_pk.in_(pks), SetMembership.direct)
            .order_by(SetMembership.record_pk, SetMembership.set_spec)
        )
        for pk, spec in rows:
            if spec not in AGGREGATOR_SETS:  # computed from a live record, not kept
                result[pk].append(spec)
        return result

    def _store(self, changes: list[tuple[dict[str, Any], datetime, int | None]]) -> None:
        session = self.session
        old_pks = [pk for _, _, pk in changes if pk is not None]
        if old_pks:
            for table in (
                Author,
                ArticleFile,
                RightsStatement,
                SetMembership,
                Rendition,
            ):
                session.execute(delete(table).where(table.record_pk.in_(old_pks)))
            self._inserts.update(
                Record,
                RECORD_COLUMNS[1:],
                [
                    (*self._record_row(record, stamp)[1:], pk)
                    for record, stamp, pk in changes
                    if pk is not None
                ],
            )
        new = [(record, stamp) for record, stamp, pk in changes if pk is None]
        new_pks = self._insert_records(new) if new else {}
        memberships: list[tuple[Any, ...]] = []
        authors: list[tuple[Any, ...]] = []
        files: list[tuple[Any, ...]] = []
        rights: list[tuple[Any, ...]] = []
        renditions: list[tuple[int, str, str, bytes]] = []
        new_specs: set[str] = set()
        for record, stamp, old_pk in changes:
            pk = old_pk if old_pk is not None else new_pks[record["id"]]
            local_id = record["id"]
            for spec, direct in set_ancestry(self._header_sets(record)).items():
                memberships.append((pk, spec, direct, stamp, local_id))
                if spec not in self.known_sets:
                    new_specs.add(spec)
            if record["deleted"]:
                continue
            rows = self._article_rows(record)
            authors.extend((pk, *author) for author in rows.authors)
            files.extend((pk, *f) for f in rows.files)
            if rows.rights is not None:
                rights.append((pk, *rows.rights))
            item = self._items.get(record["id"])
            renditions.extend(
                (pk, prefix, version, xml)
                for prefix, version, xml in (
                    item.renditions
                    if item is not None and item.renditions is not None
                    else self.renderer.metadata(record)
                )
            )
        self._inserts.run(SetMembership, MEMBERSHIP_COLUMNS, memberships)
        self._inserts.run(Author, AUTHOR_COLUMNS, authors)
        self._inserts.run(ArticleFile, FILE_COLUMNS, files)
        self._inserts.run(RightsStatement, RIGHTS_COLUMNS, rights)
        insert_renditions(session, renditions)
        if new_specs:
            # Another import may create the same set at the same time: both must succeed.
            session.connection().execute(
                insert_ignoring_duplicates(session, OAISet),
                [_set_row(spec) for spec in sorted(new_specs)],
            )
            self.known_sets |= new_specs

    def _insert_records(self, new: list[tuple[dict[str, Any], datetime]]) -> dict[str, int]:
        """Insert new records; return their primary keys by local id.

        PostgreSQL: the keys come from the table's sequence first, so the rows go in with
        them. SQLite: a transaction that writes holds the database's only write lock, so
        an executemany's rows get consecutive keys ending at ``last_insert_rowid()``;
        checked at both ends, else read back by local id.
        """
        connection = self.session.connection()
        rows = [self._record_row(record, stamp) for record, stamp in new]
        ids = [row[0] for row in rows]
        if connection.dialect.name == "postgresql":
            pks = sorted(
                connection.exec_driver_sql(
                    "SELECT nextval(pg_get_serial_sequence('records', 'pk')) "
                    f"FROM generate_series(1, {len(rows)})"
                ).scalars()
            )
            self._inserts.run(
                Record,
                ("pk", *RECORD_COLUMNS),
                [(pk, *row) for pk, row in zip(pks, rows, strict=True)],
            )
            return dict(zip(ids, pks, strict=True))
        self._inserts.run(Record, RECORD_COLUMNS, rows)
        last = int(connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
        first = last - len(rows) + 1
        ends = {
            pk: local_id
            for pk, local_id in connection.execute(
                select(Record.pk, Record.local_id).where(Record.pk.in_((first, last)))
            )
        }
        if ends.get(first) == ids[0] and ends.get(last) == ids[-1]:
            return dict(zip(ids, range(first, last + 1), strict=True))
        found = connection.execute(
            select(Record.local_id, Record.pk).where(Record.local_id.in_(ids))
        )
        return {local_id: pk for local_id, pk in found}

    def _header_sets(self, record: dict[str, Any]) -> list[str]:
        item = self._items.get(record["id"])
        if item is not None and item.sets is not None:
            return item.sets
        return header_sets(record)

    def _article_rows(self, record: dict[str, Any]) -> ArticleRows:
        item = self._items.get(record["id"])
        if item is not None and item.rows is not None:
            return item.rows
        return article_rows(record)

    def _record_row(self, record: dict[str, Any], stamp: datetime) -> tuple[Any, ...]:
        """The values of :data:`RECORD_COLUMNS`."""
        item = self._items.get(record["id"])
        if item is not None and item.header is not None and item.header_stamp == stamp:
            header = item.header
        else:
            sets = self._header_sets(record)
            header = self.renderer.header(record["id"], stamp, sets, record["deleted"])
        return (
            record["id"],
            stamp,
            record["deleted"],
            self._digests.get(record["id"]) or content_hash(record),
            header,
            *self._article_rows(record).article,
        )


#: an INSERT's SQL and the bind processors of its columns, by position
_Plan = tuple[str, list[tuple[int, Any]]]


class DriverInserts:
    """INSERTs (and UPDATEs by key) of rows given as tuples, one executemany of the
    driver's own per table.

    SQLAlchemy's per-row work (a parameter dict per row, compiled per batch) cost more
    than the database's own inserts; here each column's bind processor (dates, booleans
    as the dialect stores them) is looked up once, so the stored values are exactly
    those SQLAlchemy would store. JSON columns come already encoded (:func:`encode_json`),
    by the worker processes when there are some.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._plans: dict[tuple[str, str, tuple[str, ...]], _Plan] = {}

    def _plan(self, model: type[Any], columns: tuple[str, ...], update: bool = False) -> _Plan:
        table = model.__table__
        key = (table.name, "update" if update else "insert", columns)
        if key not in self._plans:
            dialect = self.session.get_bind().dialect
            quote = dialect.identifier_preparer.quote
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            if update:  # the key comes last: ``pk`` (records) or ``record_pk``
                (key_column,) = (c.name for c in table.primary_key.columns)
                sql = (
                    f"UPDATE {quote(table.name)} SET "
                    f"{', '.join(f'{quote(c)} = {marker}' for c in columns)} "
                    f"WHERE {quote(key_column)} = {marker}"
                )
            else:
                sql = (
                    f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                    f"VALUES ({', '.join([marker] * len(columns))})"
                )
            processors = [
                (i, processor)
                for i, name in enumerate(columns)
                if not isinstance(table.c[name].type, JSON)
                and (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            ]
            self._plans[key] = (sql, processors)
        return self._plans[key]

    def run(self, model: type[Any], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql, processors = self._plan(model, columns)
        rows = _processed(rows, processors)
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            copy_rows(connection, model.__table__.name, columns, rows)
        else:
            connection.exec_driver_sql(sql, rows)

    def update(
        self, model: type[Any], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Set ``columns`` of existing rows: each row is their values, then its key."""
        if not rows:
            return
        sql, processors = self._plan(model, columns, update=True)
        self.session.connection().exec_driver_sql(sql, _processed(rows, processors))


def _processed(
    rows: list[tuple[Any, ...]], processors: list[tuple[int, Any]]
) -> list[tuple[Any, ...]]:
    if not processors:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i, processor in processors:
            values[i] = processor(values[i])
        converted.append(tuple(values))
    return converted


MEMBERSHIP_COLUMNS = ("record_pk", "set_spec", "direct", "datestamp", "local_id")
AUTHOR_COLUMNS = ("record_pk", "position", *AUTHOR_FIELDS)
FILE_COLUMNS = ("record_pk", "position", *FILE_FIELDS)
RIGHTS_COLUMNS = ("record_pk", *RIGHTS_FIELDS)


def insert_renditions(session: Session, rows: list[tuple[int, str, str, bytes]]) -> None:
    """``(record_pk, prefix, version, xml)`` rows, in one executemany of the driver's own.

    Renditions are most of what an import writes (six formats, ~40 kB a record): their
    rows go to the driver as tuples, without SQLAlchemy's per-row parameter processing,
    which cost more than SQLite's own insert. Every column is a plain int, text or bytes.
    """
    if not rows:
        return
    connection = session.connection()
    table = Rendition.__table__.name
    if connection.dialect.name == "postgresql":
        copy_rows(connection, table, ("record_pk", "prefix", "version", "xml"), rows)
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {table} (record_pk, prefix, version, xml) "
        f"VALUES ({marker}, {marker}, {marker}, {marker})",
        rows,
    )


def copy_rows(
    connection: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: rows into ``table`` with ``COPY … FROM STDIN`` (psycopg 3), in the
    connection's transaction; one stream instead of a statement per row."""
    quote = connection.dialect.identifier_preparer.quote
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    try:
        with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except BaseException:
        # The driver is called directly here, so SQLAlchemy cannot see what interrupted
        # it. A Ctrl-C while psycopg ends the COPY leaves the connection in the middle
        # of it, where even ROLLBACK is refused; that error would hide the interruption.
        # The connection is thrown away (the server rolls back) as SQLAlchemy does for
        # an interrupted statement of its own.
        connection.invalidate()
        raise


def _set_row(spec: str) -> dict[str, str | None]:
    name, description = AGGREGATOR_SETS.get(spec, (spec, None))
    return {"spec": spec, "name": name, "description": description}


ARTICLE_COLUMNS = (
    "title",
    "language",
    "abstract",
    "keywords",
    "references",
    "journal_title",
    "journal_issn",
    "journal_eissn",
    "journal_publisher",
    "volume",
    "issue",
    "pages",
    "published",
    "doi",
    "url",
    "resource_type",
    "version",
    "extra",
)
_JSON_COLUMNS = frozenset(
    c for c in ARTICLE_COLUMNS if isinstance(Record.__table__.c[c].type, JSON)
)
#: a tombstone's article: nothing, stored as SQLAlchemy stores ``None`` in a JSON column
_TOMBSTONE_ARTICLE = _stored_article(dict.fromkeys(ARTICLE_COLUMNS))
#: the columns of a stored record: its header, then the article
RECORD_COLUMNS = (
    "local_id",
    "datestamp",
    "deleted",
    "content_hash",
    "header_xml",
    *ARTICLE_COLUMNS,
)


def import_records(
    session: Session,
    lines: Iterable[str | bytes],
    renderer: Renderer,
    *,
    keep_datestamps: bool = False,
    skip_invalid: bool = False,
    batch_size: int = 500,
    now: Clock | None = None,
    jobs: int = 1,
) -> ImportSummary:
    """Upsert every record of a JSON Lines stream, in batches of ``batch_size``.

    With ``jobs`` > 1, lines are checked and rendered by that many worker processes
    while this one writes: the bulk of an import's work is Python, not the database.
    Such a large import into an empty store builds the listing indexes after the rows
    (records.deferred_indexes), and on SQLite gives itself a larger page cache.

    Raises :class:`ImportRejected` when a line is bad and ``skip_invalid`` is false;
    the caller must then roll back (what was written so far is in the same transaction).
    The changed records get their datestamp last, from ``now`` if given, else from the
    store's clock as the transaction is about to commit (records.stamping).
    """
    summary = ImportSummary()
    connection = session.connection()
    deferred = defer_if_empty(connection) if jobs > 1 else []
    with _sqlite_cache(connection, IMPORT_CACHE_KIB if jobs > 1 else 0):
        _import(session, lines, renderer, summary, keep_datestamps, skip_invalid, batch_size, jobs)
        rebuild(connection, deferred)
    publish(session, now)
    return summary


#: SQLite's page cache during a large import (its default is 2 MiB): the unique index on
#: local ids takes a page per random id, and re-reading them from disk dominated.
IMPORT_CACHE_KIB = 256 * 1024


@contextmanager
def _sqlite_cache(connection: Connection, kib: int) -> Iterator[None]:
    """A larger page cache for this connection while the block runs (memory only).

    A Ctrl-C inside a driver call makes SQLAlchemy invalidate the connection: it is
    thrown away, cache and all, and any statement on it would raise a second error
    that hides the interruption (and left the import hanging), so none is sent.
    """
    if not kib or connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        if not connection.invalidated:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _import(
    session: Session,
    lines: Iterable[str | bytes],
    renderer: Renderer,
    summary: ImportSummary,
    keep_datestamps: bool,
    skip_invalid: bool,
    batch_size: int,
    jobs: int,
) -> None:
    writer = RecordWriter(session, renderer, keep_datestamps=keep_datestamps)
    batch: list[_Item] = []
    if jobs > 1:
        from records.pipeline import prepared_items

        items = prepared_items(lines, renderer, summary, jobs, batch_size, keep_datestamps)
    else:
        items = parse_lines(lines, summary)
    items = without_duplicate_ids(items, summary)
    for item in items:
        if summary.rejected and not skip_invalid:
            continue  # keep reading to report every bad line, but write nothing more
        if item.names_a_set:
            writer.define_set(item.record)
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            writer.write(batch, summary)
            batch = []
    if summary.rejected and not skip_invalid:
        raise ImportRejected(summary)
    if batch:
        writer.write(batch, summary)


def delete_record(
    session: Session, local_id: str, renderer: Renderer, *, now: Clock | None = None
) -> bool:
    """Turn a record into a persistent tombstone. False when there is no such record."""
    if session.scalar(select(Record.pk).where(Record.local_id == local_id)) is None:
        return False
    summary = ImportSummary()
    RecordWriter(session, renderer).write(
        [_Item(0, {"id": local_id, "deleted": True, "sets": None}, None)], summary
    )
    publish(session, now)
    return True


def rerender(
    session: Session,
    renderer: Renderer,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    now: Clock | None = None,
) -> tuple[int, int]:
    """Render every stored record again (after an upgrade or a change of identifier).

    A record whose header or metadata comes out different is now disseminated
    differently, so it gets a new datestamp and incremental harvests fetch it (repository
    guidelines: a format's datestamps follow changes of its dissemination); a record
    rendered the same keeps its datestamp. Returns (records rendered, records restamped).
    """
    from records.queries import iter_records, record_to_dict

    count = changed = 0
    batch: list[tuple[Record, dict[str, Any]]] = []

    def flush() -> None:
        nonlocal changed
        changed += _rerender_batch(session, renderer, batch)
        if progress:
            progress(len(batch))
        batch.clear()

    for stored in iter_records(session, batch_size, before=PROVISIONAL):
        batch.append((stored, record_to_dict(stored)))
        count += 1
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    publish(session, now)
    return count, changed


Rendered = list[tuple[str, str, bytes]]


def _rerender_batch(
    session: Session, renderer: Renderer, batch: list[tuple[Record, dict[str, Any]]]
) -> int:
    """Store a batch's new renditions; restamp those that read differently. Returns how many."""
    old = _stored_renditions(session, [stored.pk for stored, _ in batch])
    rewritten: list[tuple[int, Rendered]] = []
    restamped: list[tuple[int, dict[str, Any]]] = []
    for stored, record in batch:
        renditions = [] if record["deleted"] else renderer.metadata(record)
        before = old.get(stored.pk, {})
        header = renderer.header(
            record["id"], stored.datestamp, header_sets(record), record["deleted"]
        )
        if header != stored.header_xml or {p: x for p, _, x in renditions} != {
            p: x for p, (_, x) in before.items()
        }:
            restamped.append((stored.pk, record))
        elif {p: v for p, v, _ in renditions} == {p: v for p, (v, _) in before.items()}:
            continue  # the same bytes under the same format versions: nothing to write
        rewritten.append((stored.pk, renditions))
    _restamp_for_rendering(session, renderer, restamped)
    if rewritten:
        session.execute(
            delete(Rendition).where(Rendition.record_pk.in_([pk for pk, _ in rewritten]))
        )
        insert_renditions(
            session,
            [
                (pk, prefix, version, xml)
                for pk, renditions in rewritten
                for prefix, version, xml in renditions
            ],
        )
    return len(restamped)


def _restamp_for_rendering(
    session: Session, renderer: Renderer, records: list[tuple[int, dict[str, Any]]]
) -> None:
    """New header and set memberships under the provisional stamp (records.stamping)."""
    if not records:
        return
    rows = []
    memberships = []
    for pk, record in records:
        sets = header_sets(record)
        rows.append(
            {
                "pk": pk,
                "datestamp": PROVISIONAL,
                "header_xml": renderer.header(record["id"], PROVISIONAL, sets, record["deleted"]),
            }
        )
        memberships += [
            {
                "record_pk": pk,
                "set_spec": spec,
                "direct": direct,
                "datestamp": PROVISIONAL,
                "local_id": record["id"],
            }
            for spec, direct in set_ancestry(sets).items()
        ]
    session.execute(update(Record).execution_options(synchronize_session=False), rows)
    session.execute(
        delete(SetMembership).where(SetMembership.record_pk.in_([pk for pk, _ in records]))
    )
    if memberships:
        session.connection().execute(SetMembership.__table__.insert(), memberships)
        specs = sorted({m["set_spec"] for m in memberships})
        session.connection().execute(
            insert_ignoring_duplicates(session, OAISet), [_set_row(spec) for spec in specs]
        )


def _stored_renditions(session: Session, pks: list[int]) -> dict[int, dict[str, tuple[str, bytes]]]:
    result: dict[int, dict[str, tuple[str, bytes]]] = {}
    rows = session.execute(
        select(Rendition.record_pk, Rendition.prefix, Rendition.version, Rendition.xml).where(
            Rendition.record_pk.in_(pks)
        )
    )
    for pk, prefix, version, xml in rows:
        result.setdefault(pk, {})[prefix] = (version, xml)
    return result
