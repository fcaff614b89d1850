"""completeListSize (§3.5) stays exact while it is computed from stored list totals.

records.list_totals keeps how many rows each list (every record; each set, computed
aggregator sets included) holds, and counts a window as that total less its edges. These
tests compare it with a direct count of the window after every kind of write: imports,
updates that move records between sets, deletions (tombstones stay listed, §2.5.1),
lift-embargoes, rebuild, imports that keep their datestamps, concurrent writers, and a
store upgraded from before the totals existed.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, update

from oai.store import Store
from records import aggregator_sets, list_totals
from records.embargo import lift_embargoes
from records.ingest import delete_record, import_records, rerender
from records.migrate import alembic_config, upgrade
from records.models import ListTotal, Record
from records.queries import ListWindow, count_rows, count_window
from tests.conftest import NS, T0, Clock, harvest, load_records, make_record, unlisted_record

SETS = [None, "a", "a:x", "b", "driver", "openaire", "nowhere"]
#: the far future: every protocol window has an ``until`` (a second before the request)
LATER = datetime(2100, 1, 1)


def _corpus() -> list[dict]:
    """40 records over sets a, a:x (a's child) and b; open, embargoed and restricted."""
    records = []
    for i in range(40):
        sets = [["a"], ["a:x"], ["b"], ["a:x", "b"], []][i % 5]
        if i % 3 == 0:
            records.append(unlisted_record(i, sets=sets))
        elif i % 3 == 1:
            records.append(
                make_record(
                    i,
                    sets=sets,
                    rights={"access": "embargoed", "embargo_until": "2021-06-01"},
                )
            )
        else:
            files = [
                {"url": f"https://journal.example.org/{i}.pdf", "mime_type": "application/pdf"}
            ]
            records.append(make_record(i, sets=sets, files=files))
    return records


def _load_in_batches(app, records: list[dict], clock: Clock) -> None:
    """Five records a transaction: one datestamp each, so windows have edges to cut."""
    for start in range(0, len(records), 5):
        load_records(app, records[start : start + 5], now=clock)


def _windows(store: Store) -> list[ListWindow]:
    """Every list with no from, a from at each end and in the middle, and a past until."""
    with store.read_connection() as connection:
        stamps = sorted(set(connection.scalars(select(Record.datestamp))))
    middle = stamps[len(stamps) // 2] if stamps else T0
    edges = [None, stamps[0] if stamps else T0, middle, stamps[-1] if stamps else T0]
    windows = []
    for spec in SETS:
        for from_ in edges:
            windows.append(ListWindow(from_, LATER, spec))
        windows.append(ListWindow(None, middle, spec))
        windows.append(ListWindow(edges[1], middle, spec))
    return windows


def _check_exact(store: Store) -> None:
    """Every window's count equals a direct count, and the totals equal a recount."""
    with store.read_connection() as connection:
        for window in _windows(store):
            assert count_window(connection, window) == count_rows(connection, window), window
        stored = dict(connection.execute(select(ListTotal.list_key, ListTotal.records)).all())
        counted = dict(connection.execute(list_totals._recount()).all())
    assert {k: v for k, v in stored.items() if v} == counted


@pytest.fixture(params=[list_totals.PROBE_LIMIT, 2], ids=["probe-default", "probe-2"])
def probe_limit(request, monkeypatch):
    """With a probe of 2 rows, the edges are 'large' and every fallback path runs."""
    monkeypatch.setattr(list_totals, "PROBE_LIMIT", request.param)
    list_totals._STATEMENTS.clear()
    yield request.param
    list_totals._STATEMENTS.clear()


def test_counts_match_a_direct_count_after_an_import(app, probe_limit):
    _load_in_batches(app, _corpus(), Clock())
    _check_exact(app.extensions["oaipress.store"])


def test_counts_follow_records_that_change_sets_and_get_deleted(app, probe_limit):
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    clock = Clock()
    _load_in_batches(app, _corpus(), clock)
    moved = [make_record(i, sets=["b"] if i % 2 else ["a:x"]) for i in range(0, 40, 4)]
    load_records(app, moved, now=clock)
    _check_exact(store)
    with store.transaction() as session:
        for i in range(0, 40, 7):
            assert delete_record(session, f"article/{i}", renderer, now=clock)
    _check_exact(store)
    # A tombstone stays in every list it was in (deletedRecord "persistent", §2.5.1).
    with store.read_connection() as connection:
        assert count_window(connection, ListWindow(None, LATER, None)) == 40


def test_counts_follow_lifted_embargoes_and_a_rebuild(app, probe_limit, monkeypatch):
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    clock = Clock()
    monkeypatch.setattr(aggregator_sets, "today", lambda: date(2020, 6, 1))
    _load_in_batches(app, _corpus(), clock)
    monkeypatch.setattr(aggregator_sets, "today", lambda: date(2022, 1, 1))
    with store.read_connection() as connection:
        before = count_window(connection, ListWindow(None, LATER, "openaire"))
    with store.transaction() as session:
        lifted = lift_embargoes(session, renderer, date(2022, 1, 1), now=clock)
    assert lifted
    with store.read_connection() as connection:
        after = count_window(connection, ListWindow(None, LATER, "openaire"))
    assert after == before + len(lifted)
    _check_exact(store)
    with store.transaction() as session:
        rerender(session, renderer, now=clock)
    _check_exact(store)


def test_counts_hold_for_imports_that_keep_their_datestamps(app, probe_limit):
    records = [
        r | {"datestamp": f"2019-0{1 + i % 9}-01T00:00:00Z"} for i, r in enumerate(_corpus())
    ]
    load_records(app, records, keep_datestamps=True)
    _check_exact(app.extensions["oaipress.store"])


def test_a_write_repairs_a_total_that_drifted(app):
    store = app.extensions["oaipress.store"]
    load_records(app, _corpus())
    with store.transaction() as session:
        session.execute(update(ListTotal).values(records=ListTotal.records + 1000))
    load_records(app, [make_record(100, sets=["b"])])
    _check_exact(store)


def test_concurrent_writers_keep_the_totals_exact(app, database_url):
    """Two imports into the same lists at once: each adds its own change to the totals."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: nothing runs concurrently")
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    load_records(app, _corpus())
    errors: list[BaseException] = []
    started = threading.Barrier(2, timeout=60)

    def write(first: int) -> None:
        try:
            records = [make_record(i, sets=["a:x", "b"]) for i in range(first, first + 25)]
            lines = [json.dumps(r) for r in records]
            with store.transaction() as session:
                started.wait()
                import_records(session, lines, renderer, now=Clock())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(first,)) for first in (1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    _check_exact(store)
    with store.read_connection() as connection:
        assert count_window(connection, ListWindow(None, LATER, "a:x")) == count_rows(
            connection, ListWindow(None, LATER, "a:x")
        )


def test_upgrading_a_store_from_before_the_totals_fills_them(app):
    store = app.extensions["oaipress.store"]
    load_records(app, _corpus())
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0006")
    upgrade(store.engine)
    _check_exact(store)


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_complete_list_size_is_the_number_of_items_harvested(app, oai, verb, probe_limit):
    """§3.5: completeListSize is the size of the complete list, in every window."""
    clock = Clock()
    _load_in_batches(app, _corpus(), clock)
    middle = (T0 + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for params in (
        {},
        {"set": "a"},
        {"set": "openaire"},
        {"from_": middle},
        {"until": middle},
        {"set": "b", "from_": "2020-01-01T00:00:01Z", "until": middle},
    ):
        items, tokens = harvest(oai, verb, metadataPrefix="oai_dc", **params)
        assert tokens, params
        sizes = {token.get("completeListSize") for token in tokens}
        assert sizes == {str(len(items))}, params


def test_a_write_in_progress_is_not_counted_before_it_can_be_listed(app, oai):
    """A record stamped in the future (records.stamping) is neither listed nor counted."""
    store = app.extensions["oaipress.store"]
    load_records(app, _corpus())
    future = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    load_records(app, [make_record(500 + i) for i in range(5)], now=lambda: future)
    items, tokens = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(items) == 40
    assert {token.get("completeListSize") for token in tokens} == {"40"}
    assert all(
        not (header.findtext("oai:identifier", namespaces=NS) or "").endswith(("/500", "/501"))
        for header in items
    )
    with store.read_connection() as connection:
        assert count_window(connection, ListWindow(None, None, None)) == 45
