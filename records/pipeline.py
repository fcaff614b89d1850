"""Checking and rendering import lines in worker processes, in order, with bounded memory.

The main process keeps writing to the database while workers parse, validate, hash and
render the next chunks; at most ``2 × jobs`` chunks are in flight, so a file of a
million lines never sits in memory.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

from records.ingest import Renderer
from records.lines import MAX_REPORTED_ERRORS, ImportSummary, LineError, _Item, parse_lines

_renderer: Renderer | None = None

Prepared = tuple[list[_Item], list[LineError], int]


def _init(renderer: Renderer) -> None:
    global _renderer
    _renderer = renderer


def _prepare(first_line: int, lines: list[Any]) -> Prepared:
    assert _renderer is not None
    summary = ImportSummary()
    items = list(parse_lines(lines, summary, first_line))
    for item in items:
        if not item.names_a_set and not item.record.get("deleted"):
            item.renditions = _renderer.metadata(item.record)
    return items, summary.errors, summary.rejected


def _chunks(lines: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    iterator = iter(lines)
    first = 1
    while chunk := list(islice(iterator, size)):
        yield first, chunk
        first += len(chunk)


def _merge(result: Prepared, summary: ImportSummary) -> list[_Item]:
    items, errors, rejected = result
    summary.rejected += rejected
    room = MAX_REPORTED_ERRORS - len(summary.errors)
    summary.errors.extend(errors[: max(room, 0)])
    return items


def prepared_items(
    lines: Iterable[Any], renderer: Renderer, summary: ImportSummary, jobs: int, chunk_size: int
) -> Iterator[_Item]:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(jobs, initializer=_init, initargs=(renderer,)) as pool:
        pending: deque[AsyncResult[Prepared]] = deque()
        for first, chunk in _chunks(lines, chunk_size):
            pending.append(pool.apply_async(_prepare, (first, chunk)))
            if len(pending) >= 2 * jobs:
                yield from _merge(pending.popleft().get(), summary)
        while pending:
            yield from _merge(pending.popleft().get(), summary)
