"""The baseline the benchmark compares oaipress against: the ceiling of the stack.

Two parts:

* :func:`load` pre-renders an ``oai_dc`` blob per record with lxml (the same Dublin Core
  fields oaipress serves, so both answers carry about as many bytes) and the record's
  ``<header>``, and stores
  ``(datestamp, id, header_xml, metadata_xml)`` in one SQLite table indexed on
  ``(datestamp, id)``;
* :func:`make_app` returns a WSGI app that answers Identify, ListRecords (100 records a
  page, keyset pagination, token ``<datestamp>|<id>``) and GetRecord for ``oai_dc`` by
  concatenating the stored blobs into an OAI-PMH envelope. No from/until/set, no
  other formats: it is what a repository could not do any faster on this stack.

Serve it with gunicorn, from the repository root::

    gunicorn -w 2 'bench.baseline:make_app("/abs/path/baseline.sqlite")'
    BENCH_BASELINE_DB=/abs/path/baseline.sqlite gunicorn -w 2 bench.baseline:app

Load it with ``python bench/baseline.py load CORPUS.jsonl OUT.sqlite``.

The stored header blobs are written without a namespace: they sit inside the envelope's
default namespace (``xmlns="http://www.openarchives.org/OAI/2.0/"``), so once embedded
they are OAI elements. The ``oai_dc:dc`` blobs carry their own namespace declarations.
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import sys
import threading
import time
from urllib.parse import parse_qs
from wsgiref.util import request_uri
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

PAGE_SIZE = 100
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DC_NSMAP = {"oai_dc": OAI_DC, "dc": DC, "xsi": XSI}
DC_SCHEMA = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


def repository_identifier() -> str:
    return os.environ.get("OAIPRESS_REPOSITORY_IDENTIFIER", "example.org")


# -- loader ----------------------------------------------------------------------------


def render(rec: dict, repo_id: str) -> tuple[str, str, bytes, bytes | None]:
    """``(datestamp, oai identifier, header blob, oai_dc blob or None)`` of one record."""
    identifier = f"oai:{repo_id}:{rec['id']}"
    datestamp = rec.get("datestamp") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    header = etree.Element("header")
    if rec.get("deleted"):
        header.set("status", "deleted")
    etree.SubElement(header, "identifier").text = identifier
    etree.SubElement(header, "datestamp").text = datestamp
    for spec in rec.get("sets") or ():
        etree.SubElement(header, "setSpec").text = spec
    header_xml = etree.tostring(header, encoding="utf-8")
    if rec.get("deleted"):
        return datestamp, identifier, header_xml, None
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap=DC_NSMAP)
    dc.set(f"{{{XSI}}}schemaLocation", DC_SCHEMA)
    etree.SubElement(dc, f"{{{DC}}}title").text = rec["title"]
    for author in rec.get("authors") or ():
        name = author["family"] + (f", {author['given']}" if author.get("given") else "")
        etree.SubElement(dc, f"{{{DC}}}creator").text = name
    # The same Dublin Core fields oaipress serves, so both responses carry as many bytes.
    journal = rec.get("journal") or {}
    rights = rec.get("rights") or {}
    values = (
        [("subject", k) for k in rec.get("keywords") or ()]
        + [
            ("description", rec.get("abstract")),
            ("publisher", journal.get("publisher") or journal.get("title")),
            ("date", rec["published"]),
            ("type", "info:eu-repo/semantics/article"),
            ("type", "info:eu-repo/semantics/publishedVersion"),
            ("type", "Text"),
            ("format", "application/pdf" if rec.get("files") else None),
            ("identifier", rec["url"]),
            ("identifier", f"https://doi.org/{rec['doi']}" if rec.get("doi") else None),
            (
                "source",
                f"{journal.get('title')}; Vol. {rec.get('volume')} No. {rec.get('issue')} "
                f"({rec['published'][:4]}); {rec.get('pages')}",
            ),
            ("source", journal.get("issn")),
            ("language", rec.get("language")),
        ]
        + [("relation", f["url"]) for f in rec.get("files") or ()]
        + [
            ("rights", f"info:eu-repo/semantics/{rights.get('access', 'open')}Access"),
            ("rights", rights.get("statement")),
            ("rights", rights.get("license")),
        ]
    )
    for name, text in values:
        if text:
            etree.SubElement(dc, f"{{{DC}}}{name}").text = text
    return datestamp, identifier, header_xml, etree.tostring(dc, encoding="utf-8")


def load(corpus_path: str, sqlite_path: str) -> int:
    """Render every line of ``corpus_path`` into a fresh SQLite file; returns the count."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(sqlite_path + suffix):
            os.unlink(sqlite_path + suffix)
    repo_id = repository_identifier()
    conn = sqlite3.connect(sqlite_path)
    count = 0
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(
            "CREATE TABLE records (id TEXT PRIMARY KEY, datestamp TEXT NOT NULL,"
            " header_xml BLOB NOT NULL, metadata_xml BLOB)"
        )
        insert = "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)"
        batch = []
        with open(corpus_path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                datestamp, identifier, header_xml, dc_xml = render(json.loads(line), repo_id)
                batch.append((identifier, datestamp, header_xml, dc_xml))
                if len(batch) >= 2000:
                    conn.executemany(insert, batch)
                    count += len(batch)
                    batch.clear()
        conn.executemany(insert, batch)
        count += len(batch)
        conn.execute("CREATE INDEX records_keyset ON records (datestamp, id)")
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return count


# -- WSGI app --------------------------------------------------------------------------

ENVELOPE_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="' + XSI + '" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
    'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
    "<responseDate>{date}</responseDate>{request}"
)
COLUMNS = "SELECT datestamp, id, header_xml, metadata_xml FROM records"


