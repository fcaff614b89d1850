"""Reading import lines: JSON Lines in, canonical records or line errors out.

Nothing here touches the database: worker processes (records.pipeline) run it too.
"""

from __future__ import annotations

import bisect
import codecs
import json
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from records.validate import (
    RecordError,
    is_set_definition,
    normalize_record,
    normalize_set_definition,
)

MAX_REPORTED_ERRORS = 100
# The longest line read (docs/record-format.md): every other limit of a record fits in it.
MAX_LINE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, order=True)
class LineError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    errors: list[LineError] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted, {self.rejected} rejected"
        )

    def reject(self, error: LineError) -> None:
        """Count a bad line; keep the first MAX_REPORTED_ERRORS by line number.

        Errors can arrive out of order (a duplicate id is found after the worker that
        read its chunk reported the chunk's other errors), so they are kept sorted.
        """
        self.rejected += 1
        bisect.insort(self.errors, error)
        del self.errors[MAX_REPORTED_ERRORS:]


class ImportRejected(Exception):
    """The input had bad lines and the caller did not ask to skip them."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(f"{summary.rejected} bad line(s); nothing was stored")
        self.summary = summary


@dataclass
class _Item:
    line: int
    record: dict[str, Any]
    datestamp: datetime | None
    #: metadata already rendered (by a worker process of records.pipeline), if any
    renditions: list[tuple[str, str, bytes]] | None = None
    #: what a worker process also prepared (records.pipeline), so that the process
    #: writing to the database does not: the content hash, the sets of the header and
    #: the header rendered under ``header_stamp``
    digest: str | None = None
    sets: list[str] | None = None
    header: bytes | None = None
    header_stamp: datetime | None = None
    #: the record's article rows as the driver stores them (records.ingest.ArticleRows);
    #: once a worker made them, ``record`` keeps only what the writer still reads
    rows: Any = None

    @property
    def names_a_set(self) -> bool:
        """A set definition line (records.validate.is_set_definition), not a record."""
        return "set" in self.record


class _BadLine(ValueError):
    """A line that is not a JSON object oaipress can read: never a traceback, even for
    input Python's json reads badly (NaN, 1e999, 5,000-digit numbers, deep nesting)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _refuse_constant(name: str) -> Any:
    # RFC 8259 has no NaN or Infinity; PostgreSQL's json type refuses them mid-import.
    raise _BadLine("(json)", f"invalid JSON: {name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadLine("(json)", f"invalid JSON: the number {text[:40]} is out of range")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (4,300 by default)
        digits = len(text.lstrip("-"))
        limit = sys.get_int_max_str_digits()
        raise _BadLine(
            "(json)", f"a number of {digits:,} digits; at most {limit:,} can be read"
        ) from None


def _utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8; only exact when it could exceed MAX_LINE_BYTES."""
    if len(text) * 4 <= MAX_LINE_BYTES:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _line_text(raw: str | bytes, number: int) -> str:
    """The text of one line: UTF-8, at most MAX_LINE_BYTES, a BOM allowed on line 1."""
    size = len(raw) if isinstance(raw, bytes) else _utf8_size(raw)
    if size > MAX_LINE_BYTES:
        raise _BadLine("(line)", f"is {size:,} bytes long; at most {MAX_LINE_BYTES:,} are allowed")
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff") if number == 1 else raw
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine("(encoding)", f"not UTF-8 at byte {exc.start}") from None


def _decode(text: str) -> Any:
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_integer,
        )
    except json.JSONDecodeError as exc:
        if text.startswith("\ufeff"):
            raise _BadLine(
                "(json)", "a byte order mark (BOM) may only begin the file, not a later line"
            ) from None
        raise _BadLine("(json)", f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise _BadLine("(json)", "arrays or objects are nested too deeply") from None


def parse_lines(
    lines: Iterable[str | bytes], summary: ImportSummary, first_line: int = 1
) -> Iterator[_Item]:
    """Yield the valid records of a JSON Lines stream, noting the bad ones in ``summary``.

    ``first_line`` is the number of the first of ``lines`` in the whole stream (1: the
    stream's start, where a UTF-8 byte order mark is allowed).
    """
    for number, raw in enumerate(lines, start=first_line):
        try:
            text = _line_text(raw, number)
            if not text.strip():
                continue
            obj = _decode(text)
            if is_set_definition(obj):
                yield _Item(number, normalize_set_definition(obj), None)
                continue
            record, datestamp = normalize_record(obj)
        except (_BadLine, RecordError) as exc:
            summary.reject(LineError(number, exc.field, exc.message))
            continue
        yield _Item(number, record, datestamp)


class DuplicateIds:
    """Finds an id given twice in one stream; it must see every valid line, in order.

    Workers (records.pipeline) read chunks of a stream apart, so the check belongs where
    the chunks come together. It keeps each id and its line: about 120 bytes a record.
    """

    def __init__(self) -> None:
        self._first_lines: dict[str, int] = {}

    def check(self, item: _Item) -> LineError | None:
        """The error for ``item`` when an earlier line had its id, else None."""
        if item.names_a_set:
            return None
        local_id = item.record["id"]
        first = self._first_lines.setdefault(local_id, item.line)
        if first == item.line:
            return None
        return LineError(item.line, "id", f"{local_id!r} already appears on line {first}")


def without_duplicate_ids(items: Iterable[_Item], summary: ImportSummary) -> Iterator[_Item]:
    """``items`` but a later line with an id seen before, which is counted as a bad line."""
    seen = DuplicateIds()
    for item in items:
        error = seen.check(item)
        if error is None:
            yield item
        else:
            summary.reject(error)
