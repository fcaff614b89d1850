"""Reading import lines: JSON Lines in, canonical records or line errors out.

Nothing here touches the database: worker processes (records.pipeline) run it too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from records.validate import RecordError, normalize_record

MAX_REPORTED_ERRORS = 100


@dataclass(frozen=True)
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


class _NotJSON(ValueError):
    """A number JSON (RFC 8259) cannot express: Python's json reads NaN, Infinity and 1e999,
    PostgreSQL's json type refuses them mid-import, and a title would become "nan"."""


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJSON(f"the number {text[:40]} is out of range")
    return value


def parse_lines(
    lines: Iterable[str | bytes], summary: ImportSummary, first_line: int = 1
) -> Iterator[_Item]:
    """Yield the valid records of a JSON Lines stream, noting the bad ones in ``summary``."""
    for number, raw in enumerate(lines, start=first_line):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                _reject(summary, LineError(number, "(encoding)", f"not UTF-8 at byte {exc.start}"))
                continue
        else:
            text = raw
        if not text.strip():
            continue
        try:
            obj = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
            record, datestamp = normalize_record(obj)
        except json.JSONDecodeError as exc:
            message = f"invalid JSON: {exc.msg} at column {exc.colno}"
            _reject(summary, LineError(number, "(json)", message))
            continue
        except _NotJSON as exc:
            _reject(summary, LineError(number, "(json)", f"invalid JSON: {exc}"))
            continue
        except RecordError as exc:
            _reject(summary, LineError(number, exc.field, exc.message))
            continue
        yield _Item(number, record, datestamp)


def _reject(summary: ImportSummary, error: LineError) -> None:
    summary.rejected += 1
    if len(summary.errors) < MAX_REPORTED_ERRORS:
        summary.errors.append(error)
