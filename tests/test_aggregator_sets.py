"""The driver and openaire sets (§2.6, DRIVER 2.0, OpenAIRE v3) and per-item formats (§4.4).

Aggregator sets are computed from each record as it is written (records.aggregator_sets)
and kept current: when an embargo ends, `lift-embargoes` puts the record into them under
the datestamp that opens it, so an incremental set harvest sees it arrive.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import delete, select

import records.aggregator_sets as aggregator_sets
from records.embargo import lift_embargoes
from records.models import Record, Rendition
from tests.conftest import NS, T0, Clock, harvest, identifiers, make_record

FILES = [
    {"url": "https://journal.example.org/article/download/1/1", "mime_type": "application/pdf"}
]
EMBARGOED = {
    "access": "embargoed",
    "embargo_until": "2021-06-01",
    "license": "https://creativecommons.org/licenses/by/4.0/",
}


def oai_id(i: int) -> str:
    return f"oai:repo.example.org:article/{i}"


@pytest.fixture
def on_day(monkeypatch):
    """Move the day embargoes are judged by."""

    def move(day: date) -> None:
        monkeypatch.setattr(aggregator_sets, "today", lambda: day)

    return move


def set_harvest(oai, spec: str, **params: str) -> list[str]:
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec, **params)
    error = root.find("oai:error", NS)
    if error is not None:
        assert error.get("code") == "noRecordsMatch"
        return []
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=spec, **params)
    return sorted(identifiers(items))


def test_driver_holds_open_access_with_full_text_and_openaire_all_open_access(app, oai, load):
    """DRIVER: open access and a full-text URL; never embargoed, restricted or closed."""
    load(
        [
            make_record(1, files=FILES),  # open, full text
            make_record(2),  # open, landing page only
            make_record(3, files=FILES, rights={"access": "restricted"}),
            make_record(4, files=FILES, rights={"access": "closed"}),
            make_record(5, files=FILES, rights={**EMBARGOED, "embargo_until": "2999-01-01"}),
        ]
    )
    assert set_harvest(oai, "driver") == [oai_id(1)]
    assert set_harvest(oai, "openaire") == [oai_id(1), oai_id(2)]
    sets = {
        s.findtext("oai:setSpec", namespaces=NS): s.findtext("oai:setName", namespaces=NS)
        for s in oai(verb="ListSets").iterfind(".//oai:set", NS)
    }
    assert sets == {"driver": "Open Access DRIVERset", "openaire": "OpenAIRE"}
    header = oai(verb="GetRecord", identifier=oai_id(1), metadataPrefix="oai_dc").find(
        ".//oai:header", NS
    )
    assert [s.text for s in header.findall("oai:setSpec", NS)] == ["driver", "openaire"]


def test_an_ended_embargo_joins_driver_under_the_datestamp_that_opens_it(app, oai, load, on_day):
    on_day(date(2021, 5, 1))
    load([make_record(1, files=FILES, rights=EMBARGOED, sets=["cac"])], now=Clock(T0))
    assert set_harvest(oai, "driver") == []
    assert set_harvest(oai, "openaire") == []

    on_day(date(2021, 6, 2))
    opened = datetime(2021, 6, 2, 3, 0, 0)
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        lifted = lift_embargoes(
            session, app.extensions["oaipress.renderer"], date(2021, 6, 2), now=lambda: opened
        )
    assert lifted == ["article/1"]
    # An incremental harvest of the set from before the opening sees the record arrive.
    assert set_harvest(oai, "driver", from_="2021-06-02T00:00:00Z") == [oai_id(1)]
    assert set_harvest(oai, "openaire", from_="2021-06-02T00:00:00Z") == [oai_id(1)]
    record = oai(verb="GetRecord", identifier=oai_id(1), metadataPrefix="oai_dc")
    header = record.find(".//oai:header", NS)
    assert header.findtext("oai:datestamp", namespaces=NS) == "2021-06-02T03:00:00Z"
    assert [s.text for s in header.findall("oai:setSpec", NS)] == ["cac", "driver", "openaire"]
    assert "info:eu-repo/semantics/openAccess" in record.xpath("//dc:rights/text()", namespaces=NS)


def test_a_record_that_closes_leaves_the_sets_under_its_new_datestamp(app, oai, load):
    load([make_record(1, files=FILES)], now=Clock(T0))
    load(
        [make_record(1, files=FILES, rights={"access": "closed"})], now=Clock(datetime(2021, 1, 1))
    )
    assert set_harvest(oai, "driver") == []
    header = oai(verb="GetRecord", identifier=oai_id(1), metadataPrefix="oai_dc").find(
        ".//oai:header", NS
    )
    assert header.findall("oai:setSpec", NS) == []
    assert header.findtext("oai:datestamp", namespaces=NS) == "2021-01-01T00:00:00Z"


def test_export_never_names_the_computed_sets(app, load):
    from records.queries import iter_records, record_to_dict

    load([make_record(1, files=FILES, sets=["cac"]), {"id": "article/2", "deleted": True}])
    load([make_record(2, files=FILES)])
    load([{"id": "article/2", "deleted": True}])
    with app.extensions["oaipress.store"].session() as session:
        exported = {r.local_id: record_to_dict(r)["sets"] for r in iter_records(session)}
    assert exported == {"article/1": ["cac"], "article/2": []}


# --- ListMetadataFormats for one item (§4.4) ------------------------------------------------


def _formats(oai, identifier: str) -> list[str]:
    root = oai(verb="ListMetadataFormats", identifier=identifier)
    return [e.text for e in root.iterfind(".//oai:metadataPrefix", NS)]


def test_list_metadata_formats_of_an_item_names_only_the_formats_it_has(app, oai, load):
    load([make_record(1), make_record(2), make_record(3)])
    everything = _formats(oai, oai_id(1))
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        pk = session.scalar(select(Record.pk).where(Record.local_id == "article/2"))
        session.execute(
            delete(Rendition).where(Rendition.record_pk == pk, Rendition.prefix == "oai_dc")
        )
        pk3 = session.scalar(select(Record.pk).where(Record.local_id == "article/3"))
        session.execute(delete(Rendition).where(Rendition.record_pk == pk3))
    assert _formats(oai, oai_id(2)) == [p for p in everything if p != "oai_dc"]
    code, _ = oai.error(verb="GetRecord", identifier=oai_id(2), metadataPrefix="oai_dc")
    assert code == "cannotDisseminateFormat"
    code, _ = oai.error(verb="ListMetadataFormats", identifier=oai_id(3))
    assert code == "noMetadataFormats"


def test_list_metadata_formats_of_a_tombstone_names_every_format(app, oai, load):
    load([make_record(1)])
    load([{"id": "article/1", "deleted": True}])
    everything = [
        e.text for e in oai(verb="ListMetadataFormats").iterfind(".//oai:metadataPrefix", NS)
    ]
    assert _formats(oai, oai_id(1)) == everything
