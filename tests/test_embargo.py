"""An embargo that ends changes what a record disseminates, so its datestamp moves."""

from __future__ import annotations

from datetime import date

from records.embargo import lift_embargoes
from tests.conftest import NS, make_record

EMBARGOED = {
    "access": "embargoed",
    "embargo_until": "2021-06-01",
    "license": "https://creativecommons.org/licenses/by/4.0/",
}


def _rights(oai, local_id):
    root = oai(
        verb="GetRecord", identifier=f"oai:repo.example.org:{local_id}", metadataPrefix="oai_dc"
    )
    stamp = root.findtext(".//oai:header/oai:datestamp", namespaces=NS)
    return stamp, root.xpath("//dc:rights/text()", namespaces=NS)


def test_lifting_an_ended_embargo_renders_open_access_under_a_new_datestamp(app, oai, load):
    load([make_record(1, rights=EMBARGOED), make_record(2)])
    store = app.extensions["oaipress.store"]
    renderer = app.extensions["oaipress.renderer"]
    with store.transaction() as session:
        assert lift_embargoes(session, renderer, date(2019, 12, 31)) == []
    with store.transaction() as session:
        assert lift_embargoes(session, renderer, date(2021, 6, 1)) == ["article/1"]
    stamp, rights = _rights(oai, "article/1")
    assert "info:eu-repo/semantics/openAccess" in rights
    assert stamp > "2021-06-01"
    # Running it again finds nothing: the record was rendered after the embargo ended.
    with store.transaction() as session:
        assert lift_embargoes(session, renderer, date(2021, 6, 2)) == []
