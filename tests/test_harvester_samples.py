"""Harvesting other systems' recorded responses (tests/samples), served by a tiny WSGI app.

Each sample is served as the one page of a ListRecords list (a GetRecord sample's
``<record>`` is moved into a ListRecords envelope); Identify and ListMetadataFormats are
made up around it. Also here: the client's retries, 503 Retry-After and gzip.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from lxml import etree

from oai.harvester.client import Client, HarvestFailed, OAIError
from oai.harvester.harvest import Harvester, HarvestOptions, PageRejected
from records.queries import record_to_dict
from tests.conftest import NS, Clock, OAIClient

SAMPLES = Path(__file__).resolve().parent / "samples"
OAI = "http://www.openarchives.org/OAI/2.0/"
PROV = "http://www.openarchives.org/OAI/2.0/provenance"
MARC_NS = "http://www.loc.gov/MARC21/slim"
DC_FORMAT = ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/")

Handler = Callable[[dict[str, list[str]], dict[str, Any]], tuple[str, list[tuple[str, str]], bytes]]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@contextmanager
def wsgi_source(handler: Handler) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port in a thread; yields the base URL."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, headers, body = handler(parse_qs(environ.get("QUERY_STRING", "")), environ)
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/oai"
    finally:
        server.shutdown()
        server.server_close()


def envelope(body: str, response_date: str = "2013-02-27T09:10:56Z") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<OAI-PMH xmlns="{OAI}"><responseDate>{response_date}</responseDate>'
        f"<request>http://sample.example.org/oai</request>{body}</OAI-PMH>"
    ).encode()


def identify(granularity: str = "YYYY-MM-DDThh:mm:ssZ") -> bytes:
    return envelope(
        "<Identify><repositoryName>Sample</repositoryName>"
        "<baseURL>http://sample.example.org/oai</baseURL><protocolVersion>2.0</protocolVersion>"
        "<adminEmail>a@example.org</adminEmail><earliestDatestamp>2000-01-01</earliestDatestamp>"
        f"<deletedRecord>persistent</deletedRecord><granularity>{granularity}</granularity>"
        "</Identify>"
    )


def formats(*entries: tuple[str, str]) -> bytes:
    return envelope(
        "<ListMetadataFormats>"
        + "".join(
            f"<metadataFormat><metadataPrefix>{p}</metadataPrefix><schema>http://x/{p}.xsd</schema>"
            f"<metadataNamespace>{n}</metadataNamespace></metadataFormat>"
            for p, n in entries
        )
        + "</ListMetadataFormats>"
    )


def as_list_records(sample: str) -> bytes:
    """The sample's records, as one complete ListRecords page."""
    root = etree.parse(str(SAMPLES / sample)).getroot()
    date = root.findtext(f"{{{OAI}}}responseDate")
    records = root.findall(f".//{{{OAI}}}record")
    body = "".join(etree.tostring(r, encoding="unicode") for r in records)
    return envelope(f"<ListRecords>{body}</ListRecords>", date or "2002-01-01T00:00:00Z")


def sample_handler(sample: str, *entries: tuple[str, str], granularity: str = "YYYY-MM-DD"):
    pages = {
        "Identify": identify(granularity),
        "ListMetadataFormats": formats(*entries),
        "ListRecords": as_list_records(sample),
    }

    def handle(query: dict[str, list[str]], _environ: dict[str, Any]):
        body = pages[query["verb"][0]]
        return "200 OK", [("Content-Type", "text/xml; charset=utf-8")], body

    return handle


def harvest_into(app, url: str, **options: Any) -> Any:
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    harvester = Harvester(store, renderer, Client(url), HarvestOptions(**options), now=Clock())
    return harvester.run()


def stored(app, local_id: str) -> dict[str, Any] | None:
    from records.queries import load_record

    with app.extensions["oaipress.store"].session() as session:
        record = load_record(session, local_id)
        return record_to_dict(record) if record is not None else None


def test_sickle_listrecords_reports_the_broken_header_and_the_record_without_access(app):
    with wsgi_source(sample_handler("sickle_ListRecords4.xml", DC_FORMAT)) as url:
        with pytest.raises(PageRejected) as rejected:
            harvest_into(app, url, id_prefix="sickle")
    problems = [str(p) for p in rejected.value.report.problems]
    assert problems[0] == (
        "(record 1 of page 1): header.identifier: the record's header has no identifier"
    )
    assert problems[1].startswith("oai:test.example.com:1585322: rights.access: ")
    assert stored(app, "sickle/oai:test.example.com:1585322") is None  # the page was not stored


