"""Exact completeListSize without counting the list: a stored total minus the edges.

A list (the whole repository, or one set, computed aggregator sets included) holds every
row of its index whatever the datestamp; ``list_totals`` keeps that number per list. A
window ``from ≤ datestamp ≤ until`` is the total less the rows after ``until`` and the
rows before ``from``, and those edges are small for the lists harvesters ask for: after
``until`` lie only the rows written in the last seconds (records.stamping stamps writes
in the future; ``until`` is a second in the past), before ``from`` of an incremental
harvest lies nearly everything, but then the window itself is small and is counted
directly. Every count is bounded (``LIMIT``), and one statement reads the total and the
edges, so they are of one snapshot: a write that commits meanwhile is in all or none.

**Keeping the totals current.** Every write publishes its rows just before it commits
(records.stamping.publish), and :func:`refresh` runs there: in one statement it counts
the lists as this transaction sees them and reads the stored totals, and adds the
difference to each stored total. The difference is this transaction's own change (plus
any drift a write that skipped publishing left behind, which it repairs). Adding a
difference, not writing a count, keeps concurrent writers exact on PostgreSQL: an
``UPDATE … SET records = records + d`` that waits for another writer's row lock applies
``d`` to the value that writer committed. Rows are updated in key order, so two writers
never wait for each other in a circle. The recount reads two narrow indexes (a few
hundred milliseconds at a million records): writes are batch jobs, reads happen all the
time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from records.models import ListTotal, Record, SetMembership

#: the key of the list of every record (no set)
ALL = ""
#: a window edge (or the window itself) up to this many rows is counted; beyond, it is
#: only known to be larger
PROBE_LIMIT = 2000


def _recount() -> Select[Any]:
    every = select(literal(ALL).label("list_key"), func.count().label("n")).select_from(Record)
    per_set = select(SetMembership.set_spec, func.count()).group_by(SetMembership.set_spec)
    return union_all(every, per_set).subquery("counted").select()


def refresh(connection: Connection) -> dict[str, int]:
    """Bring the stored totals to what this transaction sees; return the changes made.

    Call inside the writing transaction, after its last change to records or set
    memberships and before it commits.
    """
    counted = _recount().subquery("c")
    rows = connection.execute(
        union_all(
            select(literal("c").label("side"), counted.c.list_key, counted.c.n),
            select(literal("s"), ListTotal.list_key, ListTotal.records),
        )
    ).all()
    now: dict[str, int] = {}
    before: dict[str, int] = {}
    for side, key, n in rows:
        (now if side == "c" else before)[key] = int(n)
    deltas = {
        key: now.get(key, 0) - before.get(key, 0)
        for key in sorted(now.keys() | before.keys())
        if now.get(key, 0) != before.get(key, 0)
    }
    for key, delta in deltas.items():  # in key order: no two writers wait in a circle
        _add(connection, key, delta)
    return deltas


def _add(connection: Connection, key: str, delta: int) -> None:
    """``records += delta`` for ``key``; the row is made when the list is new."""
    result = connection.execute(
        update(ListTotal).where(ListTotal.list_key == key).values(records=ListTotal.records + delta)
    )
    if result.rowcount:
        return
    insert: Any = (
        postgresql_insert(ListTotal.__table__)
        if connection.dialect.name == "postgresql"
        else sqlite_insert(ListTotal.__table__)
    ).values(list_key=key, records=delta)
    # A concurrent writer may make the row first: then add to what it committed.
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["list_key"],
            set_={"records": ListTotal.__table__.c.records + insert.excluded.records},
        )
    )


def _edge(in_set: bool, condition: str) -> Any:
    """A bounded count of one part of the list: ``LIMIT`` + 1 rows at most are read."""
    if in_set:
        stamp: Any = SetMembership.datestamp
        base = select(literal(1)).where(SetMembership.set_spec == bindparam("set_spec"))
    else:
        stamp = Record.datestamp
        base = select(literal(1)).select_from(Record)
    if condition == "after":
        base = base.where(stamp > bindparam("until"))
    elif condition == "before":
        base = base.where(stamp < bindparam("from_"))
    else:
        base = base.where(stamp >= bindparam("from_"), stamp <= bindparam("until"))
    limited = base.limit(PROBE_LIMIT + 1).subquery()
    return select(func.count()).select_from(limited).scalar_subquery()


def _total(in_set: bool) -> Any:
    key = bindparam("set_spec") if in_set else literal(ALL)
    return (
        select(func.coalesce(func.max(ListTotal.records), 0))
        .where(ListTotal.list_key == key)
        .scalar_subquery()
    )


_STATEMENTS: dict[tuple[bool, bool], Select[Any]] = {}


def _probe(in_set: bool, with_from: bool) -> Select[Any]:
    """total, rows after ``until``[, rows in the window, rows before ``from``]: one snapshot."""
    statement = _STATEMENTS.get((in_set, with_from))
    if statement is None:
        columns = [_total(in_set), _edge(in_set, "after")]
        if with_from:
            columns += [_edge(in_set, "window"), _edge(in_set, "before")]
        statement = _STATEMENTS[(in_set, with_from)] = select(*columns)
    return statement


def count_from_totals(
    connection: Connection, set_spec: str | None, from_: Any, until: Any
) -> int | None:
    """The rows with ``from_ ≤ datestamp ≤ until`` of the list, or None when both sides of
    the window are too large to count cheaply (the caller counts the window itself)."""
    params: dict[str, Any] = {"until": until}
    if set_spec is not None:
        params["set_spec"] = set_spec
    if from_ is not None:
        params["from_"] = from_
    row = connection.execute(_probe(set_spec is not None, from_ is not None), params).one()
    total, after = int(row[0]), int(row[1])
    if from_ is None:
        return total - after if after <= PROBE_LIMIT else None
    window, before = int(row[2]), int(row[3])
    if window <= PROBE_LIMIT:
        return window
    if after <= PROBE_LIMIT and before <= PROBE_LIMIT:
        return total - after - before
    return None
