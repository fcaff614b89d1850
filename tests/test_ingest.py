"""records/ingest.py on the store (SQLite, and PostgreSQL when configured): upsert by id,
datestamps that move exactly when a harvester would see a change, tombstones, all-or-nothing
files, batches and set memberships."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from oai.protocol.rendering import ProtocolRenderer
from records.ingest import ImportRejected, ImportSummary, delete_record, import_records, rerender
from records.models import (
    ArticleFile,
    Author,
    OAISet,
    Record,
    Rendition,
    RightsStatement,
    SetMembership,
)
from records.queries import iter_records, record_to_dict
from tests.conftest import (
    NS,
    T0,
    Clock,
    example_record,
    harvest,
    identifiers,
    make_record,
    unlisted_record,
)

T1 = T0 + timedelta(days=1)
#: make_record names no journal, so JATS (which requires one) declines it: the rest render
NO_JOURNAL_FORMATS = 5
T2 = T0 + timedelta(days=2)


def run(
    app: Flask,
    records: list[dict[str, Any] | str],
    *,
    now: Clock | None = None,
    **kwargs: Any,
) -> ImportSummary:
    """Import ``records`` (dicts, or raw lines as given) in one transaction."""
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    with store.transaction() as session:
        return import_records(session, lines, renderer, now=now or Clock(), **kwargs)


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    return (
        summary.added,
        summary.updated,
        summary.unchanged,
        summary.deleted,
        summary.rejected,
    )


def row(app: Flask, local_id: str) -> Record:
    with app.extensions["oaipress.store"].session() as session:
        record = session.scalars(select(Record).where(Record.local_id == local_id)).one()
        session.expunge(record)
        return record


def stamp(app: Flask, local_id: str) -> datetime:
    return row(app, local_id).datestamp


def snapshot(app: Flask) -> dict[str, tuple[datetime, dict[str, Any]]]:
    """Every record as export sees it, with its datestamp."""
    with app.extensions["oaipress.store"].session() as session:
        return {r.local_id: (r.datestamp, record_to_dict(r)) for r in iter_records(session)}


def child_rows(app: Flask, local_id: str) -> dict[str, int]:
    pk = row(app, local_id).pk
    with app.extensions["oaipress.store"].session() as session:
        return {
            table.__tablename__: session.scalar(
                select(func.count()).select_from(table).where(table.record_pk == pk)
            )
            for table in (Author, ArticleFile, RightsStatement, Rendition, SetMembership)
        }


def memberships(app: Flask, local_id: str) -> dict[str, tuple[bool, datetime]]:
    pk = row(app, local_id).pk
    with app.extensions["oaipress.store"].session() as session:
        rows = session.execute(
            select(SetMembership.set_spec, SetMembership.direct, SetMembership.datestamp).where(
                SetMembership.record_pk == pk
            )
        )
        return {spec: (direct, when) for spec, direct, when in rows}


def set_specs(app: Flask) -> list[str]:
    with app.extensions["oaipress.store"].session() as session:
        return list(session.scalars(select(OAISet.spec).order_by(OAISet.spec)))


# --- upsert and counts -------------------------------------------------------------------


def test_upsert_by_id_counts_every_outcome(app):
    first = run(app, [make_record(i) for i in range(4)])
    assert counts(first) == (4, 0, 0, 0, 0)
    second = run(
        app,
        [
            make_record(0),  # unchanged
            make_record(1, title="Changed"),  # updated
            {"id": "article/2", "deleted": True},  # deleted
            make_record(4),  # added
            make_record(3, published="2004-13"),  # rejected
        ],
        skip_invalid=True,
        now=Clock(T1),
    )
    assert counts(second) == (1, 1, 1, 1, 1)
    assert str(second) == "1 added, 1 updated, 1 unchanged, 1 deleted, 1 rejected"
    assert row(app, "article/1").title == "Changed"
    assert row(app, "article/2").deleted
    assert row(app, "article/3").published == "2004"


def test_reimporting_an_identical_record_keeps_its_datestamp(app):
    run(app, [make_record(1), example_record()], now=Clock(T0))
    before = snapshot(app)
    summary = run(app, [make_record(1), example_record()], now=Clock(T1))
    assert counts(summary) == (0, 0, 2, 0, 0)
    assert snapshot(app) == before
    assert stamp(app, "article/1") == T0


def test_reimporting_a_differently_spelt_but_equal_record_keeps_its_datestamp(app):
    run(app, [make_record(1, doi="10.1000/x", sets=["a", "b"])], now=Clock(T0))
    respelt = make_record(
        1,
        doi="https://doi.org/10.1000/x",
        sets=["b", "a", "b"],
        title="  Article number 1 ",
        rights={
            "statement": "Copyright (c) 2004 Author 1",
            "license": "http://creativecommons.org/licenses/by/4.0",
            "access": "open",
        },
    )
    assert counts(run(app, [respelt], now=Clock(T1))) == (0, 0, 1, 0, 0)
    assert stamp(app, "article/1") == T0


@pytest.mark.parametrize(
    "change",
    [
        {"title": "A new title"},
        {"rights": {"access": "closed", "statement": "Copyright (c) 2004 Author 1"}},
        {
            "rights": {
                "access": "open",
                "license": "https://creativecommons.org/licenses/by-nc/4.0/",
                "statement": "Copyright (c) 2004 Author 1",
            }
        },
        {"sets": ["cac"]},
        {"authors": []},
        {"extra": {"note": "a field of one's own"}},
    ],
    ids=["title", "access", "licence", "sets", "authors", "extra"],
)
def test_a_change_moves_the_datestamp(app, oai, change):
    run(app, [make_record(1), make_record(2)], now=Clock(T0))
    summary = run(app, [make_record(1, **change), make_record(2)], now=Clock(T1))
    assert counts(summary) == (0, 1, 1, 0, 0)
    assert stamp(app, "article/1") == T1
    assert stamp(app, "article/2") == T0
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/1", metadataPrefix="oai_dc"
    )
    assert root.findtext(".//oai:header/oai:datestamp", namespaces=NS) == "2020-01-02T00:00:00Z"


def test_a_change_of_set_membership_moves_the_set_rows_too(app):
    run(app, [unlisted_record(1, sets=["a"])], now=Clock(T0))
    run(app, [unlisted_record(1, sets=["b"])], now=Clock(T1))
    assert memberships(app, "article/1") == {"b": (True, T1)}


def test_deletion_moves_the_datestamp_and_a_second_deletion_does_not(app):
    run(app, [make_record(1)], now=Clock(T0))
    assert counts(run(app, [{"id": "article/1", "deleted": True}], now=Clock(T1))) == (
        0,
        0,
        0,
        1,
        0,
    )
    assert stamp(app, "article/1") == T1
    assert counts(run(app, [{"id": "article/1", "deleted": True}], now=Clock(T2))) == (
        0,
        0,
        1,
        0,
        0,
    )
    assert stamp(app, "article/1") == T1


# --- tombstones --------------------------------------------------------------------------


def test_a_tombstone_keeps_identifier_datestamp_and_sets_and_loses_metadata(app, oai):
    full = make_record(
        1,
        sets=["cac:ART", "other"],
        files=[{"url": "https://x.org/f.pdf", "mime_type": "application/pdf"}],
        keywords=["k"],
        abstract="text",
        extra={"note": "extra"},
    )
    run(app, [full], now=Clock(T0))
    assert child_rows(app, "article/1") == {
        "authors": 1,
        "files": 1,
        "rights_statements": 1,
        "renditions": NO_JOURNAL_FORMATS,
        "record_sets": 5,  # cac, cac:ART, other, and the computed driver and openaire
    }
    run(app, [{"id": "article/1", "deleted": True}], now=Clock(T1))
    tomb = row(app, "article/1")
    assert (tomb.deleted, tomb.datestamp) == (True, T1)
    for column in ("title", "abstract", "keywords", "url", "published", "language", "extra"):
        assert getattr(tomb, column) is None, column
    assert child_rows(app, "article/1") == {
        "authors": 0,
        "files": 0,
        "rights_statements": 0,
        "renditions": 0,
        "record_sets": 3,
    }
    assert memberships(app, "article/1") == {
        "cac": (False, T1),
        "cac:ART": (True, T1),
        "other": (True, T1),
    }
    assert snapshot(app)["article/1"][1] == {
        "id": "article/1",
        "deleted": True,
        "sets": ["cac:ART", "other"],
    }

    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/1", metadataPrefix="oai_dc"
    )
    header = root.find(".//oai:header", NS)
    assert header.get("status") == "deleted"
    assert header.findtext("oai:identifier", namespaces=NS) == "oai:repo.example.org:article/1"
    assert header.findtext("oai:datestamp", namespaces=NS) == "2020-01-02T00:00:00Z"
    assert header.xpath("oai:setSpec/text()", namespaces=NS) == ["cac:ART", "other"]
    assert root.find(".//oai:metadata", NS) is None
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="cac")
    assert identifiers(items) == ["oai:repo.example.org:article/1"]


def test_a_deleted_line_without_sets_keeps_the_old_sets(app):
    run(app, [make_record(1, sets=["a:b", "c"])], now=Clock(T0))
    run(app, [{"id": "article/1", "deleted": True}], now=Clock(T1))
    assert snapshot(app)["article/1"][1]["sets"] == ["a:b", "c"]
    assert set(memberships(app, "article/1")) == {"a", "a:b", "c"}


def test_a_deleted_line_with_sets_replaces_them(app):
    run(app, [make_record(1, sets=["a:b", "c"])], now=Clock(T0))
    run(app, [{"id": "article/1", "deleted": True, "sets": ["d"]}], now=Clock(T1))
    assert snapshot(app)["article/1"][1]["sets"] == ["d"]
    run(app, [{"id": "article/1", "deleted": True, "sets": []}], now=Clock(T2))
    assert memberships(app, "article/1") == {}
    assert stamp(app, "article/1") == T2


def test_a_deleted_line_for_an_unknown_id_stores_a_tombstone(app):
    summary = run(app, [{"id": "gone/1", "deleted": True, "sets": ["x"]}], now=Clock(T0))
    assert counts(summary) == (0, 0, 0, 1, 0)
    assert snapshot(app)["gone/1"] == (T0, {"id": "gone/1", "deleted": True, "sets": ["x"]})


def test_delete_record_makes_a_tombstone_and_reports_unknown_ids(app):
    run(app, [make_record(1, sets=["s"])], now=Clock(T0))
    store, renderer = app.extensions["oaipress.store"], app.extensions["oaipress.renderer"]
    with store.transaction() as session:
        assert delete_record(session, "article/1", renderer, now=Clock(T1))
        assert not delete_record(session, "article/404", renderer, now=Clock(T1))
    assert snapshot(app)["article/1"] == (T1, {"id": "article/1", "deleted": True, "sets": ["s"]})


def test_resurrecting_a_deleted_id(app, oai):
    run(app, [make_record(1, sets=["s"])], now=Clock(T0))
    run(app, [{"id": "article/1", "deleted": True}], now=Clock(T1))
    summary = run(app, [make_record(1, sets=["s"], title="Back")], now=Clock(T2))
    assert counts(summary) == (0, 1, 0, 0, 0)
    back = row(app, "article/1")
    assert (back.deleted, back.title, back.datestamp) == (False, "Back", T2)
    assert child_rows(app, "article/1")["authors"] == 1
    assert child_rows(app, "article/1")["renditions"] == NO_JOURNAL_FORMATS
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/1", metadataPrefix="oai_dc"
    )
    assert root.find(".//oai:header", NS).get("status") is None
    assert root.xpath("//dc:title/text()", namespaces=NS) == ["Back"]


# --- bad lines ---------------------------------------------------------------------------


def test_a_file_with_a_bad_line_stores_nothing(app):
    run(app, [make_record(i, sets=["old"]) for i in range(3)], now=Clock(T0))
    before = snapshot(app)
    specs_before = set_specs(app)
    lines = [
        make_record(0, title="Changed"),
        {"id": "article/1", "deleted": True},
        make_record(10, sets=["new:sub"]),
        make_record(11),
        make_record(12, rights={"access": "public"}),  # line 5
        make_record(13),
        make_record(14),
    ]
    with pytest.raises(ImportRejected) as info:
        run(app, lines, now=Clock(T1), batch_size=2)  # two batches were written before line 5
    summary = info.value.summary
    assert summary.rejected == 1
    assert [(e.line, e.field) for e in summary.errors] == [(5, "rights.access")]
    assert str(summary.errors[0]).startswith("line 5: rights.access: ")
    assert "nothing was stored" in str(info.value)
    assert snapshot(app) == before
    assert set_specs(app) == specs_before


def test_every_bad_line_is_reported(app):
    lines = [
        make_record(1),
        "{not json",
        make_record(2, published="2021-02-30"),
        "",
        json.dumps([1]),
        make_record(3, title="A\u0000B"),
    ]
    with pytest.raises(ImportRejected) as info:
        run(app, lines)
    errors = [(e.line, e.field) for e in info.value.summary.errors]
    assert errors == [(2, "(json)"), (3, "published"), (5, "(line)"), (6, "title")]
    assert snapshot(app) == {}


@pytest.mark.parametrize(
    "line",
    [
        '{"id": "a", "title": NaN}',
        '{"id": "a", "score": Infinity}',
        '{"id": "a", "score": -Infinity}',
        '{"id": "a", "score": 1e999}',
    ],
)
def test_numbers_json_cannot_express_are_invalid_json(app, line):
    with pytest.raises(ImportRejected) as info:
        run(app, [line])
    assert [(e.line, e.field) for e in info.value.summary.errors] == [(1, "(json)")]


def test_values_too_long_for_their_column_are_line_errors_on_every_backend(app):
    lines = [
        make_record(1, volume="v" * 65),
        make_record(2, sets=["s" * 256]),
        make_record(3, language="en-" + "-".join(["abcdefgh"] * 4)),
        make_record(4),
    ]
    summary = run(app, lines, skip_invalid=True)
    assert [(e.line, e.field) for e in summary.errors] == [
        (1, "volume"),
        (2, "sets[0]"),
        (3, "language"),
    ]
    assert sorted(snapshot(app)) == ["article/4"]


def test_bytes_that_are_not_utf8_are_reported_by_line(app):
    good = json.dumps(make_record(1)).encode()
    bad = json.dumps(make_record(2, title="caf\u00e9"), ensure_ascii=False).encode("latin-1")
    store, renderer = app.extensions["oaipress.store"], app.extensions["oaipress.renderer"]
    with pytest.raises(ImportRejected) as info, store.transaction() as session:
        import_records(session, [good, bad], renderer)
    assert [(e.line, e.field) for e in info.value.summary.errors] == [(2, "(encoding)")]


def test_skip_invalid_stores_the_good_lines(app):
    lines = [make_record(1), "{oops", make_record(2, url="not a url"), make_record(3)]
    summary = run(app, lines, skip_invalid=True)
    assert counts(summary) == (2, 0, 0, 0, 2)
    assert [(e.line, e.field) for e in summary.errors] == [(2, "(json)"), (3, "url")]
    assert sorted(snapshot(app)) == ["article/1", "article/3"]


# --- duplicates, datestamps, batches ----------------------------------------------------


def test_duplicate_ids_in_one_file_are_reported_and_nothing_is_stored(app):
    lines = [
        make_record(1, title="First"),
        make_record(2),
        make_record(1, title="Second"),
    ]
    with pytest.raises(ImportRejected) as info:
        run(app, lines)
    errors = info.value.summary.errors
    assert [(e.line, e.field) for e in errors] == [(3, "id")]
    assert "line 1" in errors[0].message
    assert snapshot(app) == {}


def test_duplicate_ids_with_skip_invalid_keep_the_first_line(app):
    lines = [make_record(i) for i in range(5)]
    lines += [{"id": "article/0", "deleted": True}, make_record(4, title="Again")]
    summary = run(app, lines, batch_size=2, skip_invalid=True)
    assert summary.rejected == 2
    stored = snapshot(app)
    assert stored["article/0"][1]["deleted"] is False
    assert stored["article/4"][1]["title"] == "Article number 4"


def test_keep_datestamps_is_honoured_only_when_asked(app):
    given = make_record(1, datestamp="2011-05-06T07:08:09Z")
    run(app, [given], now=Clock(T0))
    assert stamp(app, "article/1") == T0  # ignored without the flag
    summary = run(app, [given], now=Clock(T1), keep_datestamps=True)
    assert counts(summary) == (0, 1, 0, 0, 0)  # same content, another datestamp: re-stamped
    assert stamp(app, "article/1") == datetime(2011, 5, 6, 7, 8, 9)
    assert counts(run(app, [given], now=Clock(T2), keep_datestamps=True)) == (0, 0, 1, 0, 0)
    tomb = {"id": "article/2", "deleted": True, "sets": ["s"], "datestamp": "2012-01-01T00:00:00Z"}
    run(app, [tomb, make_record(3)], now=Clock(T2), keep_datestamps=True)
    assert stamp(app, "article/2") == datetime(2012, 1, 1)
    assert stamp(app, "article/3") == T2  # no datestamp on the line: the write time
    assert memberships(app, "article/2") == {"s": (True, datetime(2012, 1, 1))}


def test_batches_store_everything(app, oai):
    records = [make_record(i, sets=["s"] if i % 2 else []) for i in range(7)]
    summary = run(app, records, batch_size=2)
    assert counts(summary) == (7, 0, 0, 0, 0)
    assert len(snapshot(app)) == 7
    items, _ = harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    assert len(items) == 7
    again = run(app, [*records[:3], make_record(3, title="x"), *records[4:]], batch_size=2)
    assert counts(again) == (0, 1, 6, 0, 0)


def test_every_record_of_one_import_gets_the_one_stamp_taken_at_commit(app):
    # records.stamping: rows are stamped as the transaction publishes, not batch by batch.
    run(app, [make_record(i) for i in range(7)], batch_size=2, now=Clock(T0))
    assert {stamp(app, f"article/{i}") for i in range(7)} == {T0}
    assert memberships(app, "article/1") == {"openaire": (True, T0)}  # computed, stamped alike


# --- sets --------------------------------------------------------------------------------


def test_hierarchical_memberships_include_every_ancestor(app, oai):
    records = [unlisted_record(1, sets=["a:b:c", "x"]), unlisted_record(2, sets=["a"])]
    run(app, records, now=Clock(T0))
    assert memberships(app, "article/1") == {
        "a": (False, T0),
        "a:b": (False, T0),
        "a:b:c": (True, T0),
        "x": (True, T0),
    }
    assert set_specs(app) == ["a", "a:b", "a:b:c", "x"]
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="a")
    assert sorted(identifiers(items)) == [
        "oai:repo.example.org:article/1",
        "oai:repo.example.org:article/2",
    ]
    headers = {
        el.findtext("oai:identifier", namespaces=NS): el.xpath("oai:setSpec/text()", namespaces=NS)
        for el in items
    }
    assert headers["oai:repo.example.org:article/1"] == ["a:b:c", "x"]  # direct specs only
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="a:b")
    assert identifiers(items) == ["oai:repo.example.org:article/1"]


def test_new_sets_are_named_after_their_spec_and_existing_names_stay(app):
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        session.add(OAISet(spec="cac", name="Central Asia and the Caucasus"))
    run(app, [unlisted_record(1, sets=["cac:ART"])])
    with store.session() as session:
        names = dict(session.execute(select(OAISet.spec, OAISet.name)).all())
    assert names == {"cac": "Central Asia and the Caucasus", "cac:ART": "cac:ART"}


# --- rerender ----------------------------------------------------------------------------


def test_rerender_for_a_new_identifier_restamps_what_now_reads_differently(app):
    clock = Clock(T0)
    run(app, [unlisted_record(i, sets=["s:t"]) for i in range(5)], now=clock)
    run(app, [{"id": "article/2", "deleted": True}], now=clock)
    before = snapshot(app)
    store = app.extensions["oaipress.store"]
    seen: list[int] = []
    with store.transaction() as session:
        result = rerender(
            session,
            ProtocolRenderer("other.example"),
            batch_size=2,
            progress=seen.append,
            now=lambda: T2,
        )
    assert result == (5, 5) and seen == [2, 2, 1]
    # Every header changed, so every record is disseminated anew under a new datestamp.
    after = snapshot(app)
    assert {k: record for k, (_, record) in after.items()} == {
        k: record for k, (_, record) in before.items()
    }
    for i in range(5):
        header = row(app, f"article/{i}").header_xml.decode()
        assert f"<identifier>oai:other.example:article/{i}</identifier>" in header
        assert "<setSpec>s:t</setSpec>" in header
        assert "<datestamp>2020-01-03T00:00:00Z</datestamp>" in header
        assert stamp(app, f"article/{i}") == T2
        assert {spec: when for spec, (_, when) in memberships(app, f"article/{i}").items()} == {
            "s": T2,
            "s:t": T2,
        }
    assert 'status="deleted"' in row(app, "article/2").header_xml.decode()
    assert child_rows(app, "article/2")["renditions"] == 0
    assert child_rows(app, "article/3")["renditions"] == NO_JOURNAL_FORMATS


def test_rerender_keeps_the_datestamps_of_records_that_read_the_same(app):
    run(app, [make_record(i) for i in range(3)], now=Clock(T0))
    before = snapshot(app)
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        assert rerender(session, app.extensions["oaipress.renderer"], now=lambda: T2) == (3, 0)
    assert snapshot(app) == before
    assert {stamp(app, f"article/{i}") for i in range(3)} == {T0}


def test_rerendered_metadata_equals_freshly_imported_metadata(app):
    records = [example_record(), make_record(1, keywords=["<b>k</b>"], extra={"note": "x"})]
    run(app, records)
    store = app.extensions["oaipress.store"]

    def renditions() -> dict[int, bytes]:
        with store.session() as session:
            return dict(session.execute(select(Rendition.record_pk, Rendition.xml)).all())

    fresh = renditions()
    with store.transaction() as session:
        rerender(session, app.extensions["oaipress.renderer"])
    assert renditions() == fresh


def test_stored_records_hash_like_their_canonical_form(app):
    from records.validate import content_hash

    run(app, [example_record(), make_record(1, extra={"a": [1]}), {"id": "d", "deleted": True}])
    store = app.extensions["oaipress.store"]
    with store.session() as session:
        for record in iter_records(session):
            assert content_hash(record_to_dict(record)) == record.content_hash, record.local_id


def test_two_imports_that_create_the_same_new_set_both_succeed(app):
    """Issue 11: a writer that started before another import created a set (its list of
    known sets is stale) must not fail with an IntegrityError and roll everything back."""
    from records.ingest import RecordWriter
    from records.lines import _Item
    from records.stamping import publish
    from records.validate import normalize_record

    run(app, [make_record(1, sets=["new"])], now=Clock(T0))
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        writer = RecordWriter(session, app.extensions["oaipress.renderer"])
        writer.known_sets = set()  # as read before the other import committed
        record = normalize_record(make_record(2, sets=["new", "newer"]))[0]
        writer.write([_Item(1, record, None)], ImportSummary())
        publish(session, Clock(T1))
    assert memberships(app, "article/2").keys() >= {"new", "newer"}
    assert set_specs(app) == ["new", "newer", "openaire"]
