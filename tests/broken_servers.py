"""Servers for the validator's tests: oaipress in a thread, and oaipress broken on purpose.

``serve(app)`` runs any WSGI app on a free loopback port behind :class:`Recorder`, which
counts every request and its method on the server side (the validator's budget and its
GET-only promise are checked there, not on the client's word).

Each breakage is a WSGI middleware around the real oaipress app that changes exactly
one thing a harvester relies on; everything else stays correct, so the validator must
name that rule and no unrelated one. ``Rewrite`` gives the middlewares the decoded XML
of each response (the inner app is asked without compression, and the answer is
compressed again if the client asked for it, as oaipress does).

``validator_app`` builds the oaipress they wrap (50 records in sets, small pages) and
``run`` validates an app through ``serve``, counting the validator's waits instead of
sleeping them.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask
from lxml import etree
from werkzeug.serving import make_server

from oai.validator.runner import Report, validate_endpoint
from tests.conftest import example_record, load_records, make_record

OAI = "{http://www.openarchives.org/OAI/2.0/}"
NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
VERBS = {
    "GetRecord",
    "Identify",
    "ListIdentifiers",
    "ListMetadataFormats",
    "ListRecords",
    "ListSets",
}
OAI_ARGUMENTS = {"verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Recorder:
    """Counts requests and methods as the server receives them."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []  # (method, query string)
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        with self.lock:
            self.requests.append((environ["REQUEST_METHOD"], environ.get("QUERY_STRING", "")))
        return self.app(environ, start_response)

    @property
    def methods(self) -> set[str]:
        return {method for method, _ in self.requests}


@contextmanager
def serve(app: WSGIApp) -> Iterator[tuple[str, Recorder]]:
    """``app`` on 127.0.0.1:<free port>; yields the /oai base URL and the recorder."""
    recorder = Recorder(app)
    server = make_server("127.0.0.1", 0, recorder, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/oai", recorder
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def _params(environ: dict[str, Any]) -> list[tuple[str, str]]:
    return parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def _call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the inner app to completion: (status, headers, body)."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return captured["status"], captured["headers"], body


class Rewrite:
    """Hand each XML response's tree to ``edit(params, root)``; compress as asked."""

    def __init__(self, app: WSGIApp, compress: bool = True) -> None:
        self.app = app
        self.compress = compress

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        raise NotImplementedError

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        accept = environ.pop("HTTP_ACCEPT_ENCODING", "")
        status, headers, body = _call(self.app, environ)
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "vary")]
        if any(k.lower() == "content-type" and "xml" in v for k, v in headers):
            root = etree.fromstring(body)
            self.edit(dict(_params(environ)), root)
            body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        if self.compress and "gzip" in accept:
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        elif self.compress and "deflate" in accept:
            body = zlib.compress(body)
            headers.append(("Content-Encoding", "deflate"))
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]


class NoCompression(Rewrite):
    """Identify still declares gzip and deflate; nothing is ever compressed (§3.1.3)."""

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app, compress=False)

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        pass


class RepeatedRecord(Rewrite):
    """Every page after the first repeats the list's first item in place of its own first."""

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.first: dict[str, str] = {}

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        verb = params.get("verb")
        if verb not in ("ListIdentifiers", "ListRecords"):
            return
        identifiers = root.findall(f"{OAI}{verb}//{OAI}header/{OAI}identifier")
        if not identifiers:
            return
        if "resumptionToken" not in params:
            self.first[verb] = identifiers[0].text
        elif verb in self.first:
            identifiers[0].text = self.first[verb]


class LyingListSize(Rewrite):
    """completeListSize says five more items than the list has (§3.5)."""

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        for token in root.iterfind(f".//{OAI}resumptionToken"):
            if token.get("completeListSize"):
                token.set("completeListSize", str(int(token.get("completeListSize")) + 5))


class LocalResponseDate(Rewrite):
    """responseDate without the UTC designator: schema-valid xs:dateTime, wrong (§3.3.2)."""

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        element = root.find(f"{OAI}responseDate")
        element.text = element.text.rstrip("Z")


class DayGranularity(Rewrite):
    """Identify declares YYYY-MM-DD (and a day earliestDatestamp), datestamps keep seconds."""

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        identify = root.find(f"{OAI}Identify")
        if identify is not None:
            identify.find(f"{OAI}granularity").text = "YYYY-MM-DD"
            earliest = identify.find(f"{OAI}earliestDatestamp")
            earliest.text = earliest.text[:10]


class InvalidRecord(Rewrite):
    """Every oai_dc record gets an element simpledc does not have: schema-invalid (§3.4)."""

    def edit(self, params: dict[str, str], root: etree._Element) -> None:
        for dc in root.iterfind(
            f".//{OAI}metadata/{{http://www.openarchives.org/OAI/2.0/oai_dc/}}dc"
        ):
            etree.SubElement(dc, "{http://purl.org/dc/elements/1.1/}colour").text = "blue"


class BadVerbAsHTTP400:
    """An unknown, missing or repeated verb gets HTTP 400 and an HTML page (§3.1.2.2)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        verbs = [value for key, value in _params(environ) if key == "verb"]
        if len(verbs) != 1 or verbs[0] not in VERBS:
            body = b"<!DOCTYPE html><html><body><h1>400 Bad Request</h1></body></html>"
            start_response("400 Bad Request", [("Content-Type", "text/html")])
            return [body]
        return self.app(environ, start_response)


class IgnoresUnknownArguments:
    """Arguments that are not OAI-PMH's are dropped silently instead of badArgument (§3.6)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        kept = [(k, v) for k, v in _params(environ) if k in OAI_ARGUMENTS]
        environ = {**environ, "QUERY_STRING": urlencode(kept)}
        return self.app(environ, start_response)


class Busy:
    """The third request gets 503 with ``retry_after``; the retry is answered normally."""

    def __init__(self, app: WSGIApp, retry_after: str) -> None:
        self.app = app
        self.retry_after = retry_after
        self.count = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        self.count += 1
        if self.count == 3:
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Retry-After", self.retry_after)],
            )
            return [b"busy\n"]
        return self.app(environ, start_response)


# --------------------------------------------------------------------------- running

RECORDS = 50
PAGE = 7  # ListRecords and ListIdentifiers: 8 pages of 50 records


def validator_app(make_app: Callable[..., Flask]) -> Flask:
    """oaipress with the example article and 49 more, in sets, paged small."""
    app = make_app(
        OAIPRESS_BASE_URL=None,
        OAIPRESS_LIST_RECORDS_PAGE_SIZE=PAGE,
        OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE=PAGE,
        OAIPRESS_LIST_SETS_PAGE_SIZE=1,
    )
    records = [example_record()] + [
        make_record(i, sets=["cac:ART"] if i % 3 else ["cac"]) for i in range(1, RECORDS)
    ]
    load_records(app, records)
    return app


class Sleeps:
    """Stands in for time.sleep: the validator's waits are counted, never slept."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def run(app, **options) -> tuple[Report, list[tuple[str, str]], Sleeps]:
    sleeps = Sleeps()
    options.setdefault("delay", 0)
    with serve(app) as (url, recorder):
        report = validate_endpoint(url, sleep=sleeps, **options)
    return report, recorder.requests, sleeps


def statuses(report: Report, status: str) -> list[str]:
    return [r.id for r in report.results if r.status == status]
