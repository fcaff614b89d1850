"""`oaipress validate` against oaipress broken in one way at a time (tests/broken_servers.py).

Each server breaks exactly one rule; the validator must fail that rule's checks and no
other check, and raise no warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from oai.validator.report import terminal, write_html
from tests import broken_servers as broken
from tests.broken_servers import run, statuses, validator_app
from tests.htmlcheck import assert_valid_page


@pytest.fixture
def oaipress_app(make_app: Callable[..., Flask]) -> Flask:
    return validator_app(make_app)


BREAKAGES = {
    "repeated record": (
        broken.RepeatedRecord,
        {"lists.identifiers.unique", "lists.records.unique"},
    ),
    "lying completeListSize": (
        broken.LyingListSize,
        {
            "lists.sets.complete-list-size",
            "lists.identifiers.complete-list-size",
            "lists.records.complete-list-size",
        },
    ),
    "responseDate without Z": (broken.LocalResponseDate, {"dates.response-date"}),
    "badVerb as HTTP 400 HTML": (
        broken.BadVerbAsHTTP400,
        {"errors.badVerb.illegal", "errors.badVerb.missing", "errors.badVerb.repeated"},
    ),
    "unknown argument ignored": (
        broken.IgnoresUnknownArguments,
        {"errors.badArgument.illegal"},
    ),
    "datestamps finer than the granularity": (
        broken.DayGranularity,
        # the declared day granularity is broken both ways: seconds in datestamps, and
        # seconds accepted in requests
        {"dates.header-granularity", "dates.finer-granularity"},
    ),
    "schema-invalid record": (broken.InvalidRecord, {"schema.payload"}),
    "gzip declared, never served": (
        broken.NoCompression,
        {"politeness.compression-declared"},
    ),
    "503 with a silly Retry-After": (
        lambda app: broken.Busy(app, "soon"),
        {"politeness.retry-after"},
    ),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_each_broken_rule_is_named_and_nothing_else(oaipress_app: Flask, name: str) -> None:
    wrap, expected = BREAKAGES[name]
    report, requests, _ = run(wrap(oaipress_app))
    assert set(statuses(report, "fail")) == expected, terminal(report)
    assert statuses(report, "warn") == [], terminal(report)
    assert report.exit_status == 2
    assert {method for method, _ in requests} == {"GET"}
    for result in report.results:
        if result.status == "fail":
            assert result.evidence and result.evidence[0].url.startswith("http://127.0.0.1:")
            assert result.section.startswith("§")


def test_a_sane_retry_after_is_waited_and_passes(oaipress_app: Flask) -> None:
    report, requests, sleeps = run(broken.Busy(oaipress_app, "2"))
    assert statuses(report, "fail") == [], terminal(report)
    retry = next(r for r in report.results if r.id == "politeness.retry-after")
    assert retry.status == "pass"
    assert sleeps.calls.count(2.0) == 1
    assert len(requests) == report.requests  # the retry counted against the budget


def test_a_retry_after_too_long_is_not_waited(oaipress_app: Flask) -> None:
    report, _, sleeps = run(broken.Busy(oaipress_app, str(10 * 24 * 3600)))
    assert max(sleeps.calls, default=0) <= 120
    failed = set(statuses(report, "fail"))
    assert "politeness.retry-after" in failed
    # the 503 stands as that request's answer
    assert "politeness.http-status" in failed or any(
        "503" in r.message for r in report.results if r.status == "fail"
    )


def test_html_report_of_a_broken_server_escapes_what_it_sent(
    oaipress_app: Flask, tmp_path: Path
) -> None:
    report, _, _ = run(broken.BadVerbAsHTTP400(oaipress_app))
    write_html(report, tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert_valid_page(text)  # the server's own <h1> would make a second one
    assert "&lt;h1&gt;400 Bad Request&lt;/h1&gt;" in text
