"""Harvesting a real ``oaipress serve`` (its own SQLite store, gunicorn, loopback) into the
store under test (SQLite, and PostgreSQL when configured).

The source pages ListRecords by 7 (tests/servers.py); it holds 16 records with
journals (JATS needs one), one of them deleted, and sets.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from oai.harvester.client import Client
from oai.harvester.harvest import Harvester, HarvestOptions
from records.models import HarvestedRecord, HarvestSource
from records.queries import load_record, record_to_dict
from records.validate import normalize_record
from tests import servers
from tests.conftest import NS, Clock, make_record

PROV = "http://www.openarchives.org/OAI/2.0/provenance"
JOURNAL = {
    "title": "Journal of Harvest Tests",
    "issn": "0317-8471",
    "eissn": "1050-124X",
    "publisher": "Harvest Press",
}
SOURCE_ID = "oai:harvest.example.org:"
KEY = "harvest.example.org"  # the source's repository identifier: our id prefix


def source_records() -> list[dict[str, Any]]:
    full = make_record(
        1,
        title="A full record: everything the formats carry",
        authors=[
            {
                "family": "Mukimdzhanova",
                "given": "R.",
                "orcid": "0000-0002-1825-0097",
                "affiliation": "Institute of Harvests",
            },
            {"family": "Roe", "given": "Jane"},
        ],
        abstract="The first paragraph.\n\nThe second paragraph.",
        keywords=["harvesting", "provenance"],
        journal=JOURNAL,
        volume="5",
        issue="4",
        pages="61-70",
        published="2004-05-12",
        doi="10.1234/harvest.1",
        files=[
            {
                "url": "https://journal.example.org/article/download/1/9",
                "mime_type": "application/pdf",
                "label": "PDF",
            }
        ],
        references=["First reference, 1997.", "Second reference, 2003."],
        rights={
            "access": "open",
            "license": "https://creativecommons.org/licenses/by-nc/4.0/",
            "statement": "Copyright (c) 2004 R. Mukimdzhanova",
            "holder": "R. Mukimdzhanova",
            "year": 2004,
        },
        type="editorial",
        version="accepted",
        sets=["jht:ED"],
    )
    embargoed = make_record(
        2,
        journal=JOURNAL,
        rights={
            "access": "embargoed",
            "embargo_until": "2099-01-01",
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "statement": "Copyright (c) 2004 Author 2",
        },
        sets=["jht"],
    )
    restricted = make_record(
        3,
        journal=JOURNAL,
        rights={"access": "restricted", "statement": "Copyright (c) 2004 Author 3"},
        sets=["jht"],
    )
    plain = [make_record(i, journal=JOURNAL, sets=["jht"]) for i in range(4, 17)]
    return [full, embargoed, restricted, *plain]


DELETED = "article/16"
LIVE = 15


def _write_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _wait_listed(url: str, expected: int) -> None:
    """Writes are stamped at commit, a second or two ahead: wait until lists show them."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = requests.get(
            url, params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, timeout=5
        )
        if f'completeListSize="{expected}"' in answer.text:
            return
        time.sleep(0.3)
    pytest.fail(f"the source did not list {expected} records in time")


def _start_source(home: Path) -> tuple[dict[str, str], Any]:
    env = servers.environment(f"sqlite:///{home / 'source.sqlite'}")
    servers.run(["import", str(_write_lines(home / "source.jsonl", source_records()))], env, home)
    servers.run(["delete", DELETED], env, home)
    return env, servers.serving(env, home, "source", workers=1)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A source that does not change during the module's tests."""
    home = tmp_path_factory.mktemp("source")
    _env, serving = _start_source(home)
    with serving as url:
        _wait_listed(url, LIVE + 1)
        yield url


def harvester(app, url: str, **options: Any) -> Harvester:
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    checkpoint = options.pop("checkpoint", None)
    return Harvester(
        store,
        renderer,
        Client(url),
        HarvestOptions(**options),
        checkpoint=checkpoint,
        now=Clock(),
    )


def stored_records(app) -> dict[str, dict[str, Any]]:
    from records.queries import iter_records

    with app.extensions["oaipress.store"].session() as session:
        return {r.local_id: record_to_dict(r) for r in iter_records(session)}


