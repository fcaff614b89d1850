"""A later page of a list seeks the index to the row after the token, on both backends.

A first import stamps every record with one datestamp. A list that sought the index by
datestamp alone then walked, for every page, all the rows before it in that second: a
harvest of such a store cost the square of its size (21 ms a page at 90 % of 100k
records, against 0.3 ms). Resumption tokens carry ``(datestamp, local id)`` (§3.5 leaves
their form to the repository); the statement compares that pair as a row value, which
SQLite and PostgreSQL both turn into an index seek. The plans are checked, not times.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection

from tests.conftest import T0, harvest, identifiers, make_record
from tests.pages_discovery_support import statements


def _one_second() -> Any:
    """The clock of a single import: every record gets the same datestamp."""
    return T0


def _plan(connection: Connection, statement: str, parameters: Any) -> str:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return " | ".join(row[-1] for row in rows)
    # A table of a few rows is cheaper to read whole: make the planner show its index use.
    connection.exec_driver_sql("SET enable_seqscan = off")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return " | ".join(row[0] for row in rows)


def _seeks_to_the_token(plan: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return "(datestamp,local_id)>(?,?)" in plan
    return any("Index Cond" in step and "ROW(datestamp" in step for step in plan.split(" | "))


@pytest.mark.parametrize(
    ("verb", "extra"),
    [
        ("ListRecords", {}),
        ("ListIdentifiers", {}),
        ("ListRecords", {"set": "s1"}),
        ("ListIdentifiers", {"set": "s1"}),
    ],
)
def test_a_later_page_seeks_the_index_to_the_token_row(app, oai, load, verb, extra):
    """§3.5: every record stamped in the same second; page two's statement seeks."""
    load([make_record(i, sets=["s1"]) for i in range(12)], now=_one_second)
    first = oai(verb=verb, metadataPrefix="oai_dc", **extra)
    token = first.findtext(".//{*}resumptionToken")
    assert token
    with statements(app) as seen:
        oai(verb=verb, resumptionToken=token)
    engine = app.extensions["oaipress.store"].engine
    listing = [(statement, parameters) for statement, parameters in seen if "ORDER BY" in statement]
    assert listing, seen
    with engine.connect() as connection:
        for statement, parameters in listing:
            plan = _plan(connection, statement, parameters)
            assert _seeks_to_the_token(plan, engine.dialect.name), (statement, plan)


def test_a_harvest_of_records_stamped_in_one_second_lists_each_once_in_order(oai, load):
    """§3.5: tokens resume exactly after the last record given, ties included."""
    load([make_record(i) for i in range(25)], now=_one_second)
    items, tokens = harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    listed = identifiers(items)
    assert len(tokens) >= 8
    assert listed == sorted(listed)  # one datestamp: in local id order
    assert sorted(listed) == sorted(f"oai:repo.example.org:article/{i}" for i in range(25))
