"""HTTP for pages: validators from the datestamp, conditional answers, and gzip.

A page about a record changes only when the record does, and then its datestamp changes
(records.stamping), so the datestamp is a strong validator for everything derived from it.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from flask import Response, request

#: pages may be cached briefly and must then be revalidated (a withdrawal shows at once)
CACHE_CONTROL = "public, max-age=300, must-revalidate"
MIN_GZIP_BYTES = 512


def validated(response: Response, datestamp: datetime, *, variant: str = "") -> Response:
    """Sets ETag and Last-Modified from ``datestamp`` and answers 304 when the client has it.

    ``variant`` tells apart pages derived from the same record (a citation style, an export).
    """
    stamp = datestamp.replace(tzinfo=UTC) if datestamp.tzinfo is None else datestamp
    seconds = int(stamp.timestamp())
    response.set_etag(f"{seconds}-{variant}" if variant else str(seconds))
    response.last_modified = stamp
    response.headers.setdefault("Cache-Control", CACHE_CONTROL)
    vary = response.vary
    vary.add("Accept-Encoding")
    return response.make_conditional(request)


def compressed(response: Response) -> Response:
    """gzip a whole (not streamed) text response when the client accepts it."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.status_code != 200
        or "Content-Encoding" in response.headers
        or not response.mimetype.startswith("text/")
        and not response.mimetype.endswith(("json", "xml"))
    ):
        return response
    response.vary.add("Accept-Encoding")
    if "gzip" not in request.accept_encodings:
        return response
    body = response.get_data()
    if len(body) < MIN_GZIP_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:  # the same entity, other bytes (RFC 9110 §8.8.1)
        response.set_etag(etag, weak=True)
    return response
