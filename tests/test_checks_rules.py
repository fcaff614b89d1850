"""Each rule of ``oaipress check`` fires on a record made to break it, and not on a clean,
rich record; the example article's findings are exactly the known ones. The cases are a
table keyed by rule id, so a new rule without a case fails here."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from oai.checks import docs
from oai.checks.model import APPLIES_TO, SEVERITIES, CrossRule
from oai.checks.rules import ALL_RULES, BY_ID, GROUPS, select
from oai.checks.runner import Checker
from records import aggregator_sets
from records.validate import normalize_record
from tests.conftest import example_record

DOCS = Path(__file__).resolve().parents[1] / "docs" / "checks.md"


def rich_record(i: int = 1, **fields: Any) -> dict[str, Any]:
    """A record with everything a harvester, OpenAIRE and Scholar ask for, canonical."""
    raw: dict[str, Any] = {
        "id": f"article/{i}",
        "type": "research article",
        "version": "published",
        "title": f"Water rights in the Fergana valley, part {i}",
        "language": "en",
        "authors": [
            {
                "family": "Karimova",
                "given": "Dilnoza",
                "orcid": "0000-0002-1825-0097",
                "affiliation": "Tashkent State University",
            },
            {"family": "Smith", "given": "J. H.", "orcid": None, "affiliation": None},
        ],
        "abstract": "Irrigation quotas and who sets them, 1991-2003.",
        "keywords": ["water", "irrigation"],
        "journal": {
            "title": "Central Asia and the Caucasus",
            "issn": "0317-8471",
            "eissn": "2049-3630",
            "publisher": "CA&CC Press",
        },
        "volume": "5",
        "issue": "4",
        "pages": "61-70",
        "published": "2004-06-01",
        "doi": f"10.1234/cac.2004.{i}",
        "url": f"https://journal.example.org/article/view/{i}",
        "files": [
            {
                "url": f"https://journal.example.org/article/download/{i}/{i}.pdf",
                "mime_type": "application/pdf",
                "label": "PDF",
            }
        ],
        "references": ["Miasnikov, V.S. (1997). Aziatskiye gosudarstva SNG. Moscow."],
        "rights": {
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "license_name": "Creative Commons Attribution 4.0 International",
            "statement": "Copyright (c) 2004 Dilnoza Karimova",
            "holder": "Dilnoza Karimova",
            "year": 2004,
            "access": "open",
            "embargo_until": None,
        },
        "sets": ["cac"],
    }
    raw.update(copy.deepcopy(fields))
    record, _ = normalize_record(raw)
    return record


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A breaker that sets one field (``rights.year``, ``authors.0.given``)."""

    def apply(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return apply


def _all(*breakers: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(record: dict[str, Any]) -> None:
        for breaker in breakers:
            breaker(record)

    return apply


PDF_ELSEWHERE = {"url": "https://cdn.example.net/1.pdf", "mime_type": "application/pdf"}
HTML_ONLY = {"url": "https://journal.example.org/article/view/2/html", "mime_type": "text/html"}

#: rule id → how to break the clean rich record ``article/2`` (for cross rules: how to make
#: it collide with ``article/1``)
BREAKERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "oai.title-markup": _set("title", "Water <i>rights</i> in the valley"),
    "oai.title-whitespace": _set("title", "Water rights  in the\nvalley"),
    "oai.landing-url-is-file": _set("url", "https://journal.example.org/article/download/2.pdf"),
    "oai.language-missing": _set("language", None),
    "oai.abstract-missing": _set("abstract", None),
    "openaire.creator-missing": _set("authors", []),
    "openaire.license-missing": _all(
        _set("rights.license", None), _set("rights.license_name", None)
    ),
    "openaire.license-uri": _set("rights.license", "https://creativecommons.org/licenses/xy/4.0/"),
    "openaire.embargo-before-publication": _all(
        _set("rights.access", "embargoed"), _set("rights.embargo_until", "2003-12-31")
    ),
    "openaire.embargo-ended": _all(
        _set("rights.access", "embargoed"), _set("rights.embargo_until", "2005-06-01")
    ),
    "openaire.embargo-date-without-embargo": _set("rights.embargo_until", "2005-06-01"),
    "openaire.fulltext-missing": _set("files", []),
    "openaire.issn-missing": _all(_set("journal.issn", None), _set("journal.eissn", None)),
    "scholar.authors-missing": _set("authors", []),
    "scholar.pdf-missing": _set("files", [HTML_ONLY]),
    "scholar.pdf-other-host": _set("files", [PDF_ELSEWHERE]),
    "scholar.date-in-future": _set("published", "2999"),
    "scholar.journal-citation": _all(_set("volume", None), _set("issue", None)),
    "scholar.author-name-extras": _set("authors.0.given", "Dilnoza, PhD"),
    "scholar.one-article": _set("title", "Table of Contents"),
    "scholar.nothing-to-read": _all(_set("abstract", None), _set("files", [])),
    "quality.doi-form": _set("doi", "10.1234/cac.2004.2."),
    "quality.issn": _set("journal.issn", "0317-8472"),
    "quality.orcid": _set("authors.1.orcid", "0000-0002-1825-0098"),
    "quality.license-name": _set(
        "rights.license_name", "Creative Commons Attribution-NonCommercial 4.0 International"
    ),
    "quality.copyright-year": _set("rights.year", 2010),
    "quality.title-capitals": _set("title", "WATER RIGHTS IN THE FERGANA VALLEY"),
    "quality.name-capitals": _set("authors.0.family", "KARIMOVA"),
    "quality.duplicate-doi": _set("doi", "10.1234/CAC.2004.1"),
    "quality.duplicate-title": _set("title", "Water Rights in the Fergana Valley, Part 1."),
}

#: what the checker says of the example article (records/examples): a legacy record
EXAMPLE_FINDINGS = {
    ("scholar.pdf-missing", "files"),
    ("openaire.fulltext-missing", "files"),
    ("openaire.issn-missing", "journal.issn"),
    ("quality.title-capitals", "title"),
}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregator_sets, "today", lambda: date(2026, 12, 1))