def expected(record: dict[str, Any], prefix: str) -> dict[str, Any]:
    """What the source's record becomes here, through ``prefix`` (docs/harvest.md, "lost")."""
    result, _ = normalize_record(copy.deepcopy(record))
    result["id"] = f"{KEY}/{record['id']}"
    result["sets"] = sorted(
        [KEY] + [f"{KEY}:{s}" for s in record["sets"]] + [f"{KEY}:{s}" for s in _computed(record)]
    )
    files = result["files"]
    if prefix in ("jats", "oai_dc"):
        for file in files:
            file["label"] = None
    if prefix == "marcxml":
        result["published"] = result["published"][:4]
        if result["abstract"]:
            result["abstract"] = " ".join(result["abstract"].split())
    if prefix == "oai_dc":
        for author in result["authors"]:
            author["orcid"] = author["affiliation"] = None
        result["references"] = []
        result["rights"].update(license_name=None, holder=None, year=None)
        result.pop("type", None)
    return result


def _computed(record: dict[str, Any]) -> list[str]:
    """The source's own aggregator sets, which arrive as sets under our key."""
    access = record["rights"]["access"]
    if access != "open":
        return []
    return ["driver", "openaire"] if record.get("files") else ["openaire"]


def _content(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("datestamp",)}


@pytest.mark.parametrize("prefix", ["jats", "marcxml", "oai_dc"])
def test_every_record_arrives_mapped_with_its_rights(app, source, prefix):
    report = harvester(app, source, prefix=prefix).run()
    assert report.complete and report.prefix == prefix
    assert report.summary.added == LIVE and report.summary.rejected == 0
    assert report.unknown_deletions == 1  # the source's tombstone: we never had it
    stored = stored_records(app)
    for record in source_records():
        if record["id"] == DELETED:
            assert f"{KEY}/{DELETED}" not in stored
            continue
        got = _content(stored[f"{KEY}/{record['id']}"])
        assert got == expected(record, prefix), record["id"]


def test_the_richest_format_is_chosen_and_kept_for_later_runs(app, source):
    first = harvester(app, source).run()
    assert first.prefix == "jats"
    second = harvester(app, source).run()
    assert second.prefix == "jats" and second.from_ is not None


def test_provenance_in_getrecord_and_listrecords_is_schema_valid(app, oai, source):
    report = harvester(app, source).run()
    record = oai(
        verb="GetRecord",
        metadataPrefix="mods",
        identifier=f"oai:repo.example.org:{KEY}/article/1",
    )
    origin = record.find(f".//oai:about/{{{PROV}}}provenance/{{{PROV}}}originDescription", NS)
    assert origin.get("altered") == "true"
    assert origin.findtext(f"{{{PROV}}}baseURL") == source
    assert origin.findtext(f"{{{PROV}}}identifier") == f"{SOURCE_ID}article/1"
    assert origin.findtext(f"{{{PROV}}}metadataNamespace").endswith("JATS-journalpublishing1.dtd")
    assert origin.get("harvestDate")
    with app.extensions["oaipress.store"].session() as session:
        row = session.scalar(
            select(HarvestedRecord).where(HarvestedRecord.local_id == f"{KEY}/article/1")
        )
    assert origin.findtext(f"{{{PROV}}}datestamp") == row.datestamp
    # The rights statement stays first, provenance is the second <about>.
    abouts = record.findall(".//oai:record/oai:about", NS)
    assert [a[0].tag.rsplit("}", 1)[1] for a in abouts] == ["rights", "provenance"]
    from tests.conftest import harvest

    for prefix in ("oai_dc", "marcxml", "jats"):
        items, _ = harvest(oai, "ListRecords", metadataPrefix=prefix, set=KEY)
        assert len(items) == LIVE
        assert all(len(i.findall("oai:about", NS)) == 2 for i in items)
    assert report.summary.added == LIVE


def test_an_interrupted_harvest_resumes_and_stores_each_record_once(app, source):
    def stop(event: str, page: int) -> None:
        if event == "page-committed" and page == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        harvester(app, source, prefix="oai_dc", checkpoint=stop).run()
    assert len(stored_records(app)) == 7  # page 1 of 7 records, committed
    with app.extensions["oaipress.store"].session() as session:
        state = session.scalars(select(HarvestSource)).one()
        assert state.token and state.last_response_date is None
    report = harvester(app, source, prefix="oai_dc").run()
    assert any("resuming" in note for note in report.notes)
    assert report.pages == 2  # pages 2 and 3 only
    assert (report.summary.added, report.summary.unchanged) == (LIVE - 7, 0)
    assert len(stored_records(app)) == LIVE
    with app.extensions["oaipress.store"].session() as session:
        state = session.scalars(select(HarvestSource)).one()
        assert state.token is None and state.last_response_date is not None