def _record(row: tuple) -> bytes:
    if row[3] is None:
        return b"<record>" + row[2] + b"</record>"
    return b"<record>" + row[2] + b"<metadata>" + row[3] + b"</metadata></record>"


def make_app(db_path: str, base_url: str | None = None):
    """The WSGI app serving the SQLite file written by :func:`load` (opened read-only)."""
    uri = pathlib.Path(db_path).resolve().as_uri() + "?mode=ro"
    local = threading.local()

    def db() -> sqlite3.Connection:
        if getattr(local, "conn", None) is None:  # opened lazily, after gunicorn forks
            local.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return local.conn

    def verb_body(args: dict) -> tuple[str, list[bytes]]:
        verb = args.get("verb")
        if verb == "Identify" and args.keys() == {"verb"}:
            earliest = db().execute("SELECT min(datestamp) FROM records").fetchone()[0]
            return "", [
                (
                    f"<Identify><repositoryName>baseline</repositoryName><baseURL>{escape(base)}"
                    "</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>bench@example.org"
                    f"</adminEmail><earliestDatestamp>{earliest or '1970-01-01T00:00:00Z'}"
                    "</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
                    "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>"
                ).encode()
            ]
        if verb == "GetRecord" and args.keys() == {"verb", "identifier", "metadataPrefix"}:
            if args["metadataPrefix"] != "oai_dc":
                return "cannotDisseminateFormat", []
            row = db().execute(COLUMNS + " WHERE id = ?", (args["identifier"],)).fetchone()
            if row is None:
                return "idDoesNotExist", []
            return "", [b"<GetRecord>", _record(row), b"</GetRecord>"]
        if verb != "ListRecords":
            return "badVerb" if verb not in ("Identify", "GetRecord") else "badArgument", []
        if args.keys() == {"verb", "resumptionToken"}:
            after = args["resumptionToken"].split("|", 1)
            if len(after) != 2:
                return "badResumptionToken", []
            sql, params = COLUMNS + " WHERE (datestamp, id) > (?, ?)", after
        elif args.keys() == {"verb", "metadataPrefix"}:
            if args["metadataPrefix"] != "oai_dc":
                return "cannotDisseminateFormat", []
            sql, params = COLUMNS, []
        else:
            return "badArgument", []
        rows = (
            db()
            .execute(sql + " ORDER BY datestamp, id LIMIT ?", (*params, PAGE_SIZE + 1))
            .fetchall()
        )
        if not rows:
            return ("noRecordsMatch" if not params else "badResumptionToken"), []
        body = [b"<ListRecords>"] + [_record(row) for row in rows[:PAGE_SIZE]]
        if len(rows) > PAGE_SIZE:
            last = rows[PAGE_SIZE - 1]
            body.append(
                f"<resumptionToken>{escape(last[0] + '|' + last[1])}</resumptionToken>".encode()
            )
        elif params:
            body.append(b"<resumptionToken/>")
        return "", body + [b"</ListRecords>"]

    base = base_url or ""

    def app(environ, start_response):
        nonlocal base
        base = base or request_uri(environ, include_query=False)
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            query = environ["wsgi.input"].read(min(size, 65536)).decode("utf-8", "replace")
        parsed = parse_qs(query, keep_blank_values=True)
        args = {k: v[0] for k, v in parsed.items()}
        if any(len(v) > 1 for v in parsed.values()):
            error, body = "badArgument", []
        else:
            error, body = verb_body(args)
        if error:
            attrs = (
                ""
                if error in ("badVerb", "badArgument")
                else "".join(f" {k}={quoteattr(v)}" for k, v in args.items())
            )
            body = [f"<error code={quoteattr(error)}>{error}</error>".encode()]
        else:
            attrs = "".join(f" {k}={quoteattr(v)}" for k, v in args.items())
        head = ENVELOPE_HEAD.format(
            date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            request=f"<request{attrs}>{escape(base)}</request>",
        )
        payload = b"".join([head.encode(), *body, b"</OAI-PMH>\n"])
        start_response(
            "200 OK",
            [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return app


_env_app = None


def app(environ, start_response):
    """``bench.baseline:app``: serves the file named by ``BENCH_BASELINE_DB``."""
    global _env_app
    if _env_app is None:
        _env_app = make_app(os.environ["BENCH_BASELINE_DB"], os.environ.get("BENCH_BASE_URL"))
    return _env_app(environ, start_response)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "load":
        print("usage: python bench/baseline.py load CORPUS.jsonl OUT.sqlite", file=sys.stderr)
        return 2
    started = time.perf_counter()
    count = load(argv[1], argv[2])
    print(f"loaded {count} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
