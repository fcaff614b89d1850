"""End to end in a real browser: a person's way through the pages of a real ``oaipress
serve``, clicked in headless Chromium (tests/browser.py), with axe-core's accessibility
check on each kind of page and a screenshot of every step at a desktop and a phone size.

The store holds the example article, 120 generated records and one withdrawn record,
imported with past datestamps (lists leave out the current second). ListRecords pages
are 25 records long, so the list takes five pages of "Next page". The example article has
the newest live datestamp: it is on the last page, where the walk opens its landing page.

Screenshots go to ``$OAIPRESS_SCREENSHOTS`` when it is set (one folder per backend),
else under pytest's temporary directory; the axe findings that do not fail (moderate and
minor) are written beside them in ``axe-report.txt``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bibtexparser
import pytest

from records.db import drop_schema, make_engine
from records.validate import format_datestamp
from tests.browser import (
    DESKTOP,
    VIEWPORTS,
    AxeReport,
    Viewport,
    chromium,
    new_context,
    require_browser,
    screenshot,
    screenshot_dir,
)
from tests.conftest import BACKENDS, PG_URL, example_record, make_record
from tests.htmlcheck import assert_valid_page
from tests.servers import REPOSITORY, environment, run, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Response

GENERATED = 120
LIST_PAGE = 25
START = datetime(2021, 1, 1, 8, 0, 0)
EXAMPLE_ID = "article/587"
WITHDRAWN_ID = "withdrawn/1"
SETS = {"cac": "Central Asia and the Caucasus", "reviews": "Book reviews"}
#: every click and navigation waits at most this long (Playwright's auto-waiting bound)
TIMEOUT_MS = 30_000
POSITION_RE = re.compile(r"Records ([0-9,]+)–([0-9,]+) of ([0-9,]+)")


@dataclass(frozen=True)
class Site:
    """A running server: its root URL (no ``/oai``), what it holds, where pictures go."""

    root: str
    backend: str
    identifiers: frozenset[str]
    shots: Path


def corpus() -> list[dict[str, Any]]:
    """The generated records first, the example article last among the live ones, then a
    withdrawn record: so ListRecords ends with the example and the tombstone."""
    lines = []
    for i in range(GENERATED):
        sets = ["cac"] + (["reviews"] if i % 4 == 0 else [])
        when = START + timedelta(hours=i)
        lines.append(
            make_record(
                1000 + i, sets=sets, published=str(2000 + i % 5), datestamp=format_datestamp(when)
            )
        )
    lines.append(
        dict(example_record(), datestamp=format_datestamp(START + timedelta(hours=GENERATED)))
    )
    withdrawn = START + timedelta(hours=GENERATED + 1)
    lines.append({"id": WITHDRAWN_ID, "deleted": True, "datestamp": format_datestamp(withdrawn)})
    return lines


def oai_identifier(local_id: str) -> str:
    return f"oai:{REPOSITORY}:{local_id}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def axe_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AxeReport]:
    report = AxeReport()
    yield report
    if report.pages:
        where = screenshot_dir(tmp_path_factory.getbasetemp() / "screenshots")
        (where / "axe-report.txt").write_text(report.text(), encoding="utf-8")


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    require_browser()  # before a server is started for nothing
    home = tmp_path_factory.mktemp(f"browser-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{home / 'store.sqlite'}"
    else:
        assert PG_URL
        database_url = PG_URL
        engine = make_engine(database_url)
        drop_schema(engine)
        engine.dispose()
    env = environment(database_url)
    env["OAIPRESS_LIST_RECORDS_PAGE_SIZE"] = str(LIST_PAGE)
    lines = corpus()
    data = home / "corpus.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    run(["import", "--keep-datestamps", str(data)], env, home)
    for spec, name in SETS.items():
        run(["set", spec, name], env, home)
    shots = screenshot_dir(tmp_path_factory.getbasetemp() / "screenshots") / request.param
    shots.mkdir(parents=True, exist_ok=True)
    identifiers = frozenset(oai_identifier(r["id"]) for r in lines)
    with serving(env, home, "serve") as oai_url:
        yield Site(oai_url.removesuffix("/oai"), request.param, identifiers, shots)


@pytest.fixture(params=VIEWPORTS, ids=lambda v: v.name)
def viewport(request: pytest.FixtureRequest) -> Viewport:
    return request.param


@pytest.fixture
def page(browser: Browser, viewport: Viewport) -> Iterator[Page]:
    """A fresh browser profile at the viewport's size, for one test. Every stylesheet and
    image a page loads must arrive: a broken one fails the test at teardown."""
    context = new_context(browser, viewport)
    context.set_default_timeout(TIMEOUT_MS)
    broken: list[str] = []
    context.on(
        "response",
        lambda r: (
            broken.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    context.on("requestfailed", lambda r: broken.append(f"{r.failure} {r.url}"))
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not broken, f"resources the pages could not load: {broken}"


# --- helpers --------------------------------------------------------------------------------


def checked(response: Response | None, status: int = 200) -> Response:
    """A page the browser got: the status expected, and valid HTML5 (tests/htmlcheck.py)."""
    assert response is not None
    assert response.status == status, f"{response.url}: {response.status}"
    assert response.headers["content-type"].startswith("text/html")
    assert_valid_page(response.text())
    return response


def follow(page: Page, link: Locator, status: int = 200) -> Response:
    """Click a link as a person would and check the page it leads to."""
    with page.expect_navigation() as navigation:
        link.click()
    return checked(navigation.value, status)


def shoot(
    page: Page, site: Site, viewport: Viewport, step: str, *, full_page: bool = False
) -> Path:
    return screenshot(page, site.shots, f"{viewport.name}-{step}", full_page=full_page)


def position(page: Page) -> tuple[int, int, int]:
    """``Records 26–50 of 122``: the first and last item of the page, and the list size."""
    text = page.locator("p.position").inner_text()
    found = POSITION_RE.fullmatch(text.strip())
    assert found, f"no cursor/completeListSize text: {text!r}"
    first, last, total = (int(g.replace(",", "")) for g in found.groups())
    return first, last, total


def identifiers_on(page: Page) -> list[str]:
    """The OAI identifier of each record on a ListRecords page, in order: the header's
    facts come first in each record (Dublin Core's own "Identifier" follows)."""
    cells = page.locator("article.record > dl.facts:first-of-type dt:text-is('Identifier') + dd")
    return [text.strip() for text in cells.all_inner_texts()]


def citation(page: Page) -> str:
    return page.locator("#citation-text").inner_text().strip()


def choose_style(page: Page, label: str) -> str:
    """Click a citation style; the page comes back with it marked current."""
    styles = page.get_by_role("navigation", name="Citation style")
    follow(page, styles.get_by_role("link", name=label, exact=True))
    current = page.get_by_role("navigation", name="Citation style").locator("[aria-current]")
    assert current.inner_text().strip() == label
    return citation(page)


# --- the walk -------------------------------------------------------------------------------


def test_a_reader_pages_through_the_endpoint_and_cites_an_article(
    page: Page, site: Site, viewport: Viewport
) -> None:
    checked(page.goto(site.root + "/"))
    assert "Harvest test repository" in page.locator("h1").inner_text()
    shoot(page, site, viewport, "01-home")

    site_nav = page.get_by_role("navigation", name="Site")
    follow(page, site_nav.get_by_role("link", name="Explore the endpoint"))
    assert page.url == site.root + "/explore"
    shoot(page, site, viewport, "02-explore")

    follow(page, page.get_by_role("link", name="Every record, in Dublin Core"))
    shoot(page, site, viewport, "03-list-records-first-page")

    seen: list[str] = []
    expected_first = 1
    while True:
        first, last, total = position(page)
        on_page = identifiers_on(page)
        assert (first, last, total) == (
            expected_first,
            len(seen) + len(on_page),
            len(site.identifiers),
        )
        assert 0 < len(on_page) <= LIST_PAGE
        seen.extend(on_page)
        expected_first = last + 1
        next_page = page.get_by_role("link", name="Next page", exact=True)
        if next_page.count() == 0:
            break
        follow(page, next_page)
    assert page.get_by_text("This is the last page.").is_visible()
    assert len(seen) == len(set(seen)), "an identifier was listed twice"
    assert set(seen) == site.identifiers
    shoot(page, site, viewport, "04-list-records-last-page")

    example = page.locator("article.record").filter(has_text=oai_identifier(EXAMPLE_ID))
    follow(page, example.get_by_role("link", name="Landing page"))
    assert page.url == f"{site.root}/records/{EXAMPLE_ID}"
    title = example_record()["title"]
    assert page.locator("h1").inner_text().strip() == title
    apa = citation(page)
    assert "Mukimdzhanova" in apa and "2004" in apa
    shoot(page, site, viewport, "05-landing", full_page=True)

    mla = choose_style(page, "MLA (9th ed.)")
    assert page.url.endswith("?style=mla#how-to-cite")
    assert mla != apa and "Mukimdzhanova" in mla
    shoot(page, site, viewport, "06-landing-mla")
    ieee = choose_style(page, "IEEE")
    assert page.url.endswith("?style=ieee#how-to-cite")
    assert ieee not in (apa, mla) and "Mukimdzhanova" in ieee
    shoot(page, site, viewport, "07-landing-ieee")

    downloads = page.locator(".citation-downloads")
    with page.expect_download() as download_info:
        downloads.get_by_role("link", name="BibTeX").click()  # the CSS adds "↓ "
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == "article-587.bib"
    text = Path(download.path()).read_text(encoding="utf-8")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    [entry] = library.entries
    assert entry.entry_type == "article"
    assert entry.key == "mukimdzhanova2004central"
    fields = {f.key: f.value for f in entry.fields}
    assert fields["title"].strip("{}") == title
    assert fields["author"] == "Mukimdzhanova, R."
    assert fields["journal"] == "Central Asia and the Caucasus"
    assert (fields["year"], fields["volume"], fields["number"]) == ("2004", "5", "4")
    assert fields["pages"] == "61--70"


# --- accessibility of each kind of page -----------------------------------------------------

#: name → (path, status): one of each kind of page
PAGES = {
    "home": ("/", 200),
    "explore": ("/explore", 200),
    "explore-identify": ("/explore?verb=Identify", 200),
    "explore-list-records": ("/explore?verb=ListRecords&metadataPrefix=oai_dc", 200),
    "explore-get-record-mods": (
        f"/explore?verb=GetRecord&metadataPrefix=mods&identifier={oai_identifier(EXAMPLE_ID)}",
        200,
    ),
    "explore-error": (
        f"/explore?verb=GetRecord&metadataPrefix=oai_dc&identifier={oai_identifier('none/1')}",
        404,
    ),
    "landing": (f"/records/{EXAMPLE_ID}", 200),
    "checks": ("/explore/checks", 200),
    "browse": ("/browse", 200),
    "browse-set": ("/browse/sets/cac", 200),
    "browse-year": ("/browse/years/2004", 200),
    "missing-404": ("/records/article/no-such-record", 404),
    "withdrawn-410": (f"/records/{WITHDRAWN_ID}", 410),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_each_kind_of_page_passes_axe(
    name: str, page: Page, site: Site, viewport: Viewport, axe_report: AxeReport
) -> None:
    path, status = PAGES[name]
    checked(page.goto(site.root + path), status)
    shoot(page, site, viewport, f"axe-{name}", full_page=name == "landing")
    axe_report.check(page, f"{site.backend}/{viewport.name}/{name}")


def test_a_browse_list_pages_to_every_article_of_its_set(
    page: Page, site: Site, viewport: Viewport
) -> None:
    """The set's 121 articles take two browse pages of 100, linked by "Next page →"."""
    checked(page.goto(site.root + "/browse"))
    table = page.get_by_role("table")
    follow(page, table.get_by_role("link", name=SETS["cac"]))
    seen = page.locator("ol.articles a.title").all_inner_texts()
    follow(
        page,
        page.get_by_role("navigation", name="Pages, bottom").get_by_role(
            "link", name="Next page →"
        ),
    )
    seen += page.locator("ol.articles a.title").all_inner_texts()
    shoot(page, site, viewport, "browse-set-second-page")
    assert page.get_by_role("link", name="Next page →").count() == 0
    titles = [f"Article number {1000 + i}" for i in range(GENERATED)]
    assert sorted(seen) == sorted([*titles, example_record()["title"]])


def test_the_accessibility_check_fails_on_a_serious_violation(browser: Browser) -> None:
    """The gate is not vacuous: axe-core runs, and a critical or serious finding fails."""
    context = new_context(browser, DESKTOP)
    try:
        page = context.new_page()
        page.set_content(
            '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>'
            '<h1>t</h1><p style="color:#bbb">faint</p><img src="data:,"></main></body></html>'
        )
        report = AxeReport()
        with pytest.raises(AssertionError) as failed:
            report.check(page, "bad")
    finally:
        context.close()
    assert {f.rule for f in report.findings} >= {"image-alt", "color-contrast"}
    assert "image-alt (critical)" in str(failed.value)