def run(records: list[dict[str, Any]], groups: list[str] | None = None) -> list[Any]:
    checker = Checker(*select(groups))
    for pk, record in enumerate(records, start=1):
        checker.check(record, pk=pk)
    return checker.result().findings


def test_every_rule_has_a_breaking_case():
    assert sorted(BREAKERS) == sorted(rule.id for rule in ALL_RULES)


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_every_rule_is_described_as_data(rule_id):
    rule = BY_ID[rule_id]
    assert rule.severity in SEVERITIES
    assert rule.applies_to in APPLIES_TO
    assert rule.source and rule.summary
    assert rule.group in GROUPS or rule_id == "import.refused"


@pytest.mark.parametrize("rule_id", sorted(BREAKERS))
def test_each_rule_fires_on_a_record_made_to_break_it(rule_id):
    broken = rich_record(2)
    BREAKERS[rule_id](broken)
    findings = run([rich_record(1), broken])
    fired = [f for f in findings if f.rule == rule_id]
    assert fired, f"{rule_id} did not fire; found {[(f.rule, f.field) for f in findings]}"
    assert any(f.record == "article/2" for f in fired)
    rule = BY_ID[rule_id]
    for finding in fired:
        assert finding.severity == rule.severity
        assert finding.source == rule.source
        assert finding.message and finding.field
    if not isinstance(rule, CrossRule):
        assert all(f.record == "article/2" for f in fired)
    else:  # both records of the pair are findings, each naming the other
        assert {f.record for f in fired} == {"article/1", "article/2"}
        assert any("article/2" in f.message for f in fired if f.record == "article/1")


def test_no_rule_fires_on_a_clean_rich_record():
    assert run([rich_record(1), rich_record(2)]) == []


def test_the_example_article_has_exactly_its_known_findings():
    record, _ = normalize_record(example_record())
    findings = run([record])
    assert {(f.rule, f.field) for f in findings} == EXAMPLE_FINDINGS
    assert not [f for f in findings if f.severity == "error"]


def test_rule_groups_select_their_rules_only():
    broken = rich_record(2, title="WATER RIGHTS IN THE FERGANA VALLEY", files=[])
    assert {f.rule for f in run([broken], ["quality"])} == {"quality.title-capitals"}
    assert {f.rule for f in run([broken], ["scholar"])} == {"scholar.pdf-missing"}
    with pytest.raises(ValueError, match="unknown rule group"):
        select(["nope"])


def test_tombstones_are_not_checked():
    assert run([{"id": "article/9", "deleted": True, "sets": []}]) == []


def test_editorials_may_share_a_title():
    one = rich_record(1, title="Editorial", type="editorial")
    two = rich_record(2, title="Editorial", type="editorial")
    assert run([one, two]) == []


@pytest.mark.parametrize(
    "name, uri, fires",
    [
        ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/", False),
        ("CC-BY-NC-SA 4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/", False),
        ("Attribution-NoDerivs 3.0 Unported (CC BY-ND 3.0)",
         "https://creativecommons.org/licenses/by-nd/3.0/", False),
        ("CC0 1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/", False),
        ("CC BY 3.0", "https://creativecommons.org/licenses/by/4.0/", True),
        ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by/4.0/", True),
        ("All rights reserved", "https://creativecommons.org/licenses/by/4.0/", True),
        ("CC BY 4.0", "https://example.org/our-licence", True),
        ("Our own licence", "https://example.org/our-licence", False),
    ],
)  # fmt: skip
def test_licence_names_are_matched_to_their_uris(name, uri, fires):
    record = rich_record(1)
    record["rights"].update(license=uri, license_name=name)
    assert bool([f for f in run([record]) if f.rule == "quality.license-name"]) is fires


def test_docs_list_every_rule_as_the_rule_table_says():
    """docs/checks.md's rule list is generated: `python -m oai.checks.docs` rewrites it."""
    assert docs.rule_list() in DOCS.read_text(encoding="utf-8")
