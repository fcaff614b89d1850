"""Imports through worker processes store exactly what an in-process import stores."""

from __future__ import annotations

import json

import pytest

from records.ingest import ImportRejected
from tests.conftest import import_lines, make_record, stored_records


def _lines(count: int) -> list[str]:
    records = [make_record(i, sets=[f"s{i % 3}:sub"]) for i in range(count)]
    records[5] = {"id": "article/5", "deleted": True, "sets": ["s2"]}
    return [json.dumps(r) for r in records]


def _import(app, lines, jobs, **kwargs):
    return import_lines(app, lines, jobs=jobs, batch_size=4, **kwargs)


def test_parallel_import_stores_the_same_records_as_a_sequential_one(make_app, tmp_path):
    lines = _lines(23)
    sequential = make_app(OAIPRESS_DATABASE_URL=f"sqlite:///{tmp_path / 'a.sqlite'}")
    parallel = make_app(OAIPRESS_DATABASE_URL=f"sqlite:///{tmp_path / 'b.sqlite'}")
    first = _import(sequential, lines, jobs=1)
    second = _import(parallel, lines, jobs=2)
    assert str(first) == str(second) == "22 added, 0 updated, 0 unchanged, 1 deleted, 0 rejected"
    assert stored_records(sequential) == stored_records(parallel)


def test_parallel_import_reports_bad_lines_by_their_number_and_stores_nothing(app):
    lines = _lines(15)
    lines[11] = json.dumps(make_record(11, rights={"access": "free"}))
    with pytest.raises(ImportRejected) as rejected:
        _import(app, lines, jobs=2)
    assert [str(e) for e in rejected.value.summary.errors] == [
        "line 12: rights.access: 'free' is not one of open, embargoed, restricted, closed"
    ]
    assert stored_records(app) == []
