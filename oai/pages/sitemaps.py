"""``/sitemap.xml`` and ``/sitemap-<n>.xml``: every live landing page, for crawlers.

The children sit at the root because a sitemap may list only URLs below its own directory
(sitemaps.org, "Sitemap file location"): one under ``/sitemaps/`` could not list
``/records/…``.

Sitemaps protocol 0.9 (sitemaps.org): a sitemap index whose children hold at most 50,000
URLs each. Child ``n`` lists the live records whose primary key is in ``[n·SIZE,
(n+1)·SIZE)``, so a child can never exceed the limit, its URL stays put as records come
and go, and it is read by keyset batches: a million records cost no more memory than ten
thousand. Each child is streamed (gzipped on the fly when the client accepts it); the
index lists only children that hold a URL, with the newest datestamp of their range as
``lastmod``. Deleted records are left out.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from flask import Response, abort, request, stream_with_context, url_for
from lxml import etree

from oai.pages import bp
from oai.pages.browsing import conditional, memoized, read_connection
from oai.pages.http import validated
from oai.pages.landing import external_url
from records import browse

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: URLs per child sitemap at most: the protocol's limit (tests make it small)
SIZE = 50_000
#: bytes of XML gathered before a chunk is sent
CHUNK_BYTES = 64 * 1024
MIMETYPE = "application/xml"
#: records.pk is a 32-bit integer: a child beyond it cannot exist (and is not looked up)
MAX_PK = 2**31 - 1


def w3c_datetime(stamp: datetime) -> str:
    """W3C Datetime in UTC with ``Z`` (datestamps are stored as naive UTC)."""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.route("/sitemap.xml")
def sitemap_index() -> Response:
    """One narrow index range per child (records.browse): validated and kept per version."""
    size = SIZE
    with read_connection() as connection:
        version = browse.version(connection)
        response = conditional(Response(mimetype=MIMETYPE), version, f"index-{size}")
        if response.status_code == 304:
            return response
        children = memoized(
            f"sitemap-{size}", version, lambda: browse.sitemap_children(connection, size)
        )
    if not children:
        abort(404, description="No records yet, so no sitemap.")
    root = etree.Element(f"{{{NAMESPACE}}}sitemapindex", nsmap={None: NAMESPACE})
    for n, stamp in children:
        child = etree.SubElement(root, f"{{{NAMESPACE}}}sitemap")
        etree.SubElement(child, f"{{{NAMESPACE}}}loc").text = external_url("pages.sitemap", n=n)
        etree.SubElement(child, f"{{{NAMESPACE}}}lastmod").text = w3c_datetime(stamp)
    response.set_data(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return response


@bp.route("/sitemap-<int:n>.xml")
def sitemap(n: int) -> Response:
    size = SIZE
    if n * size > MAX_PK:
        abort(404, description="No such sitemap: the index at /sitemap.xml lists them.")
    with read_connection() as connection:
        lastmod = browse.sitemap_child(connection, n, size)
    if lastmod is None:
        abort(404, description="No such sitemap: the index at /sitemap.xml lists them.")
    chunks = _urlset(n, size)
    gzipped = "gzip" in request.accept_encodings
    if gzipped:
        chunks = _gzipped(chunks)
    # Streamed: nothing runs until the server reads the body, which a 304 never does.
    response = Response(stream_with_context(chunks), mimetype=MIMETYPE)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    validated(response, lastmod, variant=f"child-{size}")
    etag, _ = response.get_etag()
    if gzipped and etag:
        response.set_etag(etag, weak=True)  # the same entity, other bytes (RFC 9110 §8.8.1)
    return response


class _Sink:
    """What ``etree.xmlfile`` writes into: bytes gathered until a chunk is taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def _urlset(n: int, size: int) -> Iterator[bytes]:
    """The child sitemap, written by lxml as the rows arrive (escaping is lxml's)."""
    sink = _Sink()
    # The landing pages' own absolute URLs (their canonical links), with the origin worked
    # out once rather than 50,000 times.
    origin = external_url("pages.home").removesuffix(url_for("pages.home"))
    loc, lastmod = f"{{{NAMESPACE}}}loc", f"{{{NAMESPACE}}}lastmod"
    with read_connection() as connection:
        with etree.xmlfile(sink, encoding="UTF-8", buffered=False) as xf:
            xf.write_declaration()
            with xf.element(f"{{{NAMESPACE}}}urlset", nsmap={None: NAMESPACE}):
                for local_id, stamp in browse.sitemap_entries(connection, n, size):
                    with xf.element(f"{{{NAMESPACE}}}url"):
                        with xf.element(loc):
                            xf.write(origin + url_for("pages.landing", local_id=local_id))
                        with xf.element(lastmod):
                            xf.write(w3c_datetime(stamp))
                    if sink.size >= CHUNK_BYTES:
                        yield sink.take()
    yield sink.take()


def _gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        data = compressor.compress(chunk)
        if data:
            yield data
    yield compressor.flush()
