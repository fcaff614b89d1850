"""`oaipress validate` against oaipress itself, served on a loopback port in a thread.

oaipress is the reference: every check passes or is skipped as not applicable. The same
server counts what the validator sends, so the budget, GET-only and the delay are
checked on the server's side of the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from oai.validator.report import as_json, terminal, write_html, write_json
from tests.broken_servers import RECORDS, run, statuses, validator_app
from tests.htmlcheck import assert_valid_page


@pytest.fixture
def oaipress_app(make_app: Callable[..., Flask]) -> Flask:
    return validator_app(make_app)


def test_oaipress_passes_every_check(oaipress_app: Flask) -> None:
    report, requests, _ = run(oaipress_app)
    assert statuses(report, "fail") == [], terminal(report)
    assert statuses(report, "warn") == [], terminal(report)
    assert report.exit_status == 0
    passed = set(statuses(report, "pass"))
    for essential in (
        "identify.response",
        "getrecord.oai_dc",
        "dates.from-until",
        "errors.badVerb.illegal",
        "errors.badResumptionToken",
        "errors.set-unknown",
        "lists.identifiers.complete-list-size",
        "lists.records.tokens",
        "lists.sets.cursor",
        "lists.same-items",
        "schema.envelope",
        "schema.payload",
        "politeness.compression-declared",
    ):
        assert essential in passed, terminal(report)
    assert not any(r.partial for r in report.results)
    # the skips are the rules that do not apply to a repository with seconds and sets
    assert set(statuses(report, "skip")) == {
        "dates.finer-granularity",
        "errors.noSetHierarchy",
        "politeness.retry-after",
    }
    assert report.requests == len(requests)


def test_lists_are_walked_whole(oaipress_app: Flask) -> None:
    report, _, _ = run(oaipress_app)
    messages = {r.id: r.message for r in report.results}
    assert messages["lists.records.complete-list-size"] == (
        f"completeListSize {RECORDS} = the {RECORDS} items received"
    )
    assert "8 pages" in messages["lists.identifiers.tokens"]
    assert "3 pages" in messages["lists.sets.tokens"]  # cac, cac:ART, openaire


def test_the_validator_only_sends_get(oaipress_app: Flask) -> None:
    _, requests, _ = run(oaipress_app)
    assert requests and {method for method, _ in requests} == {"GET"}


@pytest.mark.parametrize("budget", [1, 12, 40])
def test_the_request_budget_is_never_exceeded(oaipress_app: Flask, budget: int) -> None:
    report, requests, _ = run(oaipress_app, max_requests=budget)
    assert len(requests) <= budget
    assert report.requests == len(requests)
    # a short budget leaves checks unrun or lists partly walked: never failed for it
    assert statuses(report, "fail") == [], terminal(report)
    assert statuses(report, "skip") or any(r.partial for r in report.results)


def test_a_budget_that_ends_inside_a_list_reports_how_far_it_got(oaipress_app: Flask) -> None:
    report, _, _ = run(oaipress_app, max_requests=40)
    partial = {r.id: r for r in report.results if r.partial}
    assert partial, terminal(report)
    assert all(r.status == "pass" and "partial:" in r.message for r in partial.values())


def test_the_delay_is_waited_between_requests(oaipress_app: Flask) -> None:
    report, requests, sleeps = run(oaipress_app, delay=0.25)
    assert len(requests) == report.requests
    assert sleeps.calls == [0.25] * (len(requests) - 1)


def test_json_and_html_reports(oaipress_app: Flask, tmp_path: Path) -> None:
    report, _, _ = run(oaipress_app)
    write_json(report, tmp_path / "report.json")
    write_html(report, tmp_path / "report.html")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(as_json(report)))
    assert data["exit_status"] == 0 and data["summary"]["fail"] == 0
    first = data["results"][0]
    assert {"id", "title", "section", "status", "message", "evidence", "area"} <= set(first)
    assert first["evidence"][0]["url"].startswith("http://127.0.0.1:")
    page = assert_valid_page((tmp_path / "report.html").read_text(encoding="utf-8"))
    xhtml = "{http://www.w3.org/1999/xhtml}"
    rows = page.findall(f".//{xhtml}tbody/{xhtml}tr")
    assert len(rows) == len(report.results)
    assert not page.findall(f".//{xhtml}script") and not page.findall(f".//{xhtml}link")


def test_terminal_report_is_plain_off_a_tty_and_coloured_on_one(oaipress_app: Flask) -> None:
    report, _, _ = run(oaipress_app, max_requests=5)
    plain = terminal(report)
    assert "\x1b[" not in plain
    assert plain.splitlines()[-1].startswith("Summary: 0 fail, 0 warn")
    assert "\x1b[32mPASS\x1b[0m" in terminal(report, colour=True)
