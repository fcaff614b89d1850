"""A large import into an empty store builds the listing indexes last, all or nothing.

records.deferred_indexes drops the secondary indexes of ``records`` and ``record_sets``
inside the import's transaction and creates them again before it commits; on PostgreSQL
rows go in with COPY (records.ingest.copy_rows). Whatever happens, the store ends with
exactly the indexes it had, and the rows are those an in-process import stores.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, event, text

from records import deferred_indexes, ingest, pipeline
from records.ingest import ImportRejected, import_records
from tests.conftest import Clock, import_lines, make_record, stored_records


def _store(app):
    return app.extensions["oaipress.store"]


def _import(app, lines, jobs=2, **kwargs):
    return import_lines(app, lines, jobs=jobs, batch_size=4, **kwargs)


def _indexes(engine: Engine) -> list[tuple[str, str]]:
    if engine.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() ORDER BY indexname"
        )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def _lines(start: int, count: int) -> list[str]:
    records = [make_record(i, sets=[f"s{i % 3}:sub"]) for i in range(start, start + count)]
    return [json.dumps(r) for r in records]


def test_an_import_into_an_empty_store_ends_with_every_index_it_had(app, monkeypatch):
    rebuilt: list[str] = []

    def spy(connection, indexes):
        rebuilt.extend(name for name, _ in indexes)
        deferred_indexes.rebuild(connection, indexes)

    monkeypatch.setattr(ingest, "rebuild", spy)
    before = _indexes(_store(app).engine)
    summary = _import(app, _lines(0, 30))
    assert str(summary) == "30 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    assert _indexes(_store(app).engine) == before
    assert "ix_records_listing" in rebuilt and "ix_record_sets_browse" in rebuilt
    assert len(stored_records(app)) == 30


def test_a_rejected_import_into_an_empty_store_leaves_its_indexes_and_no_row(app):
    before = _indexes(_store(app).engine)
    lines = _lines(0, 30)
    lines[20] = "{not json"
    with pytest.raises(ImportRejected):
        _import(app, lines)
    assert _indexes(_store(app).engine) == before
    assert stored_records(app) == []


def test_a_failing_import_into_an_empty_store_rolls_the_dropped_indexes_back(app):
    """Any error after the indexes are dropped (here: a renderer that breaks) restores them."""
    before = _indexes(_store(app).engine)
    renderer = app.extensions["oaipress.renderer"]

    class Broken:
        def header(self, *args):
            return renderer.header(*args)

        def metadata(self, record):
            if record["id"] == "article/25":
                raise RuntimeError("the disk is full")
            return renderer.metadata(record)

    with pytest.raises(RuntimeError), _store(app).transaction() as session:
        import_records(session, _lines(0, 30), Broken(), now=Clock(), jobs=1, batch_size=4)
    with pytest.raises(RuntimeError), _store(app).transaction() as session:
        # jobs > 1: the indexes are dropped first; the failure comes from a worker process
        import_records(session, _lines(0, 30), Broken(), now=Clock(), jobs=2, batch_size=4)
    assert _indexes(_store(app).engine) == before
    assert stored_records(app) == []


def test_a_large_import_stores_what_an_in_process_import_stores(make_app, database_url, tmp_path):
    """Worker processes hash and render headers; COPY on PostgreSQL: the same rows."""
    lines = _lines(0, 40)
    lines[7] = json.dumps({"id": "article/7", "deleted": True, "sets": ["s1"]})
    lines[8] = json.dumps({"id": "article/8", "deleted": True})
    lines.insert(0, json.dumps({"set": "s1", "name": "Set one"}))
    sequential = make_app(OAIPRESS_DATABASE_URL=f"sqlite:///{tmp_path / 'a.sqlite'}")
    parallel = make_app()
    first = _import(sequential, lines, jobs=1, keep_datestamps=True)
    second = _import(parallel, lines, jobs=2, keep_datestamps=True)
    assert str(first) == str(second) == "38 added, 0 updated, 0 unchanged, 2 deleted, 0 rejected"
    assert stored_records(sequential) == stored_records(parallel)


def test_an_import_into_a_store_with_records_keeps_its_indexes(app, monkeypatch):
    _import(app, _lines(0, 10))
    monkeypatch.setattr(ingest, "rebuild", lambda _c, indexes: indexes and pytest.fail("dropped"))
    before = _indexes(_store(app).engine)
    lines = _lines(5, 10)
    lines[0] = json.dumps(make_record(5, title="A new title", sets=["s2:sub"]))
    summary = _import(app, lines)
    assert str(summary) == "5 added, 1 updated, 4 unchanged, 0 deleted, 0 rejected"
    assert _indexes(_store(app).engine) == before
    titles = {r["id"]: r["title"] for r, _, _ in stored_records(app)}
    assert len(titles) == 15
    assert titles["article/5"] == "A new title"


def test_ctrl_c_inside_a_database_call_of_a_large_import_stays_an_interruption(app):
    """SQLAlchemy invalidates a connection whose driver call a Ctrl-C interrupted; the
    import must not send it another statement on the way out (SQLite's page cache used
    to be reset there): that raised a second error, hid the interruption, and left the
    CLI hanging on its worker processes."""
    _import(app, _lines(0, 3))
    engine = _store(app).engine
    before = stored_records(app)

    lookups = []

    def interrupt(_conn, _cursor, statement, *_args):
        # The second batch's look-up of its records: the first batch is written.
        if statement.startswith("SELECT records.pk"):
            lookups.append(statement)
            if len(lookups) == 2:
                raise KeyboardInterrupt

    event.listen(engine, "before_cursor_execute", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            _import(app, _lines(10, 20))
    finally:
        event.remove(engine, "before_cursor_execute", interrupt)
        pipeline.stop_workers()
    assert stored_records(app) == before


def test_ctrl_c_inside_a_copy_stays_an_interruption_and_stores_nothing(app, monkeypatch):
    """PostgreSQL: a Ctrl-C that lands while psycopg ends a COPY leaves the connection in
    the middle of it, where even ROLLBACK is refused ("another command is already in
    progress"). That error used to replace the interruption (CI saw exit 1, not 130);
    the connection must be thrown away instead of rolled back."""
    if _store(app).engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    import psycopg

    _import(app, _lines(0, 3))
    before = stored_records(app)
    finish = psycopg.Copy.finish
    copies = []

    def interrupted_finish(self, exc):
        copies.append(self)
        if len(copies) == 2:  # the second batch's COPY: the first batch's rows are sent
            raise KeyboardInterrupt
        finish(self, exc)

    monkeypatch.setattr(psycopg.Copy, "finish", interrupted_finish)
    try:
        with pytest.raises(KeyboardInterrupt):
            _import(app, _lines(10, 20))
    finally:
        pipeline.stop_workers()
    monkeypatch.undo()
    assert stored_records(app) == before
    assert len(copies) >= 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_json_columns_are_stored_as_sqlalchemy_encodes_them(app, jobs):
    """The import encodes JSON columns itself (in the workers when there are some): the
    stored text is what SQLAlchemy's JSON type writes, ``null`` for a tombstone's."""
    record = make_record(1, keywords=["Ähnlichkeit", "x"], extra={"b": [1, "ü"], "a": None})
    lines = [json.dumps(record), json.dumps({"id": "article/2", "deleted": True})]
    _import(app, lines, jobs=jobs)
    _import(app, [json.dumps(dict(record, keywords=["y"]))], jobs=jobs)  # an update
    query = text(
        'SELECT local_id, CAST(keywords AS TEXT), CAST("references" AS TEXT), '
        "CAST(extra AS TEXT) FROM records ORDER BY local_id"
    )
    with _store(app).engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(query)]
    stored = {r["id"]: r for r, _, _ in stored_records(app)}["article/1"]
    assert rows == [
        (
            "article/1",
            json.dumps(["y"]),
            json.dumps(stored["references"]),
            json.dumps({"b": [1, "ü"], "a": None}),
        ),
        ("article/2", "null", "null", "null"),
    ]
