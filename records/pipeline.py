"""Checking and rendering import lines in worker processes, in order, with bounded memory.

The main process keeps writing to the database while workers parse, validate, hash and
render the next chunks; at most ``2 × jobs`` chunks are in flight, so a file of a
million lines never sits in memory.

Ctrl-C reaches every process of the terminal's process group. Only the main process
acts on it: the workers never see SIGINT (a worker that raised KeyboardInterrupt
printed its traceback and could die holding a lock of the pool's queues), and whoever
catches the KeyboardInterrupt calls :func:`stop_workers`, which stops them cleanly.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

from records.ingest import Renderer, prepare
from records.lines import MAX_REPORTED_ERRORS, ImportSummary, LineError, _Item, parse_lines

#: How long stopping waits for a chunk in flight (a chunk is at most 10,000 lines).
CHUNK_TIMEOUT = 60.0

_renderer: Renderer | None = None
_keep_datestamps = False
_stopping: Any = None  # a shared flag: the import is being stopped, drop the work

Prepared = tuple[list[_Item], list[LineError], int]


def _init(renderer: Renderer, stopping: Any, keep_datestamps: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    global _renderer, _stopping, _keep_datestamps
    _renderer = renderer
    _stopping = stopping
    _keep_datestamps = keep_datestamps


def _prepare(first_line: int, lines: list[Any]) -> Prepared:
    assert _renderer is not None
    summary = ImportSummary()
    items: list[_Item] = []
    for item in parse_lines(lines, summary, first_line):
        if _stopping.value:  # nobody will read this chunk: finish at once
            return [], [], 0
        prepare(item, _renderer, _keep_datestamps)
        items.append(item)
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


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Hold back SIGINT for a moment; a Ctrl-C meanwhile arrives when it ends, not lost.

    Threads and processes started meanwhile keep SIGINT blocked: that is how the pool's
    workers, and those its threads start later to replace them, never see it.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Workers:
    """A pool of worker processes and the chunks submitted to it, oldest first."""

    def __init__(self, jobs: int, renderer: Renderer, keep_datestamps: bool) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.stopping = context.RawValue("b", 0)  # shared memory: no lock to hold
        with _sigint_blocked():
            self.pool = context.Pool(
                jobs, initializer=_init, initargs=(renderer, self.stopping, keep_datestamps)
            )
        self.pending: deque[AsyncResult[Prepared]] = deque()

    def submit(self, first: int, chunk: list[Any]) -> None:
        with _sigint_blocked():  # a chunk handed to the pool is always in ``pending``
            self.pending.append(self.pool.apply_async(_prepare, (first, chunk)))

    def next_result(self) -> Prepared:
        result = self.pending[0].get()
        self.pending.popleft()
        return result

    def stop(self) -> None:
        """Let the chunks in flight finish, then end the workers.

        ``Pool.terminate()`` while a worker is still sending a result deadlocks: the
        pool stops reading results, then waits for the queue lock that worker holds
        until its write completes. The workers drop what they are doing when told to
        stop, so the wait is about one line's work. It is skipped in another thread
        than the main one: there the garbage collector may be closing
        :func:`prepared_items` inside the pool's own result thread, which could then
        never deliver the results.
        """
        self.stopping.value = 1
        if threading.current_thread() is threading.main_thread():
            for result in self.pending:
                result.wait(CHUNK_TIMEOUT)
        self.pending.clear()
        self.pool.terminate()  # terminating twice does nothing


#: The worker pools of the imports running in this process, for :func:`stop_workers`.
_running: list[_Workers] = []


def stop_workers() -> None:
    """Stop the worker processes of the imports running in this process, now.

    Call it where a KeyboardInterrupt is caught. When Ctrl-C lands while the importer
    writes rather than inside :func:`prepared_items`, that generator stays suspended
    until the garbage collector closes it: later, and perhaps in another thread.
    """
    for workers in list(_running):
        workers.stop()


def prepared_items(
    lines: Iterable[Any],
    renderer: Renderer,
    summary: ImportSummary,
    jobs: int,
    chunk_size: int,
    keep_datestamps: bool = False,
) -> Iterator[_Item]:
    workers = _Workers(jobs, renderer, keep_datestamps)
    _running.append(workers)
    try:
        for first, chunk in _chunks(lines, chunk_size):
            workers.submit(first, chunk)
            if len(workers.pending) >= 2 * jobs:
                yield from _merge(workers.next_result(), summary)
        while workers.pending:
            yield from _merge(workers.next_result(), summary)
    finally:
        _running.remove(workers)
        workers.stop()
