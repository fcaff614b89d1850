"""The checker's findings in the browser: ``/explore/checks`` (overview, lists by rule, set,
record and severity, keyset pages, bad requests) and the landing pages' "checked" badge;
and the store reader the checker uses gives exactly ``record_to_dict``'s records."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from oai.checks.reader import canonical_records
from oai.checks.rules import select as select_rules
from oai.checks.runner import Checker, check_store, save_result
from oai.pages import checks as checks_page
from records.models import OAISet
from records.models import Record as StoredRecord
from records.queries import iter_records, record_to_dict
from tests.conftest import decode_body, example_record, make_record
from tests.htmlcheck import XHTML, assert_valid_page
from tests.test_checks_rules import rich_record

CLEAN = rich_record(1)
CAPITALS = rich_record(2, title="WATER RIGHTS IN THE FERGANA VALLEY, PART TWO", sets=["cac:ART"])
NO_AUTHOR = make_record(4, authors=[])


def run_check(app: Flask, ran_at: datetime | None = None) -> Any:
    """What ``oaipress check`` does over the store: check every record, save the findings."""
    store = app.extensions["oaipress.store"]
    with store.engine.connect() as connection:
        result = check_store(connection, Checker(*select_rules(None)))
    with store.transaction() as session:
        return save_result(session, result, ran_at)


def page(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return assert_valid_page(decode_body(response).decode("utf-8"))


def text(root: Any) -> str:
    return " ".join("".join(root.itertext()).split())


def links(root: Any) -> list[str]:
    return [a.get("href") for a in root.iter(f"{XHTML}a")]


@pytest.fixture
def loaded(app: Flask, load: Any) -> Flask:
    load([CLEAN, CAPITALS, NO_AUTHOR, example_record()])
    store = app.extensions["oaipress.store"]
    with store.transaction() as session:
        session.merge(OAISet(spec="cac", name="Central Asia and the Caucasus"))
    return app


def test_before_any_check_the_page_says_so(client, loaded):
    root = page(client, "/explore/checks")
    assert "No check has run yet" in text(root)
    root = page(client, "/explore/checks?rule=quality.title-capitals")
    assert "No check has run yet" in text(root)


def test_the_overview_shows_the_run_counts_rules_and_sets(client, loaded):
    run = run_check(loaded)
    root = page(client, "/explore/checks")
    shown = text(root)
    assert "read 4 records: 3 with findings" in shown
    assert f"{run.counts['error']} error" in shown
    assert "/explore/checks?rule=scholar.authors-missing" in links(root)
    assert "/explore/checks?severity=warning" in links(root)
    # every rule is listed with its source, those that did not fire too
    assert "quality.doi-form" in shown and "DOI Handbook §2.2" in shown
    # sets: by name, with their findings by severity
    assert "Central Asia and the Caucasus" in shown
    assert "/explore/checks?set=cac" in links(root)
    assert "/explore/checks?set=cac:ART&severity=info" in links(root)


def test_a_rule_lists_its_findings_with_the_landing_page_and_raw_xml(client, loaded):
    run_check(loaded)
    root = page(client, "/explore/checks?rule=scholar.authors-missing")
    shown = text(root)
    assert "Findings of rule scholar.authors-missing" in shown
    assert "Google Scholar Inclusion Guidelines" in shown  # the rule's source
    hrefs = links(root)
    assert "/records/article/4" in hrefs
    raw = next(h for h in hrefs if h.startswith("/oai?verb=GetRecord"))
    assert parse_qs(urlsplit(raw).query) == {
        "verb": ["GetRecord"],
        "metadataPrefix": ["oai_dc"],
        "identifier": ["oai:repo.example.org:article/4"],
    }
    assert client.get(raw).status_code == 200
    assert "/records/article/587" not in hrefs


def test_findings_by_set_record_and_severity(client, loaded):
    run_check(loaded)
    in_set = text(page(client, "/explore/checks?set=cac"))
    assert "article/2" in in_set and "article/4" not in in_set  # cac includes cac:ART
    one = page(client, "/explore/checks?record=article/587")
    assert {h for h in links(one) if h.startswith("/records/")} == {"/records/article/587"}
    errors = text(page(client, "/explore/checks?severity=error"))
    assert "scholar.authors-missing" in errors and "quality.title-capitals" not in errors
    clean = text(page(client, "/explore/checks?record=article/1"))
    assert "found no problem here" in clean


def test_long_lists_are_keyset_paged(client, loaded, monkeypatch):
    run_check(loaded)
    monkeypatch.setattr(checks_page, "PAGE_SIZE", 2)
    url: str | None = "/explore/checks?severity=info"
    seen: list[str] = []
    pages = 0
    while url:
        root = page(client, url)
        rows = root.findall(f".//{XHTML}table/{XHTML}tbody/{XHTML}tr")
        seen += [text(row) for row in rows]
        following = [a for a in root.iter(f"{XHTML}a") if a.get("rel") == "next"]
        url = following[0].get("href") if following else None
        pages += 1
    assert pages >= 3
    assert len(seen) == len(set(seen)) == 6  # every info finding once


@pytest.mark.parametrize(
    "query",
    [
        "rule=not%20a%20rule",
        "set=bad%20spec",
        "record=%00",
        "severity=fatal",
        "after=abc",
        "after=-1",
    ],
)
def test_bad_arguments_are_a_400_page(client, loaded, query):
    root = page(client, f"/explore/checks?{query}", status=400)
    assert text(root)


def test_explore_and_home_link_the_checks(client, loaded):
    assert "/explore/checks" in links(page(client, "/explore"))
    assert "/explore/checks" in links(page(client, "/"))


# --- the badge -------------------------------------------------------------------------------


def badge(client: Any, local_id: str) -> Any:
    root = page(client, f"/records/{local_id}")
    found = [p for p in root.iter(f"{XHTML}p") if "check-badge" in (p.get("class") or "")]
    assert len(found) == 1
    return found[0]


def test_badge_not_checked_yet(client, loaded):
    assert text(badge(client, "article/1")) == "Not checked yet"


def test_badge_no_problems_and_counts_linking_the_findings(client, loaded):
    run = run_check(loaded)
    day = f"{run.ran_at.day} {run.ran_at:%B %Y}"
    assert text(badge(client, "article/1")) == f"Checked {day}: no problems"
    found = badge(client, "article/4")
    assert text(found) == f"Checked {day}: 1 error, 3 warnings, 2 info"
    assert links(found) == ["/explore/checks?record=article/4"]


def test_badge_changed_since_the_last_check(client, loaded):
    run_check(loaded, ran_at=datetime(2019, 12, 31))  # before every record's datestamp
    assert text(badge(client, "article/1")).startswith("Changed since the last check")


def test_a_new_run_is_never_answered_with_a_stale_304(client, loaded):
    before = client.get("/records/article/1")
    etag = before.headers["ETag"]
    assert client.get("/records/article/1", headers={"If-None-Match": etag}).status_code == 304
    run_check(loaded)
    after = client.get("/records/article/1", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert "no problems" in decode_body(after).decode("utf-8")
    since = before.headers["Last-Modified"]
    assert client.get("/records/article/1", headers={"If-Modified-Since": since}).status_code == 200


# --- the reader --------------------------------------------------------------------------------


def test_the_fast_reader_gives_exactly_record_to_dicts_records(app, load):
    records = [
        CLEAN,
        CAPITALS,
        example_record(),
        make_record(5, rights={"access": "embargoed", "embargo_until": "2030-01-01"}),
        make_record(6, extra={"local": [1, {"a": None}]}, type="editorial", version="accepted"),
        make_record(7, journal={"issn": "0317-8471"}, files=[{"url": "https://x.org/f"}]),
    ]
    load(records)
    load([{"id": "article/5", "deleted": True}])
    store = app.extensions["oaipress.store"]
    with store.session() as session:
        expected = {r.pk: record_to_dict(r) for r in iter_records(session)}
        sets = {pk: sorted(specs) for pk, specs in _sets_by_pk(session).items()}
    with store.engine.connect() as connection:
        read = {pk: (record, sorted(specs)) for pk, record, specs in canonical_records(connection)}
    assert {pk: record for pk, (record, _) in read.items()} == expected
    assert {pk: specs for pk, (_, specs) in read.items() if specs} == sets
    for pk, record in expected.items():  # the same keys in the same order (JSON output)
        assert list(read[pk][0]) == list(record)


def _sets_by_pk(session: Any) -> dict[int, list[str]]:
    from records.models import SetMembership

    found: dict[int, list[str]] = {}
    for pk, spec in session.execute(
        select(SetMembership.record_pk, SetMembership.set_spec).join(
            StoredRecord, StoredRecord.pk == SetMembership.record_pk
        )
    ):
        found.setdefault(pk, []).append(spec)
    return found