def test_sickle_listrecords_with_skip_invalid_and_assumed_access_maps_the_good_record(app, oai):
    with wsgi_source(sample_handler("sickle_ListRecords4.xml", DC_FORMAT)) as url:
        report = harvest_into(
            app, url, id_prefix="sickle", skip_invalid=True, assume_access="closed"
        )
    assert report.summary.added == 1 and report.summary.rejected == 1
    record = stored(app, "sickle/oai:test.example.com:1585322")
    assert record["title"] == "Sample Title"
    assert (
        record["authors"]
        == [{"family": "John Doe", "given": None, "orcid": None, "affiliation": None}] * 4
    )
    assert record["language"] == "en"
    assert record["published"] == "2010"
    assert record["url"] == "http://test.example.com/publication/1585322"
    assert record["journal"]["title"] == "Sample Source"
    assert record["journal"]["publisher"] == "Sample Publisher"
    assert record["rights"]["access"] == "closed"
    root = oai(
        verb="GetRecord",
        metadataPrefix="oai_dc",
        identifier="oai:repo.example.org:sickle/oai:test.example.com:1585322",
    )
    origin = root.find(f".//{{{PROV}}}originDescription")
    assert origin.get("harvestDate") == "2013-02-27T09:10:56Z"
    assert origin.findtext(f"{{{PROV}}}datestamp") == "2011-01-10T10:19:23Z"


def test_spec_example_keeps_its_provenance_chain_nested_in_ours(app, oai):
    with wsgi_source(sample_handler("oai-spec_ex-sec2.5_ListRecords.xml", DC_FORMAT)) as url:
        report = harvest_into(app, url, id_prefix="arxiv", assume_access="open")
        assert report.summary.added == 1
        root = oai(
            verb="GetRecord",
            metadataPrefix="oai_dc",
            identifier="oai:repo.example.org:arxiv/oai:arXiv:cs/0112017",
        )
    ours = root.find(f".//{{{PROV}}}provenance/{{{PROV}}}originDescription")
    assert ours.findtext(f"{{{PROV}}}baseURL") == url
    assert ours.findtext(f"{{{PROV}}}identifier") == "oai:arXiv:cs/0112017"
    assert ours.findtext(f"{{{PROV}}}datestamp") == "2002-02-28"  # day granularity kept
    assert ours.get("harvestDate") == "2002-06-01T19:20:30Z"
    assert ours.get("altered") == "true"
    earlier = ours.find(f"{{{PROV}}}originDescription")
    assert earlier.findtext(f"{{{PROV}}}baseURL") == "http://the.oa.org"
    assert earlier.get("harvestDate") == "2002-02-02T14:10:02Z"
    record = stored(app, "arxiv/oai:arXiv:cs/0112017")
    assert record["title"].startswith("Using Structural Metadata to Localize")
    assert record["authors"][0] == {
        "family": "Dushay",
        "given": "Naomi",
        "orcid": None,
        "affiliation": None,
    }
    assert record["published"] == "2001-12-14"
    assert record["keywords"] == ["Digital Libraries"]
    assert "Comment: 23 pages" in record["abstract"]
    assert record["sets"] == ["arxiv", "arxiv:cs", "arxiv:math"]


def test_rights_example_without_a_url_is_reported_but_its_cc_licence_counts_as_open(app):
    with wsgi_source(sample_handler("oai-spec_rights-ex-secA1_GetRecord.xml", DC_FORMAT)) as url:
        with pytest.raises(PageRejected) as rejected:
            harvest_into(app, url, id_prefix="elephants")
    # Only the landing page is missing: the CC licence stood in for the access right.
    assert [str(p) for p in rejected.value.report.problems] == [
        "oai:an.oa.org:zxy123: url: the record gives no http(s) URL for the article"
    ]


def test_loc_marc21_record_maps_from_marcxml(app, oai):
    handler = sample_handler("oai-site_loc-marc21_GetRecord.xml", ("marc21", MARC_NS), DC_FORMAT)
    with wsgi_source(handler) as url:
        report = harvest_into(app, url, id_prefix="loc", assume_access="open")
    assert report.prefix == "marc21"  # MARCXML is richer than oai_dc
    record = stored(app, "loc/oai:lcoa1.loc.gov:loc.gmd/g3914c.cw0369000")
    assert record["title"] == "E. & G. W. Blunt's map of Charleston and vicinity."  # as catalogued
    assert record["authors"][0]["family"] == "E. & G.W. Blunt (Firm)."
    assert record["published"] == "1862"
    assert record["language"] == "en"
    assert record["url"] == "http://hdl.loc.gov/loc.gmd/g3914c.cw0369000"
    assert "Charleston Region (S.C.)" in record["keywords"]
    harvest = oai(verb="ListRecords", metadataPrefix="marcxml", set="loc")
    assert len(harvest.findall(".//oai:record", NS)) == 1


def test_loc_marc21_without_an_access_right_is_reported_by_identifier(app):
    handler = sample_handler("oai-site_loc-marc21_GetRecord.xml", ("marc21", MARC_NS))
    with wsgi_source(handler) as url, pytest.raises(PageRejected) as rejected:
        harvest_into(app, url, id_prefix="loc")
    [problem] = rejected.value.report.problems
    assert problem.identifier == "oai:lcoa1.loc.gov:loc.gmd/g3914c.cw0369000"
    assert problem.field == "rights.access"


def test_a_source_offering_no_readable_format_is_refused(app):
    handler = sample_handler("sickle_GetRecord.xml", ("mods", "http://www.loc.gov/mods/v3"))
    with wsgi_source(handler) as url, pytest.raises(Exception, match="no format oaipress can"):
        harvest_into(app, url)


