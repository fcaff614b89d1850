"""ListSets (§4.6): setSpec, setName, setDescription, paging, and repositories without sets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from records.models import OAISet
from tests.conftest import NS, OAIClient, harvest, make_record, unlisted_record

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"


def add_sets(app, *sets: tuple[str, str, str | None]) -> None:
    """Name and describe sets as `oaipress set` does: rows of the sets table."""
    with app.extensions["oaipress.store"].transaction() as session:
        session.add_all(OAISet(spec=s, name=n, description=d) for s, n, d in sets)


def set_entries(oai: OAIClient) -> dict[str, etree._Element]:
    items, _ = harvest(oai, "ListSets")
    specs = [s.findtext("oai:setSpec", namespaces=NS) for s in items]
    assert len(specs) == len(set(specs)), specs
    return dict(zip(specs, items, strict=True))


def test_list_sets_gives_spec_name_and_oai_dc_description(app, oai):
    """§4.6: each set has setSpec, setName and a setDescription holding valid oai_dc (the
    schema check of the `oai` fixture validates it strictly)."""
    add_sets(
        app,
        ("cac", "Central Asia and the Caucasus", "A journal of social and political studies."),
        ("cac:ART", "Articles", None),
    )
    entries = set_entries(oai)
    assert list(entries) == ["cac", "cac:ART"]
    journal = entries["cac"]
    assert journal.findtext("oai:setName", namespaces=NS) == "Central Asia and the Caucasus"
    descriptions = journal.findall("oai:setDescription", NS)
    assert len(descriptions) == 1
    dc = descriptions[0].find("oai_dc:dc", NS)
    assert dc is not None
    assert [e.text for e in dc.findall("dc:title", NS)] == ["Central Asia and the Caucasus"]
    assert [e.text for e in dc.findall("dc:description", NS)] == [
        "A journal of social and political studies."
    ]
    articles = entries["cac:ART"].find("oai:setDescription/oai_dc:dc", NS)
    assert articles.findall("dc:description", NS) == []


def test_list_sets_of_record_sets_names_them_by_spec_and_adds_ancestors(app, oai, load):
    """§4.6 and §2.6: sets made by records' setSpecs default to their spec as name; the
    hierarchy's ancestors (`cac` of `cac:ART`) are sets too."""
    load([unlisted_record(1, sets=["cac:ART"]), unlisted_record(2, sets=["other"])])
    entries = set_entries(oai)
    assert list(entries) == ["cac", "cac:ART", "other"]
    for spec, entry in entries.items():
        assert entry.findtext("oai:setName", namespaces=NS) == spec


def test_list_sets_request_echoes_the_verb(app, oai, load):
    """§3.2: a successful ListSets echoes verb=ListSets and nothing else."""
    load([make_record(1, sets=["cac"])])
    root = oai(verb="ListSets")
    assert dict(root.find("oai:request", NS).attrib) == {"verb": "ListSets"}


def test_list_sets_over_post_answers_as_over_get(app, oai, load):
    """§3.1.1.2: ListSets over POST."""
    load([make_record(1, sets=["cac"]), make_record(2, sets=["other"])])
    get = oai(verb="ListSets").find("oai:ListSets", NS)
    post = oai("POST", verb="ListSets").find("oai:ListSets", NS)
    assert etree.tostring(post) == etree.tostring(get)


def sets_pages(oai: OAIClient) -> list[etree._Element]:
    pages = [oai(verb="ListSets").find("oai:ListSets", NS)]
    while (token := pages[-1].find("oai:resumptionToken", NS)) is not None and token.text:
        pages.append(oai(verb="ListSets", resumptionToken=token.text).find("oai:ListSets", NS))
    return pages


@pytest.mark.parametrize(
    ("count", "page_lengths"),
    [(5, [2, 2, 1]), (4, [2, 2]), (2, [2]), (1, [1])],
    ids=["partial-last-page", "exact-multiple", "one-full-page", "one-set"],
)
def test_list_sets_pages_with_resumption_tokens(app, oai, count, page_lengths):
    """§3.5 flow control for ListSets (page size 2): cursor and completeListSize on every
    page, an empty token on the last page, no extra empty page, no token when one page
    holds all."""
    add_sets(app, *[(f"set{i}", f"Set {i}", None) for i in range(count)])
    pages = sets_pages(oai)
    assert [len(p.findall("oai:set", NS)) for p in pages] == page_lengths
    specs = [
        s.findtext("oai:setSpec", namespaces=NS) for p in pages for s in p.findall("oai:set", NS)
    ]
    assert specs == [f"set{i}" for i in range(count)]
    tokens = [p.find("oai:resumptionToken", NS) for p in pages]
    if len(pages) == 1:
        assert tokens == [None]
        return
    cursor = 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for page, token in zip(pages, tokens, strict=True):
        assert token.get("cursor") == str(cursor)
        assert token.get("completeListSize") == str(count)
        cursor += len(page.findall("oai:set", NS))
        if token.text:
            expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
            assert expires > now
    assert tokens[-1].text is None


def test_list_sets_without_sets_is_no_set_hierarchy(app, oai, load):
    """§3.6 noSetHierarchy: ListSets when no record is in a set and none is named."""
    load([unlisted_record(1), unlisted_record(2)])
    code, root = oai.error(verb="ListSets")
    assert code == "noSetHierarchy"
    assert dict(root.find("oai:request", NS).attrib) == {"verb": "ListSets"}


def test_list_sets_of_an_empty_repository_is_no_set_hierarchy(app, oai):
    """§3.6 noSetHierarchy: also before anything is stored."""
    code, _ = oai.error(verb="ListSets")
    assert code == "noSetHierarchy"


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_list_with_set_when_the_repository_has_no_sets_is_no_set_hierarchy(app, oai, load, verb):
    """§3.6 noSetHierarchy for ListRecords/ListIdentifiers with a set argument."""
    load([unlisted_record(1)])
    code, root = oai.error(verb=verb, metadataPrefix="oai_dc", set="cac")
    assert code == "noSetHierarchy"
    assert dict(root.find("oai:request", NS).attrib) == {
        "verb": verb,
        "metadataPrefix": "oai_dc",
        "set": "cac",
    }


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_list_with_an_unknown_set_is_no_records_match(app, oai, load, verb):
    """§3.6 noRecordsMatch: a repository with sets, asked for a set nothing belongs to."""
    load([make_record(1, sets=["cac"])])
    code, _ = oai.error(verb=verb, metadataPrefix="oai_dc", set="cac:REV")
    assert code == "noRecordsMatch"


def test_named_set_without_records_is_listed_but_no_records_match(app, oai, load):
    """§4.6 and §3.6: a set may be empty; listing its records is noRecordsMatch."""
    load([make_record(1, sets=["cac"])])
    add_sets(app, ("empty", "An empty set", None))
    assert "empty" in set_entries(oai)
    code, _ = oai.error(verb="ListIdentifiers", metadataPrefix="oai_dc", set="empty")
    assert code == "noRecordsMatch"


def test_list_sets_with_a_non_token_argument_is_bad_argument(app, oai, load):
    """§4.6 ListSets takes only resumptionToken; §3.6 badArgument, no attributes (§3.2)."""
    load([make_record(1, sets=["cac"])])
    for argument in ("set", "metadataPrefix", "from", "identifier"):
        code, root = oai.error(verb="ListSets", **{argument: "cac"})
        assert code == "badArgument", argument
        assert dict(root.find("oai:request", NS).attrib) == {}
