"""ListRecords (§4.5), ListIdentifiers (§4.3) and selective harvesting (§2.7, §3.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from tests.conftest import (
    NS,
    T0,
    Clock,
    OAIClient,
    example_record,
    harvest,
    identifiers,
    make_record,
    unlisted_record,
)

LIST_VERBS = ["ListRecords", "ListIdentifiers"]
# Datestamps around the day 2020-01-02, each one second from a boundary.
BOUNDARY_STAMPS = [
    "2020-01-01T23:59:59Z",
    "2020-01-02T00:00:00Z",
    "2020-01-02T12:00:00Z",
    "2020-01-02T23:59:59Z",
    "2020-01-03T00:00:00Z",
]


def oai_id(i: int) -> str:
    return f"oai:repo.example.org:article/{i}"


def header_of(item: etree._Element) -> etree._Element:
    return item if etree.QName(item).localname == "header" else item.find("oai:header", NS)


def listed(oai: OAIClient, verb: str, **params: str) -> list[str]:
    """The identifiers of a whole list (following tokens), checked to have no repeats."""
    items, _ = harvest(oai, verb, metadataPrefix="oai_dc", **params)
    ids = identifiers(items)
    assert len(ids) == len(set(ids)), ids
    return ids


@pytest.fixture
def boundary(app, load):
    """Records 0..4 stamped BOUNDARY_STAMPS, kept as given."""
    records = [make_record(i, datestamp=s) for i, s in enumerate(BOUNDARY_STAMPS)]
    load(records, keep_datestamps=True)


@pytest.fixture
def hierarchy(app, load):
    """1 in cac, 2 in cac:ART, 3 in other, 4 in cac:ART and other, 5 in no set (all
    restricted, so in no computed aggregator set)."""
    clock = Clock(T0)
    for i, sets in ((1, ["cac"]), (2, ["cac:ART"]), (3, ["other"]), (4, ["cac:ART", "other"])):
        load([unlisted_record(i, sets=sets)], now=clock)
    load([unlisted_record(5)], now=clock)


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_list_returns_every_record_once_in_datestamp_order(app, oai, load, verb):
    """§4.5/§4.3 without from/until/set: every record, the deleted one included (§2.5.1),
    each once, in datestamp order (a deletion moves a record to its deletion time)."""
    clock = Clock(T0)
    for i in range(8):
        load([make_record(i)], now=clock)
    load([{"id": "article/3", "deleted": True}], now=clock)
    assert listed(oai, verb) == [oai_id(i) for i in (0, 1, 2, 4, 5, 6, 7, 3)]


def test_list_records_items_carry_metadata_and_about(app, oai, load):
    """§4.5, §2.5: each record of ListRecords has header, oai_dc metadata and one about."""
    load([example_record(), make_record(1)])
    items, _ = harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    assert len(items) == 2
    for record in items:
        assert record.find("oai:metadata/oai_dc:dc", NS) is not None
        assert len(record.findall("oai:about", NS)) == 1


def test_list_identifiers_items_are_headers_only(app, oai, load):
    """§4.3: ListIdentifiers returns headers, never metadata."""
    load([example_record(), make_record(1)])
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    container = root.find("oai:ListIdentifiers", NS)
    assert [etree.QName(e).localname for e in container] == ["header", "header"]
    assert root.find(".//oai:metadata", NS) is None


def test_list_records_record_equals_get_record_of_the_same_item(app, oai, load):
    """§4.5 and §4.1: a record is the same whichever verb disseminates it."""
    load([example_record()])
    listed_record = oai(verb="ListRecords", metadataPrefix="oai_dc").find(
        "oai:ListRecords/oai:record", NS
    )
    got = oai(
        verb="GetRecord",
        identifier="oai:repo.example.org:article/587",
        metadataPrefix="oai_dc",
    ).find("oai:GetRecord/oai:record", NS)
    assert etree.tostring(listed_record, method="c14n") == etree.tostring(got, method="c14n")


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_list_over_post_answers_as_over_get(app, oai, load, verb):
    """§3.1.1.2: the list verbs over POST, selective arguments included."""
    load([make_record(i, datestamp=s) for i, s in enumerate(BOUNDARY_STAMPS)], keep_datestamps=True)
    params = {
        "verb": verb,
        "metadataPrefix": "oai_dc",
        "from_": "2020-01-02",
        "until": "2020-01-02",
    }
    get = oai(**params)
    post = oai("POST", **params)
    assert etree.tostring(post.find(f"oai:{verb}", NS)) == etree.tostring(
        get.find(f"oai:{verb}", NS)
    )
    assert dict(post.find("oai:request", NS).attrib) == dict(get.find("oai:request", NS).attrib)


def assert_ranges(oai: OAIClient, verb: str, cases: list[tuple[str | None, str | None, list]]):
    for from_, until, expected in cases:
        params = {k: v for k, v in (("from_", from_), ("until", until)) if v}
        assert listed(oai, verb, **params) == [oai_id(i) for i in expected], (from_, until)


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_day_granularity_from_and_until_are_inclusive_whole_days(boundary, oai, verb):
    """§2.7.1 (inclusive bounds) and §3.3.1 (YYYY-MM-DD): `from` starts at the day's first
    second and `until` covers the whole day, up to 23:59:59."""
    assert_ranges(
        oai,
        verb,
        [
            ("2020-01-02", "2020-01-02", [1, 2, 3]),
            ("2020-01-02", None, [1, 2, 3, 4]),
            (None, "2020-01-02", [0, 1, 2, 3]),
            ("2020-01-01", "2020-01-01", [0]),
            ("2020-01-03", "2020-01-03", [4]),
        ],
    )


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_second_granularity_bounds_are_exact_and_inclusive(boundary, oai, verb):
    """§2.7.1 and §3.3.1 (YYYY-MM-DDThh:mm:ssZ): a datestamp equal to a bound is included,
    one second outside it is not."""
    assert_ranges(
        oai,
        verb,
        [
            ("2020-01-02T00:00:00Z", "2020-01-02T23:59:59Z", [1, 2, 3]),
            ("2020-01-02T00:00:01Z", "2020-01-02T23:59:58Z", [2]),
            ("2020-01-01T23:59:59Z", "2020-01-01T23:59:59Z", [0]),
            ("2020-01-02T12:00:00Z", None, [2, 3, 4]),
            (None, "2020-01-02T12:00:00Z", [0, 1, 2]),
            ("2020-01-01T23:59:59Z", "2020-01-03T00:00:00Z", [0, 1, 2, 3, 4]),
        ],
    )


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_from_after_the_last_change_is_no_records_match(boundary, oai, verb):
    """§2.7.1, §3.6 noRecordsMatch: a range after every datestamp is an empty list."""
    code, root = oai.error(verb=verb, metadataPrefix="oai_dc", from_="2020-01-03T00:00:01Z")
    assert code == "noRecordsMatch"
    assert root.find("oai:request", NS).get("from") == "2020-01-03T00:00:01Z"


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_set_includes_records_of_the_set_and_of_its_descendant_sets(hierarchy, oai, verb):
    """§2.7.2: a set harvest returns the set's records and those of descendant sets
    (`cac` includes `cac:ART`), and a child set only its own."""
    for set_spec, expected in (("cac", [1, 2, 4]), ("cac:ART", [2, 4]), ("other", [3, 4])):
        assert listed(oai, verb, set=set_spec) == [oai_id(i) for i in expected], set_spec


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_header_lists_the_record_declared_set_specs_only(hierarchy, oai, verb):
    """§2.5 header setSpec, §2.6: the header names the sets the record declares; the
    ancestor `cac` it belongs to through `cac:ART` is not repeated."""
    items, _ = harvest(oai, verb, metadataPrefix="oai_dc", set="cac")
    specs = {
        header_of(i).findtext("oai:identifier", namespaces=NS): [
            s.text for s in header_of(i).findall("oai:setSpec", NS)
        ]
        for i in items
    }
    assert specs == {oai_id(1): ["cac"], oai_id(2): ["cac:ART"], oai_id(4): ["cac:ART", "other"]}


def test_record_without_sets_has_no_set_spec_and_is_in_no_set_harvest(hierarchy, oai):
    """§2.6: set membership is optional; such a record is only in unfiltered lists."""
    items, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    header = next(h for h in items if h.findtext("oai:identifier", namespaces=NS) == oai_id(5))
    assert header.findall("oai:setSpec", NS) == []
    for spec in ("cac", "cac:ART", "other"):
        assert oai_id(5) not in listed(oai, "ListIdentifiers", set=spec)


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_set_and_date_range_combine(app, oai, load, verb):
    """§2.7: set and datestamp criteria combine (both must hold)."""
    clock = Clock(T0)
    for i in range(6):
        load([make_record(i, sets=["cac:ART"] if i % 2 else ["other"])], now=clock)
    result = listed(
        oai, verb, set="cac", from_="2020-01-01T00:00:02Z", until="2020-01-01T00:00:05Z"
    )
    assert result == [oai_id(3), oai_id(5)]


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_set_with_no_records_in_the_range_is_no_records_match(hierarchy, oai, verb):
    """§3.6 noRecordsMatch: a set that exists but has nothing in the range."""
    code, _ = oai.error(verb=verb, metadataPrefix="oai_dc", set="cac", until="2019-12-31")
    assert code == "noRecordsMatch"


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_deleted_records_appear_with_status_deleted_and_keep_their_sets(app, oai, load, verb):
    """§2.5.1: lists include deleted records' headers with status="deleted" and no metadata;
    a set harvest still finds them, and their header still lists their sets (§2.7.2)."""
    load([make_record(1, sets=["cac:ART"]), make_record(2, sets=["cac"])], now=Clock(T0))
    deleted_at = T0 + timedelta(days=1)
    load([{"id": "article/1", "deleted": True}], now=Clock(deleted_at))
    items, _ = harvest(oai, verb, metadataPrefix="oai_dc", set="cac")
    by_id = {header_of(i).findtext("oai:identifier", namespaces=NS): i for i in items}
    assert list(by_id) == [oai_id(2), oai_id(1)]  # the deletion moved article/1 last
    tombstone = by_id[oai_id(1)]
    header = header_of(tombstone)
    assert header.get("status") == "deleted"
    assert header.findtext("oai:datestamp", namespaces=NS) == "2020-01-02T00:00:00Z"
    assert [s.text for s in header.findall("oai:setSpec", NS)] == ["cac:ART"]
    assert tombstone.find("oai:metadata", NS) is None
    assert tombstone.find("oai:about", NS) is None
    assert header_of(by_id[oai_id(2)]).get("status") is None


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_incremental_harvest_from_the_deletion_time_finds_the_deletion(app, oai, load, verb):
    """§2.5.1 and §2.7.1 (deletion): the deletion is found by a harvest from its datestamp."""
    load([make_record(1), make_record(2)], now=Clock(T0))
    load([{"id": "article/2", "deleted": True}], now=Clock(T0 + timedelta(hours=5)))
    items, _ = harvest(oai, verb, metadataPrefix="oai_dc", from_="2020-01-01T05:00:00Z")
    assert [header_of(i).get("status") for i in items] == ["deleted"]
    assert identifiers(items) == [oai_id(2)]


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_list_of_an_unknown_format_is_cannot_disseminate_format(app, oai, load, verb):
    """§3.6 cannotDisseminateFormat for ListRecords/ListIdentifiers, the request echoed."""
    load([make_record(1)])
    code, root = oai.error(verb=verb, metadataPrefix="marc21")
    assert code == "cannotDisseminateFormat"
    assert dict(root.find("oai:request", NS).attrib) == {"verb": verb, "metadataPrefix": "marc21"}


def test_list_records_skips_a_live_record_not_rendered_in_the_format(app, oai, load):
    """§2.5.1: a live record without a rendition (a format added before `oaipress rebuild`)
    must not look like a deletion; ListRecords leaves it out, ListIdentifiers still has it."""
    from sqlalchemy import delete, select

    from records.models import Record, Rendition

    load([make_record(i) for i in range(3)])
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        pk = session.scalar(select(Record.pk).where(Record.local_id == "article/1"))
        session.execute(delete(Rendition).where(Rendition.record_pk == pk))
    records, _ = harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    headers, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert "oai:repo.example.org:article/1" not in identifiers(records)
    assert len(records) == 2
    assert "oai:repo.example.org:article/1" in identifiers(headers)