def test_nothing_from_an_uncommitted_page_is_visible(app, oai, source):
    def fail(event: str, page: int) -> None:
        if event == "page-written" and page == 2:
            raise RuntimeError("the harvester died before page 2 committed")

    with pytest.raises(RuntimeError):
        harvester(app, source, prefix="oai_dc", checkpoint=fail).run()
    stored = stored_records(app)
    assert len(stored) == 7
    page_two = f"{KEY}/article/9"  # the 9th record of the list (datestamp order = id order)
    assert page_two not in stored
    code, _ = oai.error(
        verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:repo.example.org:{page_two}"
    )
    assert code == "idDoesNotExist"
    with app.extensions["oaipress.store"].session() as session:
        assert (
            session.scalar(select(HarvestedRecord).where(HarvestedRecord.local_id == page_two))
            is None
        )
    report = harvester(app, source, prefix="oai_dc").run()
    assert report.complete and len(stored_records(app)) == LIVE


def test_a_refused_token_starts_the_list_again_and_says_so(app, source):
    def stop(event: str, page: int) -> None:
        if event == "page-committed" and page == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        harvester(app, source, prefix="oai_dc", checkpoint=stop).run()
    with app.extensions["oaipress.store"].transaction() as session:
        session.execute(update(HarvestSource).values(token="expired-or-forged"))
    report = harvester(app, source, prefix="oai_dc").run()
    assert any("refused the resumption token" in note for note in report.notes)
    assert report.complete and report.pages == 3
    assert (report.summary.added, report.summary.unchanged) == (LIVE - 7, 7)


def test_incremental_harvest_fetches_only_what_changed_including_a_deletion(app, oai, tmp_path):
    env, serving = _start_source(tmp_path)
    with serving as url:
        _wait_listed(url, LIVE + 1)
        first = harvester(app, url, prefix="marcxml").run()
        assert first.summary.added == LIVE
        changed = make_record(5, title="A corrected title", journal=JOURNAL, sets=["jht"])
        servers.run(
            ["import", str(_write_lines(tmp_path / "change.jsonl", [changed]))], env, tmp_path
        )
        servers.run(["delete", "article/6"], env, tmp_path)
        with app.extensions["oaipress.store"].session() as session:
            since = session.scalars(select(HarvestSource)).one().last_response_date
        _wait_until_changes_are_listed(url, since)
        second = harvester(app, url, prefix="marcxml").run()
    assert first.from_ is None and second.from_ == since  # the source has second granularity
    s = second.summary
    assert (s.added, s.updated, s.deleted, s.unchanged, s.rejected) == (0, 1, 1, 0, 0)
    stored = stored_records(app)
    assert stored[f"{KEY}/article/5"]["title"] == "A corrected title"
    assert stored[f"{KEY}/article/6"]["deleted"] is True
    root = oai(
        verb="GetRecord",
        metadataPrefix="oai_dc",
        identifier=f"oai:repo.example.org:{KEY}/article/6",
    )
    assert root.find(".//oai:header", NS).get("status") == "deleted"


def _wait_until_changes_are_listed(url: str, since: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = requests.get(
            url,
            params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": since},
            timeout=5,
        )
        if answer.text.count("<header") >= 2 and "noRecordsMatch" not in answer.text:
            return
        time.sleep(0.3)
    pytest.fail("the source's changes did not show in its lists")


def test_with_origin_rows_are_kept_only_for_written_records(app, source):
    harvester(app, source, prefix="oai_dc").run()
    with app.extensions["oaipress.store"].session() as session:
        before = {r.local_id: r.about_xml for r in session.scalars(select(HarvestedRecord))}
    again = harvester(app, source, prefix="oai_dc", full=True).run()
    assert again.summary.unchanged == LIVE
    with app.extensions["oaipress.store"].session() as session:
        after = {r.local_id: r.about_xml for r in session.scalars(select(HarvestedRecord))}
        record = load_record(session, f"{KEY}/article/4")
    # Unchanged records keep the provenance of the harvest that wrote them.
    assert after == before and record is not None
