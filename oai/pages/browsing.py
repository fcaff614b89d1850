"""What the home, browse and sitemap pages share: reading the store, and not reading it twice.

These pages depend on the whole store, not on one record, so they are validated by the
store's version (records.browse.Version: the newest datestamp and the highest primary
key, two index seeks): a client that has the page gets a 304 before anything is counted,
and counts that a million records make costly are kept per process until the version
moves (or ``MEMO_SECONDS`` pass, in case two writers commit out of datestamp order).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Response, current_app
from sqlalchemy import Connection

from oai.pages.http import validated
from oai.store import Store
from records import browse

T = TypeVar("T")

#: how long a memoised count may be reused while the store's version stays the same
MEMO_SECONDS = 300.0
_MEMO_KEY = "oaipress.pages.memo"
_lock = threading.Lock()


@contextmanager
def read_connection() -> Iterator[Connection]:
    """A read-only connection to the store (a replica when one is configured)."""
    store: Store = current_app.extensions["oaipress.store"]
    with store.read_connection() as connection:
        yield connection


def memoized(name: str, version: browse.Version, compute: Callable[[], T]) -> T:
    """``compute()``, or its value from an earlier request at the same store version."""
    with _lock:
        memo: dict[str, tuple[browse.Version, float, Any]] = current_app.extensions.setdefault(
            _MEMO_KEY, {}
        )
        hit = memo.get(name)
    now = time.monotonic()
    if hit is not None and hit[0] == version and now - hit[1] < MEMO_SECONDS:
        return hit[2]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        memo[name] = (version, now, value)
    return value


def conditional(response: Response, version: browse.Version, variant: str) -> Response:
    """ETag/Last-Modified from the store's version (``validated``); 304 when it matches."""
    if version.newest is None:
        return response
    return validated(response, version.newest, variant=f"{variant}-{version.tag}")


def html_page(version: browse.Version, render: Callable[[], str], *, variant: str) -> Response:
    """A page about the whole store; ``render`` runs only when the client lacks it."""
    response = conditional(Response(mimetype="text/html"), version, variant)
    if response.status_code == 304:
        return response
    response.set_data(render())
    return response