# --- the client ----------------------------------------------------------------------------


def test_client_waits_out_503_retry_after_and_reads_gzip():
    calls: list[str] = []

    def handle(query: dict[str, list[str]], environ: dict[str, Any]):
        calls.append(environ.get("HTTP_ACCEPT_ENCODING", ""))
        if len(calls) == 1:
            return "503 Service Unavailable", [("Retry-After", "7")], b"busy"
        return (
            "200 OK",
            [("Content-Type", "text/xml"), ("Content-Encoding", "gzip")],
            gzip.compress(identify()),
        )

    waits: list[float] = []
    with wsgi_source(handle) as url:
        response = Client(url, sleep=waits.append).request("Identify")
    assert waits == [7.0]
    assert response.response_date == "2013-02-27T09:10:56Z"
    assert all("gzip" in c for c in calls)


def test_client_gives_up_after_bounded_attempts():
    def handle(_query, _environ):
        return "500 Internal Server Error", [], b"broken"

    waits: list[float] = []
    with wsgi_source(handle) as url, pytest.raises(HarvestFailed, match="after 5 attempts"):
        Client(url, sleep=waits.append).request("Identify")
    assert len(waits) == 4


def test_client_refuses_a_retry_after_too_long_and_reports_oai_errors():
    def handle(query, _environ):
        if query["verb"][0] == "Identify":
            return "503 Service Unavailable", [("Retry-After", "86400")], b""
        body = envelope('<error code="badVerb">no such verb</error>')
        return "200 OK", [("Content-Type", "text/xml")], body

    with wsgi_source(handle) as url:
        with pytest.raises(HarvestFailed, match="come back in 86400 s"):
            Client(url, sleep=lambda _s: None).request("Identify")
        with pytest.raises(OAIError) as error:
            Client(url).request("ListSets")
    assert error.value.code == "badVerb"


def test_not_oai_pmh_is_a_clear_failure():
    def handle(_query, _environ):
        return "200 OK", [("Content-Type", "text/html")], b"<html><body>hi</body></html>"

    with wsgi_source(handle) as url, pytest.raises(HarvestFailed, match="not OAI-PMH"):
        Client(url).request("Identify")


def test_provenance_responses_validate(app, oai):
    """Every response the tests above read went through the schemas (OAIClient); here the
    ListRecords of a harvested set, provenance included, once more in full."""
    with wsgi_source(sample_handler("oai-spec_ex-sec2.5_ListRecords.xml", DC_FORMAT)) as url:
        harvest_into(app, url, id_prefix="arxiv", assume_access="open")
    root = oai(verb="ListRecords", metadataPrefix="oai_dc", set="arxiv")
    abouts = root.findall(".//oai:record/oai:about", NS)
    assert len(abouts) == 2  # rights, then provenance
    assert re.search(rb"provenance", etree.tostring(abouts[1]))
    assert isinstance(oai, OAIClient)


# --- the command ---------------------------------------------------------------------------


def _oaipress(args: list[str], database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    from tests import servers

    env = servers.environment(database_url)
    return subprocess.run(
        servers.oaipress_command() + args,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_reports_unmappable_records_like_import_and_exits_1(database_url, tmp_path):
    with wsgi_source(sample_handler("sickle_ListRecords4.xml", DC_FORMAT)) as url:
        done = _oaipress(["harvest", "--id-prefix", "sickle", url], database_url, tmp_path)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == (
        f"{url}: (record 1 of page 1): header.identifier: the record's header has no identifier"
    )
    assert lines[1].startswith(f"{url}: oai:test.example.com:1585322: rights.access: ")
    assert "page 1 of" in lines[-1] and "it was not stored" in lines[-1]


def test_command_with_skip_invalid_stores_the_rest_and_resumes_nothing(database_url, tmp_path):
    with wsgi_source(sample_handler("sickle_ListRecords4.xml", DC_FORMAT)) as url:
        args = ["harvest", "--skip-invalid", "--assume-access", "closed", url]
        done = _oaipress(args, database_url, tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"{url}: skipped (record 1 of page 1): header.identifier:" in done.stderr
        assert done.stderr.splitlines()[-1] == (
            f"{url}: 1 added, 0 updated, 0 unchanged, 0 deleted, 1 rejected "
            "(oai_dc, everything, 1 page(s))"
        )
        again = _oaipress(args, database_url, tmp_path)
    assert again.returncode == 0, again.stderr
    # The sample ignores `from`: the same record comes back, unchanged.
    assert "0 added, 0 updated, 1 unchanged" in again.stderr
    assert "from 2013-02-27" in again.stderr  # the first harvest's responseDate, day granularity


def test_command_refuses_bad_arguments_with_a_message(database_url, tmp_path):
    done = _oaipress(["harvest", "ftp://example.org/oai"], database_url, tmp_path)
    assert done.returncode == 2 and "OAI-PMH base URL" in done.stderr
    done = _oaipress(["harvest", "--from", "yesterday", "http://x.org/oai"], database_url, tmp_path)
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr
    assert "Traceback" not in done.stderr
