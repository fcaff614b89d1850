"""Reading import input (records/lines.py): every bad line is a line error naming its field,
never a traceback, with or without worker processes; ids given twice are found."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from oai.cli import cli
from records.ingest import import_records
from records.lines import (
    MAX_LINE_BYTES,
    MAX_REPORTED_ERRORS,
    DuplicateIds,
    ImportSummary,
    LineError,
    _Item,
    parse_lines,
    without_duplicate_ids,
)
from records.pipeline import prepared_items
from records.queries import iter_records
from tests.conftest import Clock, make_record


def with_raw(field: str, raw_json: str) -> str:
    """A line of a valid record whose ``field`` is ``raw_json`` as written."""
    return json.dumps(make_record(9, **{field: 0})).replace(
        f'"{field}": 0', f'"{field}": {raw_json}'
    )


HUGE_NUMBER = with_raw("volume", "9" * 5_000)
DEEP_ARRAYS = with_raw("title", "[" * 100_000 + "]" * 100_000)


def read(lines: list[Any], first_line: int = 1) -> tuple[list[_Item], ImportSummary]:
    summary = ImportSummary()
    return list(parse_lines(lines, summary, first_line)), summary


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def errors(summary: ImportSummary) -> list[tuple[int, str]]:
    return [(e.line, e.field) for e in summary.errors]


# --- JSON Python reads badly --------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_number_over_python_s_digit_limit_is_a_line_error(as_bytes):
    given = HUGE_NUMBER.encode() if as_bytes else HUGE_NUMBER
    items, summary = read([line(make_record(1)), given, line(make_record(3))])
    assert [i.line for i in items] == [1, 3]
    assert summary.rejected == 1
    error = summary.errors[0]
    assert (error.line, error.field) == (2, "(json)")
    assert "5,000 digits" in error.message and "4,300" in error.message


def test_a_number_just_under_the_digit_limit_is_read():
    items, summary = read([with_raw("volume", "9" * 4_300)])
    assert errors(summary) == [(1, "volume")]  # too long for its column, and said so
    assert "characters long" in summary.errors[0].message


def test_deeply_nested_arrays_are_a_line_error():
    items, summary = read([DEEP_ARRAYS, line(make_record(2))])
    assert [i.line for i in items] == [2]
    assert errors(summary) == [(1, "(json)")]
    assert "nested too deeply" in summary.errors[0].message


def test_nesting_json_can_read_is_refused_by_the_field_it_is_in():
    _, summary = read([with_raw("title", "[" * 500 + "]" * 500)])
    assert errors(summary) == [(1, "title")]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_json_has_no_room_for_are_line_errors(bad):
    _, summary = read([with_raw("volume", bad)])
    assert errors(summary) == [(1, "(json)")]


# --- byte order mark, encoding, line length ----------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_byte_order_mark_at_the_start_of_the_file_is_accepted(as_bytes):
    first = "\ufeff" + line(make_record(1))
    given = [first.encode("utf-8") if as_bytes else first, line(make_record(2))]
    items, summary = read(given)
    assert summary.rejected == 0
    assert [i.record["id"] for i in items] == ["article/1", "article/2"]


def test_a_byte_order_mark_alone_on_the_first_line_is_a_blank_line():
    items, summary = read([codecs.BOM_UTF8 + b"\n", line(make_record(2)).encode()])
    assert (len(items), summary.rejected) == (1, 0)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_byte_order_mark_later_is_a_line_error(as_bytes):
    later = "\ufeff" + line(make_record(2))
    items, summary = read([line(make_record(1)), later.encode() if as_bytes else later])
    assert [i.line for i in items] == [1]
    assert errors(summary) == [(2, "(json)")]
    assert "byte order mark" in summary.errors[0].message


def test_a_chunk_read_by_a_worker_is_not_the_start_of_the_file():
    _, summary = read([codecs.BOM_UTF8 + line(make_record(1)).encode()], first_line=501)
    assert errors(summary) == [(501, "(json)")]


def test_bytes_that_are_not_utf8_are_a_line_error():
    _, summary = read([b'{"id": "a\xff"}'])
    assert errors(summary) == [(1, "(encoding)")]


def test_a_line_over_the_limit_is_refused_before_it_is_parsed():
    over = b'{"id": "a", "abstract": "' + b"x" * MAX_LINE_BYTES + b'"}'
    items, summary = read([over, over.decode(), line(make_record(3))])
    assert [i.line for i in items] == [3]
    assert errors(summary) == [(1, "(line)"), (2, "(line)")]
    assert summary.errors[0].message == (
        f"is {len(over):,} bytes long; at most {MAX_LINE_BYTES:,} are allowed"
    )


def test_the_line_limit_counts_utf8_bytes_not_characters():
    # 1.5 million three-byte characters: under the limit in characters, over it in bytes
    text = line(make_record(1, abstract="\u20ac" * 1_500_000))
    assert len(text) < MAX_LINE_BYTES < len(text.encode("utf-8"))
    _, summary = read([text])
    assert errors(summary) == [(1, "(line)")]


def test_a_line_at_the_limit_is_read():
    record = make_record(1)
    padding = MAX_LINE_BYTES - len(line({**record, "extra": {"pad": ""}}).encode())
    text = line({**record, "extra": {"pad": "x" * padding}})
    assert len(text.encode()) == MAX_LINE_BYTES
    items, summary = read([text.encode()])
    assert (len(items), summary.rejected) == (1, 0)


# --- unknown fields and limits, as line errors --------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"abstarct": "x"}, "abstarct"),
        ({"rights": {"access": "open", "licence": "x"}}, "rights.licence"),
        ({"authors": [{"family": "A", "orcid_id": "x"}]}, "authors[0].orcid_id"),
        ({"journal": {"isn": "0378-5955"}}, "journal.isn"),
        ({"files": [{"url": "https://x.org/f", "mime": "application/pdf"}]}, "files[0].mime"),
        ({"abstract": "x" * 100_001}, "abstract"),
        ({"authors": [{"family": "A"}] * 10_001}, "authors"),
    ],
)
def test_unknown_fields_and_sizes_over_their_limit_are_line_errors(fields, field):
    items, summary = read([line(make_record(1)), line(make_record(2, **fields))])
    assert [i.line for i in items] == [1]
    assert errors(summary) == [(2, field)]


def test_the_extra_object_goes_through():
    items, summary = read([line(make_record(1, extra={"accession": "A-17"}))])
    assert summary.rejected == 0
    assert items[0].record["extra"] == {"accession": "A-17"}


# --- duplicate ids -------------------------------------------------------------------------


def item(number: int, local_id: str, deleted: bool = False) -> _Item:
    return _Item(number, {"id": local_id, "deleted": deleted}, None)


def test_an_id_seen_before_is_reported_on_the_later_line_naming_the_first():
    seen = DuplicateIds()
    assert seen.check(item(3, "article/1")) is None
    assert seen.check(item(4, "article/2")) is None
    error = seen.check(item(9, "article/1"))
    assert error == LineError(9, "id", "'article/1' already appears on line 3")
    assert str(error) == "line 9: id: 'article/1' already appears on line 3"
    # a third time still names the first line
    assert seen.check(item(12, "article/1", deleted=True)) == LineError(
        12, "id", "'article/1' already appears on line 3"
    )


def test_without_duplicate_ids_passes_the_first_and_counts_the_later_as_bad():
    summary = ImportSummary()
    given = [item(1, "a"), item(2, "b"), item(3, "a"), item(4, "c"), item(5, "b")]
    kept = list(without_duplicate_ids(given, summary))
    assert [i.line for i in kept] == [1, 2, 4]
    assert summary.rejected == 2
    assert [str(e) for e in summary.errors] == [
        "line 3: id: 'a' already appears on line 1",
        "line 5: id: 'b' already appears on line 2",
    ]


def test_ids_differing_in_case_are_different_ids():
    seen = DuplicateIds()
    assert seen.check(item(1, "Article/1")) is None
    assert seen.check(item(2, "article/1")) is None


def test_errors_are_kept_in_line_order_however_they_arrive():
    summary = ImportSummary()
    for number in (7, 3, 9, 1):
        summary.reject(LineError(number, "id", "x"))
    assert [e.line for e in summary.errors] == [1, 3, 7, 9]
    for number in range(500, 500 + MAX_REPORTED_ERRORS):
        summary.reject(LineError(number, "id", "x"))
    summary.reject(LineError(2, "id", "x"))
    assert summary.rejected == 4 + MAX_REPORTED_ERRORS + 1
    assert len(summary.errors) == MAX_REPORTED_ERRORS
    assert [e.line for e in summary.errors[:5]] == [1, 2, 3, 7, 9]


@pytest.mark.parametrize("jobs", [1, 2])
def test_duplicates_are_found_across_the_chunks_of_worker_processes(app: Flask, jobs: int):
    records = [make_record(i) for i in range(1, 13)]
    records[9] = make_record(2, title="again")  # line 10, in another chunk than line 2
    records[11] = {"id": "article/5", "deleted": True}  # line 12
    lines = [line(r) for r in records]
    summary = ImportSummary()
    renderer = app.extensions["oaipress.renderer"]
    if jobs == 1:
        items = parse_lines(lines, summary)
    else:
        items = prepared_items(lines, renderer, summary, jobs, chunk_size=3)
    kept = list(without_duplicate_ids(items, summary))
    assert [i.line for i in kept] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert [str(e) for e in summary.errors] == [
        "line 10: id: 'article/2' already appears on line 2",
        "line 12: id: 'article/5' already appears on line 5",
    ]


def test_a_duplicate_after_a_bad_line_with_the_same_id_is_not_a_duplicate():
    bad = line(make_record(1, url="not a url"))
    summary = ImportSummary()
    kept = list(without_duplicate_ids(parse_lines([bad, line(make_record(1))], summary), summary))
    assert [i.line for i in kept] == [2]
    assert errors(summary) == [(1, "url")]


# --- through import_records and the command, with worker processes ------------------------


def bad_lines() -> list[str]:
    return [
        line(make_record(1)),
        HUGE_NUMBER,
        line(make_record(3)),
        DEEP_ARRAYS,
        line(make_record(5, abstarct="typo")),
        line(make_record(6)),
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_skip_invalid_stores_the_good_lines_around_numbers_and_nesting_json_reads_badly(
    app: Flask, jobs: int
):
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        summary = import_records(
            session,
            bad_lines(),
            app.extensions["oaipress.renderer"],
            skip_invalid=True,
            now=Clock(),
            jobs=jobs,
            batch_size=2,
        )
    assert (summary.added, summary.rejected) == (3, 3)
    assert errors(summary) == [(2, "(json)"), (4, "(json)"), (5, "abstarct")]
    with store.session() as session:
        assert [r.local_id for r in iter_records(session)] == [
            "article/1",
            "article/3",
            "article/6",
        ]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    for name in list(os.environ):
        if name.startswith("OAIPRESS_") and name != "OAIPRESS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OAIPRESS_DATABASE_URL", database_url)
    monkeypatch.setenv("OAIPRESS_REPOSITORY_IDENTIFIER", "repo.example.org")
    monkeypatch.setenv("OAIPRESS_SECRET_KEY", "input-secret")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_reports_bad_input_in_one_line_each_and_no_traceback(
    environment: Path, jobs: str
):
    path = environment / "bad.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + "\n".join(bad_lines()).encode("utf-8") + b"\n")
    result = CliRunner().invoke(cli, ["import", "--skip-invalid", "--jobs", jobs, str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert f"{path}: skipped line 2: (json): a number of 5,000 digits" in result.stderr
    assert f"{path}: skipped line 4: (json): arrays or objects are nested too deeply" in (
        result.stderr
    )
    assert f"{path}: skipped line 5: abstarct: is not a field" in result.stderr
    assert "3 added, 0 updated, 0 unchanged, 0 deleted, 3 rejected" in result.stderr
