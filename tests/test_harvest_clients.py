"""End to end: the real server (``oaipress serve``: gunicorn, two workers) harvested by real
OAI-PMH clients, Sickle and oaipmh-scythe, which must agree with each other and with the store.

The store, a SQLite file and (when OAIPRESS_TEST_DATABASE_URL is set) the PostgreSQL
database, is filled with ``oaipress import --keep-datestamps`` (past datestamps: List
responses leave out the current second, so freshly stamped records could be missed).
Page sizes are small so that every list needs several resumption tokens, which the two
workers must both honour.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from oaipmh_scythe import Scythe
from oaipmh_scythe.config import HTTPConfig
from sickle import Sickle

from oai.store import Store
from records.db import drop_schema, make_engine
from records.models import OAISet
from records.queries import iter_records
from records.validate import format_datestamp
from tests.conftest import BACKENDS, PG_URL, example_record, make_record
from tests.servers import RECORDS_PAGE, REPOSITORY, environment, run, serving

REQUEST_TIMEOUT = 30
START = datetime(2021, 1, 1, 8, 0, 0)
SETS = {
    "journal-a": "Journal A",
    "journal-a:ART": "Journal A: articles",
    "journal-a:REV": "Journal A: reviews",
    "journal-b": "Journal B",
}


@dataclass(frozen=True)
class Stored:
    """What the store says a harvester should see for one record."""

    identifier: str
    datestamp: str
    deleted: bool
    title: str | None
    sets: tuple[str, ...]


@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str
    log: Path
    records: dict[str, Stored]
    sets: dict[str, str]


def corpus() -> list[dict[str, Any]]:
    """~40 lines: the example article, a mix of flat and hierarchical sets, a few deletions.

    Datestamps are one per ~day, with a few records sharing a second, so date windows
    and the (datestamp, id) keyset order are both exercised.
    """
    choices = [[], ["journal-a:ART"], ["journal-a:REV"], ["journal-b"], ["journal-a:ART", "x"]]
    lines: list[dict[str, Any]] = [
        dict(example_record(), datestamp=format_datestamp(START - timedelta(days=30)))
    ]
    for i in range(36):
        when = START + timedelta(days=i // 2 * 2, hours=i % 2)
        if i % 9 == 0:
            when = START + timedelta(days=10)  # several records in one second
        lines.append(
            make_record(i, datestamp=format_datestamp(when), sets=choices[i % len(choices)])
        )
    for i, sets in ((3, None), (8, ["journal-b"]), (21, [])):
        line: dict[str, Any] = {
            "id": f"article/{i}",
            "deleted": True,
            "datestamp": format_datestamp(START + timedelta(days=50 + i)),
        }
        if sets is not None:
            line["sets"] = sets
        lines.append(line)
    lines.append(
        {
            "id": "withdrawn/1",
            "deleted": True,
            "sets": ["journal-a"],
            "datestamp": format_datestamp(START + timedelta(days=5)),
        }
    )
    return lines


def _read_store(database_url: str) -> tuple[dict[str, Stored], dict[str, str]]:
    store = Store(database_url)
    try:
        with store.session() as session:
            records = {}
            for record in iter_records(session):
                identifier = f"oai:{REPOSITORY}:{record.local_id}"
                records[identifier] = Stored(
                    identifier=identifier,
                    datestamp=format_datestamp(record.datestamp),
                    deleted=record.deleted,
                    title=record.title,
                    sets=tuple(sorted(m.set_spec for m in record.memberships if m.direct)),
                )
            sets = {s.spec: s.name for s in session.query(OAISet)}
    finally:
        store.dispose()
    return records, sets


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("harvest")
    if request.param == "sqlite":
        database_url = f"sqlite:///{home / 'store.sqlite'}"
    else:
        assert PG_URL
        database_url = PG_URL
        engine = make_engine(database_url)
        drop_schema(engine)
        engine.dispose()
    env = environment(database_url)
    # An id appears once per file: the deletions of stored records are a second import.
    lines = corpus()
    later = [r for r in lines if r.get("deleted") and r["id"].startswith("article/")]
    first = [r for r in lines if r not in later]
    for name, part in (("corpus.jsonl", first), ("deletions.jsonl", later)):
        data = home / name
        data.write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
        run(["import", "--keep-datestamps", str(data)], env, home)
    for spec, name in SETS.items():
        run(["set", spec, name, "--description", f"All of {name}"], env, home)
    records, sets = _read_store(database_url)

    with serving(env, home, "serve") as base_url:
        yield Server(base_url, database_url, home / "serve.log", records, sets)


@pytest.fixture(scope="module")
def sickle(server: Server) -> Sickle:
    return Sickle(server.base_url, max_retries=2, default_retry_after=1, timeout=REQUEST_TIMEOUT)


@pytest.fixture(scope="module")
def scythe(server: Server) -> Iterator[Scythe]:
    with Scythe(server.base_url, http_config=HTTPConfig(timeout=REQUEST_TIMEOUT)) as client:
        yield client


# --- what each client saw, in one shape ---------------------------------------------------


def _title(metadata: dict[str, list[str]] | None) -> str | None:
    titles = (metadata or {}).get("title") or [None]
    return titles[0]


def from_headers(headers: list[Any]) -> dict[str, Stored]:
    seen: dict[str, Stored] = {}
    for h in headers:
        assert h.identifier not in seen, f"{h.identifier} harvested twice"
        seen[h.identifier] = Stored(
            h.identifier, h.datestamp, h.deleted, None, tuple(sorted(h.setSpecs))
        )
    return seen


def from_records(records: list[Any]) -> dict[str, Stored]:
    seen: dict[str, Stored] = {}
    for r in records:
        h = r.header
        assert h.identifier not in seen, f"{h.identifier} harvested twice"
        metadata = None if r.deleted else r.metadata
        seen[h.identifier] = Stored(
            h.identifier, h.datestamp, h.deleted, _title(metadata), tuple(sorted(h.setSpecs))
        )
    return seen


def without_titles(records: dict[str, Stored]) -> dict[str, Stored]:
    return {
        k: Stored(v.identifier, v.datestamp, v.deleted, None, v.sets) for k, v in records.items()
    }


def in_set(spec: str, record: Stored) -> bool:
    return any(s == spec or s.startswith(spec + ":") for s in record.sets)


def in_window(record: Stored, from_: str, until: str) -> bool:
    return from_ <= record.datestamp <= until


# --- the harvests -------------------------------------------------------------------------


def test_the_corpus_is_what_the_harvests_are_checked_against(server):
    assert len(server.records) == 38
    assert sum(r.deleted for r in server.records.values()) == 4
    assert len(server.records) > 5 * RECORDS_PAGE  # several pages every time
    assert set(server.sets) >= set(SETS) | {"x"}


def test_list_records_everything(server, sickle, scythe):
    by_sickle = from_records(list(sickle.ListRecords(metadataPrefix="oai_dc")))
    by_scythe = from_records(list(scythe.list_records(metadata_prefix="oai_dc")))
    assert by_sickle == by_scythe == server.records
    article = by_sickle[f"oai:{REPOSITORY}:article/587"]
    assert article.title == example_record()["title"]
    assert by_sickle[f"oai:{REPOSITORY}:article/3"].deleted
    assert by_sickle[f"oai:{REPOSITORY}:article/3"].title is None


def test_list_records_keeps_the_metadata_both_clients_read(server, sickle, scythe):
    sickled = {
        r.header.identifier: r.metadata
        for r in sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True)
    }
    scythed = {
        r.header.identifier: r.metadata
        for r in scythe.list_records(metadata_prefix="oai_dc", ignore_deleted=True)
    }
    assert sickled == scythed
    assert len(sickled) == 34
    rights = sickled[f"oai:{REPOSITORY}:article/587"]["rights"]
    assert rights == [
        "info:eu-repo/semantics/openAccess",
        "Copyright (c) 2004 Author",
        "https://creativecommons.org/licenses/by/4.0/",
    ]


def test_list_identifiers_everything(server, sickle, scythe):
    by_sickle = from_headers(list(sickle.ListIdentifiers(metadataPrefix="oai_dc")))
    by_scythe = from_headers(list(scythe.list_identifiers(metadata_prefix="oai_dc")))
    assert by_sickle == by_scythe == without_titles(server.records)


@pytest.mark.parametrize("spec", ["journal-a", "journal-a:ART", "journal-b", "x"])
def test_selective_harvest_by_set(server, sickle, scythe, spec):
    expected = {k: v for k, v in server.records.items() if in_set(spec, v)}
    assert expected
    by_sickle = from_records(list(sickle.ListRecords(metadataPrefix="oai_dc", set=spec)))
    by_scythe = from_records(list(scythe.list_records(metadata_prefix="oai_dc", set_=spec)))
    assert by_sickle == by_scythe == expected
    headers_sickle = from_headers(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set=spec)))
    headers_scythe = from_headers(
        list(scythe.list_identifiers(metadata_prefix="oai_dc", set_=spec))
    )
    assert headers_sickle == headers_scythe == without_titles(expected)


@pytest.mark.parametrize(
    ("from_", "until", "low", "high"),
    [
        ("2021-01-05", "2021-01-20", "2021-01-05T00:00:00Z", "2021-01-20T23:59:59Z"),
        (
            "2021-01-11T08:00:00Z",
            "2021-01-11T08:00:00Z",
            "2021-01-11T08:00:00Z",
            "2021-01-11T08:00:00Z",
        ),
        ("2021-02-01", None, "2021-02-01T00:00:00Z", "9999"),
        (None, "2021-01-02", "0000", "2021-01-02T23:59:59Z"),
    ],
)
def test_selective_harvest_by_date(server, sickle, scythe, from_, until, low, high):
    expected = {k: v for k, v in server.records.items() if in_window(v, low, high)}
    assert 1 < len(expected) < len(server.records)
    params = {k: v for k, v in (("from", from_), ("until", until)) if v}
    by_sickle = from_records(list(sickle.ListRecords(metadataPrefix="oai_dc", **params)))
    by_scythe = from_records(
        list(scythe.list_records(metadata_prefix="oai_dc", from_=from_, until=until))
    )
    assert by_sickle == by_scythe == expected
    by_sickle = from_headers(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **params)))
    by_scythe = from_headers(
        list(scythe.list_identifiers(metadata_prefix="oai_dc", from_=from_, until=until))
    )
    assert by_sickle == by_scythe == without_titles(expected)


def test_selective_harvest_by_set_and_date(server, sickle, scythe):
    expected = {
        k: v
        for k, v in server.records.items()
        if in_set("journal-a", v) and in_window(v, "2021-01-05", "2021-01-25T23:59:59Z")
    }
    assert expected
    params = {"metadataPrefix": "oai_dc", "set": "journal-a", "from": "2021-01-05"}
    by_sickle = from_headers(list(sickle.ListIdentifiers(until="2021-01-25", **params)))
    by_scythe = from_headers(
        list(
            scythe.list_identifiers(
                metadata_prefix="oai_dc", set_="journal-a", from_="2021-01-05", until="2021-01-25"
            )
        )
    )
    assert by_sickle == by_scythe == without_titles(expected)


def test_list_sets(server, sickle, scythe):
    by_sickle = {s.setSpec: s.setName for s in sickle.ListSets()}
    by_scythe = {s.setSpec: s.setName for s in scythe.list_sets()}
    assert by_sickle == by_scythe == server.sets
    assert by_sickle["journal-a:ART"] == "Journal A: articles"


def test_get_record(server, sickle, scythe):
    for local_id in ("article/587", "article/1", "article/3", "withdrawn/1"):
        identifier = f"oai:{REPOSITORY}:{local_id}"
        by_sickle = sickle.GetRecord(identifier=identifier, metadataPrefix="oai_dc")
        by_scythe = scythe.get_record(identifier=identifier, metadata_prefix="oai_dc")
        assert from_records([by_sickle]) == from_records([by_scythe])
        assert from_records([by_sickle])[identifier] == server.records[identifier]


def test_identify(server, sickle, scythe):
    by_sickle = sickle.Identify()
    by_scythe = scythe.identify()
    earliest = min(r.datestamp for r in server.records.values())
    for identify in (by_sickle, by_scythe):
        assert identify.repositoryName == "Harvest test repository"
        assert identify.baseURL == server.base_url
        assert identify.protocolVersion == "2.0"
        assert identify.earliestDatestamp == earliest
        assert identify.deletedRecord == "persistent"
        assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"


def test_errors_reach_the_clients_as_their_exceptions(server, sickle, scythe):
    from oaipmh_scythe import exceptions as scythe_errors
    from sickle import oaiexceptions as sickle_errors

    with pytest.raises(sickle_errors.IdDoesNotExist):
        sickle.GetRecord(identifier=f"oai:{REPOSITORY}:nope", metadataPrefix="oai_dc")
    with pytest.raises(scythe_errors.IdDoesNotExist):
        scythe.get_record(identifier=f"oai:{REPOSITORY}:nope", metadata_prefix="oai_dc")
    with pytest.raises(sickle_errors.NoRecordsMatch):
        list(sickle.ListRecords(metadataPrefix="oai_dc", set="journal-b", until="2000-01-01"))
    with pytest.raises(scythe_errors.NoRecordsMatch):
        list(scythe.list_records(metadata_prefix="oai_dc", set_="journal-b", until="2000-01-01"))


def test_both_clients_ask_for_and_read_gzip(server, sickle, scythe):
    by_sickle = sickle.harvest(verb="ListRecords", metadataPrefix="oai_dc")
    by_scythe = scythe.harvest({"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    for response in (by_sickle.http_response, by_scythe.http_response):
        assert "gzip" in response.request.headers["Accept-Encoding"]
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    ns = "{http://www.openarchives.org/OAI/2.0/}"
    for response in (by_sickle, by_scythe):
        assert len(response.xml.findall(f".//{ns}record")) == RECORDS_PAGE
    token = by_sickle.xml.find(f".//{ns}resumptionToken")
    assert token.get("completeListSize") == str(len(server.records))


def test_pyoai(server):
    """pyoai (the ``oaipmh`` package) calls ``XPathEvaluator.evaluate``, which lxml 5 removed
    (lxml 5.0 changelog); against lxml >= 5 it fails on its first request. It is skipped
    then, not patched; should a release fix it, it must agree with the store like the others.
    """
    client_module = pytest.importorskip("oaipmh.client")
    metadata = pytest.importorskip("oaipmh.metadata")
    registry = metadata.MetadataRegistry()
    registry.registerReader("oai_dc", metadata.oai_dc_reader)
    client = client_module.Client(server.base_url, registry)
    try:
        identify = client.identify()
    except AttributeError as exc:
        if "evaluate" not in str(exc):
            raise
        pytest.skip(f"pyoai cannot parse with this lxml: {exc}")
    assert identify.repositoryName() == "Harvest test repository"
    seen = {
        header.identifier(): (header.isDeleted(), format_datestamp(header.datestamp()))
        for header, _, _ in client.listRecords(metadataPrefix="oai_dc")
    }
    assert seen == {k: (v.deleted, v.datestamp) for k, v in server.records.items()}
