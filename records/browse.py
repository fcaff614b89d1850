"""Queries for the pages crawlers and people browse: counts, lists by set and year, sitemaps.

Every list is a keyset page over an index (migration 0004), never OFFSET, so page 5,000 of
a million records costs what page 1 costs; every count is one aggregate statement. Deleted
records (tombstones) are never listed: their landing pages say only "withdrawn".

* by set: the set's members in ``local_id`` order (``ix_record_sets_browse``);
* by year: live records whose ``published`` starts with the year, in ``(published,
  local_id)`` order — chronological within the year (``ix_records_browse_year``);
* sitemaps: live records by primary-key range, one child sitemap per range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    case,
    false,
    func,
    select,
    true,
    tuple_,
)

from records.models import Author, OAISet, Record, SetMembership

#: what a year looks like in a URL and in ``published`` (W3CDTF starts with it)
YEAR_LENGTH = 4


@dataclass(frozen=True)
class SetCount:
    spec: str
    name: str
    #: live records in the set (hierarchical sets include their subsets' members)
    live: int


@dataclass(frozen=True)
class Version:
    """Where the store stands: the newest datestamp (every write, a deletion too, stamps
    its records at commit, records.stamping) and the highest primary key (an import that
    keeps old datestamps still adds rows). Both are the end of an index: free to read."""

    newest: datetime | None
    last_pk: int | None

    @property
    def tag(self) -> str:
        return f"{self.last_pk or 0}"


@dataclass(frozen=True)
class Overview:
    """What the repository holds, for the home and browse pages."""

    live: int
    deleted: int
    sets: list[SetCount]
    #: (year, live records), oldest first
    years: list[tuple[str, int]]


@dataclass(frozen=True)
class Entry:
    """One live record as a browse list shows it."""

    local_id: str
    title: str | None
    #: the language of the title (BCP 47), for the page's ``lang`` attribute
    language: str | None
    authors: list[tuple[str, str | None]]
    journal: str | None
    volume: str | None
    issue: str | None
    published: str | None


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    #: the ``after`` key of the next page (the last entry's local_id), None at the end
    next_after: str | None
    #: whether there is a previous page, and its ``after`` key (None: the first page)
    has_previous: bool
    previous_after: str | None


# --- counts -----------------------------------------------------------------------------


def version(connection: Connection) -> Version:
    """Two index ends in one round trip (each its own subquery, so each is a seek)."""
    newest, last_pk = connection.execute(
        select(
            select(func.max(Record.datestamp)).scalar_subquery(),
            select(func.max(Record.pk)).scalar_subquery(),
        )
    ).one()
    return Version(newest, last_pk)


def deleted_count(connection: Connection) -> int:
    """Tombstones: a seek to ``deleted = true`` in ``ix_records_browse_year``."""
    return int(
        connection.execute(
            select(func.count()).select_from(Record).where(Record.deleted.is_(true()))
        ).scalar_one()
    )


def published_counts(connection: Connection) -> tuple[int, list[tuple[str, int]]]:
    """(live records, [(year, live records)] oldest first), from one scan of the index.

    Grouping by ``published`` itself follows the index order (no sort); the few thousand
    distinct dates are then folded into years here.
    """
    live = 0
    years: dict[str, int] = {}
    rows = connection.execute(
        select(Record.published, func.count())
        .where(Record.deleted.is_(false()))
        .group_by(Record.published)
        .order_by(Record.published)
    )
    for published, count in rows:
        live += count
        if published:
            year = published[:YEAR_LENGTH]
            years[year] = years.get(year, 0) + count
    return live, sorted(years.items())


def set_counts(connection: Connection) -> list[SetCount]:
    """Every defined set with its live members, in setSpec order, in one statement.

    Members per set come from the membership index alone; the members that are
    tombstones are counted from the deleted records (few, found by the year index) and
    taken off, so no live row is read.
    """
    members = (
        select(SetMembership.set_spec, func.count().label("n"))
        .group_by(SetMembership.set_spec)
        .subquery("members")
    )
    tombstones = (
        select(SetMembership.set_spec, func.count().label("n"))
        .select_from(Record)
        .join(SetMembership, SetMembership.record_pk == Record.pk)
        .where(Record.deleted.is_(true()))
        .group_by(SetMembership.set_spec)
        .subquery("tombstones")
    )
    live = func.coalesce(members.c.n, 0) - func.coalesce(tombstones.c.n, 0)
    rows = connection.execute(
        select(OAISet.spec, OAISet.name, live.label("live"))
        .outerjoin(members, members.c.set_spec == OAISet.spec)
        .outerjoin(tombstones, tombstones.c.set_spec == OAISet.spec)
        .order_by(OAISet.spec)
    ).all()
    return [SetCount(spec, name, int(n)) for spec, name, n in rows]


def overview(connection: Connection) -> Overview:
    """Every count the home and browse pages show: three aggregate statements."""
    live, years = published_counts(connection)
    return Overview(
        live=live, deleted=deleted_count(connection), sets=set_counts(connection), years=years
    )


def find_set(connection: Connection, spec: str) -> tuple[str, str | None] | None:
    """(name, description) of a defined set; None when there is no such set."""
    row = connection.execute(
        select(OAISet.name, OAISet.description).where(OAISet.spec == spec)
    ).first()
    return None if row is None else (row[0], row[1])


# --- lists ------------------------------------------------------------------------------

_ENTRY_COLUMNS = (
    Record.pk,
    Record.local_id,
    Record.title,
    Record.language,
    Record.journal_title,
    Record.volume,
    Record.issue,
    Record.published,
)


def set_page(connection: Connection, spec: str, after: str | None, limit: int) -> Page:
    """Live members of ``spec`` after ``after`` in local_id order (``None``: from the start)."""
    key = SetMembership.local_id
    base = (
        select(*_ENTRY_COLUMNS)
        .select_from(SetMembership)
        .join(Record, Record.pk == SetMembership.record_pk)
        .where(SetMembership.set_spec == spec, Record.deleted.is_(false()))
    )
    forward = base.where(key > after) if after is not None else base
    rows = connection.execute(forward.order_by(key).limit(limit + 1)).all()
    entries = _entries(connection, rows[:limit])
    has_previous, previous_after = False, None
    if entries and after is not None:
        earlier = connection.execute(
            select(key)
            .select_from(SetMembership)
            .join(Record, Record.pk == SetMembership.record_pk)
            .where(SetMembership.set_spec == spec, Record.deleted.is_(false()))
            .where(key < entries[0].local_id)
            .order_by(key.desc())
            .limit(limit + 1)
        ).all()
        has_previous, previous_after = _previous(earlier, limit)
    next_after = entries[-1].local_id if len(rows) > limit else None
    return Page(entries, next_after, has_previous, previous_after)


def year_position(connection: Connection, year: str, local_id: str) -> str | None:
    """The ``published`` of a live record of ``year``: where a page after it starts."""
    published = connection.scalar(
        select(Record.published).where(Record.local_id == local_id, Record.deleted.is_(false()))
    )
    if published is None or published[:YEAR_LENGTH] != year:
        return None
    return str(published)


def year_page(connection: Connection, year: str, after: tuple[str, str] | None, limit: int) -> Page:
    """Live records published in ``year`` after ``after`` = (published, local_id)."""
    key = tuple_(Record.published, Record.local_id)
    low, high = _year_bounds(year)
    # Row values are the index's own order: both backends seek straight to ``after``, even
    # among thousands of records published on the same date. The year's own bound on that
    # side is implied, and left out so that SQLite seeks by the row value.
    query = select(*_ENTRY_COLUMNS).where(Record.deleted.is_(false()), *high)
    query = query.where(key > tuple_(*after)) if after is not None else query.where(low)
    rows = connection.execute(
        query.order_by(Record.published, Record.local_id).limit(limit + 1)
    ).all()
    entries = _entries(connection, rows[:limit])
    has_previous, previous_after = False, None
    if entries and after is not None:
        first = (entries[0].published or "", entries[0].local_id)
        earlier = connection.execute(
            select(Record.local_id)
            .where(Record.deleted.is_(false()), low, key < tuple_(*first))
            .order_by(Record.published.desc(), Record.local_id.desc())
            .limit(limit + 1)
        ).all()
        has_previous, previous_after = _previous(earlier, limit)
    next_after = entries[-1].local_id if len(rows) > limit else None
    return Page(entries, next_after, has_previous, previous_after)


def _year_bounds(year: str) -> tuple[ColumnElement[bool], list[ColumnElement[bool]]]:
    """``published`` starts with ``year``: a range of the index (W3CDTF sorts by date)."""
    following = int(year) + 1
    if following == 10**YEAR_LENGTH:  # 9999: nothing sorts after it
        return Record.published >= year, []
    return Record.published >= year, [Record.published < f"{following:0{YEAR_LENGTH}d}"]


def _previous(earlier: Sequence[Any], limit: int) -> tuple[bool, str | None]:
    """From up to ``limit + 1`` keys before a page, newest first: where the page before starts.

    Its ``after`` is the key just before its first entry, so previous pages line up with
    the pages reached by going forward from the start (one URL per page for crawlers).
    """
    if not earlier:
        return False, None
    if len(earlier) <= limit:
        return True, None
    return True, str(earlier[limit][0])


def _entries(connection: Connection, rows: Sequence[Any]) -> list[Entry]:
    """The rows as entries, with every author of the page read by one statement."""
    if not rows:
        return []
    pks = [row.pk for row in rows]
    authors: dict[int, list[tuple[str, str | None]]] = {pk: [] for pk in pks}
    for record_pk, family, given in connection.execute(
        select(Author.record_pk, Author.family, Author.given)
        .where(Author.record_pk.in_(bindparam("pks", expanding=True)))
        .order_by(Author.record_pk, Author.position),
        {"pks": pks},
    ):
        authors[record_pk].append((family, given))
    return [
        Entry(
            local_id=row.local_id,
            title=row.title,
            language=row.language,
            authors=authors[row.pk],
            journal=row.journal_title,
            volume=row.volume,
            issue=row.issue,
            published=row.published,
        )
        for row in rows
    ]


# --- sitemaps ---------------------------------------------------------------------------


def sitemap_children(connection: Connection, size: int) -> list[tuple[int, datetime]]:
    """(n, lastmod) of each child holding live records with ``n·size <= pk < (n+1)·size``.

    One range query per child over ``ix_records_sitemap`` (a million records: 20 narrow
    index ranges, no sort and no wide row read).
    """
    last_pk = connection.scalar(select(func.max(Record.pk)))
    if last_pk is None:
        return []
    children = []
    for n in range(last_pk // size + 1):
        lastmod = sitemap_child(connection, n, size)
        if lastmod is not None:
            children.append((n, lastmod))
    return children


def sitemap_child(connection: Connection, n: int, size: int) -> datetime | None:
    """The newest datestamp in the child's range, tombstones included (a deletion takes a
    URL out of the child, so the child changed then); None when it lists no URL."""
    live = func.sum(case((Record.deleted.is_(false()), 1)))
    stamp, count = connection.execute(
        select(func.max(Record.datestamp), live).where(
            Record.pk >= n * size, Record.pk < (n + 1) * size
        )
    ).one()
    return stamp if count else None


def sitemap_entries(
    connection: Connection, n: int, size: int, batch: int = 5000
) -> Iterator[tuple[str, datetime]]:
    """(local_id, datestamp) of the child's live records in pk order, ``batch`` rows a query.

    Keyset batches keep memory flat whatever ``size`` is, and need no server-side cursor.
    Tombstones are skipped here rather than in SQL: a ``deleted`` condition would tempt
    SQLite into ``ix_records_browse_year`` and a sort instead of the primary-key range of
    ``ix_records_sitemap``.
    """
    low, high = n * size, (n + 1) * size
    after = low - 1
    while True:
        rows = connection.execute(
            select(Record.pk, Record.local_id, Record.datestamp, Record.deleted)
            .where(Record.pk > after, Record.pk < high)
            .order_by(Record.pk)
            .limit(batch)
        ).all()
        for _, local_id, stamp, deleted in rows:
            if not deleted:
                yield local_id, stamp
        if len(rows) < batch:
            return
        after = rows[-1][0]
