"""Datestamps taken at commit, so that an incremental harvest never misses a write.

The invariant (OAI-PMH §2.7.1, §3.5 and the harvester guidelines, which tell a harvester
to come back ``from`` the first responseDate of its last harvest): **a record becomes
visible to the protocol only under a datestamp at or after the responseDate of every
response that could not see it.**

A transaction's rows become visible when it commits, not when they are written, so a
writer must not stamp them with the time it wrote them: a harvest answered in between
would get a later responseDate than the stamps and its next ``from`` would skip them.
Instead every write goes like this:

1. rows are written under :data:`PROVISIONAL`, a datestamp no committed row ever has;
2. just before the commit, :func:`publish` turns every provisional row of the
   transaction into one stamp ``T`` that lies in the future: the next whole second, plus
   what the restamping itself is expected to take;
3. the transaction commits before ``T`` comes (checked before the commit; and after it,
   :func:`confirm` restamps in a new short transaction if the commit itself was late).

List windows are frozen a second before their responseDate (``until = R − 1 s``), so a
record stamped ``T`` in the future stays out of every list until ``T`` has passed — by
then it is committed. A response at ``R`` that could not see it has ``R ≤ T``, and the
harvester's next ``from = R`` includes ``T``. Harvests neither wait for a write nor see
part of one, and reading costs nothing extra; a write shows in lists one to three
seconds after it commits. (The second of margin in ``until`` also covers writers that
bring their own past datestamps, ``import --keep-datestamps``, within that second.)

One clock: on PostgreSQL ``T`` is read from the database server's clock, and so is the
responseDate of every list request that starts a harvest, so app servers and writers on
other machines agree. SQLite is a local file: its clock is the local one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, TextClause, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from records import list_totals
from records.models import Record, SetMembership
from records.validate import format_datestamp

#: The datestamp of rows written by a transaction that has not published yet.
PROVISIONAL = datetime(9999, 12, 31, 23, 59, 59)
#: Restamping speed assumed when choosing ``T`` (rows a second); slow disks are covered by
#: the checks before and after the commit.
RESTAMP_RATE = 10_000
#: The commit must start at least this long before ``T``.
COMMIT_MARGIN = timedelta(seconds=0.5)
MAX_ATTEMPTS = 5
PUBLISHED = "oaipress.published"

Clock = Callable[[], datetime]


def database_now(connection: Connection) -> datetime:
    """The store's clock, naive UTC with microseconds: the database server's on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        value: datetime = connection.scalar(text("SELECT clock_timestamp() AT TIME ZONE 'UTC'"))
        return value
    return datetime.now(UTC).replace(tzinfo=None)


def _next_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _header_stamp(stamp: datetime, binary: bool) -> str | bytes:
    # Headers are stored rendered (oai.protocol.rendering); their one <datestamp> element is
    # rewritten in place, in the database, without reading the rows back.
    marker = f"<datestamp>{format_datestamp(stamp)}</datestamp>"
    return marker.encode("ascii") if binary else marker


def _rewritten_header(connection: Connection) -> TextClause:
    if connection.dialect.name == "postgresql":
        return text(
            "CASE WHEN position(:old_text IN header_xml) > 0 THEN "
            "overlay(header_xml PLACING :new_text FROM position(:old_text IN header_xml) "
            "FOR octet_length(:old_text)) ELSE header_xml END"
        )
    return text("CAST(replace(CAST(header_xml AS TEXT), :old_text, :new_text) AS BLOB)")


def restamp(connection: Connection, old: datetime, new: datetime) -> int:
    """Move every row stamped ``old`` (that this transaction sees) to ``new``; return the count."""
    binary = connection.dialect.name == "postgresql"  # bytea there, text in SQLite
    stamped = select(Record.pk).where(Record.datestamp == bindparam("old"))
    connection.execute(
        update(SetMembership)
        .where(SetMembership.record_pk.in_(stamped))
        .values(datestamp=bindparam("new")),
        {"old": old, "new": new},
    )
    result = connection.execute(
        update(Record)
        .where(Record.datestamp == bindparam("old"))
        .values(datestamp=bindparam("new"), header_xml=_rewritten_header(connection)),
        {
            "old": old,
            "new": new,
            "old_text": _header_stamp(old, binary),
            "new_text": _header_stamp(new, binary),
        },
    )
    return int(result.rowcount or 0)


def _future_stamp(now: datetime, expected: timedelta) -> datetime:
    """The first whole second that leaves the commit its margin after ``expected`` work."""
    return _next_second(now + COMMIT_MARGIN + expected)


def _restamp_time(rows: int) -> timedelta:
    return timedelta(seconds=rows / RESTAMP_RATE)


def publish(session: Session, clock: Clock | None = None) -> datetime | None:
    """Give this transaction's provisional rows their one datestamp; call just before commit.

    It also brings the list totals up to date (records.list_totals), whatever was written.

    With ``clock`` (tests, fixed times) the stamp is simply ``clock()``. Returns the stamp,
    or None when the transaction wrote nothing provisional.
    """
    connection = session.connection()
    # Every write ends here, with past datestamps (import --keep-datestamps) too.
    list_totals.refresh(connection)
    rows = int(
        connection.scalar(
            select(func.count()).select_from(Record).where(Record.datestamp == PROVISIONAL)
        )
        or 0
    )
    if not rows:
        return None
    if clock is not None:
        stamp = clock()
        restamp(connection, PROVISIONAL, stamp)
        return stamp
    previous, stamp = PROVISIONAL, _future_stamp(database_now(connection), _restamp_time(rows))
    for _ in range(MAX_ATTEMPTS):
        started = time.monotonic()
        restamp(connection, previous, stamp)
        took = timedelta(seconds=time.monotonic() - started)
        now = database_now(connection)
        if now + COMMIT_MARGIN <= stamp:
            break
        # Restamping took longer than foreseen: move further on before committing.
        previous, stamp = stamp, _future_stamp(now, 2 * took)
    session.info[PUBLISHED] = (stamp, rows)
    return stamp


def confirm(engine: Engine, stamp: datetime, rows: int) -> datetime:
    """After the commit: if it ended after ``stamp``, restamp its rows in the future again.

    A response given between ``stamp`` and the commit could not see the rows but has a
    later responseDate; a new, future stamp brings them back into that harvester's next
    incremental harvest (the other harvesters get them once more, which is harmless).
    """
    for _ in range(MAX_ATTEMPTS):
        with engine.begin() as connection:
            now = database_now(connection)
            if now < stamp:
                return stamp
            later = _future_stamp(now, _restamp_time(rows))
            restamp(connection, stamp, later)
        stamp = later
    return stamp
